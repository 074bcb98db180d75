"""The columns and pandas dtypes of the seven zoo tables, the contract every room exchanges.

Part of the leaf core (plain data, no imports): ``kgtransfer.data`` builds similarity and
dataset tables to this schema, ``kgtransfer.kg`` stores and returns them
(:class:`~kgtransfer.kg.tables.ZooTables`, which re-exports :data:`COLUMNS`), and the
recommenders read them.
"""

from __future__ import annotations

__all__ = ["COLUMNS"]

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
