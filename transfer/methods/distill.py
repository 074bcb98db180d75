"""Knowledge distillation from a source (teacher) into a target of another architecture."""

from __future__ import annotations

import copy
import warnings
from types import SimpleNamespace
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from kgtransfer.errors import ArgumentError, TransferError
from kgtransfer.models import Device, ZooModel
from kgtransfer.models._device import on_device
from kgtransfer.transfer.methods._base import TargetData, TransferMethod, build_target
from kgtransfer.transfer.methods._registry import register_method
from kgtransfer.transfer.methods._report import TensorNote, TransferReport
from kgtransfer.transfer.training import (
    TrainHistory,
    accuracy_of,
    as_arrays,
    batched_predict,
    check_budget,
    check_n_classes,
)

__all__ = ["Distill"]

KINDS = ("logit", "feature")


@register_method("distill_logit", kind="logit")
@register_method("distill_feature", kind="feature")
class Distill(TransferMethod):
    r"""Train a student (``fit``'s target) on the target data with a teacher's guidance.

    ``fit(teacher, student, data)``: the teacher is the source (unchanged), the student
    the target model (copied; the copy is trained) or an architecture name. Unlabeled
    target inputs (``TargetData.unlabeled``) feed the distillation term only.

    Logit distillation (Hinton et al., 2015), with student logits :math:`s`, teacher
    logits :math:`t` and temperature :math:`T`:

    .. math:: L = \alpha T^2 \,\mathrm{KL}(\sigma(t/T)\,\|\,\sigma(s/T))
              + (1-\alpha)\,\mathrm{CE}(s, y)

    The teacher's head must predict the target classes. Feature distillation (FitNets
    style) learns a linear projector :math:`P` from student to teacher features:

    .. math:: L = \alpha \,\lVert P h_s(x) - h_t(x) \rVert^2 + (1-\alpha)\,\mathrm{CE}(s, y)

    Args:
        student: Deprecated (pass the student as ``fit``'s target): a student model
            that, when given, is used instead of ``fit``'s target (as before).
        kind: ``"logit"`` or ``"feature"``.
        temperature: Softening temperature T of logit distillation.
        alpha: Weight of the distillation term, in [0, 1].
        epochs: Passes over the training data.
        lr: Adam learning rate of the student (and projector).
        batch_size: Mini-batch size.
        weight_decay: Adam L2 penalty.
        seed: Seeds the projector's initialisation and the batch order.
        progress: Show a tqdm bar on stderr.
        device: Where the fit computes (``"cpu"``, ``"auto"``, ``"cuda"``, ...; see
            :func:`kgtransfer.models.resolve_device`); the student stays there.

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
        >>> Distill(epochs=2).fit(teacher, student, (x, y)).predict(x).shape
        (20,)
    """

    _uses_unlabeled = True

    def __init__(
        self,
        student: ZooModel | None = None,
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
        device: Device = "cpu",
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
        self.device = device

    def backbone_frozen(self) -> bool | None:
        """False: the student trains every layer."""
        return False

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model_(x)
        return out

    @staticmethod
    def _check(p: SimpleNamespace, teacher: ZooModel, student: ZooModel, y: torch.Tensor) -> None:
        if p.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {p.kind!r}.")
        if not (0.0 <= float(p.alpha) <= 1.0):
            raise ValueError(f"alpha must be in [0, 1], got {p.alpha!r}.")
        if not float(p.temperature) > 0:
            raise ValueError(f"temperature must be > 0, got {p.temperature!r}.")
        check_budget(p.epochs, p.lr, p.batch_size, p.weight_decay)
        check_n_classes(
            y,
            student.n_classes,
            what="train_data",
            model=f"the student ({student.n_classes} outputs)",
        )
        if p.kind == "logit" and teacher.n_classes != student.n_classes:
            raise TransferError(
                f"Logit distillation needs a teacher head on the target classes, but the "
                f"teacher predicts {teacher.n_classes} classes and the student "
                f"{student.n_classes}. Fine-tune the teacher first or use kind='feature'."
            )

    def _fit(self, source: Any, target: Any, data: TargetData | None, p: SimpleNamespace) -> None:
        teacher = source
        train = self._train_data(data, "Distill")
        x, y = as_arrays(train, what="train_data")
        if p.student is not None:  # the deprecated Distill(student) form wins, as before
            warnings.warn(
                "Distill(student, ...) is deprecated and will be removed in the next "
                "release; pass the student as fit's target: Distill(...).fit(teacher, "
                "student, data).",
                DeprecationWarning,
                stacklevel=3,
            )
            student_init = p.student
        elif target is None:
            raise ArgumentError(
                "Distill needs a student: fit(teacher, student, data) with a model or an "
                "architecture name."
            )
        elif isinstance(target, str):
            n = int(getattr(train, "n_classes", 0) or int(y.max()) + 1)
            student_init = build_target(target, x, n, p.seed)
        else:
            student_init = target
        self._check(p, teacher, student_init, y)
        unlabeled = None if data is None else data.unlabeled
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
        x, y = x.to(p.device), y.to(p.device)
        teacher = on_device(teacher, p.device).eval()  # a copy when it sits elsewhere
        with torch.no_grad():
            soft = batched_predict(teacher if p.kind == "logit" else teacher.forward_features, x)
        if not torch.isfinite(soft).all():
            raise ValueError("The teacher produced NaN or inf outputs on train_data.")
        student = copy.deepcopy(student_init).to(p.device)
        p.student = student
        projector: nn.Linear | None = None
        params = list(student.parameters())
        if p.kind == "feature":
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(p.seed))
                projector = nn.Linear(student.feature_dim, int(soft.shape[1])).to(p.device)
            params += list(projector.parameters())
        t, a = float(p.temperature), float(p.alpha)

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
                    F.log_softmax(soft[idx] / t, 1),
                    reduction="batchmean",
                    log_target=True,
                )
                return a * t * t * kl + (1 - a) * ce
            return a * F.mse_loss(projector(feats), soft[idx]) + (1 - a) * ce

        val_fn = None
        if (val := self._val_arrays(data, p)) is not None:
            xv, yv = val
            val_fn = lambda: accuracy_of(batched_predict(student, xv), yv)  # noqa: E731
        modules = [student] if projector is None else [student, projector]
        self.history_: TrainHistory = self._train_loop(
            modules,
            [{"params": params, "lr": p.lr}],
            len(x),
            batch_loss,
            p,
            val_accuracy=val_fn,
            desc=f"distill ({p.kind})",
        )
        self.model_ = student
        self.projector_ = projector
        report = TransferReport(method=f"distill_{p.kind}")
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
            f"kind={p.kind}, T={t}, alpha={a}, {len(x) - n_unlabeled} labelled and "
            f"{n_unlabeled} unlabeled inputs"
        )
        self.report_ = report
