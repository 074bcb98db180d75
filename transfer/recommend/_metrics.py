"""Ranking metrics of a recommender on one target dataset.

All take the true and predicted values of the same models in the metric's own
scale and a ``higher_is_better`` flag, and return Python floats (NaN when a
metric is undefined, e.g. Pearson r of a constant prediction).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = [
    "interval_coverage",
    "pearson_r",
    "ranking_metrics",
    "top1_regret",
    "top1_relative",
    "weighted_tau",
]


def _pair(true: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(true, dtype=float)
    p = np.asarray(pred, dtype=float)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"true and pred must be 1-D of equal length, got {t.shape} and {p.shape}.")
    if not (np.isfinite(t).all() and np.isfinite(p).all()):
        raise ValueError("true and pred must be finite; drop models without a value first.")
    return t, p


def pearson_r(true: np.ndarray, pred: np.ndarray) -> float:
    """Pearson correlation; NaN with fewer than 2 models or a constant input.

    Example:
        >>> pearson_r(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.5]))
        0.9986...
    """
    t, p = _pair(true, pred)
    if len(t) < 2 or np.ptp(t) == 0 or np.ptp(p) == 0:
        return math.nan
    return float(stats.pearsonr(t, p)[0])


def weighted_tau(true: np.ndarray, pred: np.ndarray, *, higher_is_better: bool = True) -> float:
    """Weighted Kendall τ (``scipy.stats.weightedtau`` with its defaults).

    The hyperbolic weights favour the best models, so for a lower-is-better
    metric both inputs are negated first.

    Example:
        >>> weighted_tau(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
        1.0
    """
    t, p = _pair(true, pred)
    if len(t) < 2:
        return math.nan
    sign = 1.0 if higher_is_better else -1.0
    return float(stats.weightedtau(sign * t, sign * p).statistic)


def _top(true: np.ndarray, pred: np.ndarray, higher_is_better: bool) -> tuple[float, float]:
    t, p = _pair(true, pred)
    if len(t) == 0:
        return math.nan, math.nan
    pick = int(np.argmax(p) if higher_is_better else np.argmin(p))
    best = float(t.max() if higher_is_better else t.min())
    return float(t[pick]), best


def top1_relative(true: np.ndarray, pred: np.ndarray, *, higher_is_better: bool = True) -> float:
    """True value of the top-ranked model ÷ best true value (1.0 = picked the best).

    For a lower-is-better metric it is ``best / picked`` (both must be > 0).

    Example:
        >>> top1_relative(np.array([0.8, 0.9, 0.6]), np.array([3.0, 2.0, 1.0]))
        0.888...
    """
    picked, best = _top(true, pred, higher_is_better)
    if higher_is_better:
        return picked / best if best != 0 else math.nan
    return best / picked if picked > 0 and best > 0 else math.nan


def top1_regret(true: np.ndarray, pred: np.ndarray, *, higher_is_better: bool = True) -> float:
    """How much worse the top-ranked model is than the best (0 = picked the best).

    Example:
        >>> round(top1_regret(np.array([0.8, 0.9, 0.6]), np.array([3.0, 2.0, 1.0])), 3)
        0.1
    """
    picked, best = _top(true, pred, higher_is_better)
    return abs(best - picked)


def interval_coverage(true: np.ndarray, low: np.ndarray, high: np.ndarray) -> float:
    """Fraction of true values inside ``[low, high]``.

    Example:
        >>> interval_coverage(np.array([1.0, 2.0]), np.array([0.0, 2.5]), np.array([1.5, 3.0]))
        0.5
    """
    t = np.asarray(true, dtype=float)
    lo = np.asarray(low, dtype=float)
    hi = np.asarray(high, dtype=float)
    if len(t) == 0:
        return math.nan
    return float(np.mean((t >= lo) & (t <= hi)))


def ranking_metrics(
    true: np.ndarray,
    pred: np.ndarray,
    *,
    low: np.ndarray | None = None,
    high: np.ndarray | None = None,
    higher_is_better: bool = True,
) -> dict[str, float]:
    """Every metric above for one target, as a JSON-serialisable dict.

    Example:
        >>> m = ranking_metrics(np.array([0.8, 0.9, 0.6]), np.array([0.7, 0.95, 0.5]))
        >>> m["top1_relative"], m["weighted_tau"]
        (1.0, 1.0)
    """
    out = {
        "pearson": pearson_r(true, pred),
        "weighted_tau": weighted_tau(true, pred, higher_is_better=higher_is_better),
        "top1_relative": top1_relative(true, pred, higher_is_better=higher_is_better),
        "top1_regret": top1_regret(true, pred, higher_is_better=higher_is_better),
        "n_models": float(len(np.asarray(true))),
    }
    if low is not None and high is not None:
        out["coverage"] = interval_coverage(true, low, high)
    return out
