"""Bindings of variables a SELECT does not project (kg/_bindings.py, issue 12)."""

from __future__ import annotations

import pandas as pd
import pyoxigraph as ox

from kgtransfer.kg import ZooGraph
from kgtransfer.kg._bindings import inline_unprojected, projected_variables

M = ox.NamedNode("https://w3id.org/kgtransfer/id/model/b")


def test_projection_is_read_from_the_parse() -> None:
    assert projected_variables("SELECT ?a (COUNT(?x) AS ?n) WHERE { ?a ?p ?x }") == {"a", "n"}
    assert projected_variables("SELECT * WHERE { ?a ?p ?x }") is None
    assert projected_variables("ASK { ?a ?p ?x }") is None


def test_values_go_into_the_outer_where_group_past_iris_strings_and_comments() -> None:
    text = (
        "PREFIX ex: <http://x.org/a#b>\n# a { comment\n"
        'SELECT ?a ("{" AS ?s) FROM <http://w3id.org/kgtransfer#g> WHERE { ?m ?p ?a }'
    )
    out, rest = inline_unprojected(text, {"m": M, "a": ox.Literal("x")})
    assert rest == {"a": ox.Literal("x")}  # projected: stays a substitution
    assert out.endswith(f"WHERE {{ VALUES ?m {{ {M} }} ?m ?p ?a }}")
    assert inline_unprojected(text, {"a": ox.Literal("x")})[0] == text  # nothing to move


def test_an_unprojected_binding_constrains_aggregates_too() -> None:
    graph = ZooGraph()
    graph.add_tables(
        models=pd.DataFrame({"model": ["a", "b"], "architecture": ["vit", "bert"]}),
    )
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?m kgt:architecture ?arch }"
    assert graph.query(count)["n"].tolist() == [2]
    assert graph.query(count, bindings={"m": graph.iri("model", "b")})["n"].tolist() == [1]
    archs = graph.query(
        "SELECT ?arch WHERE { ?m kgt:architecture ?arch }", bindings={"m": graph.iri("model", "b")}
    )
    assert archs["arch"].tolist() == ["bert"]
