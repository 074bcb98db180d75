"""ZooGraph: round trips, persistence, crash safety, locking, versions, updates, retraction."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pyoxigraph as ox
import pytest

from kgtransfer.errors import (
    IngestError,
    StoreError,
    StoreLockedError,
    StoreVersionError,
    UnknownNameError,
)
from kgtransfer.kg import FORMAT_VERSION, KGT, Removed, ZooGraph, ZooTables
from kgtransfer.kg._example import example_tables, typed
from kgtransfer.kg.iri import to_iri

KEYS = {
    "models": ["model"],
    "lineage": ["model", "base_model"],
    "datasets": ["dataset"],
    "metrics": ["metric"],
}


def assert_tables_equal(left: ZooTables, right: ZooTables) -> None:
    for name, table in left:
        other = getattr(right, name)
        keys = KEYS.get(name)
        if keys:
            table = table.sort_values(keys)
            other = other.sort_values(keys)
        pdt.assert_frame_equal(
            table.reset_index(drop=True), other.reset_index(drop=True), check_like=True, obj=name
        )


def test_round_trip_in_memory() -> None:
    tables = example_tables()
    graph = ZooGraph()
    batch = graph.add_zoo_tables(tables, source="example")
    assert_tables_equal(tables, graph.to_tables())
    assert graph.batches()["batch"].tolist() == [batch]
    assert graph.batches()["counts"][0]["records"] == 6


def test_round_trip_keeps_dtypes_and_numeric_attributes() -> None:
    graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="example")
    back = graph.to_tables()
    assert str(back.records["seed"].dtype) == "Int64"
    assert str(back.records["suspect"].dtype) == "boolean"
    assert back.models.set_index("model").loc["google/vit-base", "flops"] == 17.5
    assert back.records["epochs"].tolist()[:2] == [3.0, 3.0]


def test_persistent_reopen_sees_everything(tmp_path: Path) -> None:
    path = tmp_path / "graph"
    with ZooGraph.open(path, create=True) as graph:
        graph.add_zoo_tables(example_tables(), source="example")
        n = len(graph)
    with ZooGraph.open(path) as again:
        assert len(again) == n
        assert_tables_equal(example_tables(), again.to_tables())
    with pytest.raises(ValueError, match="closed"):
        len(again)


def test_reingest_replaces_model_attributes_and_lineage() -> None:
    graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="v1")
    update = ZooTables(
        models=typed("models", {"model": ["vit-ft-cifar"], "architecture": ["vit-large"]})
    )
    graph.add_zoo_tables(update, source="v2", mode="replace")
    models = graph.to_tables().models.set_index("model")
    assert models.loc["vit-ft-cifar", "architecture"] == "vit-large"
    assert pd.isna(models.loc["vit-ft-cifar", "license"])  # replaced, not merged
    assert len(models) == 4
    lineage = graph.to_tables().lineage
    assert lineage["model"].tolist() == ["vit-ft-ft"]  # its own lineage went with it
    assert graph.lineage("vit-ft-ft")["ancestor"].tolist() == ["vit-ft-cifar"]


def test_remove_model_record_and_batch() -> None:
    graph = ZooGraph()
    first = graph.add_zoo_tables(example_tables(), source="v1")
    rid = graph.add_record("vit-ft-ft", "sst2", 0.5, metric="accuracy", seed=3)
    assert len(graph.records(dataset="sst2")) == 2
    graph.remove_record(rid)
    assert len(graph.records(dataset="sst2")) == 1
    with pytest.raises(UnknownNameError, match="Unknown record"):
        graph.remove_record(rid)

    graph.remove_model("bert base")
    tables = graph.to_tables()
    assert "bert base" not in set(tables.models["model"])
    assert "bert base" not in set(tables.records["model"])
    with pytest.raises(UnknownNameError, match="Did you mean 'vit-ft-ft'"):
        graph.remove_model("vit-ft-fft")

    assert graph.remove_records(dataset="cifar10").records == 1
    graph.remove_batch(first)
    assert graph.stats()["models"] == 0
    assert graph.stats()["batches"] == 1  # the add_record batch (now empty) remains
    assert list(graph._live.quads_for_pattern(None, None, None, graph.iri("batch", first))) == []
    with pytest.raises(UnknownNameError, match="Unknown batch"):
        graph.remove_batch(first)


def test_every_removal_returns_its_quads_and_records() -> None:
    graph = ZooGraph()
    first = graph.add_zoo_tables(example_tables(), source="v1")  # 6 records
    rid = graph.add_record("bert base", "sst2", 0.7, provenance={"a": 1})
    assert graph.remove_record(rid) == Removed(quads=9, records=1)  # with its run node
    several = graph.remove_records(dataset="数据集 #1")
    assert several.records == 4 and several.quads > 4 * 5
    assert graph.remove_model("bert base").records == 1  # its record on sst2
    whole = graph.remove_batch(first)
    assert whole.records == 1 and whole.quads > 100  # the cifar10 record was left
    assert len(graph.records(limit=None)) == 0


def test_remove_batch_is_exact() -> None:
    graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="v1")
    before = sorted(str(q) for q in graph._live)
    extra = ZooTables(records=typed("records", {"model": ["m"], "dataset": ["d"], "value": [1.0]}))
    batch = graph.add_zoo_tables(extra, source="v2")
    graph.remove_batch(batch)
    assert sorted(str(q) for q in graph._live) == before


def test_add_records_and_progress(capsys: pytest.CaptureFixture[str]) -> None:
    graph = ZooGraph()
    frame = pd.DataFrame(
        {"model": ["a", "b"], "dataset": ["d", "d"], "value": [0.5, 0.6], "lr": [0.1, 0.01]}
    )
    batch = graph.add_records(
        frame,
        models=pd.DataFrame({"model": ["a", "b"]}),
        datasets=pd.DataFrame({"dataset": ["d"]}),
    ).batch
    back = graph.to_tables().records
    assert back[["model", "value", "lr"]].values.tolist() == [["a", 0.5, 0.1], ["b", 0.6, 0.01]]
    assert (back["metric"] == "accuracy").all()  # validated like any table: the default metric
    graph.add_zoo_tables(example_tables(), source="example", progress=True)
    assert "ingest example" in capsys.readouterr().err
    graph.remove_batch(batch)
    assert set(graph.records(limit=None)["model"]) == {
        "google/vit-base", "vit-ft-cifar", "vit-ft-ft", "bert base",
    }  # fmt: skip


def test_add_record_provenance() -> None:
    graph = ZooGraph()
    rid = graph.add_record(
        "m",
        "d",
        0.75,
        method="finetune",
        seed=7,
        split="test",
        models=pd.DataFrame({"model": ["m"]}),
        datasets=pd.DataFrame({"dataset": ["d"]}),
        provenance={
            "hyperparameters": {"lr": 0.001},
            "split": "test",
            "versions": {"torch": "2.13"},
            "wall_time": 1.5,
        },
    )
    record = graph.records(model="m")
    assert record[["record", "value", "method", "seed", "split"]].values.tolist() == [
        [rid, 0.75, "finetune", 7, "test"]
    ]
    found = graph.query(
        """SELECT ?hp ?split ?wall ?rec WHERE {
             ?rec prov:wasGeneratedBy ?run ; kgt:split ?split .
             ?run kgt:hyperParameters ?hp ; kgt:wallTime ?wall }""",
        bindings={"rec": graph.iri("record", rid.split("/")[0])},
    )
    assert found.empty  # the record id has two parts; a one-part IRI matches nothing
    found = graph.query(
        "SELECT ?hp ?split ?wall WHERE { ?rec prov:wasGeneratedBy ?run ; kgt:split ?split . "
        "?run kgt:hyperParameters ?hp ; kgt:wallTime ?wall }"
    )
    assert json.loads(found["hp"][0]) == {"lr": 0.001}
    assert found[["split", "wall"]].values.tolist() == [["test", 1.5]]
    with pytest.raises(TypeError, match="JSON-serialisable"):
        graph.add_record("m", "d", 0.1, provenance={"x": object()})
    assert len(graph.records()) == 1  # nothing written by the failed call


def test_add_record_numeric_attributes() -> None:
    graph = ZooGraph()
    graph.add_tables(
        models=pd.DataFrame({"model": ["m"]}), datasets=pd.DataFrame({"dataset": ["d", "e"]})
    )
    graph.add_record("m", "d", 0.8, attributes={"gain": np.float32(0.25), "scratch_accuracy": None})
    graph.add_record("m", "e", 0.6)
    rec = graph.to_tables().records.set_index("dataset")
    assert rec.loc["d", "gain"] == pytest.approx(0.25)
    assert pd.isna(rec.loc["e", "gain"])  # no attribute: unknown
    assert "scratch_accuracy" not in rec.columns  # None is unknown, nothing written
    with pytest.raises(ValueError, match="'seed' is empty or a records column"):
        graph.add_record("m", "d", 0.8, attributes={"seed": 1})
    for bad in (float("nan"), "0.3", True):
        with pytest.raises(ValueError, match=r"'gain' must be a finite number or None, got"):
            graph.add_record("m", "d", 0.8, attributes={"gain": bad})
    assert len(graph.records(dataset="d")) == 1  # refused calls wrote nothing


@pytest.mark.parametrize(
    ("tables", "match"),
    [
        (ZooTables(models=typed("models", {"model": [""]})), "empty id"),
        (ZooTables(models=typed("models", {"model": [None]})), "column 'model' is missing"),
        (
            ZooTables(
                lineage=typed(
                    "lineage", {"model": ["a"], "base_model": ["b"], "relation": ["fork"]}
                )
            ),
            "unknown value 'fork'",
        ),
        (
            ZooTables(models=typed("models", {"model": ["a"]}).assign(notes=["x"])),
            "extra column 'notes'",
        ),
        (ZooTables(records=pd.DataFrame({"model": ["a"]})), "lacks columns"),
    ],
)
def test_bad_tables_raise_and_write_nothing(tables: ZooTables, match: str) -> None:
    graph = ZooGraph()
    n = len(graph)
    with pytest.raises(IngestError, match=match):
        graph.add_zoo_tables(tables, source="bad")
    assert len(graph) == n


def test_failed_load_mid_batch_leaves_previous_state(tmp_path: Path) -> None:
    """A batch that fails half-way through parsing writes nothing (one transaction)."""
    path = tmp_path / "graph"
    with ZooGraph.open(path, create=True) as graph:
        graph.add_zoo_tables(example_tables(), source="v1")
        before = len(graph)
        good = "".join(
            f'<{to_iri("model", f"m{i}")}> <{KGT.architecture}> "x" <{to_iri("batch", "b")}> .\n'
            for i in range(1000)
        )
        with pytest.raises(SyntaxError):
            graph._live.load((good + "<broken\n").encode(), format=ox.RdfFormat.N_QUADS)
        assert len(graph) == before
    with ZooGraph.open(path) as graph:
        assert len(graph) == before


CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from kgtransfer.kg import ZooGraph, ZooTables
    from kgtransfer.kg._example import typed
    path, n = sys.argv[1], int(sys.argv[2])
    graph = ZooGraph.open(path)
    print("ready", flush=True)
    k = 0
    while True:  # even k: new models (bulk path); odd k: the same again (replacing path)
        ids = [f"kid{k // 2}-model-{i}" for i in range(n)]
        tables = ZooTables(models=typed("models", {"model": ids, "architecture": [f"a{k}"] * n,
                                                    "n_params": list(np.arange(n, dtype=float))}))
        graph.add_zoo_tables(tables, source=f"child {k}")
        k += 1
    """
)


def test_killed_mid_ingest_leaves_a_consistent_store(tmp_path: Path) -> None:
    path = tmp_path / "graph"
    with ZooGraph.open(path, create=True) as graph:
        graph.add_zoo_tables(example_tables(), source="v1")
    n = 6000
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(n)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    time.sleep(1.5)
    proc.kill()
    proc.wait()
    with ZooGraph.open(path) as graph:
        tables = graph.to_tables()
        child = tables.models[tables.models["model"].str.startswith("kid")]
        groups = child.groupby(child["model"].str.split("-").str[0])
        # every committed batch is complete: each group of models is all there, fully described
        assert all(len(group) == n for _, group in groups), groups.size().to_dict()
        assert child["architecture"].notna().all() and child["n_params"].notna().all()
        assert all(group["architecture"].nunique() == 1 for _, group in groups)
        assert set(graph.batches()["source"]) >= {"v1"}
        ours = ZooTables(
            **{
                name: (t[~t["model"].str.startswith("kid")] if name == "models" else t)
                for name, t in tables
            }
        )
        assert_tables_equal(example_tables(), ours)


def test_uncommitted_bulk_graph_is_dropped_on_open(tmp_path: Path) -> None:
    """A crash between the bulk load and the commit marker leaves a graph that open() drops."""
    path = tmp_path / "graph"
    with ZooGraph.open(path, create=True) as graph:
        graph.add_zoo_tables(example_tables(), source="v1")
        before = len(graph)
        orphan = graph.iri("batch", "crashed")
        graph._live.bulk_extend(
            [
                ox.Quad(
                    graph.iri("model", f"m{i}"),
                    ox.NamedNode(str(KGT.architecture)),
                    ox.Literal("x"),
                    orphan,
                )
                for i in range(10)
            ]
        )
        assert len(graph) == before + 10
    with ZooGraph.open(path) as graph:
        assert len(graph) == before
        assert_tables_equal(example_tables(), graph.to_tables())


def test_bulk_path_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kgtransfer.kg.store as store_module

    monkeypatch.setattr(store_module, "_BULK_MIN_STATEMENTS", 1)
    with ZooGraph.open(tmp_path / "graph", create=True) as graph:
        graph.add_zoo_tables(example_tables(), source="bulk")
        assert_tables_equal(example_tables(), graph.to_tables())
        assert [p.name for p in tmp_path.iterdir()] == ["graph"]  # temp file removed


HOLDER = textwrap.dedent(
    """
    import sys, time
    from kgtransfer.kg import ZooGraph
    graph = ZooGraph.open(sys.argv[1])
    print("ready", flush=True)
    time.sleep(60)
    """
)


def test_locked_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "graph"
    ZooGraph.open(path, create=True).close()
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        with pytest.raises(
            StoreLockedError, match=r"open in another process.*Close that process"
        ) as info:
            ZooGraph.open(path)
        assert str(path) in str(info.value)
    finally:
        proc.kill()
        proc.wait()


def test_read_only_view(tmp_path: Path) -> None:
    path = tmp_path / "graph"
    with ZooGraph.open(path, create=True) as graph:
        graph.add_zoo_tables(example_tables(), source="example")
    with ZooGraph.open(path, read_only=True) as reader:
        assert reader.stats()["models"] == 4
        with pytest.raises(StoreLockedError, match="read_only=True"):
            reader.add_record("m", "d", 1.0)
    with pytest.raises(StoreError, match="No graph store"):
        ZooGraph.open(tmp_path / "missing", read_only=True)


@pytest.mark.parametrize("other", [FORMAT_VERSION - 1, FORMAT_VERSION + 1])
def test_version_mismatch_refused(tmp_path: Path, other: int) -> None:
    path = tmp_path / "graph"
    ZooGraph.open(path, create=True).close()
    store = ox.Store(str(path))
    meta = ox.NamedNode(to_iri("graph", "meta"))
    node = ox.NamedNode(to_iri("graph", "store"))
    version = ox.NamedNode(str(KGT.formatVersion))
    store.remove(ox.Quad(node, version, ox.Literal(FORMAT_VERSION), meta))
    store.add(ox.Quad(node, version, ox.Literal(other), meta))
    store.flush()
    del store
    with pytest.raises(StoreVersionError, match=f"version {other}.*reads version {FORMAT_VERSION}"):
        ZooGraph.open(path)


def test_foreign_store_refused(tmp_path: Path) -> None:
    path = tmp_path / "foreign"
    store = ox.Store(str(path))
    store.add(ox.Quad(ox.NamedNode("http://x/a"), ox.NamedNode("http://x/p"), ox.Literal(1)))
    store.flush()
    del store
    with pytest.raises(StoreVersionError, match="no kgtransfer format version"):
        ZooGraph.open(path)


def test_to_networkx() -> None:
    graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="example")
    nxg = graph.to_networkx()
    assert nxg.nodes["model:google/vit-base"]["kind"] == "model"
    assert nxg.nodes["model:google/vit-base"]["flops"] == 17.5
    assert nxg.nodes["dataset:数据集 #1"]["n_classes"] == 3.0
    assert nxg.nodes["task:fill-mask"]["kind"] == "task"
    edges = nxg.get_edge_data("model:vit-ft-cifar", "dataset:数据集 #1")
    transfers = sorted(e["value"] for e in edges.values() if e["relation"] == "transfer")
    assert transfers == [0.8, 0.99]
    assert any(e["relation"] == "score" and e["value"] == 1.5 for e in edges.values())
    derived = nxg.get_edge_data("model:vit-ft-cifar", "model:google/vit-base")
    assert [e["base_model_relation"] for e in derived.values()] == ["finetune"]
    kinds = {d["kind"] for _, d in nxg.nodes(data=True)}
    assert kinds == {"model", "dataset", "task", "domain", "modality", "metric"}


def test_to_hetero_data_drops_held_out_records_both_ways() -> None:
    from kgtransfer.kg import ZooGraph
    from kgtransfer.transfer.recommend import build_hetero_data

    graph = ZooGraph.from_tables(
        models=pd.DataFrame({"model": ["a", "b"]}),
        datasets=pd.DataFrame({"dataset": ["x", "y", "z"], "n_classes": [2, 2, 2]}),
        records=pd.DataFrame({"model": ["a", "b", "a", "b", "a", "b"],
                              "dataset": ["x", "x", "y", "y", "z", "z"],
                              "value": [0.9, 0.8, 0.7, 0.6, 0.95, 0.55]}),
    )  # fmt: skip
    full, _ = build_hetero_data(graph, min_records=1)
    held, _ = build_hetero_data(graph, exclude_datasets=["z"], min_records=1)
    with pytest.warns(DeprecationWarning, match="build_hetero_data"):
        alias, _ = graph.to_hetero_data(exclude_datasets=["z"], min_records=1)
    assert alias.edge_types == held.edge_types
    for data in (full, held):
        assert {"model", "dataset"} <= set(data.node_types)
    n_full = {t: full[t].edge_index.shape[1] for t in full.edge_types if "dataset" in t}
    n_held = {t: held[t].edge_index.shape[1] for t in held.edge_types if "dataset" in t}
    dropped = {t: n_full[t] - n_held.get(t, 0) for t in n_full}
    record_types = [t for t in dropped if t[0] == "model" and t[2] == "dataset"]
    reverse_types = [t for t in dropped if t[0] == "dataset" and t[2] == "model"]
    assert record_types and reverse_types
    assert sum(dropped[t] for t in record_types) == 2
    assert sum(dropped[t] for t in reverse_types) == 2
