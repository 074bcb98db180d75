"""Where the built-in zoo lives under a kgtransfer home folder."""

from __future__ import annotations

import os
import re
from pathlib import Path

from kgtransfer.errors import ArgumentError

__all__ = [
    "confined",
    "datasets_dir",
    "graph_path",
    "grid_path",
    "model_dir",
    "models_dir",
    "plain_name",
    "state_path",
    "zoo_dir",
]


def zoo_dir(home: str | Path) -> Path:
    """``home/zoo``: checkpoints, dataset metadata, the grid results."""
    return Path(home) / "zoo"


def models_dir(home: str | Path) -> Path:
    """``home/zoo/models``: one folder per source model (checkpoint + model card)."""
    return zoo_dir(home) / "models"


# path separators (both styles), NUL and other control characters, a drive colon
_UNSAFE = re.compile(r"[/\\:\x00-\x1f\x7f]")


def plain_name(name: str, *, what: str = "zoo name") -> str:
    """``name`` if it is one plain path component.

    Names come from users and from the graph (model cards, tables), so they are never
    trusted as paths: separators, ``.``/``..``, absolute paths, drive letters, NUL and
    control characters are refused.

    Raises:
        ArgumentError: ``name`` is not a plain name (the value and the rule named).

    Example:
        >>> plain_name("mlp.digits")
        'mlp.digits'
    """
    if not isinstance(name, str):
        raise ArgumentError(f"A {what} must be a string, got {type(name).__name__} {name!r}.")
    if not name or name in (".", "..") or _UNSAFE.search(name) or os.path.isabs(name):
        raise ArgumentError(
            f"Invalid {what} {name!r}: it must be one plain name like 'mlp.digits' (no path "
            "separators, '.' or '..', drive letters, NUL or control characters). To load "
            "a checkpoint folder by its path, pass the folder to load_checkpoint()."
        )
    return name


def confined(parent: str | Path, name: str, *, what: str = "zoo name") -> Path:
    """``parent/name`` for a plain ``name`` (see :func:`plain_name`) whose resolved path
    stays inside ``parent`` (a symlink pointing out is refused too).

    Raises:
        ArgumentError: ``name`` is not a plain name or resolves outside ``parent``.

    Example:
        >>> confined("/zoo/models", "mlp.digits").name
        'mlp.digits'
    """
    base = Path(parent)
    path = base / plain_name(name, what=what)
    root = base.resolve()
    if not path.resolve().is_relative_to(root):
        raise ArgumentError(
            f"Invalid {what} {name!r}: it resolves outside {str(root)!r} (a symlink?)."
        )
    return path


def model_dir(home: str | Path, name: str) -> Path:
    """``home/zoo/models/<name>``; ``name`` must be a plain name (see :func:`confined`)."""
    return confined(models_dir(home), name, what="zoo model name")


def datasets_dir(home: str | Path) -> Path:
    """``home/zoo/datasets``: one JSON metadata file per dataset."""
    return zoo_dir(home) / "datasets"


def grid_path(home: str | Path) -> Path:
    """``home/zoo/grid.csv``: one row per grid run, rewritten atomically after each."""
    return zoo_dir(home) / "grid.csv"


def state_path(home: str | Path) -> Path:
    """``home/zoo/state.json``: what was last written into the graph (batch ids, hashes)."""
    return zoo_dir(home) / "state.json"


def graph_path(home: str | Path) -> Path:
    """``home/graph``: the on-disk knowledge graph store."""
    return Path(home) / "graph"
