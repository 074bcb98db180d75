"""evaluate_transfer: a transfer against a scratch baseline, on the built-in digits tasks."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from kgtransfer import ZooGraph
from kgtransfer.data import ArrayDataset, load_dataset
from kgtransfer.errors import UnknownNameError
from kgtransfer.models import create_model
from kgtransfer.transfer import (
    Budget,
    FeatureTransfer,
    TransferResult,
    evaluate_transfer,
    list_transfer_methods,
)
from kgtransfer.transfer.methods import train_loop

torch.set_num_threads(1)
BUDGET = Budget(epochs=30, lr=3e-3, batch_size=16)


@pytest.fixture(scope="module")
def target():
    """Parity of held-out digits (the digits test split): 4 per class to train, rest to test."""
    digits = load_dataset("digits", split="test", seed=0)
    ds = ArrayDataset(
        digits.x,
        digits.y % 2,
        classes=["even", "odd"],
        name="heldout_parity",
        modality="image",
        metadata={"split": "digits test split"},
    )
    few = np.concatenate([np.flatnonzero(ds.y == c)[:4] for c in range(2)])
    rest = np.setdiff1d(np.arange(len(ds)), few)
    return ds.subset(few), ds.subset(rest)


@pytest.fixture(scope="module")
def source():
    """An mlp pre-trained on the digits train split (10 classes; no image in common)."""
    data = load_dataset("digits", split="train", seed=0)
    x, y = torch.tensor(data.x), torch.tensor(data.y)
    torch.manual_seed(0)
    model = create_model("mlp", n_classes=10, input_shape=data.input_shape)
    loss = torch.nn.CrossEntropyLoss()
    train_loop(
        model,
        [{"params": list(model.parameters()), "lr": 3e-3}],
        len(x),
        lambda i: loss(model(x[i]), y[i]),
        epochs=10,
        batch_size=64,
        seed=0,
    )
    return model


def test_transfer_beats_scratch_and_writes_back(source, target) -> None:
    train, test = target
    graph = ZooGraph()
    r = evaluate_transfer(
        "finetune",
        source,
        "mlp",
        train,
        test,
        budget=BUDGET,
        seed=0,
        graph=graph,
        source_name="mlp.digits",
    )
    assert isinstance(r, TransferResult)
    assert r.target == "heldout_parity" and r.source == "mlp.digits"
    assert r.gain == pytest.approx(r.accuracy - r.scratch_accuracy)
    assert r.gain > 0.02 and not r.negative_transfer, r
    prov = r.provenance
    assert prov["seed"] == 0 and prov["method"] == "finetune"
    assert prov["hyperparameters"]["budget"] == BUDGET.to_dict()
    assert prov["hyperparameters"]["lr_backbone"] == BUDGET.lr
    assert prov["split"] == (
        "train: 8 samples of heldout_parity (digits test split); "
        f"test: {len(test)} samples of heldout_parity (digits test split)"
    )
    assert set(prov["versions"]) >= {"torch", "numpy", "kgtransfer"}
    assert prov["timestamp"].endswith("+00:00")
    assert {t["name"] for t in prov["report"]["reinitialized"]} == {"head.weight", "head.bias"}
    records = graph.records(dataset="heldout_parity")
    assert records["record"].tolist() == [r.record_id]
    row = records.iloc[0]
    assert (row["model"], row["method"], int(row["seed"])) == ("mlp.digits", "finetune", 0)
    assert float(row["value"]) == pytest.approx(r.accuracy)
    # gain and scratch accuracy are numeric attributes, read back by the recommender's tables
    back = graph.to_tables().records.set_index("model").loc["mlp.digits"]
    assert float(back["gain"]) == pytest.approx(r.gain)
    assert float(back["scratch_accuracy"]) == pytest.approx(r.scratch_accuracy)
    buf = io.BytesIO()
    graph.export(buf, format="nq")
    assert b"scratch_accuracy" in buf.getvalue() and b"negative_transfer" in buf.getvalue()


def test_reproducible_for_a_seed(source, target) -> None:
    train, test = target
    small = Budget(epochs=3, lr=3e-3, batch_size=16)
    a = evaluate_transfer("linear_probe", source, "mlp", train, test, budget=small, seed=4)
    b = evaluate_transfer("linear_probe", source, "mlp", train, test, budget=small, seed=4)
    assert (a.accuracy, a.scratch_accuracy) == (b.accuracy, b.scratch_accuracy)


def test_negative_transfer_flagged(source, target) -> None:
    train, test = target
    dead = create_model("mlp", n_classes=10, input_shape=(1, 8, 8))
    for p in dead.parameters():
        torch.nn.init.zeros_(p)  # constant features: a useless source
    r = evaluate_transfer("linear_probe", dead, "mlp", train, test, budget=BUDGET, seed=0)
    assert r.accuracy < 0.6 < r.scratch_accuracy
    assert r.negative_transfer
    lenient = evaluate_transfer(
        "linear_probe", dead, "mlp", train, test, budget=BUDGET, seed=0, tolerance=1.0
    )
    assert not lenient.negative_transfer


def test_instances_zoo_budgets_and_no_scratch(source, target) -> None:
    train, test = target
    method = FeatureTransfer(head="mlp", epochs=2, lr=1e-2, batch_size=8, seed=0)
    r = evaluate_transfer(method, source, "mlp", train, test, scratch=False)
    assert r.method == "mlp_probe" and r.scratch_accuracy is None and r.gain is None
    assert not r.negative_transfer
    assert r.provenance["hyperparameters"]["budget"]["lr"] == 1e-2  # taken from the instance
    from types import SimpleNamespace

    duck = SimpleNamespace(epochs=1, lr=3e-3, batch_size=64)  # any object with the fields
    z = evaluate_transfer("finetune", source, "mlp", train, test, budget=duck)
    assert z.provenance["hyperparameters"]["budget"]["epochs"] == 1
    assert sorted(r.to_record()) == [
        "attributes",
        "dataset",
        "epochs",
        "frozen",
        "method",
        "metric",
        "model",
        "n_train",
        "provenance",
        "run",
        "seed",
        "shots",
        "split",
        "steps",
        "value",
    ]
    assert r.to_record()["frozen"] is True  # a probe keeps the source backbone frozen


def test_distillation_by_name(source, target) -> None:
    train, test = target
    r = evaluate_transfer(
        "distill_feature",
        source,
        "cnn_small",
        train,
        test,
        budget=Budget(epochs=1),
        unlabeled=test.x[:20],
    )
    assert r.method == "distill_feature"
    assert "20 unlabeled inputs" in r.provenance["split"]
    assert r.provenance["target_architecture"] == "cnn_small"


def test_errors(source, target) -> None:
    train, test = target
    assert "finetune" in list_transfer_methods()
    with pytest.raises(UnknownNameError, match="Did you mean 'finetune'"):
        evaluate_transfer("finetun", source, "mlp", train, test)
    with pytest.raises(ValueError, match=r"pass source_name=\.\.\. and target_name"):
        evaluate_transfer("finetune", source, "mlp", train, test, graph=ZooGraph())
    wrong = create_model("mlp", n_classes=3, input_shape=(1, 8, 8))
    with pytest.raises(
        ValueError, match="target model predicts 3 classes but the target data has 2"
    ):
        evaluate_transfer("finetune", source, wrong, train, test)
    with pytest.raises(ValueError, match="only used by distillation, not by 'finetune'"):
        evaluate_transfer("finetune", source, "mlp", train, test, unlabeled=test.x)
    bad = test.x.copy()
    bad[3, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="test: 1 input rows contain NaN"):
        evaluate_transfer("finetune", source, "mlp", train, (bad, test.y))
    with pytest.raises(
        ValueError, match=r"test has labels up to 4 \(5 classes\) but the target model predicts 2"
    ):
        evaluate_transfer("finetune", source, "mlp", train, (test.x, test.y + 3))
    with pytest.raises(ValueError, match="epochs must be an int >= 1"):
        evaluate_transfer("finetune", source, "mlp", train, test, budget={"epochs": 0})
