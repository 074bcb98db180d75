"""The on-disk life of a graph store: what counts as a store, opening it for writing (with a
holder record naming the lock's owner) or read-only (beside a writer, through a snapshot),
and removing what interrupted writes left behind. Used by :meth:`ZooGraph.open`."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import weakref
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgtransfer._io import atomic_write_bytes
from kgtransfer.errors import StoreError, StoreLockedError

__all__ = [
    "READERS_DIR",
    "TMP_DIR",
    "first_line",
    "is_store",
    "open_read_only",
    "open_writable",
    "remove_holder",
    "remove_leftovers",
    "write_holder",
]

#: Our files in the store folder (RocksDB ignores names it did not make): the writer's
#: holder record, the bulk loader's spool, and snapshots of read-only opens beside a
#: writer when the temp folder is on another disk.
_HOLDER_FILE = ".kgtransfer-writer.json"
TMP_DIR = ".kgtransfer-tmp"
READERS_DIR = ".kgtransfer-readers"
_SNAPSHOT_PREFIX = "kgtransfer-snapshot-"  # then "<pid>-<random>"
#: RocksDB's words for "another handle holds the lock" (not "block checksum mismatch").
_LOCKED = re.compile(r"\block (file|hold)\b", re.IGNORECASE)
#: Every RDF store pyoxigraph writes has these column families; other RocksDB folders do not.
_OXIGRAPH_TABLES = ('[CFOptions "spog"]', '[CFOptions "id2str"]')


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (pyoxigraph's run over several)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def is_store(path: Path) -> bool:
    """True for a pyoxigraph store folder, False for a missing or empty one.

    Raises:
        StoreError: ``path`` is a file, unreadable, or a folder of something else.
    """
    fix = (
        "Pass the folder of a graph store, or a new folder for `kgtransfer ingest` to "
        "create one; nothing was written to it."
    )
    try:
        if not path.exists():
            return False
        if not path.is_dir():
            raise StoreError(f"{path} is a file, not a graph store folder. {fix}")
        names = {p.name for p in path.iterdir()}
        if not names:
            return False
        if "CURRENT" not in names:
            shown = ", ".join(repr(n) for n in sorted(names)[:3])
            raise StoreError(
                f"{path} is not a kgtransfer graph store: it holds {len(names)} other "
                f"file(s) ({shown}) and no store. {fix}"
            )
        options = sorted(
            (n for n in names if n.startswith("OPTIONS-") and n[8:].isdigit()),
            key=lambda n: int(n[8:]),
        )
        text = (path / options[-1]).read_text(encoding="utf-8", errors="replace") if options else ""
    except PermissionError as exc:
        raise StoreError(
            f"The graph store folder {path} cannot be read ({exc.strerror}). Check its "
            "permissions, or pass another --store."
        ) from None
    if not all(table in text for table in _OXIGRAPH_TABLES):
        raise StoreError(
            f"{path} is a database of another program (or a damaged store), not a kgtransfer "
            f"graph store. {fix}"
        )
    return True


def enclosing_store(path: Path) -> Path | None:
    """The graph store folder that ``path`` lies inside, if any (a store never nests)."""
    for parent in path.resolve().parents:
        try:
            if is_store(parent):
                return parent
        except StoreError:
            continue
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, OverflowError, ValueError):
        return False
    return True


def _read_holder(path: Path) -> dict[str, Any] | None:
    """The holder record of a writable open, or None if absent, unreadable or stale."""
    try:
        holder = json.loads((path / _HOLDER_FILE).read_text(encoding="utf-8"))
        pid = int(holder["pid"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if holder.get("host") == socket.gethostname() and not _pid_alive(pid):
        return None  # a writer that died without closing
    return dict(holder)


def _lock_pid(path: Path) -> int | None:
    """Pid of another process holding RocksDB's lock on ``path`` (POSIX record lock)."""
    if not sys.platform.startswith("linux"):  # the struct flock layout below is Linux's
        return None
    try:
        import fcntl
        import struct

        fd = os.open(path / "LOCK", os.O_RDONLY)
    except (ImportError, OSError):
        return None
    try:
        query = struct.pack("hhqqi", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        l_type, _, _, _, pid = struct.unpack("hhqqi", fcntl.fcntl(fd, fcntl.F_GETLK, query))
    except (OSError, struct.error):
        return None
    finally:
        os.close(fd)
    return pid if l_type != fcntl.F_UNLCK else None


def _holder_text(path: Path) -> str:
    holder = _read_holder(path)
    if holder is not None:
        me = " (this process)" if int(holder["pid"]) == os.getpid() else ""
        command = f", running `{holder['command']}`" if holder.get("command") else ""
        return (
            f"pid {holder['pid']}{me} on host {holder.get('host', '?')} since "
            f"{holder.get('since', '?')}{command}"
        )
    pid = _lock_pid(path)
    if pid:
        return f"pid {pid} on this host, which left no kgtransfer holder record"
    return "holder unknown: it left no kgtransfer holder record"


def write_holder(path: Path) -> None:
    """Record this process as the store's writer (atomically; :func:`remove_holder` undoes)."""
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": f"{datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}",
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:200] if sys.argv else "",
    }
    atomic_write_bytes(path / _HOLDER_FILE, json.dumps(record).encode("utf-8"))


def remove_holder(path: Path) -> None:
    """Remove the holder record if it is this process's (or stale)."""
    holder = _read_holder(path)
    if holder is None or int(holder["pid"]) == os.getpid():
        (path / _HOLDER_FILE).unlink(missing_ok=True)


def _writer_active(path: Path) -> bool:
    return _read_holder(path) is not None or _lock_pid(path) is not None


def remove_leftovers(path: Path) -> list[Path]:
    """Delete what interrupted writes left (we hold the lock, so nobody else uses them)."""
    found = [path / TMP_DIR] if (path / TMP_DIR).exists() else []
    found += path.glob(f".{_HOLDER_FILE}.*.tmp")  # an interrupted atomic write
    for parent in (path / READERS_DIR, Path(tempfile.gettempdir())):
        for snap in parent.glob(f"{_SNAPSHOT_PREFIX}*-*"):
            pid = snap.name[len(_SNAPSHOT_PREFIX) :].split("-")[0]
            if pid.isdigit() and not _pid_alive(int(pid)):  # a reader that was killed
                found.append(snap)
    name = path.resolve().name
    if name:  # bulk-load files of kgtransfer <= 0.x were written beside the store
        legacy = re.compile(rf"\.{re.escape(name)}\.[a-z0-9_]{{8}}\.nq")
        with contextlib.suppress(OSError):
            found += [p for p in path.resolve().parent.iterdir() if legacy.fullmatch(p.name)]
    for leftover in found:
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
    return found


def open_writable(path: Path) -> ox.Store:
    """pyoxigraph's writable store on ``path``; a lock error names the holder.

    Raises:
        StoreLockedError: Another process (or handle) has it open for writing.
        StoreError: It cannot be opened for writing (read-only media, damage).
    """
    try:
        return ox.Store(str(path))
    except (OSError, RuntimeError) as exc:
        if _LOCKED.search(str(exc)):
            raise StoreLockedError(
                f"The graph store {path} is open in another process ({_holder_text(path)}). "
                "Close that process (or wait for it to finish) and try again; read commands "
                "(kgtransfer stats, query, export) work meanwhile."
            ) from None
        raise StoreError(
            f"The graph store {path} cannot be opened for writing ({first_line(exc)}). If it "
            "is on read-only media, open it with read_only=True; if it is damaged, restore a "
            "backup or rebuild it with `kgtransfer ingest`."
        ) from None


class _NoLinks(Exception):
    """Hard links into the snapshot folder are impossible (another mount, no permission)."""


_LINK_ERRORS = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.EACCES, errno.EROFS}


def _snapshot(source: Path, target: Path, *, copy_logs: bool, may_copy: bool) -> None:
    """Make ``target`` a private copy of a store being written: the write-ahead logs first
    (then every write they hold is in the copy: still in a log, or in a table file the
    MANIFEST names), then the MANIFEST, then the table files. Logs and table files are
    hard links (table files never change; logs only grow, and are read once at open);
    a file the writer deletes meanwhile raises, and the caller takes a new snapshot.
    Where links are impossible the files are copied if ``may_copy``, else
    :class:`_NoLinks` is raised."""

    def link(name: str) -> None:
        try:
            os.link(source / name, target / name)
        except OSError as exc:
            if exc.errno not in _LINK_ERRORS:
                raise
            if not may_copy:
                raise _NoLinks from exc
            shutil.copyfile(source / name, target / name)

    for name in os.listdir(source):
        if name.endswith(".log") and copy_logs:  # a writable open may truncate its logs
            shutil.copyfile(source / name, target / name)
        elif name.endswith(".log"):
            link(name)
    current = (source / "CURRENT").read_bytes()
    manifest = current.decode("ascii", "replace").strip()
    if not re.fullmatch(r"MANIFEST-\d+", manifest):
        raise StoreError(
            f"The graph store {source} is damaged: its CURRENT file names no MANIFEST "
            f"({current[:40]!r}). Restore a backup or rebuild it with `kgtransfer ingest`."
        )
    shutil.copyfile(source / manifest, target / manifest)
    (target / "CURRENT").write_bytes(current)
    for name in os.listdir(source):
        if name.endswith(".sst"):
            link(name)
        elif name == "IDENTITY" or name.startswith("OPTIONS-"):
            shutil.copyfile(source / name, target / name)


def _same_disk(one: Path, other: Path) -> bool:
    try:
        return os.stat(one).st_dev == os.stat(other).st_dev
    except OSError:
        return False


def _snapshot_parent(path: Path) -> Path:
    """The temp folder if it is on the store's file system (hard links work), else the
    store's own ``.kgtransfer-readers`` folder (a writer is running, so it is writable)."""
    temp = Path(tempfile.gettempdir())
    if _same_disk(temp, path):
        return temp
    readers = path / READERS_DIR
    try:
        readers.mkdir(exist_ok=True)
    except OSError:
        return temp  # copies then
    return readers


def open_read_only(
    path: Path, owner: object, *, private: bool = False
) -> tuple[ox.Store, Any, Path | None]:
    """A read-only store on ``path``, the callable that removes its snapshot (or None), and
    the folder another process may open read-only to query the same view (None for a
    private snapshot, which this process holds open for writing).

    pyoxigraph leaves reading a store that another process writes undefined (the
    writer's compactions delete files a reader still needs), so the view is a snapshot
    whenever that can be cheap or is needed: hard links in the temp folder when it is on
    the store's disk; otherwise, only while a writer holds the store, a snapshot in the
    store's ``.kgtransfer-readers`` (or a copy). Without a writer and off the temp disk
    (e.g. read-only media) the store itself is opened read-only, which writes nothing.

    ``private=True`` always takes a snapshot, with its own copy of the write-ahead logs,
    and opens it writable, so the caller can drop what it must not show (nothing of the
    original store is written: table files are only ever unlinked, never changed)."""
    writer = private or _writer_active(path)
    if not writer and not _same_disk(Path(tempfile.gettempdir()), path):
        return _open_in_place(path), None, path
    error: BaseException | None = None
    parent = _snapshot_parent(path)
    for _ in range(5 if writer else 1):  # the writer may delete a file we copy: again
        snap = Path(tempfile.mkdtemp(prefix=f"{_SNAPSHOT_PREFIX}{os.getpid()}-", dir=parent))
        cleanup = weakref.finalize(owner, shutil.rmtree, str(snap), True)
        try:
            _snapshot(path, snap, copy_logs=private, may_copy=writer)
            if private:
                return ox.Store(str(snap)), cleanup, None
            return ox.Store.read_only(str(snap)), cleanup, snap
        except _NoLinks:
            cleanup()
            return _open_in_place(path), None, path
        except (OSError, RuntimeError) as exc:
            cleanup()
            if isinstance(exc, StoreError):
                raise
            error = exc
    if not writer:
        raise _damaged(path, error)
    raise StoreError(
        f"The graph store {path} could not be read beside its writer "
        f"({first_line(error) if error else '?'}); try again when the writer has finished."
    )


def _damaged(path: Path, exc: BaseException | None) -> StoreError:
    return StoreError(
        f"The graph store {path} cannot be read ({first_line(exc) if exc else '?'}); it is "
        "damaged or not a kgtransfer store. Restore a backup or rebuild it with "
        "`kgtransfer ingest`."
    )


def _open_in_place(path: Path) -> ox.Store:
    try:
        return ox.Store.read_only(str(path))
    except (OSError, RuntimeError) as exc:
        raise _damaged(path, exc) from None
