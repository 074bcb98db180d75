"""Turn recommendations, DataFrames or row dicts into the report's two tidy tables.

The report has one row per (target, candidate) — :data:`CANDIDATE_COLUMNS` — and
one summary per target — :data:`TARGET_FIELDS` — plus, per target, an optional
*context* (neighbour datasets, what each model was trained on, lineage) used to
draw the evidence subgraph.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias, runtime_checkable

import numpy as np
import pandas as pd

from kgtransfer.errors import ErrorMode, check_error_mode


@runtime_checkable
class FrameLike(Protocol):
    """A result that gives its candidate rows as a frame (``Recommendation``)."""

    def to_frame(self) -> pd.DataFrame:
        """One row per candidate (columns as :data:`CANDIDATE_COLUMNS`)."""
        ...


#: One report item: a ``Recommendation``, a candidate frame or one row as a mapping.
ReportItem: TypeAlias = FrameLike | pd.DataFrame | Mapping[str, object]

__all__ = [
    "CANDIDATE_COLUMNS",
    "LOW_CONFIDENCE_RISK",
    "LOW_CONFIDENCE_WIDTH",
    "TARGET_FIELDS",
    "ReportData",
    "collect_report_data",
    "low_confidence",
    "plain",
]


#: Columns of the tidy candidate table (CSV), in this order; extra columns follow.
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "target",
    "rank",
    "model",
    "score",
    "predicted",
    "low",
    "high",
    "scratch",
    "predicted_gain",
    "risk",
    "actual",
    "actual_gain",
    "evidence",
)
_REQUIRED = ("target", "model", "predicted")
#: The numeric candidate columns (every one but the ids and the evidence text).
_NUMERIC = tuple(c for c in CANDIDATE_COLUMNS if c not in ("target", "model", "evidence"))

#: Fields of a per-target summary (JSON ``targets`` and ``targets.csv``); extra keys follow.
TARGET_FIELDS: tuple[str, ...] = (
    "target",
    "kind",
    "n_candidates",
    "recommended",
    "recommended_predicted",
    "recommended_actual",
    "scratch",
    "scratch_source",
    "predicted_gain",
    "risk",
    "best_in_hindsight",
    "best_actual",
    "regret",
)


#: Headings of candidate and summary columns in the HTML and Markdown tables (one wording).
LABELS: dict[str, str] = {
    "target": "target",
    "kind": "kind",
    "rank": "rank",
    "model": "model",
    "predicted": "predicted",
    "low": "low",
    "high": "high",
    "scratch": "scratch",
    "predicted_gain": "pred. gain",
    "risk": "P(gain<0)",
    "actual": "measured",
    "actual_gain": "measured gain",
    "evidence": "evidence",
    "recommended": "recommended",
    "recommended_predicted": "predicted",
    "recommended_actual": "measured",
    "transfer_method": "method",
    "transfer_value": "transferred",
    "transfer_gain": "transfer gain",
    "transfer_source_rank": "source rank",
    "best_in_hindsight": "best in hindsight",
    "best_actual": "best value",
    "regret": "regret",
}


def labelled(columns: Iterable[str]) -> list[tuple[str, str]]:
    """``(column, heading)`` pairs of ``columns`` (headings from :data:`LABELS`)."""
    return [(c, LABELS[c]) for c in columns]


def plain(value: Any) -> Any:
    """A JSON-ready Python scalar: NaN/NA become None, numpy scalars become Python ones."""
    if value is None or value is pd.NA:
        return None
    item = getattr(value, "item", None)  # numpy (and torch) scalars
    if callable(item) and not isinstance(value, (str, bytes, list, tuple, dict)):
        value = item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


@dataclass
class ReportData:
    """Everything a report shows, already normalised.

    Attributes:
        candidates: One row per (target, candidate), columns :data:`CANDIDATE_COLUMNS`
            first, sorted by target order then rank.
        targets: One summary dict per target (keys :data:`TARGET_FIELDS` first).
        contexts: Per target, the evidence context (``neighbours``, ``trained_on``,
            ``base_model``) or an empty dict.
        problems: Inputs that could not be used (``errors="warn"|"collect"``): each
            names the item and why; shown in every output format.
    """

    candidates: pd.DataFrame
    targets: list[dict[str, Any]]
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _frame_of(item: Any) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any]]:
    """(candidate rows, summary, context) of one input item."""
    if isinstance(item, pd.DataFrame):
        return item.copy(), {}, {}
    to_frame = getattr(item, "to_frame", None)
    if callable(to_frame):
        frame = to_frame()
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{type(item).__name__}.to_frame() did not return a DataFrame.")
        summary = item.summary() if callable(getattr(item, "summary", None)) else {}
        context = getattr(item, "context", None) or {}
        return frame.copy(), dict(summary), dict(context)
    if isinstance(item, Mapping):
        return pd.DataFrame([dict(item)]), {}, {}
    raise TypeError(
        f"Cannot report a {type(item).__name__!r}: pass Recommendation objects, a "
        "DataFrame with columns target, model, predicted (and rank, low, high, ...), "
        "or dicts with those keys."
    )


def _check(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what} lacks column(s) {missing}; a report needs at least {list(_REQUIRED)} "
            "(rename your columns, e.g. frame.rename(columns={'dataset': 'target'}))."
        )
    out = frame.copy()
    for col in _NUMERIC:
        if col not in out.columns:
            out[col] = np.nan
        else:
            converted = pd.to_numeric(out[col], errors="coerce")
            bad = converted.isna() & out[col].notna()
            if bad.any():
                raise ValueError(
                    f"{what}: column {col!r} has non-numeric value {out[col][bad].iloc[0]!r}; "
                    "pass numbers (or leave the cell empty)."
                )
            out[col] = converted.astype(float)
    if "evidence" not in out.columns:
        out["evidence"] = ""
    out["evidence"] = out["evidence"].fillna("").astype(str)
    out["target"] = out["target"].astype(str)
    out["model"] = out["model"].astype(str)
    if out["rank"].isna().all():
        out = out.sort_values(["target", "predicted"], ascending=[True, False], kind="stable")
        out["rank"] = out.groupby("target").cumcount() + 1.0
    given_rank = out["rank"].dropna()
    if (given_rank != given_rank.round()).any() or (given_rank < 1).any():
        bad_rank = given_rank[(given_rank != given_rank.round()) | (given_rank < 1)].iloc[0]
        raise ValueError(
            f"{what}: column 'rank' has {bad_rank!r}; ranks are whole numbers from 1 "
            "(or leave the cell empty)."
        )
    out["rank"] = out["rank"].round().astype("Int64")  # ranks are integers, never 1.0
    if "actual_gain" in out and out["actual_gain"].isna().all():
        out["actual_gain"] = out["actual"] - out["scratch"]
    if out["predicted_gain"].isna().all():
        out["predicted_gain"] = out["predicted"] - out["scratch"]
    return out


def _num(value: Any) -> float | None:
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


#: A prediction is low-confidence when the recommender gives its transfer at least this
#: probability of losing to scratch (``risk``, P(gain < 0)) ...
LOW_CONFIDENCE_RISK = 0.2
#: ... or when its 90 % interval (``high - low``) is at least this wide, in the metric's
#: units (0.25 = 25 accuracy points).
LOW_CONFIDENCE_WIDTH = 0.25


def low_confidence(risk: Any, low: Any, high: Any) -> str | None:
    """Why a prediction is low-confidence (the report's badge), or None when it is not.

    The rule: P(gain < 0) >= :data:`LOW_CONFIDENCE_RISK`, or a 90 % interval at least
    :data:`LOW_CONFIDENCE_WIDTH` wide. Missing values never make a prediction low-confidence.

    Example:
        >>> low_confidence(0.35, 0.6, 0.7)
        'P(gain<0) = 0.35 >= 0.20'
        >>> low_confidence(0.05, 0.5, 0.8)
        '90 % interval 0.30 wide >= 0.25'
        >>> low_confidence(0.05, 0.6, 0.7) is None
        True
    """
    reasons = []
    p = _num(risk)
    if p is not None and math.isfinite(p) and p >= LOW_CONFIDENCE_RISK:
        reasons.append(f"P(gain<0) = {p:.2f} >= {LOW_CONFIDENCE_RISK:.2f}")
    lo, hi = _num(low), _num(high)
    width = math.nan
    if lo is not None and hi is not None:
        width = hi - lo
    if math.isfinite(width) and width >= LOW_CONFIDENCE_WIDTH - 1e-12:
        reasons.append(f"90 % interval {width:.2f} wide >= {LOW_CONFIDENCE_WIDTH:.2f}")
    return "; ".join(reasons) or None


def _reconcile_transfer(out: dict[str, Any], rows: pd.DataFrame) -> None:
    """Make a transfer outcome (``summaries``) agree with the target's candidates.

    *One scratch baseline per target*: the target's ``scratch`` (the baseline of every
    predicted and measured gain in the candidate table: the graph's measured scratch,
    or the neighbours' estimate) is also the baseline of ``transfer_gain``. An outcome
    from :func:`~kgtransfer.api.evaluate` carries the gain over its own scratch run
    (``transfer_scratch``: the source's architecture trained from scratch in that
    call); when that run differs, its gain is kept as ``transfer_gain_paired``. Only
    when the target has no scratch does the paired run become it.

    *Source rank*: ``evaluate`` ranks the source among every model with a record on
    the target, a population that can be larger than the recommendation's candidates
    (rank 23 of 22 candidates). Here the rank is the transferred value's place among
    the candidates' measured values (``transfer_source_rank`` of
    ``transfer_ranked_among``), so it never exceeds the candidate count.
    """
    value = _num(out.get("transfer_value"))
    if value is None:
        return
    paired = _num(out.get("transfer_scratch"))
    scratch = _num(out.get("scratch"))
    if scratch is None and paired is not None:
        scratch = paired
        out["scratch"] = paired
        out["scratch_source"] = "measured with the transfer"
    if scratch is not None:
        gain = value - scratch
        if paired is not None and not math.isclose(paired, scratch, abs_tol=1e-12):
            out["transfer_gain_paired"] = value - paired
        out["transfer_gain"] = gain
        out["negative_transfer"] = bool(gain < 0)
    source = out.get("transfer_source")
    if source is None:
        return
    source = str(source)
    models = rows["model"].astype(str)
    if not (models == source).any():
        out["transfer_source_rank"] = None
        out["transfer_ranked_among"] = None
        return
    others = pd.to_numeric(rows.loc[models != source, "actual"], errors="coerce").dropna()
    out["transfer_source_rank"] = int((others > value).sum()) + 1
    out["transfer_ranked_among"] = len(others) + 1


def _summary(target: str, rows: pd.DataFrame, given: Mapping[str, Any]) -> dict[str, Any]:
    rows = rows.sort_values("rank", kind="stable")
    top = rows.iloc[0] if len(rows) else None
    out: dict[str, Any] = {"target": target, "kind": None, "n_candidates": len(rows)}
    if top is not None:
        out.update(
            recommended=top["model"],
            recommended_predicted=top["predicted"],
            recommended_actual=top["actual"],
            scratch=top["scratch"],
            predicted_gain=top["predicted_gain"],
            risk=top["risk"],
        )
        why = low_confidence(top["risk"], top["low"], top["high"])
        out["low_confidence"] = why is not None
        out["low_confidence_why"] = why
    known = rows.dropna(subset=["actual"])
    if len(known):
        best = known.sort_values(["actual", "rank"], ascending=[False, True]).iloc[0]
        out["best_in_hindsight"] = best["model"]
        out["best_actual"] = best["actual"]
        if top is not None and pd.notna(top["actual"]):
            out["regret"] = float(best["actual"]) - float(top["actual"])
    out.update({k: v for k, v in given.items() if v is not None or k not in out})
    _reconcile_transfer(out, rows)
    ordered = {k: plain(out.get(k)) for k in TARGET_FIELDS}
    ordered.update({k: plain(v) for k, v in out.items() if k not in ordered})
    return ordered


def collect_report_data(
    items: ReportItem | Iterable[ReportItem],
    *,
    summaries: Iterable[Mapping[str, object]] | pd.DataFrame | None = None,
    errors: ErrorMode = "raise",
) -> ReportData:
    """Normalise report input (see :func:`kgtransfer.report.write_report`).

    Raises:
        ValueError: ``errors="raise"`` and an item is malformed, or nothing is left.
        TypeError: An item of an unsupported type (with ``errors="raise"``).
    """
    check_error_mode(errors)
    if isinstance(items, (pd.DataFrame, Mapping, FrameLike)):
        items = [items]
    frames: list[pd.DataFrame] = []
    given: dict[str, dict[str, Any]] = {}
    contexts: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for i, item in enumerate(items):
        what = f"report item {i} ({type(item).__name__})"
        try:
            frame, summary, context = _frame_of(item)
            frame = _check(frame, what)
        except (TypeError, ValueError) as exc:
            if errors == "raise":
                raise
            problems.append(f"{what} skipped: {exc}")
            if errors == "warn":
                warnings.warn(f"{what} skipped: {exc}", UserWarning, stacklevel=3)
            continue
        frames.append(frame)
        for target in frame["target"].unique():
            if summary:
                given.setdefault(str(target), {}).update(summary)
            if context:
                contexts[str(target)] = context
    if summaries is not None:
        records = summaries.to_dict("records") if isinstance(summaries, pd.DataFrame) else summaries
        for row in records:
            if "target" not in row:
                raise ValueError(f"A target summary lacks the 'target' key: {dict(row)!r}.")
            given.setdefault(str(row["target"]), {}).update(dict(row))
    if not frames:
        raise ValueError(
            "Nothing to report: no usable recommendation rows"
            + (f" ({len(problems)} item(s) skipped: {problems[0]})" if problems else "")
            + "."
        )
    table = pd.concat(frames, ignore_index=True)
    order = list(dict.fromkeys(table["target"]))
    table["_order"] = table["target"].map({t: i for i, t in enumerate(order)})
    table = table.sort_values(["_order", "rank", "model"], kind="stable").drop(columns="_order")
    extra = [c for c in table.columns if c not in CANDIDATE_COLUMNS]
    table = table[list(CANDIDATE_COLUMNS) + extra].reset_index(drop=True)
    targets = [_summary(t, table[table["target"] == t], given.get(t, {})) for t in order]
    return ReportData(candidates=table, targets=targets, contexts=contexts, problems=problems)
