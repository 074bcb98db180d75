"""Training: the one seeded loop behind every transfer method, the scratch baseline and the zoo.

:func:`train_loop` is the loop (a private generator orders the batches; torch's global
RNG is forked and seeded for dropout and initialisation; deterministic on CPU,
mini-batch Adam, optional early stopping on validation accuracy, optional tqdm bar on
stderr). :func:`train_classifier` trains every parameter of a model with cross-entropy
and a :class:`Budget`; :func:`train_from_scratch` is the baseline every transfer is
compared with; :func:`predict` and :func:`accuracy` evaluate a model.

This module lives in ``transfer`` (not ``models``): a :class:`Budget` and its loop are
what transfers and their baselines share, and every user (the transfer methods,
:func:`~kgtransfer.transfer.evaluate_transfer`, the zoo) sits in ``transfer`` or above,
while ``models`` stays about architectures and checkpoints.

Example:
    >>> import torch
    >>> from kgtransfer.transfer.training import Budget, accuracy, train_from_scratch
    >>> x, y = torch.randn(40, 4), torch.arange(40) % 2
    >>> model = train_from_scratch("mlp", (x, y), Budget(epochs=2), seed=0)
    >>> 0.0 <= accuracy(model, (x, y)) <= 1.0
    True
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias, cast

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

__all__ = [
    "Budget",
    "BudgetFields",
    "BudgetLike",
    "TrainHistory",
    "accuracy",
    "accuracy_of",
    "as_arrays",
    "as_budget",
    "batched_predict",
    "check_budget",
    "check_n_classes",
    "predict",
    "train_classifier",
    "train_from_scratch",
    "train_loop",
]


@dataclass(frozen=True)
class Budget:
    """A training budget, given alike to a transfer and to its scratch baseline.

    Example:
        >>> Budget(epochs=5, lr=1e-2).batch_size
        32
    """

    epochs: int = 30
    lr: float = 3e-3
    batch_size: int = 32
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        check_budget(self.epochs, self.lr, self.batch_size, self.weight_decay)

    def to_dict(self) -> dict[str, Any]:
        """The budget as a plain dict."""
        return {
            "epochs": self.epochs,
            "lr": self.lr,
            "batch_size": self.batch_size,
            "weight_decay": self.weight_decay,
        }


class BudgetFields(Protocol):
    """Any object with a budget's fields (e.g. a zoo grid's budget)."""

    @property
    def epochs(self) -> int: ...

    @property
    def lr(self) -> float: ...

    @property
    def batch_size(self) -> int: ...


#: What takes a budget: a :class:`Budget`, a mapping of its fields or an object with them.
BudgetLike: TypeAlias = Budget | Mapping[str, float] | BudgetFields


def as_budget(budget: BudgetLike) -> Budget:
    """``budget`` as a :class:`Budget`: a Budget, a mapping of its fields, or any object
    with ``epochs``, ``lr`` and ``batch_size`` (``weight_decay`` optional; e.g. a zoo budget).

    Example:
        >>> as_budget({"epochs": 2}).lr
        0.003
    """
    if isinstance(budget, Budget):
        return budget
    if isinstance(budget, Mapping):
        return Budget(**cast("dict[str, Any]", budget))
    return Budget(
        epochs=budget.epochs,
        lr=budget.lr,
        batch_size=budget.batch_size,
        weight_decay=getattr(budget, "weight_decay", 0.0),
    )


def check_budget(epochs: Any, lr: Any, batch_size: Any, weight_decay: Any = 0.0) -> None:
    """Raise ``ValueError`` naming the bad value of a training setting."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}.")
    if not (isinstance(lr, int | float) and np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}.")
    if not (
        isinstance(weight_decay, int | float) and np.isfinite(weight_decay) and weight_decay >= 0
    ):
        raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}.")


def as_arrays(data: Any, *, what: str = "data") -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and labels of ``data`` as tensors, checked.

    Args:
        data: An object with ``x`` and ``y`` arrays (``ArrayDataset``), a
            ``TensorDataset`` of (inputs, labels), or a pair ``(x, y)``.
        what: Name used in error messages (e.g. ``"train"``).

    Returns:
        ``(x, y)``: float32 inputs (N, ...) and int64 labels (N,).

    Raises:
        ValueError: Lengths differ, NaN/inf inputs, labels that are not integers >= 0,
            or no samples.
    """
    if hasattr(data, "x") and hasattr(data, "y"):
        x_raw, y_raw = data.x, data.y
    elif hasattr(data, "tensors") and len(data.tensors) == 2:
        x_raw, y_raw = data.tensors
    elif isinstance(data, tuple | list) and len(data) == 2:
        x_raw, y_raw = data
    else:
        raise ValueError(
            f"{what}: expected an ArrayDataset, a TensorDataset(x, y) or a pair (x, y), "
            f"got {type(data).__name__}."
        )
    x = torch.as_tensor(
        np.asarray(x_raw, dtype=np.float32) if not torch.is_tensor(x_raw) else x_raw
    ).float()
    y_t = torch.as_tensor(np.asarray(y_raw) if not torch.is_tensor(y_raw) else y_raw)
    if len(x) == 0:
        raise ValueError(f"{what} has no samples; pass at least one (x, y) pair.")
    if y_t.ndim != 1 or len(y_t) != len(x):
        raise ValueError(
            f"{what}: labels must have shape ({len(x)},) to match the inputs, "
            f"got {tuple(y_t.shape)}."
        )
    if y_t.is_floating_point():
        if not torch.isfinite(y_t).all():
            raise ValueError(f"{what}: labels contain NaN or inf; drop or fix those rows.")
        if not torch.equal(y_t, y_t.round()):
            raise ValueError(f"{what}: labels must be integer class codes, got fractions.")
    y = y_t.long()
    if (y < 0).any():
        raise ValueError(
            f"{what}: labels must be class codes 0..C-1, got {int(y.min())}; re-encode them."
        )
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).reshape(len(x), -1).any(1).sum())
        raise ValueError(f"{what}: {bad} input rows contain NaN or inf; clean them first.")
    return x, y


def check_n_classes(y: torch.Tensor, n_classes: int, *, what: str, model: str) -> None:
    """Raise ``ValueError`` when labels exceed the classes of a model's head."""
    top = int(y.max()) + 1
    if top > n_classes:
        raise ValueError(
            f"{what} has labels up to {top - 1} ({top} classes) but {model} predicts "
            f"{n_classes} classes; set n_classes={top} (or reset_classifier({top}))."
        )


@torch.no_grad()
def batched_predict(
    fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, batch_size: int = 512
) -> torch.Tensor:
    """``fn`` applied to ``x`` in batches, without gradients."""
    return torch.cat([fn(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


@dataclass
class TrainHistory:
    """What :func:`train_loop` did: per-epoch mean loss and validation accuracy."""

    losses: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "epochs_run": len(self.losses),
            "final_loss": self.losses[-1] if self.losses else None,
            "best_epoch": self.best_epoch,
            "best_val_accuracy": max(self.val_accuracy) if self.val_accuracy else None,
            "stopped_early": self.stopped_early,
        }


def train_loop(
    modules: nn.Module | Iterable[nn.Module],
    param_groups: list[dict[str, Any]],
    n_samples: int,
    batch_loss: Callable[[torch.Tensor], torch.Tensor],
    *,
    epochs: int,
    batch_size: int,
    seed: int,
    weight_decay: float = 0.0,
    val_accuracy: Callable[[], float] | None = None,
    patience: int | None = None,
    progress: bool = False,
    desc: str = "train",
) -> TrainHistory:
    """Train with Adam over shuffled mini-batches of ``range(n_samples)``.

    Args:
        modules: The modules being trained (switched to train mode, then eval mode;
            with early stopping their best state is restored).
        param_groups: Adam parameter groups, each with its own ``lr``.
        n_samples: Size of the training set.
        batch_loss: Loss of a batch given its indices into the training set.
        epochs: Passes over the data.
        batch_size: Mini-batch size (a last batch of one is skipped when N >= 2,
            since it breaks batch norm).
        seed: Seeds the batch order and torch's (forked) global RNG.
        weight_decay: Adam's L2 penalty.
        val_accuracy: Validation accuracy of the current state (enables early stopping).
        patience: Epochs without a better validation accuracy before stopping
            (``None``: run all epochs, then restore the best state).
        progress: Show a tqdm bar on stderr.
        desc: Label of the bar.

    Returns:
        The :class:`TrainHistory`.
    """
    check_budget(epochs, 1.0, batch_size, weight_decay)
    mods = [modules] if isinstance(modules, nn.Module) else list(modules)
    groups = [g for g in param_groups if g["params"]]
    history = TrainHistory()
    if not groups:
        return history
    opt = torch.optim.Adam(groups, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(int(seed))
    best_state: list[dict[str, torch.Tensor]] | None = None
    best, since_best = -1.0, 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        for epoch in tqdm(range(epochs), desc=desc, disable=not progress, leave=False):
            for m in mods:
                m.train()
            order = torch.randperm(n_samples, generator=gen)
            total, count = 0.0, 0
            for start in range(0, n_samples, batch_size):
                idx = order[start : start + batch_size]
                if len(idx) < 2 <= n_samples:
                    continue
                opt.zero_grad(set_to_none=True)
                loss = batch_loss(idx)
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
                count += len(idx)
            history.losses.append(total / max(count, 1))
            if val_accuracy is None:
                continue
            for m in mods:
                m.eval()
            acc = float(val_accuracy())
            history.val_accuracy.append(acc)
            if acc > best:
                best, since_best, history.best_epoch = acc, 0, epoch
                best_state = [copy.deepcopy(m.state_dict()) for m in mods]
            else:
                since_best += 1
                if patience is not None and since_best >= patience:
                    history.stopped_early = True
                    break
    if best_state is not None:
        for m, state in zip(mods, best_state, strict=True):
            m.load_state_dict(state)
    for m in mods:
        m.eval()
    return history


def accuracy_of(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose argmax equals the label."""
    return float((logits.argmax(1) == y).double().mean())  # exact: float32 rounds k/n


def _model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (the CPU for a model without any)."""
    for t in model.parameters():
        return t.device
    return torch.device("cpu")


def train_classifier(
    model: nn.Module,
    data: Any,
    budget: Budget | Mapping[str, Any] | Any = None,
    *,
    seed: int = 0,
    progress: bool = False,
    desc: str = "train",
    device: Any = "cpu",
) -> TrainHistory:
    """Train every parameter of ``model`` in place with cross-entropy on ``data``.

    One Adam group with ``budget.lr`` over all parameters, ``budget.epochs`` passes of
    ``budget.batch_size``, seeded by ``seed`` (see :func:`train_loop`).

    Args:
        model: The classifier to train (modified in place, left in eval mode).
        data: Labelled data (dataset with x/y, TensorDataset or pair).
        budget: A :class:`Budget` (default ``Budget()``) or anything :func:`as_budget` takes.
        seed: Seeds the batch order and torch's (forked) global RNG.
        progress: Show a tqdm bar on stderr.
        desc: Label of the bar and of error messages about ``data``.
        device: Where to train (``"cpu"``, ``"auto"``, ``"cuda"``, ...; see
            :func:`kgtransfer.models.resolve_device`); the model is moved there in place.

    Returns:
        The :class:`TrainHistory`.
    """
    from kgtransfer.models import resolve_device

    dev = resolve_device(device)
    b = Budget() if budget is None else as_budget(budget)
    x, y = (t.to(dev) for t in as_arrays(data, what=desc))
    model.to(dev)
    loss_fn = nn.CrossEntropyLoss()
    return train_loop(
        model,
        [{"params": list(model.parameters()), "lr": b.lr}],
        len(x),
        lambda idx: loss_fn(model(x[idx]), y[idx]),
        epochs=b.epochs,
        batch_size=b.batch_size,
        seed=seed,
        weight_decay=b.weight_decay,
        progress=progress,
        desc=desc,
    )


def train_from_scratch(
    model: nn.Module | str,
    data: Any,
    budget: Budget | Mapping[str, Any] | Any = None,
    *,
    seed: int = 0,
    n_classes: int | None = None,
    progress: bool = False,
    device: Any = "cpu",
) -> nn.Module:
    """The from-scratch baseline: a fresh model trained on ``data`` alone.

    One training (:func:`train_classifier`), with the budget and seed a transfer of
    :func:`~kgtransfer.transfer.evaluate_transfer` gets.

    Args:
        model: A freshly initialised model (copied, not changed) or an architecture
            name, built with ``seed`` for the inputs and classes of ``data``.
        data: Labelled target data (dataset with x/y, TensorDataset or pair).
        budget: A :class:`Budget` (default ``Budget()``) or anything :func:`as_budget` takes.
        seed: Seeds the initialisation of a named architecture, the batch order and dropout.
        n_classes: Classes of a named architecture (default ``data.n_classes`` or the
            largest label + 1).
        progress: Show a tqdm bar on stderr.
        device: Where to train (see :func:`train_classifier`); the model stays there.

    Returns:
        The trained model (in eval mode).
    """
    fresh: nn.Module
    if isinstance(model, str):
        from kgtransfer.models import create_model

        x, y = as_arrays(data, what="data")
        n = n_classes or int(getattr(data, "n_classes", 0) or int(y.max()) + 1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            fresh = create_model(model, n_classes=n, input_shape=tuple(x.shape[1:]))
    else:
        fresh = copy.deepcopy(model)
    train_classifier(
        fresh, data, budget, seed=seed, progress=progress, desc="scratch", device=device
    )
    return fresh


@torch.no_grad()
def predict(model: nn.Module, inputs: Any, *, batch_size: int = 512) -> np.ndarray:
    """Predicted class codes of ``model`` (eval mode) on ``inputs``, shape (N,).

    ``inputs`` is an array/tensor of inputs or labelled data (its inputs are used);
    they are moved to the model's device.
    """
    if hasattr(inputs, "x") or hasattr(inputs, "tensors") or isinstance(inputs, tuple):
        x = as_arrays(inputs, what="inputs")[0]
    else:
        x = torch.as_tensor(np.asarray(inputs, dtype=np.float32))
    model.eval()
    dev = _model_device(model)
    return batched_predict(lambda b: model(b.to(dev)).cpu(), x, batch_size).argmax(1).numpy()


def accuracy(model: nn.Module, data: Any) -> float:
    """Test accuracy of ``model`` (eval mode, on its own device) on labelled ``data``
    (higher is better)."""
    x, y = as_arrays(data, what="data")
    model.eval()
    dev = _model_device(model)
    return accuracy_of(batched_predict(lambda b: model(b.to(dev)).cpu(), x), y)
