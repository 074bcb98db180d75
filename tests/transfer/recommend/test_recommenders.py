from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kgtransfer.errors import CheckpointError, NotFittedError, UnknownNameError
from kgtransfer.kg.tables import ZooTables
from kgtransfer.transfer import (
    GNNRecommender,
    PopularityRecommender,
    ScoreRecommender,
    SimilarityRecommender,
    evaluate_recommender,
    get_recommender,
    list_recommenders,
)

from .conftest import GROUP_A, GROUP_B, make_zoo

FAST = {"epochs": 30, "n_ensemble": 1, "hidden": 16}
COLUMNS = ["model", "score", "predicted", "low", "high", "rank", "evidence"]


def test_registry() -> None:
    assert [n for n in list_recommenders() if not n.startswith("score:")] == [
        "gnn",
        "lineage",
        "logme",  # deprecated alias of score:logme
        "popularity",
        "similarity",
        "size",
        "task_domain",
    ]
    assert isinstance(get_recommender("gnn", epochs=3), GNNRecommender)
    with pytest.raises(UnknownNameError, match="Did you mean 'popularity'"):
        get_recommender("populariti")


@pytest.mark.parametrize(
    "name", ["gnn", "popularity", "similarity", "size", "lineage", "task_domain", "score:logme"]
)
def test_not_fitted(name: str) -> None:
    with pytest.raises(NotFittedError, match="fit"):
        get_recommender(name).rank("t")


def test_popularity_hand_computed() -> None:
    # per dataset the values are mean +- std, so z is exactly +1, 0 or -1
    recs = pd.DataFrame(
        {
            "model": list("abcabcabc"),
            "dataset": list("xxxyyyzzz"),
            "value": [0.9, 0.7, 0.5, 0.4, 0.6, 0.8, 0.8, 0.6, 0.7],
        }
    )
    s = np.sqrt(2 / 3)
    r = PopularityRecommender().fit(ZooTables(records=recs)).rank("new", cold_start=True)
    # a: (s - s + s) / 3, b: (0 + 0 - s) / 3, c: (-s + s + 0) / 3 (z = (v - mean) / (0.1 s))
    assert r["model"].tolist() == ["a", "c", "b"]
    assert r["score"].tolist() == pytest.approx([1 / (3 * s), 0.0, -1 / (3 * s)])
    # ranking a dataset in the graph leaves its own records out of the mean
    r = PopularityRecommender().fit(ZooTables(records=recs)).rank("y")
    assert r.set_index("model")["score"].to_dict() == pytest.approx(
        {"a": 1 / s, "b": -0.5 / s, "c": -0.5 / s}
    )


def test_popularity_misses_planted_structure_similarity_finds_it(planted_zoo) -> None:
    pop = PopularityRecommender().fit(planted_zoo, exclude_datasets=["t"]).rank("t", k=5)
    assert set(pop["model"]) == set(GROUP_B)  # B is good on more datasets
    sim = SimilarityRecommender().fit(planted_zoo, exclude_datasets=["t"]).rank("t", k=5)
    assert set(sim["model"]) == set(GROUP_A)


def test_gnn_ranks_models_of_similar_datasets_first(planted_zoo) -> None:
    rec = GNNRecommender(**FAST, seed=0).fit(planted_zoo, exclude_datasets=["t"])
    r = rec.rank("t")
    assert list(r.columns) == COLUMNS
    assert set(r["model"].head(5)) == set(GROUP_A)
    assert r["rank"].tolist() == list(range(1, 11))
    assert (r["low"] <= r["predicted"]).all() and (r["predicted"] <= r["high"]).all()
    assert r["predicted"].between(0.3, 1.1).all()  # in the accuracy scale, not z
    assert "similar to the target" in r["evidence"].iloc[0]
    assert r["evidence"].iloc[-1] == ""


def test_gnn_no_leakage_of_excluded_target() -> None:
    """Whatever the target's records say, a fit that excludes them ranks the same."""
    flipped = {m: (0.99 if m in GROUP_B else 0.1) for m in GROUP_A + GROUP_B}
    r1 = GNNRecommender(**FAST).fit(make_zoo(), exclude_datasets=["t"]).rank("t")
    r2 = GNNRecommender(**FAST).fit(make_zoo(flipped), exclude_datasets=["t"]).rank("t")
    pd.testing.assert_frame_equal(r1, r2)


def test_gnn_seeded_and_seed_matters(planted_zoo) -> None:
    a = GNNRecommender(**FAST, seed=1).fit(planted_zoo).rank("t")
    b = GNNRecommender(**FAST, seed=1).fit(planted_zoo).rank("t")
    c = GNNRecommender(**FAST, seed=2).fit(planted_zoo, exclude_datasets=["t"]).rank("t")
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.set_index("model")["score"], c.set_index("model")["score"])


def test_cold_start(planted_zoo) -> None:
    rec = GNNRecommender(**FAST).fit(planted_zoo, exclude_datasets=["t"])
    unknown = rec.rank("never-seen-dataset", cold_start=True)
    assert len(unknown) == 10 and unknown["score"].notna().all()
    assert "no records" not in unknown["evidence"].iloc[0]


def test_filters_candidates_and_k(planted_zoo) -> None:
    rec = GNNRecommender(**FAST).fit(planted_zoo, exclude_datasets=["t"])
    r = rec.rank("t", max_params=5e7, license="mit")
    assert set(r["model"]) == {"ma0", "ma2", "mb1"}
    r = rec.rank("t", candidates=["mb0", "ma1"], k=1)
    assert r["model"].tolist() == ["ma1"]
    with pytest.raises(TypeError, match="Valid filters"):
        rec.rank("t", max_param=5)
    with pytest.raises(UnknownNameError, match="Did you mean 'ma1'"):
        rec.rank("t", candidates=["ma_1"])
    with pytest.raises(ValueError, match="k must be"):
        rec.rank("t", k=0)


def test_save_load_round_trip(planted_zoo, tmp_path) -> None:
    rec = GNNRecommender(**FAST).fit(planted_zoo, exclude_datasets=["t"])
    rec.save(tmp_path / "rec")
    assert sorted(p.name for p in (tmp_path / "rec").iterdir()) == [
        "config.json",
        "tables.json",
        "weights.safetensors",
    ]
    loaded = GNNRecommender.load(tmp_path / "rec")
    pd.testing.assert_frame_equal(rec.rank("t"), loaded.rank("t"))
    pd.testing.assert_frame_equal(rec.rank("a1"), loaded.rank("a1"))
    with pytest.raises(CheckpointError, match=r"config\.json"):
        GNNRecommender.load(tmp_path / "nowhere")


def test_written_back_record_changes_next_ranking(planted_zoo) -> None:
    rec = GNNRecommender(**FAST).fit(planted_zoo, exclude_datasets=["t"])
    before = rec.rank("a1")
    assert before["model"].iloc[0] != "mb4"
    extra = pd.DataFrame(
        {"model": ["mb4"], "dataset": ["a1"], "value": [0.999], "metric": ["accuracy"]}
    )
    updated = ZooTables(**dict(planted_zoo))
    updated.records = pd.concat([planted_zoo.records, extra], ignore_index=True)
    rec.partial_fit(updated, epochs=5)
    after = rec.rank("a1")
    assert after["model"].iloc[0] == "mb4"
    assert after["evidence"].iloc[0].startswith("measured 0.999 accuracy on the target")


def test_score_recommender() -> None:
    zoo = make_zoo()
    zoo.scores = pd.DataFrame(
        {
            "model": ["ma0", "mb0"],
            "dataset": ["t", "t"],
            "estimator": ["logme"] * 2,
            "value": [1.0, 2.0],
        }
    )
    r = ScoreRecommender().fit(zoo, exclude_datasets=["t"]).rank("t")
    assert r["model"].head(2).tolist() == ["mb0", "ma0"]
    with pytest.raises(ValueError, match="no 'leep' scores"):
        ScoreRecommender(estimator="leep").fit(zoo)


def test_evaluate_leave_one_target_out(planted_zoo) -> None:
    res = evaluate_recommender(SimilarityRecommender, planted_zoo, targets=["t", "a1"])
    json.dumps(res)  # serialisable
    assert [row["target"] for row in res["targets"]] == ["t", "a1"]
    assert res["mean"]["top1_relative"] == pytest.approx(1.0)
    assert res["targets"][0]["n_models"] == 10
    with pytest.raises(ValueError, match="no non-suspect records"):
        evaluate_recommender(SimilarityRecommender, planted_zoo, targets=["src_a"])


def test_accepts_graph_like_objects(planted_zoo) -> None:
    class Graph:
        def to_tables(self) -> ZooTables:
            return planted_zoo

    assert len(PopularityRecommender().fit(Graph()).rank("t")) == 10
    with pytest.raises(TypeError, match="Expected a ZooGraph or ZooTables as graph, got 'str'"):
        PopularityRecommender().fit("zoo.csv")


def test_cold_target_scale_follows_its_scratch_accuracy(planted_zoo) -> None:
    """A target whose scratch accuracy is far below its neighbours' is predicted low too."""

    def mean_prediction(scratch: dict[str, float]) -> float:
        ds = planted_zoo.datasets.copy()
        ds["scratch_accuracy"] = ds["dataset"].map(scratch).astype(float)
        zoo = ZooTables(**{**planted_zoo.__dict__, "datasets": ds})
        rec = PopularityRecommender().fit(zoo, exclude_datasets=["t"])
        return float(rec.rank("t")["predicted"].mean())

    others = {d: 0.5 for d in planted_zoo.datasets["dataset"] if d not in ("t", "src_a", "src_b")}
    neighbours_only = mean_prediction(others)  # the target's own scratch unknown
    assert neighbours_only == pytest.approx(0.7, abs=0.02)  # the training datasets' level
    hard = mean_prediction({**others, "t": 0.2})  # offset (≈ +0.2 over scratch) on top of 0.2
    assert hard == pytest.approx(0.4, abs=0.02)
    assert mean_prediction({"t": 0.2}) == pytest.approx(neighbours_only)  # no offset to learn


def test_ranking_loss_settings(planted_zoo) -> None:
    for bad in ({"rank_weight": -1.0}, {"rank_temperature": 0.0}):
        with pytest.raises(ValueError, match=r"rank_(weight|temperature) must be a finite number"):
            GNNRecommender(**FAST, **bad).fit(planted_zoo, exclude_datasets=["t"])
    plain = GNNRecommender(**FAST, rank_weight=0.0).fit(planted_zoo, exclude_datasets=["t"])
    ranked = GNNRecommender(**FAST).fit(planted_zoo, exclude_datasets=["t"])
    assert GNNRecommender(**FAST).get_params()["rank_weight"] == 1.0  # saved with the model
    # the loss term changes what is learned (same seed, same data)
    assert not np.allclose(
        plain.rank("t").set_index("model")["score"].sort_index(),
        ranked.rank("t").set_index("model")["score"].sort_index(),
    )
