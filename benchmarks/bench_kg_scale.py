"""Scale benchmark of the graph store: ingest a synthetic zoo, compare with raw bulk_load.

Prints one JSON object: ingest time of ``ZooGraph.add_zoo_tables`` into an on-disk store
(one crash-safe transaction) vs pyoxigraph's ``bulk_load`` of the same triples as
N-Triples (not crash-safe), peak memory of each (``ru_maxrss`` of a fresh subprocess),
on-disk size, ``to_tables`` time and the p50 latency of each named query.

    .venv/bin/python benchmarks/bench_kg_scale.py --n-models 100000

``--records N`` instead times one batch of ``N`` records (with its metrics row) written
into a fresh store, and with ``--into-existing`` also into a store that already holds a
zoo and that metric (the merge path): time and peak memory of each, in its own process.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_kg_scale.py --records 200000 --into-existing
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from kgtransfer.kg import ZooGraph, ZooTables
from kgtransfer.kg._example import typed


def synthetic_zoo(n_models: int, seed: int = 0) -> ZooTables:
    """A zoo of ``n_models`` models, 30% derived from an earlier one, with records."""
    rng = np.random.default_rng(seed)
    n_datasets = max(20, n_models // 1000)
    models = [f"org{i % 977}/model-{i}" for i in range(n_models)]
    datasets = [f"dataset-{j}" for j in range(n_datasets)]
    tasks = ["image-classification", "text-classification", "detection", "segmentation"]
    modality = np.where(rng.random(n_models) < 0.7, "image", "text")
    derived = np.flatnonzero(rng.random(n_models) < 0.3)
    derived = derived[derived > 0]
    bases = (rng.random(len(derived)) * derived).astype(int)
    n_records = n_models // 2
    rec_models = rng.integers(0, n_models, n_records)
    rec_datasets = rng.integers(0, n_datasets, n_records)
    pairs = rng.integers(0, n_datasets, (n_datasets * 5, 2))
    return ZooTables(
        models=typed(
            "models",
            {
                "model": models,
                "architecture": [f"arch{i % 50}" for i in range(n_models)],
                "trained_on": [datasets[i % n_datasets] for i in range(n_models)],
                "task": [tasks[i % 4] for i in range(n_models)],
                "modality": list(modality),
                "n_params": list(np.round(rng.lognormal(17, 1.5, n_models))),
                "license": [["mit", "apache-2.0", None][i % 3] for i in range(n_models)],
                "flops": list(rng.random(n_models) * 100),
            },
        ),
        lineage=typed(
            "lineage",
            {
                "model": [models[i] for i in derived],
                "base_model": [models[i] for i in bases],
                "relation": [["finetune", "adapter", None][i % 3] for i in range(len(derived))],
            },
        ),
        datasets=typed(
            "datasets",
            {
                "dataset": datasets,
                "task": [tasks[j % 4] for j in range(n_datasets)],
                "modality": ["image" if j % 3 else "text" for j in range(n_datasets)],
                "n_classes": [float(2 + j % 100) for j in range(n_datasets)],
            },
        ),
        records=typed(
            "records",
            {
                "model": [models[i] for i in rec_models],
                "dataset": [datasets[j] for j in rec_datasets],
                "value": list(rng.random(n_records)),
                "metric": ["accuracy"] * n_records,
                "method": ["finetune"] * n_records,
                "seed": list(rng.integers(0, 5, n_records)),
                "suspect": list(rng.random(n_records) < 0.02),
            },
        ),
        similarities=typed(
            "similarities",
            {
                "dataset_a": [datasets[a] for a in pairs[:, 0]],
                "dataset_b": [datasets[b] for b in pairs[:, 1]],
                "similarity": list(rng.random(len(pairs))),
                "method": ["embedding"] * len(pairs),
            },
        ),
        metrics=typed("metrics", {"metric": ["accuracy"], "higher_is_better": [True]}),
    )


def records_batch(n_records: int, seed: int = 1) -> ZooTables:
    """``n_records`` accuracy records over 2,000 models and 50 datasets, plus the metric row."""
    rng = np.random.default_rng(seed)
    models = [f"org{i % 977}/model-{i}" for i in rng.integers(0, 2000, n_records)]
    datasets = [f"dataset-{j}" for j in rng.integers(0, 50, n_records)]
    return ZooTables(
        records=typed(
            "records",
            {
                "model": models,
                "dataset": datasets,
                "value": list(rng.random(n_records)),
                "metric": ["accuracy"] * n_records,
                "method": ["finetune"] * n_records,
                "seed": list(rng.integers(0, 5, n_records)),
                "suspect": [False] * n_records,
            },
        ),
        metrics=typed("metrics", {"metric": ["accuracy"], "higher_is_better": [True]}),
    )


def child_setup(path: str) -> dict[str, float]:
    with ZooGraph.open(path) as graph:
        graph.add_zoo_tables(synthetic_zoo(2000), source="existing zoo")
        return {"n_quads": len(graph)}


def child_records(path: str, n_records: int) -> dict[str, float]:
    tables = records_batch(n_records)
    with ZooGraph.open(path) as graph:
        before = len(graph)
        start = time.perf_counter()
        graph.add_zoo_tables(tables, source="records")
        seconds = time.perf_counter() - start
        added = len(graph) - before
    return {"ingest_s": seconds, "quads_added": added, "peak_mb": _peak_mb()}


def _records_main(n_records: int, into_existing: bool) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench_kg_records_"))
    try:
        fresh = _run_child("records", str(workdir / "fresh"), str(n_records))
        result: dict[str, object] = {
            "records": n_records,
            "fresh_s": round(fresh["ingest_s"], 2),
            "fresh_peak_mb": round(fresh["peak_mb"]),
            "fresh_quads_added": fresh["quads_added"],
        }
        if into_existing:
            existing = workdir / "existing"
            setup = _run_child("setup", str(existing))
            into = _run_child("records", str(existing), str(n_records))
            result |= {
                "existing_quads": setup["n_quads"],
                "into_existing_s": round(into["ingest_s"], 2),
                "into_existing_peak_mb": round(into["peak_mb"]),
                "into_existing_quads_added": into["quads_added"],
                "ratio_into_existing_vs_fresh": round(into["ingest_s"] / fresh["ingest_s"], 2),
            }
        print(json.dumps(result, indent=1))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child_ingest(path: str, n_models: int, nt_out: str) -> dict[str, float]:
    tables = synthetic_zoo(n_models)
    before = _peak_mb()
    start = time.perf_counter()
    with ZooGraph.open(path, create=True) as graph:
        graph.add_zoo_tables(tables, source="synthetic")
        ingest_s = time.perf_counter() - start
        disk_after_ingest = _size_mb(Path(path))
        n_quads = len(graph)
        start = time.perf_counter()
        back = graph.to_tables()
        to_tables_s = time.perf_counter() - start
        assert len(back.models) == n_models and len(back.records) == len(tables.records)
        graph.export(nt_out, format="nt")
    return {
        "ingest_s": ingest_s,
        "n_quads": n_quads,
        "to_tables_s": to_tables_s,
        "disk_mb_after_ingest": disk_after_ingest,
        "peak_mb": _peak_mb(),
        "peak_mb_before_ingest": before,
    }


def child_bulk(path: str, nt_file: str) -> dict[str, float]:
    import pyoxigraph as ox

    start = time.perf_counter()
    store = ox.Store(path)
    store.bulk_load(path=nt_file, format=ox.RdfFormat.N_TRIPLES)
    store.flush()
    seconds = time.perf_counter() - start
    return {"bulk_load_s": seconds, "n_triples": len(store), "peak_mb": _peak_mb()}


def child_queries(path: str, n_models: int, repeats: int) -> dict[str, float]:
    rng = np.random.default_rng(1)
    n_datasets = max(20, n_models // 1000)
    latencies: dict[str, list[float]] = {}
    with ZooGraph.open(path, read_only=True) as graph:
        lineage_models = graph.to_tables().lineage["model"].to_numpy()
        calls = {
            "candidates": lambda: graph.candidates(f"dataset-{rng.integers(n_datasets)}"),
            "candidates_filtered": lambda: graph.candidates(
                f"dataset-{rng.integers(n_datasets)}",
                task="detection",
                max_params=1e7,
                license="mit",
            ),
            "lineage": lambda: graph.lineage(str(rng.choice(lineage_models))),
            "descendants": lambda: graph.descendants(
                f"org{rng.integers(977)}/model-{rng.integers(1000)}"
            ),
            "similar_datasets": lambda: graph.similar_datasets(
                f"dataset-{rng.integers(n_datasets)}"
            ),
            "records": lambda: graph.records(model=f"org0/model-{977 * rng.integers(100)}"),
            "best_sources": lambda: graph.best_sources(f"dataset-{rng.integers(n_datasets)}"),
            "stats": graph.stats,
        }
        for name, call in calls.items():
            call()  # warm up
            times = []
            for _ in range(repeats if name != "stats" else 3):
                start = time.perf_counter()
                call()
                times.append((time.perf_counter() - start) * 1000)
            latencies[name] = times
    return {f"p50_ms_{k}": round(statistics.median(v), 2) for k, v in latencies.items()}


def _run_child(*args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-models", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument(
        "--records", type=int, help="Time one batch of this many records instead (see above)."
    )
    parser.add_argument(
        "--into-existing",
        action="store_true",
        help="With --records: also write them into a store that already holds a zoo.",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "setup":
            result = child_setup(rest[0])
        elif kind == "records":
            result = child_records(rest[0], int(rest[1]))
        elif kind == "ingest":
            result = child_ingest(rest[0], int(rest[1]), rest[2])
        elif kind == "bulk":
            result = child_bulk(rest[0], rest[1])
        else:
            result = child_queries(rest[0], int(rest[1]), int(rest[2]))
        print(json.dumps(result))
        return
    if args.records is not None:
        _records_main(args.records, args.into_existing)
        return
    workdir = Path(tempfile.mkdtemp(prefix="bench_kg_"))
    try:
        ours, raw, nt = workdir / "ours", workdir / "raw", workdir / "zoo.nt"
        ingest = _run_child("ingest", str(ours), str(args.n_models), str(nt))
        bulk = _run_child("bulk", str(raw), str(nt))
        queries = _run_child("queries", str(ours), str(args.n_models), str(args.repeats))
        result = {
            "n_models": args.n_models,
            "n_quads": ingest["n_quads"],
            "n_triples_raw": bulk["n_triples"],
            "ingest_s": round(ingest["ingest_s"], 2),
            "bulk_load_s": round(bulk["bulk_load_s"], 2),
            "ingest_vs_bulk_load": round(ingest["ingest_s"] / bulk["bulk_load_s"], 2),
            "to_tables_s": round(ingest["to_tables_s"], 2),
            "peak_mb_ingest_process": round(ingest["peak_mb"]),
            "peak_mb_tables_only": round(ingest["peak_mb_before_ingest"]),
            "peak_mb_bulk_load_process": round(bulk["peak_mb"]),
            "disk_mb_ours_after_ingest": round(ingest["disk_mb_after_ingest"], 1),
            "disk_mb_ours_at_end": round(_size_mb(ours), 1),
            "disk_mb_raw": round(_size_mb(raw), 1),
            "crash_safe": True,
            **queries,
        }
        print(json.dumps(result, indent=1))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
