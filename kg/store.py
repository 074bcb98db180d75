"""The model-zoo knowledge graph: :class:`ZooGraph`, an RDF store on pyoxigraph.

Every write is one *ingest batch*: a ``kgt:IngestBatch`` (a ``prov:Activity`` with its
source, time and row counts) whose triples live in a named graph of their own, so
``remove_batch`` retracts exactly what a batch wrote. A batch merges into what is known:
it retracts from older batches only the single values it overwrites (``mode="merge"``)
or everything about the entities it names (``mode="replace"``), and lists each replaced
value on its provenance. Small batches are written in one pyoxigraph transaction; large
batches on disk go through the bulk loader and become visible when their provenance (the
commit marker) is written, and a graph left without it by a crash is dropped on the next
open. A batch that retracts stages its provenance and the quads to retract (as terms, in
a staging graph) and one fixed SPARQL update then applies both, so a crash mid-write
leaves the previous state or the new one. The store records its format version in a
metadata graph, refuses to open another version, and :func:`migrate_store` carries an
older one forward.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import sys
import tempfile
import warnings
from collections.abc import Iterable, Mapping
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
    StoreError,
    StoreLockedError,
    StoreVersionError,
    did_you_mean,
)
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
from kgtransfer.kg._queries import (
    get_query,
    is_update,
    solutions_frame,
    uses_load,
    uses_service,
)
from kgtransfer.kg._reader import read_tables
from kgtransfer.kg._schema import SPECS
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

ErrorMode = Literal["raise", "warn", "collect"]
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

    ``ZooGraph()`` lives in memory; :meth:`open` opens (or creates) a persistent
    store on disk. Use it as a context manager, or call :meth:`close`.

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
        self._read_only = False
        self.last_report: Any = None
        self._init_meta()

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(cls, path: str | os.PathLike[str], *, read_only: bool = False) -> ZooGraph:
        """Open (or create) the persistent store in folder ``path``.

        Args:
            path: Folder of the store; created if missing (unless ``read_only``).
            read_only: Open a read-only view (only while no other process writes to it:
                pyoxigraph leaves reading a store being written undefined).

        Raises:
            StoreLockedError: Another process has the store open for writing.
            StoreVersionError: The store was written by another format version.
        """
        path = Path(path)
        graph = cls.__new__(cls)
        graph._path = path
        graph._read_only = read_only
        graph.last_report = None
        try:
            if read_only:
                if not path.is_dir():
                    raise FileNotFoundError(f"No graph store at {path}; ingest something first.")
                graph._store = ox.Store.read_only(str(path))
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                graph._store = ox.Store(str(path))
        except OSError as exc:
            if "lock" in str(exc).lower():
                raise StoreLockedError(
                    f"The graph store {path} is open in another process ({exc}). Close that "
                    "process (or wait for it to finish) and try again, or use another store path."
                ) from exc
            raise
        try:
            graph._init_meta()
        except StoreVersionError:
            graph.close()
            raise
        if not read_only:
            graph._recover()
        return graph

    def _init_meta(self) -> None:
        store = self._live
        found = list(store.quads_for_pattern(_STORE_NODE, _VERSION, None, _META_GRAPH))
        where = self._path or "the in-memory store"
        if not found:
            if len(store) and not self._read_only:
                raise StoreVersionError(
                    f"{where} holds RDF but no kgtransfer format version; it was not written by "
                    "kgtransfer. Open an empty folder, or load the data with load_rdf()."
                )
            if not self._read_only:
                store.add(ox.Quad(_STORE_NODE, _VERSION, ox.Literal(FORMAT_VERSION), _META_GRAPH))
            return
        version = int(str(getattr(found[0].object, "value", "-1")))
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
    def _live(self) -> ox.Store:
        if self._store is None:
            raise ValueError("This ZooGraph is closed; open it again with ZooGraph.open(path).")
        return self._store

    def close(self) -> None:
        """Flush and release the store (and its lock). Safe to call twice."""
        if self._store is not None:
            if self._path is not None and not self._read_only:
                self._store.flush()
            self._store = None

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

        The statements are streamed to a temporary N-Quads file beside the store and
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
        fd, tmp = tempfile.mkstemp(
            dir=self._path.parent, prefix=f".{self._path.name}.", suffix=".nq"
        )
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

    def _recover(self) -> list[str]:
        """Drop batch graphs without provenance (left by a crash during a bulk write)."""
        store = self._live
        prefix = f"{ID_BASE}batch/"
        dropped = []
        for name in list(store.named_graphs()):
            if (
                isinstance(name, ox.NamedNode)
                and name.value.startswith(prefix)
                and not any(store.quads_for_pattern(name, _TYPE, None, _META_GRAPH))
            ):
                store.remove_graph(name)
                dropped.append(name.value)
        if dropped:
            store.flush()
        return dropped

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

    def add_records(self, records: pd.DataFrame, *, source: str = "add_records") -> str:
        """Write back several transfer results (a ``records`` table) as one batch.

        Missing canonical columns are filled with NA; extra numeric columns become
        numeric attributes of each record.

        Returns:
            The batch id.

        Example:
            >>> g = ZooGraph()
            >>> _ = g.add_records(pd.DataFrame({"model": ["a", "b"], "dataset": ["d", "d"],
            ...                                 "value": [0.5, 0.6], "seed": [0, 0]}))
            >>> g.best_sources("d")["model"].tolist()
            ['b', 'a']
        """
        columns = COLUMNS["records"]
        full = pd.DataFrame(
            {
                c: (records[c] if c in records else pd.Series(pd.NA, index=records.index))
                for c in columns
            }
        ).astype(columns)
        extra = records[[c for c in records.columns if c not in columns]]
        table = pd.concat([full, extra], axis=1)
        return self.add_zoo_tables(ZooTables(records=table), source=source)

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
    ) -> str:
        """Write back one transfer result with its provenance (one batch).

        Args:
            model: Source model id.
            dataset: Target dataset id.
            value: Measured value of ``metric``.
            metric: Metric name (its direction comes from the metrics table).
            method: Transfer method, e.g. ``"finetune"`` or ``"linear_probe"``.
            seed: Seed of the run.
            run: Free-form run label.
            suspect: Mark a probable failed run.
            provenance: JSON-serialisable details. Keys ``hyperparameters``, ``split``,
                ``versions`` and ``wall_time`` also get their own properties on the run
                activity (``prov:wasGeneratedBy`` of the record); the whole dictionary is
                kept as JSON.
            attributes: Numeric attributes of the record, like the extra numeric columns
                of a records table (e.g. ``{"gain": 0.12, "scratch_accuracy": 0.61}``:
                the recommender's gain and negative-transfer estimates read ``gain``).

        Returns:
            The record id (``<batch id>/0``), accepted by :meth:`remove_record`.

        Raises:
            ValueError: An attribute named like a records column, or not a finite number.

        Example:
            >>> g = ZooGraph()
            >>> rid = g.add_record("m", "d", 0.8, method="finetune", seed=1,
            ...                    provenance={"split": "test", "wall_time": 2.5})
            >>> g.records(dataset="d")["value"].tolist()
            [0.8]
        """
        extra = _record_attributes(attributes)
        records = pd.DataFrame(
            {
                "model": [model],
                "dataset": [dataset],
                "value": [float(value)],
                "metric": [metric],
                "method": [method],
                "seed": [seed],
                "run": [run],
                "suspect": [suspect],
            }
        ).astype(COLUMNS["records"])
        records = records.assign(**{k: [v] for k, v in extra.items()})
        details = dict(provenance or {})
        batch_id = _new_batch_id()
        record_iri = term_iri(to_iri("record", batch_id, "0"))
        run_iri = term_iri(to_iri("run", batch_id))
        lines = [
            f"{record_iri} <{PROV.wasGeneratedBy}> {run_iri}",
            f"{run_iri} <{RDF.type}> <{PROV.Activity}>",
            f"{run_iri} <{KGT.provenance}> {_json_literal(details, 'provenance')}",
        ]
        if method is not None:
            lines.append(f"{run_iri} <{KGT.method}> {string_literal(method)}")
        if seed is not None:
            lines.append(f'{run_iri} <{KGT.seed}> "{int(seed)}"^^<{_XSD}integer>')
        if details.get("split") is not None:
            lines.append(f"{run_iri} <{KGT.split}> {string_literal(str(details['split']))}")
        for key, prop in (
            ("hyperparameters", KGT.hyperParameters),
            ("hyper_parameters", KGT.hyperParameters),
            ("versions", KGT.packageVersions),
            ("package_versions", KGT.packageVersions),
        ):
            if details.get(key) is not None:
                lines.append(f"{run_iri} <{prop}> {_json_literal(details[key], key)}")
        if details.get("wall_time") is not None:
            wall = float(details["wall_time"])
            lines.append(f'{run_iri} <{KGT.wallTime}> "{wall!r}"^^<{_XSD}double>')
        self._write_batch(
            ZooTables(records=records),
            source=f"add_record({model!r}, {dataset!r})",
            report=None,
            batch_id=batch_id,
            extra=lines,
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
        graph = cls.open(path) if path is not None else cls()
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
        from kgtransfer.kg.ingest import normalize_tables

        tables, report = normalize_tables(
            models,
            datasets,
            records,
            similarities,
            scores,
            column_map=dict(column_map) if column_map else None,
            errors=errors,
            known_models=self.ids("model"),
            known_datasets=self.ids("dataset"),
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
        see :meth:`add_zoo_tables`); fields a card lacks keep their stored values.
        """
        from kgtransfer.kg.ingest import read_model_cards

        _check_mode(mode)
        tables, report = read_model_cards(path, errors=errors)
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
        atomic); values overwritten in a batch removed meanwhile stay gone.

        Returns:
            The number of quads removed.

        Raises:
            UnknownNameError: No batch has that id (see :meth:`batches`).
        """
        store = self._writable()
        node = self.iri("batch", batch_id)
        meta = list(store.quads_for_pattern(node, None, None, _META_GRAPH))
        if not meta:
            known = self.batches()["batch"].tolist()
            raise did_you_mean(batch_id, known, what="batch", hint="See graph.batches().")
        n_data = sum(1 for _ in store.quads_for_pattern(None, None, None, node))
        restore = self._restorable(node, meta)
        staging = ox.NamedNode(to_iri("batch", batch_id, "staging"))
        update = (
            f"DROP SILENT GRAPH {node} ;\nDELETE WHERE {{ GRAPH {_META_GRAPH} {{ {node} ?p ?o }} }}"
        )
        if restore:
            store.load(
                _staged_nquads(restore, staging).encode("utf-8"), format=ox.RdfFormat.N_QUADS
            )
            update += f" ;\n{_apply_staged(staging, 'INSERT')}DROP SILENT GRAPH {staging}"
        try:
            store.update(update)
        except BaseException:
            store.remove_graph(staging)
            raise
        return n_data + len(meta)

    def _restorable(self, node: ox.NamedNode, meta: list[ox.Quad]) -> list[ox.Quad]:
        """Quads batch ``node`` retracted that removing it should put back."""
        store = self._live
        lines: list[str] = []
        for q in meta:
            if q.predicate == _RETRACTED and isinstance(q.object, ox.Literal):
                lines += json.loads(q.object.value)
        if not lines:
            return []
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
                others = {
                    _term_key(o.object)
                    for o in store.quads_for_pattern(q.subject, q.predicate, None, None)
                    if o.graph_name != node
                }
                if others and _term_key(q.object) not in others:
                    continue  # a later batch set another value
            out.append(q)
        return out

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
        limit: int | None = None,
        iris: bool = False,
    ) -> pd.DataFrame:
        """Run SPARQL; return a DataFrame of plain Python cells.

        The default graph is the union of all graphs; prefixes kgt, mls, prov, dcat,
        dcterms, dqv, skos, rdf, rdfs and xsd are predeclared.

        Args:
            sparql: A SELECT, ASK or CONSTRUCT query (UPDATE only with ``allow_update``).
            bindings: Values of variables, applied as pyoxigraph substitutions (the
                variables must be projected). A str becomes a string literal; pass
                entities as ``ZooGraph.iri("model", id)``.
            allow_update: Permit SPARQL UPDATE (never LOAD, which would fetch remote data).
            limit: Stop after this many rows.
            iris: Keep IRIs instead of turning our IRIs into ids.

        Returns:
            One column per variable (ASK: column ``ask``; CONSTRUCT: subject,
            predicate, object). Our entity IRIs become ids, literals become
            int/float/bool/str, unbound becomes None.

        Raises:
            PermissionError: UPDATE without ``allow_update``, LOAD, or SERVICE.
            SyntaxError: Invalid SPARQL.
        """
        if uses_service(sparql):
            raise PermissionError(
                "SERVICE (federated query) is refused: kgtransfer never fetches remote data. "
                "Load the remote data into the graph first."
            )
        if is_update(sparql):
            if uses_load(sparql):
                raise PermissionError(
                    "SPARQL LOAD is refused: kgtransfer never fetches remote data."
                )
            if not allow_update:
                raise PermissionError(
                    "SPARQL UPDATE is refused by query(); pass allow_update=True to modify the graph."
                )
            self._writable().update(sparql, prefixes=PREFIXES)
            return pd.DataFrame()
        substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
            ox.Variable(k): _binding(k, v) for k, v in (bindings or {}).items()
        }
        try:
            result = self._live.query(
                sparql,
                prefixes=PREFIXES,
                use_default_graph_as_union=True,
                substitutions=substitutions or None,
            )
        except RuntimeError as exc:
            if "projection" in str(exc):
                raise ValueError(
                    f"{exc}: a bound variable must appear in the SELECT clause "
                    "(pyoxigraph substitutes projected variables only)."
                ) from None
            raise
        return _result_frame(result, limit=limit, iris=iris)

    def named_query(self, name: str, *, limit: int | None = 100, **params: Any) -> pd.DataFrame:
        """Run a named query from ``kg/queries`` (see :func:`~kgtransfer.kg.list_queries`).

        Args:
            name: Query name, e.g. ``"lineage"``.
            limit: Maximum number of rows (``None`` for all).
            **params: The query's parameters; ``None`` leaves one unset.

        Raises:
            UnknownNameError: No such query.
            TypeError: Unknown or missing parameter.
        """
        named = get_query(name)
        terms = named.terms(params)
        result = self._live.query(
            named.text,
            use_default_graph_as_union=True,
            substitutions={ox.Variable(k): v for k, v in terms.items()} or None,
        )
        assert isinstance(result, ox.QuerySolutions)
        variables = [v.value for v in result.variables]
        return solutions_frame(
            variables, iter(result), limit=limit, hidden=named.hidden, renames=named.renames
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
        ``records_for_dataset`` when only a dataset is given, which is faster then)."""
        name = "records_for_dataset" if model is None and dataset is not None else "records"
        return self.named_query(name, limit=limit, model=model, dataset=dataset, metric=metric)

    def best_sources(
        self, dataset: str, *, include_suspect: bool = False, limit: int | None = 100
    ) -> pd.DataFrame:
        """Best known result per source model on ``dataset`` (named query ``best_sources``)."""
        return self.named_query(
            "best_sources", limit=limit, dataset=dataset, include_suspect=include_suspect
        )

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
        self, source: str | os.PathLike[str] | IO[bytes] | bytes, format: str | None = None
    ) -> str | None:
        """Load an RDF file or stream written by :meth:`export` (or any RDF).

        Triple formats (ttl, nt, jsonld) become one new ingest batch (its id is
        returned). N-Quads restores every named graph as it was (returns None); the
        format-version triple is checked, not copied.
        """
        rdf_format = _format(format, source)
        data = Path(source).read_bytes() if isinstance(source, (str, os.PathLike)) else source
        if not isinstance(data, bytes):
            data = data.read()
        store = self._writable()
        if rdf_format == ox.RdfFormat.N_QUADS:
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
            version = int(versions[0].object.value) if versions else FORMAT_VERSION
            if version < FORMAT_VERSION and version in _MIGRATIONS:
                quads = _migrated(quads, version)  # an export of an older store
            elif version != FORMAT_VERSION:
                raise StoreVersionError(
                    f"The N-Quads hold store format version {versions[0].object.value}; this "
                    f"kgtransfer reads version {FORMAT_VERSION}."
                )
            store.extend(quads)
            return None
        batch_id = _new_batch_id()
        graph = self.iri("batch", batch_id)
        triples = list(ox.parse(data, format=rdf_format))
        quads = [ox.Quad(t.subject, t.predicate, t.object, graph) for t in triples]
        node = graph
        started = ox.Literal(_now().isoformat(), datatype=ox.NamedNode(f"{_XSD}dateTime"))
        label = str(source) if isinstance(source, (str, os.PathLike)) else "stream"
        quads += [
            ox.Quad(node, _TYPE, ox.NamedNode(str(PROV.Activity)), _META_GRAPH),
            ox.Quad(node, _TYPE, ox.NamedNode(str(KGT.IngestBatch)), _META_GRAPH),
            ox.Quad(node, ox.NamedNode(str(DCTERMS.identifier)), ox.Literal(batch_id), _META_GRAPH),
            ox.Quad(node, ox.NamedNode(str(DCTERMS.source)), ox.Literal(label), _META_GRAPH),
            ox.Quad(node, ox.NamedNode(str(PROV.startedAtTime)), started, _META_GRAPH),
        ]
        store.extend(quads)
        return batch_id

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
        """The zoo as a PyTorch Geometric ``HeteroData`` plus its id index.

        Keyword arguments go to
        :func:`kgtransfer.transfer.recommend.build_hetero_data` (e.g.
        ``exclude_datasets=[...]`` drops those targets' record edges in both directions).

        Returns:
            ``(HeteroData, HeteroIndex)``.
        """
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
        >>> ZooGraph.open(folder).close()
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


def _result_frame(result: Any, *, limit: int | None, iris: bool) -> pd.DataFrame:
    if isinstance(result, ox.QueryBoolean):
        return pd.DataFrame({"ask": [bool(result)]})
    if isinstance(result, ox.QueryTriples):
        rows = ([t.subject, t.predicate, t.object] for t in result)
        return solutions_frame(["subject", "predicate", "object"], rows, limit=limit, iris=iris)
    variables = [v.value for v in result.variables]
    return solutions_frame(variables, iter(result), limit=limit, iris=iris)
