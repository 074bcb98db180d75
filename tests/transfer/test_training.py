"""kgtransfer.transfer.training: the public scratch baseline, predict and accuracy."""

from __future__ import annotations

import torch

from kgtransfer.models import create_model
from kgtransfer.transfer.training import (
    Budget,
    accuracy,
    predict,
    train_classifier,
    train_from_scratch,
)


def test_public_training_module_scratch_predict_accuracy() -> None:
    torch.manual_seed(0)
    x = torch.randn(60, 5)
    y = (x[:, 0] > 0).long()
    budget = Budget(epochs=15, lr=1e-2, batch_size=16)
    a = train_from_scratch("mlp", (x, y), budget, seed=1)
    b = train_from_scratch("mlp", (x, y), budget, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert accuracy(a, (x, y)) > 0.8
    assert predict(a, x).shape == (60,) and predict(a, x.numpy()).dtype.kind == "i"
    assert accuracy(a, (x, y)) == float((predict(a, (x, y)) == y.numpy()).mean())
    fresh = create_model("mlp", n_classes=2, input_shape=(5,))
    before = [p.clone() for p in fresh.parameters()]
    trained = train_from_scratch(fresh, (x, y), budget, seed=1)
    assert trained is not fresh  # the given model is copied, not changed
    assert all(torch.equal(p, q) for p, q in zip(before, fresh.parameters(), strict=True))
    history = train_classifier(fresh, (x, y), {"epochs": 2}, seed=0)
    assert len(history.losses) == 2
