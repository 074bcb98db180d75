"""What the validator asks of the graph, looked up in the store one id at a time.

:meth:`ZooGraph._normalized <kgtransfer.kg.ZooGraph>` validates each batch against the
graph: records must name known models and datasets, a new lineage edge must not close
a cycle with the stored lineage, a result at chance level (``1 / n_classes`` of a
stored dataset) is flagged. Listing every id, edge and dataset of the graph for each
batch made a batch's time and memory grow with the graph (a streaming ingest of a
million models read the whole graph once per chunk). These views answer the same
questions by index lookups on the ids a batch actually names, so the cost of a batch
depends on the batch only.

Each view is what :func:`~kgtransfer.kg.ingest.normalize_tables` accepts for its
``known_*`` arguments.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

import pyoxigraph as ox

from kgtransfer.kg._backend import StoreBackend
from kgtransfer.kg.iri import from_iri, id_of, to_iri
from kgtransfer.kg.vocab import KGT, MLS, PROV, RDF

__all__ = ["StoreIds", "StoreLineage", "StoreNClasses"]

_TYPE = ox.NamedNode(str(RDF.type))
_DATASET = ox.NamedNode(str(MLS.Dataset))
_N_CLASSES = ox.NamedNode(str(KGT.nClasses))
_DERIVATION = ox.NamedNode(str(PROV.qualifiedDerivation))
_ENTITY = ox.NamedNode(str(PROV.entity))  # a lineage edge's base model
_RDF_TYPES = {"model": MLS.Model, "dataset": MLS.Dataset, "metric": MLS.EvaluationMeasure}


class GraphOf(Protocol):
    """What a view reads through: the graph's live store (``ZooGraph._live``).

    The views keep the graph, never its store: a closed graph releases its store (and a
    local store's lock) even while an exception's traceback still holds a view.
    """

    @property
    def _live(self) -> StoreBackend: ...


def _node(kind: str, id_: object) -> ox.NamedNode | None:
    """The IRI of ``id_`` as a kgtransfer entity, or ``None`` when it cannot be one."""
    if not isinstance(id_, str) or not id_:
        return None
    return ox.NamedNode(to_iri(kind, id_))


class StoreIds:
    """``id in ids``: is ``id`` a model (dataset, metric) described in the store?

    The same answer as ``id in graph.ids(kind)``, from one index lookup.
    """

    def __init__(self, graph: GraphOf, kind: str) -> None:
        self._graph = graph
        self._kind = kind
        self._type = ox.NamedNode(str(_RDF_TYPES[kind]))

    def __contains__(self, id_: object) -> bool:
        node = _node(self._kind, id_)
        if node is None:
            return False
        return (
            next(self._graph._live.quads_for_pattern(node, _TYPE, self._type, None), None)
            is not None
        )

    def __repr__(self) -> str:
        return f"StoreIds({self._kind!r})"


class StoreLineage:
    """The lineage of the store, one model at a time (a
    :class:`~kgtransfer.kg.ingest._rules.LineageLookup`).

    ``bases(model)`` are the ``base_model`` of the rows of ``to_tables().lineage`` whose
    ``model`` is ``model``; ``is_base(model)`` says whether any row has ``model`` as its
    ``base_model``.
    """

    def __init__(self, graph: GraphOf) -> None:
        self._graph = graph

    def is_base(self, model: str) -> bool:
        """Whether some stored lineage edge has ``model`` as its base model."""
        node = _node("model", model)
        if node is None:
            return False
        return (
            next(self._graph._live.quads_for_pattern(None, _ENTITY, node, None), None) is not None
        )

    def bases(self, model: str) -> list[str]:
        """The base models the store derives ``model`` from (sorted)."""
        node = _node("model", model)
        if node is None:
            return []
        bases: set[str] = set()
        for quad in self._graph._live.quads_for_pattern(node, _DERIVATION, None, None):
            if isinstance(quad.object, ox.NamedNode):
                parts = from_iri(quad.object.value)
                if len(parts) == 3:
                    bases.add(parts[2])
        return sorted(bases)

    def __repr__(self) -> str:
        return "StoreLineage()"


class StoreNClasses(Mapping[str, float]):
    """``n_classes[dataset]`` of the datasets of the store that have one.

    The same mapping as the ``dataset -> n_classes`` pairs of ``to_tables().datasets``;
    reading one entry is an index lookup (iterating reads them all).
    """

    def __init__(self, graph: GraphOf) -> None:
        self._graph = graph

    def __getitem__(self, dataset: str) -> float:
        node = _node("dataset", dataset)
        if node is not None and next(
            self._graph._live.quads_for_pattern(node, _TYPE, _DATASET, None), None
        ):
            for quad in self._graph._live.quads_for_pattern(node, _N_CLASSES, None, None):
                if isinstance(quad.object, ox.Literal):
                    return float(quad.object.value)
        raise KeyError(dataset)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for quad in self._graph._live.quads_for_pattern(None, _N_CLASSES, None, None):
            subject = quad.subject
            if isinstance(subject, ox.NamedNode) and subject.value not in seen:
                seen.add(subject.value)
                if next(self._graph._live.quads_for_pattern(subject, _TYPE, _DATASET, None), None):
                    yield id_of(subject.value, "dataset")

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return "StoreNClasses()"
