"""Named queries give hand-checked answers on every store we support, and query() is safe."""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator

import pandas as pd
import pytest
import rdflib

from kgtransfer.errors import QueryRefusedError, UnknownNameError
from kgtransfer.kg import ZooGraph, get_query, list_queries, query_rdflib
from kgtransfer.kg._example import example_tables

Runner = Callable[..., pd.DataFrame]
V = "google/vit-base"
D = "数据集 #1"


@pytest.fixture(scope="module", params=["memory", "disk", "rdflib"])
def run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runner]:
    if request.param == "disk":
        graph = ZooGraph.open(tmp_path_factory.mktemp("q") / "graph", create=True)
    else:
        graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="example")
    if request.param == "rdflib":  # export to a plain rdflib Graph, query with initBindings
        buffer = io.BytesIO()
        graph.export(buffer, format="ttl")
        merged = rdflib.Graph().parse(data=buffer.getvalue(), format="turtle")
        yield lambda name, **kw: query_rdflib(merged, name, **kw)
    else:
        yield graph.named_query
    graph.close()


def _rows(frame: pd.DataFrame, *cols: str) -> list[tuple[object, ...]]:
    return sorted(tuple(r) for r in frame[list(cols)].itertuples(index=False))


def test_every_named_query_is_tested() -> None:
    assert set(list_queries()) == {
        "best_sources",
        "candidates",
        "descendants",
        "lineage",
        "records",
        "records_for_dataset",
        "similar_datasets",
        "stats",
    }


def test_candidates(run: Runner) -> None:
    frame = run("candidates", dataset=D, modality="image")
    assert _rows(frame, "model", "evaluated") == [
        (V, True),
        ("vit-ft-cifar", True),
        ("vit-ft-ft", True),
    ]
    assert list(frame.columns) == [
        "model", "architecture", "model_task", "model_modality", "n_params",
        "model_license", "trained_on", "evaluated",
    ]  # fmt: skip
    assert len(run("candidates", dataset="sst2")) == 4  # no filter at all
    assert _rows(run("candidates", dataset="sst2", modality="text"), "model") == [("bert base",)]
    assert _rows(run("candidates", dataset=D, license="mit"), "model") == [
        ("vit-ft-cifar",),
        ("vit-ft-ft",),
    ]
    assert run("candidates", dataset=D, max_params=1e6).empty
    assert len(run("candidates", dataset=D, modality="text")) == 1
    assert (
        len(run("candidates", dataset="sst2", task="image-classification", modality="image")) == 3
    )
    assert len(run("candidates", dataset=D, limit=2)) == 2
    evaluated = run("candidates", dataset="cifar10", modality="image")
    assert dict(_rows(evaluated, "model", "evaluated")) == {
        V: False, "vit-ft-cifar": False, "vit-ft-ft": True,
    }  # fmt: skip


def test_candidates_method_defaults_modality_to_the_datasets() -> None:
    graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="example")
    assert sorted(graph.candidates(D)["model"]) == [V, "vit-ft-cifar", "vit-ft-ft"]
    assert graph.candidates("sst2")["model"].tolist() == ["bert base"]
    assert len(graph.candidates("unknown dataset")) == 4  # no modality known: no filter
    assert len(graph.candidates("sst2", modality="image")) == 3


def test_lineage_and_descendants(run: Runner) -> None:
    lineage = run("lineage", model="vit-ft-ft")
    assert _rows(lineage, "ancestor", "child", "relation") == [
        (V, "vit-ft-cifar", "finetune"),
        ("vit-ft-cifar", "vit-ft-ft", None),
    ]
    assert run("lineage", model=V).empty
    down = run("descendants", model=V)
    assert _rows(down, "descendant", "parent") == [
        ("vit-ft-cifar", V),
        ("vit-ft-ft", "vit-ft-cifar"),
    ]
    assert run("descendants", model="vit-ft-ft").empty


def test_similar_datasets(run: Runner) -> None:
    frame = run("similar_datasets", dataset="cifar10")
    assert frame["similar_dataset"].tolist() == [D, "sst2"]  # similarity first, then distance
    assert frame["similarity"][0] == 0.8 and frame["distance"][1] == 5.0
    assert run("similar_datasets", dataset=D)["similar_dataset"].tolist() == ["cifar10"]


def test_records(run: Runner) -> None:
    assert len(run("records")) == 6
    mine = run("records", model="vit-ft-cifar")
    assert sorted(mine["value"]) == [0.8, 0.99] and set(mine["run"]) == {"r1", "r2"}
    assert len(run("records", dataset=D)) == 4
    assert len(run("records", model="bert base", dataset="sst2", metric="loss")) == 1
    assert run("records", model="nobody").empty
    row = run("records", model="vit-ft-ft", dataset="cifar10").iloc[0]
    assert row["seed"] is None and row["suspect"] is None and row["method"] is None


def test_records_for_dataset_agrees_with_records(run: Runner) -> None:
    for params in (
        {"dataset": D},
        {"dataset": D, "model": "vit-ft-cifar"},
        {"dataset": "sst2", "metric": "loss"},
    ):
        one = run("records", limit=None, **params).sort_values("record").reset_index(drop=True)
        two = (
            run("records_for_dataset", limit=None, **params)
            .sort_values("record")
            .reset_index(drop=True)
        )
        assert len(one) > 0
        pd.testing.assert_frame_equal(one, two[one.columns])
    assert run("records_for_dataset", dataset=D, metric="loss").empty


def test_best_sources(run: Runner) -> None:
    frame = run("best_sources", dataset=D)
    # the 0.99 run is suspect and excluded by default
    assert frame[["model", "best"]].values.tolist() == [
        ["vit-ft-cifar", 0.8],
        ["vit-ft-ft", 0.75],
        [V, 0.7],
    ]
    with_suspect = run("best_sources", dataset=D, include_suspect=True)
    assert with_suspect["best"].tolist()[0] == 0.99
    assert with_suspect["n_records"].tolist()[0] == 2


def test_best_sources_respects_lower_is_better() -> None:
    graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="example")
    graph.add_tables(models=pd.DataFrame({"model": ["a", "b", "c"]}))
    for model, value in (("a", 0.5), ("b", 0.2), ("c", 0.9)):
        graph.add_record(model, "sst2", value, metric="loss", method="finetune", epochs=1.0)
    frame = graph.best_sources("sst2")
    assert frame["model"].tolist() == ["b", "bert base", "a", "c"]
    assert frame["higher_is_better"].tolist() == [False] * 4


def test_stats(run: Runner) -> None:
    stats = dict(_rows(run("stats"), "kind", "n"))
    # a Turtle export carries data, not the store's batch provenance
    assert stats.pop("batches", 0) in (0, 1)
    assert stats == {
        "models": 4, "datasets": 3, "tasks": 3, "modalities": 2, "metrics": 2, "estimators": 1,
        "records": 6, "similarities": 2, "scores": 2, "lineage": 2, "domains": 2,
    }  # fmt: skip


def test_named_query_errors() -> None:
    graph = ZooGraph()
    with pytest.raises(UnknownNameError, match="Did you mean 'lineage'"):
        graph.named_query("linage", model="x")
    with pytest.raises(TypeError, match="has no parameter 'modle'"):
        graph.named_query("lineage", modle="x")
    with pytest.raises(TypeError, match="needs parameter 'model'"):
        graph.named_query("lineage")
    with pytest.raises(ValueError, match="must be a float"):
        graph.candidates("d", max_params="big")  # type: ignore[arg-type]
    assert get_query("candidates").params["dataset"].required


def test_query_bindings_and_cells() -> None:
    graph = ZooGraph()
    graph.add_zoo_tables(example_tables(), source="example")
    frame = graph.query(
        "SELECT ?m ?n ?lic WHERE { ?m kgt:nParams ?n ; dcterms:license ?lic }",
        bindings={"lic": "mit"},
    )
    assert sorted(frame["m"]) == ["vit-ft-cifar", "vit-ft-ft"]
    assert all(isinstance(n, float) for n in frame["n"])
    frame = graph.query(
        "SELECT ?arch ?m WHERE { ?m kgt:architecture ?arch }", bindings={"m": graph.iri("model", V)}
    )
    assert frame["arch"].tolist() == ["vit"]
    # a bound variable the SELECT does not project still constrains (issue 12)
    hidden = graph.query(
        "SELECT ?arch WHERE { ?m kgt:architecture ?arch }", bindings={"m": graph.iri("model", V)}
    )
    assert hidden["arch"].tolist() == ["vit"]
    assert graph.query(
        "SELECT ?arch WHERE { ?m kgt:architecture ?arch }", bindings={"m": "x"}
    ).empty
    raw = graph.query("SELECT ?m WHERE { ?m kgt:architecture 'bert' }", iris=True)
    assert raw["m"].tolist() == ["https://w3id.org/kgtransfer/id/model/bert%20base"]
    assert graph.query("ASK { ?m kgt:architecture 'vit' }")["ask"].tolist() == [True]
    triples = graph.query("CONSTRUCT { ?m kgt:architecture ?a } WHERE { ?m kgt:architecture ?a }")
    assert len(triples) == 4
    assert graph.query("SELECT ?x WHERE { OPTIONAL { ?x kgt:nothing ?y } }")["x"].tolist() == [None]
    assert math.isclose(graph.query("SELECT (1.5 AS ?x) {}")["x"][0], 1.5)


def test_query_refuses_update_service_and_load() -> None:
    graph = ZooGraph()
    update = "PREFIX ex: <http://e/> # comment\nINSERT DATA { ex:a ex:b ex:c }"
    with pytest.raises(PermissionError, match="allow_update=True"):
        graph.query(update)
    n = len(graph)
    graph.query(update, allow_update=True)
    assert len(graph) == n + 1
    with pytest.raises(PermissionError, match="SERVICE"):
        graph.query("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    with pytest.raises(PermissionError, match="LOAD"):
        graph.query("LOAD <http://example.org/data.ttl>", allow_update=True)
    # the keyword inside a string is not an update
    assert graph.query("SELECT ('INSERT' AS ?x) {}")["x"].tolist() == ["INSERT"]
    with pytest.raises(QueryRefusedError, match="rdflib's parser"):
        graph.query("SELEC ?x {}")
