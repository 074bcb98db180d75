"""Every argument of fit/rank is checked up front; the error names the argument."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgtransfer.errors import ArgumentError, UnknownNameError
from kgtransfer.kg.tables import ZooTables
from kgtransfer.transfer import (
    GNNRecommender,
    PopularityRecommender,
    ScoreRecommender,
    SimilarityRecommender,
)

from .conftest import make_zoo

TINY = {"epochs": 5, "n_ensemble": 1, "hidden": 8}


@pytest.fixture(scope="module")
def zoo() -> ZooTables:
    return make_zoo()


@pytest.fixture(scope="module")
def gnn(zoo: ZooTables) -> GNNRecommender:
    return GNNRecommender(**TINY, seed=0).fit(zoo, exclude_datasets=["t"])


@pytest.fixture(scope="module")
def pop(zoo: ZooTables) -> PopularityRecommender:
    return PopularityRecommender().fit(zoo, exclude_datasets=["t"])


@pytest.mark.parametrize("k", [2.5, True, False, 0, -1, "3", 3.0, np.float64(2.0), np.True_])
def test_bad_k_is_named(pop: PopularityRecommender, k: Any) -> None:
    with pytest.raises(ArgumentError, match=r"^k must be a positive integer or None, got "):
        pop.rank("t", k=k)
    assert len(pop.rank("t", k=np.int64(2))) == 2  # numpy integers are integers


@pytest.mark.parametrize(
    ("filters", "match"),
    [
        ({"max_params": "big"}, r"max_params must be a finite number > 0, got 'big' \(str\)"),
        ({"max_params": math.nan}, "max_params must be a finite number > 0, got nan"),
        ({"max_params": -5}, r"max_params must be a finite number > 0, got -5\.0"),
        ({"max_params": 0}, "max_params must be a finite number > 0"),
        ({"max_params": math.inf}, r"max_params .* got inf.*max_params=None for no limit"),
        ({"min_params": -1.0}, "min_params must be a finite number >= 0"),
        ({"max_params": True}, r"max_params .* got True \(bool\)"),
        ({"min_params": 1e8, "max_params": 1e6}, "min_params=1e.08 is above max_params"),
        ({"license": 5}, r"license must be text or a list of text .*got 5 \(int\)"),
        ({"license": ""}, "license must be non-empty text"),
        ({"license": []}, "license is an empty list"),
        ({"license": ["mit", None]}, "each value of license must be text"),
        ({"task": {"a": 1}}, "task must be text or a list of text"),
        ({"max_param": 5}, "Unknown rank.. filter 'max_param'. Did you mean 'max_params'"),
        ({"licence": "mit"}, "Did you mean 'license'.*Valid filters are"),
    ],
)
def test_bad_filters_are_named(pop: PopularityRecommender, filters: dict, match: str) -> None:
    with pytest.raises(ArgumentError, match=match):
        pop.rank("t", **filters)


def test_good_filters_still_filter(pop: PopularityRecommender) -> None:
    r = pop.rank("t", max_params=5e7, license=("mit",), min_params=0, task=None)
    assert set(r["model"]) == {"ma0", "ma2", "mb1"}


def test_unknown_target_is_an_error_unless_cold_start(pop: PopularityRecommender) -> None:
    with pytest.raises(UnknownNameError, match=r"Unknown target dataset 'a11'. Did you mean 'a1'"):
        pop.rank("a11")
    with pytest.raises(UnknownNameError, match="cold_start=True"):
        pop.predict("a11", ["ma0"])
    cold = pop.rank("a11", cold_start=True)  # explicit: ranked from the graph as a whole
    assert len(cold) == 10
    # a dataset of the graph without records (similarity edges only) is a legitimate cold start
    assert len(pop.rank("src_a")) == 10
    with pytest.raises(ArgumentError, match="cold_start must be True or False, got 'yes'"):
        pop.rank("a11", cold_start="yes")
    assert len(pop.rank("a11", cold_start=np.bool_(True))) == 10


@pytest.mark.parametrize("dataset", ["", "   ", None, 5])
def test_empty_or_non_text_target(pop: PopularityRecommender, dataset: Any) -> None:
    with pytest.raises(ArgumentError, match=r"^dataset must be"):
        pop.rank(dataset)
    with pytest.raises(ArgumentError, match=r"^dataset must be"):
        pop.rank(dataset, cold_start=True)  # cold start is for unknown ids, not empty ones


def test_other_rank_arguments(pop: PopularityRecommender) -> None:
    with pytest.raises(ArgumentError, match=r"candidates must be a list of ids.*\['ma1'\]"):
        pop.rank("t", candidates="ma1")
    with pytest.raises(ArgumentError, match="each of candidates must be text"):
        pop.rank("t", candidates=["ma1", 3])
    with pytest.raises(ArgumentError, match="n_evidence must be a non-negative integer"):
        pop.rank("t", n_evidence=-1)
    with pytest.raises(ArgumentError, match="models must be a list of ids"):
        pop.predict("t", "ma1")


def test_fit_arguments(zoo: ZooTables) -> None:
    with pytest.raises(ArgumentError, match=r"exclude_datasets must be a list.*\['t'\]"):
        PopularityRecommender().fit(zoo, exclude_datasets="t")
    with pytest.raises(UnknownNameError, match=r"exclude_datasets 'tt'\. Did you mean 't'"):
        PopularityRecommender().fit(zoo, exclude_datasets=["tt"])
    for bad, match in [
        ({"epochs": 2.5}, r"epochs must be a non-negative integer, got 2\.5"),
        ({"hidden": True}, "hidden must be a positive integer"),
        ({"lr": math.nan}, "lr must be a finite number > 0"),
        ({"dropout": 1.0}, "dropout must be a finite number >= 0 and < 1"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"progress": "no"}, "progress must be True or False"),
    ]:
        with pytest.raises(ArgumentError, match=match):
            GNNRecommender(**{**TINY, **bad}).fit(zoo)
    with pytest.raises(ArgumentError, match=r"epochs must be a non-negative integer or None"):
        GNNRecommender(**TINY).fit(zoo).partial_fit(zoo, epochs=2.5)
    with pytest.raises(ArgumentError, match="power must be a finite number > 0"):
        SimilarityRecommender(power=math.inf).fit(zoo)


def _no_records(zoo: ZooTables) -> ZooTables:
    return ZooTables(models=zoo.models, datasets=zoo.datasets, similarities=zoo.similarities)


@pytest.mark.parametrize(
    "make", [GNNRecommender, PopularityRecommender, SimilarityRecommender, ScoreRecommender]
)
def test_graph_without_records_is_refused_at_fit(zoo: ZooTables, make: Any) -> None:
    params = TINY if make is GNNRecommender else {}
    for graph in (ZooTables(), _no_records(zoo)):
        with pytest.raises(ArgumentError, match=r"no transfer records.*ingest"):
            make(**params).fit(graph)


def test_graph_without_usable_records_is_refused(zoo: ZooTables) -> None:
    suspect = ZooTables(**{**zoo.__dict__, "records": zoo.records.assign(suspect=True)})
    with pytest.raises(ArgumentError, match=r"80 transfer record\(s\) but none.*80 suspect"):
        PopularityRecommender().fit(suspect)
    only_t = ZooTables(**{**zoo.__dict__, "records": zoo.records[zoo.records["dataset"] == "t"]})
    with pytest.raises(ArgumentError, match=r"none to learn from.*held-out dataset\(s\) \['t'\]"):
        PopularityRecommender().fit(only_t, exclude_datasets=["t"])


def test_accuracy_predictions_stay_in_range() -> None:
    """Near-perfect datasets with a wide spread: the scale alone would pass 1.0."""
    recs = pd.DataFrame(
        {
            "model": list("abcabcabc"),
            "dataset": list("xxxyyyzzz"),
            "value": [1.0, 0.99, 0.3, 0.99, 1.0, 0.4, 1.0, 0.98, 0.35],
            "metric": "accuracy",
        }
    )
    zoo = ZooTables(records=recs, datasets=pd.DataFrame({"dataset": ["x", "y", "z", "new"]}))
    for rec in (PopularityRecommender(), GNNRecommender(**TINY)):
        r = rec.fit(zoo, exclude_datasets=["z"]).rank("new")
        for col in ("predicted", "low", "high"):
            assert r[col].between(0.0, 1.0).all(), (type(rec).__name__, col, r[col].tolist())
    loss = recs.assign(metric="mae", value=recs["value"] - 0.5)  # MAE cannot be negative
    metrics = pd.DataFrame({"metric": ["mae"], "higher_is_better": [False]})
    r = PopularityRecommender().fit(ZooTables(records=loss, metrics=metrics)).rank("x")
    assert (r["low"] >= 0).all() and (r["predicted"] >= 0).all()


# ------------------------------------------------------------------ fuzz
def _valid_k(k: Any) -> bool:
    return k is None or (isinstance(k, int) and not isinstance(k, bool) and k >= 1)


def _valid_max(v: Any) -> bool:
    if v is None:
        return True
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def _valid_text(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return bool(v.strip())
    return isinstance(v, list) and bool(v) and all(isinstance(x, str) and x.strip() for x in v)


_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    dataset=st.sampled_from(["t", "a1", "src_a", "", " ", "zz", "T"]),
    k=_ANY,
    max_params=st.one_of(_ANY, st.integers(-10, 10**9)),
    license=st.one_of(_ANY, st.lists(st.sampled_from(["mit", "apache-2.0", "", 3]), max_size=3)),
)
def test_rank_fuzz(
    gnn: GNNRecommender, dataset: str, k: Any, max_params: Any, license: Any
) -> None:
    checks = {
        "dataset": dataset in gnn.dataset_index_,
        "k": _valid_k(k),
        "max_params": _valid_max(max_params),
        "license": _valid_text(license),
    }
    try:
        r = gnn.rank(dataset, k=k, max_params=max_params, license=license)
    except (ArgumentError, UnknownNameError) as exc:
        bad = [name for name, ok in checks.items() if not ok]
        assert bad, f"refused valid arguments: {exc}"
        assert any(name in str(exc) for name in bad), str(exc)
        return
    assert all(checks.values()), f"accepted {checks}"
    assert len(r) <= (k or 10) and r["rank"].tolist() == list(range(1, len(r) + 1))
    for col in ("predicted", "low", "high"):
        assert r[col].between(0.0, 1.0).all()
