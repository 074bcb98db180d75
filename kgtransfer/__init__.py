"""kgtransfer: choose, transfer and evaluate pretrained source models with a
knowledge graph of your model zoo.

The subpackages are :mod:`kgtransfer.kg` (the graph), :mod:`kgtransfer.transfer`
(estimators, recommender, transfer methods), :mod:`kgtransfer.models` and
:mod:`kgtransfer.data`. The few everyday entry points are re-exported here.

The re-exports are lazy: ``import kgtransfer`` (and so ``import kgtransfer.errors``
or ``import kgtransfer.kg``) loads none of torch, torch_geometric or matplotlib; the
first use of a name such as ``kgtransfer.recommend`` imports its module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below are imported on first use (see ``__getattr__``)
    from kgtransfer._versions import versions
    from kgtransfer.api import (
        Recommendation,
        Selection,
        evaluate,
        recommend,
        select_source,
        transfer_from,
    )
    from kgtransfer.data import load_dataset
    from kgtransfer.kg import ZooGraph
    from kgtransfer.models import create_model
    from kgtransfer.report import write_report
    from kgtransfer.transfer import GNNRecommender, evaluate_transfer

    __version__: str

# public name -> module that defines it
_LAZY = {
    "GNNRecommender": "kgtransfer.transfer",
    "Recommendation": "kgtransfer.api",
    "ZooGraph": "kgtransfer.kg",
    "create_model": "kgtransfer.models",
    "evaluate": "kgtransfer.api",
    "evaluate_transfer": "kgtransfer.transfer",
    "load_dataset": "kgtransfer.data",
    "recommend": "kgtransfer.api",
    "select_source": "kgtransfer.api",
    "Selection": "kgtransfer.api",
    "transfer_from": "kgtransfer.api",
    "versions": "kgtransfer._versions",
    "write_report": "kgtransfer.report",
}

# subpackages reachable as attributes after a bare ``import kgtransfer`` (as when they were eager)
_SUBMODULES = frozenset(
    {"api", "cli", "data", "errors", "kg", "models", "report", "transfer", "zoo"}
)

__all__ = [
    "GNNRecommender",
    "Recommendation",
    "Selection",
    "ZooGraph",
    "__version__",
    "create_model",
    "evaluate",
    "evaluate_transfer",
    "load_dataset",
    "recommend",
    "select_source",
    "transfer_from",
    "versions",
    "write_report",
]


def __getattr__(name: str) -> Any:
    """Import a re-exported name on first use and cache it in the module namespace."""
    if name == "__version__":
        from kgtransfer._versions import package_version

        value: Any = package_version()
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module 'kgtransfer' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
