"""The product surface: one-call recommendation, transfer and evaluation.

``recommend`` ranks source models for a target (a dataset of the graph or new
data) with the expected gain over scratch and the risk of negative transfer;
``transfer_from`` transfers the chosen source and compares with scratch, writing
the result back into the graph; ``evaluate`` judges it against the best source in
hindsight; ``select_source`` chooses which sources to fine-tune with a few trials.

Example:
    >>> from kgtransfer.api import evaluate, recommend, transfer_from
    >>> callable(recommend) and callable(transfer_from) and callable(evaluate)
    True
"""

from kgtransfer._api._demo import DemoResult, run_demo
from kgtransfer._api._recommend import Recommendation, recommend
from kgtransfer._api._select import Selection, select_source
from kgtransfer._api._sources import add_sources, load_named_source, source_loader
from kgtransfer._api._target import ResolvedTarget, as_dataset, join_dataset
from kgtransfer._api._transfer import (
    Evaluation,
    choose_method,
    evaluate,
    load_source,
    transfer_from,
)

__all__ = [
    "DemoResult",
    "Evaluation",
    "Recommendation",
    "ResolvedTarget",
    "Selection",
    "add_sources",
    "as_dataset",
    "choose_method",
    "evaluate",
    "join_dataset",
    "load_named_source",
    "load_source",
    "recommend",
    "run_demo",
    "select_source",
    "source_loader",
    "transfer_from",
]
