"""One grid run: a from-scratch baseline or a transfer from a zoo source, on one target."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch

from kgtransfer.errors import TransferError
from kgtransfer.models import ZooModel, create_model
from kgtransfer.zoo._spec import Budget
from kgtransfer.zoo._train import accuracy, seeded, train_classifier

__all__ = ["RunOutcome", "run_scratch", "run_transfer"]


@dataclass
class RunOutcome:
    """Result of one grid run (status ``ok`` | ``skipped``)."""

    status: str
    accuracy: float | None
    n_train: int
    n_test: int
    seconds: float
    split: str
    hparams: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _split(train: Any, test: Any) -> str:
    return (
        f"train: few-shot {len(train)} examples of {getattr(train, 'name', '?')}; "
        f"test: {len(test)} held-out examples"
    )


def _new_target_model(arch: str, train: Any, seed: int) -> ZooModel:
    """The target model: ``arch`` with the target's input shape and classes (seeded init)."""
    input_shape = tuple(int(d) for d in train.input_shape)
    model: ZooModel = seeded(
        seed,
        lambda: create_model(arch, n_classes=int(train.n_classes), input_shape=input_shape),
    )
    with torch.no_grad():  # a probe: some architectures cannot take some input shapes
        model.eval()
        model(torch.as_tensor(train.x[:2], dtype=torch.float32))
    return model


def _skipped(
    train: Any, test: Any, t0: float, why: Exception, hparams: dict[str, Any]
) -> RunOutcome:
    return RunOutcome(
        status="skipped",
        accuracy=None,
        n_train=len(train),
        n_test=len(test),
        seconds=time.perf_counter() - t0,
        split=_split(train, test),
        hparams=hparams,
        error=f"{type(why).__name__}: {why}".splitlines()[0],
    )


def run_scratch(arch: str, train: Any, test: Any, *, budget: Budget, seed: int) -> RunOutcome:
    """Train ``arch`` from scratch on ``train`` with ``budget`` and ``seed``; test accuracy."""
    t0 = time.perf_counter()
    hparams = {"method": "scratch", "architecture": arch, **budget.to_dict()}
    try:
        model = _new_target_model(arch, train, seed)
    except (ValueError, TypeError, RuntimeError) as exc:
        return _skipped(train, test, t0, exc, hparams)
    train_classifier(model, train.x, train.y, budget=budget, seed=seed)
    return RunOutcome(
        status="ok",
        accuracy=accuracy(model, test.x, test.y),
        n_train=len(train),
        n_test=len(test),
        seconds=time.perf_counter() - t0,
        split=_split(train, test),
        hparams=hparams,
    )


def _copy_matching(source: ZooModel, target: ZooModel) -> dict[str, Any]:
    """Copy every backbone tensor whose name and shape match; report the rest."""
    head_prefix = "head."
    src_state = source.state_dict()
    copied, reinit, dropped = [], [], []
    new_state = target.state_dict()
    for name, tensor in new_state.items():
        other = src_state.get(name)
        if name.startswith(head_prefix):
            reinit.append({"name": name, "shape": list(tensor.shape), "reason": "new head"})
        elif other is None or other.shape != tensor.shape:
            reinit.append(
                {
                    "name": name,
                    "shape": list(tensor.shape),
                    "reason": "missing in source"
                    if other is None
                    else f"shape {list(other.shape)} in source",
                }
            )
        else:
            new_state[name] = other.clone()
            copied.append(name)
    for name, tensor in src_state.items():
        if name not in new_state or (name.startswith(head_prefix)):
            dropped.append({"name": name, "shape": list(tensor.shape), "reason": "not used"})
    if not copied:
        raise TransferError("No source tensor matches the target by name and shape.")
    target.load_state_dict(new_state, strict=True)
    return {"copied": copied, "reinitialized": reinit, "dropped": dropped}


def run_transfer(
    method: str, source: ZooModel, arch: str, train: Any, test: Any, *, budget: Budget, seed: int
) -> RunOutcome:
    """Transfer ``source`` (architecture ``arch``) to the target and fine-tune it."""
    t0 = time.perf_counter()
    hparams = {"method": method, "architecture": arch, **budget.to_dict()}
    if method != "finetune":
        raise ValueError(f"Unknown grid method {method!r}; use 'finetune'.")
    try:
        model = _new_target_model(arch, train, seed)
        report = _copy_matching(source, model)
    except (ValueError, TypeError, RuntimeError) as exc:
        return _skipped(train, test, t0, exc, hparams)
    train_classifier(model, train.x, train.y, budget=budget, seed=seed)
    return RunOutcome(
        status="ok",
        accuracy=accuracy(model, test.x, test.y),
        n_train=len(train),
        n_test=len(test),
        seconds=time.perf_counter() - t0,
        split=_split(train, test),
        hparams=hparams,
        report=report,
    )
