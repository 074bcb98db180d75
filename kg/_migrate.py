"""Carry a graph store written by an older kgtransfer forward (:func:`migrate_store`).

One step per old format version (:data:`_MIGRATIONS`); :meth:`ZooGraph.open
<kgtransfer.kg.ZooGraph.open>` refuses an older store and names :func:`migrate_store`,
and ``load_rdf`` carries an older N-Quads export forward with :func:`_migrated`.
Migration works on a local store folder only.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kgtransfer.errors import StoreError, StoreLockedError, StoreVersionError
from kgtransfer.kg._layout import _META_GRAPH, _STORE_NODE, _VERSION, FORMAT_VERSION, _now

__all__ = ["migrate_store"]


def _v1_to_v2(store: ox.Store) -> str:
    """Version 2 adds optional predicates (a record's regime) and merging batches.

    Version-1 data is valid version-2 data: records without regime predicates have an
    unknown regime, and what a batch replaced before is simply not recorded. So only
    the version triple changes.
    """
    return ""


#: One step per old version: SPARQL update operations (our own text, no data; empty, or
#: each ending with `` ;``) that carry a store from that version to the next; the
#: version triple is set with them. ``load_rdf`` applies them to an older N-Quads export.
_MIGRATIONS: dict[int, Any] = {1: _v1_to_v2}


def _migrated(quads: list[ox.Quad], version: int) -> list[ox.Quad]:
    """``quads`` of a store of format ``version`` (version triple left out), carried forward."""
    scratch = ox.Store()
    scratch.extend(quads)
    while version < FORMAT_VERSION:
        operations = _MIGRATIONS[version](scratch)
        if operations:
            scratch.update(operations)
        version += 1
    return list(scratch)


def _stored_version(store: ox.Store, where: object) -> int | None:
    found = list(store.quads_for_pattern(_STORE_NODE, _VERSION, None, _META_GRAPH))
    if not found:
        return None
    text = str(getattr(found[0].object, "value", ""))
    try:
        return int(text)
    except ValueError:
        raise StoreError(
            f"{where} holds an unreadable store format version {text!r}; it is corrupt or "
            "was not written by kgtransfer. Restore it from a backup or an N-Quads export."
        ) from None


def migrate_store(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Carry a graph store written by an older kgtransfer forward to :data:`FORMAT_VERSION`.

    The store is backed up first: every quad is written as N-Quads to
    ``<folder>.v<old>-backup-<time>.nq`` beside the folder (atomically). The old
    kgtransfer reads it back with ``ZooGraph.open(new_folder).load_rdf(file)``; this one
    does too, carrying it forward as it loads. Each version step then runs in one transaction,
    together with the new version triple, so a crash leaves the old or the new version.

    Args:
        path: Folder of the store.

    Returns:
        ``{"path", "from_version", "to_version", "backup"}``; ``backup`` is None (and
        nothing is written) when the store is already current.

    Raises:
        StoreError: ``path`` is not a graph store, or its version triple is unreadable.
        StoreLockedError: Another process has the store open.
        StoreVersionError: The store is newer than this kgtransfer.

    Example:
        >>> import tempfile, pathlib
        >>> from kgtransfer.kg import ZooGraph
        >>> folder = pathlib.Path(tempfile.mkdtemp()) / "graph"
        >>> ZooGraph.create(folder).close()
        >>> migrate_store(folder)["backup"] is None  # already current
        True
    """
    path = Path(path)
    if not (path / "CURRENT").is_file():
        raise StoreError(
            f"No graph store at {path}; pass the folder given to `kgtransfer ingest --store` "
            "(by default $KGTRANSFER_HOME/graph)."
        )
    try:
        store = ox.Store(str(path))
    except OSError as exc:
        if "lock" in str(exc).lower():
            raise StoreLockedError(
                f"The graph store {path} is open in another process ({exc}); close it, then "
                "migrate."
            ) from exc
        raise StoreError(f"Cannot open the graph store {path}: {exc}") from exc
    try:
        old = _stored_version(store, path)
        if old is None:
            raise StoreError(
                f"{path} holds no kgtransfer format version; it was not written by kgtransfer."
            )
        result: dict[str, Any] = {
            "path": str(path),
            "from_version": old,
            "to_version": FORMAT_VERSION,
            "backup": None,
        }
        if old == FORMAT_VERSION:
            return result
        if old > FORMAT_VERSION or old not in _MIGRATIONS:
            raise StoreVersionError(
                f"{path} has store format version {old}; this kgtransfer reads version "
                f"{FORMAT_VERSION} and migrates versions {sorted(_MIGRATIONS)} only. "
                "Install a kgtransfer that reads it."
            )
        backup = path.parent / f"{path.name}.v{old}-backup-{_now():%Y%m%dT%H%M%SZ}.nq"
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{backup.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                store.dump(handle, format=ox.RdfFormat.N_QUADS)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, backup)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        result["backup"] = str(backup)
        version = old
        while version < FORMAT_VERSION:
            operations = _MIGRATIONS[version](store)
            version += 1
            store.update(
                operations
                + f"DELETE WHERE {{ GRAPH {_META_GRAPH} {{ {_STORE_NODE} {_VERSION} ?v }} }} ;\n"
                f"INSERT DATA {{ GRAPH {_META_GRAPH} {{ {_STORE_NODE} {_VERSION} "
                f"{ox.Literal(version)} }} }}"
            )
        store.flush()
        return result
    finally:
        del store
