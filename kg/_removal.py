"""Removal from a :class:`~kgtransfer.kg.ZooGraph`: models, records and whole batches.

:class:`Removal` is a mixin of ``ZooGraph``. Every removal is one transaction: the quads
to retract are staged as terms in a staging graph and one fixed SPARQL update applies
them (see :mod:`kgtransfer.kg._merge`). Removing a batch puts back the values it
overwrote, or hands them down to the batch that holds the field now.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from kgtransfer.errors import ArgumentError, did_you_mean
from kgtransfer.kg._layout import _JSON, _META_GRAPH, _TYPE, _new_batch_id
from kgtransfer.kg._merge import (
    _RETRACTED,
    _apply_staged,
    _batch_of,
    _field,
    _has_blank,
    _staged_nquads,
    _term_key,
)
from kgtransfer.kg.iri import ID_BASE, to_iri
from kgtransfer.kg.vocab import KGT, MLS, PROV

if TYPE_CHECKING:
    from kgtransfer.kg._host import GraphHost
else:  # a mixin of ZooGraph: GraphHost tells type checkers what ZooGraph has
    GraphHost = object

__all__ = ["Removal", "Removed"]

_ENTITY_TYPES = {"models": MLS.Model, "datasets": MLS.Dataset, "metrics": MLS.EvaluationMeasure}

_RECORD = ox.NamedNode(str(KGT.TransferRecord))


@dataclass(frozen=True)
class Removed:
    """What one removal retracted (every ``ZooGraph.remove_*`` returns one).

    Attributes:
        quads: Statements removed (a batch's provenance included).
        records: Transfer records among them.

    Example:
        >>> import pandas as pd
        >>> from kgtransfer.kg import ZooGraph
        >>> g = ZooGraph()
        >>> rid = g.add_record("m", "d", 0.8, models=pd.DataFrame({"model": ["m"]}),
        ...                    datasets=pd.DataFrame({"dataset": ["d"]}))
        >>> g.remove_records(dataset="d").records
        1
    """

    quads: int
    records: int


def _removed(quads: list[ox.Quad]) -> Removed:
    """A :class:`Removed` for ``quads``: their number and the records among them."""
    records = {q.subject for q in quads if q.predicate == _TYPE and q.object == _RECORD}
    return Removed(quads=len(quads), records=len(records))


class Removal(GraphHost):
    """Retracting facts from a :class:`~kgtransfer.kg.ZooGraph` (a mixin of it)."""

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

    def remove_model(self, model: str, *, records: bool = True) -> Removed:
        """Retract a model: its attributes, its lineage edges and (by default) its
        records and estimator scores. Models derived from it keep their lineage.

        Returns:
            The quads removed and the records among them (:class:`Removed`).

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
        return _removed(quads)

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

    def remove_record(self, record: str) -> Removed:
        """Retract one transfer record by its id (``records()["record"]``, ``add_record``).

        Returns:
            The quads removed and the record (:class:`Removed`, ``records=1``).

        Raises:
            UnknownNameError: No record has that id.
        """
        parts = record.split("/")
        quads = self._row_quads(ox.NamedNode(to_iri("record", *parts))) if all(parts) else []
        if not quads:
            known = self.records(limit=None)["record"].tolist()
            raise did_you_mean(record, known, what="record", hint="See graph.records().")
        self._delete(quads)
        return _removed(quads)

    def remove_records(
        self, *, model: str | None = None, dataset: str | None = None, metric: str | None = None
    ) -> Removed:
        """Retract every record matching all given filters.

        Returns:
            The quads removed and the number of records (:class:`Removed`).
        """
        if model is None and dataset is None and metric is None:
            raise ValueError("remove_records() needs model=, dataset= and/or metric=.")
        found = self.records(model=model, dataset=dataset, metric=metric, limit=None)
        quads: list[ox.Quad] = []
        for rid in found["record"]:
            quads += self._row_quads(ox.NamedNode(to_iri("record", *str(rid).split("/"))))
        self._delete(quads)
        return Removed(quads=len(quads), records=len(found))

    def remove_batch(self, batch_id: str) -> Removed:
        """Retract exactly the triples one ingest batch wrote (and its provenance).

        Values the batch overwrote in older batches come back if those batches are
        still in the graph and no later batch has set another value since (one update,
        atomic). When a later batch has set another value, the older value is handed
        down to that batch's provenance, so removing it later brings the older value
        back: no value is lost whatever order batches are removed in.

        Returns:
            The quads removed (the batch's graph and its provenance) and the records
            among them (:class:`Removed`).

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
        n_records = sum(1 for _ in store.quads_for_pattern(None, _TYPE, _RECORD, node))
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
        return Removed(quads=n_data + len(meta), records=n_records)

    def _dependants(self, node: ox.NamedNode, restored: set[Any]) -> list[tuple[str, str]]:
        """``(batch id, entity)`` of facts in other batches that point at an entity
        (model, dataset, metric) typed only in batch ``node`` and not ``restored`` by its
        removal: removing it would leave them dangling."""
        store = self._live
        kinds = {str(t) for t in _ENTITY_TYPES.values()}
        only_here = []
        for q in store.quads_for_pattern(None, _TYPE, None, node):
            if not (
                isinstance(q.subject, ox.NamedNode)
                and isinstance(q.object, ox.NamedNode)
                and q.object.value in kinds
            ):
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
