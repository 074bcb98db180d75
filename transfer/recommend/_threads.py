"""CPU threads of the recommenders' ``fit`` and ``rank``: set deliberately, scoped, restored.

The zoo graphs are small (thousands of nodes, hidden width 32): intra-op parallelism
buys little, and on a shared machine a second thread makes ``fit`` wait on a core
another process holds (OpenMP and OpenBLAS workers spin at every barrier). So
``fit`` and ``rank`` run on **one** thread by default, whatever the process uses
elsewhere, and restore the process's settings when they return.

What is limited inside ``fit``/``rank``: torch's intra-op threads
(``torch.set_num_threads``) and, when ``threadpoolctl`` is importable (it ships
with scikit-learn, a dependency), the BLAS pools numpy and scipy use. Torch's
inter-op pool is left alone (it can only be set once per process).

Change it with :func:`set_recommender_threads` (process-wide) or the
:func:`recommender_threads` context manager (a block); the CLI's ``--threads``
option (or the ``KGTRANSFER_THREADS`` environment variable it reads) sets it too.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kgtransfer.errors import ArgumentError

__all__ = [
    "DEFAULT_THREADS",
    "get_recommender_threads",
    "recommender_threads",
    "set_recommender_threads",
]

#: Threads of ``fit``/``rank`` unless set otherwise.
DEFAULT_THREADS = 1
_threads: int | None = DEFAULT_THREADS
_controller: Any = None  # threadpoolctl.ThreadpoolController, built once (~25 ms)


def _check(n: Any) -> int | None:
    if n is None or (isinstance(n, int) and not isinstance(n, bool) and n >= 1):
        return n
    raise ArgumentError(
        f"threads must be a positive integer or None (leave the process's setting), got {n!r}; "
        "pass e.g. 1 (the default) or 2."
    )


def get_recommender_threads() -> int | None:
    """Threads ``fit``/``rank`` use (None: the process's own settings, untouched)."""
    return _threads


def set_recommender_threads(n: int | None) -> None:
    """Set the threads of every recommender's ``fit`` and ``rank``, process-wide.

    Args:
        n: A positive integer, or None to leave the process's torch/BLAS settings
            alone inside ``fit``/``rank``.

    Raises:
        ArgumentError: ``n`` is not a positive integer or None.

    Example:
        >>> set_recommender_threads(2); get_recommender_threads()
        2
        >>> set_recommender_threads(DEFAULT_THREADS)
    """
    global _threads
    _threads = _check(n)


@contextmanager
def recommender_threads(n: int | None) -> Iterator[None]:
    """Use ``n`` threads in every recommender's ``fit``/``rank`` inside the block.

    Example:
        >>> with recommender_threads(2):
        ...     get_recommender_threads()
        2
        >>> get_recommender_threads()
        1
    """
    global _threads
    old, _threads = _threads, _check(n)
    try:
        yield
    finally:
        _threads = old


def _blas_controller() -> Any:
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - scikit-learn brings it
            _controller = False
        else:
            _controller = ThreadpoolController()
    return _controller


@contextmanager
def limited_threads() -> Iterator[None]:
    """Apply the recommender thread setting for the block (``fit``/``rank`` body), then
    restore torch's intra-op threads and the BLAS pools as they were."""
    n = _threads
    if n is None:
        yield
        return
    torch = sys.modules.get("torch")  # not loaded: nothing of torch's to limit (no 2 s import)
    old = torch.get_num_threads() if torch is not None else None
    controller = _blas_controller()
    blas = controller.limit(limits=n, user_api="blas") if controller else None
    if torch is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch is not None:
            torch.set_num_threads(old)
        if blas is not None:
            blas.restore_original_limits()
