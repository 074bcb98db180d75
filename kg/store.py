"""The model-zoo knowledge graph: :class:`ZooGraph`, an RDF store on pyoxigraph.

Every write is one *ingest batch*: a ``kgt:IngestBatch`` (a ``prov:Activity`` with its
source, time and row counts) whose triples live in a named graph of their own, so
``remove_batch`` retracts exactly what a batch wrote. A batch merges into what is known:
it retracts from older batches only the single values it overwrites (``mode="merge"``)
or everything about the entities it names (``mode="replace"``), and lists each replaced
value on its provenance. Small batches are written in one pyoxigraph transaction; large
batches on disk go through the bulk loader and become visible when their provenance (the
commit marker) is written, and a graph left without it by a crash is dropped on the next
open (a read-only view never shows it). A batch that retracts stages its provenance and
the quads to retract (as terms, in a staging graph) and one fixed SPARQL update then
applies both, so a crash mid-write leaves the previous state or the new one. The store
records its format version in a metadata graph, refuses to open another version, and
:func:`migrate_store` carries an older one forward. Opening, locking, read-only
snapshots and the cleanup of interrupted writes live in :mod:`kgtransfer.kg._lifecycle`.

This module holds the store's lifecycle and batch writing. The rest of ``ZooGraph`` is
composed of one mixin per responsibility: the query layer
(:mod:`~kgtransfer.kg._graph_queries`), the ingestion front end
(:mod:`~kgtransfer.kg._ingest_front`), removal (:mod:`~kgtransfer.kg._removal`) and RDF
import/export (:mod:`~kgtransfer.kg._import_export`); converters live with the format
they produce (:mod:`~kgtransfer.kg._rdflib`, :mod:`~kgtransfer.kg._networkx`) and store
migration in :mod:`~kgtransfer.kg._migrate`. Every layer reaches the store only through
``self._store`` (a :class:`~kgtransfer.kg._backend.StoreBackend`).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyoxigraph as ox
from tqdm import tqdm

from kgtransfer.errors import ArgumentError, StoreError, StoreLockedError, StoreVersionError
from kgtransfer.kg import _lifecycle as _life
from kgtransfer.kg._backend import StoreBackend
from kgtransfer.kg._graph_queries import GraphQueries
from kgtransfer.kg._import_export import ImportExport
from kgtransfer.kg._ingest_front import IngestFront
from kgtransfer.kg._layout import (
    _META_GRAPH,
    _STORE_NODE,
    _TYPE,
    _VERSION,
    FORMAT_VERSION,
    _datetime_literal,
    _json_literal,
    _new_batch_id,
    _now,
)
from kgtransfer.kg._merge import (
    _MERGED_TABLES,
    _OVERWRITTEN,
    _RETRACTED,
    WriteMode,
    _apply_staged,
    _change,
    _check_mode,
    _field,
    _has_blank,
    _note_overwritten,
    _staged_nquads,
    _term_key,
)
from kgtransfer.kg._migrate import _MIGRATIONS, migrate_store
from kgtransfer.kg._removal import Removal
from kgtransfer.kg._schema import SPECS
from kgtransfer.kg._writer import render_tables, string_literal, term_iri
from kgtransfer.kg.ingest import IngestReport
from kgtransfer.kg.iri import ID_BASE, to_iri
from kgtransfer.kg.tables import ZooTables
from kgtransfer.kg.vocab import DCTERMS, KGT, PROV, RDF

if TYPE_CHECKING:
    from typing import Self

    import networkx as nx
    import rdflib

__all__ = ["FORMAT_VERSION", "ZooGraph", "migrate_store"]

#: Batches of at least this many statements go through the bulk loader (on disk).
_BULK_MIN_STATEMENTS = 20_000
#: The bulk loader reads at most about this many statements at a time (bounds its memory).
_BULK_CHUNK_STATEMENTS = 400_000


def _report_dict(report: Any) -> Any:
    """A JSON-ready view of an ingest report (dataclass, mapping or anything else)."""
    import dataclasses

    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        report = dataclasses.asdict(report)
    if hasattr(report, "to_dict"):
        report = report.to_dict()
    return json.loads(json.dumps(report, default=str))


class ZooGraph(IngestFront, ImportExport, Removal, GraphQueries):
    """A model zoo's knowledge graph (models, datasets, lineage, records, similarities).

    ``ZooGraph()`` lives in memory; :meth:`open` opens a persistent store on disk
    (:meth:`create`, or ``open(path, create=True)``, makes a new one). Use it as a
    context manager, or call :meth:`close`.

    Example:
        >>> import pandas as pd
        >>> g = ZooGraph()
        >>> tables = ZooTables(records=pd.DataFrame({"model": ["m"], "dataset": ["d"],
        ...     "value": [0.9], "metric": ["accuracy"], "method": [None], "seed": [0],
        ...     "run": [None], "suspect": [False]}))
        >>> batch = g.add_zoo_tables(tables, source="example")
        >>> g.records(model="m")[["model", "dataset", "value"]].values.tolist()
        [['m', 'd', 0.9]]
    """

    def __init__(self) -> None:
        self._attach(ox.Store())
        self._init_meta()

    @classmethod
    def _attached(
        cls, store: StoreBackend | None, *, path: Path | None = None, read_only: bool = False
    ) -> Self:
        """An instance on ``store`` for :meth:`open` / :meth:`connect`, which do their own
        set-up (``__init__`` would make an in-memory store only to drop it)."""
        graph = cls.__new__(cls)
        graph._attach(store, path=path, read_only=read_only)
        return graph

    def _attach(
        self,
        store: StoreBackend | None,
        *,
        path: Path | None = None,
        read_only: bool = False,
    ) -> None:
        """The one place that sets a graph's state (every constructor comes through here)."""
        self._store: StoreBackend | None = store
        self._path: Path | None = path
        # the folder a query worker opens (a read-only view: its snapshot; None: in-thread)
        self._query_path: Path | None = path
        self._read_only = read_only
        self._cleanup: Callable[[], object] | None = None
        self._last_report: Any = None

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, read_only: bool = False, create: bool = False
    ) -> Self:
        """Open the persistent store in folder ``path``.

        Opening never creates a store unless ``create=True`` (or :meth:`create`), and
        a folder that is not a store is never written to. A writable open takes the
        store's lock, records its holder (pid, host, time) in
        ``.kgtransfer-writer.json`` until :meth:`close`, and removes what an
        interrupted load left behind (temporary files, a batch without provenance).

        A read-only open takes no lock and does not write to the store, so it works on
        read-only media and beside a writer in another process. It shows the store as
        committed when it was opened; later writes need a new open. It reads a private
        snapshot (hard links in the temp folder, or, while a writer holds the store and
        the temp folder is on another disk, a snapshot in ``.kgtransfer-readers``), so a
        writer's compactions cannot pull files from under it. A batch whose bulk write is
        still running (or was cut short by a crash) is not shown: the view is then a
        private copy without it.

        A URL (``http://`` or ``https://``) opens the graph on a SPARQL server:
        :meth:`connect` with its defaults (credentials from the environment).

        Args:
            path: Folder of the store, or the URL of a SPARQL server.
            read_only: Open a read-only view.
            create: Create the store if ``path`` is missing or an empty folder.

        Raises:
            StoreError: ``path`` is no store (missing, a file, a folder of other files or
                another program's database; nothing is written to it then), or the store
                is corrupt or unreadable.
            StoreLockedError: Another process has the store open for writing (the
                message names it).
            StoreVersionError: The store was written by another format version, or not by
                kgtransfer.
        """
        from kgtransfer.kg._remote import is_url

        if is_url(path):  # a SPARQL server (the CLI's --store http://...)
            return cls.connect(str(path), read_only=read_only)
        path = Path(path)
        if read_only and create:
            raise ArgumentError(
                "ZooGraph.open(): read_only=True and create=True exclude each other."
            )
        if not _life.is_store(path):
            if not create:
                raise StoreError(
                    f"No graph store at {path}: the folder does not exist or is empty. Build "
                    f"one with `kgtransfer ingest --store {path} ...` (or `kgtransfer zoo "
                    "build`), or pass create=True to ZooGraph.open."
                )
            outer = _life.enclosing_store(path)
            if outer is not None:
                raise StoreError(
                    f"{path} lies inside the graph store {outer}; a store cannot hold another "
                    f"one. Pass {outer} itself, or a folder outside it."
                )
            path.mkdir(parents=True, exist_ok=True)
        graph = cls._attached(None, path=path, read_only=read_only)
        try:
            if read_only:
                graph._store, graph._cleanup, graph._query_path = _life.open_read_only(path, graph)
            else:
                graph._store = _life.open_writable(path)
                _life.write_holder(path)
            graph._init_meta()
            if read_only and graph._uncommitted():
                # a bulk write in progress (or cut short): read a private copy without it
                cleanup, graph._store = graph._cleanup, None
                if cleanup is not None:
                    cleanup()
                graph._store, graph._cleanup, graph._query_path = _life.open_read_only(
                    path, graph, private=True
                )
                graph._recover()
            if not read_only:
                _life.remove_leftovers(path)
                graph._recover()
        except BaseException:
            graph.close()
            raise
        return graph

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        auth: str | tuple[str, str] | None = None,
        timeout: float = 30.0,
        read_only: bool = False,
        retries: int = 3,
        backoff: float = 0.2,
        query_url: str | None = None,
        update_url: str | None = None,
        store_url: str | None = None,
    ) -> Self:
        """Open the graph on a SPARQL 1.1 server (e.g. ``oxigraph serve``), shared by clients.

        Same API and guarantees as a local store: each batch is written to its own named
        graph and its provenance (the commit marker) last, and readers see committed
        batches only (see :mod:`kgtransfer.kg._remote`). Several processes may write at
        once. The first client writes the format version (once, atomically).

        Args:
            url: Base URL of the server, e.g. ``http://127.0.0.1:7878``.
            auth: A bearer token or a ``(user, password)`` pair (HTTP Basic); None reads
                ``KGTRANSFER_STORE_TOKEN``, or ``KGTRANSFER_STORE_USER`` and
                ``KGTRANSFER_STORE_PASSWORD``. Never shown in a repr, message or log.
            timeout: Seconds to wait for each answer of the server.
            read_only: Refuse writes in this client.
            retries: Further attempts after a network fault (refused, timeout, 5xx).
            backoff: Seconds before the first retry (doubled for each next one).
            query_url: Query endpoint (default ``url + "/query"``, Oxigraph's layout).
            update_url: Update endpoint (default ``url + "/update"``).
            store_url: Graph Store Protocol endpoint (default ``url + "/store"``).

        Raises:
            StoreUnavailableError: The server did not answer after the retries.
            StoreError: The server refused the credentials.
            StoreVersionError: The server holds another format version, or foreign RDF.
        """
        from kgtransfer.kg._remote import RemoteStore, init_store

        remote = RemoteStore(
            url,
            auth=auth,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            query_url=query_url,
            update_url=update_url,
            store_url=store_url,
        )
        graph = cls._attached(remote, read_only=read_only)
        if not read_only:
            init_store(
                remote, ox.Quad(_STORE_NODE, _VERSION, ox.Literal(FORMAT_VERSION), _META_GRAPH)
            )
        graph._init_meta()
        return graph

    @classmethod
    def create(cls, path: str | os.PathLike[str]) -> Self:
        """Create (or open) a writable store in ``path``: ``open(path, create=True)``."""
        return cls.open(path, create=True)

    def _init_meta(self) -> None:
        store = self._live
        where = self._path or getattr(store, "url", None) or "the in-memory store"
        try:
            found = list(store.quads_for_pattern(_STORE_NODE, _VERSION, None, _META_GRAPH))
            empty = not found and not len(store)
        except (OSError, RuntimeError) as exc:
            reason = _life.first_line(exc)
            raise StoreError(
                f"The graph store {where} cannot be read ({reason}); it is corrupt. Restore "
                "it from a backup, or rebuild it with `kgtransfer ingest`."
            ) from None
        if not found:
            if not empty:
                raise StoreVersionError(
                    f"{where} holds RDF but no kgtransfer format version; it was not written by "
                    "kgtransfer. Open an empty folder, or load the data with load_rdf()."
                )
            if not self._read_only:
                store.add(ox.Quad(_STORE_NODE, _VERSION, ox.Literal(FORMAT_VERSION), _META_GRAPH))
            return
        literal = str(getattr(found[0].object, "value", found[0].object))
        try:
            version = int(literal)
        except ValueError:
            raise StoreVersionError(
                f"{where} has an unreadable store format version {literal!r} (expected an "
                f"integer; this kgtransfer reads version {FORMAT_VERSION}). The store is "
                "damaged or was not written by kgtransfer; rebuild it with `kgtransfer ingest`."
            ) from None
        if version in _MIGRATIONS:
            raise StoreVersionError(
                f"{where} has store format version {version}, this kgtransfer reads version "
                f"{FORMAT_VERSION}. Run `kgtransfer migrate --store {where}` (or "
                "kgtransfer.kg.migrate_store(path)) to carry it forward; it backs it up first."
            )
        if version != FORMAT_VERSION:
            raise StoreVersionError(
                f"{where} has store format version {version}, this kgtransfer reads version "
                f"{FORMAT_VERSION}. Export it to N-Quads with the kgtransfer that wrote it and "
                "re-import, or install a matching kgtransfer."
            )

    @property
    def path(self) -> Path | None:
        """Folder of the on-disk store, or None in memory."""
        return self._path

    @property
    def last_report(self) -> Any:
        """Deprecated: the report of the last ingestion; use the report it returns.

        ``add_tables``, ``add_records``, ``add_model_cards``, ``add_transfergraph`` and
        ``load_rdf`` return their :class:`~kgtransfer.kg.ingest.IngestReport`; this
        attribute is kept for one release and warns (``DeprecationWarning``).
        """
        warnings.warn(
            "ZooGraph.last_report is deprecated and will be removed in the next release; use "
            "the IngestReport that add_tables / add_records / add_model_cards / "
            "add_transfergraph / load_rdf return.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._last_report

    @property
    def read_only(self) -> bool:
        """True when opened with ``read_only=True`` (writes raise ``StoreLockedError``)."""
        return self._read_only

    @property
    def _live(self) -> StoreBackend:
        if self._store is None:
            raise ValueError("This ZooGraph is closed; open it again with ZooGraph.open(path).")
        return self._store

    def close(self) -> None:
        """Flush and release the store (its lock, holder record or snapshot); idempotent."""
        store, self._store = self._store, None
        owned = store is not None and self._path is not None and not self._read_only
        try:
            if owned and store is not None:
                store.flush()
        finally:
            del store  # releases the lock before the holder record or the snapshot goes
            if owned and self._path is not None:
                _life.remove_holder(self._path)
            cleanup, self._cleanup = self._cleanup, None
            if cleanup is not None:
                cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self._live)

    def __repr__(self) -> str:
        where = str(self._path) if self._path else "memory"
        url = getattr(self._store, "url", None)
        if url is not None:  # a server: a repr sends no request
            return f"ZooGraph({url})"
        state = "closed" if self._store is None else f"{len(self)} quads"
        return f"ZooGraph({where}, {state})"

    @staticmethod
    def iri(kind: str, id_: str) -> ox.NamedNode:
        """The IRI of an entity, for ``query(..., bindings=...)``.

        Example:
            >>> ZooGraph.iri("model", "resnet50").value
            'https://w3id.org/kgtransfer/id/model/resnet50'
        """
        return ox.NamedNode(to_iri(kind, id_))

    def _writable(self) -> StoreBackend:
        store = self._live
        if self._read_only:
            where = self._path or getattr(store, "url", None)
            raise StoreLockedError(
                f"The graph store {where} was opened read_only=True; reopen it with "
                "ZooGraph.open(path) (or ZooGraph.connect(url)) to write."
            )
        return store

    # ------------------------------------------------------------------ writing
    def add_zoo_tables(
        self,
        tables: ZooTables,
        *,
        source: str,
        report: IngestReport | None = None,
        progress: bool = False,
        mode: WriteMode = "merge",
    ) -> str:
        """Write normalised tables as one ingest batch (one transaction).

        With ``mode="merge"`` (the default) rows of ``models``, ``datasets``,
        ``metrics`` and ``lineage`` update only the fields they carry: an empty cell
        keeps what is stored, a value replaces a different stored value of that field,
        and lineage edges are added. ``mode="replace"`` retracts everything stored about
        the models, datasets and metrics of the batch first (a model's lineage
        included). Every value replaced is listed (kind, id, field, old, new and the
        batch it came from) in ``report.overwritten`` and on the batch's provenance
        (:meth:`batch`); :meth:`remove_batch` puts them back. Records, similarities and
        scores are always added. Extra numeric columns become numeric attributes.

        Args:
            tables: Normalised tables (see :mod:`kgtransfer.kg.tables`).
            source: Where the rows came from (file, folder or a short label).
            report: The ingestion report, stored as JSON on the batch.
            progress: Show a progress bar (render, write, commit) on stderr.
            mode: ``"merge"`` or ``"replace"`` (see above).

        Returns:
            The batch id (for :meth:`remove_batch`).

        Raises:
            IngestError: A missing key, empty id, unknown relation or non-numeric extra
                column; nothing is written then.
        """
        return self._write_batch(
            tables,
            source=source,
            report=report,
            batch_id=_new_batch_id(),
            progress=progress,
            mode=mode,
        )

    def _write_batch(
        self,
        tables: ZooTables,
        *,
        source: str,
        report: Any,
        batch_id: str,
        extra: Iterable[str] = (),
        progress: bool = False,
        mode: WriteMode = "merge",
    ) -> str:
        _check_mode(mode)
        store = self._writable()
        started = _now()
        bar = tqdm(
            total=2, desc=f"ingest {source}", unit="step", disable=not progress, file=sys.stderr
        )
        bar.set_postfix_str("rendering")
        pieces, counts = render_tables(tables, batch_id)
        retracted, overwritten = self._changes(tables, batch_id, mode)
        _note_overwritten(report, overwritten)
        bar.update()
        bar.set_postfix_str("writing")
        graph = term_iri(to_iri("batch", batch_id))
        activity = graph
        meta = [
            f"{activity} <{RDF.type}> <{PROV.Activity}>",
            f"{activity} <{RDF.type}> <{KGT.IngestBatch}>",
            f"{activity} <{DCTERMS.identifier}> {string_literal(batch_id)}",
            f"{activity} <{DCTERMS.source}> {string_literal(str(source))}",
            f"{activity} <{PROV.startedAtTime}> {_datetime_literal(started)}",
            f"{activity} <{KGT.counts}> {_json_literal(counts, 'counts')}",
        ]
        if report is not None:
            meta.append(
                f"{activity} <{KGT.report}> {_json_literal(_report_dict(report), 'report')}"
            )
        if overwritten:
            meta.append(f"{activity} {_OVERWRITTEN} {_json_literal(overwritten, 'overwritten')}")
        if retracted:
            lines = [str(q) for q in retracted]
            meta.append(f"{activity} {_RETRACTED} {_json_literal(lines, 'retracted')}")
        meta.append(f"{activity} <{PROV.endedAtTime}> {_datetime_literal(_now())}")
        data_suffix = f" {graph} .\n"
        extra_text = "".join(line + data_suffix for line in extra)
        # Without retractions the provenance is the commit marker; with them it is staged
        # beside the quads to retract and one update applies both (atomically).
        staging = ox.NamedNode(to_iri("batch", batch_id, "staging"))
        commit_graph = _META_GRAPH if not retracted else staging
        commit_suffix = f" {commit_graph} .\n"
        commit = "".join(line + commit_suffix for line in meta)
        if retracted:
            commit += _staged_nquads(retracted, staging)
        n_lines = sum(len(piece) for piece in pieces)
        node = ox.NamedNode(graph[1:-1])
        try:
            if self._path is not None and n_lines >= _BULK_MIN_STATEMENTS:
                self._bulk_write(graph, pieces, data_suffix, extra_text, commit.encode("utf-8"))
            else:
                chunks = ["".join((piece + data_suffix).tolist()) for piece in pieces]
                data = "".join(chunks) + extra_text + commit
                store.load(data.encode("utf-8"), format=ox.RdfFormat.N_QUADS)
            if retracted:
                store.update(
                    _apply_staged(staging, "DELETE")
                    + f"INSERT {{ GRAPH {_META_GRAPH} {{ {graph} ?p ?o }} }} "
                    f"WHERE {{ GRAPH {staging} {{ {graph} ?p ?o }} }} ;\n"
                    f"DROP SILENT GRAPH {staging}"
                )
                for q in retracted:
                    if _has_blank(q):  # rare (RDF imported with blank nodes)
                        store.remove(q)
        except BaseException:
            if retracted:  # not committed: drop what was written
                store.remove_graph(node)
                store.remove_graph(staging)
            raise
        bar.update()
        bar.close()
        return batch_id

    def _bulk_write(
        self, graph: str, pieces: list[pd.Series], suffix: str, extra: str, commit: bytes
    ) -> None:
        """Write a large batch with pyoxigraph's bulk loader, then commit it.

        The statements are streamed to a temporary N-Quads file in the store's
        ``.kgtransfer-tmp`` folder (a kill leaves it there for the next open to remove) and
        bulk-loaded into the batch's own named graph, a few hundred thousand at a time
        (``pieces`` is emptied as it goes, so the rendered text is freed early and the
        loader's memory stays bounded); the batch's provenance (the commit marker) is
        written afterwards in one transaction. A crash in between
        leaves a graph without provenance, which :meth:`_recover` drops the next time
        the store is opened, so readers never see a partial batch.
        """
        store = self._live
        assert self._path is not None
        node = ox.NamedNode(graph[1:-1])
        spool = self._path / _life.TMP_DIR  # emptied by the next writable open
        spool.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=spool, prefix="batch-", suffix=".nq")
        os.close(fd)
        try:
            while pieces:  # consumed: the rendered text is freed as it is loaded
                with open(tmp, "w", encoding="utf-8") as handle:
                    n_lines = 0
                    while pieces and n_lines < _BULK_CHUNK_STATEMENTS:
                        piece = pieces.pop()
                        n_lines += len(piece)
                        handle.write("".join((piece + suffix).tolist()))
                        del piece
                # in parts: the bulk loader's memory grows with its input
                store.bulk_load(path=tmp, format=ox.RdfFormat.N_QUADS)
            if extra:
                store.load(extra.encode("utf-8"), format=ox.RdfFormat.N_QUADS)
            store.load(commit, format=ox.RdfFormat.N_QUADS)
        except BaseException:
            store.remove_graph(node)
            raise
        finally:
            Path(tmp).unlink(missing_ok=True)
        store.flush()

    def _uncommitted(self) -> list[ox.NamedNode]:
        """Batch graphs without provenance: a bulk write in progress, or cut short by a crash."""
        store = self._live
        prefix = f"{ID_BASE}batch/"
        return [
            name
            for name in list(store.named_graphs())
            if isinstance(name, ox.NamedNode)
            and name.value.startswith(prefix)
            and not any(store.quads_for_pattern(name, _TYPE, None, _META_GRAPH))
        ]

    def _recover(self) -> list[str]:
        """Drop batch graphs without provenance (left by a crash during a bulk write)."""
        store = self._live
        dropped = self._uncommitted()
        for name in dropped:
            store.remove_graph(name)
        if dropped:
            store.flush()
        return [name.value for name in dropped]

    def _changes(
        self, tables: ZooTables, batch_id: str, mode: WriteMode
    ) -> tuple[list[ox.Quad], list[dict[str, Any]]]:
        """What a batch retracts from older batches, and the values it overwrites.

        ``merge``: for each entity (and lineage edge) the graph already knows, every
        non-null cell of a single-valued field whose stored value differs retracts that
        value. ``replace``: everything known about the models, datasets and metrics
        the batch mentions is retracted (their lineage edges included).

        Returns:
            ``(retracted quads, overwritten)``: one dict per changed value with its
            ``kind``, ``id``, ``field``, ``old`` and ``new`` value and the ``batch``
            the old value came from.
        """
        store = self._live
        known: dict[str, pd.DataFrame] = {}
        for name, kind in _MERGED_TABLES.items():
            table = getattr(tables, name)
            if table.empty:
                continue
            if name == "lineage":
                iris = [
                    to_iri("lineage", str(m), str(b))
                    for m, b in zip(table["model"], table["base_model"], strict=True)
                ]
            else:
                iris = [to_iri(kind, str(i)) for i in table[SPECS[name].key]]
            mask = [next(store.quads_for_pattern(ox.NamedNode(i), None, None, None), None)
                    is not None for i in iris]  # fmt: skip
            if any(mask):
                known[name] = table[mask]
        if not known:
            return [], []
        # the new values of entities already known, as the store would hold them
        pieces, _ = render_tables(ZooTables(**known), batch_id)
        text = "".join(" .\n".join(p.tolist()) + " .\n" for p in pieces if len(p))
        new: dict[tuple[ox.NamedNode, ox.NamedNode], list[Any]] = {}
        for triple in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES):
            s, p = triple.subject, triple.predicate
            if isinstance(s, ox.NamedNode) and _field(s, p) is not None:
                new.setdefault((s, p), []).append(triple.object)
        retracted: list[ox.Quad] = []
        if mode == "replace":
            for name, table in known.items():
                if name == "lineage":
                    continue
                kind = _MERGED_TABLES[name]
                for id_ in table[SPECS[name].key].astype(str):
                    retracted += self._entity_quads(ox.NamedNode(to_iri(kind, id_)))
        else:
            for s, p in new:
                keys = {_term_key(o) for o in new[(s, p)]}
                retracted += [
                    q
                    for q in store.quads_for_pattern(s, p, None, None)
                    if _term_key(q.object) not in keys
                ]
        overwritten = []
        for q in retracted:
            assert isinstance(q.subject, ox.NamedNode) and isinstance(q.predicate, ox.NamedNode)
            if _field(q.subject, q.predicate) is None:
                continue
            values = new.get((q.subject, q.predicate), [])
            if _term_key(q.object) not in {_term_key(o) for o in values}:
                overwritten.append(_change(q, values))
        return retracted, overwritten

    def _entity_quads(self, node: ox.NamedNode) -> list[ox.Quad]:
        store = self._live
        quads = list(store.quads_for_pattern(node, None, None, None))
        derivation = ox.NamedNode(str(PROV.qualifiedDerivation))
        for q in list(quads):
            if q.predicate == derivation and isinstance(q.object, ox.NamedNode):
                quads += store.quads_for_pattern(q.object, None, None, None)
        return quads

    def _batch_graphs(self) -> Iterator[ox.NamedNode]:
        """The named graphs of ingest batches (data, not the store's metadata)."""
        prefix = f"{ID_BASE}batch/"
        for name in self._live.named_graphs():
            if isinstance(name, ox.NamedNode) and name.value.startswith(prefix):
                yield name

    # ------------------------------------------------------------------ converters
    def to_rdflib(self) -> rdflib.Dataset:
        """An rdflib Dataset with every named graph; its default graph is their union
        (:func:`kgtransfer.kg._rdflib.to_rdflib`)."""
        from kgtransfer.kg._rdflib import to_rdflib

        return to_rdflib(self)

    @classmethod
    def from_rdflib(cls, graph: rdflib.Graph) -> Self:
        """An in-memory ZooGraph from an rdflib Dataset (graphs kept) or Graph (one batch)
        (:func:`kgtransfer.kg._rdflib.from_rdflib`)."""
        from kgtransfer.kg._rdflib import from_rdflib

        return from_rdflib(graph, cls())

    def to_networkx(self) -> nx.MultiDiGraph:
        """The zoo as a ``networkx.MultiDiGraph`` (see :func:`kgtransfer.kg._networkx.tables_to_networkx`)."""
        from kgtransfer.kg._networkx import tables_to_networkx

        return tables_to_networkx(self.to_tables())

    def to_hetero_data(self, **kwargs: object) -> tuple[object, object]:
        """Deprecated: use ``kgtransfer.transfer.recommend.build_hetero_data(graph)``.

        The ``HeteroData`` converter lives with the recommender that owns the format; this
        alias is kept for one release and warns (``DeprecationWarning``).

        Returns:
            ``(HeteroData, HeteroIndex)``.
        """
        warnings.warn(
            "ZooGraph.to_hetero_data() is deprecated and will be removed in the next release; "
            "use kgtransfer.transfer.recommend.build_hetero_data(graph, ...) instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        # the one allowed wrong-way import (tools/check_imports.py ALLOWED), gone with the alias
        from kgtransfer.transfer.recommend import build_hetero_data

        options: dict[str, Any] = dict(kwargs)
        return build_hetero_data(self.to_tables(), **options)
