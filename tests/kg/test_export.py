"""Export / import: Turtle, N-Triples, JSON-LD, N-Quads and rdflib, all round-tripping."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import rdflib

from kgtransfer.errors import StoreVersionError
from kgtransfer.kg import ZooGraph
from kgtransfer.kg._example import example_tables
from kgtransfer.kg.store import FORMAT_VERSION


def _graph() -> ZooGraph:
    graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="example")
    graph.add_record("vit-ft-ft", "sst2", 0.5, provenance={"split": "test"})
    return graph


def _same_tables(a: ZooGraph, b: ZooGraph) -> None:
    for (name, left), (_, right) in zip(a.to_tables(), b.to_tables(), strict=True):
        assert (
            left.sort_values(list(left.columns[:3]))
            .reset_index(drop=True)
            .equals(right.sort_values(list(right.columns[:3])).reset_index(drop=True))
        ), name


@pytest.mark.parametrize("fmt", ["ttl", "nt", "jsonld"])
def test_triple_formats_round_trip(tmp_path: Path, fmt: str) -> None:
    graph = _graph()
    target = tmp_path / f"zoo.{fmt}"
    graph.export(target)  # format from the extension
    assert target.stat().st_size > 1000
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temp file left
    # the import goes through the validator: the example's unknown suspect cell becomes
    # False and add_record's 0.5 on a 2-class dataset is flagged as chance level
    checked = ZooGraph()
    report = checked.load_rdf(target)
    assert report.n_flagged == 1 and not report.rejections
    checked.export(target)
    copy = ZooGraph()
    report = copy.load_rdf(target)
    assert report.batch is not None and copy.batches()["batch"].tolist() == [report.batch]
    assert not report.rejections and not report.overwritten
    _same_tables(checked, copy)
    assert "formatVersion" not in target.read_text(encoding="utf-8")


def test_nquads_restores_batches(tmp_path: Path) -> None:
    graph = _graph()
    target = tmp_path / "zoo.nq"
    graph.export(target, format="nq")
    copy = ZooGraph()
    assert copy.load_rdf(target).batch is None
    assert copy.batches()["batch"].tolist() == graph.batches()["batch"].tolist()
    _same_tables(graph, copy)
    for batch in reversed(copy.batches()["batch"].tolist()):  # dependants first
        copy.remove_batch(batch)
    assert copy.stats()["models"] == 0


def test_nquads_of_another_version_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    _graph().export(buffer, format="nq")
    text = buffer.getvalue().replace(
        f'"{FORMAT_VERSION}"^^'.encode(), f'"{FORMAT_VERSION + 5}"^^'.encode()
    )
    with pytest.raises(StoreVersionError, match=f"version {FORMAT_VERSION + 5}"):
        ZooGraph().load_rdf(text, format="nq")


def test_stream_export_and_bad_format(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    _graph().export(buffer, format="ttl")
    assert b"@prefix kgt:" in buffer.getvalue()
    with pytest.raises(ValueError, match="Unknown RDF format 'xml'"):
        _graph().export(tmp_path / "x.xml")


@pytest.mark.filterwarnings("ignore:Dataset.default_context is deprecated")  # inside rdflib
def test_rdflib_round_trip() -> None:
    graph = _graph()
    dataset = graph.to_rdflib()
    assert isinstance(dataset, rdflib.Dataset)
    assert len(list(dataset.graphs())) >= 3  # default + meta + two batches
    copy = ZooGraph.from_rdflib(dataset)
    assert copy.batches()["batch"].tolist() == graph.batches()["batch"].tolist()
    _same_tables(graph, copy)
    merged = rdflib.Graph()
    for triple in dataset.triples((None, None, None)):
        merged.add(triple)
    flat = ZooGraph.from_rdflib(merged)  # triples: through the validator, like load_rdf
    checked = ZooGraph()
    buffer = io.BytesIO()
    graph.export(buffer, format="nt")
    checked.load_rdf(buffer.getvalue(), format="nt")
    _same_tables(checked, flat)
