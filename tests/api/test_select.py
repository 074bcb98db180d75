"""select_source(): choosing sources with a few trials, conditioned in memory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import kgtransfer
from kgtransfer.api import Selection, select_source
from kgtransfer.errors import ArgumentError, UnknownNameError
from kgtransfer.kg import ZooGraph, ZooTables
from kgtransfer.transfer import PopularityRecommender

torch.set_num_threads(1)

# Two families with opposite tastes (good on X-type datasets / on Y-type ones) and
# generic models; b1 is the popular member of family b, b3 the true best on the target.
BASE = {"b1": 0.75, "b2": 0.62, "b3": 0.62, "b4": 0.62, "g1": 0.70, "g2": 0.695}
BASE |= {"g3": 0.69, "g4": 0.685, "a1": 0.62, "a2": 0.615, "a3": 0.61}
TASTE = {m: (0.15 if m[0] == "b" else -0.15 if m[0] == "a" else 0.0) for m in BASE}
TRUE = {m: BASE[m] + TASTE[m] for m in BASE} | {"b3": 0.95}  # target is X-type


def _family_zoo(seed: int = 0) -> ZooTables:
    rng = np.random.default_rng(seed)
    rows = []
    for j in range(8):
        kind = 1.0 if j % 2 == 0 else -1.0
        for m in BASE:
            value = BASE[m] + kind * TASTE[m] + rng.normal(0, 0.005)
            rows.append({"model": m, "dataset": f"d{j}", "value": value, "metric": "accuracy"})
    datasets = pd.DataFrame({"dataset": [*(f"d{j}" for j in range(8)), "target"]})
    models = pd.DataFrame({"model": list(BASE)})
    return ZooTables(models=models, records=pd.DataFrame(rows), datasets=datasets)


def _top_k_popularity(zoo: ZooTables, k: int) -> list[str]:
    rec = PopularityRecommender().fit(zoo, exclude_datasets=["target"])
    return rec.rank("target", n_evidence=0)["model"].head(k).tolist()


def test_correlated_models_reveal_a_best_the_prior_ranks_low() -> None:
    zoo = _family_zoo()
    calls: list[str] = []

    def trial(model: str) -> float:
        calls.append(model)
        return TRUE[model]

    sel = select_source(zoo, "target", n_trials=4, trial=trial, recommender="popularity")
    assert isinstance(sel, Selection)
    assert calls == sel.trials["model"].tolist()  # each trial run once, in order
    assert sel.best == "b3"  # the true best, found within 4 trials
    assert sel.best_value == pytest.approx(0.95)
    # popularity's own top 4 never reaches it: the prior ranks b3 low
    popular = _top_k_popularity(zoo, 4)
    assert "b3" not in popular and max(TRUE[m] for m in popular) < 0.95
    # after b1 measured above its prediction, its family was raised (the why says so)
    assert sel.trials["model"].iloc[0] == "b1"
    assert "from the prior" in sel.trials["why"].iloc[1]
    assert "closest: b1, correlation +" in sel.trials["why"].iloc[1]
    # the final ranking: b-family above the generic models, measured values kept
    frame = sel.frame.set_index("model")
    assert frame.at["b3", "measured"] == pytest.approx(0.95)
    assert frame.at["b4", "predicted"] > frame.at["b4", "prior_predicted"]
    assert list(sel.trials.columns) == ["step", "model", "value", "predicted", "low", "high", "why"]


def test_best_is_the_best_tried_model_and_intervals_contain_the_prediction() -> None:
    sel = select_source(
        _family_zoo(), "target", n_trials=3, trial=TRUE.__getitem__, recommender="popularity"
    )
    tried = sel.trials.set_index("model")["value"]
    assert sel.best == tried.idxmax()
    assert (sel.trials["low"] <= sel.trials["predicted"]).all()
    assert (sel.trials["predicted"] <= sel.trials["high"]).all()
    assert sel.trials["step"].tolist() == [1, 2, 3]


def test_batches_propose_distinct_models_per_round() -> None:
    sel = select_source(
        _family_zoo(),
        "target",
        n_trials=6,
        trial=TRUE.__getitem__,
        recommender="popularity",
        batch_size=3,
    )
    assert sel.trials["step"].tolist() == [1, 1, 1, 2, 2, 2]
    assert sel.trials["model"].is_unique
    assert "pick 2 of the round" in sel.trials["why"].iloc[1]


@pytest.mark.parametrize("strategy", ["ei", "ucb", "thompson"])
def test_same_seed_same_trials(strategy: str) -> None:
    def run(seed: int) -> pd.DataFrame:
        return select_source(
            _family_zoo(),
            "target",
            n_trials=5,
            trial=TRUE.__getitem__,
            recommender="popularity",
            strategy=strategy,
            seed=seed,
        ).trials

    pd.testing.assert_frame_equal(run(3), run(3))


def test_records_on_the_target_are_evidence_and_not_tried_again() -> None:
    zoo = _family_zoo()
    known = pd.DataFrame([{"model": "b1", "dataset": "target", "value": TRUE["b1"]}])
    zoo = ZooTables(
        models=zoo.models,
        records=pd.concat([zoo.records, known], ignore_index=True),
        datasets=zoo.datasets,
    )
    sel = select_source(zoo, "target", n_trials=3, trial=TRUE.__getitem__, recommender="popularity")
    assert "b1" not in sel.trials["model"].tolist()
    assert sel.best == "b3"  # b1's record raised its family from the first trial
    assert sel.metadata["known_records"] == 1
    assert sel.frame.set_index("model").at["b1", "measured"] == pytest.approx(TRUE["b1"])


def test_user_trial_writes_nothing_to_the_graph() -> None:
    zoo = _family_zoo()
    graph = ZooGraph()
    graph.add_tables(models=zoo.models, records=zoo.records, datasets=zoo.datasets)
    before, batches = len(graph.to_tables().records), len(graph.batches())
    sel = select_source(
        graph, "target", n_trials=2, trial=TRUE.__getitem__, recommender="popularity"
    )
    assert len(sel.trials) == 2
    assert len(graph.to_tables().records) == before and len(graph.batches()) == batches
    assert sel.metadata["writes"] == "nothing"


def test_top_level_lazy_export() -> None:
    assert kgtransfer.select_source is select_source
    assert "select_source" in kgtransfer.__all__


# ------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_trials": 0}, ArgumentError, "n_trials"),
        ({"n_trials": 2.5}, ArgumentError, "n_trials"),
        ({"batch_size": 0}, ArgumentError, "batch_size"),
        ({"seed": -1}, ArgumentError, "seed"),
        ({"trial": 3}, ArgumentError, "trial must be a function"),
        ({"recommender": object()}, ArgumentError, "fit\\(\\) and rank\\(\\)"),
        ({"recommender": "popularty"}, UnknownNameError, "popularity"),
        ({"strategy": "eii"}, UnknownNameError, "ei"),
        ({"candidates": "b1"}, ArgumentError, "list of ids"),
        ({"candidates": ["b1", "g9"]}, UnknownNameError, "g9"),
    ],
)
def test_bad_arguments_raise_typed_errors(kwargs: dict, error: type, match: str) -> None:
    args = {"n_trials": 2, "trial": TRUE.__getitem__, "recommender": "popularity"} | kwargs
    with pytest.raises(error, match=match):
        select_source(_family_zoo(), "target", **args)


def test_unknown_target_suggests_close_names() -> None:
    with pytest.raises(UnknownNameError, match="target"):
        select_source(_family_zoo(), "targt", n_trials=1, trial=TRUE.__getitem__)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "high", None])
def test_trial_returning_no_finite_number_names_the_model(bad: object) -> None:
    with pytest.raises(ArgumentError, match="trial\\('b1'\\) returned"):
        select_source(
            _family_zoo(), "target", n_trials=2, trial=lambda m: bad, recommender="popularity"
        )


def test_every_candidate_measured_already_is_refused() -> None:
    zoo = _family_zoo()
    known = pd.DataFrame([{"model": "b1", "dataset": "target", "value": 0.9}])
    zoo = ZooTables(
        models=zoo.models,
        records=pd.concat([zoo.records, known], ignore_index=True),
        datasets=zoo.datasets,
    )
    with pytest.raises(ArgumentError, match="already has a record"):
        select_source(
            zoo,
            "target",
            n_trials=1,
            trial=TRUE.__getitem__,
            candidates=["b1"],
            recommender="popularity",
        )


def test_more_trials_than_candidates_tries_them_all_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="untried candidates"):
        sel = select_source(
            _family_zoo(),
            "target",
            n_trials=5,
            trial=TRUE.__getitem__,
            candidates=["b1", "g1"],
            recommender="popularity",
        )
    assert sorted(sel.trials["model"]) == ["b1", "g1"]


def test_product_trial_needs_a_writable_graph_data_and_home(tmp_path: Path) -> None:
    zoo = _family_zoo()
    with pytest.raises(ArgumentError, match="writable ZooGraph"):
        select_source(zoo, "target", n_trials=1, data=(np.zeros((4, 2)), np.zeros(4)))
    path = tmp_path / "graph"
    with ZooGraph.create(path) as graph:
        graph.add_tables(models=zoo.models, records=zoo.records, datasets=zoo.datasets)
    with (
        ZooGraph.open(path, read_only=True) as graph,
        pytest.raises(ArgumentError, match="read_only=True"),
    ):
        select_source(graph, "target", n_trials=1, home=tmp_path)
    graph = ZooGraph()
    graph.add_tables(models=zoo.models, records=zoo.records, datasets=zoo.datasets)
    with pytest.raises(ArgumentError, match="pass data="):
        select_source(graph, "target", n_trials=1, home=tmp_path)
    with pytest.raises(ArgumentError, match="home="):
        select_source(graph, "target", n_trials=1, data=(np.zeros((4, 2)), np.zeros(4)))


@pytest.mark.slow
def test_product_trial_fine_tunes_and_writes_records_back(
    tmp_path: Path, checkpoint_zoo: Callable[[Path], ZooGraph]
) -> None:
    graph = checkpoint_zoo(tmp_path)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    sel = select_source(
        graph,
        "toy",
        n_trials=2,
        recommender="popularity",
        data=(x, y),
        home=tmp_path,
        budget={"epochs": 1, "batch_size": 16},
    )
    written = graph.to_tables().records
    on_target = written[written["dataset"].astype(str) == "toy"]
    assert sorted(on_target["model"].astype(str)) == sorted(sel.trials["model"])
    values = on_target.set_index("model")["value"].astype(float)
    for model, value in zip(sel.trials["model"], sel.trials["value"], strict=True):
        assert values[model] == pytest.approx(value)
    assert graph.batches()["source"].str.contains("transfer_from").sum() == 2
    assert sel.metadata["writes"].startswith("graph records")


@pytest.mark.parametrize("mode", ["collect", "warn"])
def test_failed_trials_are_kept_and_skipped_when_not_raising(mode: str) -> None:
    def trial(model: str) -> float:
        if model == "b1":
            raise RuntimeError("out of memory")
        return TRUE[model]

    def run() -> Selection:
        return select_source(
            _family_zoo(), "target", n_trials=3, trial=trial, recommender="popularity", errors=mode
        )

    if mode == "warn":
        with pytest.warns(UserWarning, match="trial\\('b1'\\) failed: RuntimeError: out of memory"):
            sel = run()
    else:
        sel = run()
    assert len(sel.trials) == 3 and sel.trials["model"].iloc[0] == "b1"
    assert np.isnan(sel.trials["value"].iloc[0]) and "FAILED" in sel.trials["why"].iloc[0]
    assert sel.metadata["failed"] == [
        {"step": 1, "model": "b1", "error": "trial('b1') failed: RuntimeError: out of memory"}
    ]
    assert sel.best != "b1" and np.isfinite(sel.best_value)
    with pytest.raises(RuntimeError, match="out of memory"):  # the default raises
        select_source(_family_zoo(), "target", n_trials=2, trial=trial, recommender="popularity")


def test_errors_mode_is_checked() -> None:
    with pytest.raises(
        ArgumentError, match="errors must be 'raise', 'warn' or 'collect', got 'ignore'"
    ):
        select_source(_family_zoo(), "target", n_trials=1, trial=TRUE.get, errors="ignore")


def test_a_fitted_recommender_is_reused_only_when_it_did_not_see_the_target() -> None:
    zoo = _family_zoo()
    fitted = PopularityRecommender().fit(zoo)  # the target has no records: nothing to hide
    sel = select_source(zoo, "target", n_trials=1, trial=TRUE.__getitem__, recommender=fitted)
    assert sel.metadata["recommender_status"] == "given"
    known = pd.DataFrame([{"model": "b1", "dataset": "target", "value": TRUE["b1"]}])
    seen = ZooTables(
        models=zoo.models,
        records=pd.concat([zoo.records, known], ignore_index=True),
        datasets=zoo.datasets,
    )
    fitted = PopularityRecommender().fit(seen)  # it learned from the target's record
    sel = select_source(seen, "target", n_trials=1, trial=TRUE.__getitem__, recommender=fitted)
    assert sel.metadata["recommender_status"].startswith("refitted")
    assert repr(sel).startswith("Selection(target='target', best=")
