from __future__ import annotations

import pytest
import torch

from kgtransfer.errors import NotFittedError, TransferError
from kgtransfer.models import create_model
from kgtransfer.transfer.methods import FineTune, TargetData


def test_improves_over_scratch(task, source, scratch_accuracy) -> None:
    ft = FineTune(
        n_classes=10, lr_backbone=3e-3, lr_head=3e-3, epochs=30, batch_size=16, seed=0
    ).fit(source, data=task.train)
    acc = ft.score(task.test)
    assert acc > scratch_accuracy + 0.05, (acc, scratch_accuracy)
    r = ft.report_
    assert r.method == "finetune"
    assert {t.name for t in r.reinitialized} == {"head.weight", "head.bias"}
    assert "all backbone blocks trained" in r.notes


def test_last_k_blocks(task, source) -> None:
    ft = FineTune(n_classes=10, train_blocks=1, epochs=3, seed=0).fit(source, data=task.train)
    blocks_src, blocks_ft = source.blocks(), ft.model_.blocks()
    assert torch.equal(blocks_ft[0][1].weight, blocks_src[0][1].weight)  # frozen
    assert not torch.equal(blocks_ft[1][0].weight, blocks_src[1][0].weight)  # trained
    assert all(p.requires_grad for p in ft.model_.parameters())  # unfrozen afterwards
    probe = FineTune(n_classes=10, train_blocks=0, epochs=3, seed=0).fit(source, data=task.train)
    for a, b in zip(probe.model_.blocks(), source.blocks(), strict=True):
        for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
            assert torch.equal(pa, pb)


def test_other_input_shape_through_target(task, source) -> None:
    x, y = task.train
    target = create_model("mlp", n_classes=10, input_shape=(64,))
    ft = FineTune(n_classes=10, epochs=2, seed=0).fit(source, target, (x, y))
    assert len(ft.report_.copied) == 4


def test_augment_is_used(task, source) -> None:
    calls = []

    def noise(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        calls.append(len(x))
        return x + 0.01 * torch.randn(x.shape, generator=gen)

    ft = FineTune(n_classes=10, epochs=2, batch_size=16, seed=0, augment=noise)
    ft.fit(source, data=task.train)
    assert sum(calls) == 2 * 30 - 2 * 0  # every sample of every epoch, batches 16 + 14
    assert ft.get_params()["augment"] is noise  # scikit-learn parameters: the object itself
    assert ft.hyperparameters_["augment"] == "noise"  # the JSON-ready provenance: by name


def test_errors(task, source) -> None:
    with pytest.raises(ValueError, match=r"labels up to 9 \(10 classes\) but n_classes=5"):
        FineTune(n_classes=5, epochs=1).fit(source, data=task.train)
    with pytest.raises(ValueError, match="train_blocks must be 'all' or an int >= 0"):
        FineTune(n_classes=10, train_blocks=-1).fit(source, data=task.train)
    with pytest.raises(ValueError, match="train_blocks=5 but the model has 2 blocks"):
        FineTune(n_classes=10, train_blocks=5).fit(source, data=task.train)
    with pytest.raises(NotFittedError):
        FineTune(n_classes=10).predict(task.test[0])
    with pytest.raises(TransferError, match="architectures do not overlap"):
        other = create_model("cnn_small", n_classes=10, input_shape=(1, 8, 8), width=4)
        FineTune(n_classes=10, epochs=1).fit(
            source, other, (task.train[0].view(-1, 1, 8, 8), task.train[1])
        )


def test_validation_keeps_best_state(task, source) -> None:
    ft = FineTune(n_classes=10, epochs=6, batch_size=16, patience=2, seed=0)
    ft.fit(source, data=TargetData(task.train, val=task.test))
    hist = ft.history_
    assert hist.best_epoch is not None and len(hist.val_accuracy) == len(hist.losses)
    assert ft.score(task.test) == pytest.approx(max(hist.val_accuracy))


def test_model_without_head_refused(task) -> None:
    from torch import nn

    from kgtransfer.models import ZooModel

    class NoHead(ZooModel):
        feature_dim, n_classes = 64, 10

        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(64, 10)

        def forward_features(self, x: torch.Tensor) -> torch.Tensor:
            return x

        def forward_head(self, features: torch.Tensor) -> torch.Tensor:
            return self.lin(features)

        def reset_classifier(self, n_classes: int) -> None:
            self.lin = nn.Linear(64, n_classes)

    with pytest.raises(TransferError, match="needs a model with a `head` module"):
        FineTune(n_classes=10, epochs=1).fit(NoHead(), data=task.train)
