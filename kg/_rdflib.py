"""Converters between :class:`~kgtransfer.kg.ZooGraph` and rdflib (``ZooGraph.to_rdflib``
and ``ZooGraph.from_rdflib`` call these)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, TypeVar

import pyoxigraph as ox

from kgtransfer.kg.vocab import PREFIXES

if TYPE_CHECKING:
    import rdflib

    from kgtransfer.kg.store import ZooGraph

__all__ = ["from_rdflib", "to_rdflib"]

G = TypeVar("G", bound="ZooGraph")


def to_rdflib(graph: ZooGraph) -> rdflib.Dataset:
    """An rdflib Dataset with every named graph of ``graph``; its default graph is their union."""
    import rdflib

    dataset = rdflib.Dataset(default_union=True)
    data = graph._live.dump(format=ox.RdfFormat.N_QUADS)
    if data:
        with warnings.catch_warnings():  # rdflib's own nquads parser uses a deprecated API
            warnings.simplefilter("ignore", DeprecationWarning)
            dataset.parse(data=data.decode("utf-8"), format="nquads")
    for prefix, ns in PREFIXES.items():
        dataset.bind(prefix, ns)
    return dataset


def from_rdflib(graph: rdflib.Graph, out: G) -> G:
    """Load an rdflib Dataset (graphs kept) or Graph (one batch) into ``out``, a new
    empty in-memory ZooGraph; returns it."""
    import rdflib

    with warnings.catch_warnings():  # rdflib's nquads serializer uses a deprecated API
        warnings.simplefilter("ignore", DeprecationWarning)
        if isinstance(graph, rdflib.Dataset | rdflib.ConjunctiveGraph):
            out.load_rdf(graph.serialize(format="nquads", encoding="utf-8"), format="nq")
        else:
            out.load_rdf(graph.serialize(format="nt", encoding="utf-8"), format="nt")
    return out
