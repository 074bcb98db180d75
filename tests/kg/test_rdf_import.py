"""RDF import goes through the one validator and writer (load_rdf, from_rdflib)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from kgtransfer.errors import IngestError
from kgtransfer.kg import ZooGraph
from kgtransfer.kg.iri import to_iri
from kgtransfer.kg.vocab import DCTERMS, KGT, MLS, PROV, RDF

XSD = "http://www.w3.org/2001/XMLSchema#"


def _iri(kind: str, *ids: str) -> str:
    return f"<{to_iri(kind, *ids)}>"


def _model(id_: str, **fields: str) -> str:
    s = _iri("model", id_)
    lines = [f"{s} <{RDF.type}> <{MLS.Model}> .", f'{s} <{DCTERMS.identifier}> "{id_}" .']
    lines += [f"{s} <{KGT[k]}> {v} ." for k, v in fields.items()]
    return "\n".join(lines) + "\n"


def _dataset(id_: str) -> str:
    s = _iri("dataset", id_)
    return f'{s} <{RDF.type}> <{MLS.Dataset}> .\n{s} <{DCTERMS.identifier}> "{id_}" .\n'


def _record(row: int, model: str, dataset: str, value: str, metric: str = "accuracy") -> str:
    s = _iri("record", "b1", str(row))
    return (
        f"{s} <{RDF.type}> <{KGT.TransferRecord}> .\n"
        f"{s} <{KGT.sourceModel}> {_iri('model', model)} .\n"
        f"{s} <{KGT.targetDataset}> {_iri('dataset', dataset)} .\n"
        f"{s} <{MLS.hasValue}> {value} .\n"
        f"{s} <{MLS.specifiedBy}> {_iri('metric', metric)} .\n"
    )


def _lineage(model: str, base: str) -> str:
    edge = _iri("lineage", model, base)
    m = _iri("model", model)
    return (
        f"{m} <{PROV.wasDerivedFrom}> {_iri('model', base)} .\n"
        f"{m} <{PROV.qualifiedDerivation}> {edge} .\n"
        f"{edge} <{RDF.type}> <{PROV.Derivation}> .\n"
        f"{edge} <{PROV.entity}> {_iri('model', base)} .\n"
    )


GOOD = (
    _model("a", architecture='"vit"')
    + _model("b")
    + _dataset("d")
    + _record(0, "a", "d", f'"0.7"^^<{XSD}double>')
    + _record(1, "b", "d", f'"0.8"^^<{XSD}double>')
)
BAD = {
    "nan": (_record(2, "a", "d", f'"NaN"^^<{XSD}double>'), "value"),
    "negative_n_params": (_model("c", nParams=f'"-5.0"^^<{XSD}double>'), "n_params"),
    "cycle": (_lineage("a", "b") + _lineage("b", "a"), "base_model"),
    "unknown_metric": (_record(3, "a", "d", f'"0.5"^^<{XSD}double>', "made_up"), "metric"),
}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "zoo.ttl"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_values_in_turtle_are_rejected_or_reported(tmp_path: Path, case: str) -> None:
    bad, column = BAD[case]
    path = _write(tmp_path, GOOD + bad)
    graph = ZooGraph()
    with pytest.raises(IngestError):
        graph.load_rdf(path)
    assert len(graph) == 0 or graph.batches().empty  # nothing written
    report = graph.load_rdf(path, errors="collect")
    batch = report.batch
    # the statement itself (a NaN also as a value the reader could not take; a record
    # about a model whose row was rejected follows it)
    assert report.rejections[0].column == column, report
    assert {r.column for r in report.rejections} <= {column, "model"}
    assert batch in graph.batches()["batch"].tolist()
    tables = graph.to_tables()
    assert "a" in set(tables.models["model"]) and len(tables.records) >= 1  # the rest is kept
    records = tables.records
    assert records["value"].notna().all() and records["value"].between(0, 1).all()
    assert set(records["metric"]) == {"accuracy"}
    assert (tables.models["n_params"].dropna() >= 0).all()
    assert not {("a", "b"), ("b", "a")} <= set(
        zip(tables.lineage["model"], tables.lineage["base_model"], strict=True)
    )


def test_a_cycle_closed_through_the_graphs_lineage_is_refused(tmp_path: Path) -> None:
    graph = ZooGraph()
    graph.add_tables(pd.DataFrame({"model": ["a", "b"], "base_model": ["b", None]}))
    with pytest.raises(IngestError, match="cycle"):
        graph.load_rdf(_write(tmp_path, _model("b") + _lineage("b", "a")))


def _validated_graph() -> ZooGraph:
    graph = ZooGraph()
    graph.add_tables(
        pd.DataFrame(
            {
                "model": ["m1", "m2", "m3"],
                "architecture": ["vit", "resnet", None],
                "n_params": [86e6, 25e6, None],
                "base_model": [None, None, "m1"],
                "base_model_relation": [None, None, "finetune"],
            }
        ),
        pd.DataFrame({"dataset": ["d1", "数据集 #2"], "n_classes": [10, 100]}),
        pd.DataFrame(
            {
                "model": ["m1", "m2", "m3"],
                "dataset": ["d1", "d1", "数据集 #2"],
                "value": [0.7, 0.8, 0.4],
                "seed": [0, 0, 1],
                "n_train": [100, 100, None],
            }
        ),
    )
    return graph


@pytest.mark.parametrize("fmt", ["ttl", "nt", "jsonld"])
def test_a_valid_export_round_trips(fmt: str) -> None:
    graph = _validated_graph()
    buffer = io.BytesIO()
    graph.export(buffer, format=fmt)
    copy = ZooGraph()
    report = copy.load_rdf(buffer.getvalue(), format=fmt)
    assert not report.rejections and not report.overwritten and not report.warnings
    for (name, left), (_, right) in zip(graph.to_tables(), copy.to_tables(), strict=True):
        pd.testing.assert_frame_equal(left, right, obj=name)


def test_importing_a_changed_field_merges_and_lists_the_overwrite() -> None:
    graph = _validated_graph()
    buffer = io.BytesIO()
    graph.export(buffer, format="nt")
    text = buffer.getvalue().decode()
    old = f'<{KGT.architecture}> "resnet"'
    assert old in text
    changed = text.replace(old, f'<{KGT.architecture}> "resnet-d"')
    fresh = ZooGraph()
    fresh.add_tables(pd.DataFrame({"model": ["m2"], "architecture": ["resnet"], "n_params": [1]}))
    report = fresh.load_rdf(changed.encode(), format="nt")
    over = {(o.id, o.field, o.old, o.new) for o in report.overwritten}
    assert ("m2", "architecture", "resnet", "resnet-d") in over
    assert ("m2", "n_params", 1.0, 25e6) in over
    models = fresh.to_tables().models.set_index("model")
    assert models.loc["m2", "architecture"] == "resnet-d"
    assert len(models) == 3  # merged, one row per model
    # replace: the import's rows replace what was known (no merge of old fields)
    other = ZooGraph()
    other.add_tables(pd.DataFrame({"model": ["m3"], "architecture": ["old"]}))
    other.load_rdf(changed.encode(), format="nt", mode="replace")
    assert pd.isna(other.to_tables().models.set_index("model").loc["m3", "architecture"])


def test_foreign_statements_are_kept_and_a_second_value_is_refused(tmp_path: Path) -> None:
    foreign = (
        '<http://e.example/x> <http://e.example/p> "y" .\n'
        f'{_iri("model", "a")} <http://e.example/label> "A" .\n'
    )
    graph = ZooGraph()
    report = graph.load_rdf(_write(tmp_path, GOOD + foreign))
    assert any("outside the kgtransfer vocabulary" in n for n in report.notes)
    found = graph.query("SELECT ?o WHERE { ?s <http://e.example/label> ?o }")
    assert found["o"].tolist() == ["A"]
    assert len(graph.query("SELECT ?o WHERE { ?s <http://e.example/p> ?o }")) == 1
    second = _write(tmp_path, GOOD + f'{_iri("model", "a")} <{KGT.architecture}> "cnn" .\n')
    with pytest.raises(IngestError, match="second value"):
        ZooGraph().load_rdf(second)
    other = ZooGraph()
    report = other.load_rdf(second, errors="collect")
    assert [r.column for r in report.rejections] == ["architecture"]


def test_record_provenance_follows_the_record() -> None:
    graph = _validated_graph()
    graph.add_record("m2", "数据集 #2", 0.55, seed=3, provenance={"lr": 0.1})
    buffer = io.BytesIO()
    graph.export(buffer, format="ttl")
    copy = ZooGraph()
    batch = copy.load_rdf(buffer.getvalue(), format="ttl").batch
    links = copy.query(
        f"SELECT ?r WHERE {{ ?r <{PROV.wasGeneratedBy}> ?run . ?r <{KGT.seed}> ?seed }}"
    )
    assert len(links) == 1 and links["r"].iloc[0].startswith(f"{batch}/")  # renamed


def test_nquads_with_a_bad_value_are_refused_whole() -> None:
    graph = _validated_graph()
    buffer = io.BytesIO()
    graph.export(buffer, format="nq")
    text = buffer.getvalue().decode()
    bad = text.replace(f'"0.8"^^<{XSD}double>', f'"NaN"^^<{XSD}double>')
    assert bad != text
    target = ZooGraph()
    with pytest.raises(IngestError, match="nothing was loaded"):
        target.load_rdf(bad.encode(), format="nq")
    assert len(target) == len(ZooGraph())  # only the store's own metadata
    target.load_rdf(buffer.getvalue(), format="nq")  # the good export restores
    assert target.batches()["batch"].tolist() == graph.batches()["batch"].tolist()


def test_a_quoted_triple_as_a_field_value_is_reported(tmp_path: Path) -> None:
    import pyoxigraph as ox

    quoted = "<<( <http://e.example/x> <http://e.example/p> <http://e.example/o> )>>"
    path = tmp_path / "zoo.nt"
    path.write_text(
        _model("a") + f"{_iri('model', 'a')} <{KGT.architecture}> {quoted} .\n", encoding="utf-8"
    )
    report = ZooGraph().load_rdf(path, errors="collect")  # was an AttributeError (no .value)
    assert [r.column for r in report.rejections] == ["architecture"]
    assert isinstance(report.rejections[0].value, ox.Triple)
