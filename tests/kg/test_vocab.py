"""kgt.ttl and vocab.KGT agree, and a typo raises."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef

from kgtransfer.kg.vocab import KGT, ONTOLOGY_PATH

NS = "https://w3id.org/kgtransfer#"


def _ttl_terms() -> set[str]:
    g = Graph().parse(ONTOLOGY_PATH, format="turtle")
    terms = {str(s) for s in g.subjects() if isinstance(s, URIRef)}
    terms |= {str(o) for o in g.objects() if isinstance(o, URIRef)}
    return {t[len(NS) :] for t in terms if t.startswith(NS) and t != NS}


def test_ttl_and_vocab_agree() -> None:
    in_py = set(KGT.__annotations__)
    in_ttl = _ttl_terms()
    assert in_ttl - in_py == set(), "terms in kgt.ttl missing from vocab.KGT"
    assert in_py - in_ttl == set(), "terms in vocab.KGT missing from kgt.ttl"
    assert len(in_py) > 30


def test_every_term_is_declared_with_a_label() -> None:
    g = Graph().parse(ONTOLOGY_PATH, format="turtle")
    label = URIRef("http://www.w3.org/2000/01/rdf-schema#label")
    for name in KGT.__annotations__:
        assert g.value(URIRef(NS + name), label) is not None, name


def test_typo_raises() -> None:
    assert str(KGT.Modality) == NS + "Modality"
    with pytest.raises(AttributeError, match="Modle"):
        _ = KGT.Modle
