"""The static baselines (size, lineage, task_domain, score:<estimator>) and their n/a cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kgtransfer.errors import ArgumentError, BaselineInputsMissing
from kgtransfer.kg.ingest import normalize_tables
from kgtransfer.kg.tables import ZooTables
from kgtransfer.transfer.recommend import (
    LineageRecommender,
    PopularityRecommender,
    ScoreRecommender,
    SimilarityRecommender,
    SizeRecommender,
    TaskDomainRecommender,
    evaluate_recommender,
    get_recommender,
    lineage_roots,
    list_recommenders,
)
from kgtransfer.transfer.recommend.benchmarks import run_benchmark, summary_table


def _records(values: dict[str, dict[str, float]]) -> pd.DataFrame:
    """``{dataset: {model: value}}`` -> records table."""
    rows = [(m, d, v) for d, per in values.items() for m, v in per.items()]
    return pd.DataFrame(rows, columns=["model", "dataset", "value"])


def _bare_zoo() -> ZooTables:
    """Records only: no sizes, lineage, task/domain, similarities or scores."""
    recs = _records(
        {d: {"a": 0.9 - 0.01 * i, "b": 0.7, "c": 0.5 + 0.01 * i} for i, d in enumerate("xyzw")}
    )
    tables, _ = normalize_tables(records=recs, create_missing=True)
    return tables


# ------------------------------------------------------------------- size
def test_size_ranks_larger_first_unknown_last() -> None:
    models = pd.DataFrame({"model": ["s", "m", "l", "u"], "n_params": [1e6, 5e7, 3e8, None]})
    recs = _records(
        {"x": {"s": 0.9, "m": 0.5, "l": 0.4, "u": 0.8}, "y": {"s": 0.7, "m": 0.6, "l": 0.5}}
    )  # y's records let fit run with x held out; they do not move a size ranking
    tables, _ = normalize_tables(models=models, records=recs, create_missing=True)
    r = SizeRecommender().fit(tables, exclude_datasets=["x"]).rank("x")
    assert r["model"].tolist() == ["l", "m", "s", "u"]
    # z of log10 sizes: 6, 7.699, 8.477 -> strictly decreasing scores, unknown at the minimum
    assert r["score"].iloc[0] > r["score"].iloc[1] > r["score"].iloc[2] == r["score"].iloc[3]


def test_size_is_na_without_sizes() -> None:
    with pytest.raises(BaselineInputsMissing, match="n_params"):
        SizeRecommender().fit(_bare_zoo())
    assert issubclass(BaselineInputsMissing, ArgumentError)


# ---------------------------------------------------------------- lineage
def test_lineage_roots_follow_chains_and_stop_at_cycles() -> None:
    lin = pd.DataFrame(
        {"model": ["x2", "x3", "p", "q", "merge", "merge"],
         "base_model": ["x1", "x2", "q", "p", "y1", "x3"]}
    )  # fmt: skip
    roots = lineage_roots(lin, ["x1", "x2", "x3", "p", "q", "merge", "alone"])
    assert roots["x3"] == "x1" and roots["x2"] == "x1" and roots["x1"] == "x1"
    assert roots["alone"] == "alone"
    assert roots["merge"] == "x1"  # alphabetically first base model: x3 -> x2 -> x1
    assert {roots["p"], roots["q"]} <= {"p", "q"}  # a cycle terminates


def test_lineage_ranks_by_family_popularity() -> None:
    # family X (root base-x) is good everywhere, family Y is poor; x3 and y3 have no
    # records, so only their family can rank them: x3 above every Y model.
    models = pd.DataFrame(
        {
            "model": ["x1", "x2", "x3", "y1", "y2", "y3"],
            "base_model": ["base-x", "x1", "x2", "base-y", "base-y", "y2"],
        }
    )
    per = {"x1": 0.9, "x2": 0.8, "y1": 0.6, "y2": 0.5}
    recs = _records({d: {m: v + 0.01 * i for m, v in per.items()} for i, d in enumerate("abc")})
    tables, _ = normalize_tables(models=models, records=recs, create_missing=True)
    r = LineageRecommender().fit(tables).rank("new", cold_start=True)
    order = r["model"].tolist()
    assert order.index("x3") < min(order.index("y1"), order.index("y2"))
    scores = r.set_index("model")["score"]
    assert scores["x1"] == pytest.approx(scores["x2"]) == pytest.approx(scores["x3"])
    assert scores["y3"] == pytest.approx(scores["y1"])
    assert scores["y1"] < 0
    # popularity alone cannot rank the models without records above anything
    pop = (
        PopularityRecommender().fit(tables).rank("new", cold_start=True).set_index("model")["score"]
    )
    assert pop["x3"] == 0.0 < scores["x3"]


def test_lineage_is_na_without_lineage() -> None:
    with pytest.raises(BaselineInputsMissing, match="lineage"):
        LineageRecommender().fit(_bare_zoo())


# ------------------------------------------------------------ task_domain
def _task_zoo(with_attrs: bool = True) -> ZooTables:
    # m1 is best on sentiment/review datasets, m2 best elsewhere; m2 wins more datasets.
    sentiment, other = ["s1", "s2"], ["o1", "o2", "o3"]
    values = {d: {"m1": 0.9, "m3": 0.8, "m2": 0.7} for d in sentiment}
    values |= {d: {"m1": 0.7, "m3": 0.8, "m2": 0.9} for d in other}
    values["t"] = {"m1": 0.9, "m3": 0.8, "m2": 0.7}
    names = [*sentiment, *other, "t"]
    datasets = pd.DataFrame({"dataset": names})
    if with_attrs:
        datasets["task"] = ["sentiment"] * 2 + ["topic", "nli", "topic"] + ["Sentiment"]
        datasets["domain"] = ["reviews"] * 2 + ["news", "wiki", "news"] + ["reviews"]
    tables, _ = normalize_tables(datasets=datasets, records=_records(values), create_missing=True)
    return tables


def test_task_domain_weights_shared_task_and_domain() -> None:
    tables = _task_zoo()
    pop = PopularityRecommender().fit(tables, exclude_datasets=["t"]).rank("t")
    assert pop["model"].tolist() == ["m2", "m3", "m1"]  # more wins elsewhere
    r = TaskDomainRecommender().fit(tables, exclude_datasets=["t"]).rank("t")
    assert r["model"].tolist() == ["m1", "m3", "m2"]
    # weights 3 (task and domain shared, case-insensitive) vs 1: z = +-c (2*3 - 3) / 9
    z = r.set_index("model")["score"]
    c = np.sqrt(1.5)  # |z| of 0.9 and 0.7 around 0.8 with the population std
    assert z["m1"] == pytest.approx(c * 3 / 9) and z["m2"] == pytest.approx(-c * 3 / 9)


def test_task_domain_is_na_without_attributes() -> None:
    with pytest.raises(BaselineInputsMissing, match="task or domain"):
        TaskDomainRecommender().fit(_task_zoo(with_attrs=False))


# ------------------------------------------------------------------ score
def test_score_baselines_are_registered_per_estimator() -> None:
    names = list_recommenders("score:*")
    assert {"score:logme", "score:hscore", "score:leep", "score:nce", "score:reg_hscore"} <= set(
        names
    )
    rec = get_recommender("score:hscore")
    assert isinstance(rec, ScoreRecommender) and rec.estimator == "hscore"
    assert rec.name == "score:hscore"
    assert repr(rec) == "ScoreRecommender(estimator='hscore')"
    with pytest.warns(DeprecationWarning, match="score:logme"):
        alias = get_recommender("logme")
    assert alias.name == "score:logme"


def test_score_baseline_na_without_scores() -> None:
    zoo = _bare_zoo()
    with pytest.raises(BaselineInputsMissing, match="no 'hscore' scores"):
        get_recommender("score:hscore").fit(zoo)
    zoo.scores = pd.DataFrame(
        {"model": ["a", "b", "c"], "dataset": ["x"] * 3, "estimator": ["hscore"] * 3,
         "value": [1.0, 3.0, 2.0]}
    )  # fmt: skip
    rec = get_recommender("score:hscore").fit(zoo, exclude_datasets=["x"])
    assert rec.rank("x")["model"].tolist() == ["b", "c", "a"]
    with pytest.raises(BaselineInputsMissing, match="on target 'y'"):
        rec.rank("y")  # no constant ranking for a target without scores
    # evaluated on every target: n/a rows where the target has no scores
    res = evaluate_recommender(lambda: get_recommender("score:hscore"), zoo)
    by_target = {row["target"]: row for row in res["targets"]}
    assert "n/a" in by_target["y"] and "pearson" in by_target["x"]
    assert res["method"] == "score:hscore"


def test_similarity_is_na_without_similarities() -> None:
    with pytest.raises(BaselineInputsMissing, match="similarities"):
        SimilarityRecommender().fit(_bare_zoo())


# -------------------------------------------------------------- benchmark
def test_benchmark_reports_missing_inputs_as_na() -> None:
    zoo = _bare_zoo()
    methods = ["popularity", "similarity", "size", "lineage", "task_domain", "score:*"]
    res = run_benchmark(zoo, methods)
    assert set(res) == set(methods)
    for m in methods[1:]:
        assert set(res[m]) == {"n/a"}, m
    assert res["popularity"]["mean"]["top1_relative"] == pytest.approx(1.0)
    table = summary_table(res).set_index("method")
    assert table.loc["size", "pearson"] == "n/a"
    assert table.loc["popularity", "regret_pts"] == pytest.approx(0.0)


def test_benchmark_expands_score_star_and_reports_regret_in_points() -> None:
    zoo = _bare_zoo()
    zoo.scores = pd.DataFrame(
        {"model": ["a", "b", "c"] * 2, "dataset": ["x"] * 6,
         "estimator": ["logme"] * 3 + ["leep"] * 3, "value": [1.0, 2.0, 3.0, 3.0, 2.0, 1.0]}
    )  # fmt: skip
    res = run_benchmark(zoo, ["score:*"], targets=["x"])
    assert sorted(res) == ["score:leep", "score:logme"]
    # logme picks c (0.5) instead of a (0.9): regret 0.4 = 40 points
    row = res["score:logme"]["targets"][0]
    assert row["top1_regret"] == pytest.approx(0.4)
    assert row["top1_regret_points"] == pytest.approx(40.0)
    assert res["score:leep"]["targets"][0]["top1_regret_points"] == pytest.approx(0.0)


def test_calibration_in_evaluation_output() -> None:
    zoo = _bare_zoo()
    res = evaluate_recommender(PopularityRecommender, zoo)
    interval = res["calibration"]["interval"]
    assert interval["n_pairs"] == 12 and interval["nominal"] == 0.9
    lo, hi = interval["band95"]
    assert 0.0 < lo < 0.9 < hi <= 1.0
    assert "n/a" in res["calibration"]["negative_transfer"]
    # with a scratch accuracy per target, the negative-transfer probability is scored
    zoo.datasets = zoo.datasets.assign(scratch_accuracy=[0.69, 0.69, 0.69, 0.69])
    res = evaluate_recommender(PopularityRecommender, zoo)
    neg = res["calibration"]["negative_transfer"]
    assert neg["n_pairs"] == 12
    assert neg["base_rate"] == pytest.approx(4 / 12)  # c is below scratch on every target
    assert 0.0 <= neg["brier"] <= 1.0
    assert sum(r["n"] for r in neg["reliability"]) == 12
