from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kgtransfer.kg.tables import ZooTables
from kgtransfer.transfer.recommend._data import similarity_matrix, truth_table


def test_best_non_suspect_run_and_zscore() -> None:
    recs = pd.DataFrame(
        {
            "model": ["a", "a", "b", "c"],
            "dataset": ["d"] * 4,
            "value": [0.5, 0.7, 0.6, 0.99],
            "suspect": [False, False, False, True],
        }
    )
    t = truth_table(ZooTables(records=recs))
    assert t.n_suspect == 1
    assert t.values.set_index("model")["value"].to_dict() == {"a": 0.7, "b": 0.6}
    assert t.values["z"].tolist() == pytest.approx([1.0, -1.0])


def test_lower_is_better_metric_flips_goodness() -> None:
    recs = pd.DataFrame(
        {"model": ["a", "b"], "dataset": ["d", "d"], "value": [0.1, 0.3], "metric": ["mae", "mae"]}
    )
    metrics = pd.DataFrame({"metric": ["mae"], "higher_is_better": [False]})
    t = truth_table(ZooTables(records=recs, metrics=metrics))
    assert t.values.set_index("model")["z"].to_dict() == pytest.approx({"a": 1.0, "b": -1.0})


def test_excluded_and_min_records() -> None:
    recs = pd.DataFrame(
        {"model": ["a", "b", "a"], "dataset": ["x", "x", "y"], "value": [1.0, 2.0, 3.0]}
    )
    t = truth_table(ZooTables(records=recs), exclude_datasets=["x"])
    assert set(t.values["dataset"]) == {"y"}
    t = truth_table(ZooTables(records=recs), min_records=2)
    assert set(t.values["dataset"]) == {"x"}


def test_missing_or_non_finite_value_skipped_with_warning() -> None:
    recs = pd.DataFrame(
        {"model": ["a", "b", "c", "d"], "dataset": ["x"] * 4, "value": [None, 0.5, np.nan, np.inf]}
    ).astype({"value": "Float64"})
    with pytest.warns(UserWarning, match="skipped 3 record"):
        t = truth_table(ZooTables(records=recs))
    assert t.values["model"].tolist() == ["b"]  # one bad value never refuses the whole graph


def test_distance_becomes_similarity() -> None:
    sims = pd.DataFrame({"dataset_a": ["x", "x"], "dataset_b": ["y", "z"], "distance": [1.0, 3.0]})
    s = similarity_matrix(ZooTables(similarities=sims), ["x", "y", "z"])
    assert s[0, 1] > s[0, 2] > 0 and s[1, 0] == s[0, 1] and s[1, 2] == 0.0


def test_gnn_fit_survives_one_nan_record() -> None:
    from kgtransfer.transfer import GNNRecommender

    from .conftest import make_zoo

    zoo = make_zoo()
    bad = zoo.records.iloc[[0]].assign(dataset=zoo.records["dataset"].iloc[-1], value=np.nan)
    zoo.records = pd.concat([zoo.records, bad], ignore_index=True)  # as an old store may hold
    with pytest.warns(UserWarning, match="skipped 1 record"):
        rec = GNNRecommender(epochs=2, n_ensemble=1, hidden=8, seed=0).fit(zoo)
    assert len(rec.rank("t")) > 0
