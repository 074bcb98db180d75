"""The storage seam: every layer of ZooGraph uses only the StoreBackend subset of pyoxigraph.Store."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyoxigraph as ox
import pytest

from kgtransfer.kg import ZooGraph
from kgtransfer.kg._backend import StoreBackend
from kgtransfer.kg._example import example_tables

#: The methods StoreBackend declares (nothing else of pyoxigraph.Store may be used).
SUBSET = {
    "quads_for_pattern",
    "named_graphs",
    "add",
    "extend",
    "remove",
    "remove_graph",
    "update",
    "query",
    "load",
    "bulk_load",
    "dump",
    "flush",
    "__len__",
}


class SubsetStore:
    """A StoreBackend that forwards to a pyoxigraph store and has nothing else (no
    ``__getattr__``): a call outside the subset raises AttributeError."""

    def __init__(self, store: ox.Store) -> None:
        self._inner = store
        self.used: set[str] = set()

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.used.add(name)
        return getattr(self._inner, name)(*args, **kwargs)

    def quads_for_pattern(self, *args: Any, **kwargs: Any) -> Iterator[ox.Quad]:
        return self._call("quads_for_pattern", *args, **kwargs)

    def named_graphs(self) -> Iterator[ox.NamedNode | ox.BlankNode]:
        return self._call("named_graphs")

    def add(self, quad: ox.Quad) -> None:
        self._call("add", quad)

    def extend(self, quads: Iterable[ox.Quad]) -> None:
        self._call("extend", quads)

    def remove(self, quad: ox.Quad) -> None:
        self._call("remove", quad)

    def remove_graph(self, graph_name: Any) -> None:
        self._call("remove_graph", graph_name)

    def update(self, update: str, **kwargs: Any) -> None:
        self._call("update", update, **kwargs)

    def query(self, query: str, **kwargs: Any) -> Any:
        return self._call("query", query, **kwargs)

    def load(self, *args: Any, **kwargs: Any) -> None:
        self._call("load", *args, **kwargs)

    def bulk_load(self, *args: Any, **kwargs: Any) -> None:
        self._call("bulk_load", *args, **kwargs)

    def dump(self, output: IO[bytes] | str | None = None, **kwargs: Any) -> bytes | None:
        return self._call("dump", output, **kwargs)

    def flush(self) -> None:
        self._call("flush")

    def __len__(self) -> int:
        self.used.add("__len__")
        return len(self._inner)


def test_the_subset_is_what_the_protocol_declares() -> None:
    declared = {
        name
        for name in vars(StoreBackend)
        if callable(vars(StoreBackend)[name]) and (not name.startswith("_") or name == "__len__")
    }
    assert declared == SUBSET
    assert all(hasattr(ox.Store, name) for name in SUBSET)  # a pyoxigraph Store is one
    assert {n for n in vars(SubsetStore) if not n.startswith("_")} | {"__len__"} == SUBSET


def _exercise(graph: ZooGraph) -> None:
    """Every public layer: ingest, queries, import/export, converters, removal."""
    first = graph.add_zoo_tables(example_tables(), source="tables")
    update = example_tables()
    update.models["architecture"] = "changed"
    second = graph.add_tables(models=update.models).batch  # merges: retracts the old values
    rid = graph.add_record("bert base", "sst2", 0.7, method="finetune", provenance={"a": 1})
    graph.add_records(
        pd.DataFrame({"model": ["vit-ft-ft"], "dataset": ["cifar10"], "value": [0.9]})
    )
    assert graph.ids("model") == sorted(example_tables().models["model"])
    assert len(graph.query("SELECT DISTINCT ?m WHERE { ?m a mls:Model }", limit=None)) == 4
    assert len(graph.records(dataset="sst2", limit=None)) == 2
    assert len(graph.best_sources("cifar10")) >= 1
    assert len(graph.candidates("cifar10")) >= 1
    assert len(graph.lineage("vit-ft-ft")) == 2
    assert graph.stats()["models"] == 4
    assert list(graph.batches()["batch"])[:2] == [first, second]
    assert graph.batch(second)["overwritten"]
    assert len(graph.to_tables().models) == 4
    turtle, quads = io.BytesIO(), io.BytesIO()
    graph.export(turtle, format="ttl")
    graph.export(quads, format="nq")
    assert graph.to_rdflib() is not None and graph.to_networkx().number_of_nodes() > 0
    graph.remove_record(rid)
    assert graph.remove_records(dataset="cifar10", model="vit-ft-ft").records == 2
    graph.remove_batch(second)
    assert set(graph.to_tables().models["architecture"]) != {"changed"}
    graph.remove_model("bert base")
    assert "bert base" not in graph.ids("model")
    other = ZooGraph()
    other._store = SubsetStore(ox.Store())
    other.load_rdf(turtle.getvalue(), format="ttl")
    assert len(other.to_tables().models) == 4


def test_zoograph_in_memory_uses_only_the_subset() -> None:
    graph = ZooGraph()
    backend = SubsetStore(graph._live)
    graph._store = backend
    _exercise(graph)
    assert backend.used <= SUBSET
    assert {"query", "update", "load", "quads_for_pattern"} <= backend.used


def test_zoograph_on_disk_uses_only_the_subset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kgtransfer.kg.store as store_module

    monkeypatch.setattr(store_module, "_BULK_MIN_STATEMENTS", 1)  # the bulk path too
    with ZooGraph.open(tmp_path / "graph", create=True) as graph:
        backend = SubsetStore(graph._live)
        graph._store = backend
        _exercise(graph)
        assert backend.used <= SUBSET
        assert {"bulk_load", "flush"} <= backend.used
    with ZooGraph.open(tmp_path / "graph", read_only=True) as view:
        assert "bert base" not in view.ids("model")
