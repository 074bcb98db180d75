"""RDF files in and out of a :class:`~kgtransfer.kg.ZooGraph`: ``export`` and ``load_rdf``.

:class:`ImportExport` is a mixin of ``ZooGraph``. Triple formats load through the same
validator and writer as tables; N-Quads restore a whole store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pyoxigraph as ox

from kgtransfer._io import atomic_write_bytes as _atomic_write
from kgtransfer.errors import ErrorMode, StoreVersionError, check_error_mode
from kgtransfer.kg._layout import _META_GRAPH, _VERSION, FORMAT_VERSION, _new_batch_id
from kgtransfer.kg._merge import WriteMode, _check_mode
from kgtransfer.kg._migrate import _MIGRATIONS, _migrated
from kgtransfer.kg.iri import ID_BASE
from kgtransfer.kg.vocab import PREFIXES

if TYPE_CHECKING:
    from kgtransfer.kg._host import GraphHost
    from kgtransfer.kg.ingest import IngestReport
else:  # a mixin of ZooGraph: GraphHost tells type checkers what ZooGraph has
    GraphHost = object

__all__ = ["ImportExport"]

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


class ImportExport(GraphHost):
    """RDF export and import of a :class:`~kgtransfer.kg.ZooGraph` (a mixin of it)."""

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
    ) -> IngestReport:
        """Load an RDF file or stream written by :meth:`export` (or any RDF).

        Triple formats (ttl, nt, jsonld) become one new ingest batch (its id is
        the returned report's ``batch``), through the same validator and writer as tables: the statements are
        read back as tables (:meth:`to_tables`' reader), checked by
        :func:`~kgtransfer.kg.ingest.normalize_tables` against what the graph knows (ids,
        declared metrics, lineage) and merged like :meth:`add_tables` (``errors``,
        ``mode``; the returned report lists overwritten values).
        Statements outside the kgtransfer vocabulary are kept as they are in the
        batch's graph (queries see them; kgtransfer does not use them; the report's
        notes count them). A statement in our vocabulary that the reader does not take
        (e.g. a second value of a single-valued field) is a rejection.

        N-Quads restores every named graph as it was (the report's ``batch`` is None); the
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
            self._last_report = report
            return report
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
        report.batch = batch_id
        self._write_batch(
            tables, source=label, report=report, batch_id=batch_id, extra=lines, mode=mode
        )
        self._last_report = report
        return report
