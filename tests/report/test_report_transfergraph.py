"""A batch report over the public TransferGraph image zoo (skipped without ../shared)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch

from kgtransfer.api import recommend
from kgtransfer.kg import ZooGraph
from kgtransfer.report import read_report, write_report
from kgtransfer.transfer import GNNRecommender


@pytest.mark.slow
@pytest.mark.shared
def test_report_over_transfergraph_image_zoo(shared_benchmarks: Path, tmp_path: Path) -> None:
    torch.set_num_threads(1)
    graph = ZooGraph()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the public tables' known bad rows
        graph.add_transfergraph(shared_benchmarks / "transfergraph", zoo="image")
    tables = graph.to_tables()
    recs = [
        recommend(
            tables,
            target,
            k=None,
            recommender=GNNRecommender(epochs=20, n_ensemble=1),
            exclude_target_records=True,
        )
        for target in ("stanfordcars", "dtd")
    ]
    paths = write_report(recs, tmp_path, title="TransferGraph image zoo", k=5)
    back = read_report(paths["csv"])
    assert set(back["target"]) == {"stanfordcars", "dtd"}
    n_models = len(recs[0].frame)
    assert len(back) == n_models + len(recs[1].frame)
    assert back["actual"].notna().sum() > 100  # held-out records are the ground truth
    doc = json.loads(paths["json"].read_text())
    assert all(t["best_in_hindsight"] for t in doc["targets"])
    assert all(t["regret"] is not None and t["regret"] >= 0 for t in doc["targets"])
    html = paths["html"].read_text()
    # predicted-vs-measured + 2 evidence graphs; no gain plot: the zoo has no scratch runs
    assert html.count("<svg") == 3 and "stanfordcars" in html
