"""create_model(in_chans=), wrap_module(n_classes=) and the device check of feature extraction."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from kgtransfer.models import create_model, extract_features, predict_proba, wrap_module


def test_in_chans_replaces_the_channel_dimension() -> None:
    model = create_model("cnn_small", n_classes=2, in_chans=3, width=4)
    assert model.input_shape == (3, 8, 8)
    assert model(torch.zeros(2, 3, 8, 8)).shape == (2, 2)
    sig = create_model("cnn1d", n_classes=2, in_chans=2, width=4)
    assert sig.input_shape == (2, 40)
    with pytest.raises(ValueError, match=r"in_chans=3 contradicts input_shape=\(1, 28, 28\)"):
        create_model("cnn_small", n_classes=2, input_shape=(1, 28, 28), in_chans=3)
    with pytest.raises(ValueError, match=r"in_chans=3 needs a \(C, ...\) input shape.*\(64,\)"):
        create_model("mlp", n_classes=2, in_chans=3)


def test_wrap_module_with_n_classes_replaces_a_mismatched_head() -> None:
    net = nn.Sequential()
    net.features = nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.ReLU())
    net.classifier = nn.Sequential(nn.Dropout(0.0), nn.Linear(5, 10))
    same = wrap_module(net, input_shape=(6,), n_classes=10)
    assert same.head is not None and torch.equal(same.head.weight, net.classifier[1].weight)
    new = wrap_module(net, input_shape=(6,), n_classes=4)
    assert new.n_classes == 4 and new(torch.zeros(3, 6)).shape == (3, 4)
    assert new.feature_dim == 5


def test_device_mismatch_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    model = create_model("mlp", n_classes=2, input_shape=(4,), width=8)
    x = torch.zeros(3, 4)
    assert extract_features(model, x, device="cpu").shape == (3, 8)
    assert predict_proba(model, x, device=torch.device("cpu")).shape == (3, 2)
    # device= is checked by resolve_device ('meta' is no compute device): a CUDA that
    # torch claims to see reaches the mismatch check without a GPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match=r"model is on cpu but device='cuda'.*model.to\('cuda'\)"):
        extract_features(model, x, device="cuda")
