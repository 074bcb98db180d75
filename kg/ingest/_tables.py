"""Validate and normalise user tables (CSV files or DataFrames) into :class:`ZooTables`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import pandas as pd

from kgtransfer.errors import IngestError
from kgtransfer.kg.tables import COLUMNS, ZooTables

from ._cells import CellError, as_bool, as_float, as_int, as_str, is_missing
from ._metrics import CHANCE_METRICS, FRACTION_METRICS, KNOWN_METRICS, metric_direction
from ._report import ErrorMode, Flag, IngestReport, Rejection, check_errors

__all__ = ["RELATIONS", "ROW_COLUMN", "TableInput", "normalize_tables"]

TableInput: TypeAlias = str | os.PathLike[str] | pd.DataFrame | None

#: Optional column of an input DataFrame holding the row number to report
#: (adapters that reshape a file keep the file's own row numbers this way).
ROW_COLUMN = "__row__"

_TABLES = ("models", "datasets", "records", "similarities", "scores")
_REQUIRED = {
    "models": ("model",),
    "datasets": ("dataset",),
    "records": ("model", "dataset", "value"),
    "similarities": ("dataset_a", "dataset_b"),
    "scores": ("model", "dataset", "estimator", "value"),
}
_KEYS = {
    "models": ("model",),
    "datasets": ("dataset",),
    "records": (
        "model",
        "dataset",
        "metric",
        "method",
        "seed",
        "run",
        "n_train",
        "shots",
        "split",
        "epochs",
        "steps",
        "frozen",
    ),
    "similarities": ("dataset_a", "dataset_b", "method"),
    "scores": ("model", "dataset", "estimator"),
}
# Input-only columns (not in the canonical table) and their kind.
_INPUT_ONLY = {"models": {"base_model": "list", "base_model_relation": "string"}}
_LOWER = {"metric", "method", "estimator"}
#: Lineage relations (Hugging Face ``base_model_relation`` values).
RELATIONS = frozenset({"finetune", "adapter", "merge", "quantized"})  # compared case-insensitively
_UNNAMED = re.compile(r"^Unnamed: \d+$")


@dataclass
class _Row:
    row: int
    values: dict[str, Any]
    extras: dict[str, float] = field(default_factory=dict)


@dataclass
class _Table:
    name: str
    source: str
    frame: pd.DataFrame
    rows: list[int]
    numeric_extras: list[str]
    parsed: list[_Row] = field(default_factory=list)
    n_rejected: int = 0


class _Ctx:
    def __init__(self, report: IngestReport, errors: ErrorMode) -> None:
        self.report = report
        self.errors = errors

    def reject(
        self, table: _Table, row: int | None, column: str | None, value: Any, reason: str
    ) -> None:
        table.n_rejected += 1
        self.report.reject(Rejection(table.source, row, column, value, reason), errors=self.errors)


def normalize_tables(
    models: TableInput = None,
    datasets: TableInput = None,
    records: TableInput = None,
    similarities: TableInput = None,
    scores: TableInput = None,
    *,
    column_map: Mapping[str, Any] | None = None,
    errors: ErrorMode = "raise",
    known_models: Iterable[str] = (),
    known_datasets: Iterable[str] = (),
    source: str | Mapping[str, str] | None = None,
    metric_directions: Mapping[str, object] | None = None,
    create_missing: bool = False,
    chance_tolerance: float | None = None,
    known_n_classes: Mapping[str, float] | None = None,
) -> tuple[ZooTables, IngestReport]:
    """Validate model-zoo tables and return them in the canonical :class:`ZooTables` form.

    Each input is a CSV path or a DataFrame. Column names are those of
    :data:`~kgtransfer.kg.tables.COLUMNS` (plus ``base_model`` and
    ``base_model_relation`` in ``models``, turned into ``lineage`` rows; several
    base models go in one cell as a list or as ``"org/a; org/b"``, and the
    relation is one of :data:`RELATIONS`). An
    empty or NaN optional cell means unknown; a present cell of the wrong type
    is an error. Extra numeric columns are kept as numeric attributes; extra
    non-numeric columns are ignored and listed in ``report.warnings``.

    Records that differ in any key column (``model``, ``dataset``, ``metric``,
    ``method``, ``seed``, ``run``) are distinct runs. Exact duplicates collapse
    (noted); the same key with a different value is a conflict (rejected).
    A fraction metric (accuracy, f1, ...) whose values are all in [0, 100] with
    some above 1 is read as percent and divided by 100 (noted); percent mixed
    with fractions is an error. An error metric (rmse, mae, ...) whose values
    are all <= 0 is read as a negated error and renamed ``neg_<metric>``
    (higher is better). Records within a tolerance of chance level
    (``1 / n_classes`` of the dataset, when known) are kept with
    ``suspect=True`` and listed in ``report.flagged``.

    Args:
        models: Model table (``model`` required).
        datasets: Dataset table (``dataset`` required).
        records: Fine-tuning results (``model``, ``dataset``, ``value`` required;
            ``metric`` defaults to ``"accuracy"``).
        similarities: Dataset pairs with ``similarity`` and/or ``distance``.
        scores: Transferability scores (``model``, ``dataset``, ``estimator``, ``value``).
        column_map: Renames applied before validation, either per table
            (``{"records": {"eval_accuracy": "value"}}``) or flat
            (``{"eval_accuracy": "value"}``, applied to every table).
        errors: ``"raise"`` stops at the first bad row with an
            :class:`~kgtransfer.errors.IngestError`; ``"warn"`` emits one
            ``UserWarning`` per rejected row and continues; ``"collect"``
            continues silently. Rejections are always in the report.
        known_models: Model ids that exist elsewhere (e.g. already in the graph).
        known_datasets: Dataset ids that exist elsewhere.
        source: Label used for DataFrame inputs in the report: a string
            replaces ``DataFrame`` in ``"<DataFrame records>"``; a mapping gives
            the label per table (also overriding file paths).
        metric_directions: Directions of metrics not built in, e.g.
            ``{"bleu": "higher"}`` (or ``True``/``False``).
        create_missing: Declare models/datasets referenced by records, scores or
            similarities but defined nowhere as new bare rows (noted) instead of
            rejecting those rows. Useful for a records-only table.
        chance_tolerance: Absolute distance to ``1 / n_classes`` under which a
            run counts as chance level; default ``min(0.01, 0.25 / n_classes)``.
        known_n_classes: ``n_classes`` of datasets defined elsewhere (e.g. already
            in the graph), used for the chance-level flags; this call's
            ``datasets`` table wins.

    Returns:
        The normalised tables and the :class:`IngestReport`.

    Raises:
        IngestError: With ``errors="raise"``, at the first bad row (naming the
            source, row, column, value and how to fix it); in every mode when a
            file cannot be read or a required column is absent.

    Example:
        >>> import pandas as pd
        >>> recs = pd.DataFrame({"model": ["m1", "m2"], "dataset": ["d", "d"],
        ...                      "value": [91.0, 85.5]})
        >>> tables, report = normalize_tables(records=recs, create_missing=True)
        >>> tables.records["value"].tolist()
        [0.91, 0.855]
        >>> sorted(tables.models["model"])
        ['m1', 'm2']
    """
    check_errors(errors)
    report = IngestReport()
    ctx = _Ctx(report, errors)
    inputs = {
        "models": models,
        "datasets": datasets,
        "records": records,
        "similarities": similarities,
        "scores": scores,
    }
    loaded: dict[str, _Table] = {}
    for name in _TABLES:
        obj = inputs[name]
        if obj is None:
            continue
        table = _load(name, obj, column_map, source, report)
        _parse(table, ctx)
        loaded[name] = table

    out = ZooTables()
    rejected_ids: dict[str, set[str]] = {"model": set(), "dataset": set()}
    if "models" in loaded:
        out.models, out.lineage = _finish_models(loaded["models"], ctx, rejected_ids)
    if "datasets" in loaded:
        out.datasets = _finish_entities(loaded["datasets"], ctx, rejected_ids)

    model_ids = set(out.models["model"].dropna()) | {str(m) for m in known_models}
    dataset_ids = set(out.datasets["dataset"].dropna()) | {str(d) for d in known_datasets}
    created: dict[str, list[str]] = {"model": [], "dataset": []}
    refs = _RefCheck(ctx, model_ids, dataset_ids, rejected_ids, create_missing, created)

    if "records" in loaded:
        table = loaded["records"]
        _records_metrics(table, ctx, metric_directions)
        refs.check(table, ("model", "dataset"))
        _dedupe(table, ctx)
        out.metrics = _metrics_table(table, metric_directions)
    if "similarities" in loaded:
        table = loaded["similarities"]
        refs.check(table, ("dataset_a", "dataset_b"))
        _dedupe(table, ctx)
        out.similarities = _frame("similarities", table.parsed, table.numeric_extras)
    if "scores" in loaded:
        table = loaded["scores"]
        refs.check(table, ("model", "dataset"))
        _dedupe(table, ctx)
        out.scores = _frame("scores", table.parsed, table.numeric_extras)

    for kind, ids in created.items():
        if not ids:
            continue
        name = f"{kind}s"
        new = pd.DataFrame({kind: pd.Series(sorted(set(ids)), dtype="string")})
        setattr(out, name, _concat(getattr(out, name), new, name))
        report.notes.append(
            f"create_missing: added {len(set(ids))} {name} row(s) referenced but not defined: "
            f"{_preview(sorted(set(ids)))}"
        )

    if "records" in loaded:
        table = loaded["records"]
        _flag_chance(table, out.datasets, ctx, chance_tolerance, known_n_classes)
        out.records = _frame("records", table.parsed, table.numeric_extras)

    for table in loaded.values():
        report.count(
            table.source, read=len(table.rows), accepted=len(table.rows) - table.n_rejected
        )
    return out, report


# ---------------------------------------------------------------------------- loading
def _load(
    name: str,
    obj: Any,
    column_map: Mapping[str, Any] | None,
    source: str | Mapping[str, str] | None,
    report: IngestReport,
) -> _Table:
    if isinstance(obj, pd.DataFrame):
        frame = obj.copy()
        label = f"<{source if isinstance(source, str) else 'DataFrame'} {name}>"
    elif isinstance(obj, (str, os.PathLike)):
        label = os.fspath(obj)
        try:
            frame = pd.read_csv(obj, dtype=str, skipinitialspace=True)
        except (OSError, ValueError) as exc:  # ParserError, EmptyDataError are ValueErrors
            raise IngestError(f"cannot read the {name} table {label!r}: {exc}") from exc
    else:
        raise IngestError(
            f"the {name} table must be a CSV path or a pandas DataFrame, got {type(obj).__name__}."
        )
    if isinstance(source, Mapping) and name in source:
        label = source[name]
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.rename(columns=_renames(name, column_map))
    dup = frame.columns[frame.columns.duplicated()].tolist()
    if dup:
        raise IngestError(
            f"{label}: duplicate column(s) {dup} (after column_map); keep one column per name."
        )
    if ROW_COLUMN in frame.columns:
        rows = [int(r) for r in frame.pop(ROW_COLUMN)]
    else:
        rows = list(range(1, len(frame) + 1))
    unnamed = [c for c in frame.columns if _UNNAMED.match(c)]
    if unnamed:
        frame = frame.drop(columns=unnamed)
        report.notes.append(f"{label}: dropped unnamed index column(s) {unnamed}")
    missing = [c for c in _REQUIRED[name] if c not in frame.columns]
    if name == "similarities" and not {"similarity", "distance"} & set(frame.columns):
        missing.append("similarity or distance")
    if missing:
        raise IngestError(
            f"{label}: the {name} table lacks required column(s) {missing}; it has "
            f"{list(frame.columns)}. Rename columns with column_map={{{name!r}: "
            "{'your_column': 'canonical_name'}}."
        )
    known = set(COLUMNS[name]) | set(_INPUT_ONLY.get(name, {}))
    numeric_extras: list[str] = []
    for col in frame.columns:
        if col in known:
            continue
        bad = _first_non_numeric(frame[col])
        if bad is None:
            numeric_extras.append(col)
        else:
            report.warnings.append(
                f"{label}: column {col!r} is not numeric (e.g. {bad!r}) and not a "
                f"{name} column; ignored. Map it with column_map or drop it."
            )
    return _Table(name, label, frame, rows, numeric_extras)


def _renames(name: str, column_map: Mapping[str, Any] | None) -> dict[str, str]:
    if not column_map:
        return {}
    nested = all(isinstance(v, Mapping) for v in column_map.values())
    if nested:
        unknown = set(column_map) - set(_TABLES)
        if unknown:
            raise IngestError(
                f"column_map has unknown table name(s) {sorted(unknown)}; use {list(_TABLES)}."
            )
        return dict(column_map.get(name, {}))
    if any(isinstance(v, Mapping) for v in column_map.values()):
        raise IngestError("column_map mixes per-table mappings and flat renames; use one form.")
    return {str(k): str(v) for k, v in column_map.items()}


def _first_non_numeric(col: pd.Series) -> Any:
    for v in col:
        if is_missing(v):
            continue
        try:
            as_float(v)
        except CellError:
            return v
    return None


# ---------------------------------------------------------------------------- parsing
def _parse(table: _Table, ctx: _Ctx) -> None:
    spec = dict(COLUMNS[table.name])
    spec.update(_INPUT_ONLY.get(table.name, {}))
    required = set(_REQUIRED[table.name])
    cols = [c for c in table.frame.columns if c in spec]
    records = table.frame.to_dict("records")
    for row, raw in zip(table.rows, records, strict=True):
        values: dict[str, Any] = {}
        bad = False
        for col in cols:
            value = raw[col]
            if isinstance(value, (list, tuple)) and spec[col] == "list":
                values[col] = [as_str(v) for v in value if not is_missing(v)] or None
                continue
            if is_missing(value):
                if col in required:
                    ctx.reject(
                        table,
                        row,
                        col,
                        value,
                        f"required column {col!r} is empty; every {table.name} row needs a {col}.",
                    )
                    bad = True
                    break
                values[col] = None
                continue
            try:
                values[col] = _convert(value, spec[col], col)
            except CellError as exc:
                ctx.reject(table, row, col, value, f"{exc} in column {col!r}; fix or empty it.")
                bad = True
                break
        if bad:
            continue
        extras: dict[str, float] = {}
        for col in table.numeric_extras:
            value = raw[col]
            extras[col] = float("nan") if is_missing(value) else as_float(value)
        if table.name == "records" and values.get("metric") is None:
            values["metric"] = "accuracy"
        if (
            table.name == "similarities"
            and values.get("similarity") is None
            and values.get("distance") is None
        ):
            ctx.reject(
                table,
                row,
                "similarity",
                None,
                "row has neither a similarity nor a distance; give one.",
            )
            continue
        table.parsed.append(_Row(row, values, extras))


def _convert(value: Any, kind: str, col: str) -> Any:
    if kind == "list":  # several base models in one CSV cell: "org/a; org/b"
        return [part.strip() for part in as_str(value).split(";") if part.strip()] or None
    if kind == "string":
        text = as_str(value)
        if col in _LOWER:
            text = text.lower()
        if col == "base_model_relation":
            text = text.lower()
            if text not in RELATIONS:
                raise CellError(f"unknown lineage relation (use one of {sorted(RELATIONS)})")
        return text
    if kind == "Float64":
        return as_float(value)
    if kind == "Int64":
        return as_int(value)
    if kind == "boolean":
        return as_bool(value)
    raise AssertionError(f"unhandled column kind {kind}")  # pragma: no cover


# ---------------------------------------------------------------------------- entities
def _dedupe(table: _Table, ctx: _Ctx) -> None:
    """Collapse exact duplicates (noted) and reject conflicting rows of the same key."""
    seen: dict[tuple[Any, ...], _Row] = {}
    kept: list[_Row] = []
    collapsed: list[int] = []
    for r in table.parsed:
        key = _key(table.name, r)
        first = seen.get(key)
        if first is None:
            seen[key] = r
            kept.append(r)
            continue
        if _same(first, r):
            collapsed.append(r.row)
            continue
        diff = [
            c
            for c in sorted(set(first.values) | set(r.values) | set(r.extras))
            if not _eq(_get(first, c), _get(r, c))
        ]
        col = diff[0] if diff else None
        ctx.reject(
            table,
            r.row,
            col,
            _get(r, col) if col else None,
            f"conflicts with row {first.row} (same {'/'.join(_KEYS[table.name])} "
            f"{_fmt_key(key)}, but {col}={_get(first, col)!r} there). If both are real "
            "runs, tell them apart with a 'run' or 'seed' column; otherwise drop one.",
        )
    if collapsed:
        ctx.report.notes.append(
            f"{table.source}: collapsed {len(collapsed)} exact duplicate row(s) "
            f"(rows {_preview(collapsed)})"
        )
    table.parsed = kept


def _key(name: str, r: _Row) -> tuple[Any, ...]:
    key = tuple(r.values.get(c) for c in _KEYS[name])
    if name == "similarities":
        a, b, method = key
        key = (*sorted((str(a), str(b))), method)
    return key


def _get(r: _Row, col: str | None) -> Any:
    if col is None:
        return None
    return r.values.get(col, r.extras.get(col))


def _eq(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return bool(a == b)


def _same(a: _Row, b: _Row) -> bool:
    cols = set(a.values) | set(b.values) | set(a.extras) | set(b.extras)
    if {"dataset_a", "dataset_b"} <= cols and a.values["dataset_a"] != b.values["dataset_a"]:
        cols -= {"dataset_a", "dataset_b"}  # the same pair written the other way round
    return all(_eq(_get(a, c), _get(b, c)) for c in cols)


def _fmt_key(key: tuple[Any, ...]) -> str:
    return "/".join("-" if k is None else str(k) for k in key)


def _finish_models(
    table: _Table, ctx: _Ctx, rejected: dict[str, set[str]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    models = _finish_entities(table, ctx, rejected)
    lineage: list[dict[str, Any]] = []
    for r in table.parsed:
        for base in r.values.get("base_model") or []:
            lineage.append(
                {
                    "model": r.values["model"],
                    "base_model": base,
                    "relation": r.values.get("base_model_relation"),
                }
            )
    frame = pd.DataFrame(lineage, columns=list(COLUMNS["lineage"]))
    frame = frame.drop_duplicates().reset_index(drop=True)
    return models, _cast(frame, "lineage", [])


def _finish_entities(table: _Table, ctx: _Ctx, rejected: dict[str, set[str]]) -> pd.DataFrame:
    id_col = _KEYS[table.name][0]
    _dedupe(table, ctx)
    kept = {r.values[id_col] for r in table.parsed}
    # Remember ids whose rows were all rejected: references to them get a clearer reason.
    for raw in table.frame[id_col]:
        if not is_missing(raw) and as_str(raw) not in kept:
            rejected[id_col].add(as_str(raw))
    return _frame(table.name, table.parsed, table.numeric_extras)


# ---------------------------------------------------------------------------- references
class _RefCheck:
    def __init__(
        self,
        ctx: _Ctx,
        models: set[str],
        datasets: set[str],
        rejected: dict[str, set[str]],
        create: bool,
        created: dict[str, list[str]],
    ) -> None:
        self.ctx = ctx
        self.known = {"model": models, "dataset": datasets}
        self.rejected = rejected
        self.create = create
        self.created = created

    def check(self, table: _Table, cols: tuple[str, ...]) -> None:
        kept: list[_Row] = []
        for r in table.parsed:
            ok = True
            for col in cols:
                kind = "model" if col == "model" else "dataset"
                value = r.values[col]
                if value in self.known[kind]:
                    continue
                if self.create and value not in self.rejected[kind]:
                    self.known[kind].add(value)
                    self.created[kind].append(value)
                    continue
                why = f" (its {kind}s row was rejected)" if value in self.rejected[kind] else ""
                self.ctx.reject(
                    table,
                    r.row,
                    col,
                    value,
                    f"unknown {kind} {value!r}{why}: add it to the {kind}s table, pass "
                    f"known_{kind}s=[...], or use create_missing=True.",
                )
                ok = False
                break
            if ok:
                kept.append(r)
        table.parsed = kept


# ---------------------------------------------------------------------------- metrics
def _records_metrics(table: _Table, ctx: _Ctx, directions: Mapping[str, object] | None) -> None:
    """Check metric directions, detect percent and negated errors, per metric."""
    by_metric: dict[str, list[_Row]] = {}
    for r in table.parsed:
        by_metric.setdefault(r.values["metric"], []).append(r)
    dropped: set[int] = set()
    for metric, rows in by_metric.items():
        try:
            higher = metric_direction(metric, directions)
        except KeyError as exc:
            for r in rows:
                ctx.reject(table, r.row, "metric", metric, str(exc.args[0]))
                dropped.add(id(r))
            continue
        user_given = any(k.strip().lower() == metric for k in (directions or {}))
        values = [r.values["value"] for r in rows]
        if metric in FRACTION_METRICS:
            dropped |= _percent(table, ctx, metric, rows)
        elif (
            not higher
            and not user_given
            and metric in KNOWN_METRICS
            and all(v <= 0 for v in values)
            and any(v < 0 for v in values)
        ):
            for r in rows:
                r.values["metric"] = f"neg_{metric}"
            ctx.report.notes.append(
                f"{table.source}: all {len(rows)} values of {metric!r} are <= 0, read as "
                f"negated errors: metric renamed 'neg_{metric}' (higher is better)."
            )
        elif not higher and not user_given and metric in KNOWN_METRICS:
            for r in rows:  # an error is never negative; negated errors need their own name
                if r.values["value"] < 0:
                    ctx.reject(
                        table,
                        r.row,
                        "value",
                        r.values["value"],
                        f"{metric} cannot be negative while other {metric} values are "
                        f"positive; store negated errors under metric 'neg_{metric}'.",
                    )
                    dropped.add(id(r))
    table.parsed = [r for r in table.parsed if id(r) not in dropped]


def _percent(table: _Table, ctx: _Ctx, metric: str, rows: list[_Row]) -> set[int]:
    dropped: set[int] = set()
    for r in rows:
        v = r.values["value"]
        if v < 0 or v > 100:
            ctx.reject(
                table,
                r.row,
                "value",
                v,
                f"{metric} must be a fraction in [0, 1] (or percent in [0, 100]).",
            )
            dropped.add(id(r))
    rows = [r for r in rows if id(r) not in dropped]
    pct = [r for r in rows if r.values["value"] > 1]
    frac = [r for r in rows if 0 < r.values["value"] < 1]
    if pct and frac:
        minority, majority = (pct, frac) if len(pct) <= len(frac) else (frac, pct)
        scale = "percent" if minority is pct else "a fraction"
        other = majority[0]
        for r in minority:
            ctx.reject(
                table,
                r.row,
                "value",
                r.values["value"],
                f"{metric} value looks like {scale} while others (e.g. row {other.row}: "
                f"{other.values['value']!r}) do not: percent mixed with fractions. Give "
                f"all {metric} values in one scale.",
            )
            dropped.add(id(r))
        rows = majority
        pct = majority if majority is pct else []
    if pct:
        for r in rows:
            r.values["value"] = r.values["value"] / 100.0
        ctx.report.notes.append(
            f"{table.source}: {metric} values are in percent ({len(rows)} rows, all in "
            "[0, 100]); converted to fractions."
        )
    return dropped


def _metrics_table(table: _Table, directions: Mapping[str, object] | None) -> pd.DataFrame:
    names = sorted({r.values["metric"] for r in table.parsed})
    frame = pd.DataFrame(
        {"metric": names, "higher_is_better": [metric_direction(m, directions) for m in names]}
    )
    return _cast(frame, "metrics", [])


def _flag_chance(
    table: _Table,
    datasets: pd.DataFrame,
    ctx: _Ctx,
    tolerance: float | None,
    known: Mapping[str, float] | None,
) -> None:
    classes = {str(d): float(n) for d, n in (known or {}).items() if not pd.isna(n)}
    classes.update(
        (d, float(n))
        for d, n in zip(datasets["dataset"], datasets["n_classes"], strict=True)
        if not pd.isna(n)
    )
    classes = {d: n for d, n in classes.items() if n >= 2}
    for r in table.parsed:
        n = classes.get(r.values["dataset"])
        if n is None or r.values["metric"] not in CHANCE_METRICS:
            continue
        chance = 1.0 / float(n)
        tol = min(0.01, 0.25 / float(n)) if tolerance is None else tolerance
        if abs(r.values["value"] - chance) <= tol:
            r.values["suspect"] = True
            key = f"{r.values['model']} -> {r.values['dataset']}"
            ctx.report.flag(
                Flag(
                    table.source,
                    r.row,
                    "records",
                    key,
                    f"{r.values['metric']} {r.values['value']:.4g} is at chance level "
                    f"1/{int(n)} = {chance:.4g} (tolerance {tol:.2g}): probably a failed run; "
                    "kept with suspect=True.",
                )
            )


# ---------------------------------------------------------------------------- frames
def _frame(name: str, rows: list[_Row], extras: list[str]) -> pd.DataFrame:
    cols = list(COLUMNS[name])
    data = [{**{c: r.values.get(c) for c in cols}, **r.extras} for r in rows]
    return _cast(pd.DataFrame(data, columns=cols + extras), name, extras)


def _cast(frame: pd.DataFrame, name: str, extras: list[str]) -> pd.DataFrame:
    dtypes: dict[str, str] = dict(COLUMNS[name])
    dtypes.update({c: "Float64" for c in extras})
    if name == "records":
        frame["suspect"] = frame["suspect"].astype("object").where(frame["suspect"].notna(), False)
    return frame.astype(dtypes).reset_index(drop=True)


def _concat(a: pd.DataFrame, b: pd.DataFrame, name: str) -> pd.DataFrame:
    if a.empty:
        return _cast(
            b.reindex(columns=list(a.columns)),
            name,
            [c for c in a.columns if c not in COLUMNS[name]],
        )
    b = b.reindex(columns=list(a.columns)).astype(a.dtypes.to_dict())
    return pd.concat([a, b], ignore_index=True)


def _preview(items: list[Any], limit: int = 8) -> str:
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")
