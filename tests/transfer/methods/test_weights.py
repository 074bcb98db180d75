from __future__ import annotations

import pytest
import torch
from torch import nn

from kgtransfer.errors import NotFittedError, TransferError
from kgtransfer.models import create_model
from kgtransfer.transfer.methods import WeightTransfer, transfer_weights


def _covers_everything(report, source: nn.Module, target: nn.Module) -> None:
    target_names = [t.name for t in (*report.copied, *report.adapted, *report.reinitialized)]
    assert sorted(target_names) == sorted(target.state_dict())  # each exactly once
    used = {t.name for t in (*report.copied, *report.adapted)}
    dropped = {t.name for t in report.dropped}
    assert used.isdisjoint(dropped)
    assert used | dropped == set(source.state_dict())


def test_identical_architectures_copy_exactly() -> None:
    torch.manual_seed(0)
    src = create_model("cnn_small", n_classes=7, input_shape=(1, 8, 8))
    tgt = create_model("cnn_small", n_classes=7, input_shape=(1, 8, 8))
    x = torch.randn(5, 1, 8, 8)
    assert not torch.equal(src(x), tgt(x))
    wt = WeightTransfer().fit(src, tgt)
    assert torch.equal(src(x), tgt(x))
    assert len(wt.report_.copied) == len(src.state_dict())
    assert not (wt.report_.adapted or wt.report_.reinitialized or wt.report_.dropped)
    assert wt.model_ is tgt


def test_partial_copy_reports_every_tensor() -> None:
    torch.manual_seed(0)
    src = create_model("mlp", n_classes=10, input_shape=(64,), depth=3)
    tgt = create_model("mlp", n_classes=4, input_shape=(64,), depth=2, width=128)
    report = transfer_weights(src, tgt)
    _covers_everything(report, src, tgt)
    assert {t.name for t in report.reinitialized} == {"head.weight", "head.bias"}
    assert {t.name for t in report.dropped} == {
        "head.weight",
        "head.bias",
        "body.2.0.weight",
        "body.2.0.bias",
    }
    assert "head.bias" in str(report) and "new classifier head" in str(report)
    assert torch.equal(tgt.body[1][0].weight, src.body[1][0].weight)
    assert tgt.head.out_features == 4
    d = report.to_dict()
    assert d["reinitialized"][0]["shape"] in ([4, 128], [4])


def test_all_shapes_differ_raises_unless_sliced() -> None:
    torch.manual_seed(0)
    src = create_model("mlp", n_classes=3, input_shape=(64,), width=16)
    tgt = create_model("mlp", n_classes=3, input_shape=(64,), width=8)
    with pytest.raises(TransferError, match="architectures do not overlap"):
        transfer_weights(src, tgt)  # every tensor has another width
    loose = transfer_weights(src, tgt, strict_shapes=False)
    _covers_everything(loose, src, tgt)
    assert torch.equal(tgt.body[0][1].weight, src.body[0][1].weight[:8])
    assert all("overlapping slice" in t.reason for t in loose.adapted)


@pytest.mark.parametrize(("c_src", "c_tgt"), [(1, 3), (3, 1)])
def test_input_channels_adapted(c_src: int, c_tgt: int) -> None:
    torch.manual_seed(0)
    src = create_model("cnn_small", n_classes=5, input_shape=(c_src, 8, 8), width=8)
    tgt = create_model("cnn_small", n_classes=5, input_shape=(c_tgt, 8, 8), width=8)
    report = transfer_weights(src, tgt)
    _covers_everything(report, src, tgt)
    assert [t.name for t in report.adapted] == ["body.0.0.weight"]
    assert f"input channels {c_src} -> {c_tgt}" in report.adapted[0].reason
    gray = torch.rand(4, 1, 8, 8)  # the same image in every channel
    out_src = src.forward_features(gray.repeat(1, c_src, 1, 1))
    out_tgt = tgt.forward_features(gray.repeat(1, c_tgt, 1, 1))
    assert torch.allclose(out_src, out_tgt, atol=1e-5)
    # the adapted kernel is the source's channel mean, repeated and rescaled
    w_src, w_tgt = src.body[0][0].weight, tgt.body[0][0].weight
    assert torch.allclose(w_tgt[:, :1], w_src.mean(1, keepdim=True) * c_src / c_tgt)


def test_no_adaptation_when_disabled() -> None:
    src = create_model("cnn_small", n_classes=5, input_shape=(1, 8, 8), width=8)
    tgt = create_model("cnn_small", n_classes=5, input_shape=(3, 8, 8), width=8)
    report = transfer_weights(src, tgt, adapt_input_channels=False)
    assert not report.adapted
    assert "body.0.0.weight" in {t.name for t in report.reinitialized}
    assert "body.0.0.weight" in {t.name for t in report.dropped}


def test_no_overlap_raises() -> None:
    src = create_model("mlp", n_classes=3, input_shape=(10,), width=12)
    tgt = create_model("cnn_small", n_classes=3, input_shape=(1, 8, 8), width=8)
    with pytest.raises(TransferError, match="No backbone tensor of the source"):
        transfer_weights(src, tgt)


def test_head_reset_is_seeded() -> None:
    src = create_model("mlp", n_classes=10, input_shape=(8,), width=16)
    a = create_model("mlp", n_classes=2, input_shape=(8,), width=16)
    b = create_model("mlp", n_classes=2, input_shape=(8,), width=16)
    transfer_weights(src, a, seed=3)
    transfer_weights(src, b, seed=3)
    assert torch.equal(a.head.weight, b.head.weight)


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError, match="call fit"):
        WeightTransfer().predict(torch.zeros(1, 4))
