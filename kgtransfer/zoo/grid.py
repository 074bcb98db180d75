"""The transfer grid: every zoo source fine-tuned on every few-shot target, versus scratch.

For each target and each architecture in the zoo, a from-scratch baseline is
trained with the grid budget and seed; then each source is transferred to the
target (the target model has the source's architecture with the target's input
shape and classes: what fits is copied, the rest adapted or re-initialised, as the
transfer report says). Rows are cached in ``home/zoo/grid.csv``, rewritten
atomically after every run, and every result is written back into the graph as a
transfer record (through ``ZooGraph.add_records``) with its few-shot regime
(``n_train``, ``shots``, ``split``, ``epochs``, ``frozen``), provenance and numeric
``gain``, ``scratch_accuracy``, ``wall_time`` and ``n_test`` attributes.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from kgtransfer._versions import versions
from kgtransfer.errors import ErrorMode, check_error_mode
from kgtransfer.executor import Executor, executor_scope
from kgtransfer.transfer import training_regime
from kgtransfer.zoo._datasets import load_target
from kgtransfer.zoo._graph import sync_grid_to_graph
from kgtransfer.zoo._io import write_csv_atomic
from kgtransfer.zoo._paths import grid_path
from kgtransfer.zoo._runs import RunOutcome, run_scratch, run_transfer
from kgtransfer.zoo._spec import DEFAULT_ZOO, ZooSpec
from kgtransfer.zoo._train import torch_threads
from kgtransfer.zoo.build import load_zoo_model, zoo_status

__all__ = ["GRID_COLUMNS", "read_grid", "run_grid"]

#: Columns of ``home/zoo/grid.csv`` (and of :func:`run_grid`'s DataFrame), in order.
#: Scratch rows have an empty ``source`` and ``method == "scratch"``.
GRID_COLUMNS: list[str] = [
    "source",
    "architecture",
    "target",
    "method",
    "seed",
    "status",  # ok | skipped (incompatible input) | failed (errors="warn"|"collect")
    "accuracy",
    "scratch",
    "gain",
    "negative_transfer",
    "n_train",
    "n_test",
    "seconds",
    "run_hash",
    "split",
    "hparams",  # JSON
    "report",  # JSON: the transfer report (copied / adapted / reinitialized / dropped)
    "versions",  # JSON
    "error",
    "finished_at",
]

_KEY = ["source", "architecture", "target", "method", "seed"]
#: Accuracy drop below scratch beyond which a transfer counts as negative transfer.
NEGATIVE_TOLERANCE = 0.01


def read_grid(home: str | Path) -> pd.DataFrame:
    """The cached grid results of ``home`` (empty frame with :data:`GRID_COLUMNS` if none).

    Example:
        >>> import tempfile
        >>> read_grid(tempfile.mkdtemp()).columns.tolist()[:3]
        ['source', 'architecture', 'target']
    """
    path = grid_path(home)
    if not path.is_file():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in GRID_COLUMNS})
    frame = pd.read_csv(
        path,
        dtype={"source": str, "error": str},
        keep_default_na=False,
        na_values={"accuracy": [""], "scratch": [""], "gain": [""]},
    )
    for col in GRID_COLUMNS:
        if col not in frame.columns:
            frame[col] = ""
    for col in ("accuracy", "scratch", "gain", "seconds"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame["seed"] = frame["seed"].astype(int)
    return frame[GRID_COLUMNS]


@dataclass
class _Grid:
    home: Path
    rows: dict[tuple[Any, ...], dict[str, Any]]

    def get(self, key: tuple[Any, ...], run_hash: str) -> dict[str, Any] | None:
        """The cached row, unless missing, stale or failed (failed runs are retried)."""
        row = self.rows.get(key)
        if row is None or row["run_hash"] != run_hash or row["status"] == "failed":
            return None
        return row

    def put(self, row: dict[str, Any]) -> None:
        self.rows[tuple(row[k] for k in _KEY)] = row
        write_csv_atomic(grid_path(self.home), self.frame())

    def frame(self) -> pd.DataFrame:
        if not self.rows:
            return read_grid(self.home).iloc[0:0]
        return pd.DataFrame(list(self.rows.values()))[GRID_COLUMNS]


def _row(
    *,
    source: str,
    arch: str,
    target: str,
    method: str,
    seed: int,
    run_hash: str,
    outcome: RunOutcome,
    scratch: float | None,
) -> dict[str, Any]:
    acc = outcome.accuracy
    gain = None if acc is None or scratch is None or method == "scratch" else acc - scratch
    return {
        "source": source,
        "architecture": arch,
        "target": target,
        "method": method,
        "seed": seed,
        "status": outcome.status,
        "accuracy": acc,
        "scratch": scratch if method != "scratch" else acc,
        "gain": gain,
        "negative_transfer": bool(gain is not None and gain < -NEGATIVE_TOLERANCE),
        "n_train": outcome.n_train,
        "n_test": outcome.n_test,
        "seconds": round(outcome.seconds, 3),
        "run_hash": run_hash,
        "split": outcome.split,
        "hparams": json.dumps(outcome.hparams, sort_keys=True),
        "report": json.dumps(outcome.report, sort_keys=True, default=str),
        "versions": json.dumps(versions(), sort_keys=True),
        "error": outcome.error or "",
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def run_grid(
    home: str | Path,
    *,
    spec: ZooSpec = DEFAULT_ZOO,
    seed: int = 0,
    force: bool = False,
    progress: bool = False,
    num_threads: int | None = 1,
    errors: ErrorMode = "raise",
    executor: str | Executor | None = None,
) -> pd.DataFrame:
    """Transfer every source of ``spec`` to every target and compare with scratch.

    Needs the zoo built with the same ``spec`` and ``seed`` (:func:`build_zoo`).
    Per target: one scratch run per architecture of the zoo, then every source with
    every method of ``spec.methods`` (default fine-tuning), all with
    ``spec.grid_budget`` and ``seed`` on the target's fixed few-shot split
    (:func:`load_target`), evaluated on its held-out test split. A source whose
    architecture cannot take the target's input is a ``skipped`` row with the reason.

    Each run is cached in ``home/zoo/grid.csv`` by (source, architecture, target,
    method, seed) and a content hash of the spec entries involved; the file is
    rewritten atomically after every run, so a crash loses at most one run. Then the
    graph at ``home/graph`` receives every successful transfer as a record (value =
    target test accuracy, metric ``accuracy``, the method, seed, provenance with
    hyper-parameters, split, versions and wall time), its few-shot regime and numeric
    attributes ``gain`` and ``scratch_accuracy``, and each target dataset gets
    ``scratch_accuracy`` (its
    best scratch accuracy over the architectures).

    Args:
        home: The kgtransfer home folder holding the built zoo.
        spec: The zoo spec (must match the build).
        seed: Seed of the target splits, the transfers and the scratch runs.
        force: Recompute every run even when cached.
        progress: Show a tqdm bar on stderr.
        num_threads: torch threads while training (restored afterwards); ``None``
            keeps the current setting.
        errors: A run that fails: ``"raise"`` stops (finished runs stay cached);
            ``"warn"`` (one ``UserWarning`` each) and ``"collect"`` go on and keep a
            ``failed`` row with the reason in ``error``, retried by the next call.
        executor: Where the runs execute: ``"serial"`` (default, in this process),
            ``"ray"`` (a local Ray on 127.0.0.1) or a :class:`~kgtransfer.executor.Executor`
            (e.g. ``RayExecutor(address=...)``). Each run's torch threads are pinned to
            ``num_threads`` wherever it runs, so the grid is the same; results come back
            to this process, which alone writes the cache and the graph, one row as each
            run finishes (a crash loses no finished run; the next call resumes).

    Returns:
        The grid for this spec and seed, one row per run, columns :data:`GRID_COLUMNS`.

    Raises:
        ValueError: The zoo is not built (or built for another spec/seed); run
            :func:`build_zoo` first.

    Example:
        >>> import tempfile
        >>> from kgtransfer.zoo import TINY_ZOO, build_zoo
        >>> home = tempfile.mkdtemp()
        >>> _ = build_zoo(home, spec=TINY_ZOO)
        >>> grid = run_grid(home, spec=TINY_ZOO)
        >>> grid.groupby("method").size().to_dict()
        {'finetune': 8, 'scratch': 4}
        >>> bool(grid["status"].eq("ok").all())
        True
    """
    check_error_mode(errors)
    with torch_threads(num_threads), executor_scope(executor) as ex:
        return _grid(
            home,
            spec=spec,
            seed=seed,
            force=force,
            progress=progress,
            errors=errors,
            executor=ex,
            num_threads=num_threads,
        )


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _with_scratch(row: dict[str, Any], scratch: float) -> dict[str, Any]:
    """A transfer row with its baseline's accuracy and the gain over it filled in."""
    acc = row["accuracy"]
    gain = None if _missing(acc) else float(acc) - scratch
    return {
        **row,
        "scratch": scratch,
        "gain": gain,
        "negative_transfer": bool(gain is not None and gain < -NEGATIVE_TOLERANCE),
    }


def _failed(
    errors: str, what: str, exc: BaseException, train: Any, test: Any, seconds: float
) -> RunOutcome:
    """With ``errors`` "warn"/"collect", a run that raised is a ``failed`` row (else re-raise)."""
    if errors == "raise" or not isinstance(exc, Exception):
        raise exc
    reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
    if errors == "warn":
        warnings.warn(f"zoo grid run {what} failed: {reason}", UserWarning, stacklevel=4)
    return RunOutcome(
        status="failed",
        accuracy=None,
        n_train=len(train),
        n_test=len(test),
        seconds=seconds,
        split="",
        error=reason,
    )


@dataclass
class _Cell:
    """One run of the grid: its cache key, hash and (when not cached) what to run."""

    key: tuple[Any, ...]
    run_hash: str
    what: str
    train: Any
    test: Any
    task: Callable[[], RunOutcome] | None = None


def _grid(
    home: str | Path,
    *,
    spec: ZooSpec,
    seed: int,
    force: bool,
    progress: bool,
    errors: str,
    executor: Executor,
    num_threads: int | None,
) -> pd.DataFrame:
    home = Path(home)
    status = zoo_status(home, spec=spec, seed=seed)
    not_built = status.loc[status["status"] != "built", "model"].tolist()
    if not_built:
        raise ValueError(
            f"The zoo under {home} is not built for spec {spec.name!r} with seed {seed}: "
            f"{len(not_built)} source(s) missing or stale (e.g. {not_built[0]!r}). "
            "Run build_zoo(home, spec=..., seed=...) (CLI: kgtransfer zoo build) first."
        )
    cached = read_grid(home)
    grid = _Grid(home, {tuple(r[k] for k in _KEY): r for r in cached.to_dict("records")})
    # one scratch baseline per distinct architecture (name + keyword arguments)
    archs = {s.architecture: (s.arch, s.arch_kwargs) for s in spec.sources}
    cells: list[_Cell] = []
    models: dict[str, Any] = {}
    regimes: dict[str, dict[str, Any]] = {}
    budget = spec.grid_budget
    for tgt in spec.targets:
        train, test = load_target(spec, tgt.name, seed)
        regimes[tgt.name] = training_regime(None, train, len(train), budget.epochs)
        for label, (arch, kwargs) in archs.items():
            cell = _Cell(
                ("", label, tgt.name, "scratch", seed),
                spec.grid_hash(None, label, tgt.name, "scratch", seed),
                f"scratch {label} on {tgt.name}",
                train,
                test,
            )
            if force or grid.get(cell.key, cell.run_hash) is None:
                cell.task = partial(
                    run_scratch, arch, train, test, budget=budget, seed=seed, arch_kwargs=kwargs
                )
            cells.append(cell)
        for src in spec.sources:
            for method in spec.methods:
                cell = _Cell(
                    (src.name, src.architecture, tgt.name, method, seed),
                    spec.grid_hash(src.name, src.architecture, tgt.name, method, seed),
                    f"{method} {src.name} on {tgt.name}",
                    train,
                    test,
                )
                if force or grid.get(cell.key, cell.run_hash) is None:
                    if src.name not in models:
                        models[src.name] = load_zoo_model(home, src.name)
                    cell.task = partial(
                        run_transfer,
                        method,
                        models[src.name],
                        src.arch,
                        train,
                        test,
                        budget=budget,
                        seed=seed,
                        arch_kwargs=src.arch_kwargs,
                    )
                cells.append(cell)
    bar = tqdm(total=len(cells), desc="zoo grid", disable=not progress)
    # scratch accuracy per (target, architecture): a transfer row's baseline
    scratch_acc: dict[tuple[str, str], float | None] = {}

    def scratch_known(cell: _Cell, acc: Any) -> None:
        target, arch = cell.key[2], cell.key[1]
        baseline = None if acc is None or pd.isna(acc) else float(acc)
        scratch_acc[(target, arch)] = baseline
        if baseline is None:
            return
        # transfers that finished before their baseline (in any order on Ray, or cached
        # by a run that crashed in between) get its accuracy and gain now
        for other in cells:
            row = grid.rows.get(other.key)
            if (
                row is not None
                and other.key[3] != "scratch"
                and (other.key[2], other.key[1]) == (target, arch)
                and _missing(row["scratch"])
            ):
                grid.put(_with_scratch(row, baseline))

    def put(cell: _Cell, outcome: RunOutcome) -> None:
        source, arch, target, method, _ = cell.key
        grid.put(
            _row(
                source=source,
                arch=arch,
                target=target,
                method=method,
                seed=seed,
                run_hash=cell.run_hash,
                outcome=outcome,
                scratch=None if method == "scratch" else scratch_acc.get((target, arch)),
            )
        )

    todo = [c for c in cells if c.task is not None]
    for cell in cells:
        if cell.task is None:
            bar.update()
            if cell.key[3] == "scratch":
                scratch_known(cell, grid.rows[cell.key]["accuracy"])
    # Results come back as they finish; this process alone writes the cache, one row as
    # each run finishes (atomically), and the graph at the end.
    for result in executor.map([c.task for c in todo if c.task is not None], threads=num_threads):
        cell = todo[result.index]
        bar.set_postfix_str(cell.what)
        if result.error is None:
            outcome = result.get()
        else:
            outcome = _failed(
                errors, cell.what, result.error, cell.train, cell.test, result.seconds
            )
        put(cell, outcome)
        if cell.key[3] == "scratch":
            scratch_known(cell, outcome.accuracy)
        bar.update()
    bar.close()
    frame = pd.DataFrame([grid.rows[c.key] for c in cells])[GRID_COLUMNS]
    sync_grid_to_graph(home, spec=spec, seed=seed, grid=frame, force=force, regimes=regimes)
    return frame.reset_index(drop=True)
