"""Registry of public-benchmark readers: ``read_benchmark(name, folder)``."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from kgtransfer.errors import IngestError
from kgtransfer.kg.tables import ZooTables
from kgtransfer.registry import Registry

from ._report import IngestReport

__all__ = ["list_benchmarks", "read_benchmark", "register_benchmark", "resolve_folder"]

Reader = Callable[..., tuple[ZooTables, IngestReport]]
_R = TypeVar("_R", bound=Reader)
_READERS: Registry[Reader] = Registry("benchmark")


def register_benchmark(name: str, *, overwrite: bool = False) -> Callable[[_R], _R]:
    """Register a benchmark reader under ``name`` (decorator).

    Raises:
        ArgumentError: ``name`` is taken and ``overwrite`` is False.
    """
    return _READERS.register(name, overwrite=overwrite)


def list_benchmarks(pattern: str = "*") -> list[str]:
    """Names accepted by :func:`read_benchmark` matching a shell-style ``pattern``.

    Example:
        >>> "transfergraph" in list_benchmarks()
        True
        >>> list_benchmarks("transfergraph*")
        ['transfergraph']
    """
    return _READERS.list(pattern)


def read_benchmark(
    name: str, folder: str | os.PathLike[str], **kwargs: Any
) -> tuple[ZooTables, IngestReport]:
    """Read a public benchmark folder with the reader registered as ``name``.

    Args:
        name: One of :func:`list_benchmarks` (``"transfergraph"``, ``"parc"``, ...).
        folder: The benchmark's own folder, or the folder holding it
            (e.g. ``shared/benchmarks``).
        **kwargs: Passed to the reader (``zoo=``, ``family=``, ``errors=``).

    Returns:
        ``(ZooTables, IngestReport)``.

    Raises:
        UnknownNameError: If no reader has that name (close names suggested).

    Example:
        >>> read_benchmark("parcc", ".")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        kgtransfer.errors.UnknownNameError: Unknown benchmark 'parcc'. Did you mean 'parc'?
    """
    return _READERS.get(name)(folder, **kwargs)


def resolve_folder(folder: str | os.PathLike[str], subdir: str, marker: str) -> Path:
    """``folder`` itself if it holds ``marker``, else ``folder/subdir`` if that does.

    Raises:
        IngestError: Naming the folder and the file that was expected.
    """
    path = Path(folder)
    for candidate in (path, path / subdir):
        if (candidate / marker).is_file():
            return candidate
    raise IngestError(
        f"{os.fspath(path)!r} is not a {subdir} benchmark folder: no {marker!r} in it or in "
        f"{subdir}/ below it. Pass the folder that holds {marker}."
    )
