"""A tiny zoo with planted structure: models of group A transfer well to datasets
similar to the target, group B to the others, and B is slightly more popular."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kgtransfer.kg.tables import ZooTables

CLUSTER_A = ["a1", "a2", "a3"]  # similar to the target
CLUSTER_B = ["b1", "b2", "b3", "b4"]
GROUP_A = [f"ma{i}" for i in range(5)]
GROUP_B = [f"mb{i}" for i in range(5)]


def make_zoo(target_values: dict[str, float] | None = None, seed: int = 0) -> ZooTables:
    rng = np.random.default_rng(seed)
    rows = []
    for d in CLUSTER_A + CLUSTER_B + ["t"]:
        for i, m in enumerate(GROUP_A + GROUP_B):
            good_here = (m in GROUP_A) == (d in CLUSTER_A or d == "t")
            value = 0.6 + (0.2 if good_here else 0.0) + 0.004 * i + rng.normal(0, 0.005)
            if d == "t" and target_values is not None:
                value = target_values.get(m, value)
            rows.append((m, d, float(value)))
    records = pd.DataFrame(rows, columns=["model", "dataset", "value"])
    records["metric"] = "accuracy"
    models = pd.DataFrame(
        {
            "model": GROUP_A + GROUP_B,
            "model_type": ["vit"] * 5 + ["convnext"] * 5,
            "trained_on": ["src_a"] * 5 + ["src_b"] * 5,
            "n_params": [1e6, 2e6, 5e7, 1e8, 3e8] * 2,
            "license": ["mit", "apache-2.0"] * 5,
            "task": ["image-classification"] * 10,
            "modality": ["image"] * 10,
        }
    )
    names = CLUSTER_A + CLUSTER_B + ["t", "src_a", "src_b"]
    sims = []
    for i, x in enumerate(names):
        for y in names[i + 1 :]:
            group_x = "A" if x in [*CLUSTER_A, "t", "src_a"] else "B"
            group_y = "A" if y in [*CLUSTER_A, "t", "src_a"] else "B"
            sims.append((x, y, 0.9 if group_x == group_y else 0.1))
    similarities = pd.DataFrame(sims, columns=["dataset_a", "dataset_b", "similarity"])
    datasets = pd.DataFrame(
        {"dataset": names, "n_samples": [1000.0] * len(names), "n_classes": [10.0] * len(names)}
    )
    metrics = pd.DataFrame({"metric": ["accuracy"], "higher_is_better": [True]})
    return ZooTables(
        models=models,
        datasets=datasets,
        records=records,
        similarities=similarities,
        metrics=metrics,
    )


@pytest.fixture
def planted_zoo() -> ZooTables:
    return make_zoo()
