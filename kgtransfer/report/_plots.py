"""The report's figures as inline SVG strings (matplotlib, Agg backend, no files, no network)."""

from __future__ import annotations

import functools
import io
import re
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["evidence_svg", "gain_svg", "predicted_vs_actual_svg"]

_BLUE, _ORANGE, _GREY, _GREEN, _RED = "#3366aa", "#ee8833", "#999999", "#339955", "#cc3333"

# Ids are drawn literally: no mathtext (an id like "$\\frac$" would fail to parse, "$x^2$"
# would be typeset) and no LaTeX, whatever the user's rcParams say.
_LITERAL_TEXT: dict[RcKeyType, Any] = {"text.usetex": False, "text.parse_math": False}

F = TypeVar("F", bound=Callable[..., Any])


def _literal_text(func: F) -> F:
    """Run ``func`` with every text object it creates drawn literally."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with plt.rc_context(_LITERAL_TEXT):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _prefix_ids(svg: str, prefix: str) -> str:
    """Prefix element ids (and references to them) inside tags only, never in text."""

    def fix(tag: re.Match[str]) -> str:
        t = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', tag.group(0))
        t = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", t)
        return re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{prefix}-\1"', t)

    return re.sub(r"<[^<>]+>", fix, svg)


def _to_svg(fig: Figure, salt: str) -> str:
    """Render ``fig`` as an inline ``<svg>`` element (XML prolog and doctype removed)."""
    buf = io.StringIO()
    with plt.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none", **_LITERAL_TEXT}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    start = text.find("<svg")
    svg = text[start:] if start >= 0 else text
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    # element ids must be unique across the page: prefix them with the salt
    prefix = re.sub(r"[^A-Za-z0-9_-]", "_", salt)
    return _prefix_ids(svg, prefix)


@_literal_text
def predicted_vs_actual_svg(candidates: pd.DataFrame) -> str | None:
    """Predicted value (with its interval) against the measured value, every target.

    Returns None when no candidate has a measured value.
    """
    rows = candidates.dropna(subset=["predicted", "actual"])
    if rows.empty:
        return None
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    targets = list(dict.fromkeys(rows["target"]))
    cmap = plt.get_cmap("tab10")
    for i, target in enumerate(targets):
        part = rows[rows["target"] == target]
        low = (part["predicted"] - part["low"]).clip(lower=0).fillna(0)
        high = (part["high"] - part["predicted"]).clip(lower=0).fillna(0)
        ax.errorbar(
            part["actual"],
            part["predicted"],
            yerr=np.vstack([low.to_numpy(), high.to_numpy()]),
            fmt="o",
            ms=4,
            alpha=0.75,
            elinewidth=0.6,
            color=cmap(i % 10),
            label=_title(str(target), _LABEL_WIDTH),  # long ids cut: the legend fits
        )
    lo = float(min(rows["actual"].min(), rows["predicted"].min()))
    hi = float(max(rows["actual"].max(), rows["predicted"].max()))
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color=_GREY, lw=1, ls="--")
    ax.set_xlabel("measured")
    ax.set_ylabel("predicted (90 % interval)")
    ax.set_title("Predicted vs measured")
    if len(targets) <= 12:
        ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    return _to_svg(fig, "pva")


@_literal_text
def gain_svg(targets: list[dict[str, Any]], candidates: pd.DataFrame) -> str | None:
    """Per target: predicted gain of the recommended source over scratch (with its
    interval), the measured gain of that source, and of the best source in hindsight."""
    names, pred, err_lo, err_hi, actual, best = [], [], [], [], [], []
    for summary in targets:
        target = summary["target"]
        g = summary.get("predicted_gain")
        if g is None:
            continue
        rows = candidates[
            (candidates["target"] == target) & (candidates["model"] == summary.get("recommended"))
        ]
        scratch = summary.get("scratch")
        lo_v = float(rows["low"].iloc[0]) if len(rows) else np.nan
        hi_v = float(rows["high"].iloc[0]) if len(rows) else np.nan
        names.append(str(target))
        pred.append(float(g))
        if scratch is not None and np.isfinite(lo_v) and np.isfinite(hi_v):
            err_lo.append(max(float(g) - (lo_v - scratch), 0.0))
            err_hi.append(max((hi_v - scratch) - float(g), 0.0))
        else:
            err_lo.append(0.0)
            err_hi.append(0.0)
        a = summary.get("transfer_gain")
        if a is None and summary.get("recommended_actual") is not None and scratch is not None:
            a = float(summary["recommended_actual"]) - float(scratch)
        actual.append(np.nan if a is None else float(a))
        b = summary.get("best_actual")
        best.append(np.nan if b is None or scratch is None else float(b) - float(scratch))
    if not names:
        return None
    x = np.arange(len(names))
    width = 0.27
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(names) + 2), 4.0))
    ax.bar(
        x - width,
        pred,
        width,
        yerr=[err_lo, err_hi],
        color=_BLUE,
        label="predicted (recommended)",
        capsize=2,
    )
    if np.isfinite(actual).any():
        ax.bar(x, np.nan_to_num(actual), width, color=_ORANGE, label="measured (recommended)")
    if np.isfinite(best).any():
        ax.bar(x + width, np.nan_to_num(best), width, color=_GREEN, label="best in hindsight")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x)
    ax.set_xticklabels(
        [_title(n, _LABEL_WIDTH) for n in names], rotation=30, ha="right", fontsize=8
    )
    ax.set_ylabel("gain over scratch")
    ax.set_title("Gain over training from scratch")
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return _to_svg(fig, "gain")


_FONT = 8  # pt, node labels and legend
_LABEL_WIDTH = 28  # characters per label line before wrapping
_LABEL_LINES = 3
_BOX_PAD = 0.05  # inches around a label inside its box
_GAP_Y = 0.12  # inches between boxes of a column
_GAP_X = 0.75  # inches between columns (the edges run there)
_NODE_STYLE = {  # kind: (legend text, face colour, edge colour)
    "target": ("target dataset", "#f6d5d5", _RED),
    "model": ("candidate model (#rank, predicted)", "#d8e3f3", _BLUE),
    "base": ("base model", "#e6ecf6", "#7799cc"),
    "dataset": ("dataset (similarity to target)", "#d9efdf", _GREEN),
}
_EDGE_STYLE: dict[str, tuple[str, str, Any]] = {  # kind: (legend text, colour, line style)
    "recommended": ("recommended for the target", _BLUE, "solid"),
    "trained_on": ("trained on", _GREEN, "solid"),
    "derived_from": ("derived from", "#7799cc", "dashdot"),
    "similar": ("similar to the target", _ORANGE, "dashed"),
}


def _wrap_label(text: str) -> str:
    """``text`` on at most :data:`_LABEL_LINES` lines of :data:`_LABEL_WIDTH` characters
    (long ids break anywhere; a cut label ends with an ellipsis)."""
    lines = textwrap.wrap(text, _LABEL_WIDTH, break_long_words=True, break_on_hyphens=False) or [""]
    if len(lines) > _LABEL_LINES:
        lines = lines[:_LABEL_LINES]
        lines[-1] = lines[-1][: _LABEL_WIDTH - 1] + "…"
    return "\n".join(lines)


def _title(text: str, limit: int = 3 * _LABEL_WIDTH) -> str:
    """``text`` on one line, cut with an ellipsis past ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _evidence_nodes(
    target: str, rows: pd.DataFrame, context: dict[str, Any], k: int
) -> tuple[list[list[tuple[str, str, str]]], list[tuple[str, str, str]]]:
    """Columns of (node id, kind, label) — target | candidates | datasets and base
    models — and the edges (from, to, kind)."""
    t_node = f"dataset:{target}"
    top = rows.sort_values("rank", kind="stable").head(k)
    trained_on = dict(context.get("trained_on") or {})
    base_model = dict(context.get("base_model") or {})
    similarity = {}
    for nb in list(context.get("neighbours") or [])[:k]:
        if str(nb["dataset"]) != str(target):
            similarity[str(nb["dataset"])] = float(nb["similarity"])
    candidates: list[tuple[str, str, str]] = []
    right: dict[str, tuple[str, str, str]] = {}
    edges: list[tuple[str, str, str]] = []
    for _, row in top.iterrows():
        model = str(row["model"])
        m = f"model:{model}"
        rank = "" if pd.isna(row["rank"]) else f"#{int(row['rank'])} "
        pred = "" if pd.isna(row["predicted"]) else f" ({float(row['predicted']):.2f})"
        candidates.append((m, "model", rank + model + pred))
        edges.append((t_node, m, "recommended"))
        ds = trained_on.get(row["model"])
        if ds:
            right.setdefault(f"dataset:{ds}", (f"dataset:{ds}", "dataset", str(ds)))
            edges.append((m, f"dataset:{ds}", "trained_on"))
        base = base_model.get(row["model"])
        if base:
            b = f"model:{base}"
            if b not in {c[0] for c in candidates}:
                right.setdefault(b, (b, "base", str(base)))
            edges.append((m, b, "derived_from"))
    for ds in similarity:
        d = f"dataset:{ds}"
        right.setdefault(d, (d, "dataset", ds))
        edges.append((t_node, d, "similar"))
    right = {
        key: (node, kind, f"{label} (sim {similarity[label]:.2f})")
        if kind == "dataset" and label in similarity
        else (node, kind, label)
        for key, (node, kind, label) in right.items()
    }
    columns = [[(t_node, "target", str(target))], candidates, list(right.values())]
    return [c for c in columns if c], edges


def _evidence_figure(
    target: str, rows: pd.DataFrame, context: dict[str, Any], *, k: int = 5
) -> Figure:
    """The evidence figure: a layered layout (target | candidates | datasets and base
    models), every label in its own box (boxes never overlap, nothing is clipped),
    edges behind the boxes, and a legend of node and edge kinds."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

    columns, edges = _evidence_nodes(target, rows, context, k)
    fig = plt.figure(figsize=(6.4, 4.0))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.axis("off")
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    texts: dict[str, Any] = {}
    sizes: dict[str, tuple[float, float]] = {}
    for column in columns:
        for node, _, label in column:
            t = ax.text(0, 0, _wrap_label(label), fontsize=_FONT, va="center", ha="left")
            box = t.get_window_extent(renderer)
            texts[node] = t
            sizes[node] = (box.width / fig.dpi, box.height / fig.dpi)
    widths = [max(sizes[n][0] for n, _, _ in c) + 2 * _BOX_PAD for c in columns]
    heights = [sum(sizes[n][1] + 2 * _BOX_PAD + _GAP_Y for n, _, _ in c) for c in columns]
    title_h, legend_h, margin = 0.35, 0.75, 0.1
    width = max(sum(widths) + _GAP_X * (len(columns) - 1) + 2 * margin, 6.4)
    height = max(heights) + title_h + legend_h + 2 * margin
    fig.set_size_inches(width, height)
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    x = (width - sum(widths) - _GAP_X * (len(columns) - 1)) / 2
    anchors: dict[str, tuple[float, float, float]] = {}  # node: (left, right, y)
    body_top = height - margin - title_h
    for column, col_w, col_h in zip(columns, widths, heights, strict=True):
        y = body_top - (max(heights) - col_h) / 2
        for node, kind, _ in column:
            h = sizes[node][1] + 2 * _BOX_PAD
            y -= _GAP_Y / 2
            _, face, edge = _NODE_STYLE[kind]
            ax.add_patch(
                FancyBboxPatch(
                    (x, y - h),
                    col_w,
                    h,
                    boxstyle="round,pad=0,rounding_size=0.04",
                    facecolor=face,
                    edgecolor=edge,
                    lw=1.6 if kind == "target" else 0.9,
                    zorder=2,
                )
            )
            texts[node].set_position((x + _BOX_PAD, y - h / 2))
            texts[node].set_zorder(3)
            anchors[node] = (x, x + col_w, y - h / 2)
            y -= h + _GAP_Y / 2
        x += col_w + _GAP_X
    for u, v, kind in edges:
        if u not in anchors or v not in anchors:
            continue
        (ul, ur, uy), (vl, vr, vy) = anchors[u], anchors[v]
        start, end = ((ur, uy), (vl, vy)) if ur <= vl else ((ul, uy), (vr, vy))
        if ur > vl and vr > ul:  # same column: bow out to the right
            start, end = (ur, uy), (vr, vy)
        _, color, style = _EDGE_STYLE[kind]
        rad = 0.25 if kind == "similar" else (0.6 if start[0] == end[0] else 0.0)
        ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                arrowstyle="-",
                connectionstyle=f"arc3,rad={rad}",
                color=color,
                linestyle=style,
                lw=1.1,
                zorder=1,
            )
        )
    ax.text(
        width / 2,
        height - margin - title_h / 2,
        _title(f"Evidence around {' '.join(str(target).split())}"),
        fontsize=9,
        ha="center",
        va="center",
    )
    kinds = {kind for column in columns for _, kind, _ in column}
    edge_kinds = {kind for _, _, kind in edges}
    handles: list[Any] = [
        Patch(facecolor=face, edgecolor=edge, label=text)
        for kind, (text, face, edge) in _NODE_STYLE.items()
        if kind in kinds
    ]
    handles += [
        Line2D([], [], color=color, linestyle=style, label=text)
        for kind, (text, color, style) in _EDGE_STYLE.items()
        if kind in edge_kinds
    ]
    ax.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, margin / height),
        bbox_transform=fig.transFigure,
        ncol=2 if width < 7.5 else 3,
        fontsize=_FONT,
        frameon=False,
    )
    return fig


@_literal_text
def evidence_svg(
    target: str, rows: pd.DataFrame, context: dict[str, Any], *, k: int = 5, index: int = 0
) -> str:
    """The evidence subgraph around ``target``: its top-``k`` candidates, what they were
    trained on and derived from, and the target's nearest datasets (similarity edges),
    in a layered layout with a legend (see :func:`_evidence_figure`)."""
    return _to_svg(_evidence_figure(target, rows, context, k=k), f"ev{index}")
