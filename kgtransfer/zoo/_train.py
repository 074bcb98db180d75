"""Seeding and thread control for the zoo's training (which uses :mod:`kgtransfer.transfer.training`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import torch

__all__ = ["seeded", "torch_threads"]

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
