"""Metric directions and scales: which metrics are better high, which are fractions."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "CHANCE_METRICS",
    "FRACTION_METRICS",
    "KNOWN_METRICS",
    "METRIC_RANGES",
    "MetricSpec",
    "metric_direction",
    "metric_spec",
    "parse_metric_declaration",
]

#: Built-in metric directions (``True`` = higher is better).
KNOWN_METRICS: dict[str, bool] = {
    "accuracy": True,
    "balanced_accuracy": True,
    "f1": True,
    "top1": True,
    "top5": True,
    "auc": True,
    "map": True,
    "precision": True,
    "recall": True,
    "mcc": True,
    "matthews_correlation": True,
    "exact_match": True,
    "pearson": True,
    "spearmanr": True,
    "bleu": True,
    "sacrebleu": True,
    "rouge1": True,
    "rouge2": True,
    "rougel": True,
    "meteor": True,
    "error": False,
    "wer": False,
    "cer": False,
    "perplexity": False,
    "loss": False,
    "rmse": False,
    "mae": False,
    "mse": False,
}

#: Metrics whose values are fractions in [0, 1] (or percent in [0, 100]).
FRACTION_METRICS = frozenset(
    {
        "accuracy",
        "balanced_accuracy",
        "f1",
        "top1",
        "top5",
        "auc",
        "map",
        "precision",
        "recall",
        "exact_match",
    }
)

_INF = math.inf

#: Valid range of each built-in metric (inclusive). Fraction metrics are given
#: after the percent rule (see :func:`~kgtransfer.kg.ingest.normalize_tables`);
#: BLEU/ROUGE/METEOR are published both as fractions and in percent, so [0, 100].
METRIC_RANGES: dict[str, tuple[float, float]] = {
    **dict.fromkeys(FRACTION_METRICS, (0.0, 1.0)),
    **dict.fromkeys(("mcc", "matthews_correlation", "pearson", "spearmanr"), (-1.0, 1.0)),
    **dict.fromkeys(("bleu", "sacrebleu", "rouge1", "rouge2", "rougel", "meteor"), (0.0, 100.0)),
    **dict.fromkeys(("error", "wer", "cer", "loss", "rmse", "mae", "mse"), (0.0, _INF)),
    "perplexity": (1.0, _INF),
}

#: Metrics whose chance level is ``1 / n_classes`` (balanced guess).
CHANCE_METRICS = frozenset({"accuracy", "top1"})


def metric_direction(metric: str, metric_directions: Mapping[str, object] | None = None) -> bool:
    """Whether higher values of ``metric`` are better.

    Args:
        metric: Metric name (case-insensitive).
        metric_directions: Extra or overriding declarations per metric name:
            ``True``/``"higher"`` or ``False``/``"lower"``, or with a range (see
            :func:`parse_metric_declaration`).

    Returns:
        ``True`` if higher is better.

    Raises:
        KeyError: If the metric is unknown; the message says how to declare it.

    Example:
        >>> metric_direction("rmse"), metric_direction("neg_rmse"), metric_direction("ACCURACY")
        (False, True, True)
        >>> metric_direction("my_score", {"my_score": "higher"})
        True
    """
    name = metric.strip().lower()
    for key, value in (metric_directions or {}).items():
        if key.strip().lower() == name:
            return parse_metric_declaration(key, value).higher_is_better
    return metric_spec(metric).higher_is_better


@dataclass(frozen=True)
class MetricSpec:
    """Direction and valid (inclusive) range of a metric.

    Attributes:
        higher_is_better: Whether higher values are better.
        low: Smallest valid value (``-inf``: unbounded).
        high: Largest valid value (``inf``: unbounded).
    """

    higher_is_better: bool
    low: float = -_INF
    high: float = _INF

    def contains(self, value: float) -> bool:
        """Whether ``value`` is finite and inside the range."""
        return math.isfinite(value) and self.low <= value <= self.high

    def describe(self) -> str:
        """The range as text, e.g. ``[0, 1]`` or ``>= 0``."""
        if math.isinf(self.low) and math.isinf(self.high):
            return "any finite number"
        if math.isinf(self.high):
            return f">= {self.low:g}"
        if math.isinf(self.low):
            return f"<= {self.high:g}"
        return f"[{self.low:g}, {self.high:g}]"


def parse_metric_declaration(metric: str, value: object) -> MetricSpec:
    """Read one ``metric_directions`` entry (or metrics-table row) into a :class:`MetricSpec`.

    A declaration is a direction (``True``/``"higher"`` or ``False``/``"lower"``;
    the range is then any finite number), a ``(direction, low, high)`` tuple, or
    a mapping ``{"higher_is_better": ..., "min": ..., "max": ...}`` (``None`` or a
    missing bound: unbounded).

    Raises:
        ValueError: The direction or range cannot be read, or ``low > high``.

    Example:
        >>> parse_metric_declaration("bleu4", ("higher", 0, 100))
        MetricSpec(higher_is_better=True, low=0.0, high=100.0)
        >>> parse_metric_declaration("cost", {"higher_is_better": False, "min": 0}).describe()
        '>= 0'
    """
    low: object = None
    high: object = None
    if isinstance(value, Mapping):
        keys = {str(k).strip().lower(): v for k, v in value.items()}
        unknown = set(keys) - {"higher_is_better", "direction", "min", "max"}
        if unknown:
            raise ValueError(
                f"metric_directions[{metric!r}] has unknown key(s) {sorted(unknown)}; use "
                "'higher_is_better' (or 'direction'), 'min' and 'max'."
            )
        direction = keys.get("higher_is_better", keys.get("direction"))
        low, high = keys.get("min"), keys.get("max")
    elif isinstance(value, (tuple, list)):
        if len(value) != 3:
            raise ValueError(
                f"metric_directions[{metric!r}] = {value!r}; a tuple must be "
                "(direction, low, high), e.g. ('higher', 0, 1)."
            )
        direction, low, high = value
    else:
        direction = value
    lo, hi = _bound(metric, low, -_INF), _bound(metric, high, _INF)
    if lo > hi:
        raise ValueError(f"metric_directions[{metric!r}]: min {lo:g} > max {hi:g}.")
    return MetricSpec(_parse_direction(metric, direction), lo, hi)


def _bound(metric: str, value: object, default: float) -> float:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"metric_directions[{metric!r}]: bound {value!r} is not a number.")
    try:
        return float(value)
    except ValueError:
        raise ValueError(
            f"metric_directions[{metric!r}]: bound {value!r} is not a number."
        ) from None


def metric_spec(metric: str, declared: Mapping[str, MetricSpec] | None = None) -> MetricSpec:
    """Direction and range of ``metric``: declared first, then built in.

    ``neg_<metric>`` (a negated error, higher is better) gets the negated range
    of ``<metric>`` when that is built in, otherwise any finite number.

    Raises:
        KeyError: The metric is neither declared nor built in; the message says
            how to declare it.

    Example:
        >>> metric_spec("accuracy").describe(), metric_spec("neg_rmse").describe()
        ('[0, 1]', '<= 0')
    """
    name = metric.strip().lower()
    for key, spec in (declared or {}).items():
        if key.strip().lower() == name:
            return spec
    if name in KNOWN_METRICS:
        low, high = METRIC_RANGES.get(name, (-_INF, _INF))
        return MetricSpec(KNOWN_METRICS[name], low, high)
    base = name.removeprefix("neg_")
    if name.startswith("neg_"):
        low, high = (
            METRIC_RANGES.get(base, (-_INF, _INF)) if base in KNOWN_METRICS else (-_INF, _INF)
        )
        return MetricSpec(True, -high + 0.0, -low + 0.0)
    raise KeyError(
        f"unknown metric {metric!r}: its direction and range are not known. Declare it with "
        f"metric_directions={{{metric!r}: ('higher', low, high)}} (or 'lower'; a bare "
        "'higher' accepts any finite value) or a row of the metrics table (columns metric, "
        f"higher_is_better, min, max); built-in metrics: {sorted(KNOWN_METRICS)} and any 'neg_*'."
    )


def _parse_direction(metric: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"higher", "lower"}:
        return value.strip().lower() == "higher"
    raise ValueError(
        f"metric_directions[{metric!r}] = {value!r}; use True/'higher' or False/'lower'."
    )
