"""How an ingest batch merges into what the graph knows (used by :class:`~kgtransfer.kg.ZooGraph`).

Rows of the entity tables (models, datasets, metrics, lineage) update single-valued fields:
a batch's value replaces a different stored value, an empty cell keeps it, and every other
predicate (types, lineage edges, labels) only adds. What a batch retracts is *staged*: the
quads become records of a staging graph (as RDF terms, loaded as N-Quads) and one fixed
SPARQL update, holding only our own IRIs, applies them. No value is ever spliced into
SPARQL text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Literal

import pyoxigraph as ox

from kgtransfer.errors import ArgumentError
from kgtransfer.kg._schema import RELATIONS, SPECS
from kgtransfer.kg.iri import ID_BASE, from_iri, to_iri
from kgtransfer.kg.vocab import KGT

WriteMode = Literal["merge", "replace"]
_WRITE_MODES = ("merge", "replace")
_XSD = "http://www.w3.org/2001/XMLSchema#"

#: Entity tables whose rows merge into what the graph knows (and their IRI kinds).
_MERGED_TABLES = {
    "models": "model",
    "datasets": "dataset",
    "metrics": "metric",
    "lineage": "lineage",
}
#: Field name of each single-valued predicate, per subject kind (a batch's value of one
#: of these replaces a different older value; every other predicate only adds).
_FIELDS: dict[str, dict[str, str]] = {
    SPECS[name].kind: {col.predicate: col.column for col in SPECS[name].columns}
    for name in _MERGED_TABLES
}
_ATTRIBUTE_PREFIX = f"{ID_BASE}attribute/"
_BATCH_PREFIX = f"{ID_BASE}batch/"
# Staged retractions (a graph of their own until the commit update applies them).
_STAGED_GRAPH = ox.NamedNode(to_iri("graph", "staged-graph"))
_STAGED_SUBJECT = ox.NamedNode(to_iri("graph", "staged-subject"))
_STAGED_PREDICATE = ox.NamedNode(to_iri("graph", "staged-predicate"))
_STAGED_OBJECT = ox.NamedNode(to_iri("graph", "staged-object"))
_DEFAULT_GRAPH = ox.NamedNode(to_iri("graph", "default"))
_OVERWRITTEN = ox.NamedNode(str(KGT.overwritten))
_RETRACTED = ox.NamedNode(str(KGT.retracted))
_RELATION_NAMES = {iri: name for name, iri in RELATIONS.items()}
_NUMERIC_TYPES = {f"{_XSD}{t}" for t in ("double", "float", "decimal", "integer", "int", "long")}


def _check_mode(mode: str) -> None:
    if mode not in _WRITE_MODES:
        raise ArgumentError(
            f"mode={mode!r} is not a write mode; use 'merge' (a batch updates only the fields "
            "it carries) or 'replace' (a batch replaces everything known about its entities)."
        )


def _field(subject: ox.NamedNode, predicate: ox.NamedNode) -> str | None:
    """The field name if ``predicate`` holds one value per ``subject``, else None."""
    if not subject.value.startswith(ID_BASE):
        return None
    kind = subject.value[len(ID_BASE) :].partition("/")[0]
    fields = _FIELDS.get(kind)
    if fields is None:
        return None
    if predicate.value in fields:
        return fields[predicate.value]
    if predicate.value.startswith(_ATTRIBUTE_PREFIX):
        return from_iri(predicate.value)[-1]
    return None


def _term_key(term: Any) -> tuple[str, ...]:
    """Compare terms by value: the store writes numbers in canonical form."""
    if isinstance(term, ox.Literal) and term.datatype.value in _NUMERIC_TYPES:
        try:
            number = float(term.value)
        except ValueError:
            return ("literal", str(term))
        return ("number", "nan" if math.isnan(number) else repr(number))
    return ("term", str(term))


def _term_value(term: Any) -> Any:
    """A plain Python value for reports: ids for our IRIs, numbers for numeric literals."""
    if isinstance(term, ox.NamedNode):
        if term.value in _RELATION_NAMES:
            return _RELATION_NAMES[term.value]
        if term.value.startswith(ID_BASE):
            parts = from_iri(term.value)
            return parts[1] if len(parts) == 2 else "/".join(parts[1:])
        return term.value
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if datatype in _NUMERIC_TYPES:
            number = float(term.value)
            return int(number) if datatype.endswith(("integer", "int", "long")) else number
        if datatype == f"{_XSD}boolean":
            return term.value in ("true", "1")
        return term.value
    return str(term)


def _entity_label(subject: ox.NamedNode) -> tuple[str, str]:
    parts = from_iri(subject.value)
    if parts[0] == "lineage":
        return "lineage", f"{parts[1]} -> {parts[2]}"
    return parts[0], parts[1]


def _batch_of(graph: Any) -> str | None:
    if isinstance(graph, ox.NamedNode) and graph.value.startswith(_BATCH_PREFIX):
        return from_iri(graph.value)[1]
    return None


def _change(quad: ox.Quad, new: list[Any]) -> dict[str, Any]:
    assert isinstance(quad.subject, ox.NamedNode) and isinstance(quad.predicate, ox.NamedNode)
    kind, id_ = _entity_label(quad.subject)
    return {
        "kind": kind,
        "id": id_,
        "field": _field(quad.subject, quad.predicate) or _term_value(quad.predicate),
        "old": _term_value(quad.object),
        "new": (_term_value(new[0]) if len(new) == 1 else [_term_value(t) for t in new])
        if new
        else None,
        "batch": _batch_of(quad.graph_name),
    }


def _note_overwritten(report: Any, overwritten: list[dict[str, Any]]) -> None:
    """Add the overwritten values to an :class:`~kgtransfer.kg.ingest.IngestReport`."""
    target = getattr(report, "overwritten", None)
    if overwritten and isinstance(target, list):
        from kgtransfer.kg.ingest._report import Overwrite

        target.extend(Overwrite(**change) for change in overwritten)


def _has_blank(quad: ox.Quad) -> bool:
    return isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)


def _staged_nquads(quads: Iterable[ox.Quad], staging: ox.NamedNode) -> str:
    """Quads to retract or restore, as records in the staging graph (terms, not text).

    Blank nodes cannot be staged (loading relabels them): callers handle those quads
    with ``Store.remove``.
    """
    lines = []
    for i, q in enumerate(q for q in quads if not _has_blank(q)):
        graph = q.graph_name if isinstance(q.graph_name, ox.NamedNode) else _DEFAULT_GRAPH
        node = f"_:r{i}"
        lines += [
            f"{node} {_STAGED_GRAPH} {graph} {staging} .\n",
            f"{node} {_STAGED_SUBJECT} {q.subject} {staging} .\n",
            f"{node} {_STAGED_PREDICATE} {q.predicate} {staging} .\n",
            f"{node} {_STAGED_OBJECT} {q.object} {staging} .\n",
        ]
    return "".join(lines)


def _staged_pattern(staging: ox.NamedNode, graph: str) -> str:
    return (
        f"GRAPH {staging} {{ ?r {_STAGED_GRAPH} {graph} ; {_STAGED_SUBJECT} ?s ; "
        f"{_STAGED_PREDICATE} ?p ; {_STAGED_OBJECT} ?o }}"
    )


def _apply_staged(staging: ox.NamedNode, verb: str) -> str:
    """SPARQL operations applying the staged records: ``verb`` is DELETE or INSERT.

    The text holds only our own IRIs; the quads come from the staging graph.
    """
    return (
        f"{verb} {{ GRAPH ?g {{ ?s ?p ?o }} }} WHERE {{ {_staged_pattern(staging, '?g')} "
        f"FILTER(?g != {_DEFAULT_GRAPH}) }} ;\n"
        f"{verb} {{ ?s ?p ?o }} WHERE {{ {_staged_pattern(staging, str(_DEFAULT_GRAPH))} }} ;\n"
    )
