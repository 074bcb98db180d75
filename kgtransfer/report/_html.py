"""The self-contained HTML page, rendered from a Jinja2 template with autoescaping on.

The template (``templates/report.html.j2``) holds the inline CSS and the small sort
script; figures are inline SVG. Ids are hostile text: everything but the figures goes
through Jinja2's HTML escaping.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from kgtransfer.kg.tables import is_na
from kgtransfer.report._rows import (
    LOW_CONFIDENCE_RISK,
    LOW_CONFIDENCE_WIDTH,
    ReportData,
    labelled,
    low_confidence,
)

__all__ = [
    "LOW_CONFIDENCE_BADGE",
    "NEGATIVE_BADGE",
    "baseline_note",
    "confidence_note",
    "render_html",
]

#: Text of the badge beside a gain below scratch (HTML and Markdown).
NEGATIVE_BADGE = "▼ negative transfer"
_NEGATIVE_TITLE = "below the scratch baseline: this transfer lost to training from scratch"
#: Text of the badge beside a low-confidence prediction (rule: :func:`confidence_note`).
LOW_CONFIDENCE_BADGE = "◆ low confidence"
#: The cell of a row that carries its low-confidence badge.
_PREDICTED_COLUMNS = ("predicted", "recommended_predicted")
#: Columns whose negative value is a negative transfer (flagged with a badge).
_GAIN_COLUMNS = frozenset({"transfer_gain", "actual_gain"})

_CANDIDATE_HEAD = labelled(
    ("rank", "model", "predicted", "low", "high", "predicted_gain", "risk", "actual",
     "actual_gain", "evidence")
)  # fmt: skip
_SUMMARY_HEAD = labelled(
    ("target", "kind", "recommended", "recommended_predicted", "recommended_actual", "scratch",
     "predicted_gain", "risk", "transfer_method", "transfer_value", "transfer_gain",
     "transfer_source_rank", "best_in_hindsight", "best_actual", "regret")
)  # fmt: skip
#: Columns of ids (long, hostile text): they may break anywhere to fit the page.
_ID_COLUMNS = frozenset({"target", "model", "recommended", "best_in_hindsight", "transfer_source"})
#: Facts listed under each target's heading.
_FACT_KEYS = (
    "kind",
    "scratch",
    "scratch_source",
    "neighbours",
    "best_in_hindsight",
    "transfer_scratch",
    "transfer_gain_paired",
    "note",
)
_INT_COLUMNS = frozenset({"rank", "transfer_source_rank", "n_candidates"})


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=True,  # every value is escaped unless it is Markup (the SVG figures)
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("report.html.j2")


def _cell(col: str, value: Any) -> dict[str, Any]:
    """One table cell: its text, classes, sort value and negative-transfer badge."""
    if is_na(value):
        return {"text": "–", "cls": "num muted", "v": "", "badge": None}
    if isinstance(value, tuple):  # (rank, out of): "3 of 22", sorted by the rank
        return {
            "text": f"{value[0]} of {value[1]}",
            "cls": "num",
            "v": str(value[0]),
            "badge": None,
        }
    if col in _INT_COLUMNS and isinstance(value, (int, float)) and not isinstance(value, bool):
        whole = int(value)
        return {"text": str(whole), "cls": "num", "v": str(whole), "badge": None}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
        cell: dict[str, Any] = {"text": f"{number:.3f}", "cls": "num", "v": repr(number)}
        cell["badge"] = None
        if col in _GAIN_COLUMNS and number < 0:
            cell.update(
                cls="num neg", badge=NEGATIVE_BADGE, badge_title=_NEGATIVE_TITLE, badge_cls="neg"
            )
        return cell
    cls = "evidence" if col == "evidence" else "id" if col in _ID_COLUMNS else None
    return {"text": str(value), "cls": cls, "v": None, "badge": None}


def _table(
    rows: list[dict[str, Any]], head: list[tuple[str, str]], table_id: str
) -> dict[str, Any]:
    out = []
    for row in rows:
        cells = [_cell(c, row.get(c)) for c, _ in head]
        classes = []
        if row.get("rank") == 1:
            classes.append("top")
        if any(c.get("badge") for c in cells) or row.get("negative_transfer") is True:
            classes.append("negative")
        why = row.get("low_confidence_why")
        if "low_confidence_why" not in row:  # a candidate row: its own interval and risk
            why = low_confidence(row.get("risk"), row.get("low"), row.get("high"))
        if why:
            for cell, (col, _) in zip(cells, head, strict=True):
                if col in _PREDICTED_COLUMNS and cell.get("v") != "" and not cell.get("badge"):
                    cell.update(badge=LOW_CONFIDENCE_BADGE, badge_title=why, badge_cls="low")
                    classes.append("lowconf")
        out.append({"cells": cells, "cls": " ".join(classes)})
    return {"id": table_id, "head": [label for _, label in head], "rows": out}


def _summary_table(targets: list[dict[str, Any]]) -> dict[str, Any]:
    head = [(k, label) for k, label in _SUMMARY_HEAD if any(t.get(k) is not None for t in targets)]
    rows = []
    for t in targets:
        row = dict(t)
        rank, among = t.get("transfer_source_rank"), t.get("transfer_ranked_among")
        if rank is not None and among is not None:
            row["transfer_source_rank"] = (int(rank), int(among))
        rows.append(row)
    return _table(rows, head, "summary")


def confidence_note() -> str:
    """The low-confidence rule, said under the summary (HTML and Markdown)."""
    return (
        f"{LOW_CONFIDENCE_BADGE}: the recommender gives the transfer a probability of "
        f"{LOW_CONFIDENCE_RISK:.2f} or more of losing to scratch (P(gain<0)), or its 90 % "
        f"interval is {LOW_CONFIDENCE_WIDTH:.2f} or more wide; measure before you rely on it."
    )


def baseline_note(targets: list[dict[str, Any]]) -> str:
    note = (
        "Gains are over one scratch baseline per target: its scratch column (the graph's "
        "measured scratch, or the neighbours' estimate)"
    )
    if any(t.get("transfer_gain_paired") is not None for t in targets):
        note += "; a transfer's gain over its own scratch run is listed under the target"
    return note + "."


def render_html(
    data: ReportData, *, title: str, meta: dict[str, Any], k: int, plots: bool = True
) -> str:
    """The whole report as one HTML string (no external resources)."""
    figures: list[Markup] = []
    if plots:  # matplotlib (~0.5 s at start-up) is imported only to draw figures
        from kgtransfer.report._plots import evidence_svg, gain_svg, predicted_vs_actual_svg

        drawn = [predicted_vs_actual_svg(data.candidates), gain_svg(data.targets, data.candidates)]
        figures = [Markup(f) for f in drawn if f]  # matplotlib escapes the text it draws
    sections = []
    for i, summary in enumerate(data.targets):
        target = summary["target"]
        rows = data.candidates[data.candidates["target"] == target]
        facts = []
        for key in _FACT_KEYS:
            value = summary.get(key)
            if value is not None:
                shown = f"{value:.3f}" if isinstance(value, float) else str(value)
                label = key.replace("_", " ")
                if key == "transfer_gain_paired":
                    label = "transfer gain over its own scratch run"
                facts.append(f"{label}: {shown}")
        figure = None
        if plots and len(rows):
            ctx = data.contexts.get(str(target), {})
            figure = Markup(evidence_svg(str(target), rows, ctx, index=i))
        sections.append(
            {
                "target": str(target),
                "facts": facts,
                "table": _table(
                    rows.head(k).to_dict("records"), _CANDIDATE_HEAD, f"candidates-{i}"
                ),
                "figure": figure,
            }
        )
    meta_line = " · ".join(f"{key}: {value}" for key, value in meta.items() if value is not None)
    return _template().render(
        title=title,
        meta_line=meta_line,
        problems=list(data.problems),
        summary=_summary_table(data.targets),
        baseline_note=baseline_note(data.targets),
        confidence_note=confidence_note(),
        figures=figures,
        sections=sections,
    )
