"""Stable IRIs: exact round trips and clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rdflib import URIRef

from kgtransfer.kg.iri import ID_BASE, decode_id, encode_id, from_iri, id_of, to_iri

IDS = [
    "google/vit-base-patch16-224",
    "resnet50.a1_in1k",
    "['corgi', 'samoyed']",
    "数据集",
    "with space",
    "a#b",
    "100%",
    "%41",
    ".",
    "..",
    "a/../b",
    "line\nbreak",
]


@pytest.mark.parametrize("id_", IDS)
def test_round_trip_examples(id_: str) -> None:
    iri = to_iri("model", id_)
    assert from_iri(iri) == ("model", id_)
    assert id_of(iri, "model") == id_
    rest = iri[len(ID_BASE) + len("model/") :]
    assert "/" not in rest and rest not in (".", "..")


def test_hand_encoded() -> None:
    assert encode_id("a b%") == "a%20b%25"
    assert encode_id("数") == "%E6%95%B0"
    assert to_iri("model", "google/vit") == ID_BASE + "model/google%2Fvit"


def test_compound_round_trip() -> None:
    iri = to_iri("lineage", "a/b", "c d")
    assert from_iri(iri) == ("lineage", "a/b", "c d")


@given(st.text(min_size=1))
def test_round_trip_property(id_: str) -> None:
    iri = to_iri("dataset", id_)
    assert from_iri(iri) == ("dataset", id_)
    assert str(URIRef(iri)) == iri  # a valid IRI for rdflib as well


@given(st.lists(st.text(min_size=1), min_size=1, max_size=3))
def test_compound_property(ids: list[str]) -> None:
    assert from_iri(to_iri("record", *ids)) == ("record", *ids)


def test_errors() -> None:
    with pytest.raises(ValueError, match="non-empty str, got ''"):
        to_iri("model", "")
    with pytest.raises(TypeError, match="got int 3"):
        to_iri("model", 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Unknown IRI kind 'modle'"):
        to_iri("modle", "x")
    with pytest.raises(ValueError, match="not a kgtransfer IRI"):
        from_iri("http://example.org/x")
    with pytest.raises(ValueError, match="not an encoded kgtransfer id"):
        decode_id("a b")
    with pytest.raises(ValueError, match="not the IRI of a dataset"):
        id_of(to_iri("model", "m"), "dataset")
