"""Integrity cases found by attacking the merged store: N-Quads restores, version
literals, regime counts, best_sources arguments."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from kgtransfer.errors import ArgumentError, IngestError, StoreVersionError, UnknownNameError
from kgtransfer.kg import ZooGraph

MODELS = pd.DataFrame({"model": ["A", "B", "C"], "architecture": ["vit", "vit", "cnn"]})


def _graph(n_classes: int, value: float) -> ZooGraph:
    g = ZooGraph()
    g.add_tables(
        models=MODELS, datasets=pd.DataFrame({"dataset": ["d1"], "n_classes": [n_classes]})
    )
    g.add_record("A", "d1", value, seed=1, n_train=100)
    return g


def test_nquads_restore_into_a_store_with_data_is_refused() -> None:
    g, h = _graph(10, 0.9), _graph(1000, 0.2)
    buf = io.BytesIO()
    h.export(buf, format="nq")
    dump = buf.getvalue()
    before = g.to_tables()
    with pytest.raises(IngestError, match="new store"):
        g.load_rdf(dump, format="nq")
    after = g.to_tables()
    assert after.records["value"].tolist() == before.records["value"].tolist() == [0.9]
    fresh = ZooGraph()
    assert fresh.load_rdf(dump, format="nq").batch is None  # an empty store takes the restore
    assert fresh.records()["value"].tolist() == [0.2]
    with pytest.raises(IngestError):  # and only once
        fresh.load_rdf(dump, format="nq")


@pytest.mark.parametrize("literal", ["abc", "2.0", ""])
def test_a_garbage_version_literal_in_nquads_is_a_version_error(literal: str) -> None:
    meta = "https://w3id.org/kgtransfer/id/graph/meta"
    node = "https://w3id.org/kgtransfer/id/graph/store"
    line = f'<{node}> <https://w3id.org/kgtransfer#formatVersion> "{literal}" <{meta}> .\n'
    with pytest.raises(StoreVersionError, match="format version"):
        ZooGraph().load_rdf(line.encode(), format="nq")


@pytest.mark.parametrize(
    ("column", "value"), [("shots", -3), ("steps", -7), ("epochs", -1.5), ("steps", 2.5)]
)
def test_regime_counts_are_checked(column: str, value: float) -> None:
    g = _graph(10, 0.9)
    with pytest.raises(IngestError, match=column):
        g.add_record("B", "d1", 0.5, seed=2, **{column: value})
    assert len(g.records()) == 1


def test_best_sources_checks_its_arguments() -> None:
    g = _graph(10, 0.9)
    for bad in (-1, 1.5, True):
        with pytest.raises(ArgumentError, match="limit"):
            g.best_sources("d1", limit=bad)
    with pytest.raises(UnknownNameError, match=r"Unknown dataset 'd_1'\. Did you mean 'd1'"):
        g.best_sources("d_1")
    assert g.best_sources("d1")["model"].tolist() == ["A"]


def test_a_near_miss_regime_column_is_warned_about() -> None:
    g = _graph(10, 0.9)
    records = pd.DataFrame(
        {"model": ["B"], "dataset": ["d1"], "value": [0.5], "Shots": [5], "epoch": [3]}
    )
    report = g.add_tables(records=records)
    warnings = " ".join(report.warnings)
    assert "'Shots' looks like the records column 'shots'" in warnings
    assert "'epoch' looks like the records column 'epochs'" in warnings


def test_removing_a_batch_others_depend_on_is_refused() -> None:
    g = ZooGraph()
    first = g.add_tables(
        models=pd.DataFrame({"model": ["m1"], "architecture": ["a1"]}),
        datasets=pd.DataFrame({"dataset": ["d1"]}),
    ).batch
    g.add_record("m1", "d1", 0.5, seed=1)
    with pytest.raises(ArgumentError, match="only it defines"):
        g.remove_batch(first)
    assert g.records()["model"].tolist() == ["m1"] and g.ids("model") == ["m1"]
    record_batch = g.records()["record"][0].split("/")[0]
    g.remove_batch(record_batch)  # the dependant first, then the definition
    g.remove_batch(first)
    assert g.ids("model") == [] and len(g.records()) == 0


def test_a_declared_metric_range_holds_in_later_batches() -> None:
    g = _graph(10, 0.9)
    records = pd.DataFrame({"model": ["B"], "dataset": ["d1"], "value": [7.0], "metric": ["mymet"]})
    g.add_records(records, metric_directions={"mymet": ("lower", 0, 10)})  # declared once
    for bad in (1000.0, -5.0):
        with pytest.raises(IngestError, match="mymet"):
            g.add_record("C", "d1", bad, metric="mymet", seed=3)
    g.add_record("C", "d1", 3.0, metric="mymet", seed=3)  # inside the declared range
    assert sorted(g.records(dataset="d1")["value"].tolist()) == [0.9, 3.0, 7.0]
