"""Read imported RDF back into tables, so it goes through the one validator and writer.

:meth:`ZooGraph.load_rdf <kgtransfer.kg.ZooGraph.load_rdf>` parses a file into a scratch
store, reads it with the store's own reader (:func:`kgtransfer.kg._reader.read_tables`)
and hands the tables to :func:`kgtransfer.kg.ingest.normalize_tables`. Every triple of
the input is accounted for: it is *read* (reproduced by writing the read tables back),
*unread* (our vocabulary on one of our entities, but not what the reader took, e.g. a
second value of a single-valued field: refused), or *foreign* (outside the kgtransfer
vocabulary: kept as it is in the batch's graph, not used by kgtransfer).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyoxigraph as ox

from kgtransfer.errors import IngestError
from kgtransfer.kg._merge import _term_key
from kgtransfer.kg._reader import read_tables
from kgtransfer.kg._schema import SPECS
from kgtransfer.kg._writer import render_tables
from kgtransfer.kg.ingest._report import Rejection
from kgtransfer.kg.ingest._tables import ROW_COLUMN
from kgtransfer.kg.iri import ID_BASE, from_iri, to_iri
from kgtransfer.kg.tables import ZooTables
from kgtransfer.kg.vocab import RDF

__all__ = ["ReadRdf", "read_rdf"]

_GRAPH = ox.NamedNode(to_iri("graph", "import"))
_IMPORT_ID = "import"
#: Tables whose rows are nodes of their own (named by batch and row).
_EVENTS = {name: spec.kind for name, spec in SPECS.items() if spec.key is None}
_EVENTS.pop("lineage")
#: Predicates of each kind of subject that the reader maps to a column.
_COLUMNS: dict[str, dict[str, str]] = {}
for _spec in SPECS.values():
    _COLUMNS.setdefault(_spec.kind, {}).update({c.predicate: c.column for c in _spec.columns})
_ATTRIBUTE_PREFIX = f"{ID_BASE}attribute/"
#: Numeric attributes that became canonical columns (the reader folds them in).
_CANONICAL = {
    to_iri("attribute", spec.name, c.column): ox.NamedNode(c.predicate)
    for spec in SPECS.values()
    for c in spec.columns
    if c.term in ("double", "integer")
}


@dataclass
class ReadRdf:
    """What :func:`read_rdf` found."""

    #: The tables the reader read (before validation).
    tables: ZooTables
    #: Original IRIs of the event rows (records, similarities, scores), in table order.
    rows: dict[str, list[str]]
    #: Triples outside the kgtransfer vocabulary (kept as they are).
    foreign: list[ox.Triple] = field(default_factory=list)
    #: Statements in our vocabulary the reader did not take (a second value, a NaN, ...).
    unread: list[Rejection] = field(default_factory=list)

    def inputs(self) -> dict[str, pd.DataFrame]:
        """The read tables as inputs of ``normalize_tables`` (lineage folded into models)."""
        t = self.tables
        models = t.models.copy()
        if len(t.lineage):
            relations = t.lineage.groupby("model", sort=False)["relation"].agg(
                lambda s: list(dict.fromkeys(s.dropna()))
            )
            mixed = relations[relations.map(len) > 1]
            if len(mixed):
                raise IngestError(
                    f"model {mixed.index[0]!r} derives from several base models by different "
                    f"relations ({', '.join(mixed.iloc[0])}); kgtransfer keeps one relation per "
                    "model. Split the import or give one relation."
                )
            bases = t.lineage.groupby("model", sort=False)["base_model"].agg(list)
            missing = [m for m in bases.index if m not in set(models["model"])]
            if missing:
                models = pd.concat(
                    [models, pd.DataFrame({"model": pd.Series(missing, dtype="string")})],
                    ignore_index=True,
                )
            models["base_model"] = models["model"].map(bases)
            models["base_model_relation"] = models["model"].map(
                lambda m: (relations.get(m) or [None])[0]
            )
        out = {
            "models": models,
            "datasets": t.datasets,
            "records": t.records,
            "similarities": t.similarities,
            "scores": t.scores,
            "metrics": t.metrics[["metric", "higher_is_better"]].dropna(),
        }
        # rejections name the row of the table as read (1-based)
        return {k: v.assign(**{ROW_COLUMN: range(1, len(v) + 1)}) for k, v in out.items() if len(v)}

    def kept(
        self, written: ZooTables, report: Any, sources: dict[str, str]
    ) -> dict[str, list[int | None]]:
        """Where each read event row was written (None: rejected, or not known)."""
        out: dict[str, list[int | None]] = {}
        for name, iris in self.rows.items():
            rejected = {
                r.row
                for r in report.rejections
                if r.source == sources.get(name) and r.row is not None
            }
            survivors = [i for i in range(len(iris)) if i + 1 not in rejected]
            positions: list[int | None] = [None] * len(iris)
            if len(survivors) == len(getattr(written, name)):
                for pos, i in enumerate(survivors):
                    positions[i] = pos
            out[name] = positions
        return out


def _order(iri: str) -> tuple[str, int]:
    parts = from_iri(iri)
    return parts[1], int(parts[2])


def _kind(term: object) -> str | None:
    if isinstance(term, ox.NamedNode) and term.value.startswith(ID_BASE):
        return term.value[len(ID_BASE) :].partition("/")[0]
    return None


def read_rdf(quads: Iterable[ox.Quad | ox.Triple], label: str) -> ReadRdf:
    """Read ``quads`` (their union) as tables and sort every statement (see the module).

    Raises:
        IngestError: The input uses the kgtransfer vocabulary in a way the reader cannot
            read (a record IRI not minted by kgtransfer, a count that is no number, ...).
    """
    triples = list(
        dict.fromkeys(ox.Triple(q.subject, q.predicate, q.object) for q in quads)
    )  # the union: a statement in several graphs counts once
    scratch = ox.Store()
    scratch.extend(ox.Quad(t.subject, t.predicate, t.object, _GRAPH) for t in triples)
    try:
        tables = read_tables(scratch)
        rows: dict[str, list[str]] = {}
        mapping: dict[str, str] = {}
        for name, event_kind in _EVENTS.items():
            spec = SPECS[name]
            typed = {
                q.subject.value
                for q in scratch.quads_for_pattern(
                    None, ox.NamedNode(str(RDF.type)), ox.NamedNode(spec.types[0]), None
                )
                if isinstance(q.subject, ox.NamedNode)
            }
            rows[name] = sorted(typed, key=_order)
            for i, iri in enumerate(rows[name]):
                mapping[iri] = to_iri(event_kind, _IMPORT_ID, str(i))
        pieces, _ = render_tables(tables, _IMPORT_ID)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise IngestError(
            f"{label}: the RDF uses the kgtransfer vocabulary in a way it cannot read ({exc}); "
            "import RDF written by ZooGraph.export, or fix the statement named."
        ) from None
    text = "".join(" .\n".join(p.tolist()) + " .\n" for p in pieces if len(p))
    written = {
        (t.subject, t.predicate, _term_key(t.object))
        for t in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    }
    pairs = {(s, p) for s, p, _ in written}
    out = ReadRdf(tables, rows)
    for t in triples:
        s = t.subject
        if isinstance(s, ox.NamedNode) and s.value in mapping:
            s = ox.NamedNode(mapping[s.value])
        o = t.object
        if isinstance(o, ox.NamedNode) and o.value in mapping:
            o = ox.NamedNode(mapping[o.value])
        if (s, t.predicate, _term_key(o)) in written:
            continue
        canonical = _CANONICAL.get(t.predicate.value)  # a numeric attribute of older stores
        if canonical is not None and (s, canonical, _term_key(o)) in written:
            continue
        kind = _kind(t.subject)
        column = _COLUMNS.get(kind or "", {}).get(t.predicate.value)
        if column is None and t.predicate.value.startswith(_ATTRIBUTE_PREFIX) and kind:
            column = from_iri(t.predicate.value)[-1]
        if column is not None:
            assert isinstance(t.subject, ox.NamedNode)
            id_ = "/".join(from_iri(t.subject.value)[1:])
            if (s, t.predicate) in pairs:
                reason = (
                    f"a second value of {column!r} for {kind} {id_!r} (the first one read is "
                    "kept); give one value per field."
                )
            else:
                reason = (
                    f"{kind} {id_!r}: a {column!r} value kgtransfer cannot store (e.g. NaN or "
                    "infinity, or a term of the wrong kind); fix or drop the statement."
                )
            value = o if isinstance(o, ox.Triple) else o.value  # a quoted triple has no .value
            out.unread.append(Rejection(label, None, column, value, reason))
        else:
            out.foreign.append(t)
    return out


def foreign_lines(
    read: ReadRdf, kept: dict[str, list[int | None]], batch_id: str
) -> tuple[list[str], int]:
    """The foreign triples as N-Triples lines, links to event rows renamed as written.

    ``kept[name][i]`` is the position written for read row ``i`` of table ``name`` (None:
    not written). Returns the lines and how many statements still name a row not written.
    """
    renamed: dict[str, str | None] = {}
    for name, iris in read.rows.items():
        for iri, pos in zip(iris, kept[name], strict=True):
            renamed[iri] = None if pos is None else to_iri(_EVENTS[name], batch_id, str(pos))
    lines: list[str] = []
    dangling = 0
    for t in read.foreign:
        terms = []
        for term in (t.subject, t.predicate, t.object):
            if isinstance(term, ox.NamedNode) and term.value in renamed:
                new = renamed[term.value]
                if new is None:
                    dangling += 1
                else:
                    term = ox.NamedNode(new)
            terms.append(term)
        lines.append(f"{terms[0]} {terms[1]} {terms[2]}")
    return lines, dangling
