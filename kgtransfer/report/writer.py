"""Batch reports over many targets: HTML page, tidy CSV, JSON and a Markdown summary."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from kgtransfer.errors import ErrorMode
from kgtransfer.report._escape import csv_frame, csv_unescape, markdown_text
from kgtransfer.report._html import (
    LOW_CONFIDENCE_BADGE,
    NEGATIVE_BADGE,
    baseline_note,
    confidence_note,
    render_html,
)
from kgtransfer.report._io import write_text_atomic
from kgtransfer.report._rows import (
    CANDIDATE_COLUMNS,
    TARGET_FIELDS,
    ReportData,
    ReportItem,
    collect_report_data,
    labelled,
    low_confidence,
    plain,
)

__all__ = ["FORMATS", "REPORT_FORMAT", "read_report", "write_report"]

#: Output formats and their file names inside ``out_dir``.
FORMATS: dict[str, str] = {
    "html": "report.html",
    "csv": "candidates.csv",
    "json": "report.json",
    "md": "report.md",
}
#: Version tag of the JSON layout.
REPORT_FORMAT = "kgtransfer.report/1"


def _summary_frame(targets: list[dict[str, Any]]) -> pd.DataFrame:
    """The per-target summaries as a frame; keys whose values are all whole numbers
    (None allowed) become ``Int64`` columns, so a rank or a count is written ``23``,
    never ``23.0``."""
    frame = pd.DataFrame([dict(t) for t in targets])
    for col in frame.columns:
        values = [t.get(col) for t in targets if t.get(col) is not None]
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            frame[col] = pd.array([t.get(col) for t in targets], dtype="Int64")
    return frame


def _csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV, text cells neutralised against formula injection (numbers kept)."""
    buf = io.StringIO()
    csv_frame(frame).to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def _json(data: ReportData, *, title: str, meta: dict[str, Any]) -> str:
    targets = []
    for summary in data.targets:
        rows = data.candidates[data.candidates["target"] == summary["target"]]
        entry = dict(summary)
        entry["candidates"] = [
            {k: plain(v) for k, v in row.items() if k != "target"}
            for row in rows.to_dict("records")
        ]
        context = data.contexts.get(str(summary["target"]))
        if context:
            entry["context"] = plain(context)
        targets.append(entry)
    doc = {
        "format": REPORT_FORMAT,
        "title": title,
        "meta": plain(meta),
        "columns": list(data.candidates.columns),
        "targets": targets,
        "problems": list(data.problems),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return markdown_text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return markdown_text(value)


def _gain(value: Any) -> str:
    """A gain over scratch; a negative one carries the negative-transfer flag in words."""
    value = plain(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        return f"{_fmt(float(value))} {NEGATIVE_BADGE}"
    return _fmt(value)


def _predicted(value: Any, why: Any) -> str:
    """A predicted value; a low-confidence one carries the flag in words."""
    return f"{_fmt(value)} {LOW_CONFIDENCE_BADGE}" if why else _fmt(value)


def _markdown(data: ReportData, *, title: str, meta: dict[str, Any], k: int) -> str:
    md = markdown_text
    lines = [f"# {md(title)}", ""]
    lines += [f"- {md(key)}: {md(value)}" for key, value in meta.items() if value is not None]
    lines.append("")
    if data.problems:
        lines += ["## Problems", ""] + [f"- {md(p)}" for p in data.problems] + [""]
    cols = labelled(
        ("target", "recommended", "recommended_predicted", "recommended_actual", "scratch",
         "predicted_gain", "risk", "transfer_gain", "best_in_hindsight", "regret")
    )  # fmt: skip
    cols = [(c, label) for c, label in cols if any(t.get(c) is not None for t in data.targets)]
    lines += ["## Summary", ""]
    lines.append("| " + " | ".join(label for _, label in cols) + " |")
    lines.append("|" + "---|" * len(cols))
    for t in data.targets:
        cells = [
            _gain(t.get(c))
            if c == "transfer_gain"
            else _predicted(t.get(c), t.get("low_confidence_why"))
            if c == "recommended_predicted"
            else _fmt(t.get(c))
            for c, _ in cols
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", markdown_text(baseline_note(data.targets))]
    lines += ["", markdown_text(confidence_note())]
    lines.append("")
    for t in data.targets:
        rows = data.candidates[data.candidates["target"] == t["target"]].head(k)
        lines += [f"## {md(t['target'])}", ""]
        lines.append(
            "| rank | model | predicted | interval | measured | measured gain | evidence |"
        )
        lines.append("|---|---|---|---|---|---|---|")
        for row in rows.to_dict("records"):
            interval = f"[{_fmt(plain(row['low']))}, {_fmt(plain(row['high']))}]"
            rank = plain(row["rank"])
            why = low_confidence(row.get("risk"), row.get("low"), row.get("high"))
            lines.append(
                f"| {'–' if rank is None else int(rank)} | {_fmt(row['model'])} "
                f"| {_predicted(plain(row['predicted']), why)} | {interval} | {_fmt(plain(row['actual']))} "
                f"| {_gain(row['actual_gain'])} | {_fmt(row['evidence'])} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_report(
    rows_or_recommendations: ReportItem | Iterable[ReportItem],
    out_dir: str | Path,
    *,
    formats: Sequence[str] = ("html", "csv", "json", "md"),
    title: str = "kgtransfer recommendations",
    summaries: Iterable[Mapping[str, object]] | pd.DataFrame | None = None,
    k: int = 10,
    plots: bool = True,
    meta: Mapping[str, object] | None = None,
    errors: ErrorMode = "raise",
) -> dict[str, Path]:
    """Write a batch report over many targets.

    Per target the report shows the top-``k`` candidates with predicted value and
    interval, the evidence, the predicted gain over scratch and its risk, and the
    measured value where the graph has ground truth. The HTML page is
    self-contained (inline CSS, a small sort script, inline SVG plots: predicted
    vs measured, gain over scratch, the evidence subgraph around each target).
    ``candidates.csv`` is tidy (one row per target × candidate, no index),
    ``report.json`` holds the same rows nested per target with each target's
    summary, ``report.md`` a Markdown summary, and ``targets.csv`` one row per
    target (written with ``csv``). Every file is written atomically.

    Ids are treated as untrusted text: in the CSV files a text cell a spreadsheet
    could run as a formula (starting with ``= + - @``, tab or CR) gets a leading
    ``'`` (as does text already starting with ``'``; :func:`read_report` strips it,
    numeric columns stay numbers), Markdown cells are escaped (no raw HTML, no
    table-breaking ``|`` or newline), HTML is escaped and figures draw ids literally.

    Args:
        rows_or_recommendations: :class:`~kgtransfer.api.Recommendation` objects, a
            DataFrame with at least ``target, model, predicted`` (also ``rank, score,
            low, high, scratch, predicted_gain, risk, actual, actual_gain,
            evidence``; extra columns are kept), or dicts with those keys.
        out_dir: Folder to write into (created if missing).
        formats: Any of ``"html", "csv", "json", "md"``.
        title: Page title.
        summaries: Extra per-target facts (dicts with a ``target`` key), e.g. the
            outcome of a transfer (``Evaluation.summary()``: ``transfer_source,
            transfer_method, transfer_value, transfer_scratch, ...``). One scratch
            baseline per target: ``transfer_gain`` is recomputed as ``transfer_value -
            scratch`` with the target's ``scratch`` (the transfer's own scratch run
            stays in ``transfer_scratch``, its gain in ``transfer_gain_paired``), and
            ``transfer_source_rank`` is the source's place among the candidates
            (``transfer_ranked_among``). A negative gain is flagged in words
            (``▼ negative transfer``) in HTML and Markdown.
        k: Candidates shown per target in HTML/Markdown (CSV/JSON hold all rows).
        plots: Draw the figures (HTML only).
        meta: Facts shown under the title and stored in JSON (seed, versions, ...).
        errors: What to do with an unusable item: ``"raise"``; ``"warn"`` (a
            ``UserWarning``, the item is listed under *Problems* in every format);
            ``"collect"`` (listed only).

    Returns:
        ``{format: path}`` of the files written (``"targets_csv"`` too with csv).

    Raises:
        ValueError: Unknown format, malformed rows (``errors="raise"``) or nothing
            to report.

    Example:
        >>> import tempfile, pandas as pd
        >>> rows = pd.DataFrame({"target": ["t", "t"], "model": ["a", "b"],
        ...                      "predicted": [0.8, 0.7], "actual": [0.75, 0.78]})
        >>> paths = write_report(rows, tempfile.mkdtemp(), formats=("csv", "json"))
        >>> read_report(paths["csv"])["model"].tolist()
        ['a', 'b']
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"Unknown report format(s) {unknown}; choose from {sorted(FORMATS)}.")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k!r}.")
    data = collect_report_data(rows_or_recommendations, summaries=summaries, errors=errors)
    info: dict[str, Any] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "targets": len(data.targets),
        "candidates": len(data.candidates),
    }
    info.update(dict(meta or {}))
    out = Path(out_dir)
    paths: dict[str, Path] = {}
    for fmt in dict.fromkeys(formats):
        path = out / FORMATS[fmt]
        if fmt == "csv":
            write_text_atomic(path, _csv(data.candidates))
            summary = _summary_frame(data.targets)
            first = [c for c in TARGET_FIELDS if c in summary.columns]
            summary = summary[first + [c for c in summary.columns if c not in first]]
            paths["targets_csv"] = write_text_atomic(out / "targets.csv", _csv(summary))
        elif fmt == "json":
            write_text_atomic(path, _json(data, title=title, meta=info))
        elif fmt == "md":
            write_text_atomic(path, _markdown(data, title=title, meta=info, k=k))
        else:
            write_text_atomic(path, render_html(data, title=title, meta=info, k=k, plots=plots))
        paths[fmt] = path
    return paths


def read_report(path: str | Path) -> pd.DataFrame:
    """Read a report's candidate rows back from ``candidates.csv`` or ``report.json``.

    Returns:
        One row per (target, candidate); columns as written (the canonical
        :data:`~kgtransfer.report.CANDIDATE_COLUMNS` first).

    Raises:
        ValueError: ``path`` is not a report CSV/JSON (wrong format tag or columns).

    Example:
        >>> import tempfile, pandas as pd
        >>> rows = pd.DataFrame({"target": ["t"], "model": ["a"], "predicted": [0.8]})
        >>> paths = write_report(rows, tempfile.mkdtemp(), formats=("json",))
        >>> read_report(paths["json"])[["target", "model", "predicted"]].values.tolist()
        [['t', 'a', 0.8]]
        >>> other = paths["json"].with_name("other.json")
        >>> _ = other.write_text('{"format": "something else"}')
        >>> read_report(other)
        Traceback (most recent call last):
        ...
        ValueError: '...other.json' is not a kgtransfer report (format tag 'something else', ...
    """
    path = Path(path)
    if path.suffix == ".json":
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != REPORT_FORMAT:
            raise ValueError(
                f"{str(path)!r} is not a kgtransfer report (format tag "
                f"{doc.get('format') if isinstance(doc, dict) else None!r}, expected "
                f"{REPORT_FORMAT!r})."
            )
        rows = [
            {"target": t["target"], **c} for t in doc["targets"] for c in t.get("candidates", [])
        ]
        frame = pd.DataFrame(rows, columns=doc.get("columns"))
    else:
        text_cols = {"target": str, "model": str, "evidence": str}
        frame = pd.read_csv(path, dtype=text_cols)
        # undo the formula-injection guard of write_report (one leading "'")
        frame.columns = [csv_unescape(c) for c in frame.columns]
        for col in frame.columns:
            if pd.api.types.is_object_dtype(frame[col]) or pd.api.types.is_string_dtype(frame[col]):
                frame[col] = frame[col].map(csv_unescape)
        missing = [c for c in ("target", "model", "predicted") if c not in frame.columns]
        if missing:
            raise ValueError(
                f"{str(path)!r} lacks report column(s) {missing}; pass a candidates.csv "
                "written by write_report."
            )
    evidence = frame["evidence"].astype(object)
    frame["evidence"] = evidence.where(evidence.notna(), "").astype(str)
    for col in ("target", "model"):
        frame[col] = frame[col].astype(str)
    numeric = [c for c in CANDIDATE_COLUMNS if c not in ("target", "model", "evidence")]
    for col in numeric:
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    if "rank" in frame.columns:
        frame["rank"] = frame["rank"].round().astype("Int64")
    return frame
