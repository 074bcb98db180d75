"""Feature transfer: a frozen source encoder and a new head trained on the target."""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any, Literal

import torch
from torch import nn

from kgtransfer.models import Device
from kgtransfer.transfer.methods._base import TargetData, TransferMethod
from kgtransfer.transfer.methods._registry import register_method
from kgtransfer.transfer.methods._report import TensorNote, TransferReport
from kgtransfer.transfer.training import (
    TrainHistory,
    accuracy_of,
    as_arrays,
    batched_predict,
    check_budget,
)

__all__ = ["FeatureTransfer"]

HEADS = ("linear", "mlp")


@register_method("linear_probe", head="linear")
@register_method("mlp_probe", head="mlp")
class FeatureTransfer(TransferMethod):
    r"""Frozen source features with a new head: :math:`f(x) = g(h(x))`.

    ``h`` is the source's ``forward_features`` (frozen, eval mode); ``g`` is a linear
    layer or a one-hidden-layer MLP trained with cross-entropy on the target. The
    target model is this pair, so ``fit``'s ``target`` is not used. With validation
    data (``TargetData.val``) the head of best validation accuracy is kept.

    Args:
        head: ``"linear"`` (a linear probe) or ``"mlp"`` (hidden layer of ``hidden``).
        epochs: Passes over the target data.
        lr: Adam learning rate of the head.
        batch_size: Mini-batch size.
        weight_decay: Adam L2 penalty.
        hidden: Width of the MLP head.
        standardize: Scale features to zero mean and unit variance (train statistics).
        seed: Seeds the head's initialisation and the batch order.
        progress: Show a tqdm bar on stderr.
        device: Where the fit computes (``"cpu"``, ``"auto"``, ``"cuda"``, ...; see
            :func:`kgtransfer.models.resolve_device`); the encoder and head stay there.

    Attributes:
        encoder_: A frozen copy of the source.
        head_: The trained head.
        n_classes_: Number of target classes.
        report_: :class:`TransferReport` (source tensors copied, head new).
        history_: The training history.

    Shapes:
        - predict_proba: (N, *input_shape) -> (N, n_classes_)

    Example:
        >>> import torch
        >>> from kgtransfer.models import create_model
        >>> src = create_model("mlp", n_classes=3, input_shape=(4,))
        >>> x, y = torch.randn(20, 4), torch.arange(20) % 2
        >>> ft = FeatureTransfer(epochs=2, seed=0).fit(src, None, (x, y))
        >>> ft.predict(x).shape
        (20,)
    """

    _fitted_attr = "head_"

    def __init__(
        self,
        *,
        head: Literal["linear", "mlp"] = "linear",
        epochs: int = 50,
        lr: float = 1e-2,
        batch_size: int = 32,
        weight_decay: float = 0.0,
        hidden: int = 128,
        standardize: bool = True,
        seed: int = 0,
        progress: bool = False,
        device: Device = "cpu",
    ) -> None:
        self.head = head
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.hidden = hidden
        self.standardize = standardize
        self.seed = seed
        self.progress = progress
        self.device = device

    def backbone_frozen(self) -> bool | None:
        """True: the source encoder stays frozen."""
        return True

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        f = self.encoder_.forward_features(x)
        out: torch.Tensor = (f - self.mean_) / self.std_
        return out

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head_(self._features(x))
        return out

    def _fit(self, source: Any, target: Any, data: TargetData | None, p: SimpleNamespace) -> None:
        if p.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {p.head!r}.")
        check_budget(p.epochs, p.lr, p.batch_size, p.weight_decay)
        x, y = as_arrays(self._train_data(data, "FeatureTransfer"), what="train_data")
        x, y = x.to(p.device), y.to(p.device)
        encoder = copy.deepcopy(source).eval().to(p.device)
        for q in encoder.parameters():
            q.requires_grad_(False)
        self.encoder_ = encoder
        feats = batched_predict(encoder.forward_features, x)
        if not torch.isfinite(feats).all():
            raise ValueError(
                "The source encoder produced NaN or inf features on train_data; "
                "check the source weights and the input scaling."
            )
        width = feats.shape[1]
        self.mean_ = feats.mean(0) if p.standardize else feats.new_zeros(width)
        std = feats.std(0) if p.standardize and len(feats) > 1 else feats.new_ones(width)
        self.std_ = torch.where(std > 1e-8, std, torch.ones_like(std))
        z = (feats - self.mean_) / self.std_
        n_classes = int(y.max()) + 1
        d = z.shape[1]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(p.seed))
            head: nn.Module = (
                nn.Linear(d, n_classes)
                if p.head == "linear"
                else nn.Sequential(
                    nn.Linear(d, p.hidden), nn.ReLU(), nn.Linear(p.hidden, n_classes)
                )
            ).to(p.device)
        loss_fn = nn.CrossEntropyLoss()
        val_fn = None
        if (val := self._val_arrays(data, p)) is not None:
            xv, yv = val
            zv = (batched_predict(encoder.forward_features, xv) - self.mean_) / self.std_
            val_fn = lambda: accuracy_of(head(zv), yv)  # noqa: E731
        self.history_: TrainHistory = self._train_loop(
            head,
            [{"params": list(head.parameters()), "lr": p.lr}],
            len(z),
            lambda idx: loss_fn(head(z[idx]), y[idx]),
            p,
            val_accuracy=val_fn,
            desc="feature transfer",
        )
        self.head_ = head
        self.n_classes_ = n_classes
        report = TransferReport(method=f"features_{p.head}")
        src_heads = {f"head.{k}" for k in getattr(source, "head", nn.Identity()).state_dict()}
        for name, t in source.state_dict().items():
            note = TensorNote(name, tuple(t.shape), "frozen encoder")
            if name in src_heads:
                report.dropped.append(TensorNote(name, tuple(t.shape), "source head unused"))
            else:
                report.copied.append(note)
        for name, t in head.state_dict().items():
            report.reinitialized.append(
                TensorNote(f"new_head.{name}", tuple(t.shape), f"new {p.head} head, trained")
            )
        report.notes.append(f"{len(z)} training samples, {n_classes} classes, feature dim {d}")
        self.report_ = report
