"""Tiny seeded transfer problems built from scikit-learn's digits (8x8, 10 classes).

Source task: 900 digits with their labels. Target task: the other digits with the
labels permuted (``3 * y mod 10``), few-shot (3 per class) for training, the rest for
test, part of it also as unlabeled inputs for distillation.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from kgtransfer.models import ZooModel, create_model
from kgtransfer.transfer.methods import train_loop

torch.set_num_threads(1)


@dataclass
class Task:
    source: tuple[torch.Tensor, torch.Tensor]
    source_target_labels: torch.Tensor
    train: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]
    unlabeled: torch.Tensor
    test_rest: tuple[torch.Tensor, torch.Tensor]


def fit_ce(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    seed: int = 0,
    lr: float = 3e-3,
    batch_size: int = 64,
) -> nn.Module:
    loss = nn.CrossEntropyLoss()
    train_loop(
        model,
        [{"params": list(model.parameters()), "lr": lr}],
        len(x),
        lambda i: loss(model(x[i]), y[i]),
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
    )
    return model


def accuracy(model: nn.Module, data: tuple[torch.Tensor, torch.Tensor]) -> float:
    with torch.no_grad():
        return float((model.eval()(data[0]).argmax(1) == data[1]).float().mean())


@pytest.fixture(scope="session")
def task() -> Task:
    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target)
    perm = torch.tensor(np.random.default_rng(0).permutation(len(x)))
    x, y = x[perm], y[perm]
    xs, ys = x[:900], y[:900]
    xt, yt = x[900:], (y[900:] * 3) % 10
    few = torch.cat([torch.nonzero(yt == c)[:3, 0] for c in range(10)])
    mask = torch.ones(len(xt), dtype=torch.bool)
    mask[few] = False
    rest_x, rest_y = xt[mask], yt[mask]
    return Task(
        source=(xs, ys),
        source_target_labels=(ys * 3) % 10,
        train=(xt[few], yt[few]),
        test=(rest_x, rest_y),
        unlabeled=rest_x[:300],
        test_rest=(rest_x[300:], rest_y[300:]),
    )


@pytest.fixture(scope="session")
def source(task: Task) -> ZooModel:
    """An mlp pre-trained on the source digits (its own 10 labels)."""
    torch.manual_seed(0)
    model = create_model("mlp", n_classes=10, input_shape=(64,))
    return fit_ce(model, *task.source, epochs=15)


@pytest.fixture(scope="session")
def teacher(task: Task) -> ZooModel:
    """A wider mlp trained on the source digits with the target's labels."""
    torch.manual_seed(1)
    model = create_model("mlp_wide", n_classes=10, input_shape=(64,))
    return fit_ce(model, task.source[0], task.source_target_labels, epochs=15)


@pytest.fixture(scope="session")
def scratch_accuracy(task: Task) -> float:
    """An mlp trained from scratch on the few-shot target (same budget as the methods)."""
    torch.manual_seed(0)
    model = create_model("mlp", n_classes=10, input_shape=(64,))
    return accuracy(fit_ce(model, *task.train, epochs=30, batch_size=16), task.test)


@pytest.fixture(scope="session")
def student() -> ZooModel:
    """A narrow mlp for distillation, freshly initialised."""
    torch.manual_seed(0)
    return create_model("mlp", n_classes=10, input_shape=(64,), width=32)


@pytest.fixture(scope="session")
def student_scratch(task: Task, student: ZooModel) -> float:
    """The student trained from scratch on the few-shot target (same budget)."""
    model = fit_ce(copy.deepcopy(student), *task.train, epochs=30, batch_size=16)
    return accuracy(model, task.test_rest)
