"""Records carry their training regime; comparisons stay within one regime."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from kgtransfer.errors import ArgumentError, IngestError
from kgtransfer.kg import (
    REGIME_COLUMNS,
    ZooGraph,
    ZooTables,
    dataset_regime,
    normalize_tables,
    regime_key,
    regime_of,
    select_regime,
)
from kgtransfer.transfer.recommend import PopularityRecommender, evaluate_recommender
from kgtransfer.transfer.recommend._data import truth_table

FULL = {"n_train": 1347, "split": "train(seed=0,test_size=0.25)", "epochs": 30.0}
FEW = {"n_train": 100, "shots": 10, "split": "train(seed=0)+few_shot(10/class,seed=0)"}


def _readme_records() -> pd.DataFrame:
    """The README example: a full-split result beside the grid's 10-shot results,
    same model, dataset, method and seed."""
    rows = [
        {"model": "cnn_small.digits", "value": 0.944, **FULL, "epochs": 30.0},
        {"model": "cnn_small.digits", "value": 0.616, **FEW, "epochs": 3.0},
        {"model": "mlp.digits", "value": 0.70, **FEW, "epochs": 3.0},
        {"model": "cnn_small.rotated", "value": 0.58, **FEW, "epochs": 3.0},
    ]
    frame = pd.DataFrame(rows)
    return frame.assign(
        dataset="digits_shifted", method="finetune", seed=0, metric="accuracy", frozen=False
    )


def _graph() -> ZooGraph:
    graph = ZooGraph()
    records = _readme_records()
    graph.add_records(
        records,
        models=pd.DataFrame({"model": sorted(set(records["model"]))}),
        datasets=pd.DataFrame({"dataset": ["digits_shifted"], "n_classes": [10]}),
    )
    return graph


def test_regime_labels() -> None:
    assert regime_of({}) == "unknown"
    label = regime_of({"method": "finetune", "n_train": 100.0, "frozen": False, "epochs": 3})
    assert label == (
        "method=finetune;n_train=100;shots=unknown;split=unknown;epochs=3;steps=unknown;"
        "frozen=false"
    )
    frame = pd.DataFrame(
        {"method": ["finetune", None], "n_train": pd.array([100, None], dtype="Int64")}
    ).assign(frozen=pd.array([False, None], dtype="boolean"), epochs=[3.0, None])
    assert regime_key(frame).tolist() == [label, "unknown"]
    numpy = {"method": "finetune", "n_train": np.int64(100), "frozen": np.False_, "epochs": 3.0}
    assert regime_of(numpy) == label
    # ties go to the label that sorts first, whatever the row order
    tie = pd.DataFrame({"method": ["lora", "finetune"]})
    assert (
        dataset_regime(tie) == dataset_regime(tie.iloc[::-1]) == regime_of({"method": "finetune"})
    )
    with pytest.raises(ArgumentError, match="unknown part"):
        select_regime(tie.assign(dataset="d"), {"epoch": 3})
    with pytest.raises(ArgumentError, match="got str 'anyy'"):
        select_regime(tie.assign(dataset="d"), "anyy")
    assert list(REGIME_COLUMNS) == [
        "method", "n_train", "shots", "split", "epochs", "steps", "frozen",
    ]  # fmt: skip


def test_records_differing_only_in_regime_are_distinct_runs() -> None:
    tables, report = normalize_tables(records=_readme_records(), create_missing=True)
    assert len(tables.records) == 4 and not report.rejections
    # the same regime and key with another value is still a conflict
    twice = pd.concat([_readme_records().iloc[:1]] * 2).assign(value=[0.944, 0.9])
    with pytest.raises(IngestError, match="conflicts with row 1"):
        normalize_tables(records=twice, create_missing=True)


def test_readme_scenario_best_sources_within_the_target_regime() -> None:
    graph = _graph()
    records = graph.to_tables().records
    assert len(records) == 4  # both results of cnn_small.digits are kept
    mine = records[records["model"] == "cnn_small.digits"]
    assert regime_key(mine).nunique() == 2
    best = graph.best_sources("digits_shifted")
    # the 10-shot regime of most records: 0.616, not the full-split 0.944
    assert best[["model", "best"]].values.tolist() == [
        ["mlp.digits", 0.70],
        ["cnn_small.digits", 0.616],
        ["cnn_small.rotated", 0.58],
    ]
    assert best.attrs["regime"] == regime_of(
        {**FEW, "method": "finetune", "epochs": 3.0, "frozen": False}
    )
    assert (best["regime"] == best.attrs["regime"]).all()
    assert "span 2 regimes" in best.attrs["notes"][0]  # said, not silent
    mixed = graph.best_sources("digits_shifted", regime="any")
    assert mixed["best"].tolist()[0] == 0.944 and mixed.attrs["notes"] == []
    full = graph.best_sources(
        "digits_shifted", regime={**FULL, "method": "finetune", "frozen": False}
    )
    assert full["best"].tolist() == [0.944]


def test_regime_round_trips_through_tables_nquads_and_rdflib() -> None:
    graph = _graph()
    before = graph.to_tables().records
    assert before["n_train"].dtype == "Int64" and before["frozen"].dtype == "boolean"
    buffer = io.BytesIO()
    graph.export(buffer, format="nq")
    restored = ZooGraph()
    restored.load_rdf(buffer.getvalue(), format="nq")
    via_rdflib = ZooGraph.from_rdflib(graph.to_rdflib())
    for other in (restored, via_rdflib):
        after = other.to_tables().records
        pd.testing.assert_frame_equal(after[before.columns], before)
        assert regime_key(after).tolist() == regime_key(before).tolist()
    found = graph.query(
        "SELECT ?n ?shots ?frozen WHERE { ?r kgt:nTrain ?n ; kgt:shots ?shots ; kgt:frozen ?frozen }"
    )
    assert sorted(found["n"]) == [100, 100, 100] and set(found["frozen"]) == {False}


def test_truth_and_recommender_compare_like_with_like() -> None:
    records = _readme_records()
    tables = ZooTables(records=records)
    truth = truth_table(tables)
    values = truth.values.set_index("model")["value"]
    assert values["cnn_small.digits"] == 0.616  # not the full-split 0.944
    assert truth.notes and "digits_shifted" in truth.notes[0]
    assert (
        truth_table(tables, regime="any").values.set_index("model")["value"]["cnn_small.digits"]
        == 0.944
    )
    # the benchmark's ground truth stays the best run per (model, target) unless asked
    other = records.assign(dataset="other", value=[0.5, 0.4, 0.6, 0.3])
    both = ZooTables(records=pd.concat([records, other], ignore_index=True))
    seen: list[ZooTables] = []

    class Spy(PopularityRecommender):
        def fit(self, graph, exclude_datasets=()):  # type: ignore[no-untyped-def]
            seen.append(graph)
            return super().fit(graph, exclude_datasets=exclude_datasets)

    res = evaluate_recommender(Spy, both, ["digits_shifted"], min_models=1)
    assert res["regime"] == "any"
    assert regime_key(seen[-1].records).nunique() == 1  # fitted on mixed regimes too
    own = evaluate_recommender(Spy, both, ["digits_shifted"], min_models=1, regime=None)
    assert own["regime"] == "each target's own" and own["regime_notes"]
    assert regime_key(seen[-1].records).nunique() == 2  # each dataset's own, chosen inside


@pytest.mark.parametrize(
    ("label", "part"),
    [
        ("method=finetune;shots=10", "missing part"),
        ("method=finetune;n_train=5;shots=1;split=x;epochs=1;steps=1;frozen=true;lr=3", "unknown"),
        ("method=lora;shots=1;n_train=5;split=x;epochs=1;steps=1;frozen=true", "out of order"),
    ],
)
def test_partial_or_misspelt_regime_label_is_refused(label: str, part: str) -> None:
    recs = pd.DataFrame({"dataset": ["d"], "value": [0.5], "method": ["finetune"], "shots": [10]})
    with pytest.raises(ArgumentError, match=part):
        select_regime(recs, label)
    full = regime_of({"method": "finetune", "shots": 10})
    assert len(select_regime(recs, full)[0]) == 1
