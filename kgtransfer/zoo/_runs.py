"""One grid run: a transfer from a zoo source, or a from-scratch baseline, on one target.

A transfer goes through :func:`kgtransfer.transfer.evaluate_transfer` (without its
baseline); a baseline is one :func:`kgtransfer.transfer.training.train_from_scratch`,
the very training ``evaluate_transfer`` compares with, so transfers and baselines
share one training loop, budget and seed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch

from kgtransfer.errors import TransferError
from kgtransfer.models import ZooModel, create_model
from kgtransfer.transfer import describe_split, evaluate_transfer
from kgtransfer.transfer.training import Budget, accuracy, train_from_scratch
from kgtransfer.zoo._train import seeded

__all__ = ["RunOutcome", "run_scratch", "run_transfer"]


@dataclass
class RunOutcome:
    """Result of one grid run: status ``ok``, or ``skipped`` with the reason in ``error``."""

    status: str
    accuracy: float | None
    n_train: int
    n_test: int
    seconds: float
    split: str
    hparams: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _fresh_target(
    arch: str, train: Any, seed: int, arch_kwargs: tuple[tuple[str, Any], ...] = ()
) -> ZooModel:
    """``arch`` built for the target's input shape and classes; raises if it cannot be.

    A forward pass on two examples catches shapes an architecture accepts at build time
    but cannot process.
    """
    shape = tuple(int(d) for d in train.input_shape)
    model: ZooModel = seeded(
        seed,
        lambda: create_model(
            arch, n_classes=int(train.n_classes), input_shape=shape, **dict(arch_kwargs)
        ),
    )
    with torch.no_grad():
        model.eval()
        model(torch.as_tensor(train.x[:2], dtype=torch.float32))
    return model


def _skipped(
    train: Any, test: Any, t0: float, why: Exception, hparams: dict[str, Any]
) -> RunOutcome:
    first = (str(why).strip().splitlines() or [""])[0]
    return RunOutcome(
        status="skipped",
        accuracy=None,
        n_train=len(train),
        n_test=len(test),
        seconds=time.perf_counter() - t0,
        split="",
        hparams=hparams,
        error=f"{type(why).__name__}: {first}",
    )


def run_transfer(
    method: str,
    source: ZooModel,
    arch: str,
    train: Any,
    test: Any,
    *,
    budget: Budget,
    seed: int,
    arch_kwargs: tuple[tuple[str, Any], ...] = (),
) -> RunOutcome:
    """Transfer ``source`` (architecture ``arch``) to the target with ``method``.

    The target model is ``arch`` with the target's input shape and classes: tensors that
    fit are copied, the rest adapted or re-initialised, as the transfer report says.
    An architecture that cannot take the target's inputs, or a source sharing no
    tensor with the target, gives a ``skipped`` outcome with the reason.
    """
    t0 = time.perf_counter()
    hparams = {"method": method, "architecture": arch, **dict(arch_kwargs), **budget.to_dict()}
    try:
        target = _fresh_target(arch, train, seed, arch_kwargs)
    except (ValueError, RuntimeError) as exc:  # input shape the architecture cannot take
        return _skipped(train, test, t0, exc, hparams)
    try:
        result = evaluate_transfer(
            method, source, target, train, test, budget=budget, seed=seed, scratch=False
        )
    except TransferError as exc:
        return _skipped(train, test, t0, exc, hparams)
    prov = result.provenance
    return RunOutcome(
        status="ok",
        accuracy=float(result.accuracy),
        n_train=len(train),
        n_test=len(test),
        seconds=time.perf_counter() - t0,
        split=str(prov.get("split", "")),
        hparams={
            "method": method,
            "architecture": arch,
            "arch_kwargs": dict(arch_kwargs),
            **prov.get("hyperparameters", {}),
        },
        report=dict(prov.get("report", {})),
    )


def run_scratch(
    arch: str,
    train: Any,
    test: Any,
    *,
    budget: Budget,
    seed: int,
    arch_kwargs: tuple[tuple[str, Any], ...] = (),
) -> RunOutcome:
    """Train ``arch`` from scratch on the target with ``budget`` and ``seed``.

    One :func:`~kgtransfer.transfer.training.train_from_scratch` of a freshly
    initialised ``arch`` model: the very loop, budget, seed and initialisation every
    transfer of the grid is compared with (and ``evaluate_transfer``'s baseline).
    """
    t0 = time.perf_counter()
    hparams = {"method": "scratch", "architecture": arch, **dict(arch_kwargs), **budget.to_dict()}
    try:
        fresh = _fresh_target(arch, train, seed, arch_kwargs)
    except (ValueError, RuntimeError) as exc:
        return _skipped(train, test, t0, exc, hparams)
    t1 = time.perf_counter()
    model = train_from_scratch(fresh, train, budget, seed=seed)
    acc = accuracy(model, test)
    return RunOutcome(
        status="ok",
        accuracy=float(acc),
        n_train=len(train),
        n_test=len(test),
        seconds=time.perf_counter() - t1,
        split=describe_split(train, test),
        hparams=hparams,
    )
