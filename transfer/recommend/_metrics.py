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
    "Z90",
    "coverage_band",
    "interval_coverage",
    "negative_transfer_calibration",
    "negative_transfer_probability",
    "pearson_r",
    "ranking_metrics",
    "top1_regret",
    "top1_relative",
    "weighted_tau",
]

#: The standard normal's 0.95 quantile: a central 90 % interval is ``mean ± Z90 * sd``
#: (every interval of the recommenders and the product layer uses this one value).
Z90 = 1.6448536269514722


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
        0.9979...
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


def coverage_band(n_pairs: int, nominal: float = 0.90, level: float = 0.95) -> tuple[float, float]:
    """Central ``level`` binomial band of the coverage of ``n_pairs`` intervals at ``nominal``.

    A calibrated 90 % interval covers Binomial(n, 0.9) / n of n held-out pairs; an
    observed coverage outside this band is evidence of miscalibration.

    Example:
        >>> coverage_band(100)
        (0.84, 0.95)
    """
    if n_pairs < 1:
        return math.nan, math.nan
    tail = (1.0 - level) / 2.0
    lo = float(stats.binom.ppf(tail, n_pairs, nominal)) / n_pairs
    hi = float(stats.binom.ppf(1.0 - tail, n_pairs, nominal)) / n_pairs
    return lo, hi


def negative_transfer_probability(
    predicted: np.ndarray, low: np.ndarray, high: np.ndarray, scratch: float
) -> np.ndarray:
    """P(true value < scratch) under a normal whose 90 % interval is ``[low, high]``.

    The same model of the gain as ``kgtransfer.recommend``'s ``risk`` column with
    a measured scratch value (higher-is-better metric).

    Example:
        >>> negative_transfer_probability(np.array([0.7]), np.array([0.6]), np.array([0.8]), 0.7)
        array([0.5])
    """
    pred = np.asarray(predicted, dtype=float)
    sd = np.abs(np.asarray(high, dtype=float) - np.asarray(low, dtype=float)) / (2 * Z90)
    gain = pred - float(scratch)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, -gain / np.where(sd > 0, sd, 1.0), np.where(gain < 0, np.inf, -np.inf))
    return np.asarray(stats.norm.cdf(z), dtype=float)


def negative_transfer_calibration(
    probability: np.ndarray, negative: np.ndarray, *, n_bins: int = 5
) -> dict[str, object]:
    """Brier score and reliability table of predicted negative-transfer probabilities.

    Args:
        probability: Predicted P(negative transfer) per held-out pair.
        negative: Whether the transfer was negative (true value below scratch).
        n_bins: Equal-width probability bins of the reliability table.

    Returns:
        ``n_pairs``, ``brier``, ``base_rate`` (observed share of negative transfer),
        ``brier_base_rate`` (Brier score of always predicting that share: a
        reference a useful probability beats) and ``reliability``: one row per
        non-empty bin with ``bin``, ``n``, ``mean_predicted`` and ``observed``.

    Example:
        >>> out = negative_transfer_calibration(np.array([0.1, 0.9]), np.array([False, True]))
        >>> round(out["brier"], 3), [r["observed"] for r in out["reliability"]]
        (0.01, [0.0, 1.0])
    """
    p = np.asarray(probability, dtype=float)
    y = np.asarray(negative, dtype=bool).astype(float)
    if p.shape != y.shape or p.ndim != 1:
        raise ValueError(
            f"probability and negative must be 1-D of equal length, got {p.shape}, {y.shape}."
        )
    if len(p) == 0:
        return {"n_pairs": 0, "brier": None, "base_rate": None, "reliability": []}
    base = float(y.mean())
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        sel = idx == b
        if sel.any():
            rows.append(
                {
                    "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                    "n": int(sel.sum()),
                    "mean_predicted": float(p[sel].mean()),
                    "observed": float(y[sel].mean()),
                }
            )
    return {
        "n_pairs": len(p),
        "brier": float(np.mean((p - y) ** 2)),
        "base_rate": base,
        "brier_base_rate": float(np.mean((base - y) ** 2)),
        "reliability": rows,
    }
