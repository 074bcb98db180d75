"""Write the zoo into the knowledge graph, idempotently.

``home/zoo/state.json`` remembers the batch ids written for the build (datasets,
similarities, model cards) and for the grid (transfer records, ``scratch_accuracy``)
and a digest of their content. A re-run with the same content leaves the graph
alone; changed content first retracts the old batches (``remove_batch``), so the
graph never holds a result twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from kgtransfer.errors import ArgumentError, UnknownNameError
from kgtransfer.kg import ZooGraph
from kgtransfer.transfer import method_frozen, training_regime
from kgtransfer.zoo._io import read_json, write_json_atomic
from kgtransfer.zoo._paths import confined, datasets_dir, graph_path, model_dir, state_path
from kgtransfer.zoo._spec import ZooSpec

__all__ = ["GRID_RUN_PREFIX", "sync_build_to_graph", "sync_grid_to_graph"]

#: Version of how grid records are written (bump to rewrite them on the next run_grid).
_RECORD_FORMAT = 2

#: Prefix of the ``run`` label of every grid record: ``kgtransfer-zoo/<spec>/<run hash>``.
GRID_RUN_PREFIX = "kgtransfer-zoo"


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _retract(graph: ZooGraph, batches: list[str]) -> None:
    for batch in batches:
        # already gone (e.g. the store was rebuilt): nothing to retract
        with contextlib.suppress(UnknownNameError):
            graph.remove_batch(batch)


def sync_build_to_graph(
    home: str | Path,
    *,
    spec: ZooSpec,
    seed: int,
    datasets: pd.DataFrame,
    similarities: pd.DataFrame,
    model_names: list[str],
    force: bool,
) -> bool:
    """Write datasets, similarity edges and the spec's model cards (with lineage).

    Returns:
        Whether the graph was written (False: it already held exactly this content).
    """
    state = read_json(state_path(home)) or {}
    digest = _digest(
        {
            "spec": spec.name,
            "seed": seed,
            "models": {name: spec.entry_hash(name, seed) for name in model_names},
            "datasets": datasets.to_dict("records"),
            "similarities": similarities.to_dict("records"),
        }
    )
    previous = state.get("build") or {}
    if not force and previous.get("digest") == digest and graph_path(home).is_dir():
        return False
    with ZooGraph.open(graph_path(home), create=True) as graph:
        # The new batches first, then the old ones go: entities the grid's records point
        # at stay defined throughout (remove_batch refuses to leave them dangling).
        # Cards before datasets: a card mentions its datasets (task only); the dataset
        # rows after it carry the full metadata.
        # Only this spec's cards: the models folder may hold other specs' models too.
        with tempfile.TemporaryDirectory(prefix="kgtransfer-cards-") as tmp:
            for name in model_names:
                (Path(tmp) / name).mkdir()
                shutil.copyfile(model_dir(home, name) / "README.md", Path(tmp) / name / "README.md")
            batches = [graph.add_model_cards(tmp).batch]
        batches.append(graph.add_tables(datasets=datasets, similarities=similarities).batch)
        old = [b for b in previous.get("batches", []) if b not in batches]
        try:
            _retract(graph, old)
        except ArgumentError:  # grid records of a model this build dropped: they go first
            grid = state.get("grid")
            if not isinstance(grid, dict):
                grid = {}
            _retract(graph, list(grid.get("batches", [])))
            grid["batches"] = []
            _retract(graph, old)
    state["build"] = {"digest": digest, "batches": batches, "spec": spec.name, "seed": seed}
    # Dataset rows were rewritten without the grid's numeric attributes: the next
    # run_grid must resync (its old batches stay listed, so they are retracted then).
    if isinstance(state.get("grid"), dict):
        state["grid"]["digest"] = None
    write_json_atomic(state_path(home), state)
    return True


def _target_rows(home: str | Path, targets: list[str]) -> pd.DataFrame:
    rows = []
    for name in targets:
        meta = read_json(confined(datasets_dir(home), f"{name}.json", what="target name"))
        if not isinstance(meta, dict):
            raise ValueError(
                f"No dataset metadata for target {name!r} under {datasets_dir(home)}; "
                "run build_zoo(home) first."
            )
        rows.append(
            {
                k: meta[k]
                for k in (
                    "dataset",
                    "task",
                    "domain",
                    "modality",
                    "n_samples",
                    "n_classes",
                    "n_test",
                )
            }
        )
    return pd.DataFrame(rows)


def sync_grid_to_graph(
    home: str | Path,
    *,
    spec: ZooSpec,
    seed: int,
    grid: pd.DataFrame,
    force: bool,
    regimes: Mapping[str, Mapping[str, Any]] | None = None,
) -> bool:
    """Write the grid's transfer records and each target's ``scratch_accuracy``.

    One batch per target, written by ``ZooGraph.add_records`` (the one record writer):
    its records (value = test accuracy, metric ``accuracy``, method, seed, run
    ``kgtransfer-zoo/<spec>/<run hash>``, the few-shot regime: ``n_train``, ``shots``,
    ``split``, ``epochs``, ``frozen``; numeric ``gain``, ``scratch_accuracy``,
    ``wall_time``, ``n_test``), each with its provenance (hyper-parameters, split,
    versions, wall time, transfer report summary) on its run, and the target's dataset
    row with ``scratch_accuracy``.

    Args:
        home: The kgtransfer home.
        spec: The zoo spec.
        seed: The grid's seed.
        grid: The grid rows (:data:`~kgtransfer.zoo.grid.GRID_COLUMNS`).
        force: Rewrite even when the graph already holds this content.
        regimes: Per target, its training split's regime (``n_train``, ``shots``,
            ``split``; :func:`kgtransfer.transfer.training_regime`); read from the
            target's split (:func:`~kgtransfer.zoo.load_target`) when not given.

    Returns:
        Whether the graph was written.
    """
    ok = grid[grid["status"] == "ok"]
    transfers = ok[ok["method"] != "scratch"]
    scratch = ok[ok["method"] == "scratch"]
    state = read_json(state_path(home)) or {}
    digest = _digest(
        {
            "records": _RECORD_FORMAT,
            "build": (state.get("build") or {}).get("digest"),
            "rows": ok[
                ["source", "architecture", "target", "method", "seed", "run_hash", "accuracy"]
            ].to_dict("records"),
        }
    )
    previous = state.get("grid") or {}
    if not force and previous.get("digest") == digest:
        return False
    targets = list(dict.fromkeys(grid["target"]))
    datasets = _target_rows(home, targets)
    best_scratch = scratch.groupby("target")["accuracy"].max()
    datasets["scratch_accuracy"] = [float(best_scratch.get(t, float("nan"))) for t in targets]
    batches: list[str] = []
    with ZooGraph.open(graph_path(home)) as graph:
        _retract(graph, list(previous.get("batches", [])))
        for target in targets:
            rows = transfers[transfers["target"] == target]
            regime = dict(regimes[target]) if regimes and target in regimes else None
            if regime is None:
                from kgtransfer.zoo._datasets import load_target

                train, _ = load_target(spec, target, seed)
                regime = training_regime(None, train, len(train), None)
            records = pd.DataFrame(
                {
                    "model": rows["source"].astype(str),
                    "dataset": target,
                    "value": rows["accuracy"].astype(float),
                    "metric": "accuracy",
                    "method": rows["method"].astype(str),
                    "seed": rows["seed"].astype(int),
                    "run": [f"{GRID_RUN_PREFIX}/{spec.name}/{h}" for h in rows["run_hash"]],
                    "n_train": rows["n_train"].astype(int),
                    "shots": regime.get("shots"),
                    "split": regime.get("split"),
                    "epochs": float(spec.grid_budget.epochs),
                    "steps": None,
                    "frozen": [method_frozen(m) for m in rows["method"].astype(str)],
                    "gain": rows["gain"].astype(float),
                    "scratch_accuracy": rows["scratch"].astype(float),
                    "wall_time": rows["seconds"].astype(float),
                    "n_test": rows["n_test"].astype(float),
                }
            )
            provenance = [
                {
                    "run": run,
                    "model": r["source"],
                    "dataset": target,
                    "method": r["method"],
                    "seed": int(r["seed"]),
                    "hyperparameters": json.loads(r["hparams"] or "{}"),
                    "split": r["split"],
                    "versions": json.loads(r["versions"] or "{}"),
                    "wall_time": float(r["seconds"]),
                    "transfer_report": _summary(r["report"]),
                    "finished_at": r["finished_at"],
                }
                for run, r in zip(records["run"], rows.to_dict("records"), strict=True)
            ]
            report = graph.add_records(
                records,
                datasets=datasets[datasets["dataset"] == target],
                source=f"kgtransfer zoo grid ({spec.name}, {target}, seed {seed})",
                provenance=provenance,
            )
            batches.append(str(report.batch))
    state["grid"] = {"digest": digest, "batches": batches, "spec": spec.name, "seed": seed}
    write_json_atomic(state_path(home), state)
    return True


def _summary(report_json: str) -> dict[str, Any]:
    """Counts of copied/adapted/reinitialized/dropped tensors of a transfer report."""
    try:
        report = json.loads(report_json or "{}")
    except ValueError:
        return {}
    out: dict[str, Any] = {}
    for key, value in report.items():
        out[key] = len(value) if isinstance(value, list) else value
    return out
