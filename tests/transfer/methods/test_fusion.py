from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from kgtransfer.errors import NotFittedError, TransferError
from kgtransfer.models import create_model
from kgtransfer.transfer.methods import TopKEnsemble, average_weights


def _model(seed: int, **kw):
    torch.manual_seed(seed)
    return create_model("mlp", n_classes=3, input_shape=(5,), width=8, **kw)


def test_average_of_identical_models_is_identity() -> None:
    m = _model(0)
    avg = average_weights([m, copy.deepcopy(m), copy.deepcopy(m)], weights=[1, 2, 3])
    x = torch.randn(7, 5)
    assert torch.allclose(avg(x), m(x), atol=1e-6)
    assert avg is not m


def test_weighted_average_hand_computed() -> None:
    a, b = _model(0), _model(1)
    avg = average_weights([a, b], weights=[3, 1])
    expected = 0.75 * a.head.bias + 0.25 * b.head.bias
    assert torch.allclose(avg.head.bias, expected)
    assert torch.allclose(average_weights([a, b], weights=[0, 1]).head.weight, b.head.weight)


def test_average_errors() -> None:
    a = _model(0)
    with pytest.raises(TransferError, match=r"'head.weight' has shape \[4, 8\] in model 1"):
        average_weights([a, create_model("mlp", n_classes=4, input_shape=(5,), width=8)])
    with pytest.raises(TransferError, match=r"'body\.2\.0\.\w+' is in only one of them"):
        average_weights([a, _model(0, depth=3)])
    with pytest.raises(ValueError, match="weights must be 2 finite non-negative"):
        average_weights([a, a], weights=[1, -1])
    with pytest.raises(ValueError, match="at least one model"):
        average_weights([])


def test_ensemble_of_identical_models_is_identity() -> None:
    m = _model(0).eval()
    ens = TopKEnsemble(k=2).fit([m, copy.deepcopy(m)])
    x = torch.randn(6, 5)
    np.testing.assert_allclose(
        ens.predict_proba(x), torch.softmax(m(x), 1).detach().numpy(), rtol=1e-5
    )


def test_ensemble_keeps_the_k_best() -> None:
    x = torch.randn(30, 5)
    good = _model(0)
    y = good(x).argmax(1)
    bad = [_model(s) for s in (1, 2)]
    ens = TopKEnsemble(k=1).fit([*bad, good], data=(x, y))
    assert ens.selected_ == [2]
    assert ens.score((x, y)) == 1.0
    assert ens.accuracies_[2] == 1.0


def test_ensemble_errors() -> None:
    with pytest.raises(NotFittedError):
        TopKEnsemble(k=1).predict(torch.zeros(1, 5))
    with pytest.raises(ValueError, match="k=3 but only 1 models"):
        TopKEnsemble(k=3).fit([_model(0)])
    mixed = [_model(0), create_model("mlp", n_classes=4, input_shape=(5,))]
    with pytest.raises(TransferError, match=r"different numbers of classes \[3, 4\]"):
        TopKEnsemble(k=2).fit(mixed).predict(torch.zeros(2, 5))
