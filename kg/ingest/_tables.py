"""Validate and normalise user tables (CSV files or DataFrames) into :class:`ZooTables`."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import pandas as pd

from kgtransfer.errors import ErrorMode, IngestError, check_error_mode
from kgtransfer.kg.regime import REGIME_COLUMNS
from kgtransfer.kg.tables import COLUMNS, ZooTables

from ._cells import CellError, as_bool, as_float, as_int, as_str, is_missing
from ._csv import read_csv_text
from ._metrics import CHANCE_METRICS, FRACTION_METRICS, KNOWN_METRICS, MetricSpec, metric_spec
from ._report import Flag, IngestReport, Rejection
from ._rules import (
    LineageGraph,
    LineageLookup,
    column_problem,
    declared_metrics,
    extra_problem,
)

__all__ = ["RELATIONS", "ROW_COLUMN", "TableInput", "normalize_tables"]

TableInput: TypeAlias = str | os.PathLike[str] | pd.DataFrame | None
#: Ids known elsewhere: a list or set, or a container answering ``id in known`` (looked
#: up on demand, e.g. :class:`kgtransfer.kg._known.StoreIds`; never listed).
KnownIds: TypeAlias = Iterable[str] | Container[str]
#: Lineage known elsewhere: ``(model, base_model)`` edges, or a
#: :class:`~kgtransfer.kg.ingest._rules.LineageLookup` asked per model (never listed).
KnownLineage: TypeAlias = Iterable[tuple[str, str]] | LineageLookup

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
    # a record's identity: what was measured, by which run, in which regime
    "records": ("model", "dataset", "metric", "seed", "run", *REGIME_COLUMNS),
    "similarities": ("dataset_a", "dataset_b", "method"),
    "scores": ("model", "dataset", "estimator"),
}
# Input-only columns (not in the canonical table) and their kind.
_INPUT_ONLY = {"models": {"base_model": "list", "base_model_relation": "string"}}
_LOWER = {"metric", "method", "estimator"}
#: Lineage relations (Hugging Face ``base_model_relation`` values).
RELATIONS = frozenset({"finetune", "adapter", "merge", "quantized"})  # compared case-insensitively
_UNNAMED = re.compile(r"^Unnamed: \d+$")
#: Text read as "unknown" in an optional numeric or boolean cell (as pandas does);
#: never in an id or text column, where ``"NA"`` or ``"None"`` is a name.
_NA_TEXT = frozenset({"na", "n/a", "nan", "-nan", "null", "none", "<na>", "#n/a", "nat"})
_NUMERIC_KINDS = frozenset({"Float64", "Int64", "boolean"})


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
    #: ``(row, text, reason)`` of CSV rows that could not be split into the header's fields.
    malformed: list[tuple[int, str, str]] = field(default_factory=list)


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
    known_models: KnownIds = (),
    known_datasets: KnownIds = (),
    source: str | Mapping[str, str] | None = None,
    metric_directions: Mapping[str, object] | None = None,
    create_missing: bool = False,
    chance_tolerance: float | None = None,
    known_n_classes: Mapping[str, float] | None = None,
    metrics: TableInput = None,
    known_metrics: Mapping[str, Any] | None = None,
    known_lineage: KnownLineage = (),
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
    An error metric (rmse, mae, ...) whose values
    are all <= 0 is read as a negated error and renamed ``neg_<metric>``
    (higher is better). Records within a tolerance of chance level
    (``1 / n_classes`` of the dataset, when known) are kept with
    ``suspect=True`` and listed in ``report.flagged``.

    What is refused (a rejection naming source, row, column, value and fix):

    - **Non-finite numbers**: NaN or infinity in any numeric cell. An empty
      optional cell (or ``NA``/``nan`` text in an optional numeric cell, or NaN
      in a DataFrame) means unknown; a required ``value`` must be finite.
    - **Unknown metrics**: a record's metric must be built in
      (:data:`~kgtransfer.kg.ingest.KNOWN_METRICS`, or ``neg_<metric>``) or
      declared with its direction and range, by ``metric_directions`` (e.g.
      ``{"bleu4": ("higher", 0, 100)}``) or a row of the ``metrics`` table.
    - **Values out of range**: fraction metrics (accuracy, f1, ...) in [0, 1]
      after the percent rule; correlations in [-1, 1]; errors >= 0; declared
      metrics in their declared range. Counts (``n_params``, ``n_labels``,
      ``n_samples``, ``n_classes``) are whole numbers >= 0; ``similarity`` is
      in [-1, 1] (higher = closer) and ``distance`` >= 0 (lower = closer); a
      dataset is never paired with itself.
    - **Unknown references**: records, scores and similarities naming a model
      or dataset defined nowhere (unless ``create_missing=True``).
    - **Lineage cycles**: a ``base_model`` that makes a model its own ancestor
      (``A -> A``, ``A -> B -> A``, longer), counting ``known_lineage``.
    - **Malformed CSV rows**: a row with more or fewer fields than the header
      (its line number is named; surplus fields never shift into an index).

    Ids are text: a CSV is read as text (``1`` stays ``"1"``, ``NA`` is a name),
    and a number in a DataFrame id column is written without a float round trip
    (``1`` and ``1.0`` both give ``"1"``).

    The percent rule: per table and fraction metric, if at least two values are
    in (1, 100], the metric is read as percent and its values in [0, 100]
    divided by 100 (the others are out of range, rejected); each such
    conversion is listed in ``report.warnings`` (source, metric, rows) as well
    as ``report.notes``. Values in (0, 1] among values in (1, 100] are mixed
    scales: the smaller group is rejected (on a tie, the values above 1). A
    single value above 1 is never read as percent (``5.0`` as an accuracy is
    an error, not 0.05).

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
        known_models: Model ids that exist elsewhere (e.g. already in the graph): a
            list or set, or any container answering ``id in known_models`` (only the
            ids the tables reference are then looked up).
        known_datasets: Dataset ids that exist elsewhere (the same forms).
        source: Label used for DataFrame inputs in the report: a string
            replaces ``DataFrame`` in ``"<DataFrame records>"``; a mapping gives
            the label per table (also overriding file paths).
        metric_directions: Declarations of metrics not built in (or overriding
            them): a direction (``"higher"``/``True`` or ``"lower"``/``False``;
            range: any finite number, or the built-in range of a built-in
            metric), a ``(direction, low, high)`` tuple, or a mapping
            ``{"higher_is_better": ..., "min": ..., "max": ...}``.
        create_missing: Declare models/datasets referenced by records, scores or
            similarities but defined nowhere as new bare rows (noted) instead of
            rejecting those rows. Useful for a records-only table.
        chance_tolerance: Absolute distance to ``1 / n_classes`` under which a
            run counts as chance level; default ``min(0.01, 0.25 / n_classes)``.
        known_n_classes: ``n_classes`` of datasets defined elsewhere (e.g. already
            in the graph), used for the chance-level flags; this call's
            ``datasets`` table wins.
        metrics: Metric declarations as a table: ``metric``, ``higher_is_better``
            (true/false or higher/lower) and optional ``min``, ``max``.
            ``metric_directions`` wins over it.
        known_metrics: Metrics declared elsewhere (e.g. already in the graph):
            ``metric -> higher_is_better``, or a mapping with ``higher_is_better``,
            ``min`` and ``max`` (a declared range then holds here too); a bare
            direction keeps a built-in metric's range.
        known_lineage: ``(model, base_model)`` edges that exist elsewhere (e.g.
            in the graph): a new edge closing a cycle with them is rejected. Or a
            lookup with ``bases(model)`` and ``is_base(model)``
            (:class:`~kgtransfer.kg.ingest._rules.LineageLookup`), asked only about
            the models of the new edges and their ancestors.

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
    check_error_mode(errors)
    report = IngestReport()
    ctx = _Ctx(report, errors)
    declared, table_metrics = _declarations(
        metrics, metric_directions, known_metrics, source, report
    )
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
        out.models, out.lineage = _finish_models(loaded["models"], ctx, rejected_ids, known_lineage)
    if "datasets" in loaded:
        out.datasets = _finish_entities(loaded["datasets"], ctx, rejected_ids)

    model_ids = _Ids(out.models["model"].dropna(), known_models)
    dataset_ids = _Ids(out.datasets["dataset"].dropna(), known_datasets)
    created: dict[str, list[str]] = {"model": [], "dataset": []}
    refs = _RefCheck(ctx, model_ids, dataset_ids, rejected_ids, create_missing, created)

    if "records" in loaded:
        table = loaded["records"]
        _records_metrics(table, ctx, declared)
        refs.check(table, ("model", "dataset"))
        _dedupe(table, ctx)
        table_metrics |= {r.values["metric"] for r in table.parsed}
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

    if table_metrics:
        out.metrics = _metrics_table(table_metrics, declared)
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
        n_read = len(table.rows) + len(table.malformed)
        report.count(table.source, read=n_read, accepted=n_read - table.n_rejected)
    return out, report


# ---------------------------------------------------------------------------- loading
def _load(
    name: str,
    obj: Any,
    column_map: Mapping[str, Any] | None,
    source: str | Mapping[str, str] | None,
    report: IngestReport,
) -> _Table:
    malformed: list[tuple[int, str, str]] = []
    csv_rows: list[int] | None = None
    if isinstance(obj, pd.DataFrame):
        frame = obj.copy()
        label = f"<{source if isinstance(source, str) else 'DataFrame'} {name}>"
    elif isinstance(obj, (str, os.PathLike)):
        label = os.fspath(obj)
        text = read_csv_text(obj, name)  # every cell as written; ragged rows set aside
        frame, csv_rows = text.frame, text.rows
        malformed = [(row, line_text, reason) for row, _, line_text, reason in text.malformed]
        report.notes.extend(text.notes)
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
    elif csv_rows is not None:
        rows = csv_rows
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
        close = _near_column(str(col), known)
        bad = _first_non_numeric(frame[col])
        if bad is None:
            numeric_extras.append(col)
            if close:  # e.g. "Shots" for "shots": the record's regime would lose it
                report.warnings.append(
                    f"{label}: column {col!r} looks like the {name} column {close!r} but is "
                    "kept as a numeric attribute (column names are exact); rename it with "
                    f"column_map={{{name!r}: {{{str(col)!r}: {close!r}}}}} if it is that."
                )
        else:
            report.warnings.append(
                f"{label}: column {col!r} is not numeric (e.g. {bad!r}) and not a "
                f"{name} column; ignored. Map it with column_map or drop it."
            )
    return _Table(name, label, frame, rows, numeric_extras, malformed=malformed)


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


def _near_column(column: str, known: set[str]) -> str | None:
    """The canonical column ``column`` probably means (case, blanks, ``-``), or None.

    Example:
        >>> _near_column("N-Train", {"n_train", "shots"}), _near_column("gain", {"shots"})
        ('n_train', None)
    """
    key = column.strip().lower().replace("-", "_").replace(" ", "_")
    matches = [k for k in known if k == key or k == key.rstrip("s") or k.rstrip("s") == key]
    return matches[0] if len(matches) == 1 else None


def _first_non_numeric(col: pd.Series) -> Any:
    """First cell that is not a number; NaN/inf count as numbers (refused per row)."""
    for v in col:
        if is_missing(v) or _na_text(v):
            continue
        try:
            as_float(v)
        except CellError:
            if isinstance(v, (bool, list, tuple, dict)):
                return v
            try:
                float(str(v).strip().replace("_", ""))
            except ValueError:
                return v
    return None


def _na_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in _NA_TEXT


# ---------------------------------------------------------------------------- parsing
def _parse(table: _Table, ctx: _Ctx) -> None:
    for row, line_text, reason in table.malformed:
        ctx.reject(table, row, None, line_text, reason)
    spec = dict(COLUMNS[table.name])
    spec.update(_INPUT_ONLY.get(table.name, {}))
    required = set(_REQUIRED[table.name])
    cols = [c for c in table.frame.columns if c in spec]
    for row, raw in zip(
        table.rows, _records(table.frame, [*cols, *table.numeric_extras]), strict=True
    ):
        values, problem = _parse_values(table.name, raw, cols, spec, required)
        if problem is None:
            extras, problem = _parse_extras(raw, table.numeric_extras)
        if problem is not None:
            ctx.reject(table, row, *problem)
            continue
        if table.name == "records" and values.get("metric") is None:
            values["metric"] = "accuracy"
        if table.name == "similarities":
            if values.get("similarity") is None and values.get("distance") is None:
                ctx.reject(
                    table,
                    row,
                    "similarity",
                    None,
                    "row has neither a similarity nor a distance; give one.",
                )
                continue
            if values["dataset_a"] == values["dataset_b"]:
                ctx.reject(
                    table,
                    row,
                    "dataset_b",
                    values["dataset_b"],
                    "a dataset paired with itself: a similarity is between two different "
                    "datasets; drop the row.",
                )
                continue
        table.parsed.append(_Row(row, values, extras))


def _records(frame: pd.DataFrame, columns: list[str]) -> Iterable[dict[str, Any]]:
    """The rows of ``frame`` as dicts of the given columns (what ``to_dict("records")``
    gives, without boxing every cell of every other column)."""
    if not frame.columns.is_unique:
        return frame.to_dict("records")  # type: ignore[no-any-return]
    names = list(dict.fromkeys(columns))
    if not names:
        return ({} for _ in range(len(frame)))
    data = [frame[c].tolist() for c in names]
    return (dict(zip(names, cells, strict=True)) for cells in zip(*data, strict=True))


def _parse_values(
    name: str, raw: Mapping[str, Any], cols: list[str], spec: Mapping[str, str], required: set[str]
) -> tuple[dict[str, Any], tuple[str, Any, str] | None]:
    """Convert and check the canonical cells of one row: ``(values, problem)``."""
    values: dict[str, Any] = {}
    for col in cols:
        value = raw[col]
        kind = spec[col]
        if isinstance(value, (list, tuple)) and kind == "list":
            try:
                values[col] = [as_str(v) for v in value if not is_missing(v)] or None
            except CellError as exc:
                return values, (col, value, f"{exc} in column {col!r}; give base model ids.")
            continue
        unknown = is_missing(value) or (kind in _NUMERIC_KINDS and _na_text(value))
        if unknown:
            if col in required:
                blank = (
                    value is None
                    or value is pd.NA
                    or (isinstance(value, str) and not value.strip())
                )
                why = (
                    f"required column {col!r} is empty; every {name} row needs a {col}."
                    if blank
                    else f"{col} {value!r} is not a finite number; every {name} row needs a "
                    f"measured {col}: give it or drop the row."
                )
                return values, (col, value, why)
            values[col] = None
            continue
        try:
            values[col] = _convert(value, kind, col)
        except CellError as exc:
            fix = "fix it or drop the row" if col in required else "fix or empty it"
            return values, (col, value, f"{exc} in column {col!r}; {fix}.")
        if kind in ("Float64", "Int64"):
            problem = column_problem(name, col, values[col])
            if problem is not None:
                return values, (col, value, problem)
    return values, None


def _parse_extras(
    raw: Mapping[str, Any], columns: list[str]
) -> tuple[dict[str, float], tuple[str, Any, str] | None]:
    extras: dict[str, float] = {}
    for col in columns:
        value = raw[col]
        if is_missing(value) or _na_text(value):
            extras[col] = float("nan")
            continue
        try:
            extras[col] = as_float(value)
        except CellError:
            try:
                number = float(str(value).strip().replace("_", ""))
            except ValueError:
                number = math.nan
            return extras, (col, value, extra_problem(col, number) or "not a number")
    return extras, None


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
    table: _Table,
    ctx: _Ctx,
    rejected: dict[str, set[str]],
    known_lineage: KnownLineage,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    _dedupe(table, ctx)
    if isinstance(known_lineage, LineageLookup):
        graph = LineageGraph(known=known_lineage)
    else:
        graph = LineageGraph(known_lineage)
    _reject_cycles(table, ctx, graph)
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


def _reject_cycles(table: _Table, ctx: _Ctx, graph: LineageGraph) -> None:
    """Reject model rows whose base_model would make a model its own ancestor."""
    kept: list[_Row] = []
    for r in table.parsed:
        model = r.values["model"]
        bases = r.values.get("base_model") or []
        cycle = next((c for c in (graph.cycle(model, b) for b in bases) if c), None)
        if cycle is None:
            for base in bases:
                graph.add(model, base)
            kept.append(r)
            continue
        path = " -> ".join(repr(m) for m in cycle)
        what = (
            "a model cannot be its own base model"
            if len(cycle) == 2
            else f"lineage cycle {path} (each derived from the next)"
        )
        ctx.reject(
            table,
            r.row,
            "base_model",
            cycle[1],
            f"{what}; a model's ancestors never include itself. Fix base_model of "
            f"{model!r} (or of the model it names).",
        )
    table.parsed = kept


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
class _Ids:
    """This call's ids plus those known elsewhere (a set, or a container asked per id)."""

    def __init__(self, own: Iterable[str], known: KnownIds) -> None:
        self.own = set(own)
        self.known: Container[str] | None = None
        if isinstance(known, Iterable):
            self.own |= {str(k) for k in known}
        else:
            self.known = known

    def __contains__(self, id_: object) -> bool:
        return id_ in self.own or (self.known is not None and id_ in self.known)

    def add(self, id_: str) -> None:
        self.own.add(id_)


class _RefCheck:
    def __init__(
        self,
        ctx: _Ctx,
        models: _Ids,
        datasets: _Ids,
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
def _declarations(
    metrics: TableInput,
    directions: Mapping[str, object] | None,
    known: Mapping[str, object] | None,
    source: str | Mapping[str, str] | None,
    report: IngestReport,
) -> tuple[dict[str, MetricSpec], set[str]]:
    """Metric declarations (graph, metrics table, ``metric_directions``) and the
    names the metrics table declares."""
    rows: list[tuple[str, object]] = []
    if metrics is not None:
        table = _load_metrics(metrics, source, report)
        rows = [(r.values["metric"], r.values["declaration"]) for r in table.parsed]
    try:
        return declared_metrics(directions, rows, known), {name for name, _ in rows}
    except ValueError as exc:
        raise IngestError(f"{exc} See normalize_tables(metric_directions=...).") from exc


def _load_metrics(
    obj: TableInput, source: str | Mapping[str, str] | None, report: IngestReport
) -> _Table:
    """Read a metrics table (metric, higher_is_better, min, max): any bad row is an error."""
    if isinstance(obj, pd.DataFrame):
        frame = obj.copy()
        label = f"<{source if isinstance(source, str) else 'DataFrame'} metrics>"
        rows = list(range(1, len(frame) + 1))
    elif isinstance(obj, (str, os.PathLike)):
        label = os.fspath(obj)
        text = read_csv_text(obj, "metrics")
        if text.malformed:
            raise IngestError(f"{label}: {text.malformed[0][3]}")
        frame, rows = text.frame, text.rows
    else:
        raise IngestError(
            f"the metrics table must be a CSV path or a pandas DataFrame, got {type(obj).__name__}."
        )
    if isinstance(source, Mapping) and "metrics" in source:
        label = source["metrics"]
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in ("metric", "higher_is_better") if c not in frame.columns]
    if missing:
        raise IngestError(
            f"{label}: the metrics table lacks column(s) {missing}; it needs metric, "
            f"higher_is_better and optionally min, max; it has {list(frame.columns)}."
        )
    table = _Table("metrics", label, frame, rows, [])
    for row, raw in zip(rows, frame.to_dict("records"), strict=True):
        where = f"{label}, row {row}"
        if is_missing(raw["metric"]):
            raise IngestError(f"{where}: column 'metric' is empty; name the metric.")
        name = as_str(raw["metric"]).lower()
        hib = raw["higher_is_better"]
        try:
            direction: object = (
                hib.strip().lower()
                if isinstance(hib, str) and hib.strip().lower() in {"higher", "lower"}
                else as_bool(hib)
            )
        except CellError:
            raise IngestError(
                f"{where}, column 'higher_is_better': value {hib!r}: use true/false or "
                "higher/lower."
            ) from None
        bounds: dict[str, object] = {}
        for col in ("min", "max"):
            cell = raw.get(col)
            if cell is None or is_missing(cell) or _na_text(cell):
                continue
            try:
                bounds[col] = as_float(cell)
            except CellError as exc:
                raise IngestError(f"{where}, column {col!r}: value {cell!r}: {exc}.") from None
        declaration: object = {"higher_is_better": direction, **bounds} if bounds else direction
        table.parsed.append(_Row(row, {"metric": name, "declaration": declaration}))
    report.count(label, read=len(rows), accepted=len(rows))
    return table


def _records_metrics(table: _Table, ctx: _Ctx, declared: Mapping[str, MetricSpec]) -> None:
    """Check each record's metric: known or declared, percent rule, negated errors, range."""
    by_metric: dict[str, list[_Row]] = {}
    for r in table.parsed:
        by_metric.setdefault(r.values["metric"], []).append(r)
    dropped: set[int] = set()
    for metric, rows in by_metric.items():
        try:
            spec = metric_spec(metric, declared)
        except KeyError as exc:
            for r in rows:
                ctx.reject(table, r.row, "metric", metric, str(exc.args[0]))
                dropped.add(id(r))
            continue
        user_given = metric in declared and _overrides(metric, declared[metric])
        values = [r.values["value"] for r in rows]
        if metric in FRACTION_METRICS and (spec.low, spec.high) == (0.0, 1.0):
            dropped |= _percent(table, ctx, metric, rows)
        elif (
            not spec.higher_is_better
            and not user_given
            and metric in KNOWN_METRICS
            and all(v <= 0 for v in values)
            and any(v < 0 for v in values)
        ):
            for r in rows:
                r.values["metric"] = f"neg_{metric}"
            spec = metric_spec(f"neg_{metric}", declared)
            ctx.report.notes.append(
                f"{table.source}: all {len(rows)} values of {metric!r} are <= 0, read as "
                f"negated errors: metric renamed 'neg_{metric}' (higher is better)."
            )
        for r in rows:
            v = r.values["value"]
            if id(r) in dropped or spec.contains(v):
                continue
            ctx.reject(table, r.row, "value", v, _range_reason(metric, v, spec, user_given))
            dropped.add(id(r))
    table.parsed = [r for r in table.parsed if id(r) not in dropped]


def _overrides(metric: str, spec: MetricSpec) -> bool:
    """Whether a declaration differs from the built-in metric (or there is none)."""
    try:
        return metric_spec(metric) != spec
    except KeyError:
        return True


def _range_reason(metric: str, value: float, spec: MetricSpec, user_given: bool) -> str:
    where = f"{metric} {value!r} is outside its range {spec.describe()}"
    if user_given:
        return (
            f"{where} (as declared); fix the value, or the declaration (metric_directions "
            "or the metrics table) if the range is wrong."
        )
    if metric in FRACTION_METRICS:
        return (
            f"{where}: give fractions in [0, 1], or a whole column in percent (at least two "
            "values in (1, 100]). A single value above 1 is not read "
            "as percent."
        )
    if not spec.higher_is_better and value < 0 <= spec.low:
        return (
            f"{metric} cannot be negative while other {metric} values are "
            f"positive ({where}); store negated errors under metric 'neg_{metric}'."
        )
    return f"{where}; fix the value (or declare the metric with another range)."


def _percent(table: _Table, ctx: _Ctx, metric: str, rows: list[_Row]) -> set[int]:
    """The percent rule (see :func:`normalize_tables`); returns the rejected rows."""
    dropped: set[int] = set()
    pct = [r for r in rows if 1 < r.values["value"] <= 100]
    frac = [r for r in rows if 0 < r.values["value"] <= 1]
    if len(pct) < 2 and not frac:
        return dropped  # a single value above 1: the range check refuses it
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
        if majority is frac:
            return dropped
    if not pct:
        return dropped
    converted = [r for r in rows if id(r) not in dropped and 0 <= r.values["value"] <= 100]
    for r in converted:
        r.values["value"] = r.values["value"] / 100.0
    note_percent(
        ctx.report,
        table.source,
        metric,
        [r.row for r in converted],
        "values in [0, 100], at least two above 1; values outside [0, 100] are rejected",
    )
    return dropped


def note_percent(
    report: IngestReport, source: str, metric: str, rows: list[int], rule: str
) -> None:
    """List a percent conversion in ``report.warnings`` and ``report.notes`` (every path)."""
    report.notes.append(
        f"{source}: {metric} values are in percent ({len(rows)} rows); converted to fractions."
    )
    report.warnings.append(
        f"{source}: {metric} read as percent and divided by 100 in {len(rows)} row(s) "
        f"(rows {_preview(rows)}; {rule}). If they were not percent, fix the table."
    )


def _metrics_table(names: Iterable[str], declared: Mapping[str, MetricSpec]) -> pd.DataFrame:
    ordered = sorted(set(names))
    specs = [metric_spec(m, declared) for m in ordered]
    frame = pd.DataFrame(
        {
            "metric": ordered,
            "higher_is_better": [s.higher_is_better for s in specs],
            "min": [s.low if math.isfinite(s.low) else None for s in specs],
            "max": [s.high if math.isfinite(s.high) else None for s in specs],
        }
    )
    return _cast(frame, "metrics", [])


def _flag_chance(
    table: _Table,
    datasets: pd.DataFrame,
    ctx: _Ctx,
    tolerance: float | None,
    known: Mapping[str, float] | None,
) -> None:
    # this call's datasets table wins; ``known`` is asked only for the datasets named
    own = {
        str(d): float(n)
        for d, n in zip(datasets["dataset"], datasets["n_classes"], strict=True)
        if not pd.isna(n)
    }
    for r in table.parsed:
        if r.values["metric"] not in CHANCE_METRICS:
            continue
        n = own.get(r.values["dataset"])
        if n is None and known is not None:
            n = known.get(r.values["dataset"])
        if n is None or pd.isna(n) or float(n) < 2:
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
