"""Metric directions and scales: which metrics are better high, which are fractions."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "CHANCE_METRICS",
    "FRACTION_METRICS",
    "KNOWN_METRICS",
    "metric_direction",
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

#: Metrics whose chance level is ``1 / n_classes`` (balanced guess).
CHANCE_METRICS = frozenset({"accuracy", "top1"})


def metric_direction(metric: str, metric_directions: Mapping[str, object] | None = None) -> bool:
    """Whether higher values of ``metric`` are better.

    Args:
        metric: Metric name (case-insensitive).
        metric_directions: Extra or overriding directions: ``True``/``"higher"``
            or ``False``/``"lower"`` per metric name.

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
            return _parse_direction(key, value)
    if name in KNOWN_METRICS:
        return KNOWN_METRICS[name]
    if name.startswith("neg_"):
        return True
    raise KeyError(
        f"unknown metric {metric!r}: its direction is not known. Pass "
        f"metric_directions={{{metric!r}: 'higher'}} (or 'lower'); known metrics: "
        f"{sorted(KNOWN_METRICS)} and any 'neg_*'."
    )


def _parse_direction(metric: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"higher", "lower"}:
        return value.strip().lower() == "higher"
    raise ValueError(
        f"metric_directions[{metric!r}] = {value!r}; use True/'higher' or False/'lower'."
    )
