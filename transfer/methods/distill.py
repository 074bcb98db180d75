"""Knowledge distillation from a source (teacher) into a target of another architecture."""

from __future__ import annotations

import copy
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kgtransfer.errors import TransferError
from kgtransfer.models import ZooModel
from kgtransfer.transfer.methods._base import Classifier
from kgtransfer.transfer.methods._report import TensorNote, TransferReport
from kgtransfer.transfer.methods._train import (
    TrainHistory,
    accuracy_of,
    as_arrays,
    batched_predict,
    check_budget,
    check_n_classes,
    train_loop,
)

__all__ = ["Distill"]

KINDS = ("logit", "feature")


class Distill(Classifier):
    r"""Train ``student`` on the target with a teacher's guidance.

    Logit distillation (Hinton et al., 2015), with student logits :math:`s`, teacher
    logits :math:`t` and temperature :math:`T`:

    .. math:: L = \alpha T^2 \,\mathrm{KL}(\sigma(t/T)\,\|\,\sigma(s/T))
              + (1-\alpha)\,\mathrm{CE}(s, y)

    The teacher's head must predict the target classes. Feature distillation (FitNets
    style) learns a linear projector :math:`P` from student to teacher features:

    .. math:: L = \alpha \,\lVert P h_s(x) - h_t(x) \rVert^2 + (1-\alpha)\,\mathrm{CE}(s, y)

    Args:
        student: Target model (copied; the copy is trained).
        kind: ``"logit"`` or ``"feature"``.
        temperature: Softening temperature T of logit distillation.
        alpha: Weight of the distillation term, in [0, 1].
        epochs: Passes over the training data.
        lr: Adam learning rate of the student (and projector).
        batch_size: Mini-batch size.
        weight_decay: Adam L2 penalty.
        seed: Seeds the projector's initialisation and the batch order.
        progress: Show a tqdm bar on stderr.

    Attributes:
        model_: The trained student.
        projector_: The feature projector (``kind="feature"``), else ``None``.
        report_: :class:`TransferReport`.
        history_: The training history.

    Example:
        >>> import torch
        >>> from kgtransfer.models import create_model
        >>> teacher = create_model("mlp", n_classes=2, input_shape=(4,))
        >>> student = create_model("mlp", n_classes=2, input_shape=(4,), width=8)
        >>> x, y = torch.randn(20, 4), torch.arange(20) % 2
        >>> Distill(student, epochs=2).fit(teacher, (x, y)).predict(x).shape
        (20,)
    """

    def __init__(
        self,
        student: ZooModel,
        *,
        kind: Literal["logit", "feature"] = "logit",
        temperature: float = 4.0,
        alpha: float = 0.7,
        epochs: int = 30,
        lr: float = 3e-3,
        batch_size: int = 32,
        weight_decay: float = 0.0,
        seed: int = 0,
        progress: bool = False,
    ) -> None:
        self.student = student
        self.kind = kind
        self.temperature = temperature
        self.alpha = alpha
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.seed = seed
        self.progress = progress

    def get_params(self) -> dict[str, Any]:
        """Constructor settings (the student by architecture)."""
        keys = (
            "kind",
            "temperature",
            "alpha",
            "epochs",
            "lr",
            "batch_size",
            "weight_decay",
            "seed",
        )
        out: dict[str, Any] = {k: getattr(self, k) for k in keys}
        out["student"] = getattr(self.student, "arch", "") or type(self.student).__name__
        return out

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.model_(x)

    def _check(self, teacher: ZooModel, y: torch.Tensor) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}.")
        if not (0.0 <= float(self.alpha) <= 1.0):
            raise ValueError(f"alpha must be in [0, 1], got {self.alpha!r}.")
        if not float(self.temperature) > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature!r}.")
        check_budget(self.epochs, self.lr, self.batch_size, self.weight_decay)
        check_n_classes(
            y,
            self.student.n_classes,
            what="train_data",
            model=f"the student ({self.student.n_classes} outputs)",
        )
        if self.kind == "logit" and teacher.n_classes != self.student.n_classes:
            raise TransferError(
                f"Logit distillation needs a teacher head on the target classes, but the "
                f"teacher predicts {teacher.n_classes} classes and the student "
                f"{self.student.n_classes}. Fine-tune the teacher first or use kind='feature'."
            )

    def fit(
        self, teacher: ZooModel, train_data: Any, val_data: Any = None, *, unlabeled: Any = None
    ) -> Distill:
        """Distil ``teacher`` (unchanged) into a copy of the student on ``train_data``.

        Args:
            teacher: Source model (its head on the target classes for ``kind="logit"``).
            train_data: Labelled target data (dataset with x/y, TensorDataset or pair).
            val_data: Optional validation set (the best student state is kept).
            unlabeled: Optional extra target inputs (array/tensor (M, *input_shape)) used
                only by the distillation term: the teacher labels them softly.

        Returns:
            self.

        Raises:
            ValueError: Bad settings, NaN inputs/labels, labels beyond the student's classes.
            TransferError: Logit distillation from a teacher with other classes.
        """
        x, y = as_arrays(train_data, what="train_data")
        self._check(teacher, y)
        n_unlabeled = 0
        if unlabeled is not None:
            xu = (
                torch.as_tensor(np.asarray(unlabeled, dtype=np.float32))
                if not torch.is_tensor(unlabeled)
                else unlabeled.float()
            )
            if xu.shape[1:] != x.shape[1:]:
                raise ValueError(
                    f"unlabeled inputs have shape {tuple(xu.shape[1:])} per sample but "
                    f"train_data has {tuple(x.shape[1:])}; pass inputs of the target task."
                )
            if not torch.isfinite(xu).all():
                raise ValueError("unlabeled inputs contain NaN or inf; clean them first.")
            n_unlabeled = len(xu)
            x = torch.cat([x, xu])
            y = torch.cat([y, torch.full((n_unlabeled,), -1, dtype=torch.long)])
        teacher = teacher.eval()
        with torch.no_grad():
            target = batched_predict(
                teacher if self.kind == "logit" else teacher.forward_features, x
            )
        if not torch.isfinite(target).all():
            raise ValueError("The teacher produced NaN or inf outputs on train_data.")
        student = copy.deepcopy(self.student)
        projector: nn.Linear | None = None
        params = list(student.parameters())
        if self.kind == "feature":
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(self.seed))
                projector = nn.Linear(student.feature_dim, int(target.shape[1]))
            params += list(projector.parameters())
        t, a = float(self.temperature), float(self.alpha)

        def batch_loss(idx: torch.Tensor) -> torch.Tensor:
            feats = student.forward_features(x[idx])
            logits = student.forward_head(feats)
            yb = y[idx]
            labelled = yb >= 0
            ce = (
                F.cross_entropy(logits[labelled], yb[labelled])
                if bool(labelled.any())
                else logits.sum() * 0.0
            )
            if projector is None:
                kl = F.kl_div(
                    F.log_softmax(logits / t, 1),
                    F.log_softmax(target[idx] / t, 1),
                    reduction="batchmean",
                    log_target=True,
                )
                return a * t * t * kl + (1 - a) * ce
            return a * F.mse_loss(projector(feats), target[idx]) + (1 - a) * ce

        val_fn = None
        if val_data is not None:
            xv, yv = as_arrays(val_data, what="val_data")
            val_fn = lambda: accuracy_of(batched_predict(student, xv), yv)  # noqa: E731
        modules = [student] if projector is None else [student, projector]
        self.history_: TrainHistory = train_loop(
            modules,
            [{"params": params, "lr": self.lr}],
            len(x),
            batch_loss,
            epochs=self.epochs,
            batch_size=self.batch_size,
            seed=self.seed,
            weight_decay=self.weight_decay,
            val_accuracy=val_fn,
            progress=self.progress,
            desc=f"distill ({self.kind})",
        )
        self.model_ = student
        self.projector_ = projector
        report = TransferReport(method=f"distill_{self.kind}")
        for name, tensor in student.state_dict().items():
            report.reinitialized.append(
                TensorNote(
                    name,
                    tuple(tensor.shape),
                    "student, trained with the teacher's "
                    f"{'logits' if projector is None else 'features'}",
                )
            )
        for name, tensor in teacher.state_dict().items():
            report.dropped.append(TensorNote(name, tuple(tensor.shape), "teacher, not copied"))
        report.notes.append(
            f"kind={self.kind}, T={t}, alpha={a}, {len(x) - n_unlabeled} labelled and "
            f"{n_unlabeled} unlabeled inputs"
        )
        self.report_ = report
        return self
