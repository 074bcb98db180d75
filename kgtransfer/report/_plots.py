"""The report's figures as inline SVG strings (matplotlib, Agg backend, no files, no network)."""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt
import networkx as nx
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
            label=str(target),
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
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("gain over scratch")
    ax.set_title("Gain over training from scratch")
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    return _to_svg(fig, "gain")


@_literal_text
def evidence_svg(
    target: str, rows: pd.DataFrame, context: dict[str, Any], *, k: int = 5, index: int = 0
) -> str:
    """The evidence subgraph around ``target``: its top-``k`` candidates, what they were
    trained on and derived from, and the target's nearest datasets (similarity edges)."""
    g = nx.Graph()
    t_node = f"dataset:{target}"
    g.add_node(t_node, kind="target", label=str(target))
    top = rows.sort_values("rank", kind="stable").head(k)
    trained_on = dict(context.get("trained_on") or {})
    base_model = dict(context.get("base_model") or {})
    for _, row in top.iterrows():
        m = f"model:{row['model']}"
        g.add_node(m, kind="model", label=f"#{int(row['rank'])} {row['model']}")
        g.add_edge(m, t_node, kind="recommended", label=f"{row['predicted']:.2f}")
        ds = trained_on.get(row["model"])
        if ds:
            d = f"dataset:{ds}"
            if d not in g:
                g.add_node(d, kind="dataset", label=str(ds))
            g.add_edge(m, d, kind="trained_on", label="trained on")
        base = base_model.get(row["model"])
        if base:
            b = f"model:{base}"
            if b not in g:
                g.add_node(b, kind="base", label=str(base))
            g.add_edge(m, b, kind="derived_from", label="derived from")
    for nb in list(context.get("neighbours") or [])[:k]:
        d = f"dataset:{nb['dataset']}"
        if d == t_node:
            continue
        if d not in g:
            g.add_node(d, kind="dataset", label=str(nb["dataset"]))
        g.add_edge(t_node, d, kind="similar", label=f"sim {float(nb['similarity']):.2f}")
    pos = nx.spring_layout(g, seed=0, k=1.4 / max(np.sqrt(len(g)), 1.0))
    colors = {"target": _RED, "model": _BLUE, "base": "#7799cc", "dataset": _GREEN}
    edge_colors = {
        "recommended": _BLUE,
        "trained_on": _GREEN,
        "derived_from": "#7799cc",
        "similar": _ORANGE,
    }
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for kind, color in edge_colors.items():
        edges = [(u, v) for u, v, d in g.edges(data=True) if d["kind"] == kind]
        style = "dashed" if kind == "similar" else "solid"
        nx.draw_networkx_edges(
            g, pos, edgelist=edges, edge_color=color, style=style, ax=ax, width=1.2
        )
    for kind, color in colors.items():
        nodes = [n for n, d in g.nodes(data=True) if d["kind"] == kind]
        size = 520 if kind == "target" else 260
        nx.draw_networkx_nodes(g, pos, nodelist=nodes, node_color=color, node_size=size, ax=ax)
    nx.draw_networkx_labels(
        g, pos, labels={n: d["label"] for n, d in g.nodes(data=True)}, font_size=7, ax=ax
    )
    nx.draw_networkx_edge_labels(
        g,
        pos,
        edge_labels={
            (u, v): d["label"] for u, v, d in g.edges(data=True) if d["kind"] != "trained_on"
        },
        font_size=6,
        ax=ax,
    )
    ax.set_title(f"Evidence around {target}", fontsize=9)
    ax.axis("off")
    return _to_svg(fig, f"ev{index}")
