"""The product surface: one-call recommendation, transfer and evaluation.

Example:
    >>> from kgtransfer.api import Recommendation, recommend
    >>> Recommendation.__name__
    'Recommendation'
"""

from kgtransfer._api._recommend import Recommendation, recommend
from kgtransfer._api._target import ResolvedTarget, as_dataset, join_dataset

__all__ = [
    "Recommendation",
    "ResolvedTarget",
    "as_dataset",
    "join_dataset",
    "recommend",
]
