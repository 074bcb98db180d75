"""Cross-validated accuracy proxies: k-nearest neighbours and a linear probe."""

from __future__ import annotations

from typing import Any

from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from kgtransfer.transfer.scores._checks import ScoreInputError, check_features_labels
from kgtransfer.transfer.scores._cv import cv_accuracy
from kgtransfer.transfer.scores._registry import register_score

__all__ = ["knn_score", "linear_probe_score"]


@register_score("knn")
def knn_score(
    features: Any, labels: Any, *, cv: int = 5, seed: int = 0, n_neighbors: int = 5
) -> float:
    """Cross-validated k-nearest-neighbour accuracy on the target features.

    Args:
        features: Target features, shape (N, D); numpy or torch.
        labels: Target labels, shape (N,); any hashable values.
        cv: Number of stratified folds (shuffled with ``seed``).
        seed: Seed of the fold shuffle.
        n_neighbors: Neighbours voted over (Euclidean distance).

    Returns:
        Mean held-out accuracy in [0, 1]. Higher means better expected transfer.

    Raises:
        ScoreInputError: bad features/labels, ``cv < 2`` or ``n_neighbors < 1``.

    Shapes:
        features (N, D), labels (N,) -> float.

    Example:
        >>> from kgtransfer.transfer.scores import knn_score
        >>> knn_score([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]], list("aaabbb"), cv=3, n_neighbors=1)
        1.0
    """
    f, codes, _ = check_features_labels(features, labels)
    if n_neighbors < 1:
        raise ScoreInputError(f"n_neighbors must be >= 1, got {n_neighbors!r}.")
    return cv_accuracy(KNeighborsClassifier(n_neighbors=n_neighbors), f, codes, cv=cv, seed=seed)


@register_score("linear_probe")
def linear_probe_score(
    features: Any, labels: Any, *, cv: int = 5, seed: int = 0, c: float = 1.0
) -> float:
    """Cross-validated accuracy of a logistic-regression probe on standardised features.

    Args:
        features: Target features, shape (N, D); numpy or torch.
        labels: Target labels, shape (N,); any hashable values.
        cv: Number of stratified folds (shuffled with ``seed``).
        seed: Seed of the fold shuffle.
        c: Inverse L2 regularisation strength of the probe.

    Returns:
        Mean held-out accuracy in [0, 1]. Higher means better expected transfer.

    Raises:
        ScoreInputError: bad features/labels or ``cv < 2``.

    Shapes:
        features (N, D), labels (N,) -> float.

    Example:
        >>> from kgtransfer.transfer.scores import linear_probe_score
        >>> linear_probe_score([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]], list("aaabbb"), cv=3)
        1.0
    """
    f, codes, _ = check_features_labels(features, labels)
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000))
    return cv_accuracy(probe, f, codes, cv=cv, seed=seed)
