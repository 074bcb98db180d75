"""The public model-selection zoos the recommender is benchmarked on, by CLI name."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pandas as pd

from kgtransfer.errors import did_you_mean
from kgtransfer.kg.tables import ZooTables

from ._registry import get_recommender
from .evaluate import evaluate_recommender

__all__ = [
    "BENCHMARK_ZOOS",
    "PAPER_TARGETS",
    "load_benchmark_zoo",
    "markdown_table",
    "run_benchmark",
    "summary_table",
]

#: CLI zoo name -> (reader registered in ``kgtransfer.kg.ingest``, reader keyword arguments).
BENCHMARK_ZOOS: dict[str, tuple[str, dict[str, Any]]] = {
    "transfergraph-image": ("transfergraph", {"zoo": "image"}),
    "transfergraph-text": ("transfergraph", {"zoo": "text"}),
    "parc": ("parc", {}),
    "tllib": ("tllib", {}),
    "model-spider": ("model_spider", {}),
    "sfda-supervised_cnn": ("sfda", {"family": "supervised_cnn"}),
    "sfda-selfsupervised": ("sfda", {"family": "selfsupervised"}),
    "sfda-vit": ("sfda", {"family": "vit"}),
}

#: The 8 targets of the TransferGraph paper's tables (Li et al., ICDE 2024).
PAPER_TARGETS: dict[str, list[str]] = {
    "transfergraph-image": [
        "stanfordcars", "svhn", "caltech101", "pets",
        "cifar100", "flowers", "smallnorb_label_elevation", "dtd",
    ],
    "transfergraph-text": [
        "rotten_tomatoes", "tweet_eval/irony", "tweet_eval/sentiment", "tweet_eval/offensive",
        "tweet_eval/hate", "tweet_eval/emotion", "glue/cola", "glue/sst2",
    ],
}  # fmt: skip


def load_benchmark_zoo(name: str, shared: str | os.PathLike[str]) -> ZooTables:
    """Read benchmark zoo ``name`` (a key of :data:`BENCHMARK_ZOOS`) from folder ``shared``.

    Rows the reader rejects are collected, not fatal (the public tables have a few
    malformed rows); suspect records are kept and flagged, never learned from.
    """
    from kgtransfer.kg.ingest import read_benchmark

    if name not in BENCHMARK_ZOOS:
        raise did_you_mean(
            name,
            BENCHMARK_ZOOS,
            what="benchmark zoo",
            hint=f"Choose one of {sorted(BENCHMARK_ZOOS)}.",
        )
    reader, kwargs = BENCHMARK_ZOOS[name]
    tables, _ = read_benchmark(reader, shared, errors="collect", **kwargs)
    return tables


def run_benchmark(
    tables: ZooTables,
    methods: Sequence[str],
    *,
    targets: Sequence[str] | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    progress: bool = False,
    regime: str | None = "any",
) -> dict[str, Any]:
    """Evaluate each recommender in ``methods`` leave-one-target-out on ``tables``.

    Args:
        tables: The zoo.
        methods: Registry names (``gnn``, ``popularity``, ``similarity``, ``logme``).
        targets: Target datasets (default: every dataset with records on >= 3 models).
        params: Constructor parameters per method name.
        progress: tqdm bars on stderr.
        regime: Regime of the ground truth (see :func:`evaluate_recommender`): ``"any"``
            (default) = the best non-suspect run per (model, target), or one regime label.

    Returns:
        ``{method: evaluate_recommender(...) result}``; a method that cannot run on
        this zoo (e.g. ``logme`` without LogME scores) gets ``{"error": reason}``.
    """
    params = params or {}
    results: dict[str, Any] = {}
    for method in methods:
        get_recommender(method)  # unknown names fail before any work

        def factory(method: str = method) -> Any:
            return get_recommender(method, **params.get(method, {}))

        try:
            results[method] = evaluate_recommender(
                factory, tables, targets, progress=progress, regime=regime
            )
        except ValueError as exc:
            if method == "gnn":
                raise
            results[method] = {"error": str(exc).splitlines()[0]}
    return results


def summary_table(results: dict[str, Any], *, subset: str = "") -> pd.DataFrame:
    """One row per method: mean Pearson, weighted τ, top-1 relative, regret, coverage.

    ``subset="logme"`` reads the means over the models with a LogME score.
    """
    key = f"mean_{subset}" if subset else "mean"
    rows = []
    for method, res in results.items():
        if "error" in res:
            continue
        mean = res.get(key) or {}
        rows.append(
            {
                "method": method,
                **{
                    k: mean.get(k)
                    for k in ("pearson", "weighted_tau", "top1_relative", "top1_regret", "coverage")
                },
                "targets": len(res["targets"]),
            }
        )
    return pd.DataFrame(rows)


def markdown_table(frame: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (floats to 3 decimals, missing as "–")."""
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = [
            "–"
            if v is None or (isinstance(v, float) and v != v)
            else (f"{v:.3f}" if isinstance(v, float) else str(v))
            for v in row
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
