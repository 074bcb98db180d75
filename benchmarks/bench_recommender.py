"""Benchmark the source-model recommenders on the public zoos; prints JSON.

    python benchmarks/bench_recommender.py --shared ../shared/benchmarks --out bench_recommender.json

Runs leave-one-target-out on TransferGraph image and text (the paper's 8 targets
and all targets), PARC, TLlib, Model Spider and the SFDA families; writes the
full JSON to --out and a Markdown table beside it (``.md``). Also times the GNN
fit on the image zoo and ``rank`` over 10,000 candidates after fit.

The public path, from plain tables (``benchmarks/plain_tables.py``)::

    python benchmarks/plain_tables.py --shared ../shared/benchmarks --out /tmp/plain
    python benchmarks/bench_recommender.py --plain /tmp/plain --out plain.json

reads each ``/tmp/plain/<zoo>/`` with ``ZooGraph.from_tables(models=..., datasets=...,
records=..., similarities=..., scores=...)`` (no adapter) and evaluates the default
``GNNRecommender`` and every baseline (``--methods``; ``score:*`` = each estimator the
zoo has scores of, a baseline without its inputs is n/a) over all targets, and over
the paper's 8 targets for the TransferGraph zoos (a subset of the same
leave-one-target-out run). Metrics per target and their means: Pearson, weighted τ,
top-1 relative accuracy, top-1 regret (points for accuracies), interval coverage;
``calibration`` per method: the 90 % interval's coverage over all held-out pairs with
its 95 % binomial band, and the negative-transfer probability's Brier score and
reliability table where scratch values are known (else n/a).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from kgtransfer.kg.tables import ZooTables
from kgtransfer.transfer.recommend import GNNRecommender
from kgtransfer.transfer.recommend.benchmarks import (
    BASELINES,
    BENCHMARK_ZOOS,
    PAPER_TARGETS,
    load_benchmark_zoo,
    markdown_table,
    run_benchmark,
    subset_results,
    summary_table,
)

METHODS = ["gnn", *BASELINES]


def _synthetic_zoo(n_models: int, seed: int = 0) -> ZooTables:
    rng = np.random.default_rng(seed)
    models = [f"m{i}" for i in range(n_models)]
    datasets = [f"d{j}" for j in range(12)]
    quality = rng.normal(size=n_models)
    rows = []
    for d in datasets:
        keep = rng.random(n_models) < 0.2
        for m, q in zip(np.array(models)[keep], quality[keep], strict=True):
            rows.append((m, d, float(0.7 + 0.05 * q + rng.normal(0, 0.02))))
    recs = pd.DataFrame(rows, columns=["model", "dataset", "value"])
    meta = pd.DataFrame({"model": models, "n_params": rng.uniform(1e6, 1e9, n_models)})
    return ZooTables(models=meta, records=recs)


def timings(shared: Path, seed: int) -> dict[str, float]:
    image = load_benchmark_zoo("transfergraph-image", shared)
    start = time.perf_counter()
    GNNRecommender(seed=seed).fit(image, exclude_datasets=["dtd"])
    fit_image = time.perf_counter() - start
    big = _synthetic_zoo(10_000, seed)
    rec = GNNRecommender(seed=seed, epochs=20, n_ensemble=5).fit(big, exclude_datasets=["d0"])
    rec.rank("d0", n_evidence=0)  # first call builds the embedding cache
    lat = []
    for _ in range(5):
        start = time.perf_counter()
        rec.rank("d0", n_evidence=5)
        lat.append(time.perf_counter() - start)
    return {
        "fit_seconds_image_zoo": fit_image,
        "rank_ms_10000_candidates": 1000 * float(np.median(lat)),
    }


def plain(folder: Path, zoos: list[str] | None, methods: list[str], seed: int) -> dict:
    """Leave-one-target-out on each ``folder/<zoo>/`` through ``ZooGraph.from_tables``."""
    from kgtransfer.kg import ZooGraph

    names = zoos or sorted(p.name for p in folder.iterdir() if (p / "records.csv").is_file())
    runs: dict[str, object] = {}
    md: list[str] = []
    for zoo in names:
        files = {
            t: str(folder / zoo / f"{t}.csv")
            for t in ("models", "datasets", "records", "similarities", "scores")
            if (folder / zoo / f"{t}.csv").is_file()
        }
        start = time.perf_counter()
        graph = ZooGraph.from_tables(**files)
        report = graph.last_report
        res = run_benchmark(graph, methods, params={"gnn": {"seed": seed}})
        seconds = time.perf_counter() - start
        runs[f"{zoo}/all"] = res
        splits = [("all", res)]
        if zoo in PAPER_TARGETS:
            runs[f"{zoo}/paper"] = subset_results(res, PAPER_TARGETS[zoo])
            splits.append(("paper", runs[f"{zoo}/paper"]))
        runs[f"{zoo}/ingest"] = {
            "tables": {k: Path(v).name for k, v in files.items()},
            "suspect_records_flagged": len(report.flagged),
            "rejected_rows": len(report.rejections),
            "seconds_total": seconds,
        }
        print(f"{zoo} done in {seconds:.0f}s", file=sys.stderr)
        for split, r in splits:
            for subset in ("", "logme"):
                table = summary_table(r, subset=subset)
                numeric = table.drop(columns=["method", "targets"]).apply(
                    pd.to_numeric, errors="coerce"
                )
                if table.empty or numeric.isna().all().all():
                    continue
                title = f"{zoo}/{split} (plain tables; " + (
                    "models with a LogME score)" if subset else "all models with a record)"
                )
                md += [f"### {title}", "", markdown_table(table), ""]
        graph.close()
    return {"runs": runs, "markdown": md}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared",
        type=Path,
        default=Path(os.environ.get("KGTRANSFER_SHARED_BENCHMARKS", "../shared/benchmarks")),
    )
    parser.add_argument("--out", type=Path, default=Path("bench_recommender.json"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--zoos", default="all", help="comma-separated zoo names or 'all'")
    parser.add_argument(
        "--split",
        choices=["both", "paper", "all"],
        default="both",
        help="targets: the TransferGraph paper's 8 ('paper'), every target ('all') or both",
    )
    parser.add_argument(
        "--methods", default=",".join(METHODS), help="comma-separated recommender names"
    )
    parser.add_argument(
        "--regime",
        default="any",
        help="training regime of the ground truth: 'any' (default: best non-suspect run per "
        "(model, target)), 'own' (each target's own regime) or a label of kgtransfer.kg.regime_of",
    )
    parser.add_argument("--no-timings", action="store_true")
    parser.add_argument(
        "--plain",
        type=Path,
        default=None,
        help="folder of plain tables per zoo (benchmarks/plain_tables.py --out): public path",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    methods = args.methods.split(",")
    if args.plain is not None:
        res = plain(
            args.plain, None if args.zoos == "all" else args.zoos.split(","), methods, args.seed
        )
        payload = {"seed": args.seed, "path": "plain tables -> ZooGraph.from_tables", **res}
        md = payload.pop("markdown")
        args.out.write_text(json.dumps(payload, indent=2))
        args.out.with_suffix(".md").write_text("\n".join(md))
        print("\n".join(md))
        return
    zoos = list(BENCHMARK_ZOOS) if args.zoos == "all" else args.zoos.split(",")
    out: dict[str, object] = {"seed": args.seed, "regime": args.regime, "runs": {}}
    md: list[str] = []
    for zoo in zoos:
        tables = load_benchmark_zoo(zoo, args.shared)
        splits = (
            [("paper", PAPER_TARGETS[zoo]), ("all", None)]
            if zoo in PAPER_TARGETS
            else [("all", None)]
        )
        splits = [sp for sp in splits if args.split in ("both", sp[0])]
        for split, targets in splits:
            start = time.perf_counter()
            res = run_benchmark(
                tables,
                methods,
                targets=targets,
                params={"gnn": {"seed": args.seed}},
                regime=None if args.regime == "own" else args.regime,
            )
            key = f"{zoo}/{split}"
            out["runs"][key] = res  # type: ignore[index]
            print(f"{key} done in {time.perf_counter() - start:.0f}s", file=sys.stderr)
            for subset in ("", "logme"):
                table = summary_table(res, subset=subset)
                if table.empty or table.drop(columns=["method", "targets"]).isna().all().all():
                    continue
                title = f"{key}" + (
                    " (models with a LogME score)" if subset else " (all models with a record)"
                )
                md += [f"### {title}", "", markdown_table(table), ""]
    if not args.no_timings:
        out["timings"] = timings(args.shared, args.seed)
        md += ["### timings", "", json.dumps(out["timings"]), ""]
    args.out.write_text(json.dumps(out, indent=2))
    args.out.with_suffix(".md").write_text("\n".join(md))
    print(
        json.dumps(
            {k: v for k, v in out.items() if k != "runs"}
            | {"markdown": str(args.out.with_suffix(".md"))}
        )
    )


if __name__ == "__main__":
    main()
