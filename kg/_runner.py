"""Run a SPARQL query so that it can be stopped: a timeout and Ctrl-C.

pyoxigraph's ``Store.query`` has neither (the evaluation runs in Rust and Python's
signal handlers wait for it), so:

* **On-disk stores** run in a worker process (:mod:`kgtransfer.kg._query_worker`) that
  opens the store with ``pyoxigraph.Store.read_only`` beside this process's writer and
  streams the rows back. The worker is started on first use and reused; it reopens its
  handle whenever the store's files changed (a write here appends to the write-ahead
  log, which a fresh read-only handle replays), so a query sees every write this process
  committed before it. On timeout or Ctrl-C the worker is killed (the query really
  stops) and the next query starts a new one. pyoxigraph calls a read-only handle beside a
  writer undefined behaviour; in practice it can race the writer replacing a manifest or
  table file, so the worker retries, and if its handle keeps failing the query runs in
  this process as for an in-memory store (below).
* **In-memory stores** cannot be seen from another process, so the query runs in a
  daemon thread (pyoxigraph releases the GIL while it evaluates). A timeout or Ctrl-C
  returns control at once; streaming queries stop at the next row, but an operator that
  must read all its input first (ORDER BY, GROUP BY, aggregates) finishes in the
  background and its result is dropped. Use an on-disk store for untrusted, expensive
  queries.
"""

from __future__ import annotations

import atexit
import math
import numbers
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

import pyoxigraph as ox

from kgtransfer.errors import ArgumentError, QueryTimeoutError, StoreError
from kgtransfer.kg._backend import StoreBackend
from kgtransfer.kg._query_worker import execute

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_TIMEOUT",
    "QueryResult",
    "check_limit",
    "check_timeout",
    "default_cap",
    "is_default_cap",
    "result_frame",
    "run_query",
]

#: Seconds a query may run before it is stopped (``timeout=None`` disables it).
DEFAULT_TIMEOUT = 30.0
_POLL = 0.25  # seconds between checks while waiting (keeps Ctrl-C prompt everywhere)
_WORKER = Path(__file__).with_name("_query_worker.py")
_BOOT = (
    "import runpy, sys; sys.path = [p for p in sys.path if p]; "
    "path = sys.argv[1]; sys.argv = sys.argv[1:]; runpy.run_path(path, run_name='__main__')"
)


@dataclass
class QueryResult:
    """Rows of a query: ``kind`` is ``solutions``, ``triples`` or ``boolean``."""

    kind: str
    variables: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    boolean: bool = False
    truncated: bool = False


def check_limit(limit: object, *, name: str = "limit") -> int | None:
    """``limit`` as a non-negative int or None.

    Raises:
        ArgumentError: A negative, fractional, boolean or non-numeric limit.
    """
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, numbers.Integral):
        raise ArgumentError(f"{name} must be a non-negative int or None (no cap), got {limit!r}.")
    if limit < 0:
        raise ArgumentError(f"{name} must be a non-negative int or None (no cap), got {limit!r}.")
    return int(limit)


def check_timeout(timeout: object) -> float | None:
    """``timeout`` as positive finite seconds or None.

    Raises:
        ArgumentError: Not a positive, finite number of seconds.
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise ArgumentError(
            f"timeout must be a positive number of seconds or None (no timeout), got {timeout!r}."
        )
    value = float(timeout)
    if not (value > 0 and math.isfinite(value)):
        raise ArgumentError(
            f"timeout must be a positive number of seconds or None (no timeout), got {timeout!r}."
        )
    return value


def run_query(
    store: StoreBackend,
    path: Path | None,
    sparql: str,
    *,
    prefixes: dict[str, str] | None,
    substitutions: dict[str, Any],
    limit: int | None,
    timeout: float | None,
    union: bool = True,
) -> QueryResult:
    """Run ``sparql`` (already checked) on ``store``, stopping after ``timeout`` seconds.

    Rows stop after ``limit`` (``truncated`` says whether more existed).

    Raises:
        QueryTimeoutError: The query ran longer than ``timeout``.
        KeyboardInterrupt: Ctrl-C while it ran (the query is stopped first).
        SyntaxError, RuntimeError, OSError: As pyoxigraph raises them.
    """
    request = {
        "path": str(path) if path is not None else None,
        "sparql": sparql,
        "prefixes": prefixes,
        "substitutions": substitutions,
        "limit": limit,
        "union": union,
    }
    if path is not None and os.name == "posix":
        try:
            return _POOL.run(request, timeout)
        except _WorkerStoreError:
            pass  # the read-only handle could not read beside the writer: use ours
    return _run_in_thread(store, request, timeout)


def _timeout_error(timeout: float) -> QueryTimeoutError:
    return QueryTimeoutError(
        f"The SPARQL query ran longer than its timeout of {timeout:g} s and was stopped. "
        "Narrow it (more specific patterns, LIMIT), or pass a larger timeout= "
        "(timeout=None for none)."
    )


class _WorkerDied(Exception):
    """The worker process ended without answering."""


class _WorkerStoreError(Exception):
    """The worker's read-only handle kept failing (it raced a writer)."""


def _raise_remote(name: str, message: str) -> None:
    import builtins

    kind = getattr(builtins, name, None)
    if isinstance(kind, type) and issubclass(kind, Exception):
        raise kind(message)
    raise RuntimeError(f"{name}: {message}")


# ---------------------------------------------------------------------- worker process
class _WorkerPool:
    """One reusable worker process per Python process (restarted after a kill)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._requests: Connection | None = None
        self._replies: Connection | None = None
        self._owner = -1

    def _start(self) -> None:
        parent_read, child_write = os.pipe()
        child_read, parent_write = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT, str(_WORKER), str(child_read), str(child_write)],
                pass_fds=(child_read, child_write),
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # a terminal's Ctrl-C reaches us, not the worker
            )
        finally:
            os.close(child_read)
            os.close(child_write)
        self._requests = Connection(parent_write, readable=False)
        self._replies = Connection(parent_read, writable=False)
        self._owner = os.getpid()

    def kill(self) -> None:
        """Stop the worker (if any) and forget it."""
        proc, self._proc = self._proc, None
        for conn in (self._requests, self._replies):
            if conn is not None:
                conn.close()
        self._requests = self._replies = None
        if proc is not None and self._owner == os.getpid():
            proc.kill()
            proc.wait()

    def run(self, request: dict[str, Any], timeout: float | None) -> QueryResult:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            for attempt in (0, 1):
                if self._owner != os.getpid():  # forked: the worker belongs to our parent
                    self._proc = self._requests = self._replies = None
                if self._proc is None or self._proc.poll() is not None:
                    self.kill()
                    self._start()
                assert self._requests is not None and self._replies is not None
                try:
                    self._requests.send(request)
                    return self._collect(self._replies, deadline, timeout)
                except _WorkerStoreError:
                    raise  # the worker is fine and idle; its handle is dropped
                except _WorkerDied:
                    # e.g. Linux's parent-death signal when the thread that started it
                    # ended: start a new worker and ask once more
                    self.kill()
                    if attempt:
                        raise StoreError(
                            "The query worker process died twice; the query was not "
                            "answered. If it recurs, the store may be damaged."
                        ) from None
                except BaseException:
                    self.kill()  # timeout, Ctrl-C: the query stops here
                    raise
            raise AssertionError("unreachable")

    def _collect(
        self, replies: Connection, deadline: float | None, timeout: float | None
    ) -> QueryResult:
        result = QueryResult("solutions")
        while True:
            wait = _POLL if deadline is None else min(_POLL, deadline - time.monotonic())
            if wait <= 0 or not replies.poll(max(wait, 0)):
                if deadline is not None and time.monotonic() >= deadline:
                    assert timeout is not None
                    raise _timeout_error(timeout)
                if self._proc is not None and self._proc.poll() is not None:
                    raise _WorkerDied(self._proc.returncode)
                continue
            try:
                message = replies.recv()
            except EOFError:
                raise _WorkerDied("pipe closed") from None
            tag = message[0]
            if tag == "rows":
                result.rows.extend(message[1])
            elif tag == "head":
                result.kind, result.variables = message[1], message[2]
            elif tag == "boolean":
                result.kind, result.boolean = "boolean", message[1]
                return result
            elif tag == "done":
                result.truncated = message[1]
                return result
            elif tag == "store-error":
                raise _WorkerStoreError(f"{message[1]}: {message[2]}")
            else:
                _raise_remote(message[1], message[2])


_POOL = _WorkerPool()
atexit.register(_POOL.kill)


# ---------------------------------------------------------------------- in-process thread
def _run_in_thread(
    store: StoreBackend, request: dict[str, Any], timeout: float | None
) -> QueryResult:
    replies: queue.Queue[tuple[str, Any]] = queue.Queue()
    cancel = threading.Event()

    def work() -> None:
        try:
            replies.put(("ok", _evaluate(store, request, cancel)))
        except BaseException as exc:
            replies.put(("error", exc))

    thread = threading.Thread(target=work, name="kgtransfer-sparql", daemon=True)
    deadline = None if timeout is None else time.monotonic() + timeout
    thread.start()
    try:
        while True:
            wait = _POLL if deadline is None else min(_POLL, deadline - time.monotonic())
            try:
                tag, value = replies.get(timeout=max(wait, 0.001))
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    assert timeout is not None
                    raise _timeout_error(timeout) from None
                continue
            if tag == "error":
                raise value
            return cast(QueryResult, value)
    finally:
        cancel.set()  # a streaming query stops at its next row


def _evaluate(store: StoreBackend, request: dict[str, Any], cancel: threading.Event) -> QueryResult:
    result = execute(store, request)
    if isinstance(result, ox.QueryBoolean):
        return QueryResult("boolean", boolean=bool(result))
    out = QueryResult("solutions")
    rows: Any
    if isinstance(result, ox.QueryTriples):
        out.kind, out.variables = "triples", ["subject", "predicate", "object"]
        rows = ([t.subject, t.predicate, t.object] for t in result)
    else:
        out.variables = [v.value for v in result.variables]
        rows = (list(solution) for solution in result)
    limit = request["limit"]
    for row in rows:
        if cancel.is_set():
            break
        if limit is not None and len(out.rows) >= limit:
            out.truncated = True
            break
        out.rows.append(row)
    return out


class _Cap(int):
    """A default row cap (an int): truncating at it warns, an explicit limit does not."""


#: ``ZooGraph.query``'s default row cap; ``limit=None`` lifts it.
DEFAULT_LIMIT: int = _Cap(1000)


def is_default_cap(limit: object) -> bool:
    """Whether ``limit`` is a default cap rather than one the caller chose."""
    return isinstance(limit, _Cap)


def default_cap(n: int) -> int:
    """A default row cap of ``n`` rows (see :func:`is_default_cap`)."""
    return _Cap(n)


def result_frame(
    result: QueryResult,
    *,
    iris: bool = False,
    hidden: frozenset[str] | set[str] = frozenset(),
    renames: dict[str, str] | None = None,
) -> Any:
    """A DataFrame of ``result`` (ASK: column ``ask``); ``attrs["truncated"]`` tells
    whether rows were cut at the limit."""
    import pandas as pd

    from kgtransfer.kg._queries import solutions_frame

    if result.kind == "boolean":
        frame = pd.DataFrame({"ask": [result.boolean]})
    else:
        frame = solutions_frame(
            result.variables, iter(result.rows), iris=iris, hidden=hidden, renames=renames
        )
    frame.attrs["truncated"] = result.truncated
    return frame
