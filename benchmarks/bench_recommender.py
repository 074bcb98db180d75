"""Benchmark the source-model recommenders on the public zoos; prints JSON.

    python benchmarks/bench_recommender.py --shared ../shared/benchmarks --out bench_recommender.json

Runs leave-one-target-out on TransferGraph image and text (the paper's 8 targets
and all targets), PARC, TLlib, Model Spider and the SFDA families; writes the
full JSON to --out and a Markdown table beside it (``.md``). Also times the GNN
fit on the image zoo and ``rank`` over 10,000 candidates after fit.
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
    BENCHMARK_ZOOS,
    PAPER_TARGETS,
    load_benchmark_zoo,
    markdown_table,
    run_benchmark,
    summary_table,
)

METHODS = ["gnn", "popularity", "similarity", "logme"]


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
    args = parser.parse_args()
    torch.set_num_threads(1)
    zoos = list(BENCHMARK_ZOOS) if args.zoos == "all" else args.zoos.split(",")
    methods = args.methods.split(",")
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
