"""kgtransfer: choose, transfer and evaluate pretrained source models with a
knowledge graph of your model zoo.

The subpackages are :mod:`kgtransfer.kg` (the graph), :mod:`kgtransfer.transfer`
(estimators, recommender, transfer methods), :mod:`kgtransfer.models` and
:mod:`kgtransfer.data`. The few everyday entry points are re-exported here.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kgtransfer")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0.0.0"

from kgtransfer.api import Recommendation, evaluate, recommend, transfer_from
from kgtransfer.data import load_dataset
from kgtransfer.kg import ZooGraph
from kgtransfer.models import create_model
from kgtransfer.report import write_report
from kgtransfer.transfer import GNNRecommender, evaluate_transfer

__all__ = [
    "GNNRecommender",
    "Recommendation",
    "ZooGraph",
    "__version__",
    "create_model",
    "evaluate",
    "evaluate_transfer",
    "load_dataset",
    "recommend",
    "transfer_from",
    "write_report",
]
