"""Package versions recorded with every result."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

__all__ = ["versions"]


def versions() -> dict[str, str]:
    """Versions of Python, kgtransfer, torch, torch_geometric, numpy, pandas, pyoxigraph."""
    out = {"python": platform.python_version()}
    for dist in ("kgtransfer", "torch", "torch_geometric", "numpy", "pandas", "pyoxigraph"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out
