"""Fine-tuning: copy the source, reset the head, train with separate learning rates."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Literal

import torch
from torch import nn

from kgtransfer.errors import TransferError
from kgtransfer.models import ZooModel
from kgtransfer.transfer.methods._base import Classifier
from kgtransfer.transfer.methods._train import (
    TrainHistory,
    accuracy_of,
    as_arrays,
    batched_predict,
    check_budget,
    check_n_classes,
    train_loop,
)
from kgtransfer.transfer.methods.weights import transfer_weights

__all__ = ["FineTune"]

#: Batch augmentation: (inputs, generator) -> augmented inputs of the same shape.
Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


class FineTune(Classifier):
    """Fine-tune a copy of the source on the target.

    The source's weights are copied (into a copy of the source, or into a given
    target model of another input shape via :func:`transfer_weights`), the head is
    replaced by a fresh one with ``n_classes`` outputs, and the model is trained
    with Adam: ``lr_backbone`` on the trainable backbone blocks, ``lr_head`` on
    the head.

    Args:
        n_classes: Number of target classes.
        train_blocks: ``"all"`` or the number k of last backbone blocks to train
            (the others are frozen; 0 trains the head only).
        lr_backbone: Learning rate of the trained backbone blocks.
        lr_head: Learning rate of the head.
        epochs: Passes over the training data.
        batch_size: Mini-batch size.
        weight_decay: Adam L2 penalty.
        seed: Seeds the new head, the batch order and the augmentation.
        augment: Optional ``augment(x, generator) -> x`` applied to each batch.
        patience: Early-stopping patience on validation accuracy (with ``val_data``).
        progress: Show a tqdm bar on stderr.

    Attributes:
        model_: The fine-tuned model.
        report_: :class:`TransferReport` (copied backbone, new head, frozen blocks).
        history_: The training history.

    Example:
        >>> import torch
        >>> from kgtransfer.models import create_model
        >>> src = create_model("mlp", n_classes=3, input_shape=(4,))
        >>> x, y = torch.randn(20, 4), torch.arange(20) % 2
        >>> ft = FineTune(n_classes=2, epochs=2).fit(src, (x, y))
        >>> ft.model_.n_classes, ft.predict(x).shape
        (2, (20,))
    """

    def __init__(
        self,
        *,
        n_classes: int,
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

    def get_params(self) -> dict[str, Any]:
        """Constructor settings (``augment`` by name)."""
        keys = (
            "n_classes",
            "train_blocks",
            "lr_backbone",
            "lr_head",
            "epochs",
            "batch_size",
            "weight_decay",
            "seed",
            "patience",
        )
        out: dict[str, Any] = {k: getattr(self, k) for k in keys}
        out["augment"] = (
            None
            if self.augment is None
            else getattr(self.augment, "__name__", type(self.augment).__name__)
        )
        return out

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.model_(x)

    def _check(self) -> None:
        if (
            isinstance(self.n_classes, bool)
            or not isinstance(self.n_classes, int)
            or self.n_classes < 1
        ):
            raise ValueError(f"n_classes must be a positive int, got {self.n_classes!r}.")
        tb = self.train_blocks
        if tb != "all" and (isinstance(tb, bool) or not isinstance(tb, int) or tb < 0):
            raise ValueError(f"train_blocks must be 'all' or an int >= 0, got {tb!r}.")
        check_budget(self.epochs, self.lr_backbone, self.batch_size, self.weight_decay)
        check_budget(self.epochs, self.lr_head, self.batch_size)

    def _freeze(self, model: ZooModel) -> list[str]:
        """Freeze all but the last ``train_blocks`` blocks; return notes."""
        if self.train_blocks == "all":
            return ["all backbone blocks trained"]
        blocks = model.blocks()
        k = int(self.train_blocks)
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

    def fit(
        self,
        source: ZooModel,
        train_data: Any,
        val_data: Any = None,
        *,
        target: ZooModel | None = None,
    ) -> FineTune:
        """Copy ``source``, reset its head to ``n_classes`` and fine-tune on ``train_data``.

        Args:
            source: Source model (left unchanged).
            train_data: Target training set (dataset with x/y, TensorDataset or pair).
            val_data: Optional validation set (early stopping, best state restored).
            target: Optional fresh target model (e.g. another input shape) to copy
                the source into instead of a copy of the source.

        Returns:
            self.

        Raises:
            ValueError: Bad settings, NaN inputs/labels, labels beyond ``n_classes``.
            TransferError: The target shares no backbone tensor with the source.
        """
        self._check()
        x, y = as_arrays(train_data, what="train_data")
        check_n_classes(y, self.n_classes, what="train_data", model=f"n_classes={self.n_classes}")
        base = copy.deepcopy(target if target is not None else source)
        if not isinstance(getattr(base, "head", None), nn.Module):
            raise TransferError(
                f"FineTune needs a model with a `head` module (the classifier); "
                f"{type(base).__name__} has none. Wrap it with kgtransfer.models.wrap_module."
            )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(self.seed))
            base.reset_classifier(self.n_classes)
        report = transfer_weights(source, base, reset_head=True, seed=self.seed)
        report.method = "finetune"
        report.notes += self._freeze(base)
        head_ids = {id(p) for p in base.head.parameters()}
        backbone = [p for p in base.parameters() if p.requires_grad and id(p) not in head_ids]
        groups = [
            {"params": backbone, "lr": self.lr_backbone},
            {"params": list(base.head.parameters()), "lr": self.lr_head},
        ]
        gen = torch.Generator().manual_seed(int(self.seed) + 1)
        loss_fn = nn.CrossEntropyLoss()

        def batch_loss(idx: torch.Tensor) -> torch.Tensor:
            xb = x[idx] if self.augment is None else self.augment(x[idx], gen)
            return loss_fn(base(xb), y[idx])

        val_fn = None
        if val_data is not None:
            xv, yv = as_arrays(val_data, what="val_data")
            val_fn = lambda: accuracy_of(batched_predict(base, xv), yv)  # noqa: E731
        self.history_: TrainHistory = train_loop(
            base,
            groups,
            len(x),
            batch_loss,
            epochs=self.epochs,
            batch_size=self.batch_size,
            seed=self.seed,
            weight_decay=self.weight_decay,
            val_accuracy=val_fn,
            patience=self.patience,
            progress=self.progress,
            desc="fine-tune",
        )
        for p in base.parameters():
            p.requires_grad_(True)
        self.model_ = base
        self.report_ = report
        return self
