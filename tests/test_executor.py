"""Executors: serial and Ray give the same results; retries; loopback only; typed errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

from kgtransfer.errors import ArgumentError, ExecutorError, UnknownNameError
from kgtransfer.executor import (
    Executor,
    RayExecutor,
    SerialExecutor,
    executor_scope,
    get_executor,
    list_executors,
)


def _train_tiny(seed: int) -> list[float]:
    """A seeded torch training step: the numbers depend on seed and thread count only."""
    import torch

    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(64, 16), torch.randint(0, 3, (64,))
    for _ in range(5):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return [float(p.detach().sum()) for p in model.parameters()] + [torch.get_num_threads()]


def test_registry_and_did_you_mean() -> None:
    assert list_executors() == ["ray", "serial"]
    assert isinstance(get_executor(), SerialExecutor)
    assert isinstance(get_executor("serial"), SerialExecutor)
    mine = SerialExecutor()
    assert get_executor(mine) is mine
    with pytest.raises(UnknownNameError, match=r"Unknown executor 'rya'\. Did you mean 'ray'\?"):
        get_executor("rya")
    with pytest.raises(ArgumentError, match="executor must be"):
        get_executor(3)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="go to the executor's constructor"):
        get_executor(mine, address="x:1")


def test_serial_runs_in_order_and_keeps_errors() -> None:
    def boom() -> int:
        raise ValueError("bad task")

    results = list(SerialExecutor().map([lambda: 1, boom, lambda: 3]))
    assert [r.index for r in results] == [0, 1, 2]
    assert results[0].get() == 1 and results[2].get() == 3
    with pytest.raises(ValueError, match="bad task") as info:
        results[1].get()
    assert "in boom" in "\n".join(getattr(info.value, "__notes__", []))


def test_serial_pins_threads_and_restores_them() -> None:
    import torch

    before = torch.get_num_threads()
    (res,) = SerialExecutor().map([partial(_train_tiny, 0)], threads=1)
    assert res.get()[-1] == 1
    assert torch.get_num_threads() == before


def test_bad_ray_arguments_are_typed_errors() -> None:
    with pytest.raises(ArgumentError, match=r"host:port.*got 'not an address'"):
        RayExecutor("not an address")
    with pytest.raises(ArgumentError, match="max_retries must be an integer >= 0"):
        RayExecutor(max_retries=-1)


def test_unreachable_address_fails_fast() -> None:
    pytest.importorskip("ray")
    import socket

    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ExecutorError, match=rf"Cannot reach a Ray cluster at '127.0.0.1:{port}'"):
        list(RayExecutor(f"127.0.0.1:{port}", connect_timeout=1.0).map([lambda: 1]))


def test_missing_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ImportError, match=r"pip install .*\.\[ray\]"):
        list(RayExecutor().map([lambda: 1]))


def test_import_kgtransfer_does_not_import_ray() -> None:
    code = "import sys, kgtransfer, kgtransfer.executor; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_executor_scope_closes_what_it_made() -> None:
    closed: list[str] = []

    class Tracked(SerialExecutor):
        def close(self) -> None:
            closed.append("x")

    mine = Tracked()
    with executor_scope(mine) as ex:
        assert ex is mine
    assert closed == []


@pytest.mark.slow
def test_ray_equals_serial(ray_executor: Executor) -> None:
    tasks = [partial(_train_tiny, seed) for seed in range(4)]
    serial = [r.get() for r in SerialExecutor().map(tasks, threads=1)]
    got = sorted(ray_executor.map(tasks, threads=1), key=lambda r: r.index)
    assert [r.get() for r in got] == serial  # exactly equal, thread count included


@pytest.mark.slow
def test_ray_task_errors_come_back_typed(ray_executor: Executor) -> None:
    def boom() -> int:
        raise KeyError("missing thing")

    (res,) = ray_executor.map([boom])
    with pytest.raises(KeyError, match="missing thing") as info:
        res.get()
    # where it was raised in the worker comes back as a note (a pickled traceback is lost)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "raised in the task" in notes and "in boom" in notes, notes


@pytest.mark.slow
def test_ray_retries_a_task_whose_worker_died(ray_executor: Executor, tmp_path: Path) -> None:
    marker = tmp_path / "died-once"

    def die_once() -> str:
        if not marker.exists():
            marker.write_text("x")
            os._exit(1)  # the worker process dies: a system failure Ray retries
        return "second attempt"

    (res,) = ray_executor.map([die_once])
    assert res.get() == "second attempt"
    assert marker.exists()


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        out.add(p)
        todo.extend(children.get(p, []))
    return out


@pytest.mark.slow
def test_local_ray_listens_on_loopback_only(ray_executor: Executor) -> None:
    if shutil.which("ss") is None or not Path("/proc/self/stat").exists():
        pytest.skip("needs `ss` and /proc")
    list(ray_executor.map([lambda: 1, lambda: 2]))  # Ray up, workers started
    ours = _descendants(os.getpid())
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    listening = []
    for line in out.splitlines():
        pids = {int(p) for p in __import__("re").findall(r"pid=(\d+)", line)}
        if pids & ours:
            listening.append(line.split()[3])
    assert listening, out  # Ray's servers were found
    bad = [a for a in listening if not (a.startswith("127.0.0.1:") or "[::ffff:127.0.0.1]" in a)]
    assert not bad, f"listening beyond 127.0.0.1: {bad}\n{out}"


@pytest.mark.slow
def test_a_task_lost_past_its_retries_is_an_executor_error(ray_executor: Executor) -> None:
    list(ray_executor.map([lambda: 0]))  # the session's Ray is up; the next executor reuses it

    def die() -> int:
        os._exit(1)

    (res,) = RayExecutor(max_retries=0).map([die])
    with pytest.raises(ExecutorError, match=r"Ray task 0 failed after 0 retries"):
        res.get()
