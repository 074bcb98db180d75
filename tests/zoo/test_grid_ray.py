"""run_grid on Ray: the same grid and graph records as the serial run; a driver crash
loses no finished run and the next call resumes."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from kgtransfer.executor import Executor, SerialExecutor, TaskResult
from kgtransfer.kg import ZooGraph
from kgtransfer.zoo import TINY_ZOO, ZooBuildResult, read_grid, run_grid

pytestmark = pytest.mark.slow

_COLS = ["source", "architecture", "target", "method", "seed", "status", "accuracy", "scratch"]
_COLS += ["gain", "negative_transfer", "n_train", "n_test", "run_hash", "split", "hparams"]


def _copy_without_grid(home: Path, to: Path) -> Path:
    shutil.copytree(home, to)
    (to / "zoo" / "grid.csv").unlink(missing_ok=True)
    return to


@pytest.fixture(scope="module")
def serial(tiny_zoo: tuple[Path, ZooBuildResult], tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = _copy_without_grid(tiny_zoo[0], tmp_path_factory.mktemp("serial") / "home")
    run_grid(work, spec=TINY_ZOO, seed=0)
    return work


def _records(home: Path) -> pd.DataFrame:
    with ZooGraph.open(home / "graph", read_only=True) as graph:
        rec = graph.to_tables().records
    cols = ["model", "dataset", "value", "method", "gain", "scratch_accuracy"]
    return rec[cols].sort_values(["dataset", "model"]).reset_index(drop=True)


def test_ray_grid_equals_serial(serial: Path, ray_executor: Executor, tmp_path: Path) -> None:
    work = _copy_without_grid(serial, tmp_path / "home")
    got = run_grid(work, spec=TINY_ZOO, seed=0, executor=ray_executor)
    want = read_grid(serial)
    pd.testing.assert_frame_equal(got[_COLS], want[_COLS])  # exactly equal accuracies
    pd.testing.assert_frame_equal(_records(work), _records(serial))


class _DriverDiesAfter(Executor):
    """Hands ``n`` results to the driver, then the driver 'crashes'."""

    def __init__(self, inner: Executor, n: int) -> None:
        self.inner, self.n = inner, n

    def map(
        self, tasks: Sequence[Callable[[], Any]], *, threads: int | None = None
    ) -> Iterator[TaskResult[Any]]:
        for i, result in enumerate(self.inner.map(tasks, threads=threads)):
            if i == self.n:
                raise KeyboardInterrupt("driver killed")
            yield result


class _Counting(SerialExecutor):
    def __init__(self) -> None:
        self.n_tasks = 0

    def map(
        self, tasks: Sequence[Callable[[], Any]], *, threads: int | None = None
    ) -> Iterator[TaskResult[Any]]:
        self.n_tasks += len(tasks)
        return super().map(tasks, threads=threads)


def test_driver_crash_keeps_finished_runs_and_resumes(
    serial: Path, ray_executor: Executor, tmp_path: Path
) -> None:
    work = _copy_without_grid(serial, tmp_path / "home")
    with pytest.raises(KeyboardInterrupt):
        run_grid(work, spec=TINY_ZOO, seed=0, executor=_DriverDiesAfter(ray_executor, 5))
    assert len(read_grid(work)) == 5  # every result the driver received was written
    counting = _Counting()
    resumed = run_grid(work, spec=TINY_ZOO, seed=0, executor=counting)
    assert counting.n_tasks == 12 - 5  # only the missing runs ran
    pd.testing.assert_frame_equal(resumed[_COLS], read_grid(serial)[_COLS])
    pd.testing.assert_frame_equal(_records(work), _records(serial))


def test_demo_on_ray_equals_serial(serial: Path, ray_executor: Executor, tmp_path: Path) -> None:
    """The demo's per-target jobs (recommend, then transfer_from; evaluate in the driver)."""
    from kgtransfer.api import run_demo

    fast = {"epochs": 20, "n_ensemble": 1}
    runs = {}
    for name, executor in (("serial", None), ("ray", ray_executor)):
        work = tmp_path / name
        shutil.copytree(serial, work)
        runs[name] = run_demo(work, work / "out", spec=TINY_ZOO, gnn_params=fast, executor=executor)
    pd.testing.assert_frame_equal(runs["ray"].summary, runs["serial"].summary)
    for a, b in zip(runs["ray"].recommendations, runs["serial"].recommendations, strict=True):
        pd.testing.assert_frame_equal(a.frame, b.frame)
