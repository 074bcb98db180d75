"""Registry conformance, checkpoints and cards, wrapping and feature extraction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from kgtransfer.errors import CardParseError, CheckpointError, UnknownNameError
from kgtransfer.models import (
    create_model,
    extract_features,
    get_model_config,
    list_models,
    load_checkpoint,
    load_state_dict_file,
    predict_proba,
    read_card,
    save_checkpoint,
    wrap_module,
)


@pytest.mark.parametrize("name", list_models())
def test_every_model_has_the_feature_interface(name: str) -> None:
    torch.manual_seed(0)
    shape = get_model_config(name).default_input_shape
    model = create_model(name, n_classes=5, input_shape=shape).eval()
    x = torch.randn(3, *shape)
    feats = model.forward_features(x)
    assert feats.shape == (3, model.feature_dim)
    assert torch.equal(model(x), model.forward_head(feats))
    assert model(x).shape == (3, 5)
    model.reset_classifier(7)
    assert model(x).shape == (3, 7) and model.n_classes == 7
    assert len(model.blocks()) >= 2
    assert model.arch == name


def test_unknown_model_suggests_close_names() -> None:
    with pytest.raises(UnknownNameError, match=r"Did you mean 'cnn_small'.*list_models"):
        create_model("cnn_smal", n_classes=2)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="n_classes must be a positive int, got 0"):
        create_model("mlp", n_classes=0)
    with pytest.raises(ValueError, match=r"cnn_small takes image inputs.*\(1, 40\)"):
        create_model("cnn_small", n_classes=2, input_shape=(1, 40))


def test_checkpoint_round_trip_gives_identical_outputs(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model("resnet_small", n_classes=4, input_shape=(1, 8, 8), width=8).eval()
    card = {
        "base_model": "resnet_small.digits",
        "datasets": ["digits_rotated"],
        "model-index": [
            {"name": "x", "results": [{"metrics": [{"type": "accuracy", "value": 0.9}]}]}
        ],
    }
    save_checkpoint(model, tmp_path / "ckpt", name="resnet_small.rot", card=card)
    loaded = load_checkpoint(tmp_path / "ckpt")
    x = torch.randn(6, 1, 8, 8)
    assert torch.equal(model(x), loaded(x))
    meta = read_card(tmp_path / "ckpt" / "README.md")
    assert meta["base_model"] == "resnet_small.digits"
    assert meta["datasets"] == ["digits_rotated"]
    assert meta["architecture"] == "resnet_small" and meta["library_name"] == "kgtransfer"
    assert meta["n_params"] == sum(p.numel() for p in model.parameters())


def test_pickle_and_corrupt_checkpoints_are_refused(tmp_path: Path) -> None:
    model = create_model("mlp", n_classes=2, input_shape=(4,))
    folder = save_checkpoint(model, tmp_path / "m", name="mlp.x")
    (folder / "model.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="Corrupt safetensors"):
        load_checkpoint(folder)
    (folder / "model.safetensors").unlink()
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match=r"Refusing pickle checkpoint 'pytorch_model\.bin'"):
        load_checkpoint(folder)
    with pytest.raises(CheckpointError, match="Refusing pickle file"):
        load_state_dict_file(model, folder / "pytorch_model.bin")


def test_mismatched_state_dict_is_named(tmp_path: Path) -> None:
    small = create_model("mlp", n_classes=2, input_shape=(4,), width=8)
    folder = save_checkpoint(small, tmp_path / "m", name="mlp.x")
    big = create_model("mlp", n_classes=2, input_shape=(4,), width=16)
    with pytest.raises(CheckpointError, match=r"shape mismatches \['body.0.1.bias"):
        load_state_dict_file(big, folder / "model.safetensors")


def test_malformed_card_names_file_and_line(tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    card.write_text("---\nbase_model: a\ndatasets: [x, y\n---\n")
    with pytest.raises(CardParseError, match=r"README.md.* line \d"):
        read_card(card)
    card.write_text("no front matter\n")
    with pytest.raises(CardParseError, match="no YAML front matter"):
        read_card(card)


class _UserNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Flatten(), nn.Linear(6, 10), nn.ReLU())
        self.classifier = nn.Sequential(nn.Dropout(0.0), nn.Linear(10, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def test_wrap_module_splits_a_user_network() -> None:
    torch.manual_seed(0)
    net = _UserNet().eval()
    wrapped = wrap_module(net, input_shape=(6,)).eval()
    x = torch.randn(4, 6)
    assert torch.allclose(wrapped(x), net(x))
    assert wrapped.feature_dim == 10 and wrapped.n_classes == 3
    assert net.classifier[1].out_features == 3  # the user's module is not modified
    with pytest.raises(ValueError, match="Pass head="):
        wrap_module(nn.Sequential(nn.Linear(2, 2)))


def test_feature_extraction_batches_layers_and_probabilities() -> None:
    torch.manual_seed(0)
    model = create_model("cnn_small", n_classes=3, input_shape=(1, 8, 8), width=4)
    x = np.random.default_rng(0).normal(size=(10, 1, 8, 8)).astype(np.float32)
    full = extract_features(model, x, batch_size=3)
    assert full.shape == (10, model.feature_dim)
    np.testing.assert_allclose(
        full, model.forward_features(torch.from_numpy(x)).detach(), rtol=1e-5, atol=1e-6
    )
    mid = extract_features(model, torch.from_numpy(x), layer="body.1")
    assert mid.shape == (10, 8 * 4 * 4)
    probs = predict_proba(model, x)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match=r"no layer 'body\.9'"):
        extract_features(model, x, layer="body.9")
