"""Fine-tuning: copy the source, reset the head, train with separate learning rates."""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, ClassVar, Literal

import torch
from torch import nn

from kgtransfer.errors import TransferError
from kgtransfer.models import Device, ZooModel
from kgtransfer.transfer.methods._base import TargetData, TransferMethod, build_target
from kgtransfer.transfer.methods._registry import register_method
from kgtransfer.transfer.methods.weights import transfer_weights
from kgtransfer.transfer.training import (
    TrainHistory,
    accuracy_of,
    as_arrays,
    batched_predict,
    check_budget,
    check_n_classes,
)

__all__ = ["FineTune"]

#: Batch augmentation: (inputs, generator) -> augmented inputs of the same shape.
Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@register_method("finetune")
class FineTune(TransferMethod):
    """Fine-tune a copy of the source on the target.

    The source's weights are copied (into a copy of the source, or into the given
    target model or architecture, e.g. of another input shape, via
    :func:`transfer_weights`), the head is replaced by a fresh one with ``n_classes``
    outputs, and the model is trained with Adam: ``lr_backbone`` on the trainable
    backbone blocks, ``lr_head`` on the head. A fit's ``budget`` sets ``epochs``,
    ``batch_size``, ``weight_decay`` and both learning rates.

    Args:
        n_classes: Number of target classes (None: the target model's, else the
            data's ``n_classes`` or its largest label + 1).
        train_blocks: ``"all"`` or the number k of last backbone blocks to train
            (the others are frozen; 0 trains the head only).
        lr_backbone: Learning rate of the trained backbone blocks.
        lr_head: Learning rate of the head.
        epochs: Passes over the training data.
        batch_size: Mini-batch size.
        weight_decay: Adam L2 penalty.
        seed: Seeds the new head, a named target architecture, the batch order and
            the augmentation.
        augment: Optional ``augment(x, generator) -> x`` applied to each batch.
        patience: Early-stopping patience on validation accuracy (with ``TargetData.val``).
        progress: Show a tqdm bar on stderr.
        device: Where the fit computes (``"cpu"``, ``"auto"``, ``"cuda"``, ...; see
            :func:`kgtransfer.models.resolve_device`); the fitted model stays there.

    Attributes:
        model_: The fine-tuned model.
        report_: :class:`TransferReport` (copied backbone, new head, frozen blocks).
        history_: The training history.
        hyperparameters_: The effective settings of the fit.

    Raises (from ``fit``):
        ValueError: Bad settings, NaN inputs/labels, labels beyond ``n_classes``.
        TransferError: The target shares no backbone tensor with the source, or has no head.

    Example:
        >>> import torch
        >>> from kgtransfer.models import create_model
        >>> src = create_model("mlp", n_classes=3, input_shape=(4,))
        >>> x, y = torch.randn(20, 4), torch.arange(20) % 2
        >>> ft = FineTune(n_classes=2, epochs=2).fit(src, None, (x, y))
        >>> ft.model_.n_classes, ft.predict(x).shape
        (2, (20,))
    """

    _budget_params: ClassVar[dict[str, tuple[str, ...]]] = {
        "epochs": ("epochs",),
        "lr": ("lr_backbone", "lr_head"),
        "batch_size": ("batch_size",),
        "weight_decay": ("weight_decay",),
    }

    def __init__(
        self,
        *,
        n_classes: int | None = None,
        train_blocks: Literal["all"] | int = "all",
        lr_backbone: float = 1e-3,
        lr_head: float = 1e-2,
        epochs: int = 30,
        batch_size: int = 32,
        weight_decay: float = 0.0,
        seed: int = 0,
        augment: Augment | None = None,
        patience: int | None = None,
        progress: bool = False,
        device: Device = "cpu",
    ) -> None:
        self.n_classes = n_classes
        self.train_blocks = train_blocks
        self.lr_backbone = lr_backbone
        self.lr_head = lr_head
        self.epochs = epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.seed = seed
        self.augment = augment
        self.patience = patience
        self.progress = progress
        self.device = device

    def backbone_frozen(self) -> bool | None:
        """False when every block trains, True for the head only, else None."""
        return False if self.train_blocks == "all" else (True if self.train_blocks == 0 else None)

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model_(x)
        return out

    @staticmethod
    def _check(p: SimpleNamespace) -> None:
        n = p.n_classes
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n_classes must be a positive int, got {n!r}.")
        tb = p.train_blocks
        if tb != "all" and (isinstance(tb, bool) or not isinstance(tb, int) or tb < 0):
            raise ValueError(f"train_blocks must be 'all' or an int >= 0, got {tb!r}.")
        check_budget(p.epochs, p.lr_backbone, p.batch_size, p.weight_decay)
        check_budget(p.epochs, p.lr_head, p.batch_size)

    @staticmethod
    def _freeze(model: ZooModel, train_blocks: Any) -> list[str]:
        """Freeze all but the last ``train_blocks`` blocks; return notes."""
        if train_blocks == "all":
            return ["all backbone blocks trained"]
        blocks = model.blocks()
        k = int(train_blocks)
        if not blocks:
            raise TransferError(
                f"train_blocks={k} needs a model with blocks(); {type(model).__name__} "
                "has none. Use train_blocks='all'."
            )
        if k > len(blocks):
            raise ValueError(
                f"train_blocks={k} but the model has {len(blocks)} blocks; "
                f"use 0..{len(blocks)} or 'all'."
            )
        heads = {id(p) for p in model.head.parameters()}
        trainable = {id(p) for b in blocks[len(blocks) - k :] for p in b.parameters()}
        for p in model.parameters():
            if id(p) not in heads and id(p) not in trainable:
                p.requires_grad_(False)
        return [f"last {k} of {len(blocks)} blocks trained, the rest frozen"]

    def _fit(self, source: Any, target: Any, data: TargetData | None, p: SimpleNamespace) -> None:
        train = self._train_data(data, "FineTune")
        x, y = as_arrays(train, what="train_data")
        if p.n_classes is None:
            p.n_classes = int(
                getattr(target, "n_classes", 0)
                or getattr(train, "n_classes", 0)
                or int(y.max()) + 1
            )
        self._check(p)
        check_n_classes(y, p.n_classes, what="train_data", model=f"n_classes={p.n_classes}")
        if isinstance(target, str):
            base = build_target(target, x, p.n_classes, p.seed)
        else:
            base = copy.deepcopy(target if target is not None else source)
        if not isinstance(getattr(base, "head", None), nn.Module):
            raise TransferError(
                f"FineTune needs a model with a `head` module (the classifier); "
                f"{type(base).__name__} has none. Wrap it with kgtransfer.models.wrap_module."
            )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(p.seed))
            base.reset_classifier(p.n_classes)
        report = transfer_weights(source, base, reset_head=True, seed=p.seed)
        base.to(p.device)  # a copy: the source and the given target stay where they are
        x, y = x.to(p.device), y.to(p.device)
        report.method = "finetune"
        report.notes += self._freeze(base, p.train_blocks)
        head_ids = {id(q) for q in base.head.parameters()}
        backbone = [q for q in base.parameters() if q.requires_grad and id(q) not in head_ids]
        groups = [
            {"params": backbone, "lr": p.lr_backbone},
            {"params": list(base.head.parameters()), "lr": p.lr_head},
        ]
        gen = torch.Generator().manual_seed(int(p.seed) + 1)
        loss_fn = nn.CrossEntropyLoss()
        augment = p.augment

        def batch_loss(idx: torch.Tensor) -> torch.Tensor:
            xb = x[idx] if augment is None else augment(x[idx], gen)
            loss: torch.Tensor = loss_fn(base(xb), y[idx])
            return loss

        val_fn = None
        if (val := self._val_arrays(data, p)) is not None:
            xv, yv = val
            val_fn = lambda: accuracy_of(batched_predict(base, xv), yv)  # noqa: E731
        self.history_: TrainHistory = self._train_loop(
            base,
            groups,
            len(x),
            batch_loss,
            p,
            val_accuracy=val_fn,
            desc="fine-tune",
            patience=p.patience,
        )
        for q in base.parameters():
            q.requires_grad_(True)
        self.model_ = base
        self.report_ = report
