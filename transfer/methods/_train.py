"""Moved to the public :mod:`kgtransfer.transfer.training`; this alias stays for one release.

Example:
    >>> from kgtransfer.transfer.methods._train import train_loop
    >>> from kgtransfer.transfer.training import train_loop as public
    >>> train_loop is public
    True
"""

from kgtransfer.transfer.training import (
    Budget,
    TrainHistory,
    accuracy_of,
    as_arrays,
    batched_predict,
    check_budget,
    check_n_classes,
    train_loop,
)

__all__ = [
    "Budget",
    "TrainHistory",
    "accuracy_of",
    "as_arrays",
    "batched_predict",
    "check_budget",
    "check_n_classes",
    "train_loop",
]
