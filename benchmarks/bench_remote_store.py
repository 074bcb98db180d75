"""The store's operations on a SPARQL server, checked against a local store, and timed.

Runs the same work on a local in-memory ``ZooGraph`` and on ``ZooGraph.connect(--endpoint)``
(ingest ``--batches`` batches of ``--models`` models with records, merge-overwrite one
field, named queries, ``to_tables``, ``remove_batch`` in shuffled order, N-Quads export)
and prints JSON: for each step whether the server's answer equals the local one, and
milliseconds (median over the batches/queries). Works on any SPARQL 1.1 endpoint with the
Graph Store Protocol (``--query-url``/``--update-url``/``--store-url`` for a layout other
than Oxigraph's). The server must be empty, or pass ``--clear`` (drops EVERY graph on it).

    oxigraph serve --location /tmp/ox --bind 127.0.0.1:7878 &
    .venv/bin/python benchmarks/bench_remote_store.py --endpoint http://127.0.0.1:7878
    # Virtuoso (Debian virtuoso-opensource; SPARQL user granted SPARQL_UPDATE):
    .venv/bin/python benchmarks/bench_remote_store.py --endpoint http://127.0.0.1:8890 \\
        --query-url http://127.0.0.1:8890/sparql --update-url http://127.0.0.1:8890/sparql \\
        --store-url http://127.0.0.1:8890/sparql-graph-crud --clear
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import random
import statistics
import time
from typing import Any


def _tables(batch: int, n_models: int) -> dict[str, Any]:
    import pandas as pd

    models = [f"b{batch}-m{i}" for i in range(n_models)]
    return {
        "models": pd.DataFrame(
            {"model": models, "architecture": "mlp", "trained_on": "d0", "n_params": 1000.0}
        ),
        "datasets": pd.DataFrame({"dataset": ["d0", "d1"], "n_classes": [2.0, 2.0]}),
        "records": pd.DataFrame(
            {
                "model": models * 2,
                "dataset": ["d0"] * n_models + ["d1"] * n_models,
                "value": [0.5 + 0.4 * i / n_models for i in range(n_models)] * 2,
                "seed": 0,
            }
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="Base URL of the SPARQL server.")
    parser.add_argument("--query-url")
    parser.add_argument("--update-url")
    parser.add_argument("--store-url")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--clear", action="store_true", help="DROP ALL on the server first.")
    args = parser.parse_args()

    from kgtransfer.kg import ZooGraph
    from kgtransfer.kg._remote import RemoteStore

    urls = {"query_url": args.query_url, "update_url": args.update_url, "store_url": args.store_url}
    if args.clear:
        RemoteStore(args.endpoint, **urls).update("DROP SILENT ALL")
    graphs = {"local": ZooGraph(), "remote": ZooGraph.connect(args.endpoint, **urls)}
    times: dict[str, dict[str, list[float]]] = {name: {} for name in graphs}
    same: dict[str, bool] = {}

    def run(step: str, work: Any) -> dict[str, Any]:
        out = {}
        for name, graph in graphs.items():
            start = time.perf_counter()
            out[name] = work(graph)
            times[name].setdefault(step, []).append(time.perf_counter() - start)
        return out

    def rows(frame: Any) -> Any:
        """A frame without batch-specific ids, in a fixed row order."""
        frame = frame.drop(columns=["record"], errors="ignore")
        return frame.astype(str).sort_values(list(frame.columns)).reset_index(drop=True)

    def check(step: str, values: dict[str, Any]) -> None:
        a, b = values["local"], values["remote"]
        equal = rows(a).equals(rows(b)) if hasattr(a, "equals") else a == b
        same[step] = same.get(step, True) and bool(equal)

    ids: dict[str, list[str]] = {name: [] for name in graphs}
    for b in range(args.batches):
        out = run("ingest", lambda g, b=b: g.add_tables(**_tables(b, args.models)))
        for name, batch in out.items():
            ids[name].append(batch.batch)  # add_tables returns its IngestReport
    # a merge that overwrites one field of every model of batch 0
    overwrite = _tables(0, args.models)["models"].assign(architecture="cnn")
    run("merge", lambda g: g.add_tables(models=overwrite))
    for dataset in ("d0", "d1"):
        check("best_sources", run("best_sources", lambda g, d=dataset: g.best_sources(d)))
        check("records", run("records", lambda g, d=dataset: g.records(dataset=d, limit=None)))
        check("candidates", run("candidates", lambda g, d=dataset: g.candidates(d, limit=None)))
    check("stats", run("stats", lambda g: g.stats()))

    def tables(g: Any) -> Any:
        t = g.to_tables()
        return [t.models, t.datasets, t.records.drop(columns=["record"], errors="ignore")]

    values = run("to_tables", tables)
    same["to_tables"] = all(
        a.reset_index(drop=True).equals(b.reset_index(drop=True))
        for a, b in zip(values["local"], values["remote"], strict=True)
    )
    order = list(range(args.batches))
    random.Random(0).shuffle(order)
    for i in order[: max(1, args.batches // 2)]:
        for name, graph in graphs.items():
            start = time.perf_counter()
            graph.remove_batch(ids[name][i])
            times[name].setdefault("remove_batch", []).append(time.perf_counter() - start)
    check("after_remove", run("after_remove", lambda g: g.to_tables().models))

    def export_lines(g: Any) -> int:
        buffer = io.BytesIO()
        g.export(buffer, format="nq")
        return len(buffer.getvalue().splitlines())

    check("export_nq_lines", run("export_nq", export_lines))
    result = {
        "python": platform.python_version(),
        "endpoint": graphs["remote"]._live.url,  # type: ignore[attr-defined]
        "batches": args.batches,
        "models_per_batch": args.models,
        "same_as_local": same,
        "all_same": all(same.values()),
        "ms_median": {
            name: {step: round(1000 * statistics.median(v), 1) for step, v in steps.items()}
            for name, steps in times.items()
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
