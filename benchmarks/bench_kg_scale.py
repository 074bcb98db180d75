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

``--hub`` generates a seeded zoo of the Hugging Face Hub's shape (HuggingKG: 1.2 M models,
0.26 M datasets, 52 tasks, 330 k typed lineage edges; see :func:`hub_plan`) and streams it
into an on-disk store ``--chunk`` models at a time, each batch through
``ZooGraph.add_tables`` (the validator and the one writer). It prints the ingest time and
peak memory (sampled RSS of the ingest process) next to pyoxigraph's ``bulk_load`` of the
same quads (the store dumped as N-Quads), the p50 of the named queries, ``to_tables`` and,
unless ``--gnn-candidates 0``, the GNN fit and a ranking of that many candidates.
``--scale`` (or ``--models``) runs a smaller zoo of the same shape.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_kg_scale.py --hub --scale 0.1

``--hub --server`` streams the same batches through ``ZooGraph.connect`` into an ``oxigraph
serve`` it starts on 127.0.0.1 (a free port, a temporary location; stopped at the end, also
on error), samples the server's RSS, then (server stopped) dumps its store and times
``oxigraph load`` of those quads into a fresh location; the named queries run on the server.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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


# ------------------------------------------------------------------ the Hub-shaped zoo
#: HuggingKG (SIGIR 2025) snapshot of the Hugging Face Hub: the shape --hub reproduces.
HUB = {"models": 1_200_000, "datasets": 260_000, "tasks": 52, "lineage_edges": 330_000}
#: Shares of the lineage relations among derived models (a merge has two base models).
HUB_RELATIONS = {"finetune": 0.52, "adapter": 0.24, "quantized": 0.18, "merge": 0.06}
_MODALITIES = ("text", "image", "audio", "video", "tabular", "multimodal")
_LICENSES = ("apache-2.0", "mit", "cc-by-4.0", "openrail", "llama2", None)
_LIBRARIES = ("transformers", "peft", "diffusers", "timm", "sentence-transformers", None)


def hub_plan(n_models: int, seed: int = 0) -> dict[str, Any]:
    """The numeric skeleton of a Hub-shaped zoo of ``n_models`` models (no strings).

    Sizes scale with ``n_models`` from :data:`HUB` (datasets, lineage edges; 52 tasks).
    Lineage: derived models come in chains (a user's successive fine-tunes) whose lengths
    are Zipf-distributed (``a = 3``, capped at 200: mostly depth 1-2, a few chains of tens); a
    chain's first model derives from an earlier model drawn with a Pareto popularity weight
    (``alpha = 1``: a few bases with tens of thousands of children). Every base model comes
    earlier in the order than its children, so the lineage is a DAG and each chunk only
    names models already written (or in the chunk). About 2 % of models have transfer
    records (1-6 each, on 1 % of the datasets), and every such target dataset gets
    similarity edges to 8 others.

    Returns:
        Arrays over models (``parent``, ``parent2`` (-1: none), ``relation``, ``task``,
        ``arch``, ``depth``, ``children``), dataset arrays and the sizes.
    """
    rng = np.random.default_rng(seed)
    n = int(n_models)
    n_datasets = max(50, round(n * HUB["datasets"] / HUB["models"]))
    edge_share = HUB["lineage_edges"] / HUB["models"]
    n_derived = min(n - 1, round(n * edge_share / (1 + HUB_RELATIONS["merge"])))
    derived = np.sort(rng.choice(np.arange(1, n), size=n_derived, replace=False))
    lengths = np.minimum(rng.zipf(3.0, size=n_derived), 200)
    starts = np.cumsum(np.concatenate([[0], lengths]))
    starts = starts[starts < n_derived]
    is_root = np.zeros(n_derived, dtype=bool)
    is_root[starts] = True
    weight = rng.pareto(1.0, size=n) + 1.0
    cum = np.cumsum(weight)
    parent = np.full(n, -1, dtype=np.int64)
    # a chain's first model: an earlier model, drawn by popularity; the others: the previous
    roots = derived[is_root]
    parent[roots] = np.searchsorted(cum, rng.random(len(roots)) * cum[roots - 1], side="right")
    parent[derived[1:][~is_root[1:]]] = derived[:-1][~is_root[1:]]
    kinds = list(HUB_RELATIONS)
    shares = np.array([HUB_RELATIONS[k] for k in kinds])
    relation = np.full(n, -1, dtype=np.int8)
    relation[derived] = rng.choice(len(kinds), size=n_derived, p=shares / shares.sum())
    parent2 = np.full(n, -1, dtype=np.int64)
    merges = derived[relation[derived] == kinds.index("merge")]
    second = np.searchsorted(cum, rng.random(len(merges)) * cum[merges - 1], side="right")
    ok = second != parent[merges]
    parent2[merges[ok]] = second[ok]
    relation[merges[~ok]] = kinds.index("finetune")
    task = np.minimum(rng.zipf(1.6, size=n) - 1, HUB["tasks"] - 1)
    arch = np.minimum(rng.zipf(1.4, size=n) - 1, 999)
    depth = np.zeros(n, dtype=np.int64)
    for i in derived:  # increasing: a base model's depth is known before its children's
        p, q = parent[i], parent2[i]
        task[i], arch[i] = task[p], arch[p]
        depth[i] = 1 + max(depth[p], depth[q] if q >= 0 else 0)
    children = np.bincount(parent[parent >= 0], minlength=n) + np.bincount(
        parent2[parent2 >= 0], minlength=n
    )
    n_targets = max(5, n_datasets // 100)
    with_records = np.flatnonzero(rng.random(n) < 0.02)
    n_records = np.minimum(rng.geometric(0.45, size=len(with_records)), 6)
    return {
        "n_models": n,
        "n_datasets": n_datasets,
        "n_targets": n_targets,
        "seed": seed,
        "parent": parent,
        "parent2": parent2,
        "relation": relation,
        "task": task,
        "arch": arch,
        "depth": depth,
        "children": children,
        "dataset_task": np.minimum(rng.zipf(1.6, size=n_datasets) - 1, HUB["tasks"] - 1),
        "with_records": with_records,
        "n_records": n_records,
    }


def hub_model(i: int) -> str:
    """The id of model ``i`` of the Hub-shaped zoo."""
    return f"user{(i * 7919) % 60_000}/model-{i}"


def hub_dataset(j: int) -> str:
    """The id of dataset ``j`` (the first ``n_targets`` are the evaluated ones)."""
    return f"org{(j * 104_729) % 20_000}/data-{j}"


def _names(make: Any, index: np.ndarray) -> list[str]:
    return [make(int(i)) for i in index]


def hub_batches(plan: dict[str, Any], chunk: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(label, add_tables keyword arguments)`` of each batch: datasets (and the
    similarities) first, then ``chunk`` models at a time with their lineage and records.

    Every batch is built from ``plan`` when it is asked for, so only one is in memory.
    """
    rng = np.random.default_rng(plan["seed"] + 1)
    n, n_datasets, n_targets = plan["n_models"], plan["n_datasets"], plan["n_targets"]
    for start in range(0, n_datasets, chunk):
        j = np.arange(start, min(start + chunk, n_datasets))
        tasks = plan["dataset_task"][j]
        datasets = pd.DataFrame(
            {
                "dataset": _names(hub_dataset, j),
                "task": [f"task-{t}" for t in tasks],
                "modality": [_MODALITIES[t % len(_MODALITIES)] for t in tasks],
                "n_samples": np.round(rng.lognormal(9, 2, len(j))),
                "n_classes": np.where(
                    rng.random(len(j)) < 0.4, rng.integers(2, 1000, len(j)), np.nan
                ),
            }
        )
        kwargs: dict[str, Any] = {"datasets": datasets}
        if start + chunk >= n_datasets:  # the last dataset batch: similarity edges
            a = np.repeat(np.arange(n_targets), 8)
            b = rng.integers(0, n_datasets, len(a))
            pair = np.minimum(a, b) * n_datasets + np.maximum(a, b)
            keep = (a != b) & ~pd.Series(pair).duplicated().to_numpy()
            kwargs["similarities"] = pd.DataFrame(
                {
                    "dataset_a": _names(hub_dataset, a[keep]),
                    "dataset_b": _names(hub_dataset, b[keep]),
                    "similarity": rng.random(int(keep.sum())),
                    "method": "synthetic",
                }
            )
        yield f"datasets {start}", kwargs
    kinds = list(HUB_RELATIONS)
    with_records, n_records = plan["with_records"], plan["n_records"]
    for start in range(0, n, chunk):
        i = np.arange(start, min(start + chunk, n))
        p, q, rel = plan["parent"][i], plan["parent2"][i], plan["relation"][i]
        tasks = plan["task"][i]
        trained = np.where(
            rng.random(len(i)) < 0.35, np.minimum(rng.zipf(1.3, len(i)) - 1, n_datasets - 1), -1
        )
        base = [
            None
            if a < 0
            else hub_model(int(a))
            if b < 0
            else f"{hub_model(int(a))}; {hub_model(int(b))}"
            for a, b in zip(p, q, strict=True)
        ]
        models = pd.DataFrame(
            {
                "model": _names(hub_model, i),
                "architecture": [f"arch-{a}" for a in plan["arch"][i]],
                "trained_on": [hub_dataset(int(t)) if t >= 0 else None for t in trained],
                "task": [f"task-{t}" for t in tasks],
                "modality": [_MODALITIES[t % len(_MODALITIES)] for t in tasks],
                "n_params": np.round(rng.lognormal(18, 2, len(i))),
                "license": [_LICENSES[k] for k in rng.integers(0, len(_LICENSES), len(i))],
                "library_name": [_LIBRARIES[k] for k in rng.integers(0, len(_LIBRARIES), len(i))],
                "base_model": base,
                "base_model_relation": [kinds[r] if r >= 0 else None for r in rel],
            }
        )
        lo, hi = np.searchsorted(with_records, [start, start + len(i)])
        counts = n_records[lo:hi]
        owners = np.repeat(with_records[lo:hi], counts)
        records = pd.DataFrame(
            {
                "model": _names(hub_model, owners),
                "dataset": _names(hub_dataset, rng.integers(0, n_targets, len(owners))),
                "value": np.round(rng.beta(5, 2, len(owners)), 4),
                "metric": "accuracy",
                "method": "finetune",
                # the k-th record of a model has seed k: no two rows share a key
                "seed": np.arange(len(owners)) - np.repeat(np.cumsum(counts) - counts, counts),
            }
        )
        yield f"models {start}", {"models": models, "records": records}


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


# ------------------------------------------------------------------ --hub children
class _RssSampler:
    """Peak resident memory of this process, sampled from /proc every ``every`` seconds."""

    def __init__(self, every: float = 0.2) -> None:
        self.peak_mb = _rss_mb()
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.peak_mb = max(self.peak_mb, _rss_mb())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, _rss_mb())
        return self.peak_mb


#: Seconds of calls after which a slow named query stops being repeated.
_QUERY_BUDGET_S = 90.0


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child_hub_ingest(path: str, n_models: int, seed: int, chunk: int) -> dict[str, Any]:
    """Stream the Hub-shaped zoo into a new store, ``chunk`` models per batch, each
    through ``ZooGraph.add_tables`` (the validator and the one writer)."""
    start = time.perf_counter()
    plan = hub_plan(n_models, seed)
    sampler = _RssSampler()
    rss_after: list[float] = []
    batch_s: list[float] = []
    with _hub_graph(path, create=True) as graph:
        for _, kwargs in hub_batches(plan, chunk):
            t = time.perf_counter()
            graph.add_tables(**kwargs)  # errors="raise": the generated tables are clean
            batch_s.append(time.perf_counter() - t)
            rss_after.append(_rss_mb())
        ingest_s = time.perf_counter() - start
        n_quads = len(graph)
    peak = sampler.stop()
    n_lineage = int((plan["parent"] >= 0).sum() + (plan["parent2"] >= 0).sum())
    return {
        "ingest_s": ingest_s,
        "n_quads": n_quads,
        "n_batches": len(batch_s),
        "n_lineage_edges": n_lineage,
        "max_lineage_depth": int(plan["depth"].max()),
        "max_children": int(plan["children"].max()),
        "n_models_with_records": len(plan["with_records"]),
        "n_records": int(plan["n_records"].sum()),
        "batch_s_first_last": [round(batch_s[0], 2), round(batch_s[-1], 2)],
        "batch_s": [round(b, 2) for b in batch_s],
        "rss_mb_after_batches": [round(r) for r in rss_after],
        "peak_mb_sampled": peak,
        "peak_mb": _peak_mb(),
        "disk_mb": None if _is_url(path) else _size_mb(Path(path)),
    }


def _is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def _hub_graph(target: str, *, create: bool = False, read_only: bool = False) -> ZooGraph:
    """The graph at ``target``: an on-disk store (a path) or a SPARQL server (a URL)."""
    if _is_url(target):  # a query's answer: 30 s, no retry (the local query timeout)
        if read_only:
            return ZooGraph.connect(target, read_only=True, timeout=30.0, retries=0)
        return ZooGraph.connect(target, timeout=300.0)
    if read_only:
        return ZooGraph.open(target, read_only=True)
    return ZooGraph.open(target, create=create)


def child_dump(path: str, nq_out: str) -> dict[str, float]:
    import pyoxigraph as ox

    start = time.perf_counter()
    store = ox.Store.read_only(path)
    store.dump(nq_out, ox.RdfFormat.N_QUADS)
    return {"dump_s": time.perf_counter() - start, "nq_mb": Path(nq_out).stat().st_size / 2**20}


def child_bulk_nq(path: str, nq_file: str) -> dict[str, float]:
    import pyoxigraph as ox

    sampler = _RssSampler()
    start = time.perf_counter()
    store = ox.Store(path)
    store.bulk_load(path=nq_file, format=ox.RdfFormat.N_QUADS)
    store.flush()
    seconds = time.perf_counter() - start
    return {
        "bulk_load_s": seconds,
        "n_quads": len(store),
        "peak_mb": max(sampler.stop(), _peak_mb()),
        "disk_mb": _size_mb(Path(path)),
    }


def child_hub_queries(path: str, n_models: int, seed: int, repeats: int) -> dict[str, Any]:
    """p50 of each named query over ``repeats`` calls (fewer when a query's calls pass
    ``_QUERY_BUDGET_S`` in all; a call over the 30 s query timeout counts as 30 s)."""
    from kgtransfer.errors import QueryTimeoutError, StoreUnavailableError

    plan = hub_plan(n_models, seed)
    rng = np.random.default_rng(seed + 2)
    children = plan["children"]
    deep = np.argsort(plan["depth"])[-repeats:]  # the deepest chains
    top = np.argsort(children)[-repeats:]  # the bases with most children
    bases = np.flatnonzero(children > 0)
    cut = np.quantile(children[bases], 0.99)  # popular, not the very top: the 99th percentile
    popular = bases[children[bases] >= cut][:repeats]
    targets = [hub_dataset(j) for j in range(plan["n_targets"])]

    def descendants(graph: ZooGraph, which: np.ndarray, k: int) -> Any:
        return graph.descendants(hub_model(int(which[k % len(which)])))

    calls: dict[str, Any] = {
        "candidates": lambda g, k: g.candidates(str(rng.choice(targets))),
        "lineage_deep_chain": lambda g, k: g.lineage(hub_model(int(deep[k % len(deep)]))),
        "descendants_p99_base": lambda g, k: descendants(g, popular, k),
        "descendants_top_base": lambda g, k: descendants(g, top, k),
        "similar_datasets": lambda g, k: g.similar_datasets(str(rng.choice(targets))),
        "best_sources": lambda g, k: g.best_sources(str(rng.choice(targets))),
    }
    out: dict[str, Any] = {
        "deepest_chain": int(plan["depth"].max()),
        "children_top_base": int(children.max()),
        "children_p99_base": int(cut),
    }
    with _hub_graph(path, read_only=True) as graph:
        for name, call in calls.items():
            times: list[float] = []
            n_timeouts = 0
            for k in range(-1, repeats):  # k = -1: warm-up
                t = time.perf_counter()
                try:
                    call(graph, max(k, 0))
                except (QueryTimeoutError, StoreUnavailableError):  # the server's: a timeout
                    n_timeouts += 1
                if k >= 0:
                    times.append((time.perf_counter() - t) * 1000)
                if sum(times) > _QUERY_BUDGET_S * 1000:
                    break
            out[f"p50_ms_{name}"] = round(statistics.median(times), 2) if times else None
            if len(times) < repeats or n_timeouts:
                out[f"n_calls_{name}"] = len(times)
                out[f"n_timeouts_{name}"] = n_timeouts
    return out


def child_to_tables(path: str) -> dict[str, Any]:
    sampler = _RssSampler()
    start = time.perf_counter()
    with ZooGraph.open(path, read_only=True) as graph:
        tables = graph.to_tables()
    return {
        "to_tables_s": time.perf_counter() - start,
        "peak_mb": max(sampler.stop(), _peak_mb()),
        "rows": {name: len(table) for name, table in tables},
    }


def child_gnn(path: str, n_candidates: int, seed: int) -> dict[str, Any]:
    """Fit the GNN recommender on the whole graph and rank ``n_candidates`` models."""
    import torch

    from kgtransfer.transfer.recommend import GNNRecommender

    torch.set_num_threads(2)
    sampler = _RssSampler()
    start = time.perf_counter()
    with ZooGraph.open(path, read_only=True) as graph:
        tables = graph.to_tables()
    read_s = time.perf_counter() - start
    t = time.perf_counter()
    recommender = GNNRecommender(seed=seed).fit(tables)
    fit_s = time.perf_counter() - t
    rng = np.random.default_rng(seed)
    models = tables.models["model"].to_numpy()
    candidates = [str(m) for m in rng.choice(models, min(n_candidates, len(models)), replace=False)]
    target = str(tables.records["dataset"].value_counts().index[0])
    t = time.perf_counter()
    ranked = recommender.rank(target, candidates=candidates)
    rank_s = time.perf_counter() - t
    return {
        "to_tables_s": read_s,
        "fit_s": fit_s,
        "rank_s": rank_s,
        "n_ranked": len(ranked),
        "total_s": time.perf_counter() - start,
        "peak_mb": max(sampler.stop(), _peak_mb()),
    }


class _Server:
    """An ``oxigraph serve`` on 127.0.0.1 (a free port) whose peak RSS a thread samples."""

    def __init__(self, location: Path, every: float = 0.2) -> None:
        import socket
        import urllib.request

        self.binary = _oxigraph_binary()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{port}"
        self.log = location.with_suffix(".log")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [self.binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.peak_mb = 0.0
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/query?query=ASK%7B%7D", timeout=2):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(
                        f"oxigraph serve did not start: {self.log.read_text()}"
                    ) from None
                time.sleep(0.05)

    def _rss_mb(self) -> float:
        try:
            with open(f"/proc/{self.proc.pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def _sample(self) -> None:
        while not self._stop.wait(self._every):
            self.peak_mb = max(self.peak_mb, self._rss_mb())

    def stop(self) -> float:
        """Stop the server (and the sampler); its peak RSS in MB."""
        self.peak_mb = max(self.peak_mb, self._rss_mb())
        self._stop.set()
        self._thread.join()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.peak_mb


def _oxigraph_binary() -> str:
    beside = Path(sys.executable).parent / "oxigraph"
    found = str(beside) if beside.is_file() else shutil.which("oxigraph")
    if found is None:
        raise SystemExit("--server needs the oxigraph server binary: pip install -e '.[server]'")
    return found


def _hub_server(args: argparse.Namespace, n_models: int, workdir: Path) -> dict[str, Any]:
    """``--hub --server``: the same batches through ``ZooGraph.connect`` to an Oxigraph
    server started here, then ``oxigraph load`` of the same quads into a fresh location."""
    location, raw, nq = workdir / "server", workdir / "raw", workdir / "zoo.nq"
    seed = str(args.seed)
    server = _Server(location)
    try:
        ingest = _run_child("hub-ingest", server.url, str(n_models), seed, str(args.chunk))
        peak_ingest = server.peak_mb
        queries = _run_child("hub-queries", server.url, str(n_models), seed, str(args.repeats))
        with ZooGraph.connect(server.url, read_only=True, timeout=300.0) as graph:
            n_models_server = graph.stats()["models"]
    finally:
        server_peak = server.stop()
    binary = _oxigraph_binary()
    start = time.perf_counter()
    subprocess.run(
        [binary, "dump", "--location", str(location), "--file", str(nq)],
        check=True,
        capture_output=True,
    )
    dump_s = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run(
        [binary, "load", "--location", str(raw), "--file", str(nq)],
        check=True,
        capture_output=True,
    )
    load_s = time.perf_counter() - start
    result: dict[str, Any] = {
        "n_models": n_models,
        "n_models_server": n_models_server,
        "n_datasets": round(n_models * HUB["datasets"] / HUB["models"]),
        "seed": args.seed,
        "chunk": args.chunk,
        "backend": "oxigraph serve",
        **{k: v for k, v in ingest.items() if k not in ("ingest_s", "peak_mb", "disk_mb")},
        "ingest_s": round(ingest["ingest_s"], 1),
        "server_load_s": round(load_s, 1),
        "server_load_how": "oxigraph load --location NEW --file zoo.nq (server stopped)",
        "ingest_vs_server_load": round(ingest["ingest_s"] / load_s, 2),
        "peak_mb_client_process": round(max(ingest["peak_mb"], ingest["peak_mb_sampled"])),
        "peak_mb_server_during_ingest": round(peak_ingest),
        "peak_mb_server": round(server_peak),
        "disk_mb_server": round(_size_mb(location)),
        "disk_mb_raw": round(_size_mb(raw)),
        "nq_mb": round(nq.stat().st_size / 2**20),
        "dump_s": round(dump_s, 1),
        **queries,
    }
    result.pop("peak_mb_sampled")
    return result


def _hub_main(args: argparse.Namespace) -> None:
    n_models = args.models or round(HUB["models"] * args.scale)
    if args.server:
        workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench_kg_hub_server_"))
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            print(json.dumps(_hub_server(args, n_models, workdir), indent=1))
        finally:
            if not args.keep:
                shutil.rmtree(workdir, ignore_errors=True)
        return
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench_kg_hub_"))
    workdir.mkdir(parents=True, exist_ok=True)
    ours, raw, nq = workdir / "ours", workdir / "raw", workdir / "zoo.nq"
    seed = str(args.seed)
    try:
        ingest = _run_child("hub-ingest", str(ours), str(n_models), seed, str(args.chunk))
        dump = _run_child("dump", str(ours), str(nq))
        bulk = _run_child("bulk-nq", str(raw), str(nq))
        nq.unlink()
        shutil.rmtree(raw, ignore_errors=True)
        result: dict[str, Any] = {
            "n_models": n_models,
            "n_datasets": round(n_models * HUB["datasets"] / HUB["models"]),
            "seed": args.seed,
            "chunk": args.chunk,
            **{k: v for k, v in ingest.items() if k not in ("ingest_s", "peak_mb", "disk_mb")},
            "ingest_s": round(ingest["ingest_s"], 1),
            "bulk_load_s": round(bulk["bulk_load_s"], 1),
            "ingest_vs_bulk_load": round(ingest["ingest_s"] / bulk["bulk_load_s"], 2),
            "n_quads_bulk": bulk["n_quads"],
            "peak_mb_ingest_process": round(max(ingest["peak_mb"], ingest["peak_mb_sampled"])),
            "peak_mb_bulk_load_process": round(bulk["peak_mb"]),
            "disk_mb_ours": round(ingest["disk_mb"]),
            "disk_mb_raw": round(bulk["disk_mb"]),
            "nq_mb": round(dump["nq_mb"]),
        }
        result.pop("peak_mb_sampled")
        print(json.dumps(result), file=sys.stderr)  # partial results, in case a later step fails
        result |= _run_child("hub-queries", str(ours), str(n_models), seed, str(args.repeats))
        tables = _run_child("to-tables", str(ours))
        result |= {
            "to_tables_s": round(tables["to_tables_s"], 1),
            "to_tables_peak_mb": round(tables["peak_mb"]),
        }
        if args.gnn_candidates:
            print(json.dumps(result), file=sys.stderr)
            gnn = _run_child("gnn", str(ours), str(args.gnn_candidates), seed)
            result |= {
                f"gnn_{k}": round(v, 1) if isinstance(v, float) else v for k, v in gnn.items()
            }
        print(json.dumps(result, indent=1))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True
    )
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"child {args[0]} failed with status {out.returncode}")
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
    hub = parser.add_argument_group("--hub: a Hugging Face Hub-shaped zoo, streamed in batches")
    hub.add_argument("--hub", action="store_true", help="Run the Hub-shaped benchmark.")
    hub.add_argument("--scale", type=float, default=1.0, help="Fraction of the Hub's size.")
    hub.add_argument("--models", type=int, help="Number of models (instead of --scale).")
    hub.add_argument("--chunk", type=int, default=50_000, help="Models (datasets) per batch.")
    hub.add_argument("--seed", type=int, default=0)
    hub.add_argument(
        "--gnn-candidates", type=int, default=10_000, help="Fit the GNN, rank this many (0: skip)."
    )
    hub.add_argument(
        "--server",
        action="store_true",
        help="Stream into an `oxigraph serve` started here (ZooGraph.connect) instead.",
    )
    hub.add_argument("--workdir", help="Where the stores go (default: a temporary folder).")
    hub.add_argument("--keep", action="store_true", help="Keep the work folder.")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        hub_children = {
            "hub-ingest": lambda: child_hub_ingest(
                rest[0], int(rest[1]), int(rest[2]), int(rest[3])
            ),
            "dump": lambda: child_dump(rest[0], rest[1]),
            "bulk-nq": lambda: child_bulk_nq(rest[0], rest[1]),
            "hub-queries": lambda: child_hub_queries(
                rest[0], int(rest[1]), int(rest[2]), int(rest[3])
            ),
            "to-tables": lambda: child_to_tables(rest[0]),
            "gnn": lambda: child_gnn(rest[0], int(rest[1]), int(rest[2])),
        }
        if kind in hub_children:
            print(json.dumps(hub_children[kind]()))
            return
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
    if args.hub:
        _hub_main(args)
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
