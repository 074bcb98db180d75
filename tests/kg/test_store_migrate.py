"""A version-1 store (as written by kgtransfer before the merge change) is refused, then migrated."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kgtransfer.errors import StoreError, StoreVersionError
from kgtransfer.kg import FORMAT_VERSION, ZooGraph, ZooTables, migrate_store
from kgtransfer.kg._example import example_tables, typed

#: Every quad of a store written by kgtransfer at commit 1fff1d5 (format version 1):
#: the example zoo plus one add_record batch.
V1_DUMP = Path(__file__).with_name("data") / "store_v1.nq"


def _v1_store(path: Path) -> Path:
    store = ox.Store(str(path))
    store.load(path=str(V1_DUMP), format=ox.RdfFormat.N_QUADS)
    store.flush()
    del store
    return path


def test_a_version_1_store_is_refused_with_the_way_forward(tmp_path: Path) -> None:
    path = _v1_store(tmp_path / "graph")
    with pytest.raises(StoreVersionError, match=r"version 1.*kgtransfer migrate --store"):
        ZooGraph.open(path)


def test_migrate_backs_up_then_carries_the_store_forward(tmp_path: Path) -> None:
    assert FORMAT_VERSION == 2
    path = _v1_store(tmp_path / "graph")
    result = migrate_store(path)
    assert (result["from_version"], result["to_version"]) == (1, FORMAT_VERSION)
    backup = Path(result["backup"])
    assert backup.parent == tmp_path and backup.name.startswith("graph.v1-backup-")
    original = sorted(str(q) for q in ox.parse(path=str(V1_DUMP), format=ox.RdfFormat.N_QUADS))
    saved = sorted(str(q) for q in ox.parse(path=str(backup), format=ox.RdfFormat.N_QUADS))
    assert saved == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph", backup.name]  # no temp file

    with ZooGraph.open(path) as graph:
        tables = graph.to_tables()
        assert sorted(tables.models["model"]) == sorted(example_tables().models["model"])
        assert len(tables.records) == len(example_tables().records) + 1
        # version-1 records carry no regime; batches now merge
        update = ZooTables(models=typed("models", {"model": ["bert base"], "architecture": ["x"]}))
        batch = graph.add_zoo_tables(update, source="after migration")
        assert graph.to_tables().models.set_index("model").loc["bert base", "license"] == (
            "apache-2.0"
        )
        assert graph.batch(batch)["overwritten"][0]["old"] == "bert"
    again = migrate_store(path)
    assert again["backup"] is None and again["from_version"] == FORMAT_VERSION


def test_migrate_refuses_what_is_not_a_store(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(StoreError, match="No graph store"):
        migrate_store(tmp_path / "folder")
    assert list((tmp_path / "folder").iterdir()) == []  # nothing written into it


def test_an_export_of_a_version_1_store_loads_into_a_current_one() -> None:
    graph = ZooGraph()
    assert graph.load_rdf(V1_DUMP).batch is None
    assert sorted(graph.to_tables().models["model"]) == sorted(example_tables().models["model"])
    assert len(graph.batches()) == 2
    version = ox.NamedNode("https://w3id.org/kgtransfer#formatVersion")
    versions = [q.object.value for q in graph._live.quads_for_pattern(None, version, None, None)]
    assert versions == [str(FORMAT_VERSION)]
