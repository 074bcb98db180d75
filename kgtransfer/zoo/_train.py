"""Seeded source-model training for the zoo build (pre-training and lineage fine-tunes).

The grid's transfers and scratch baselines use :mod:`kgtransfer.transfer`'s shared
loop instead; this one only pre-trains the zoo's sources.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from kgtransfer.zoo._spec import Budget

__all__ = ["accuracy", "seeded", "torch_threads", "train_classifier"]

T = TypeVar("T")


@contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Use ``n`` torch intra-op threads inside the block, restoring the old count after.

    ``None`` leaves the setting alone. Tiny models train fastest on one thread: more
    threads only add synchronisation, badly so on a shared, busy machine.
    """
    if n is None:
        yield
        return
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"num_threads must be an int >= 1 or None, got {n!r}.")
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def seeded(seed: int, build: Callable[[], T]) -> T:
    """Call ``build()`` with torch's global RNG seeded, restoring the RNG state afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


def train_classifier(
    model: nn.Module,
    x: np.ndarray,
    y: np.ndarray,
    *,
    budget: Budget,
    seed: int,
    progress: bool = False,
    desc: str = "train",
) -> nn.Module:
    """Train ``model`` in place with Adam + cross-entropy, deterministically for a seed.

    Args:
        model: Any classifier mapping (N, *input_shape) to logits (N, C).
        x: Inputs, float32, shape (N, *input_shape).
        y: Labels 0..C-1, shape (N,).
        budget: Epochs, learning rate, batch size, weight decay.
        seed: Seeds the shuffling order (a private generator; global RNG untouched
            except inside a forked state).
        progress: Show a tqdm bar over epochs on stderr.
        desc: Label of the progress bar.

    Returns:
        The same model, trained and in eval mode.
    """
    xt = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.long)
    if len(xt) != len(yt):
        raise ValueError(f"x has {len(xt)} rows but y has {len(yt)}; pass matching arrays.")
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=budget.lr, weight_decay=budget.weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # dropout etc. inside the model
        model.train()
        for _ in tqdm(range(budget.epochs), desc=desc, disable=not progress, leave=False):
            order = torch.randperm(len(xt), generator=gen)
            for start in range(0, len(xt), budget.batch_size):
                idx = order[start : start + budget.batch_size]
                if len(idx) < 2 and len(xt) >= 2:
                    continue  # a batch of one breaks batch norm
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(xt[idx]), yt[idx])
                loss.backward()
                opt.step()
    model.eval()
    return model


@torch.no_grad()
def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, *, batch_size: int = 512) -> float:
    """Top-1 accuracy of ``model`` on ``(x, y)`` in eval mode, as a Python float."""
    model.eval()
    xt = torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.long)
    correct = 0
    for start in range(0, len(xt), batch_size):
        pred = model(xt[start : start + batch_size]).argmax(dim=1)
        correct += int((pred == yt[start : start + batch_size]).sum())
    return correct / max(len(xt), 1)
