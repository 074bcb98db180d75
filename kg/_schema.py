"""How each :class:`~kgtransfer.kg.tables.ZooTables` table maps to RDF.

One :class:`TableSpec` per table: the subject of each row, its rdf:types and the
predicate and term kind of each canonical column. The writer and the reader are
both driven by these specs, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from kgtransfer.kg.vocab import DCAT, DCTERMS, DQV, KGT, MLS, PROV, SKOS

__all__ = ["CONCEPT_TYPES", "RELATIONS", "SPECS", "ColumnSpec", "TableSpec"]


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column: its predicate and how its cells become RDF terms.

    ``term`` is ``"string"``, ``"double"``, ``"integer"``, ``"boolean"``,
    ``"relation"`` (a kgt:BaseModelRelation individual) or ``"iri:<kind>"``.
    """

    column: str
    predicate: str
    term: str


@dataclass(frozen=True)
class TableSpec:
    """The RDF shape of one table.

    ``key`` is the entity column whose IRI is the row's subject (entity tables);
    ``None`` means each row is its own node (records, similarities, scores),
    named by batch id and row number. Lineage rows are named by (model, base_model).
    """

    name: str
    kind: str
    types: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    key: str | None = None


def _c(column: str, predicate: object, term: str) -> ColumnSpec:
    return ColumnSpec(column, str(predicate), term)


SPECS: dict[str, TableSpec] = {
    "models": TableSpec(
        "models",
        "model",
        (str(MLS.Model),),
        (
            _c("architecture", KGT.architecture, "string"),
            _c("model_type", KGT.modelType, "string"),
            _c("trained_on", KGT.trainedOn, "iri:dataset"),
            _c("task", KGT.task, "iri:task"),
            _c("modality", KGT.modality, "iri:modality"),
            _c("n_params", KGT.nParams, "double"),
            _c("n_labels", KGT.nLabels, "double"),
            _c("license", DCTERMS.license, "string"),
            _c("library_name", KGT.libraryName, "string"),
        ),
        key="model",
    ),
    "lineage": TableSpec(
        "lineage",
        "lineage",
        (str(PROV.Derivation),),
        (
            _c("base_model", PROV.entity, "iri:model"),
            _c("relation", KGT.relation, "relation"),
        ),
    ),
    "datasets": TableSpec(
        "datasets",
        "dataset",
        (str(MLS.Dataset), str(DCAT.Dataset)),
        (
            _c("task", KGT.task, "iri:task"),
            _c("domain", DCAT.theme, "iri:domain"),
            _c("modality", KGT.modality, "iri:modality"),
            _c("language", DCTERMS.language, "string"),
            _c("n_samples", KGT.nSamples, "double"),
            _c("n_classes", KGT.nClasses, "double"),
        ),
        key="dataset",
    ),
    "records": TableSpec(
        "records",
        "record",
        (str(KGT.TransferRecord),),
        (
            _c("model", KGT.sourceModel, "iri:model"),
            _c("dataset", KGT.targetDataset, "iri:dataset"),
            _c("value", MLS.hasValue, "double"),
            _c("metric", MLS.specifiedBy, "iri:metric"),
            _c("method", KGT.method, "string"),
            _c("seed", KGT.seed, "integer"),
            _c("run", KGT.run, "string"),
            _c("suspect", KGT.suspect, "boolean"),
            _c("n_train", KGT.nTrain, "integer"),
            _c("shots", KGT.shots, "integer"),
            _c("split", KGT.split, "string"),
            _c("epochs", KGT.epochs, "double"),
            _c("steps", KGT.steps, "integer"),
            _c("frozen", KGT.frozen, "boolean"),
        ),
    ),
    "similarities": TableSpec(
        "similarities",
        "similarity",
        (str(KGT.DatasetSimilarity),),
        (
            _c("dataset_a", KGT.datasetA, "iri:dataset"),
            _c("dataset_b", KGT.datasetB, "iri:dataset"),
            _c("similarity", KGT.similarity, "double"),
            _c("distance", KGT.distance, "double"),
            _c("method", KGT.method, "string"),
        ),
    ),
    "scores": TableSpec(
        "scores",
        "score",
        (str(DQV.QualityMeasurement),),
        (
            _c("model", KGT.sourceModel, "iri:model"),
            _c("dataset", DQV.computedOn, "iri:dataset"),
            _c("estimator", DQV.isMeasurementOf, "iri:estimator"),
            _c("value", DQV.value, "double"),
        ),
    ),
    "metrics": TableSpec(
        "metrics",
        "metric",
        (str(MLS.EvaluationMeasure),),
        (
            _c("higher_is_better", KGT.higherIsBetter, "boolean"),
            _c("min", KGT.minValue, "double"),
            _c("max", KGT.maxValue, "double"),
        ),
        key="metric",
    ),
}

#: rdf:types given to every task, domain, modality and estimator a batch mentions.
CONCEPT_TYPES: dict[str, tuple[str, ...]] = {
    "task": (str(MLS.Task), str(SKOS.Concept)),
    "domain": (str(SKOS.Concept),),
    "modality": (str(KGT.Modality), str(SKOS.Concept)),
    "estimator": (str(DQV.Metric),),
}

#: Allowed ``lineage.relation`` values and their individuals.
RELATIONS: dict[str, str] = {
    "finetune": str(KGT.finetune),
    "adapter": str(KGT.adapter),
    "merge": str(KGT.merge),
    "quantized": str(KGT.quantized),
}
