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
"""

from __future__ import annotations

import json
import math
import numbers
import os
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Literal
from uuid import uuid4

import pandas as pd
import pyoxigraph as ox
from tqdm import tqdm

from kgtransfer._io import atomic_write_bytes as _atomic_write
from kgtransfer.errors import (
    ArgumentError,
    ErrorMode,
    StoreError,
    StoreLockedError,
    StoreVersionError,
    check_error_mode,
    did_you_mean,
)
from kgtransfer.kg import _lifecycle as _life
from kgtransfer.kg import _runner
from kgtransfer.kg._bindings import inline_unprojected
from kgtransfer.kg._known import StoreIds, StoreLineage, StoreNClasses
from kgtransfer.kg._merge import (
    _MERGED_TABLES,
    _OVERWRITTEN,
    _RETRACTED,
    WriteMode,
    _apply_staged,
    _batch_of,
    _change,
    _check_mode,
    _field,
    _has_blank,
    _note_overwritten,
    _staged_nquads,
    _term_key,
)
from kgtransfer.kg._queries import get_query
from kgtransfer.kg._reader import read_tables
from kgtransfer.kg._schema import SPECS
from kgtransfer.kg._sparql_guard import check_sparql
from kgtransfer.kg._writer import render_tables, string_literal, term_iri
from kgtransfer.kg.iri import ID_BASE, id_of, to_iri
from kgtransfer.kg.tables import COLUMNS, ZooTables
from kgtransfer.kg.vocab import DCTERMS, KGT, MLS, PREFIXES, PROV, RDF

if TYPE_CHECKING:
    import networkx as nx
    import rdflib

__all__ = ["FORMAT_VERSION", "ZooGraph", "migrate_store"]

#: Version of the on-disk layout and vocabulary; bump it when either changes.
#: 2: batches merge into what is known (and record what they overwrote); records may
#: carry their training regime. :func:`migrate_store` carries a version-1 store forward.
FORMAT_VERSION = 2

#: Regime columns of a record besides its method (see kgtransfer.kg.regime).
_REGIME_PARTS = ("n_train", "shots", "split", "epochs", "steps", "frozen")
#: Batches of at least this many statements go through the bulk loader (on disk).
_BULK_MIN_STATEMENTS = 20_000
#: The bulk loader reads at most about this many statements at a time (bounds its memory).
_BULK_CHUNK_STATEMENTS = 400_000
_META_GRAPH = ox.NamedNode(to_iri("graph", "meta"))
_STORE_NODE = ox.NamedNode(to_iri("graph", "store"))
_VERSION = ox.NamedNode(str(KGT.formatVersion))
_TYPE = ox.NamedNode(str(RDF.type))
_JSON = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
_XSD = "http://www.w3.org/2001/XMLSchema#"
_ENTITY_TYPES = {"models": MLS.Model, "datasets": MLS.Dataset, "metrics": MLS.EvaluationMeasure}
_EXPORT_FORMATS: dict[str, ox.RdfFormat] = {
    "ttl": ox.RdfFormat.TURTLE,
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "json-ld": ox.RdfFormat.JSON_LD,
    "nq": ox.RdfFormat.N_QUADS,
    "nquads": ox.RdfFormat.N_QUADS,
}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _new_batch_id() -> str:
    """Batch ids sort in time order and are unique: ``20260101T120000123456Z-1a2b3c4d``."""
    return f"{_now():%Y%m%dT%H%M%S%fZ}-{uuid4().hex[:8]}"


def _report_dict(report: Any) -> Any:
    """A JSON-ready view of an ingest report (dataclass, mapping or anything else)."""
    import dataclasses

    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        report = dataclasses.asdict(report)
    if hasattr(report, "to_dict"):
        report = report.to_dict()
    return json.loads(json.dumps(report, default=str))


def _json_literal(value: Any, what: str) -> str:
    try:
        text = json.dumps(value, sort_keys=True, allow_nan=True)
    except TypeError as exc:
        raise TypeError(f"{what} must be JSON-serialisable: {exc}") from None
    return f"{string_literal(text)}^^<{_JSON}>"


def _record_attributes(attributes: Mapping[str, Any] | None) -> dict[str, float]:
    """``add_record``'s numeric attributes, checked: names new to records, finite numbers."""
    out: dict[str, float] = {}
    for name, value in (attributes or {}).items():
        if not isinstance(name, str) or not name or name in COLUMNS["records"]:
            raise ValueError(
                f"Record attribute name {name!r} is empty or a records column "
                f"({', '.join(COLUMNS['records'])}); pass those as arguments of add_record."
            )
        if value is None:
            continue  # unknown, like an empty cell
        number = math.nan
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            number = float(value)
        if not math.isfinite(number):
            raise ValueError(
                f"Record attribute {name!r} must be a finite number or None, got {value!r}."
            )
        out[name] = number
    return out


def _provenances(
    provenance: Mapping[str, Any] | Sequence[Mapping[str, Any] | None] | None, n_rows: int
) -> list[Mapping[str, Any] | None] | None:
    """``add_records``' provenance as one entry (or None) per row."""
    from kgtransfer.errors import ArgumentError

    if provenance is None:
        return None
    if isinstance(provenance, Mapping):
        return [provenance] * n_rows
    if isinstance(provenance, Sequence) and not isinstance(provenance, str):
        items = list(provenance)
        if len(items) != n_rows or not all(p is None or isinstance(p, Mapping) for p in items):
            raise ArgumentError(
                f"provenance must be one mapping or a sequence of {n_rows} mappings (or None), "
                f"one per record; got {len(items)} item(s)."
            )
        return items
    raise ArgumentError(
        f"provenance must be a mapping or a sequence of mappings, got {type(provenance).__name__}."
    )


def _run_lines(batch_id: str, row: int, details: Mapping[str, Any]) -> list[str]:
    """The run activity of record ``row`` of a batch: its provenance, as N-Triples lines."""
    details = dict(details)
    record_iri = term_iri(to_iri("record", batch_id, str(row)))
    run_iri = term_iri(to_iri("run", batch_id, str(row)))
    lines = [
        f"{record_iri} <{PROV.wasGeneratedBy}> {run_iri}",
        f"{run_iri} <{RDF.type}> <{PROV.Activity}>",
        f"{run_iri} <{KGT.provenance}> {_json_literal(details, 'provenance')}",
    ]
    for key, prop in (
        ("hyperparameters", KGT.hyperParameters),
        ("hyper_parameters", KGT.hyperParameters),
        ("versions", KGT.packageVersions),
        ("package_versions", KGT.packageVersions),
    ):
        if details.get(key) is not None:
            lines.append(f"{run_iri} <{prop}> {_json_literal(details[key], key)}")
    wall = details.get("wall_time")
    if isinstance(wall, numbers.Real) and not isinstance(wall, bool) and math.isfinite(wall):
        lines.append(f'{run_iri} <{KGT.wallTime}> "{float(wall)!r}"^^<{_XSD}double>')
    return lines


def _datetime_literal(moment: datetime) -> str:
    return f'"{moment.isoformat()}"^^<{_XSD}dateTime>'


def _format(fmt: str | None, target: object) -> ox.RdfFormat:
    if fmt is None:
        suffix = (
            Path(str(target)).suffix.lstrip(".").lower() if isinstance(target, (str, Path)) else ""
        )
        fmt = suffix or "ttl"
    key = fmt.lower().lstrip(".")
    if key not in _EXPORT_FORMATS:
        raise ValueError(f"Unknown RDF format {fmt!r}; use one of ttl, nt, jsonld, nq.")
    return _EXPORT_FORMATS[key]


class ZooGraph:
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
        self._store: ox.Store | None = ox.Store()
        self._path: Path | None = None
        self._query_path: Path | None = None
        self._read_only = False
        self.last_report: Any = None
        self._init_meta()

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, read_only: bool = False, create: bool = False
    ) -> ZooGraph:
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

        Args:
            path: Folder of the store.
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
        graph = cls.__new__(cls)
        graph._path = path
        graph._read_only = read_only
        graph._store = None
        graph._cleanup = None
        graph._query_path = path  # the folder a query worker opens (a view: its snapshot)
        graph.last_report = None
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
    def create(cls, path: str | os.PathLike[str]) -> ZooGraph:
        """Create (or open) a writable store in ``path``: ``open(path, create=True)``."""
        return cls.open(path, create=True)

    def _init_meta(self) -> None:
        store = self._live
        where = self._path or "the in-memory store"
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
    def read_only(self) -> bool:
        """True when opened with ``read_only=True`` (writes raise ``StoreLockedError``)."""
        return self._read_only

    @property
    def _live(self) -> ox.Store:
        if self._store is None:
            raise ValueError("This ZooGraph is closed; open it again with ZooGraph.open(path).")
        return self._store

    def close(self) -> None:
        """Flush and release the store (its lock, holder record or snapshot); idempotent."""
        store, self._store = self._store, None
        owned = store is not None and self._path is not None and not self._read_only
        try:
            if owned:
                store.flush()
        finally:
            del store  # releases the lock before the holder record or the snapshot goes
            if owned and self._path is not None:
                _life.remove_holder(self._path)
            cleanup, self._cleanup = getattr(self, "_cleanup", None), None
            if cleanup is not None:
                cleanup()

    def __enter__(self) -> ZooGraph:
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

    def _writable(self) -> ox.Store:
        store = self._live
        if self._read_only:
            raise StoreLockedError(
                f"The graph store {self._path} was opened read_only=True; reopen it with "
                "ZooGraph.open(path) to write."
            )
        return store

    # ------------------------------------------------------------------ writing
    def add_zoo_tables(
        self,
        tables: ZooTables,
        *,
        source: str,
        report: Any = None,
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

    def _declared_metrics(self) -> dict[str, dict[str, Any]]:
        """Every metric the graph declares: ``{"higher_is_better", "min", "max"}`` (a
        declared range holds for every later batch, not only the declaring one)."""
        from kgtransfer.kg._reader import _read_table

        metrics = _read_table(self._live, SPECS["metrics"]).dropna(subset=["higher_is_better"])
        return {
            str(row["metric"]): {
                "higher_is_better": bool(row["higher_is_better"]),
                "min": None if pd.isna(row["min"]) else float(row["min"]),
                "max": None if pd.isna(row["max"]) else float(row["max"]),
            }
            for _, row in metrics.iterrows()
        }

    def add_records(
        self,
        records: pd.DataFrame,
        *,
        datasets: pd.DataFrame | None = None,
        models: pd.DataFrame | None = None,
        source: str = "add_records",
        provenance: Mapping[str, Any] | Sequence[Mapping[str, Any] | None] | None = None,
        metric_directions: Mapping[str, object] | None = None,
    ) -> str:
        """Write transfer results (a ``records`` table) as one batch: THE record writer.

        Every path that stores a transfer result goes through here (``add_record``,
        ``transfer_from``, ``evaluate_transfer`` and the zoo grid), so the same fact is
        always written the same way: the records columns (value, metric, method, seed,
        run, suspect and the regime: ``n_train``, ``shots``, ``split``, ``epochs``,
        ``steps``, ``frozen``, see :mod:`kgtransfer.kg.regime`), numeric attributes
        (``gain``, ``scratch_accuracy``, ``wall_time``, ``n_test``, ...) and, per record,
        a ``prov:Activity`` run node with its provenance as JSON.

        The rows are validated by :func:`kgtransfer.kg.ingest.normalize_tables` with
        ``errors="raise"`` against the ids the graph already knows: a record about an
        unknown model or dataset is an error unless its row comes in ``models`` /
        ``datasets`` of the same call (a new user dataset comes with its row).

        Args:
            records: The records (``model``, ``dataset``, ``value`` required; other
                records columns optional; extra numeric columns become attributes).
            datasets: Rows of datasets new to the graph (or updated), written in the batch.
            models: Rows of models new to the graph (or updated), written in the batch.
            source: Label of the batch.
            provenance: JSON-serialisable details of the runs: one mapping for every
                row, or a sequence with one mapping (or None) per row. Keys
                ``hyperparameters`` and ``versions`` also get their own properties, and
                ``wall_time`` its own ``kgt:wallTime``, on the run node.
            metric_directions: Directions of metrics neither built in nor declared in
                the graph, e.g. ``{"bleu": "higher"}``.

        Returns:
            The batch id; record ``i`` of the batch has the id ``<batch id>/<i>``. The
            ingestion report is in ``self.last_report``.

        Raises:
            IngestError: A row fails validation (unknown model or dataset, missing or
                non-numeric value, unknown metric, conflicting duplicate, ...); nothing
                is written then.
            ArgumentError: ``provenance`` has the wrong length or type.

        Example:
            >>> g = ZooGraph()
            >>> _ = g.add_records(pd.DataFrame({"model": ["a", "b"], "dataset": ["d", "d"],
            ...                                 "value": [0.5, 0.6], "seed": [0, 0]}),
            ...                   models=pd.DataFrame({"model": ["a", "b"]}),
            ...                   datasets=pd.DataFrame({"dataset": ["d"]}))
            >>> g.best_sources("d")["model"].tolist()
            ['b', 'a']
        """
        from kgtransfer.errors import ArgumentError

        if not isinstance(records, pd.DataFrame):
            raise ArgumentError(
                f"records must be a pandas DataFrame, got {type(records).__name__}."
            )
        self._writable()
        details = _provenances(provenance, len(records))
        tables, report = self._normalized(
            models=models,
            datasets=datasets,
            records=records,
            errors="raise",
            source=source,
            metric_directions=metric_directions,
        )
        if details is not None and len(tables.records) != len(records):
            raise ArgumentError(
                f"records holds {len(records) - len(tables.records)} exact duplicate row(s) "
                "while provenance is given per row; drop the duplicates first."
            )
        batch_id = _new_batch_id()
        lines: list[str] = []
        for i, prov in enumerate(details or []):
            if prov is not None:
                lines += _run_lines(batch_id, i, prov)
        self.last_report = report
        return self._write_batch(
            tables, source=source, report=report, batch_id=batch_id, extra=lines
        )

    def add_record(
        self,
        model: str,
        dataset: str,
        value: float,
        *,
        metric: str = "accuracy",
        method: str | None = None,
        seed: int | None = None,
        run: str | None = None,
        suspect: bool | None = None,
        provenance: Mapping[str, Any] | None = None,
        attributes: Mapping[str, float] | None = None,
        n_train: int | None = None,
        shots: int | None = None,
        split: str | None = None,
        epochs: float | None = None,
        steps: int | None = None,
        frozen: bool | None = None,
        models: pd.DataFrame | None = None,
        datasets: pd.DataFrame | None = None,
        source: str | None = None,
    ) -> str:
        """Write back one transfer result with its regime and provenance (one batch).

        A thin wrapper over :meth:`add_records` (the one record writer).

        Args:
            model: Source model id (known to the graph, or given in ``models``).
            dataset: Target dataset id (known to the graph, or given in ``datasets``).
            value: Measured value of ``metric``.
            metric: Metric name (its direction comes from the metrics table).
            method: Transfer method, e.g. ``"finetune"``, ``"linear_probe"``, ``"lora"``.
            seed: Seed of the run.
            run: Free-form run label.
            suspect: Mark a probable failed run.
            provenance: JSON-serialisable details, kept as JSON on the run activity
                (``prov:wasGeneratedBy`` of the record); keys ``hyperparameters``,
                ``versions`` and ``wall_time`` also get their own properties there.
            attributes: Numeric attributes of the record, like the extra numeric columns
                of a records table (e.g. ``{"gain": 0.12, "scratch_accuracy": 0.61}``:
                the recommender's gain and negative-transfer estimates read ``gain``).
            n_train: Regime: labelled training examples.
            shots: Regime: training examples per class of a few-shot draw.
            split: Regime: how the training examples were drawn (and seeded).
            epochs: Regime: passes over the training examples.
            steps: Regime: optimiser steps.
            frozen: Regime: the backbone was frozen (a probe).
            models: Rows of models new to the graph (e.g. ``pd.DataFrame({"model": [m]})``).
            datasets: Rows of datasets new to the graph.
            source: Label of the batch (default ``add_record(<model>, <dataset>)``).

        Returns:
            The record id (``<batch id>/0``), accepted by :meth:`remove_record`.

        Raises:
            ValueError: An attribute named like a records column, or not a finite number.
            IngestError: The record fails validation (see :meth:`add_records`).

        Example:
            >>> g = ZooGraph()
            >>> rid = g.add_record("m", "d", 0.8, method="finetune", seed=1, n_train=100,
            ...                    provenance={"wall_time": 2.5},
            ...                    models=pd.DataFrame({"model": ["m"]}),
            ...                    datasets=pd.DataFrame({"dataset": ["d"]}))
            >>> g.records(dataset="d")[["value", "n_train"]].values.tolist()
            [[0.8, 100]]
        """
        extra = _record_attributes(attributes)
        records = pd.DataFrame(
            {
                "model": [model],
                "dataset": [dataset],
                "value": [value],
                "metric": [metric],
                "method": [method],
                "seed": [seed],
                "run": [run],
                "suspect": [suspect],
                "n_train": [n_train],
                "shots": [shots],
                "split": [split],
                "epochs": [epochs],
                "steps": [steps],
                "frozen": [frozen],
            },
            dtype=object,
        )
        records = records.assign(**{k: [v] for k, v in extra.items()})
        batch_id = self.add_records(
            records,
            models=models,
            datasets=datasets,
            source=source or f"add_record({model!r}, {dataset!r})",
            provenance=[dict(provenance or {})],
        )
        return f"{batch_id}/0"

    @classmethod
    def from_tables(
        cls,
        models: Any = None,
        datasets: Any = None,
        records: Any = None,
        similarities: Any = None,
        scores: Any = None,
        *,
        column_map: Mapping[str, Any] | None = None,
        errors: ErrorMode = "raise",
        create_missing: bool = False,
        path: str | os.PathLike[str] | None = None,
        progress: bool = False,
        mode: WriteMode = "merge",
    ) -> ZooGraph:
        """Build a graph from CSV files or DataFrames (normalised by ``kgtransfer.kg.ingest``).

        The :class:`~kgtransfer.kg.ingest.IngestReport` is kept in ``graph.last_report``.
        ``path`` makes the graph persistent on disk; ``mode`` is ``"merge"`` or
        ``"replace"`` (see :meth:`add_zoo_tables`).
        """
        graph = cls.open(path, create=True) if path is not None else cls()
        try:
            graph.add_tables(
                models,
                datasets,
                records,
                similarities,
                scores,
                column_map=column_map,
                errors=errors,
                create_missing=create_missing,
                progress=progress,
                mode=mode,
            )
        except BaseException:
            graph.close()
            raise
        return graph

    def _batch_graphs(self) -> Iterator[ox.NamedNode]:
        """The named graphs of ingest batches (data, not the store's metadata)."""
        prefix = f"{ID_BASE}batch/"
        for name in self._live.named_graphs():
            if isinstance(name, ox.NamedNode) and name.value.startswith(prefix):
                yield name

    def _lineage(self) -> list[tuple[str, str]]:
        """``(model, base_model)`` edges of the graph (a new edge closing a cycle is refused)."""
        from kgtransfer.kg._reader import _read_table

        lineage = _read_table(self._live, SPECS["lineage"])
        return list(zip(lineage["model"], lineage["base_model"], strict=True))

    def _normalized(self, **inputs: Any) -> tuple[ZooTables, Any]:
        """``normalize_tables(**inputs)`` against what the graph knows: its model and
        dataset ids, declared metrics, lineage and ``n_classes`` (so a result at chance
        level is flagged ``suspect`` whichever path brings it); every path in uses it."""
        from kgtransfer.kg.ingest import normalize_tables

        store = self._live  # looked up per id the batch names (kg._known), never listed
        return normalize_tables(
            **inputs,
            known_models=StoreIds(store, "model"),
            known_datasets=StoreIds(store, "dataset"),
            known_metrics=self._declared_metrics(),
            known_lineage=StoreLineage(store),
            known_n_classes=StoreNClasses(store),
        )

    def add_tables(
        self,
        models: Any = None,
        datasets: Any = None,
        records: Any = None,
        similarities: Any = None,
        scores: Any = None,
        *,
        column_map: Mapping[str, Any] | None = None,
        errors: ErrorMode = "raise",
        create_missing: bool = False,
        progress: bool = False,
        mode: WriteMode = "merge",
    ) -> str:
        """Normalise tables (CSV paths or DataFrames) and write them as one batch.

        Ids already in the graph count as known, so references to them resolve;
        ``create_missing=True`` accepts records about models or datasets that are in
        no table (see :func:`kgtransfer.kg.ingest.normalize_tables`). ``mode`` is
        ``"merge"`` or ``"replace"`` (see :meth:`add_zoo_tables`).

        Returns:
            The batch id; the ingestion report (overwritten values included) is in
            ``self.last_report``.
        """
        _check_mode(mode)
        tables, report = self._normalized(
            models=models,
            datasets=datasets,
            records=records,
            similarities=similarities,
            scores=scores,
            column_map=dict(column_map) if column_map else None,
            errors=errors,
            create_missing=create_missing,
        )
        sources = [
            str(x)
            for x in (models, datasets, records, similarities, scores)
            if isinstance(x, (str, os.PathLike))
        ]
        self.last_report = report
        return self.add_zoo_tables(
            tables,
            source=", ".join(sources) or "tables",
            report=report,
            progress=progress,
            mode=mode,
        )

    def add_model_cards(
        self,
        path: str | os.PathLike[str],
        *,
        errors: ErrorMode = "raise",
        mode: WriteMode = "merge",
    ) -> str:
        """Ingest model cards (YAML front matter) from a file or folder as one batch.

        A card's fields update what is known about its model and datasets (``mode``:
        see :meth:`add_zoo_tables`); fields a card lacks keep their stored values. Cards
        are validated against the graph's declared metrics and lineage (a ``base_model``
        closing a cycle with stored lineage is rejected); percent conversions are listed
        in ``self.last_report.warnings``.
        """
        from kgtransfer.kg.ingest import read_model_cards

        _check_mode(mode)
        tables, report = read_model_cards(
            path,
            errors=errors,
            known_metrics=self._declared_metrics(),
            known_lineage=self._lineage(),
        )
        self.last_report = report
        return self.add_zoo_tables(tables, source=str(path), report=report, mode=mode)

    def add_transfergraph(
        self,
        folder: str | os.PathLike[str],
        *,
        zoo: Literal["image", "text"] = "image",
        errors: ErrorMode = "warn",
        mode: WriteMode = "merge",
    ) -> str:
        """Ingest a TransferGraph benchmark folder (``zoo`` = image or text) as one batch.

        The public tables hold a few malformed rows (truncated score lines, text
        runs whose dataset is ``0.1`` or ``lora``), so the default ``errors="warn"``
        rejects those with a warning each and keeps the rest; ``last_report`` lists them.
        ``mode`` is ``"merge"`` or ``"replace"`` (see :meth:`add_zoo_tables`).
        """
        from kgtransfer.kg.ingest import read_transfergraph

        _check_mode(mode)
        tables, report = read_transfergraph(folder, zoo=zoo, errors=errors)
        self.last_report = report
        return self.add_zoo_tables(tables, source=f"{folder} ({zoo})", report=report, mode=mode)

    # ------------------------------------------------------------------ retracting
    def _delete(self, quads: list[ox.Quad]) -> None:
        """Remove ``quads`` in one transaction (staged as terms; no data in the update text)."""
        if not quads:
            return
        store = self._writable()
        staging = ox.NamedNode(to_iri("batch", _new_batch_id(), "staging"))
        store.load(_staged_nquads(quads, staging).encode("utf-8"), format=ox.RdfFormat.N_QUADS)
        try:
            store.update(f"{_apply_staged(staging, 'DELETE')}DROP SILENT GRAPH {staging}")
        except BaseException:
            store.remove_graph(staging)
            raise
        for q in quads:
            if _has_blank(q):  # rare (RDF imported with blank nodes)
                store.remove(q)

    def ids(self, kind: Literal["model", "dataset", "metric"]) -> list[str]:
        """Ids of every model, dataset or metric described in the graph (sorted)."""
        rdf_type = {"model": MLS.Model, "dataset": MLS.Dataset, "metric": MLS.EvaluationMeasure}
        if kind not in rdf_type:
            raise ValueError(f"ids() takes 'model', 'dataset' or 'metric', got {kind!r}.")
        nodes = self._live.quads_for_pattern(None, _TYPE, ox.NamedNode(str(rdf_type[kind])), None)
        return sorted(
            {id_of(q.subject.value, kind) for q in nodes if isinstance(q.subject, ox.NamedNode)}
        )

    def remove_model(self, model: str, *, records: bool = True) -> int:
        """Retract a model: its attributes, its lineage edges and (by default) its
        records and estimator scores. Models derived from it keep their lineage.

        Returns:
            The number of quads removed.

        Raises:
            UnknownNameError: The graph has no such model.
        """
        node = self.iri("model", model)
        quads = self._entity_quads(node)
        if not quads:
            raise did_you_mean(
                model, self.ids("model"), what="model", hint="See graph.ids('model')."
            )
        if records:
            source = ox.NamedNode(str(KGT.sourceModel))
            for q in list(self._live.quads_for_pattern(None, source, node, None)):
                if isinstance(q.subject, ox.NamedNode | ox.BlankNode):
                    quads += self._row_quads(q.subject)
        self._delete(quads)
        return len(quads)

    def _row_quads(self, node: ox.NamedNode | ox.BlankNode) -> list[ox.Quad]:
        store = self._live
        quads = list(store.quads_for_pattern(node, None, None, None))
        generated = ox.NamedNode(str(PROV.wasGeneratedBy))
        for q in list(quads):
            if (
                q.predicate == generated
                and isinstance(q.object, ox.NamedNode)
                and q.object.value.startswith(f"{ID_BASE}run/")
            ):
                quads += store.quads_for_pattern(q.object, None, None, None)
        return quads

    def remove_record(self, record: str) -> int:
        """Retract one transfer record by its id (``records()["record"]``, ``add_record``).

        Raises:
            UnknownNameError: No record has that id.
        """
        parts = record.split("/")
        quads = self._row_quads(ox.NamedNode(to_iri("record", *parts))) if all(parts) else []
        if not quads:
            known = self.records(limit=None)["record"].tolist()
            raise did_you_mean(record, known, what="record", hint="See graph.records().")
        self._delete(quads)
        return len(quads)

    def remove_records(
        self, *, model: str | None = None, dataset: str | None = None, metric: str | None = None
    ) -> int:
        """Retract every record matching all given filters; returns how many were removed."""
        if model is None and dataset is None and metric is None:
            raise ValueError("remove_records() needs model=, dataset= and/or metric=.")
        found = self.records(model=model, dataset=dataset, metric=metric, limit=None)
        quads: list[ox.Quad] = []
        for rid in found["record"]:
            quads += self._row_quads(ox.NamedNode(to_iri("record", *str(rid).split("/"))))
        self._delete(quads)
        return len(found)

    def batches(self) -> pd.DataFrame:
        """One row per ingest batch: id, source, start time and row counts."""
        frame = self.query(
            """SELECT ?batch ?source ?started ?counts ?meta WHERE {
                 GRAPH ?meta { ?b a kgt:IngestBatch ; dcterms:identifier ?batch ;
                               dcterms:source ?source ; prov:startedAtTime ?started .
                               OPTIONAL { ?b kgt:counts ?counts } } }
               ORDER BY ?batch""",
            bindings={"meta": _META_GRAPH},
        )
        frame["counts"] = [json.loads(c) if c else {} for c in frame["counts"]]
        return frame.drop(columns=["meta"])

    def remove_batch(self, batch_id: str) -> int:
        """Retract exactly the triples one ingest batch wrote (and its provenance).

        Values the batch overwrote in older batches come back if those batches are
        still in the graph and no later batch has set another value since (one update,
        atomic). When a later batch has set another value, the older value is handed
        down to that batch's provenance, so removing it later brings the older value
        back: no value is lost whatever order batches are removed in.

        Returns:
            The number of quads removed.

        Raises:
            UnknownNameError: No batch has that id (see :meth:`batches`).
            ArgumentError: Facts of other batches point at an entity (model, dataset,
                metric) that only this batch defines; nothing is removed then.
        """
        store = self._writable()
        node = self.iri("batch", batch_id)
        meta = list(store.quads_for_pattern(node, None, None, _META_GRAPH))
        if not meta:
            known = self.batches()["batch"].tolist()
            raise did_you_mean(batch_id, known, what="batch", hint="See graph.batches().")
        restore, handed = self._restorable(node, meta)
        orphans = self._dependants(node, {q.subject for q in restore if q.predicate == _TYPE})
        if orphans:
            raise ArgumentError(
                f"Removing batch {batch_id!r} would leave {len(orphans)} fact(s) of other batches "
                f"pointing at entities only it defines (e.g. {orphans[0][1]} in batch "
                f"{orphans[0][0]!r}). Remove those batches first (newest first: "
                f"{', '.join(sorted({b for b, _ in orphans}, reverse=True)[:5])}), or remove "
                "the entity with remove_model(...) / remove_records(...)."
            )
        n_data = sum(1 for _ in store.quads_for_pattern(None, None, None, node))
        staging = ox.NamedNode(to_iri("batch", batch_id, "staging"))
        unstaging = ox.NamedNode(to_iri("batch", batch_id, "unstaging"))
        stale, inherited = self._hand_down(handed)
        update = (
            f"DROP SILENT GRAPH {node} ;\nDELETE WHERE {{ GRAPH {_META_GRAPH} {{ {node} ?p ?o }} }}"
        )
        # data reaches the update only through staging graphs, never as SPARQL text
        if stale:
            text = _staged_nquads(stale, unstaging)
            store.load(text.encode("utf-8"), format=ox.RdfFormat.N_QUADS)
            update += f" ;\n{_apply_staged(unstaging, 'DELETE')}DROP SILENT GRAPH {unstaging}"
        if restore or inherited:
            text = _staged_nquads([*restore, *inherited], staging)
            store.load(text.encode("utf-8"), format=ox.RdfFormat.N_QUADS)
            update += f" ;\n{_apply_staged(staging, 'INSERT')}DROP SILENT GRAPH {staging}"
        try:
            store.update(update)
        except BaseException:
            store.remove_graph(staging)
            store.remove_graph(unstaging)
            raise
        return n_data + len(meta)

    def _dependants(self, node: ox.NamedNode, restored: set[Any]) -> list[tuple[str, str]]:
        """``(batch id, entity)`` of facts in other batches that point at an entity
        (model, dataset, metric) typed only in batch ``node`` and not ``restored`` by its
        removal: removing it would leave them dangling."""
        store = self._live
        kinds = {str(t) for t in _ENTITY_TYPES.values()}
        only_here = []
        for q in store.quads_for_pattern(None, _TYPE, None, node):
            if not (isinstance(q.subject, ox.NamedNode) and q.object.value in kinds):
                continue
            typed = store.quads_for_pattern(q.subject, _TYPE, q.object, None)
            if q.subject not in restored and all(t.graph_name == node for t in typed):
                only_here.append(q.subject)
        out: list[tuple[str, str]] = []
        for entity in only_here:
            for ref in store.quads_for_pattern(None, None, entity, None):
                graph = ref.graph_name
                if isinstance(graph, ox.NamedNode) and graph != node and graph != _META_GRAPH:
                    batch = graph.value.removeprefix(f"{ID_BASE}batch/")
                    out.append((batch, entity.value.removeprefix(ID_BASE)))
                    break
        return out

    def _hand_down(
        self, handed: dict[ox.NamedNode, list[str]]
    ) -> tuple[list[ox.Quad], list[ox.Quad]]:
        """The provenance quads to delete and insert so that the batches now holding a
        field also list the retracted quads they inherit: removing one of them later
        restores the older value."""
        store = self._live
        deletes: list[ox.Quad] = []
        inserts: list[ox.Quad] = []
        for batch, lines in handed.items():
            old = list(store.quads_for_pattern(batch, _RETRACTED, None, _META_GRAPH))
            kept = [
                line
                for q in old
                if isinstance(q.object, ox.Literal)
                for line in json.loads(q.object.value)
            ]
            merged = kept + [line for line in lines if line not in kept]
            text = json.dumps(merged, sort_keys=True, allow_nan=True)
            deletes += old
            literal = ox.Literal(text, datatype=ox.NamedNode(_JSON))
            inserts.append(ox.Quad(batch, _RETRACTED, literal, _META_GRAPH))
        return deletes, inserts

    def _restorable(
        self, node: ox.NamedNode, meta: list[ox.Quad]
    ) -> tuple[list[ox.Quad], dict[ox.NamedNode, list[str]]]:
        """Quads batch ``node`` retracted that removing it should put back, and those a
        later batch has overwritten since, by the batch(es) now holding the field: the
        removal hands them down to those batches, so no value is lost whatever order
        batches are removed in."""
        store = self._live
        lines: list[str] = []
        for q in meta:
            if q.predicate == _RETRACTED and isinstance(q.object, ox.Literal):
                lines += json.loads(q.object.value)
        handed: dict[ox.NamedNode, list[str]] = {}
        if not lines:
            return [], handed
        text = "".join(line + " .\n" for line in lines)
        out = []
        live: dict[Any, bool] = {}
        for q in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_QUADS):
            graph = q.graph_name
            if _batch_of(graph) is not None:
                if graph not in live:
                    live[graph] = any(store.quads_for_pattern(graph, _TYPE, None, _META_GRAPH))
                if not live[graph]:
                    continue  # that batch was removed too
            if (
                isinstance(q.subject, ox.NamedNode)
                and isinstance(q.predicate, ox.NamedNode)
                and _field(q.subject, q.predicate) is not None
            ):
                holders = [
                    o
                    for o in store.quads_for_pattern(q.subject, q.predicate, None, None)
                    if o.graph_name != node
                ]
                others = {_term_key(o.object) for o in holders}
                if others and _term_key(q.object) not in others:
                    # a later batch set another value: it inherits this retraction
                    for o in holders:
                        holder = o.graph_name
                        if isinstance(holder, ox.NamedNode) and _batch_of(holder) is not None:
                            handed.setdefault(holder, []).append(str(q))
                    continue
            out.append(q)
        return out, handed

    def batch(self, batch_id: str) -> dict[str, Any]:
        """The provenance of one ingest batch: source, times, counts, report, overwrites.

        Returns:
            A dict with ``batch``, ``source``, ``started``, ``ended``, ``counts``,
            ``report`` (or None), ``overwritten`` (a list of dicts: ``kind``, ``id``,
            ``field``, ``old``, ``new``, ``batch``) and ``n_quads`` (statements in its graph).

        Raises:
            UnknownNameError: No batch has that id (see :meth:`batches`).
        """
        store = self._live
        node = self.iri("batch", batch_id)
        meta = list(store.quads_for_pattern(node, None, None, _META_GRAPH))
        if not meta:
            known = self.batches()["batch"].tolist()
            raise did_you_mean(batch_id, known, what="batch", hint="See graph.batches().")
        values = {q.predicate.value: q.object.value for q in meta if q.predicate != _TYPE}

        def _json(predicate: Any, default: Any) -> Any:
            text = values.get(str(predicate))
            return json.loads(text) if text is not None else default

        return {
            "batch": batch_id,
            "source": values.get(str(DCTERMS.source)),
            "started": values.get(str(PROV.startedAtTime)),
            "ended": values.get(str(PROV.endedAtTime)),
            "counts": _json(KGT.counts, {}),
            "report": _json(KGT.report, None),
            "overwritten": _json(KGT.overwritten, []),
            "n_quads": sum(1 for _ in store.quads_for_pattern(None, None, None, node)),
        }

    # ------------------------------------------------------------------ reading
    def to_tables(self) -> ZooTables:
        """Everything in the graph as :class:`ZooTables` (what was ingested, back again).

        Entity tables are sorted by id; records, similarities and scores are in
        ingestion order.
        """
        return read_tables(self._live)

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Any] | None = None,
        *,
        allow_update: bool = False,
        limit: int | None = _runner.DEFAULT_LIMIT,
        iris: bool = False,
        timeout: float | None = _runner.DEFAULT_TIMEOUT,
    ) -> pd.DataFrame:
        """Run SPARQL; return a DataFrame of plain Python cells.

        The default graph is the union of all graphs; prefixes kgt, mls, prov, dcat,
        dcterms, dqv, skos, rdf, rdfs and xsd are predeclared. The text is first read
        by rdflib's SPARQL 1.1 parser and refused if it reaches outside the graph
        (``SERVICE``, ``LOAD``, ``FROM``/``USING``/``WITH`` naming a non-kgtransfer
        graph) wherever that is nested, if it is an update (unless ``allow_update``),
        or if that parser cannot read it (see :mod:`kgtransfer.kg._sparql_guard`).
        Queries on an on-disk store run in a worker process that is killed on timeout
        or Ctrl-C; on an in-memory store, in a thread that is abandoned (see
        :mod:`kgtransfer.kg._runner`).

        Args:
            sparql: A SELECT, ASK, CONSTRUCT or DESCRIBE query (UPDATE only with
                ``allow_update``).
            bindings: Values of variables, applied as pyoxigraph substitutions (a
                variable the SELECT does not project is bound by an inline ``VALUES``
                at the start of its WHERE group instead). A str becomes a string literal; pass
                entities as ``ZooGraph.iri("model", id)``.
            allow_update: Permit SPARQL UPDATE (never LOAD, which would fetch remote
                data). Updates run here, without a timeout (pyoxigraph applies an
                update whole or not at all and cannot abandon one half-way).
            limit: Stop after this many rows; ``None`` for all. By default 1000, and a
                ``UserWarning`` says when that cap cut rows off. The frame's
                ``attrs["truncated"]`` tells whether more rows existed.
            iris: Keep IRIs instead of turning our IRIs into ids.
            timeout: Seconds the query may run (default 30); ``None`` for no limit.

        Returns:
            One column per variable (ASK: column ``ask``; CONSTRUCT: subject,
            predicate, object). Our entity IRIs become ids, literals become
            int/float/bool/str, unbound becomes None.

        Raises:
            QueryRefusedError: (a PermissionError) UPDATE without ``allow_update``,
                LOAD, SERVICE, a remote dataset, or text rdflib's parser cannot read.
            QueryTimeoutError: The query ran longer than ``timeout``.
            ArgumentError: A negative or non-int ``limit``, a bad ``timeout``.
            SyntaxError: pyoxigraph cannot run text rdflib accepted.
        """
        default_cap = _runner.is_default_cap(limit)
        limit = _runner.check_limit(limit)
        timeout = _runner.check_timeout(timeout)
        checked = check_sparql(sparql, allow_update=allow_update)
        if checked.kind == "update":
            self._writable().update(sparql, prefixes=PREFIXES)
            return pd.DataFrame()
        substitutions = {k: _binding(k, v) for k, v in (bindings or {}).items()}
        # a bound variable the SELECT does not project still constrains (inline VALUES)
        sparql, substitutions = inline_unprojected(sparql, substitutions)
        frame = self._run_read(sparql, PREFIXES, substitutions, limit, timeout, iris=iris)
        if default_cap and frame.attrs["truncated"]:
            warnings.warn(
                f"query() returned its default cap of {limit} rows and more exist; pass "
                "limit=None for all rows (or a larger limit=).",
                UserWarning,
                stacklevel=2,
            )
        return frame

    def _run_read(
        self,
        sparql: str,
        prefixes: dict[str, str] | None,
        substitutions: dict[str, Any],
        limit: int | None,
        timeout: float | None,
        **frame_options: Any,
    ) -> pd.DataFrame:
        """Run a checked read query with a timeout (see :mod:`kgtransfer.kg._runner`)."""
        try:
            result = _runner.run_query(
                self._live,
                self._query_path,
                sparql,
                prefixes=prefixes,
                substitutions=substitutions,
                limit=limit,
                timeout=timeout,
            )
        except RuntimeError as exc:
            if "projection" in str(exc):
                raise ValueError(
                    f"{exc}: a bound variable must appear in the SELECT clause "
                    "(pyoxigraph substitutes projected variables only)."
                ) from None
            raise
        return _runner.result_frame(result, **frame_options)

    def named_query(
        self,
        name: str,
        *,
        limit: int | None = 100,
        timeout: float | None = _runner.DEFAULT_TIMEOUT,
        **params: Any,
    ) -> pd.DataFrame:
        """Run a named query from ``kg/queries`` (see :func:`~kgtransfer.kg.list_queries`).

        It runs like :meth:`query`: parse-checked (once), stopped after ``timeout``.

        Args:
            name: Query name, e.g. ``"lineage"``.
            limit: Maximum number of rows (``None`` for all); ``attrs["truncated"]``
                of the frame tells whether more existed.
            timeout: Seconds the query may run (default 30); ``None`` for no limit.
            **params: The query's parameters; ``None`` leaves one unset.

        Raises:
            UnknownNameError: No such query.
            TypeError: Unknown or missing parameter.
            QueryTimeoutError: The query ran longer than ``timeout``.
        """
        named = get_query(name)
        check_sparql(named.text)  # ours, checked all the same (cached after the first time)
        limit = _runner.check_limit(limit)
        timeout = _runner.check_timeout(timeout)
        terms = named.terms(params)
        return self._run_read(
            named.text, None, terms, limit, timeout, hidden=named.hidden, renames=named.renames
        )

    def candidates(
        self,
        dataset: str,
        *,
        task: str | None = None,
        modality: str | None = None,
        max_params: float | None = None,
        license: str | None = None,
        limit: int | None = 100,
    ) -> pd.DataFrame:
        """Candidate source models for ``dataset`` (named query ``candidates``).

        ``modality`` defaults to the dataset's own modality when the graph knows it.
        """
        if modality is None:
            found = self.query(
                "SELECT ?modality ?dataset WHERE { ?dataset kgt:modality ?modality }",
                bindings={"dataset": self.iri("dataset", dataset)},
                limit=1,
            )
            modality = found["modality"][0] if len(found) else None
        return self.named_query(
            "candidates",
            limit=limit,
            dataset=dataset,
            task=task,
            modality=modality,
            max_params=max_params,
            license=license,
        )

    def lineage(self, model: str, *, limit: int | None = 100) -> pd.DataFrame:
        """Ancestors of ``model``, one row per lineage edge (named query ``lineage``)."""
        return self.named_query("lineage", limit=limit, model=model)

    def descendants(self, model: str, *, limit: int | None = 100) -> pd.DataFrame:
        """Every model derived from ``model`` (named query ``descendants``)."""
        return self.named_query("descendants", limit=limit, model=model)

    def similar_datasets(self, dataset: str, *, limit: int | None = 100) -> pd.DataFrame:
        """Datasets related to ``dataset``, closest first (named query ``similar_datasets``)."""
        return self.named_query("similar_datasets", limit=limit, dataset=dataset)

    def records(
        self,
        model: str | None = None,
        dataset: str | None = None,
        *,
        metric: str | None = None,
        limit: int | None = 100,
    ) -> pd.DataFrame:
        """Transfer records, optionally filtered (named query ``records``, or
        ``records_for_dataset`` when only a dataset is given, which is faster then).

        Each row has the record id, model, dataset, metric, value, method, seed, run,
        suspect flag and the training regime (``n_train``, ``shots``, ``split``,
        ``epochs``, ``steps``, ``frozen``; see :mod:`kgtransfer.kg.regime`)."""
        name = "records_for_dataset" if model is None and dataset is not None else "records"
        return self.named_query(name, limit=limit, model=model, dataset=dataset, metric=metric)

    def _dataset_records(self, dataset: str) -> pd.DataFrame:
        """The records of ``dataset`` with a model and a value: model, metric, value,
        suspect and the regime columns (one CSV-serialised query, like ``to_tables``)."""
        import io

        from kgtransfer.kg._reader import _decode_iris

        regime = [c for c in SPECS["records"].columns if c.column in ("method", *_REGIME_PARTS)]
        optional = "".join(f" OPTIONAL {{ ?record <{c.predicate}> ?{c.column} }}" for c in regime)
        sparql = (
            "SELECT ?model ?metric ?value ?suspect "
            + " ".join(f"?{c.column}" for c in regime)
            + f" ?dataset WHERE {{ ?record <{KGT.targetDataset}> ?dataset ; "
            f"<{KGT.sourceModel}> ?model ; <{MLS.hasValue}> ?value ."
            f" OPTIONAL {{ ?record <{MLS.specifiedBy}> ?metric }}"
            f" OPTIONAL {{ ?record <{KGT.suspect}> ?suspect }}{optional} }}"
        )
        result = self._live.query(
            sparql,
            use_default_graph_as_union=True,
            substitutions={ox.Variable("dataset"): self.iri("dataset", dataset)},
        )
        assert isinstance(result, ox.QuerySolutions)
        data = result.serialize(format=ox.QueryResultsFormat.CSV)
        raw = pd.read_csv(io.BytesIO(data or b""), dtype=str, keep_default_na=False, na_values=[""])
        flags = {"true": True, "false": False, "1": True, "0": False}
        out = pd.DataFrame(
            {
                "model": _decode_iris(raw["model"], "model"),
                "dataset": dataset,
                "metric": _decode_iris(raw["metric"], "metric"),
                "value": pd.to_numeric(raw["value"], errors="coerce"),
                "suspect": raw["suspect"].map(flags, na_action="ignore"),
            }
        )
        for c in regime:
            values = raw[c.column]
            if c.term == "boolean":
                out[c.column] = values.map(flags, na_action="ignore")
            elif c.term in ("integer", "double"):
                out[c.column] = pd.to_numeric(values, errors="coerce")
            else:
                out[c.column] = values
        return out

    def best_sources(
        self,
        dataset: str,
        *,
        regime: str | Mapping[str, Any] | None = None,
        include_suspect: bool = False,
        limit: int | None = 100,
    ) -> pd.DataFrame:
        """Best known result per source model on ``dataset``, within one training regime.

        Results of different regimes (e.g. a full-split fine-tune and a 10-shot one) are
        not comparable, so by default only the records of the dataset's own regime (the
        regime of most of its records, see :func:`kgtransfer.kg.regime.dataset_regime`)
        are ranked. ``frame.attrs["regime"]`` names the regime used and
        ``frame.attrs["notes"]`` says when records of other regimes were left out.

        Args:
            dataset: Target dataset id.
            regime: None (the dataset's own regime), ``"any"`` (mix every regime
                explicitly), a label from :func:`kgtransfer.kg.regime_of` or a mapping of
                regime parts.
            include_suspect: Also rank records flagged as probable failed runs.
            limit: Maximum number of rows (None for all).

        Returns:
            Columns ``model``, ``metric``, ``best`` (respecting the metric's direction),
            ``higher_is_better``, ``n_records`` and ``regime``; best first.

        Example:
            >>> g = ZooGraph()
            >>> recs = pd.DataFrame({"model": ["a", "b", "a"], "dataset": ["d"] * 3,
            ...                      "value": [0.6, 0.5, 0.94], "n_train": [50, 50, 1347]})
            >>> _ = g.add_records(recs, models=pd.DataFrame({"model": ["a", "b"]}),
            ...                   datasets=pd.DataFrame({"dataset": ["d"]}))
            >>> best = g.best_sources("d")
            >>> best[["model", "best"]].values.tolist(), len(best.attrs["notes"])
            ([['a', 0.6], ['b', 0.5]], 1)
            >>> g.best_sources("d", regime="any")["best"].tolist()
            [0.94, 0.5]
        """
        from kgtransfer.kg.ingest._metrics import KNOWN_METRICS
        from kgtransfer.kg.regime import select_regime

        limit = _runner.check_limit(limit)
        if not isinstance(dataset, str) or dataset not in StoreIds(self._live, "dataset"):
            raise did_you_mean(
                str(dataset), self.ids("dataset"), what="dataset", hint="See graph.ids('dataset')."
            )
        columns = ["model", "metric", "best", "higher_is_better", "n_records", "regime"]
        rec = self._dataset_records(dataset)
        chosen, used, notes = select_regime(rec, regime)
        if not include_suspect and len(chosen):
            chosen = chosen[~chosen["suspect"].astype("object").fillna(False).astype(bool)]
        directions = {m: bool(KNOWN_METRICS.get(m, True)) for m in KNOWN_METRICS}
        directions.update(
            {m: spec["higher_is_better"] for m, spec in self._declared_metrics().items()}
        )
        if chosen.empty:
            out = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        else:
            metric = chosen["metric"].astype("object").fillna("accuracy").astype(str)
            hib = metric.map(lambda m: directions.get(m, True)).astype(bool)
            value = chosen["value"].astype(float)
            frame = pd.DataFrame(
                {
                    "model": chosen["model"].astype(str),
                    "metric": metric,
                    "signed": value.where(hib, -value),
                    "higher_is_better": hib,
                }
            )
            grouped = frame.groupby(["model", "metric", "higher_is_better"], sort=False)
            out = grouped["signed"].agg(["max", "size"]).reset_index()
            out["best"] = out["max"].where(out["higher_is_better"], -out["max"])
            out["n_records"] = out["size"].astype(int)
            out["regime"] = used.get(str(dataset))
            out = out.sort_values(["max", "model"], ascending=[False, True], kind="stable")
            out = out[columns].reset_index(drop=True)
            if limit is not None:
                out = out.head(limit)
        out.attrs["regime"] = used.get(str(dataset))
        out.attrs["notes"] = notes
        return out

    def stats(self) -> dict[str, int]:
        """Number of models, datasets, records, ... in the graph."""
        frame = self.named_query("stats", limit=None)
        return {str(k): int(n) for k, n in zip(frame["kind"], frame["n"], strict=True)}

    # ------------------------------------------------------------------ import / export
    def export(self, target: str | os.PathLike[str] | IO[bytes], format: str | None = None) -> None:
        """Write the graph as Turtle, N-Triples, JSON-LD (data triples) or N-Quads (everything).

        Turtle, N-Triples and JSON-LD hold the union of all ingest batches without the
        store metadata; N-Quads keeps every named graph, batch provenance included.
        Files are written atomically.

        Args:
            target: A path or a binary stream.
            format: ``ttl``, ``nt``, ``jsonld`` or ``nq``; guessed from the file
                extension when None.
        """
        rdf_format = _format(format, target)
        store = self._live
        if rdf_format == ox.RdfFormat.N_QUADS:
            payload = store.dump(format=rdf_format)
        else:
            graphs: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = [
                g for g in store.named_graphs() if g != _META_GRAPH
            ]
            if not graphs:
                payload = b""
            else:
                triples = store.query("CONSTRUCT WHERE { ?s ?p ?o }", default_graph=graphs)
                assert isinstance(triples, ox.QueryTriples)
                payload = ox.serialize(iter(triples), format=rdf_format, prefixes=PREFIXES)
        assert payload is not None
        if isinstance(target, (str, os.PathLike)):
            _atomic_write(Path(target), payload)
        else:
            target.write(payload)

    def load_rdf(
        self,
        source: str | os.PathLike[str] | IO[bytes] | bytes,
        format: str | None = None,
        *,
        errors: ErrorMode = "raise",
        mode: WriteMode = "merge",
    ) -> str | None:
        """Load an RDF file or stream written by :meth:`export` (or any RDF).

        Triple formats (ttl, nt, jsonld) become one new ingest batch (its id is
        returned), through the same validator and writer as tables: the statements are
        read back as tables (:meth:`to_tables`' reader), checked by
        :func:`~kgtransfer.kg.ingest.normalize_tables` against what the graph knows (ids,
        declared metrics, lineage) and merged like :meth:`add_tables` (``errors``,
        ``mode``; the report, overwritten values included, is in ``self.last_report``).
        Statements outside the kgtransfer vocabulary are kept as they are in the
        batch's graph (queries see them; kgtransfer does not use them; the report's
        notes count them). A statement in our vocabulary that the reader does not take
        (e.g. a second value of a single-valued field) is a rejection.

        N-Quads restores every named graph as it was (returns None); the
        format-version triple is checked, not copied. The union of its data graphs
        is validated the same way first, and the whole load is refused if anything
        is rejected.

        Raises:
            IngestError: A rejected statement (triple formats with ``errors="raise"``;
                N-Quads always), or RDF in our vocabulary the reader cannot read.
            StoreVersionError: N-Quads of a store format this kgtransfer cannot read.
        """
        from kgtransfer.errors import IngestError
        from kgtransfer.kg._rdf_import import foreign_lines, read_rdf

        check_error_mode(errors)
        _check_mode(mode)
        rdf_format = _format(format, source)
        data = Path(source).read_bytes() if isinstance(source, (str, os.PathLike)) else source
        if not isinstance(data, bytes):
            data = data.read()
        store = self._writable()
        label = str(source) if isinstance(source, (str, os.PathLike)) else "stream"
        if rdf_format == ox.RdfFormat.N_QUADS:
            if any(self._batch_graphs()):
                raise IngestError(
                    f"{label}: N-Quads restore a whole store (its batches as they were), so they "
                    "load only into a store without data; this one already holds ingest batches "
                    "and restoring beside them would mix facts unmerged. Load the file into a new "
                    "store (`ZooGraph.create(path)`), or export it as Turtle (`format='ttl'`) and "
                    "load that, which merges and reports every overwritten value."
                )
            quads = [
                q
                for q in ox.parse(data, format=rdf_format)
                if not (q.graph_name == _META_GRAPH and q.predicate == _VERSION)
            ]
            versions = [
                q
                for q in ox.parse(data, format=rdf_format)
                if q.graph_name == _META_GRAPH and q.predicate == _VERSION
            ]
            literal = versions[0].object.value if versions else str(FORMAT_VERSION)
            try:
                version = int(literal)
            except ValueError:
                raise StoreVersionError(
                    f"{label}: the N-Quads hold an unreadable store format version {literal!r} "
                    f"(expected an integer; this kgtransfer reads version {FORMAT_VERSION}); the "
                    "file is damaged or was not written by kgtransfer's export."
                ) from None
            if version < FORMAT_VERSION and version in _MIGRATIONS:
                quads = _migrated(quads, version)  # an export of an older store
            elif version != FORMAT_VERSION:
                raise StoreVersionError(
                    f"The N-Quads hold store format version {versions[0].object.value}; this "
                    f"kgtransfer reads version {FORMAT_VERSION}."
                )
            batch_prefix = f"{ID_BASE}batch/"
            read = read_rdf(
                (
                    q
                    for q in quads
                    if isinstance(q.graph_name, ox.NamedNode)
                    and q.graph_name.value.startswith(batch_prefix)
                    and not q.graph_name.value.endswith("/staging")
                ),
                label,
            )
            _, report = self._normalized(**read.inputs(), errors="collect", source=label)
            report.rejections += read.unread
            if report.rejections:
                first = "\n".join(f"  {r}" for r in report.rejections[:5])
                raise IngestError(
                    f"{label}: {len(report.rejections)} statement(s) of these N-Quads fail "
                    f"validation, so nothing was loaded:\n{first}\nFix them in the file (or "
                    "load its data as Turtle with errors='collect' to keep the rest)."
                )
            store.extend(quads)
            return None
        read = read_rdf(ox.parse(data, format=rdf_format), label)
        sources = {name: f"{label} ({name})" for name in read.inputs()}
        tables, report = self._normalized(**read.inputs(), errors=errors, source=sources)
        for rejection in read.unread:
            report.reject(rejection, errors=errors)
        batch_id = _new_batch_id()
        kept = read.kept(tables, report, sources)
        lines, dangling = foreign_lines(read, kept, batch_id)
        if lines:
            report.notes.append(
                f"{label}: {len(lines)} statement(s) outside the kgtransfer vocabulary kept "
                "as they are in the batch's graph (not used by kgtransfer)"
                + (f"; {dangling} name a row that was not written" if dangling else "")
            )
        self.last_report = report
        return self._write_batch(
            tables, source=label, report=report, batch_id=batch_id, extra=lines, mode=mode
        )

    def to_rdflib(self) -> rdflib.Dataset:
        """An rdflib Dataset with every named graph; its default graph is their union."""
        import rdflib

        dataset = rdflib.Dataset(default_union=True)
        data = self._live.dump(format=ox.RdfFormat.N_QUADS)
        if data:
            with warnings.catch_warnings():  # rdflib's own nquads parser uses a deprecated API
                warnings.simplefilter("ignore", DeprecationWarning)
                dataset.parse(data=data.decode("utf-8"), format="nquads")
        for prefix, ns in PREFIXES.items():
            dataset.bind(prefix, ns)
        return dataset

    @classmethod
    def from_rdflib(cls, graph: rdflib.Graph) -> ZooGraph:
        """An in-memory ZooGraph from an rdflib Dataset (graphs kept) or Graph (one batch)."""
        import rdflib

        out = cls()
        with warnings.catch_warnings():  # rdflib's nquads serializer uses a deprecated API
            warnings.simplefilter("ignore", DeprecationWarning)
            if isinstance(graph, rdflib.Dataset | rdflib.ConjunctiveGraph):
                out.load_rdf(graph.serialize(format="nquads", encoding="utf-8"), format="nq")
            else:
                out.load_rdf(graph.serialize(format="nt", encoding="utf-8"), format="nt")
        return out

    def to_networkx(self) -> nx.MultiDiGraph:
        """The zoo as a ``networkx.MultiDiGraph`` (see :func:`kgtransfer.kg._networkx.tables_to_networkx`)."""
        from kgtransfer.kg._networkx import tables_to_networkx

        return tables_to_networkx(self.to_tables())

    def to_hetero_data(self, **kwargs: Any) -> Any:
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

        return build_hetero_data(self.to_tables(), **kwargs)


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


def _binding(name: str, value: Any) -> ox.NamedNode | ox.Literal:
    if isinstance(value, (ox.NamedNode, ox.Literal)):
        return value
    if type(value).__name__ == "URIRef":  # rdflib
        return ox.NamedNode(str(value))
    if isinstance(value, bool | int | float | str):
        return ox.Literal(value)
    raise TypeError(
        f"Binding {name!r} must be str, int, float, bool or ZooGraph.iri(kind, id), "
        f"got {type(value).__name__}."
    )
