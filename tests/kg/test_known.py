"""The validator asks the store about the ids a batch names, never lists the whole graph."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pandas as pd
import pytest

from kgtransfer.errors import IngestError, UnknownNameError
from kgtransfer.kg import ZooGraph
from kgtransfer.kg._known import StoreIds, StoreLineage, StoreNClasses
from kgtransfer.kg.ingest import normalize_tables
from kgtransfer.kg.ingest._rules import LineageGraph, LineageLookup
from kgtransfer.kg.iri import decode_id, encode_id


class _NoListing(Mapping[str, float]):
    """A mapping that answers lookups but refuses to be listed."""

    def __init__(self, data: dict[str, float]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> float:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("listed")

    def __len__(self) -> int:
        raise AssertionError("listed")


class _Ids:
    def __init__(self, ids: set[str]) -> None:
        self.ids = ids

    def __contains__(self, id_: object) -> bool:
        return id_ in self.ids


class _Lineage:
    def __init__(self, edges: list[tuple[str, str]]) -> None:
        self.edges = edges
        self.asked: list[str] = []

    def bases(self, model: str) -> list[str]:
        self.asked.append(model)
        return [b for m, b in self.edges if m == model]

    def is_base(self, model: str) -> bool:
        return any(b == model for _, b in self.edges)


def _zoo() -> ZooGraph:
    g = ZooGraph()
    g.add_tables(
        models=pd.DataFrame({"model": ["a", "b", "c"], "base_model": [None, "a", "b"]}),
        datasets=pd.DataFrame({"dataset": ["d", "e"], "n_classes": [10, None]}),
    )
    return g


def test_store_views_answer_like_the_listings() -> None:
    g = _zoo()
    models, datasets = StoreIds(g, "model"), StoreIds(g, "dataset")
    assert all(m in models for m in g.ids("model")) and "d" not in models and "" not in models
    assert "d" in datasets and "a" not in datasets and 3 not in datasets
    lineage = StoreLineage(g)
    assert isinstance(lineage, LineageLookup)
    edges = g.to_tables().lineage
    assert [(m, b) for m in "abc" for b in lineage.bases(m)] == list(
        zip(edges["model"], edges["base_model"], strict=True)
    )
    assert [lineage.is_base(m) for m in "abc"] == [True, True, False]
    n_classes = StoreNClasses(g)
    assert dict(n_classes) == {"d": 10.0} and n_classes.get("e") is None and len(n_classes) == 1


def test_add_tables_never_lists_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    g = _zoo()

    def listed(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole graph was listed for one batch")

    monkeypatch.setattr(ZooGraph, "ids", listed)
    monkeypatch.setattr(ZooGraph, "_lineage", listed)
    monkeypatch.setattr("kgtransfer.kg._reader._read_table", listed, raising=True)
    monkeypatch.setattr(ZooGraph, "_declared_metrics", lambda self: {})
    # a reference to a stored model and dataset resolves; a stored n_classes flags chance
    report = g.add_tables(records=pd.DataFrame({"model": ["c"], "dataset": ["d"], "value": [0.1]}))
    assert report.flagged and "chance" in report.flagged[0].reason
    with pytest.raises(IngestError, match="unknown model 'zz'"):
        g.add_tables(records=pd.DataFrame({"model": ["zz"], "dataset": ["d"], "value": [0.5]}))
    with pytest.raises(IngestError, match="'a' -> 'c' -> 'b' -> 'a'"):
        g.add_tables(models=pd.DataFrame({"model": ["a"], "base_model": ["c"]}))


def test_normalize_tables_takes_lookups_it_never_lists() -> None:
    records = pd.DataFrame({"model": ["m"], "dataset": ["d"], "value": [0.5]})
    tables, report = normalize_tables(
        records=records,
        known_models=_Ids({"m"}),
        known_datasets=_Ids({"d"}),
        known_n_classes=_NoListing({"d": 2.0}),
    )
    assert len(tables.records) == 1 and bool(tables.records["suspect"][0]) is True
    assert report.flagged


def test_cycle_search_asks_only_when_the_model_has_descendants() -> None:
    known = _Lineage([("b", "a"), ("c", "b")])
    graph = LineageGraph(known=known)
    assert graph.cycle("new", "c") is None and known.asked == []  # nothing derives from "new"
    assert graph.cycle("a", "c") == ["a", "c", "b", "a"]
    assert known.asked == ["c", "b"]
    graph.add("x", "c")
    assert graph.cycle("c", "x") == ["c", "x", "c"]


def test_id_caches_are_bounded() -> None:
    # a million-model ingest must not keep every id it ever encoded (~0.3 KB each)
    for cached in (encode_id, decode_id):
        maxsize = cached.cache_info().maxsize
        assert maxsize is not None and maxsize <= 1 << 16


def test_best_sources_looks_the_dataset_up(monkeypatch: pytest.MonkeyPatch) -> None:
    g = _zoo()
    g.add_tables(
        records=pd.DataFrame({"model": ["a", "b"], "dataset": ["d"] * 2, "value": [0.8, 0.9]})
    )
    with pytest.raises(UnknownNameError, match=r"Did you mean 'd'\?"):
        g.best_sources("dd")
    monkeypatch.setattr(ZooGraph, "ids", lambda self, kind: pytest.fail("listed every id"))
    assert g.best_sources("d")["model"].tolist() == ["b", "a"]
