"""report_targets: per-target rankings through an executor; Ray equals serial."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kgtransfer.errors import ArgumentError
from kgtransfer.executor import Executor
from kgtransfer.kg import ZooTables
from kgtransfer.report import read_report, report_targets

FAST = {"epochs": 20, "n_ensemble": 1}


def _zoo() -> ZooTables:
    models = pd.DataFrame({"model": ["a.x", "b.x", "c.y", "d.y"], "trained_on": list("xxyy")})
    datasets = pd.DataFrame(
        {
            "dataset": ["x", "y", "t1", "t2", "t3"],
            "task": "cls",
            "n_classes": 2.0,
            "scratch_accuracy": [np.nan, np.nan, 0.6, 0.6, 0.6],
        }
    )
    values = {"t1": [0.9, 0.85, 0.62, 0.64], "t2": [0.88, 0.84, 0.63, 0.66]}
    values["t3"] = [0.65, 0.63, 0.9, 0.87]
    records = pd.DataFrame(
        [
            {"model": m, "dataset": t, "value": v, "metric": "accuracy"}
            for t, vs in values.items()
            for m, v in zip(models["model"], vs, strict=True)
        ]
    )
    sims = pd.DataFrame(
        {"dataset_a": ["t1", "t2", "t3"], "dataset_b": ["x", "x", "y"], "similarity": 0.9}
    )
    return ZooTables(models=models, datasets=datasets, records=records, similarities=sims)


def test_no_targets_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArgumentError, match="targets is empty"):
        report_targets(_zoo(), [], tmp_path)


@pytest.mark.slow
def test_ray_report_equals_serial(ray_executor: Executor, tmp_path: Path) -> None:
    serial = report_targets(
        _zoo(), ["t1", "t3"], tmp_path / "s", recommender_params=FAST, formats=("csv",)
    )
    ray = report_targets(
        _zoo(),
        ["t1", "t3"],
        tmp_path / "r",
        recommender_params=FAST,
        formats=("csv",),
        executor=ray_executor,
    )
    assert [r.target for r in ray.recommendations] == ["t1", "t3"]
    pd.testing.assert_frame_equal(read_report(ray.paths["csv"]), read_report(serial.paths["csv"]))
