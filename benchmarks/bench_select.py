"""Benchmark ``kgtransfer.select_source`` (source selection with a few trials); prints JSON.

    python benchmarks/plain_tables.py --shared ../shared/benchmarks --out /tmp/plain
    OMP_NUM_THREADS=1 python benchmarks/bench_select.py --plain /tmp/plain \\
        --zoos transfergraph-image,transfergraph-text,tllib --out select.json

Per zoo (plain tables read with ``ZooGraph.from_tables``, as a user would) and per
target, leave-one-target-out: the target's records are hidden, the recommender is
fitted ONCE without them, and ``select_source`` runs ``max(--budgets)`` trials with
``trial`` reading the true value (the best non-suspect run per (model, target), the
same truth as ``bench_recommender.py``) over the models with a true value on the
target. Reported: mean top-1 regret (best true value − best value tried; points, ×100
for fractions) after 1, 3, 5 and 10 trials, for each strategy (``ei`` is the
default; ``ucb`` and ``thompson`` are reported beside it, not chosen on these zoos),
for EI with batches of 3, for the recommender's own top-k without conditioning
(``prior_topk``), for EI over the popularity baseline's prior
(``ei_popularity_prior``: the conditioning's own effect) and for popularity's top-k
(``popularity_topk``, a model's mean z on the other targets). ``--fast`` uses a small GNN (``epochs=30, n_ensemble=1``) and the
first 3 targets per zoo, to try the script.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kgtransfer.api import select_source
from kgtransfer.kg.ingest._metrics import FRACTION_METRICS
from kgtransfer.kg.regime import REGIME_COLUMNS
from kgtransfer.kg.tables import COLUMNS, ZooTables
from kgtransfer.transfer.recommend import GNNRecommender, PopularityRecommender
from kgtransfer.transfer.recommend._data import truth_table

STRATEGIES = ("ei", "ucb", "thompson")


class _Cached:
    """A fitted recommender's ranking of one target, saved by ``--cache`` (a re-run of
    the selection rules then needs no refit; the ranking is that of the same seeded fit)."""

    def __init__(self, frame: pd.DataFrame, target: str) -> None:
        self.frame = frame
        self.truth_ = True
        self.excluded_datasets_ = [target]
        self.dataset_index_ = {target: 0}

    def fit(self, *args: Any, **kwargs: Any) -> _Cached:
        return self

    def rank(self, target: str, candidates: Any = None, **kwargs: Any) -> pd.DataFrame:
        frame = self.frame
        if candidates is not None:
            frame = frame.loc[frame["model"].isin(list(candidates))]
        return frame.reset_index(drop=True)

    def __repr__(self) -> str:
        return "cached GNNRecommender ranking"


def _fit_gnn(
    zoo_t: ZooTables, target: str, cands: list[str], params: dict, cache: Path | None, key: str
) -> tuple[Any, float]:
    path = None
    if cache is not None:
        path = cache / f"{key.replace('/', '_')}.pkl"
        if path.is_file():
            return _Cached(pd.read_pickle(path), target), 0.0
    t0 = time.perf_counter()
    gnn = GNNRecommender(**params).fit(zoo_t, exclude_datasets=[target])
    seconds = time.perf_counter() - t0
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        gnn.rank(target, candidates=cands, n_evidence=0).to_pickle(path)
    return gnn, seconds


def _any_regime(zoo: ZooTables) -> ZooTables:
    """Regime columns blanked (``evaluate_recommender``'s ``regime="any"``)."""
    rec = zoo.records
    blank = {
        c: pd.Series(pd.NA, index=rec.index, dtype=COLUMNS["records"][c])
        for c in REGIME_COLUMNS
        if c in rec.columns
    }
    return dataclasses.replace(zoo, records=rec.assign(**blank))


def write_synthetic_lineage(folder: Path, seed: int = 0) -> Path:
    """A seeded zoo with ``base_model`` families and task families, as plain tables.

    16 base models, each with 12 fine-tuned checkpoints (lineage in ``models.csv``);
    24 datasets in 4 task families; each model has records on a random 40 % of the
    datasets. A value is ``0.70 + 0.03 q + 0.05 taste[family] + 0.015 u + noise``: a
    base's quality ``q`` and per-family taste are shared by its checkpoints (which add
    their own taste jitter and offset ``u``), so which family suits a target matters
    more than overall popularity. It only checks the mechanism (the setting was fixed
    before any run, and nothing is tuned on it).
    """
    rng = np.random.default_rng(seed)
    n_family, n_base, n_child = 4, 16, 12
    datasets = [f"ds{j:02d}" for j in range(24)]
    family = {d: j % n_family for j, d in enumerate(datasets)}
    models, rows = [], []
    for b in range(n_base):
        q, taste = rng.normal(), rng.normal(size=n_family)
        base = f"base{b:02d}"
        members = [(base, None, 0.0, taste)]
        for c in range(n_child):
            jitter = taste + rng.normal(0, 0.3, size=n_family)
            members.append((f"{base}-ft{c:02d}", base, rng.normal(0, 0.5), jitter))
        for name, parent, u, t in members:
            models.append({"model": name, "base_model": parent, "n_params": 1e8 * (1 + b % 4)})
            for d in datasets:
                if rng.random() < 0.4:
                    v = 0.70 + 0.03 * q + 0.05 * t[family[d]] + 0.015 * u + rng.normal(0, 0.01)
                    rows.append({"model": name, "dataset": d, "value": float(np.clip(v, 0, 1))})
    out = folder / "synthetic-lineage"
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(models).to_csv(out / "models.csv", index=False)
    pd.DataFrame({"dataset": datasets, "task": [f"family{family[d]}" for d in datasets]}).to_csv(
        out / "datasets.csv", index=False
    )
    pd.DataFrame(rows).assign(metric="accuracy").to_csv(out / "records.csv", index=False)
    return out


def _regret(values: list[float], best: float, hib: bool, scale: float) -> float:
    tried = max(values) if hib else min(values)
    return abs(best - tried) * scale


def _curve(values: list[float], best: float, hib: bool, scale: float, budgets: list[int]) -> dict:
    return {str(k): _regret(values[:k], best, hib, scale) for k in budgets if values[:k]}


def run_zoo(
    folder: Path,
    zoo: str,
    *,
    budgets: list[int],
    targets: list[str] | None,
    fast: bool,
    seed: int,
    cache: Path | None = None,
) -> dict[str, Any]:
    from kgtransfer.kg import ZooGraph

    files = {
        t: str(folder / zoo / f"{t}.csv")
        for t in ("models", "datasets", "records", "similarities", "scores")
        if (folder / zoo / f"{t}.csv").is_file()
    }
    graph = ZooGraph.from_tables(**files)
    tables = _any_regime(graph.to_tables())
    graph.close()
    truth = truth_table(tables, regime="any")
    counts = truth.values.groupby("dataset").size()
    names = sorted(counts.index[counts >= 3])
    if targets:
        names = [t for t in names if t in targets]
    if fast:
        names = names[:3]
    n_max = max(budgets)
    gnn_params: dict[str, Any] = {"seed": seed}
    if fast:
        gnn_params.update(epochs=30, n_ensemble=1)
    rows = []
    for target in names:
        start = time.perf_counter()
        tv = truth.values.loc[truth.values["dataset"] == target]
        hib = bool(truth.stats.loc[target, "higher_is_better"])
        metric = str(truth.stats.loc[target, "metric"])
        scale = 100.0 if metric in FRACTION_METRICS else 1.0
        true = dict(zip(tv["model"].astype(str), tv["value"].astype(float), strict=True))
        best = max(true.values()) if hib else min(true.values())
        hidden = tables.records.loc[tables.records["dataset"].astype("object") != target]
        zoo_t = dataclasses.replace(tables, records=hidden.reset_index(drop=True))
        cands = sorted(true)
        key = f"{zoo}/{target}/" + ",".join(f"{k}={v}" for k, v in sorted(gnn_params.items()))
        gnn, fit_s = _fit_gnn(zoo_t, target, cands, gnn_params, cache, key)
        row: dict[str, Any] = {"target": target, "n_candidates": len(cands), "fit_seconds": fit_s}
        prior = gnn.rank(target, candidates=cands, n_evidence=0)["model"].tolist()
        row["prior_topk"] = _curve([true[m] for m in prior], best, hib, scale, budgets)
        pop = PopularityRecommender().fit(zoo_t, exclude_datasets=[target])
        order = pop.rank(target, candidates=cands, n_evidence=0)["model"].tolist()
        row["popularity_topk"] = _curve([true[m] for m in order], best, hib, scale, budgets)
        t1 = time.perf_counter()
        runs: dict[str, dict[str, Any]] = {s: {"strategy": s} for s in STRATEGIES}
        runs["ei_batch3"] = {"batch_size": 3}
        runs["ei_popularity_prior"] = {"recommender": pop}
        for key, options in runs.items():
            sel = select_source(
                zoo_t,
                target,
                n_trials=min(n_max, len(cands)),
                trial=true.__getitem__,
                candidates=cands,
                seed=seed,
                **{"recommender": gnn, **options},
            )
            row[key] = _curve(sel.trials["value"].tolist(), best, hib, scale, budgets)
        row["select_seconds_per_run"] = (time.perf_counter() - t1) / len(runs)
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        print(
            f"{zoo}/{target}: ei {row['ei']} popularity {row['popularity_topk']} "
            f"({row['seconds']:.0f}s)",
            file=sys.stderr,
        )
    methods = [
        "ei",
        "ucb",
        "thompson",
        "ei_batch3",
        "prior_topk",
        "ei_popularity_prior",
        "popularity_topk",
    ]
    mean = {
        m: {
            str(k): float(np.mean([r[m][str(k)] for r in rows if str(k) in r[m]]))
            for k in budgets
            if any(str(k) in r[m] for r in rows)
        }
        for m in methods
    }
    return {"targets": rows, "mean_regret_points": mean, "n_targets": len(rows)}


def markdown(results: dict[str, Any], budgets: list[int]) -> str:
    head = "| zoo | method | " + " | ".join(f"after {k}" for k in budgets) + " |"
    lines = [head, "|" + "---|" * (len(budgets) + 2)]
    for zoo, res in results.items():
        for method, curve in res["mean_regret_points"].items():
            cells = " | ".join(f"{curve[str(k)]:.2f}" if str(k) in curve else "-" for k in budgets)
            lines.append(f"| {zoo} ({res['n_targets']} targets) | {method} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain", type=Path, default=Path("/tmp/plain"), help="plain tables")
    parser.add_argument("--zoos", default="all", help="comma-separated zoo folders, or all")
    parser.add_argument("--targets", default="", help="comma-separated targets (default all)")
    parser.add_argument("--budgets", default="1,3,5,10", help="trial counts reported")
    parser.add_argument("--fast", action="store_true", help="small GNN, first 3 targets per zoo")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="also run a seeded zoo with base_model lineage (first 8 targets)",
    )
    parser.add_argument(
        "--cache", type=Path, default=None, help="folder keeping each target's GNN ranking"
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    budgets = sorted({int(b) for b in args.budgets.split(",") if b.strip()})
    zoos = (
        sorted(p.name for p in args.plain.iterdir() if (p / "records.csv").is_file())
        if args.zoos == "all"
        else [z.strip() for z in args.zoos.split(",") if z.strip()]
    )
    targets = [t.strip() for t in args.targets.split(",") if t.strip()] or None
    start = time.perf_counter()
    results = {
        zoo: run_zoo(
            args.plain,
            zoo,
            budgets=budgets,
            targets=targets,
            fast=args.fast,
            seed=args.seed,
            cache=args.cache,
        )
        for zoo in zoos
    }
    if args.synthetic:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            write_synthetic_lineage(Path(tmp), seed=args.seed)
            results["synthetic-lineage"] = run_zoo(
                Path(tmp),
                "synthetic-lineage",
                budgets=budgets,
                targets=targets or [f"ds{j:02d}" for j in range(8)],
                fast=args.fast,
                seed=args.seed,
                cache=args.cache,
            )
    payload = {
        "benchmark": "select_source, leave-one-target-out, trial = true value",
        "command": " ".join(sys.argv),
        "seed": args.seed,
        "fast": args.fast,
        "budgets": budgets,
        "zoos": results,
        "markdown": markdown(results, budgets),
        "seconds_total": time.perf_counter() - start,
    }
    text = json.dumps(payload, indent=1, default=float)
    if args.out is not None:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
