"""Executors: where the independent tasks of batch work run (in this process, or on Ray).

Batch work (the zoo grid, the demo's per-target transfers, the trials of a
``select_source`` round, the per-target rankings of a batch report) is a list of
independent tasks. An executor runs them and hands each result back to the caller,
the *driver*, as it finishes; the driver alone writes to the graph (through the one
record writer, ``ZooGraph.add_records``) and to its caches, so a driver that dies
loses no finished task that it had received.

- ``"serial"`` (default): one task after another, in this process.
- ``"ray"``: :class:`RayExecutor`, each task a Ray task (a local Ray on 127.0.0.1
  started on first use, or a running cluster at ``address=``). A task whose worker
  dies is retried (``max_retries``).

Every task runs with torch's intra-op threads (and the recommenders' threads) pinned to
the same count as the serial path, so a seeded task gives the same numbers wherever it
runs.

Example:
    >>> ex = get_executor("serial")
    >>> [r.get() for r in ex.map([lambda: 1, lambda: 2])]
    [1, 2]
    >>> list_executors()
    ['ray', 'serial']
    >>> get_executor("rya")
    Traceback (most recent call last):
    kgtransfer.errors.UnknownNameError: Unknown executor 'rya'. Did you mean 'ray'? See list_executors().
"""

from __future__ import annotations

import os
import re
import socket
import sys
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Generic, TypeVar

from kgtransfer.errors import ArgumentError, ExecutorError
from kgtransfer.registry import Registry

__all__ = [
    "Executor",
    "RayExecutor",
    "SerialExecutor",
    "TaskResult",
    "executor_scope",
    "get_executor",
    "list_executors",
    "register_executor",
]

R = TypeVar("R")

#: Executor factories by name (``executor="serial"|"ray"`` everywhere batch work runs).
_EXECUTORS: Registry[Callable[..., Executor]] = Registry("executor")


@dataclass
class TaskResult(Generic[R]):
    """One finished task: its position in the submitted list and its value or error.

    Attributes:
        index: Position of the task in the list given to :meth:`Executor.map`.
        value: What the task returned (None when it raised).
        error: The exception the task raised, or None.
        seconds: Wall time of the task where it ran.
    """

    index: int
    value: R | None
    error: BaseException | None
    seconds: float

    def get(self) -> R:
        """The value, or re-raise the task's exception in the driver."""
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


@dataclass(frozen=True)
class _Threads:
    """Thread counts a task runs with: torch intra-op and the recommenders' fit/rank."""

    torch: int | None
    recommender: int | None


def _check_threads(threads: object) -> int | None:
    if threads is None or (
        isinstance(threads, int) and not isinstance(threads, bool) and threads >= 1
    ):
        return threads
    raise ArgumentError(
        f"threads must be a positive integer or None (the driver's settings), got {threads!r}; "
        "pass e.g. 1."
    )


def _driver_threads(threads: int | None) -> _Threads:
    """The driver's thread settings (``threads`` overrides both), to pin in every task."""
    if threads is not None:
        return _Threads(threads, threads)
    import torch  # what torch would use here, also when the driver has not needed it yet

    from kgtransfer.transfer.recommend._threads import get_recommender_threads

    return _Threads(int(torch.get_num_threads()), get_recommender_threads())


def _call(task: Callable[[], R], threads: _Threads) -> tuple[R | None, BaseException | None, float]:
    """Run ``task`` with ``threads`` pinned (restored after); an exception is returned."""
    old: int | None = None
    if threads.torch is not None:
        import torch

        old = torch.get_num_threads()
        torch.set_num_threads(threads.torch)
    t0 = time.perf_counter()
    try:
        if threads.recommender is not None:
            from kgtransfer.transfer.recommend._threads import recommender_threads

            with recommender_threads(threads.recommender):
                value = task()
        else:
            value = task()
    except Exception as exc:
        # the traceback does not survive the trip back from a worker: keep it as a note
        where = "".join(traceback.format_exception(exc)[1:-1]).rstrip()
        if hasattr(exc, "add_note") and where:
            exc.add_note(f"raised in the task:\n{where}")
        return None, exc, time.perf_counter() - t0
    finally:
        if old is not None:
            import torch

            torch.set_num_threads(old)
    return value, None, time.perf_counter() - t0


class Executor(ABC):
    """Runs independent tasks and yields each :class:`TaskResult` to the driver.

    Subclasses implement :meth:`map`; an executor that holds resources (a Ray
    connection) releases them in :meth:`close` (also a context manager).
    """

    name: str = "executor"

    @abstractmethod
    def map(
        self, tasks: Sequence[Callable[[], R]], *, threads: int | None = None
    ) -> Iterator[TaskResult[R]]:
        """Run every task of ``tasks`` (callables without arguments), yielding each result
        as it finishes (in any order; ``result.index`` says which task it was).

        A task that raises is a result with ``error`` set (the others go on);
        ``result.get()`` re-raises it. ``threads``: torch intra-op threads (and the
        recommenders' threads) each task runs with; None uses the driver's current
        settings.
        """

    def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Release what the executor holds (nothing for the serial one)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SerialExecutor(Executor):
    """One task after another in this process, each result yielded before the next runs.

    Example:
        >>> [r.index for r in SerialExecutor().map([lambda: "a", lambda: "b"])]
        [0, 1]
    """

    name = "serial"

    def map(
        self, tasks: Sequence[Callable[[], R]], *, threads: int | None = None
    ) -> Iterator[TaskResult[R]]:
        plan = _Threads(None, None) if threads is None else _driver_threads(threads)
        for i, task in enumerate(tasks):
            value, error, seconds = _call(task, plan)
            yield TaskResult(i, value, error, seconds)


_ADDRESS = re.compile(
    r"^(?:ray://)?(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.\-]+):(?P<port>\d{1,5})$"
)
#: Ray reads this when imported: False makes a local node use the loopback address only.
_LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
_LOCALHOST = "127.0.0.1"


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ImportError(
            "executor='ray' needs the optional extra 'ray': .venv/bin/pip install -c "
            "constraints.txt -e '.[ray]' (or pip install 'kgtransfer[ray]'); or use "
            "executor='serial'."
        ) from exc
    return ray


def _check_address(address: object) -> str | None:
    if address is None or address == "auto":
        return address
    if not isinstance(address, str) or not _ADDRESS.match(address.strip()):
        raise ArgumentError(
            f"Ray address must be 'host:port', 'ray://host:port' or 'auto', got {address!r}; "
            "e.g. address='127.0.0.1:6379' (the address `ray start --head` prints), or leave "
            "it None to start a local Ray on 127.0.0.1."
        )
    return address.strip()


def _probe(address: str, timeout: float) -> None:
    """Fail fast (Ray itself retries for minutes) when nothing listens at ``address``."""
    m = _ADDRESS.match(address)
    if m is None:  # pragma: no cover - checked by _check_address
        return
    host, port = m.group("host").strip("[]"), int(m.group("port"))
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise ExecutorError(
            f"Cannot reach a Ray cluster at {address!r}: {exc}. Start one with "
            "`ray start --head --node-ip-address 127.0.0.1` and pass the address it prints, "
            "or leave address=None to start a local Ray."
        ) from exc


class RayExecutor(Executor):
    """Each task a Ray task; results come back to the driver as they finish.

    Ray is imported and started on the first :meth:`map` (never by ``import
    kgtransfer``). Without ``address`` a local Ray is started that listens on
    127.0.0.1 only, with no dashboard, and is shut down by :meth:`close`; with
    ``address`` the executor connects to a running cluster (and leaves it running).
    When Ray is already initialised in this process, it is used as it is (and left
    running). Starting a local Ray sets ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` in this
    process's environment before Ray is imported: Ray then advertises and binds 127.0.0.1.

    Args:
        address: A running cluster (``"host:port"``, ``"ray://host:port"`` or
            ``"auto"``), or None for a local Ray on 127.0.0.1.
        num_cpus: CPUs of the local Ray (default: all of the machine's).
        max_retries: Times a task whose worker died is run again (an exception raised
            by the task itself is not retried: it is the task's result).
        object_store_memory: Bytes of the local object store (small: tasks move small
            models and arrays).
        connect_timeout: Seconds to wait for a cluster at ``address`` to answer.

    Raises:
        ArgumentError: A malformed ``address`` or a bad count.
        ImportError: Ray is not installed (the message gives the pip command).
        ExecutorError: Nothing answers at ``address`` (raised by the first ``map``).

    Example:
        >>> RayExecutor(num_cpus=2)  # nothing starts until map()
        RayExecutor(address=None, num_cpus=2, max_retries=3)
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        num_cpus: int | None = None,
        max_retries: int = 3,
        object_store_memory: int = 256 * 1024**2,
        connect_timeout: float = 5.0,
    ) -> None:
        self.address = _check_address(address)
        for what, n, low in (("num_cpus", num_cpus, 1), ("max_retries", max_retries, 0)):
            if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < low):
                raise ArgumentError(f"{what} must be an integer >= {low}, got {n!r}.")
        self.num_cpus = num_cpus
        self.max_retries = max_retries
        self.object_store_memory = object_store_memory
        self.connect_timeout = connect_timeout
        self._started = False

    def __repr__(self) -> str:
        return (
            f"RayExecutor(address={self.address!r}, num_cpus={self.num_cpus}, "
            f"max_retries={self.max_retries})"
        )

    def _ray(self) -> Any:
        """Ray, initialised (a local loopback-only node, or connected to ``address``)."""
        if self.address is None and "ray" not in sys.modules:
            # A local node advertises and binds the loopback address only (read at import).
            os.environ.setdefault(_LOOPBACK_ENV, "0")
        ray = _import_ray()
        if self.address is not None and self.address != "auto":
            _probe(self.address, self.connect_timeout)
        if ray.is_initialized():
            return ray
        if self.address is not None:
            try:
                ray.init(address=self.address, log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ExecutorError(
                    f"Cannot connect to the Ray cluster at {self.address!r}: "
                    f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}. Check "
                    "`ray status` on that machine, or leave address=None for a local Ray."
                ) from exc
            self._started = True  # close() disconnects (the cluster keeps running)
            return ray
        from ray._private import ray_constants

        if getattr(ray_constants, "ENABLE_RAY_CLUSTER", False):  # ray imported before us
            ray_constants.ENABLE_RAY_CLUSTER = False
        ray.init(
            address="local",
            num_cpus=self.num_cpus,
            object_store_memory=self.object_store_memory,
            include_dashboard=False,
            _node_ip_address=_LOCALHOST,
            log_to_driver=False,
            configure_logging=False,
        )
        self._started = True
        node_ip = ray.util.get_node_ip_address()
        if node_ip != _LOCALHOST:
            self.close()
            raise ExecutorError(
                f"The local Ray node took the address {node_ip!r}, not {_LOCALHOST}; refusing "
                "to run on a non-loopback address. Start Ray yourself (`ray start --head "
                "--node-ip-address 127.0.0.1`) and pass its address."
            )
        return ray

    def map(
        self, tasks: Sequence[Callable[[], R]], *, threads: int | None = None
    ) -> Iterator[TaskResult[R]]:
        plan = _driver_threads(_check_threads(threads))
        tasks = list(tasks)
        if not tasks:
            return
        ray = self._ray()
        remote = ray.remote(_call).options(
            num_cpus=1, max_retries=self.max_retries, retry_exceptions=False
        )
        index = {remote.remote(task, plan): i for i, task in enumerate(tasks)}
        pending = list(index)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    try:
                        value, error, seconds = ray.get(ref)
                    except ray.exceptions.RayError as exc:  # worker died past its retries
                        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                        error = ExecutorError(
                            f"Ray task {index[ref]} failed after {self.max_retries} "
                            f"retries: {type(exc).__name__}: {first}"
                        )
                        value, seconds = None, 0.0
                    yield TaskResult(index[ref], value, error, seconds)
        finally:
            for ref in pending:  # the driver stopped early: do not leave work running
                ray.cancel(ref)

    def close(self) -> None:
        """Shut down the local Ray this executor started, or disconnect from the cluster at
        ``address`` (which keeps running). A Ray this executor found running is left alone."""
        if self._started:
            ray = sys.modules.get("ray")
            if ray is not None:
                ray.shutdown()
            self._started = False


_EXECUTORS.add("serial", SerialExecutor)
_EXECUTORS.add("ray", RayExecutor)


def register_executor(
    name: str, factory: Callable[..., Executor], *, overwrite: bool = False
) -> Callable[..., Executor]:
    """Register an executor factory under ``name`` (for ``executor="name"``).

    Raises:
        ArgumentError: ``name`` is taken (pass ``overwrite=True``) or not a string.
    """
    return _EXECUTORS.add(name, factory, overwrite=overwrite)


def list_executors(pattern: str | None = "*") -> list[str]:
    """Names of the registered executors matching the shell pattern ``pattern``."""
    return _EXECUTORS.list(pattern)


@contextmanager
def executor_scope(executor: str | Executor | None = None, **kwargs: Any) -> Iterator[Executor]:
    """:func:`get_executor` for a block: an executor made here from a name is closed after
    (a local Ray shut down); an instance passed in is left to its owner.

    Example:
        >>> with executor_scope("serial") as ex:
        ...     ex.name
        'serial'
    """
    made = get_executor(executor, **kwargs)
    try:
        yield made
    finally:
        if made is not executor:
            made.close()


def get_executor(executor: str | Executor | None = None, **kwargs: Any) -> Executor:
    """An :class:`Executor` from a name (``"serial"``, ``"ray"``), an instance or None.

    Args:
        executor: A registered name, an :class:`Executor` (returned as is) or None
            (serial).
        **kwargs: Arguments of the named executor (e.g. ``address=`` for ``"ray"``).

    Raises:
        UnknownNameError: An unknown name (close names suggested).
        ArgumentError: Not a name or an Executor, or ``kwargs`` with an instance.
    """
    if executor is None:
        executor = "serial"
    if isinstance(executor, Executor):
        if kwargs:
            raise ArgumentError(
                f"Executor options {sorted(kwargs)} go to the executor's constructor, not "
                f"with an instance ({executor!r})."
            )
        return executor
    if not isinstance(executor, str):
        raise ArgumentError(
            f"executor must be 'serial', 'ray', another registered name or an Executor, got "
            f"{type(executor).__name__!r}; see list_executors()."
        )
    return _EXECUTORS.get(executor)(**kwargs)
