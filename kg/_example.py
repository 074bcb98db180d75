"""A tiny hand-made zoo used by tests, doctests and the benchmark's sanity checks.

Three image models (a base, its fine-tune and a fine-tune of that), one text model,
three datasets, records with one suspect run, a loss metric where lower is better,
one similarity, one estimator score and an extra numeric column (``flops``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from kgtransfer.kg.tables import COLUMNS, ZooTables

__all__ = ["example_tables", "typed"]


def typed(name: str, rows: Mapping[str, Sequence[object]]) -> pd.DataFrame:
    """A table with the canonical dtypes of ``name`` (missing columns all-NA, extras Float64)."""
    n = len(next(iter(rows.values())))
    data = {c: pd.Series(list(rows.get(c, [None] * n)), dtype=t) for c, t in COLUMNS[name].items()}
    extras = {
        c: pd.Series(list(v), dtype="Float64") for c, v in rows.items() if c not in COLUMNS[name]
    }
    return pd.DataFrame({**data, **extras})


def example_tables() -> ZooTables:
    """The example zoo.

    Example:
        >>> example_tables()
        ZooTables(models=4, lineage=2, datasets=3, records=6, similarities=2, scores=2, metrics=2)
    """
    models = typed(
        "models",
        {
            "model": ["google/vit-base", "vit-ft-cifar", "vit-ft-ft", "bert base"],
            "architecture": ["vit", "vit", "vit", "bert"],
            "trained_on": ["imagenet", "cifar10", None, "wiki"],
            "task": ["image-classification"] * 3 + ["fill-mask"],
            "modality": ["image", "image", "image", "text"],
            "n_params": [86e6, 86e6, 86e6, 110e6],
            "n_labels": [1000.0, 10.0, None, None],
            "license": ["apache-2.0", "mit", "mit", "apache-2.0"],
            "library_name": ["timm", "timm", None, "transformers"],
            "flops": [17.5, 17.5, None, 22.0],
        },
    )
    lineage = typed(
        "lineage",
        {
            "model": ["vit-ft-cifar", "vit-ft-ft"],
            "base_model": ["google/vit-base", "vit-ft-cifar"],
            "relation": ["finetune", None],
        },
    )
    datasets = typed(
        "datasets",
        {
            "dataset": ["cifar10", "数据集 #1", "sst2"],
            "task": ["image-classification", "image-classification", "text-classification"],
            "domain": ["natural", "natural", "reviews"],
            "modality": ["image", "image", "text"],
            "language": [None, "zh", "en"],
            "n_samples": [50000.0, 120.0, None],
            "n_classes": [10.0, 3.0, 2.0],
        },
    )
    records = typed(
        "records",
        {
            "model": [
                "google/vit-base",
                "vit-ft-cifar",
                "vit-ft-cifar",
                "vit-ft-ft",
                "bert base",
                "vit-ft-ft",
            ],
            "dataset": ["数据集 #1", "数据集 #1", "数据集 #1", "数据集 #1", "sst2", "cifar10"],
            "value": [0.70, 0.80, 0.99, 0.75, 0.40, 0.30],
            "metric": ["accuracy", "accuracy", "accuracy", "accuracy", "loss", "loss"],
            "method": ["finetune", "finetune", "finetune", "linear_probe", "finetune", None],
            "seed": [0, 0, 1, 0, 0, None],
            "run": [None, "r1", "r2", None, None, None],
            "suspect": [False, False, True, False, False, None],
            "epochs": [3.0, 3.0, 3.0, None, 1.0, None],
        },
    )
    similarities = typed(
        "similarities",
        {
            "dataset_a": ["cifar10", "sst2"],
            "dataset_b": ["数据集 #1", "cifar10"],
            "similarity": [0.8, None],
            "distance": [0.2, 5.0],
            "method": ["embedding", None],
        },
    )
    scores = typed(
        "scores",
        {
            "model": ["vit-ft-cifar", "google/vit-base"],
            "dataset": ["数据集 #1", "数据集 #1"],
            "estimator": ["logme", "logme"],
            "value": [1.5, -0.25],
        },
    )
    metrics = typed("metrics", {"metric": ["accuracy", "loss"], "higher_is_better": [True, False]})
    return ZooTables(models, lineage, datasets, records, similarities, scores, metrics)
