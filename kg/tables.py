"""The normalised tables every part of kgtransfer exchanges.

Ingestion turns CSV files, DataFrames, model cards and public benchmark folders
into a :class:`ZooTables`; :class:`~kgtransfer.kg.ZooGraph` stores one as RDF and
gives one back with ``to_tables()``; the recommender learns from one. Column
names and dtypes are fixed here so those three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pandas as pd

__all__ = ["COLUMNS", "ZooTables", "empty_table"]

#: Canonical columns of each table and their pandas dtypes. Tables may carry
#: extra numeric columns (kept as numeric attributes, later node/edge features).
COLUMNS: dict[str, dict[str, str]] = {
    "models": {
        "model": "string",
        "architecture": "string",
        "model_type": "string",
        "trained_on": "string",
        "task": "string",
        "modality": "string",
        "n_params": "Float64",
        "n_labels": "Float64",
        "license": "string",
        "library_name": "string",
    },
    # One row per (model, base model) edge: a card's ``base_model`` may be a list.
    "lineage": {
        "model": "string",
        "base_model": "string",
        "relation": "string",  # finetune | adapter | merge | quantized | None
    },
    "datasets": {
        "dataset": "string",
        "task": "string",
        "domain": "string",
        "modality": "string",
        "language": "string",
        "n_samples": "Float64",
        "n_classes": "Float64",
    },
    "records": {
        "model": "string",
        "dataset": "string",
        "value": "Float64",
        "metric": "string",  # default "accuracy"
        "method": "string",  # finetune, linear_probe, lora, distill_logit, ...; None = unknown
        "seed": "Int64",
        "run": "string",
        "suspect": "boolean",  # probable failed run (e.g. chance level): kept, not learned from
        # the training regime (see kgtransfer.kg.regime); None = unknown
        "n_train": "Int64",  # labelled training examples
        "shots": "Int64",  # training examples per class of a few-shot draw
        "split": "string",  # how the training examples were drawn (and seeded)
        "epochs": "Float64",  # training budget: passes over the training examples
        "steps": "Int64",  # training budget: optimiser steps
        "frozen": "boolean",  # backbone frozen (probe) rather than trained
    },
    "similarities": {
        "dataset_a": "string",
        "dataset_b": "string",
        "similarity": "Float64",  # higher = closer
        "distance": "Float64",  # lower = closer
        "method": "string",
    },
    "scores": {
        "model": "string",
        "dataset": "string",
        "estimator": "string",  # logme, hscore, leep, ...
        "value": "Float64",
    },
    # Direction of each metric used by records: ranking respects it.
    "metrics": {
        "metric": "string",
        "higher_is_better": "boolean",
        "min": "Float64",  # valid range of the metric's values (unknown: unbounded)
        "max": "Float64",
    },
}


def empty_table(name: str) -> pd.DataFrame:
    """An empty DataFrame with the canonical columns and dtypes of table ``name``."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in COLUMNS[name].items()})


@dataclass
class ZooTables:
    """A model zoo as seven tidy tables (see :data:`COLUMNS`).

    Every table has at least its canonical columns; ``None``/``<NA>`` means unknown.
    """

    models: pd.DataFrame = field(default_factory=lambda: empty_table("models"))
    lineage: pd.DataFrame = field(default_factory=lambda: empty_table("lineage"))
    datasets: pd.DataFrame = field(default_factory=lambda: empty_table("datasets"))
    records: pd.DataFrame = field(default_factory=lambda: empty_table("records"))
    similarities: pd.DataFrame = field(default_factory=lambda: empty_table("similarities"))
    scores: pd.DataFrame = field(default_factory=lambda: empty_table("scores"))
    metrics: pd.DataFrame = field(default_factory=lambda: empty_table("metrics"))

    def __iter__(self):  # type: ignore[no-untyped-def]
        """Yield ``(name, table)`` pairs."""
        for f in fields(self):
            yield f.name, getattr(self, f.name)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(t)}" for name, t in self)
        return f"ZooTables({sizes})"
