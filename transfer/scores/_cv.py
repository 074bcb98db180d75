"""Cross-validated accuracy shared by the kNN and linear-probe proxies."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_score

from kgtransfer.transfer.scores._checks import ScoreInputError

__all__ = ["cv_accuracy"]


def cv_accuracy(estimator: Any, f: np.ndarray, codes: np.ndarray, *, cv: int, seed: int) -> float:
    """Mean accuracy over seeded, shuffled, stratified ``cv`` folds.

    If the smallest class has fewer than ``cv`` samples, the number of folds is reduced
    to it (at least 2) with a ``UserWarning``.
    """
    if not isinstance(cv, (int, np.integer)) or cv < 2:
        raise ScoreInputError(f"cv must be an integer >= 2, got {cv!r}.")
    smallest = int(np.bincount(codes).min())
    n_splits = int(cv)
    if smallest < n_splits:
        n_splits = max(2, smallest)
        warnings.warn(
            f"the smallest class has {smallest} sample(s), fewer than cv={cv}; using {n_splits} folds.",
            UserWarning,
            stacklevel=3,
        )
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # the singleton-class case was already reported by check_features_labels
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        acc = cross_val_score(estimator, f, codes, cv=folds, scoring="accuracy")
    return float(np.mean(acc))
