"""ZooGraph's user API wired to kgtransfer.kg.ingest: tables, model cards, TransferGraph."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from kgtransfer.errors import IngestError
from kgtransfer.kg import ZooGraph
from kgtransfer.kg.ingest import IngestReport, read_transfergraph


def test_from_tables_and_add_tables(tmp_path: Path) -> None:
    models = pd.DataFrame(
        {"model": ["base", "ft"], "architecture": ["vit", "vit"], "base_model": [None, "base"]}
    )
    records = tmp_path / "records.csv"
    records.write_text("model,dataset,value\nft,cifar10,0.9\n", encoding="utf-8")
    datasets = pd.DataFrame({"dataset": ["cifar10"], "n_classes": [10]})
    graph = ZooGraph.from_tables(
        models=models, datasets=datasets, records=records, path=tmp_path / "g"
    )
    try:
        with pytest.warns(DeprecationWarning, match="last_report is deprecated"):
            assert isinstance(graph.last_report, IngestReport)  # kept for one release
        assert graph.lineage("ft")["ancestor"].tolist() == ["base"]
        assert str(records) in graph.batches()["source"][0]
        # later tables may refer to what the graph already knows
        more = pd.DataFrame({"model": ["base"], "dataset": ["cifar10"], "value": [0.7]})
        graph.add_tables(records=more)
        assert graph.best_sources("cifar10")["model"].tolist() == ["ft", "base"]
        with pytest.raises(IngestError, match="unknown model 'nobody'"):
            graph.add_tables(
                records=pd.DataFrame({"model": ["nobody"], "dataset": ["cifar10"], "value": [0.1]})
            )
        assert len(graph.records(limit=None)) == 2
    finally:
        graph.close()


def test_add_model_cards(tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    card.write_text(
        "---\nmodel_name: org/tiny\nbase_model: org/base\nbase_model_relation: adapter\n"
        "license: mit\n---\n# Tiny\n",
        encoding="utf-8",
    )
    graph = ZooGraph()
    report = graph.add_model_cards(card)
    lineage = graph.lineage("org/tiny")
    assert lineage[["ancestor", "relation"]].values.tolist() == [["org/base", "adapter"]]
    assert isinstance(report, IngestReport) and report.counts
    assert graph.batches()["batch"].tolist() == [report.batch]


def test_every_ingestion_returns_its_report_with_its_batch(tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    card.write_text("---\nmodel_name: org/tiny\nlicense: mit\n---\n", encoding="utf-8")
    graph = ZooGraph()
    reports = [
        graph.add_tables(
            models=pd.DataFrame({"model": ["a"]}), datasets=pd.DataFrame({"dataset": ["d"]})
        ),
        graph.add_records(pd.DataFrame({"model": ["a"], "dataset": ["d"], "value": [0.2]})),
        graph.add_model_cards(card),
    ]
    assert all(isinstance(r, IngestReport) for r in reports)
    assert graph.batches()["batch"].tolist() == [r.batch for r in reports]
    assert [graph.batch(str(r.batch))["report"]["batch"] for r in reports] == [
        r.batch for r in reports
    ]  # each batch stores its report, id included
    assert reports[1].counts and not reports[1].rejections
    triples, quads = io.BytesIO(), io.BytesIO()
    graph.export(triples, format="ttl")
    graph.export(quads, format="nq")
    copy = ZooGraph()
    loaded = copy.load_rdf(triples.getvalue(), format="ttl")
    assert isinstance(loaded, IngestReport) and copy.batches()["batch"].tolist() == [loaded.batch]
    restored = ZooGraph().load_rdf(quads.getvalue(), format="nq")
    assert isinstance(restored, IngestReport) and restored.batch is None  # graphs kept as they were
    with pytest.warns(DeprecationWarning, match="last_report is deprecated"):
        assert graph.last_report is reports[-1]  # the old side channel, for one release


@pytest.mark.shared
def test_add_transfergraph_round_trips(shared_benchmarks: Path) -> None:
    folder = shared_benchmarks / "transfergraph"
    expected, _ = read_transfergraph(folder, zoo="image", errors="collect")
    graph = ZooGraph()
    graph.add_transfergraph(folder, zoo="image", errors="collect")
    stats = graph.stats()
    assert stats["models"] == len(expected.models) > 0
    assert stats["records"] == len(expected.records) > 0
    back = graph.to_tables()
    for name in ("models", "records", "datasets"):
        left, right = getattr(expected, name), getattr(back, name)
        assert sorted(left.columns) == sorted(right.columns), name
        key = list(left.columns[:2])
        pd.testing.assert_frame_equal(
            left.sort_values(key).reset_index(drop=True)[sorted(left.columns)],
            right.sort_values(key).reset_index(drop=True)[sorted(left.columns)],
            obj=name,
        )
