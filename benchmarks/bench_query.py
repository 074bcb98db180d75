"""Benchmark the cost of a safe query: parse check, worker process, thread.

Prints JSON: milliseconds per query (median of ``--repeat`` runs) for

* ``parse_cold`` / ``parse_cached``: :func:`check_sparql` on new text / on text seen before;
* ``direct_*``: pyoxigraph ``Store.query`` in this process (no check, no timeout), the baseline;
* ``disk_*``: ``ZooGraph.query`` on an on-disk store (worker process, handle reused);
* ``disk_after_write``: the same after each write (the worker reopens its handle);
* ``memory_*``: ``ZooGraph.query`` on an in-memory store (thread);
* ``worker_start``: the first query of a process (starts the worker).

``small`` is a one-row lookup, ``rows`` returns ``--rows`` rows.

    .venv/bin/python benchmarks/bench_query.py --repeat 50 --rows 1000
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def _ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--rows", type=int, default=1000)
    args = parser.parse_args()

    from kgtransfer.kg import ZooGraph
    from kgtransfer.kg import _sparql_guard as guard
    from kgtransfer.kg.vocab import PREFIXES

    data = "".join(
        f'<http://e.example/{i}> <http://e.example/p> "{i}" .\n' for i in range(args.rows)
    ).encode()
    small = "SELECT ?o WHERE { <http://e.example/1> <http://e.example/p> ?o }"
    rows = "SELECT ?s ?o WHERE { ?s <http://e.example/p> ?o }"
    out: dict[str, object] = {"python": platform.python_version(), "rows": args.rows}

    counter = iter(range(10**9))
    out["parse_cold_ms"] = _ms(lambda: guard.check_sparql(f"{small} # {next(counter)}"), 10)
    out["parse_cached_ms"] = _ms(lambda: guard.check_sparql(small), args.repeat)

    with tempfile.TemporaryDirectory() as folder:
        graph = ZooGraph.open(Path(folder) / "store")
        graph.load_rdf(data, format="nt")
        store = graph._live

        def direct(text: str) -> object:
            result = store.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
            return [list(s) for s in result]  # type: ignore[union-attr]

        start = time.perf_counter()
        graph.query(small)
        out["worker_start_ms"] = round(1000 * (time.perf_counter() - start), 1)
        out["direct_small_ms"] = _ms(lambda: direct(small), args.repeat)
        out["disk_small_ms"] = _ms(lambda: graph.query(small), args.repeat)
        out["direct_rows_ms"] = _ms(lambda: direct(rows), args.repeat)
        out["disk_rows_ms"] = _ms(lambda: graph.query(rows, limit=None), args.repeat)
        out["disk_named_stats_ms"] = _ms(lambda: graph.stats(), args.repeat)

        def after_write() -> None:
            graph.query(
                f"INSERT DATA {{ <http://e.example/w> <http://e.example/p> {next(counter)} }}",
                allow_update=True,
            )

        write_only = _ms(after_write, args.repeat)

        def write_then_query() -> None:
            after_write()
            graph.query(small)

        out["disk_after_write_ms"] = round(_ms(write_then_query, args.repeat) - write_only, 3)
        graph.close()

    memory = ZooGraph()
    memory.load_rdf(data, format="nt")
    mstore = memory._live

    def mdirect(text: str) -> object:
        result = mstore.query(text, prefixes=PREFIXES, use_default_graph_as_union=True)
        return [list(s) for s in result]  # type: ignore[union-attr]

    out["direct_memory_small_ms"] = _ms(lambda: mdirect(small), args.repeat)
    out["memory_small_ms"] = _ms(lambda: memory.query(small), args.repeat)
    out["direct_memory_rows_ms"] = _ms(lambda: mdirect(rows), args.repeat)
    out["memory_rows_ms"] = _ms(lambda: memory.query(rows, limit=None), args.repeat)
    for kind in ("small", "rows"):
        out[f"overhead_disk_{kind}_ms"] = round(
            float(out[f"disk_{kind}_ms"]) - float(out[f"direct_{kind}_ms"]),  # type: ignore[arg-type]
            3,
        )
        out[f"overhead_memory_{kind}_ms"] = round(
            float(out[f"memory_{kind}_ms"]) - float(out[f"direct_memory_{kind}_ms"]),  # type: ignore[arg-type]
            3,
        )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
