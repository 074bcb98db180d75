"""The kgtransfer RDF vocabulary and the standard namespaces it reuses.

:class:`KGT` mirrors ``kg/ontology/kgt.ttl`` (the source of truth); a test keeps
the two in agreement. ``_fail = True`` makes a typo such as ``KGT.Modle`` raise
instead of silently minting a new IRI.

Example:
    >>> str(KGT.TransferRecord)
    'https://w3id.org/kgtransfer#TransferRecord'
    >>> KGT.Modle
    Traceback (most recent call last):
    ...
    AttributeError: term 'Modle' not in namespace 'https://w3id.org/kgtransfer#'
"""

from __future__ import annotations

from pathlib import Path

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

__all__ = [
    "DCAT",
    "DCTERMS",
    "DQV",
    "KGT",
    "MLS",
    "ONTOLOGY_PATH",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "SKOS",
    "XSD",
]

#: Path of the ontology file shipped with the package.
ONTOLOGY_PATH = Path(__file__).with_name("ontology") / "kgt.ttl"

MLS = Namespace("http://www.w3.org/ns/mls#")
PROV = Namespace("http://www.w3.org/ns/prov#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
DQV = Namespace("http://www.w3.org/ns/dqv#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")


class KGT(DefinedNamespace):
    """kgtransfer vocabulary, mirrored from ``kgt.ttl``."""

    # classes
    TransferRecord: URIRef  # a kind of mls:Run and mls:ModelEvaluation
    DatasetSimilarity: URIRef  # two datasets, similarity and/or distance, method
    Modality: URIRef  # image, text, ... (a skos:Concept)
    BaseModelRelation: URIRef  # finetune | adapter | merge | quantized
    NumericAttribute: URIRef  # property minted for an extra numeric column
    IngestBatch: URIRef  # a prov:Activity; its triples live in its own named graph
    # base model relations
    finetune: URIRef
    adapter: URIRef
    merge: URIRef
    quantized: URIRef
    # object properties
    task: URIRef
    modality: URIRef
    trainedOn: URIRef
    relation: URIRef  # prov:Derivation -> kgt:BaseModelRelation
    sourceModel: URIRef
    targetDataset: URIRef
    datasetA: URIRef
    datasetB: URIRef
    # datatype properties
    architecture: URIRef
    modelType: URIRef
    libraryName: URIRef
    nParams: URIRef
    nLabels: URIRef
    nSamples: URIRef
    nClasses: URIRef
    method: URIRef
    seed: URIRef
    run: URIRef
    split: URIRef
    suspect: URIRef
    nTrain: URIRef  # regime: labelled training examples
    shots: URIRef  # regime: training examples per class (few-shot)
    epochs: URIRef  # regime: passes over the training examples
    steps: URIRef  # regime: optimiser steps
    frozen: URIRef  # regime: backbone frozen
    similarity: URIRef
    distance: URIRef
    higherIsBetter: URIRef
    minValue: URIRef
    maxValue: URIRef
    attributeOf: URIRef
    formatVersion: URIRef
    counts: URIRef
    report: URIRef
    overwritten: URIRef  # values a batch replaced (JSON)
    retracted: URIRef  # N-Quads a batch removed from older batches (JSON)
    hyperParameters: URIRef
    packageVersions: URIRef
    provenance: URIRef
    wallTime: URIRef

    _NS = Namespace("https://w3id.org/kgtransfer#")
    _fail = True


#: Prefixes used in exports and available to every query.
PREFIXES: dict[str, str] = {
    "kgt": str(KGT._NS),
    "mls": str(MLS),
    "prov": str(PROV),
    "dcat": str(DCAT),
    "dcterms": str(DCTERMS),
    "dqv": str(DQV),
    "skos": str(SKOS),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
}
