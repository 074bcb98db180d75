from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from kgtransfer.transfer.methods import Budget, train_loop
from kgtransfer.transfer.methods._train import as_arrays


def _run(seed: int, val: bool = False, epochs: int = 5) -> tuple[nn.Module, object]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2))
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(40, 4, generator=gen)
    y = (x[:, 0] > 0).long()
    loss = nn.CrossEntropyLoss()
    acc = (lambda: float((model(x).argmax(1) == y).float().mean())) if val else None
    hist = train_loop(
        model,
        [{"params": list(model.parameters()), "lr": 1e-2}],
        len(x),
        lambda i: loss(model(x[i]), y[i]),
        epochs=epochs,
        batch_size=8,
        seed=seed,
        val_accuracy=acc,
    )
    return model, hist


def test_seeded_and_deterministic() -> None:
    a, _ = _run(seed=5)
    b, _ = _run(seed=5)
    c, _ = _run(seed=6)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not all(
        torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters(), strict=True)
    )
    assert not a.training  # left in eval mode


def test_global_rng_untouched() -> None:
    model = nn.Linear(2, 2)
    x, y = torch.randn(6, 2), torch.tensor([0, 1, 0, 1, 0, 1])
    state = torch.random.get_rng_state()
    train_loop(
        model,
        [{"params": list(model.parameters()), "lr": 1e-2}],
        6,
        lambda i: nn.functional.cross_entropy(model(x[i]), y[i]),
        epochs=2,
        batch_size=3,
        seed=9,
    )
    assert torch.equal(torch.random.get_rng_state(), state)


def test_early_stopping_keeps_best_state() -> None:
    _, hist = _run(seed=0, val=True, epochs=12)
    assert len(hist.val_accuracy) == len(hist.losses) == 12
    assert hist.best_epoch == int(np.argmax(hist.val_accuracy))
    assert hist.to_dict()["best_val_accuracy"] == max(hist.val_accuracy)


def test_budget_errors() -> None:
    with pytest.raises(ValueError, match="epochs must be an int >= 1, got 0"):
        Budget(epochs=0)
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got nan"):
        Budget(lr=float("nan"))


def test_inputs_accepted_and_checked() -> None:
    x = np.zeros((3, 2), np.float32)
    y = np.array([0, 1, 1])
    for data in ((x, y), TensorDataset(torch.tensor(x), torch.tensor(y))):
        xt, yt = as_arrays(data)
        assert xt.dtype == torch.float32 and yt.tolist() == [0, 1, 1]
    bad = x.copy()
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match="1 input rows contain NaN"):
        as_arrays((bad, y), what="train")
    with pytest.raises(ValueError, match="train: labels contain NaN"):
        as_arrays((x, np.array([0.0, np.nan, 1.0])), what="train")
    with pytest.raises(ValueError, match="labels must be integer class codes"):
        as_arrays((x, np.array([0.0, 0.5, 1.0])))
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        as_arrays((x, np.array([0, 1])))
    with pytest.raises(ValueError, match=r"class codes 0\.\.C-1, got -1"):
        as_arrays((x, np.array([0, -1, 1])))
    with pytest.raises(ValueError, match="expected an ArrayDataset"):
        as_arrays("x")
