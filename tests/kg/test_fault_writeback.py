"""kill -9 at random moments of write-back: every batch is wholly there or wholly absent.

A child process writes transfer results into an on-disk store through the product's
write-back paths (``ZooGraph.add_records`` with regime columns, numeric attributes and
per-record provenance, small batches and large bulk-loaded ones that also overwrite a
model's field; ``ZooGraph.add_record``) and prints each batch as it starts and once it
has returned. The test kills it with SIGKILL at a random moment (seeded), several times
in a row on the same store, and after each kill checks, on a read-only view and after a
writable re-open, that the graph holds exactly the batches reported committed (plus, at
most, the one in flight, whole): their records with every column, their run nodes and
batch provenance; that nothing is left over (temp spool, staging or uncommitted batch
graphs, ``*.nq`` files); and that the store takes writes again.

``KGT_FAULT_KILLS`` sets the number of kills (default 3; ``benchmarks/fuzz_kg.py`` runs
many more) and ``KGT_FAULT_SEED`` the seed.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pyoxigraph as ox
import pytest

from kgtransfer.kg import ZooGraph
from kgtransfer.kg.iri import ID_BASE
from kgtransfer.kg.vocab import PROV

KILLS = int(os.environ.get("KGT_FAULT_KILLS", "3"))
SEED = int(os.environ.get("KGT_FAULT_SEED", "9"))

#: What batch ``k`` writes; executed by the child and by the test (same definitions).
SPEC = textwrap.dedent(
    """
    import pandas as pd

    LARGE = 1500  # records of a large batch: ~31,000 statements, the bulk path

    def kind(k):
        return "large" if k % 5 == 2 else ("one" if k % 2 else "many")

    def overwrites(k):  # every other large batch changes a stored value (staged retraction)
        return k % 10 == 2

    def rows(k):
        n = {"large": LARGE, "one": 1, "many": 4}[kind(k)]
        return pd.DataFrame({
            "model": [f"m{k}" if i % 2 else "base" for i in range(n)],
            "dataset": ["d"] * n,
            "value": [round((k * 7919 + i) % 1000 / 1000, 3) for i in range(n)],
            "method": ["finetune" if i % 3 else "linear_probe" for i in range(n)],
            "seed": [i for i in range(n)],
            "run": [f"r{k}"] * n,
            "n_train": [100 + k] * n,
            "shots": [10] * n,
            "split": [f"split-{k}"] * n,
            "epochs": [2.5] * n,
            "steps": [40 + i % 7 for i in range(n)],
            "frozen": [i % 3 == 0 for i in range(n)],
            "gain": [0.001 * (i % 50) for i in range(n)],
            "scratch_accuracy": [0.25] * n,
        })

    def provenance(k, i):
        return {"batch": k, "row": i, "wall_time": 1.0 + i, "hyperparameters": {"lr": 0.01}}
    """
)

CHILD = textwrap.dedent(
    """
    # import kgtransfer.kg without the top-level package's heavy imports (torch)
    import importlib.util, sys, types
    _pkg = types.ModuleType("kgtransfer")
    _pkg.__path__ = list(importlib.util.find_spec("kgtransfer").submodule_search_locations)
    sys.modules["kgtransfer"] = _pkg
    from kgtransfer.kg import ZooGraph
    exec(sys.argv[3])

    graph = ZooGraph.open(sys.argv[1])
    print("ready", flush=True)
    for k in range(int(sys.argv[2]), int(sys.argv[2]) + 10):  # 10 batches a run
        print("start", k, flush=True)
        frame = rows(k)
        if kind(k) == "one":
            row = frame.iloc[0]
            record = graph.add_record(
                row["model"], row["dataset"], float(row["value"]), method=row["method"],
                seed=int(row["seed"]), run=row["run"], n_train=int(row["n_train"]),
                shots=int(row["shots"]), split=row["split"], epochs=float(row["epochs"]),
                steps=int(row["steps"]), frozen=bool(row["frozen"]),
                attributes={"gain": float(row["gain"]),
                            "scratch_accuracy": float(row["scratch_accuracy"])},
                provenance=provenance(k, 0), source=f"wb {k}",
                models=pd.DataFrame({"model": [f"m{k}"]}),
            )
            batch = record.rsplit("/", 1)[0]
        else:
            models = pd.DataFrame({"model": [f"m{k}"]})
            if overwrites(k):  # a stored value changes: staged retraction + commit
                models = pd.DataFrame({"model": ["base", f"m{k}"],
                                       "architecture": [f"arch{k}", None]})
            batch = graph.add_records(
                frame, models=models, source=f"wb {k}",
                provenance=[provenance(k, i) for i in range(len(frame))],
            ).batch
        print("done", k, batch, flush=True)
    print("finished", flush=True)
    """
)

_SPEC: dict[str, Any] = {}
exec(SPEC, _SPEC)
_COLUMNS = [
    "model", "dataset", "value", "method", "seed", "run", "n_train", "shots", "split",
    "epochs", "steps", "frozen", "gain", "scratch_accuracy",
]  # fmt: skip


def _rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows as comparable tuples (missing → None, numbers as float, in a fixed order)."""
    out = []
    for row in frame[_COLUMNS].astype(object).itertuples(index=False):
        cells = []
        for cell in row:
            if cell is None or cell is pd.NA or (isinstance(cell, float) and cell != cell):
                cells.append(None)
            elif isinstance(cell, bool) or (hasattr(cell, "dtype") and cell.dtype == bool):
                cells.append(bool(cell))
            elif isinstance(cell, (int, float)) or hasattr(cell, "dtype"):
                cells.append(round(float(cell), 9))
            else:
                cells.append(str(cell))
        out.append(tuple(cells))
    return sorted(out, key=repr)


def _make_store(path: Path) -> None:
    with ZooGraph.create(path) as graph:
        graph.add_tables(
            models=pd.DataFrame({"model": ["base"], "architecture": ["a0"]}),
            datasets=pd.DataFrame({"dataset": ["d"], "n_classes": [10]}),
        )


def _run_child(
    path: Path, first: int, target: int, delay: float
) -> tuple[list[int], dict[int, str], bool]:
    """Start the writer at batch ``first``; SIGKILL it ``delay`` s after batch ``target`` began.

    Returns:
        ``(started, done, finished)``: batch numbers begun, ``{k: batch id}`` of the
        batches the child saw return, and whether it ended on its own.
    """
    errors = path.parent / "writer.err"
    with open(errors, "w", encoding="utf-8") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), str(first), SPEC],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        )
    lines: list[list[str]] = []
    begun = threading.Event()

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            if not line.endswith("\n"):  # a line cut short by the kill is not a report
                break
            lines.append(line.split() or [""])
            if lines[-1] == ["start", str(target)]:
                begun.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        while not begun.wait(0.01) and child.poll() is None:
            pass
        if begun.is_set():
            time.sleep(delay)
    finally:
        child.kill()  # SIGKILL: no cleanup runs (a no-op if it has finished)
        code = child.wait()
        reader.join(30)
    # killed (-9), or finished its batches: anything else is a failure of the writer
    assert code in (-9, 0), errors.read_text(encoding="utf-8")
    started = [int(w[1]) for w in lines if w[0] == "start"]
    done = {int(w[1]): w[2] for w in lines if w[0] == "done" and len(w) == 3}
    return started, done, any(w[0] == "finished" for w in lines)


def _check_state(graph: ZooGraph, expected: dict[int, str], in_flight: int | None) -> set[int]:
    """The graph holds the batches ``expected`` (and maybe ``in_flight``), each whole."""
    batches = graph.batches()
    present = {
        int(source.split()[1]): batch
        for source, batch in zip(batches["source"], batches["batch"], strict=True)
        if source.startswith("wb ")
    }
    assert len(present) == sum(1 for s in batches["source"] if s.startswith("wb "))
    for k, batch in expected.items():
        assert present.get(k) == batch, f"committed batch {k} ({batch}) is missing"
    extra = set(present) - set(expected)
    assert extra <= ({in_flight} if in_flight is not None else set()), extra
    tables = graph.to_tables()
    records = tables.records
    want = pd.concat([_SPEC["rows"](k) for k in sorted(present)] or [_SPEC["rows"](0)[:0]])
    assert _rows(records) == _rows(want), "records differ from the committed batches"
    models = set(tables.models["model"])
    assert models == {"base"} | {f"m{k}" for k in present}
    changed = [k for k in present if _SPEC["overwrites"](k)]
    arch = tables.models.set_index("model").loc["base", "architecture"]
    assert arch == (f"arch{max(changed)}" if changed else "a0")
    assert tables.datasets.set_index("dataset").loc["d", "n_classes"] == 10
    generated = ox.NamedNode(str(PROV.wasGeneratedBy))
    for k, batch in present.items():
        info = graph.batch(batch)
        n = len(_SPEC["rows"](k))
        assert info["counts"]["records"] == n and info["source"] == f"wb {k}"
        node = graph.iri("batch", batch)
        runs = sum(1 for _ in graph._live.quads_for_pattern(None, generated, None, node))
        assert runs == n, f"batch {k}: {runs} run nodes for {n} records"
    names = [g.value for g in graph._live.named_graphs() if isinstance(g, ox.NamedNode)]
    batch_graphs = [g for g in names if g.startswith(f"{ID_BASE}batch/")]
    assert not [g for g in batch_graphs if "staging" in g], "a staging graph was left"
    assert len(batch_graphs) == len(batches), "a batch graph without provenance was left"
    return set(present)


def _leftovers(store: Path) -> list[str]:
    spool = store / ".kgtransfer-tmp"
    found = [str(p) for p in spool.iterdir()] if spool.exists() else []
    found += [str(p) for p in store.parent.glob("*.nq")] + [str(p) for p in store.glob("*.nq")]
    return found + [str(p) for p in store.parent.glob(".*.nq")]


def _kill_round(path: Path, rng: random.Random, n_kills: int, label: str) -> None:
    """Kill a writer ``n_kills`` times on a new store, checking the state after each kill."""
    _make_store(path)
    committed: dict[int, str] = {}
    first, kills = 0, 0
    while kills < n_kills:
        # half the kills hit a large (bulk-loaded) batch, half any batch
        batches = range(first, first + 10)
        large = [k for k in batches if _SPEC["kind"](k) == "large"]
        target = rng.choice(large if rng.random() < 0.5 else list(batches))
        delay = rng.uniform(0.0, 0.8 if _SPEC["kind"](target) == "large" else 0.08)
        started, done, finished = _run_child(path, first, target, delay)
        committed.update(done)
        in_flight = started[-1] if started and started[-1] not in done else None
        context = f"{label}, kill {kills}: {delay:.3f} s into batch {target}, in flight {in_flight}"
        with ZooGraph.open(path, read_only=True) as view:  # a reader, before any recovery
            seen = set(view.batches()["source"])
        with ZooGraph.open(path) as graph:  # the writable open cleans up
            try:
                present = _check_state(graph, committed, in_flight)
            except AssertionError as exc:
                raise AssertionError(f"{context}: {exc}") from exc
            assert set(graph.batches()["source"]) == seen, context
            assert not _leftovers(path), (context, _leftovers(path))
            if in_flight in present:  # the in-flight batch was committed: it counts from now
                committed[in_flight] = (
                    graph.batches().set_index("source").loc[f"wb {in_flight}", "batch"]
                )
        first = (started[-1] + 1) if started else first
        kills += not finished
    with ZooGraph.open(path) as graph:  # writable again: one more batch goes in whole
        batch = graph.add_records(
            _SPEC["rows"](first), models=pd.DataFrame({"model": [f"m{first}"]}), source="after"
        ).batch
        assert graph.batch(batch)["counts"]["records"] == len(_SPEC["rows"](first))
        assert len(graph.to_tables().records) == sum(
            len(_SPEC["rows"](k)) for k in [*committed, first]
        )
    assert not (path / ".kgtransfer-writer.json").exists() and not _leftovers(path)


@pytest.mark.slow
def test_killed_write_back_leaves_whole_batches_and_no_leftovers(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    for start in range(0, KILLS, 3):  # a new store every 3 kills keeps each check cheap
        path = tmp_path / f"graph{start}"
        _kill_round(path, rng, min(3, KILLS - start), f"seed {SEED}, round {start // 3}")
