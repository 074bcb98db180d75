from __future__ import annotations

import pytest

from kgtransfer.transfer import GNNRecommender, PopularityRecommender, evaluate_recommender
from kgtransfer.transfer.recommend.benchmarks import load_benchmark_zoo


@pytest.mark.slow
@pytest.mark.shared
def test_end_to_end_transfergraph_image(shared_benchmarks) -> None:
    tables = load_benchmark_zoo("transfergraph-image", shared_benchmarks)
    targets = ["caltech101", "pets"]
    gnn = evaluate_recommender(lambda: GNNRecommender(epochs=30, n_ensemble=1), tables, targets)
    pop = evaluate_recommender(PopularityRecommender, tables, targets)
    assert [r["target"] for r in gnn["targets"]] == targets
    assert gnn["targets"][0]["n_models"] >= 170  # every model with a true record
    assert gnn["mean"]["pearson"] > 0.7 and gnn["mean"]["top1_relative"] > 0.95
    assert gnn["mean"]["pearson"] > pop["mean"]["pearson"] - 0.05
    assert "mean_logme" in gnn and gnn["mean_logme"]["pearson"] is not None
