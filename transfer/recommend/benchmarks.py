"""The public model-selection zoos the recommender is benchmarked on, by CLI name."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pandas as pd

from kgtransfer.errors import BaselineInputsMissing, did_you_mean
from kgtransfer.kg.tables import ZooTables

from ._data import as_tables
from ._registry import get_recommender, list_recommenders
from .baselines import ScoreRecommender
from .evaluate import _mean, evaluate_recommender

__all__ = [
    "BASELINES",
    "BENCHMARK_ZOOS",
    "PAPER_TARGETS",
    "expand_methods",
    "load_benchmark_zoo",
    "markdown_table",
    "run_benchmark",
    "subset_results",
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


#: Every static baseline; ``score:*`` stands for each estimator the zoo has scores of.
BASELINES: tuple[str, ...] = (
    "popularity",
    "similarity",
    "size",
    "lineage",
    "task_domain",
    "score:*",
)


def expand_methods(methods: Sequence[str], tables: ZooTables) -> list[str]:
    """Replace ``score:*`` by ``score:<estimator>`` for each estimator in ``tables.scores``.

    A zoo without scores keeps ``score:*``, which :func:`run_benchmark` reports as n/a.

    Example:
        >>> import pandas as pd
        >>> from kgtransfer.kg.tables import ZooTables
        >>> scores = pd.DataFrame({"model": ["a", "a"], "dataset": ["x", "x"],
        ...                        "estimator": ["logme", "leep"], "value": [1.0, 2.0]})
        >>> expand_methods(["popularity", "score:*"], ZooTables(scores=scores))
        ['popularity', 'score:leep', 'score:logme']
    """
    estimators = sorted(set(tables.scores["estimator"].dropna().astype(str)))
    out: list[str] = []
    for m in methods:
        if m == "score:*" and estimators:
            out += [f"score:{e}" for e in estimators]
        else:
            out.append(m)
    return list(dict.fromkeys(out))


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
    tables: Any,
    methods: Sequence[str],
    *,
    targets: Sequence[str] | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    progress: bool = False,
    regime: str | None = "any",
) -> dict[str, Any]:
    """Evaluate each recommender in ``methods`` leave-one-target-out on ``tables``.

    Args:
        tables: The zoo (``ZooTables`` or ``ZooGraph``).
        methods: Registry names (``gnn``, ``popularity``, ``size``, ``score:logme``,
            ...); ``score:*`` is expanded by :func:`expand_methods`.
        targets: Target datasets (default: every dataset with records on >= 3 models).
        params: Constructor parameters per method name.
        progress: tqdm bars on stderr.
        regime: Regime of the ground truth (see :func:`evaluate_recommender`): ``"any"``
            (default) = the best non-suspect run per (model, target), or one regime label.

    Returns:
        ``{method: evaluate_recommender(...) result}``; a baseline whose inputs
        this zoo lacks (e.g. ``size`` without ``n_params``, ``score:logme``
        without LogME scores) gets ``{"n/a": reason}``; another baseline that
        fails on the zoo gets ``{"error": reason}``.
    """
    params = params or {}
    results: dict[str, Any] = {}
    tables = as_tables(tables)  # a ZooGraph is read once, not once per target
    methods = expand_methods(methods, tables)
    for method in methods:
        if method == "score:*":
            results[method] = {"n/a": "the zoo has no transferability scores"}
            continue
        if method.startswith("score:") and method not in list_recommenders("score:*"):
            # an estimator of the zoo without a registered name
            def factory(method: str = method) -> Any:
                return ScoreRecommender(estimator=method.split(":", 1)[1])
        else:
            get_recommender(method)  # unknown names fail before any work

            def factory(method: str = method) -> Any:
                return get_recommender(method, **params.get(method, {}))

        try:
            results[method] = evaluate_recommender(
                factory, tables, targets, progress=progress, regime=regime
            )
        except BaselineInputsMissing as exc:
            results[method] = {"n/a": str(exc).splitlines()[0]}
        except ValueError as exc:
            if method == "gnn":
                raise
            results[method] = {"error": str(exc).splitlines()[0]}
    return results


def subset_results(results: dict[str, Any], targets: Sequence[str]) -> dict[str, Any]:
    """``run_benchmark`` results restricted to ``targets``, means recomputed.

    Leave-one-target-out fits each target on its own, so the paper's 8 targets are
    a subset of an all-targets run: no refit needed. Calibration is left out (it
    is pooled over the run's pairs).
    """
    keep = {str(t) for t in targets}
    out: dict[str, Any] = {}
    for method, res in results.items():
        if "targets" not in res:
            out[method] = res
            continue
        rows = [r for r in res["targets"] if r["target"] in keep]
        sub = {k: v for k, v in res.items() if k not in ("targets", "calibration")}
        sub["targets"] = rows
        for key in [k for k in res if k.startswith("mean")]:
            suffix = key[len("mean") :]
            sub[key] = _mean(rows, suffix)
        out[method] = sub
    return out


def summary_table(results: dict[str, Any], *, subset: str = "") -> pd.DataFrame:
    """One row per method: mean Pearson, weighted τ, top-1 relative, regret, coverage.

    ``regret_pts`` is the top-1 regret in points (x 100) for fraction metrics
    such as accuracy, in the metric's own units otherwise. ``targets`` counts the
    targets the method ranked. A method whose inputs the zoo lacks shows "n/a" in
    every metric. ``subset="logme"`` reads the means over the models with a LogME
    score.
    """
    key = f"mean_{subset}" if subset else "mean"
    columns = {
        "pearson": "pearson",
        "weighted_tau": "weighted_tau",
        "top1_relative": "top1_relative",
        "regret_pts": "top1_regret_points",
        "coverage": "coverage",
    }
    rows = []
    for method, res in results.items():
        if "error" in res:
            continue
        if "n/a" in res:
            if not subset:
                rows.append({"method": method, **dict.fromkeys(columns, "n/a"), "targets": 0})
            continue
        mean = res.get(key) or {}
        row = {"method": method, **{c: mean.get(k) for c, k in columns.items()}}
        suffix = f"_{subset}" if subset else ""
        row["targets"] = sum(
            "n/a" not in r and r.get(f"n_models{suffix}") is not None for r in res["targets"]
        )
        rows.append(row)
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
