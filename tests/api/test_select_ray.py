"""select_source on Ray: a round's trials in parallel, the same Selection as serial."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kgtransfer.api import Selection, select_source
from kgtransfer.executor import Executor
from kgtransfer.kg import ZooGraph, ZooTables

pytestmark = pytest.mark.slow

TRUE = {"a1": 0.5, "a2": 0.55, "b1": 0.7, "b2": 0.9, "b3": 0.65, "g1": 0.6, "g2": 0.62}


def _zoo() -> ZooTables:
    rng = np.random.default_rng(0)
    rows = [
        {"model": m, "dataset": f"d{j}", "value": v - 0.1 + rng.normal(0, 0.02)}
        for j in range(5)
        for m, v in TRUE.items()
    ]
    datasets = pd.DataFrame({"dataset": [*(f"d{j}" for j in range(5)), "target"]})
    return ZooTables(records=pd.DataFrame(rows), datasets=datasets)


def _same(a: Selection, b: Selection) -> None:
    pd.testing.assert_frame_equal(a.trials, b.trials)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.metadata["failed"] == b.metadata["failed"]


@pytest.mark.parametrize("batch_size", [1, 3])
def test_ray_selection_equals_serial(ray_executor: Executor, batch_size: int) -> None:
    def trial(model: str) -> float:
        if model == "b1":
            raise RuntimeError("out of memory")
        return TRUE[model]

    kwargs = dict(
        n_trials=4, trial=trial, recommender="popularity", batch_size=batch_size, errors="collect"
    )
    serial = select_source(_zoo(), "target", **kwargs)  # type: ignore[arg-type]
    ray = select_source(_zoo(), "target", executor=ray_executor, **kwargs)  # type: ignore[arg-type]
    _same(ray, serial)
    assert ray.metadata["failed"]  # the failing trial came back from its worker as a failure


def _toy_records(graph: ZooGraph) -> pd.DataFrame:
    rec = graph.to_tables().records
    rec = rec[rec["dataset"].astype(str) == "toy"]
    return rec[["model", "value", "gain"]].sort_values("model").reset_index(drop=True)


def test_product_trials_on_ray_are_written_by_the_driver(
    ray_executor: Executor, tmp_path: Path, checkpoint_zoo: Callable[[Path], ZooGraph]
) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    runs = {}
    for name, executor in (("serial", None), ("ray", ray_executor)):
        graph = checkpoint_zoo(tmp_path)
        sel = select_source(
            graph,
            "toy",
            n_trials=2,
            batch_size=2,
            recommender="popularity",
            data=(x, y),
            home=tmp_path,
            budget={"epochs": 1, "batch_size": 16},
            executor=executor,
        )
        runs[name] = (sel, _toy_records(graph))
        assert graph.batches()["source"].str.contains("transfer_from").sum() == 2
    _same(runs["ray"][0], runs["serial"][0])
    pd.testing.assert_frame_equal(runs["ray"][1], runs["serial"][1])
