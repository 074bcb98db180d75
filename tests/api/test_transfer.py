"""transfer_from(): automatic method choice, scratch comparison, write-back; evaluate()."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from kgtransfer.api import evaluate, recommend, transfer_from
from kgtransfer.errors import TransferError, UnknownNameError
from kgtransfer.kg import ZooGraph, ZooTables
from kgtransfer.models import create_model, save_checkpoint

torch.set_num_threads(1)
FAST = {"epochs": 2, "batch_size": 16}


def _tabular(n: int = 60, d: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def test_auto_same_architecture_fine_tunes_and_writes_back() -> None:
    src = create_model("mlp", n_classes=3, input_shape=(4,))
    graph = ZooGraph()
    result = transfer_from(
        src, None, _tabular(), budget=FAST, graph=graph, source_name="mlp.src", target_name="toy"
    )
    choice = result.provenance["choice"]
    assert (result.method, choice["requested"], choice["method"]) == (
        "finetune",
        "auto",
        "finetune",
    )
    assert "same architecture 'mlp'" in choice["reason"] and "copied" in choice["reason"]
    assert result.gain == pytest.approx(result.accuracy - result.scratch_accuracy)
    # the graph now holds the record, with scratch_accuracy/gain attributes like the grid's
    records = graph.to_tables().records
    assert len(records) == 1
    row = records.iloc[0]
    assert (row["model"], row["dataset"], row["method"]) == ("mlp.src", "toy", "finetune")
    assert row["value"] == pytest.approx(result.accuracy)
    assert row["gain"] == pytest.approx(result.gain)
    assert row["scratch_accuracy"] == pytest.approx(result.scratch_accuracy)
    assert (row["n_train"], row["epochs"], row["frozen"]) == (45, 2.0, False)  # its regime
    assert row["split"] == "train(seed=0,test_size=0.25)"
    assert result.record_id in set(graph.records(limit=None)["record"])
    batches = graph.batches()
    assert batches["source"].str.contains("transfer_from").any()
    graph.remove_record(result.record_id)
    assert len(graph.to_tables().records) == 0


def test_auto_other_architecture_distils() -> None:
    src = create_model("mlp", n_classes=3, input_shape=(4,))
    result = transfer_from(src, "mlp_wide", _tabular(), budget=FAST, target_name="toy")
    assert result.method == "distill_feature"
    assert "predicts 3 classes, not 2" in result.provenance["choice"]["reason"]
    two = create_model("mlp", n_classes=2, input_shape=(4,))
    result = transfer_from(two, "mlp_wide", _tabular(), budget=FAST, target_name="toy")
    assert result.method == "distill_logit"


def test_auto_refuses_what_cannot_transfer() -> None:
    src = create_model("cnn_small", n_classes=10, input_shape=(1, 8, 8))
    with pytest.raises(TransferError, match="cannot read the target inputs"):
        transfer_from(src, "mlp", _tabular(), budget=FAST)


def test_explicit_method_and_unknown_method() -> None:
    src = create_model("mlp", n_classes=2, input_shape=(4,))
    result = transfer_from(src, None, _tabular(), method="linear_probe", budget=FAST)
    assert result.method == "linear_probe"
    assert result.provenance["choice"] == {
        "requested": "linear_probe",
        "method": "linear_probe",
        "reason": "requested",
        "compatibility": {"how": "reads", "why": "reads the target's inputs (4,) as they are"},
    }
    with pytest.raises(UnknownNameError, match="Unknown transfer method 'finetun'"):
        transfer_from(src, None, _tabular(), method="finetun")


def test_target_keyword_and_its_deprecated_name() -> None:
    src = create_model("mlp", n_classes=3, input_shape=(4,))
    new = transfer_from(src, target="mlp", data=_tabular(), budget=FAST, scratch=False)
    with pytest.warns(DeprecationWarning, match="target_model_or_arch"):
        old = transfer_from(
            src, data=_tabular(), target_model_or_arch="mlp", budget=FAST, scratch=False
        )
    assert (old.method, old.accuracy) == (new.method, new.accuracy)
    with pytest.raises(ValueError, match="needs the target data"):
        transfer_from(src, "mlp")


def test_source_from_checkpoint_folder_and_names(tmp_path: Path) -> None:
    src = create_model("mlp", n_classes=2, input_shape=(4,))
    save_checkpoint(src, tmp_path / "mlp.mine", name="mlp.mine", card={"license": "mit"})
    result = transfer_from(str(tmp_path / "mlp.mine"), None, _tabular(), budget=FAST)
    assert result.source == "mlp.mine"
    with pytest.raises(ValueError, match="pass home="):
        transfer_from("mlp.digits", None, _tabular(), budget=FAST)
    with pytest.raises(UnknownNameError, match="zoo model"):
        transfer_from("mlp.digitz", None, _tabular(), budget=FAST, home=tmp_path)
    with pytest.raises(ValueError, match="Cannot use a 'int' as a source"):
        transfer_from(3, None, _tabular())


def test_registered_dataset_uses_its_test_split() -> None:
    src = create_model("mlp", n_classes=10, input_shape=(4,))
    with pytest.raises(TransferError):
        transfer_from(src, "cnn_small", "digits_parity", budget=FAST)
    cnn = create_model("cnn_small", n_classes=10, input_shape=(1, 8, 8))
    result = transfer_from(cnn, None, "digits_parity", budget={"epochs": 1})
    assert result.target == "digits_parity" and result.method == "finetune"
    assert "digits_parity" in result.provenance["split"]


def test_evaluate_against_best_in_hindsight() -> None:
    records = pd.DataFrame(
        {
            "model": ["a", "b", "c", "b"],
            "dataset": ["t", "t", "t", "u"],
            "value": [0.9, 0.7, 0.8, 0.99],
            "run": [None, None, None, None],
        }
    )
    tables = ZooTables(records=records)
    r = SimpleNamespace(
        target="t",
        source="c",
        method="finetune",
        accuracy=0.78,
        scratch_accuracy=0.7,
        gain=0.08,
        negative_transfer=False,
    )
    ev = evaluate(r, tables)
    assert (ev.best_in_hindsight, ev.source_rank, ev.n_sources) == ("a", 2, 3)
    assert ev.regret == pytest.approx(0.12)
    assert ev.relative == pytest.approx(0.78 / 0.9)
    assert evaluate(r).best_in_hindsight is None  # no ground truth without a graph
    summary = ev.summary()
    assert summary["transfer_gain"] == 0.08 and summary["target"] == "t"
    json.dumps(ev.to_dict())


def test_evaluate_ignores_its_own_record_and_joins_recommendation() -> None:
    graph = ZooGraph()
    graph.add_records(
        pd.DataFrame({"model": ["a", "b", "c"], "dataset": ["toy"] * 3, "value": [0.95, 0.6, 0.7]}),
        models=pd.DataFrame({"model": ["a", "b", "c"]}),
        datasets=pd.DataFrame({"dataset": ["toy"]}),
    )
    src = create_model("mlp", n_classes=2, input_shape=(4,))
    result = transfer_from(
        src, None, _tabular(), budget=FAST, graph=graph, source_name="b", target_name="toy"
    )
    from kgtransfer.transfer import PopularityRecommender

    rec = recommend(graph, "toy", k=None, recommender=PopularityRecommender())
    ev = evaluate(result, graph, recommendation=rec)
    assert ev.best_in_hindsight == "a" and ev.n_sources == 3  # own record not counted
    assert ev.predicted is not None
