"""Time the default GNN recommender: fit idle, fit beside a busy process, rank 10,000; prints JSON.

    python benchmarks/plain_tables.py --shared ../shared/benchmarks --out /tmp/plain
    python benchmarks/bench_recommender_speed.py --plain /tmp/plain/transfergraph-image

Targets (issue 10, item 9): ``GNNRecommender().fit`` on the TransferGraph image zoo (plain
tables through ``ZooGraph.from_tables``, one target held out) within 60 s on 2 cores;
``rank`` over 10,000 candidates within 100 ms; ``fit`` at most 2x slower while another
process keeps one of the two cores busy.

- **fit idle / contended**: ``GNNRecommender(seed=...).fit(graph, exclude_datasets=[target])``
  for each thread setting of ``--threads`` (through
  ``kgtransfer.transfer.recommend.recommender_threads``), first alone, then while a
  competitor subprocess runs: ``--competitor matmul`` (a numpy 256x256 matmul loop on one
  BLAS thread) or ``spin`` (a pure-Python loop), pinned to the last CPU of this process's
  affinity set unless ``--no-pin``. ``ratio`` = contended / idle. On a shared machine the
  competitor also pushes other users' work onto the fit's core, so a fixed single-threaded
  reference workload is timed beside each fit: ``reference_ratio`` is its contended / idle
  (the machine's part), ``ratio_over_reference`` the part the fit's own threading adds.
- **rank**: a seeded synthetic zoo of ``--rank-models`` models with lineage and
  task/domain (``benchmarks/synthetic_zoo.py``), the GNN fitted with the default network
  and ensemble but ``--rank-epochs`` training steps (the rank cost does not depend on
  them); ``rank(target)`` timed cold (first call) and warm (median of ``--repeats``).

The machine's load average (``os.getloadavg``) is recorded before and after each
measurement: on a shared machine the idle numbers are not idle.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from kgtransfer.kg import ZooGraph
from kgtransfer.transfer.recommend import GNNRecommender, recommender_threads

HERE = Path(__file__).resolve().parent

_COMPETITORS = {
    "matmul": "import numpy as np\na = np.random.default_rng(0).random((256, 256))\n"
    "while True:\n    a = a @ a\n    a /= np.abs(a).max()",
    "spin": "x = 0\nwhile True:\n    x += 1",
}


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def _graph(folder: Path) -> ZooGraph:
    files = {
        t: str(folder / f"{t}.csv")
        for t in ("models", "datasets", "records", "similarities", "scores")
        if (folder / f"{t}.csv").is_file()
    }
    if "records" not in files:
        raise SystemExit(f"no records.csv in {folder}; run benchmarks/plain_tables.py first")
    return ZooGraph.from_tables(**files)


def _fit_seconds(graph: ZooGraph, target: str, seed: int, threads: int | None) -> float:
    with recommender_threads(threads):
        start = time.perf_counter()
        GNNRecommender(seed=seed).fit(graph, exclude_datasets=[target])
        return time.perf_counter() - start


def _reference_seconds() -> float:
    """A fixed single-threaded workload (Python loop + small matmuls): how much CPU this
    process gets right now. Its contended/idle ratio is the machine's share of a fit's ratio."""
    start = time.perf_counter()
    x = 0
    for i in range(3_000_000):
        x += i
    a = np.random.default_rng(0).random((128, 128))
    for _ in range(2000):
        a = a @ a
        a /= np.abs(a).max()
    return time.perf_counter() - start


def _competitor(kind: str, pin: bool) -> tuple[subprocess.Popen[bytes], list[int] | None]:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    cpus = sorted(os.sched_getaffinity(0))
    core = [cpus[-1]] if pin and len(cpus) > 1 else None

    def pin_child() -> None:  # runs in the child before exec
        if core is not None:
            os.sched_setaffinity(0, core)

    proc = subprocess.Popen(
        [sys.executable, "-c", _COMPETITORS[kind]], env=env, preexec_fn=pin_child
    )
    time.sleep(1.0)  # let it reach its loop
    return proc, core


def fit_timings(
    graph: ZooGraph, target: str, seed: int, threads: list[int | None], kind: str, pin: bool
) -> list[dict[str, Any]]:
    rows = []
    _fit_seconds(graph, target, seed, threads[0])  # warm-up: imports, caches
    for n in threads:
        load_idle = _load()
        ref_idle = _reference_seconds()
        idle = _fit_seconds(graph, target, seed, n)
        proc, core = _competitor(kind, pin)
        try:
            load_busy = _load()
            ref_busy = _reference_seconds()
            busy = _fit_seconds(graph, target, seed, n)
        finally:
            proc.terminate()
            proc.wait()
        rows.append(
            {
                "threads": n,
                "fit_seconds_idle": round(idle, 2),
                "fit_seconds_contended": round(busy, 2),
                "ratio": round(busy / idle, 2),
                "reference_ratio": round(ref_busy / ref_idle, 2),
                "ratio_over_reference": round(busy / idle / (ref_busy / ref_idle), 2),
                "loadavg_before_idle": load_idle,
                "loadavg_before_contended": load_busy,
                "competitor": kind,
                "competitor_cpu": core,
            }
        )
        print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def rank_timings(n_models: int, seed: int, epochs: int, repeats: int) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("synthetic_zoo", HERE / "synthetic_zoo.py")
    zoo = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(zoo)  # type: ignore[union-attr]
    tables = zoo.generate(seed=seed, n_models=n_models, n_datasets=24, density=0.01)
    graph = ZooGraph.from_tables(
        models=tables["models"], datasets=tables["datasets"], records=tables["records"]
    )
    target = str(tables["records"]["dataset"].iloc[0])
    start = time.perf_counter()
    rec = GNNRecommender(seed=seed, epochs=epochs).fit(graph, exclude_datasets=[target])
    fit = time.perf_counter() - start
    start = time.perf_counter()
    first = rec.rank(target)
    cold = time.perf_counter() - start
    lat = []
    for _ in range(repeats):
        start = time.perf_counter()
        rec.rank(target)
        lat.append(time.perf_counter() - start)
    graph.close()
    return {
        "candidates": len(first),
        "rank_ms_cold": round(1000 * cold, 1),
        "rank_ms_warm_median": round(1000 * float(np.median(lat)), 1),
        "rank_ms_warm_max": round(1000 * float(np.max(lat)), 1),
        "fit_seconds": round(fit, 1),
        "fit_epochs": epochs,
        "loadavg_after": _load(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--plain", type=Path, default=Path("/tmp/plain/transfergraph-image"), help="zoo folder"
    )
    parser.add_argument("--target", default="dtd", help="held-out target of the fit timing")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        default="1,2",
        help="comma-separated thread settings to time ('none' = the process's own)",
    )
    parser.add_argument("--competitor", choices=sorted(_COMPETITORS), default="matmul")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the competitor")
    parser.add_argument("--rank-models", type=int, default=10_000)
    parser.add_argument("--rank-epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-fit", action="store_true")
    parser.add_argument("--skip-rank", action="store_true")
    args = parser.parse_args()
    threads = [None if t == "none" else int(t) for t in args.threads.split(",")]
    out: dict[str, Any] = {
        "cpus": len(os.sched_getaffinity(0)),
        "torch_threads_outside": torch.get_num_threads(),
        "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")},
        "niceness": os.nice(0),
        "loadavg_start": _load(),
        "zoo": str(args.plain),
        "target": args.target,
    }
    if not args.skip_fit:
        graph = _graph(args.plain)
        out["fit"] = fit_timings(
            graph, args.target, args.seed, threads, args.competitor, not args.no_pin
        )
        graph.close()
    if not args.skip_rank:
        out["rank"] = rank_timings(args.rank_models, args.seed, args.rank_epochs, args.repeats)
    out["loadavg_end"] = _load()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
