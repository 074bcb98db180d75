"""The stacked default of GNNRecommender: per-zoo weights of the base scorers, conformal intervals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from kgtransfer.errors import ArgumentError, CheckpointError
from kgtransfer.kg.tables import ZooTables
from kgtransfer.transfer import GNNRecommender
from kgtransfer.transfer.recommend import PopularityRecommender
from kgtransfer.transfer.recommend._stack import conformal_quantile, fit_stack
from kgtransfer.transfer.recommend.evaluate import evaluate_recommender

NO_GNN = {"stack_gnn": False}
TINY_GNN = {"epochs": 8, "n_ensemble": 1, "hidden": 8, "stack_folds": 2}


def lineage_zoo(
    seed: int = 0, n_families: int = 8, per_family: int = 8, n_datasets: int = 6
) -> ZooTables:
    """Sparse records: each fine-tune is measured on one of the datasets and its quality
    is its base model's (plus noise), so only the lineage says how good it is."""
    rng = np.random.default_rng(seed)
    fam_q = rng.normal(size=n_families)
    datasets = [f"d{j}" for j in range(n_datasets)]
    level = rng.uniform(0.5, 0.8, len(datasets))
    models, lineage, rows = [], [], []
    for f in range(n_families):
        base = f"base{f}"
        models.append(base)
        for k in range(per_family):
            m = f"ft{f}_{k}"
            models.append(m)
            lineage.append((m, base))
            for j in rng.choice(len(datasets), size=1, replace=False):
                v = level[j] + 0.05 * fam_q[f] + rng.normal(0, 0.01)
                rows.append((m, datasets[j], float(v)))
    records = pd.DataFrame(rows, columns=["model", "dataset", "value"]).assign(metric="accuracy")
    lin = pd.DataFrame(lineage, columns=["model", "base_model"])
    meta = pd.DataFrame({"model": models})
    return ZooTables(models=meta, records=records, lineage=lin)


@pytest.fixture(scope="module")
def zoo() -> ZooTables:
    return lineage_zoo()


def _spearman_on(rec: object, zoo: ZooTables, target: str) -> float:
    truth = zoo.records.loc[zoo.records["dataset"] == target].set_index("model")["value"]
    ranked = rec.rank(target, candidates=list(truth.index), n_evidence=0)  # type: ignore[attr-defined]
    pred = ranked.set_index("model").loc[truth.index, "score"]
    if pred.nunique() < 2:  # a constant ranking carries no order
        return 0.0
    return float(spearmanr(pred, truth).statistic)


def test_stack_learns_lineage_where_lineage_decides(zoo: ZooTables) -> None:
    rec = GNNRecommender(**NO_GNN).fit(zoo, exclude_datasets=["d0"])
    weights = dict(zip(rec.stack_names_, rec.stack_weights_, strict=True))
    assert rec.stack_best_ == "lineage"
    assert weights["lineage"] == max(weights.values()) > 0.5
    pop = PopularityRecommender().fit(zoo, exclude_datasets=["d0"])
    assert _spearman_on(rec, zoo, "d0") > _spearman_on(pop, zoo, "d0") + 0.2


def test_stack_with_gnn_keeps_lineage(zoo: ZooTables) -> None:
    rec = GNNRecommender(**TINY_GNN).fit(zoo, exclude_datasets=["d1"])
    assert rec.stack_names_[-1] == "gnn"
    assert len(rec.networks_) == 1
    pop = PopularityRecommender().fit(zoo, exclude_datasets=["d1"])
    assert _spearman_on(rec, zoo, "d1") > _spearman_on(pop, zoo, "d1") + 0.3


def test_plain_gnn_is_still_available(zoo: ZooTables) -> None:
    rec = GNNRecommender(stack=False, epochs=3, n_ensemble=1, hidden=8).fit(zoo)
    assert not hasattr(rec, "stack_weights_")
    assert len(rec.rank("d0")) > 0


def test_fit_stack_mixes_two_informative_scorers() -> None:
    rng = np.random.default_rng(1)
    blocks = []
    for _ in range(30):
        a, b = rng.normal(size=(2, 25))
        blocks.append((np.stack([a, b, rng.normal(size=25)], 1), 0.5 * a + 0.5 * b))
    fit = fit_stack(blocks, ["size", "lineage", "noise"], shrinkage=0.1)
    assert fit.weights[0] > 0.35 and fit.weights[1] > 0.35
    assert fit.weights[2] < 0.05
    # thin evidence: a strong pull keeps the stack at the best single scorer
    strong = fit_stack(blocks[:2], ["size", "lineage", "noise"], shrinkage=1e6)
    assert np.count_nonzero(strong.weights > 1e-3) == 1


def test_listnet_objective_favours_the_scorer_right_at_the_top() -> None:
    rng = np.random.default_rng(2)
    blocks = []
    for _ in range(20):
        y = rng.normal(size=30)
        top = np.where(y > 1, y, 0.0) + 0.05 * rng.normal(size=30)  # right only at the top
        rest = np.where(y > 1, 0.0, y) + 0.05 * rng.normal(size=30)  # right elsewhere
        blocks.append((np.stack([top, rest], 1), y))
    squared = fit_stack(blocks, ["top", "rest"], shrinkage=0.01)
    listnet = fit_stack(blocks, ["top", "rest"], shrinkage=0.01, objective="listnet")
    assert (listnet.weights >= 0).all()
    ratio = lambda w: w[0] / (w[0] + w[1])  # noqa: E731
    assert ratio(listnet.weights) > ratio(squared.weights)


def test_conformal_interval_covers_about_90_percent() -> None:
    zoo = lineage_zoo(seed=3, n_families=12, per_family=20, n_datasets=16)
    res = evaluate_recommender(lambda: GNNRecommender(**NO_GNN), zoo)
    interval = res["calibration"]["interval"]
    lo, hi = interval["band95"]
    assert interval["n_pairs"] > 100
    assert lo - 0.03 <= interval["coverage"] <= hi + 0.03
    assert conformal_quantile(np.arange(1.0, 101.0)) == 91.0


def test_stack_params_are_checked() -> None:
    with pytest.raises(ArgumentError, match="stack_folds"):
        GNNRecommender(stack_folds=1).fit(lineage_zoo())
    with pytest.raises(ArgumentError, match="stack_shrinkage"):
        GNNRecommender(stack_shrinkage=-1.0).fit(lineage_zoo())
    with pytest.raises(ArgumentError, match="stack_objective"):
        GNNRecommender(stack_objective="listwise").fit(lineage_zoo())
    params = GNNRecommender().get_params()
    assert params["stack"] is True and params["stack_gnn"] is True


@pytest.mark.parametrize("params", [NO_GNN, TINY_GNN])
def test_stacked_save_load_round_trip(zoo: ZooTables, tmp_path: Path, params: dict) -> None:
    rec = GNNRecommender(**params).fit(zoo, exclude_datasets=["d2"])
    rec.save(tmp_path / "rec")
    loaded = GNNRecommender.load(tmp_path / "rec")
    a, b = rec.rank("d2"), loaded.rank("d2")
    assert a["model"].tolist() == b["model"].tolist()
    np.testing.assert_allclose(a["score"], b["score"], rtol=1e-6)
    np.testing.assert_allclose(a["high"], b["high"], rtol=1e-6)
    bad = Path(shutil.copytree(tmp_path / "rec", tmp_path / "bad"))
    config = json.loads((bad / "config.json").read_text())
    config["stack"]["weights"][0] = -1.0
    (bad / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match=r"stack\['weights\[0\]'\]"):
        GNNRecommender.load(bad)
    del config["stack"]
    (bad / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="'stack'"):
        GNNRecommender.load(bad)
