r"""H-score (Bao et al., ICIP 2019) and its shrinkage variant (Ibrahim et al., ICLR 2022)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.covariance import ledoit_wolf_shrinkage

from kgtransfer.transfer.scores._checks import check_features_labels
from kgtransfer.transfer.scores._registry import register_score

__all__ = ["hscore", "shrinkage_hscore"]


def _between_cov(f: np.ndarray, codes: np.ndarray, n_classes: int) -> np.ndarray:
    """cov(E[f | y]): covariance of each sample's class-mean feature (1/N normalised)."""
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    means = np.zeros((n_classes, f.shape[1]))
    np.add.at(means, codes, f)
    means /= counts[:, None]
    weighted = means * np.sqrt(counts / f.shape[0])[:, None]
    return np.asarray(weighted.T @ weighted)


@register_score("hscore")
def hscore(features: Any, labels: Any) -> float:
    r"""H-score (Bao et al., ICIP 2019).

    .. math:: H(f) = \operatorname{tr}\big(\operatorname{cov}(f)^{+}\,
              \operatorname{cov}(\mathbb E[f \mid y])\big)

    Features are centred; covariances use 1/N; ``+`` is the pseudo-inverse.

    Args:
        features: Target features, shape (N, D); numpy or torch.
        labels: Target labels, shape (N,); any hashable values.

    Returns:
        H-score in [0, min(D, C - 1)]. Higher means better expected transfer.

    Raises:
        ScoreInputError: a single class, NaN/inf, wrong dims or mismatched lengths.

    Shapes:
        features (N, D), labels (N,) -> float.

    Example:
        >>> from kgtransfer.transfer.scores import hscore
        >>> f, y = [[0.0], [0.0], [2.0], [2.0]], ["a", "a", "b", "b"]  # f is all class structure
        >>> round(hscore(f, y), 6)
        1.0
    """
    f, codes, n_classes = check_features_labels(features, labels)
    f = f - f.mean(axis=0)
    cov = f.T @ f / f.shape[0]
    return float(np.trace(np.linalg.pinv(cov, hermitian=True) @ _between_cov(f, codes, n_classes)))


@register_score("shrinkage_hscore")
def shrinkage_hscore(features: Any, labels: Any) -> float:
    r"""Shrinkage H-score (Ibrahim, Ponomareva and Mazumder, ICLR 2022).

    The feature covariance is replaced by its Ledoit-Wolf estimate
    :math:`\Sigma_\lambda = (1-\lambda)\Sigma + \lambda\,\tfrac{\operatorname{tr}\Sigma}{D} I`
    and, as in the paper, the between-class covariance is shrunk alike:

    .. math:: H_\lambda(f) = \operatorname{tr}\big(\Sigma_\lambda^{-1}\,(1-\lambda)
              \operatorname{cov}(\mathbb E[f\mid y])\big)

    Args:
        features: Target features, shape (N, D); numpy or torch.
        labels: Target labels, shape (N,); any hashable values.

    Returns:
        Shrinkage H-score (>= 0). Higher means better expected transfer.

    Raises:
        ScoreInputError: a single class, NaN/inf, wrong dims or mismatched lengths.

    Shapes:
        features (N, D), labels (N,) -> float.

    Example:
        >>> import numpy as np
        >>> from kgtransfer.transfer.scores import shrinkage_hscore
        >>> rng = np.random.default_rng(0)
        >>> y = rng.integers(0, 2, 100)
        >>> shrinkage_hscore(y[:, None] + 0.1 * rng.normal(size=(100, 5)), y) > 0.5
        True
    """
    f, codes, n_classes = check_features_labels(features, labels)
    f = f - f.mean(axis=0)
    n, d = f.shape
    cov = f.T @ f / n
    lam = float(ledoit_wolf_shrinkage(f, assume_centered=True)) if n > 1 else 1.0
    mu = float(np.trace(cov)) / d
    shrunk = (1.0 - lam) * cov + lam * mu * np.eye(d)
    between = (1.0 - lam) * _between_cov(f, codes, n_classes)
    if mu == 0.0:  # constant features carry no information
        return 0.0
    return float(np.trace(np.linalg.solve(shrunk, between)))
