"""The query worker process (see :mod:`kgtransfer.kg._runner`); run as a script.

It imports only the standard library and pyoxigraph (not kgtransfer), opens the store
with ``pyoxigraph.Store.read_only`` and reopens it when the store's files changed (a
read-only handle sees the store as it was when opened), so results are never stale.

Protocol over two pipes (``multiprocessing.connection.Connection``, pickled messages):
request ``{"path", "sparql", "prefixes", "substitutions", "limit", "union"}``; replies
``("boolean", value)`` or ``("head", kind, variables)``, then ``("rows", [...])`` chunks,
then ``("done", truncated)``; or ``("error", exception class name, message)`` for the
query's own error, ``("store-error", ...)`` when the read-only handle kept failing.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

_CHUNK = 500
_ATTEMPTS = 4
# RocksDB files whose change means new data: the write-ahead logs, tables, the manifest.
_DATA_SUFFIXES = (".log", ".sst")


def _signature(path: str) -> tuple[tuple[str, int, int], ...]:
    out = []
    with os.scandir(path) as entries:
        for entry in entries:
            name = entry.name
            if name.endswith(_DATA_SUFFIXES) or name.startswith("MANIFEST") or name == "CURRENT":
                stat = entry.stat()
                out.append((name, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(out))


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (best effort)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def execute(store: Any, request: dict[str, Any]) -> Any:
    """Run one query ``request`` (sparql, prefixes, substitutions, union) on ``store``;
    the pyoxigraph result. Shared by this worker and the in-process thread path."""
    import pyoxigraph as ox

    substitutions = {ox.Variable(k): v for k, v in request["substitutions"].items()}
    return store.query(
        request["sparql"],
        prefixes=request["prefixes"],
        use_default_graph_as_union=request["union"],
        substitutions=substitutions or None,
    )


def _run(store: Any, request: dict[str, Any], send: Callable[[Any], None]) -> None:
    import pyoxigraph as ox

    result = execute(store, request)
    if isinstance(result, ox.QueryBoolean):
        send(("boolean", bool(result)))
        return
    limit = request["limit"]
    if isinstance(result, ox.QueryTriples):
        send(("head", "triples", ["subject", "predicate", "object"]))
        rows: Any = ([t.subject, t.predicate, t.object] for t in result)
    else:
        variables = [v.value for v in result.variables]
        send(("head", "solutions", variables))
        rows = (list(solution) for solution in result)
    chunk: list[list[Any]] = []
    for count, row in enumerate(rows):
        if limit is not None and count >= limit:
            if chunk:
                send(("rows", chunk))
            send(("done", True))
            return
        chunk.append(row)
        if len(chunk) >= _CHUNK:
            send(("rows", chunk))
            chunk = []
    if chunk:
        send(("rows", chunk))
    send(("done", False))


def main(read_fd: int, write_fd: int) -> None:
    """Serve requests until the parent closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it kills us on Ctrl-C
    _die_with_parent()
    import pyoxigraph as ox

    requests = Connection(read_fd, writable=False)
    replies = Connection(write_fd, readable=False)
    state: dict[str, Any] = {"store": None, "opened": None}
    while True:
        try:
            request = requests.recv()
        except (EOFError, OSError):
            return
        try:
            _serve(ox, state, request, replies)
        except (BrokenPipeError, EOFError):
            return


def _serve(ox: Any, state: dict[str, Any], request: dict[str, Any], replies: Connection) -> None:
    """Answer one request, (re)opening the read-only handle when the store changed."""
    path = request["path"]
    sent: list[int] = []

    def send(message: Any) -> None:
        sent.append(1)
        replies.send(message)

    for attempt in range(_ATTEMPTS):
        try:
            signature = _signature(path)
            if state["store"] is None or state["opened"] != (path, signature):
                state["store"] = None  # release the old handle first
                state["store"] = ox.Store.read_only(path)
                state["opened"] = (path, signature)
            _run(state["store"], request, send)
            return
        except BrokenPipeError:
            raise
        except Exception as exc:
            if not _store_level(exc):  # the query's own error (syntax, substitution)
                send(("error", type(exc).__name__, str(exc)))
                return
            # a read-only handle beside a writer can race it (a manifest or table file
            # replaced while opening or reading): reopen and retry if nothing was sent yet
            state["store"] = state["opened"] = None
            if sent or attempt == _ATTEMPTS - 1:
                send(("store-error", type(exc).__name__, str(exc)))
                return
            time.sleep(0.02 * (attempt + 1))


def _store_level(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, OSError) or any(
        word in text for word in ("corruption", "io error", "no such file")
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
