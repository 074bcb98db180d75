"""Version information: the package's own version and the versions recorded with every result.

Part of the leaf core: the standard library only. Versions are read from the installed
distributions' metadata, so nothing here imports torch, numpy or pandas.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

__all__ = ["RECORDED_DISTRIBUTIONS", "package_version", "versions"]

#: Distributions whose versions :func:`versions` records (besides Python).
RECORDED_DISTRIBUTIONS = (
    "kgtransfer",
    "torch",
    "torch_geometric",
    "numpy",
    "scipy",
    "pandas",
    "pyoxigraph",
)


def package_version() -> str:
    """The installed kgtransfer version (``"0.0.0"`` when running from an uninstalled tree).

    Example:
        >>> package_version().count(".") >= 2
        True
    """
    try:
        return version("kgtransfer")
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return "0.0.0"


def versions() -> dict[str, str]:
    """Versions of Python and of :data:`RECORDED_DISTRIBUTIONS`, as strings.

    The one set of keys stored in every result's provenance (zoo artefacts, transfer
    records, recommendations, benchmark outputs). A distribution that is not installed
    is ``"not installed"``.

    Example:
        >>> sorted(versions())
        ['kgtransfer', 'numpy', 'pandas', 'pyoxigraph', 'python', 'scipy', 'torch', 'torch_geometric']
    """
    out = {"python": platform.python_version()}
    for dist in RECORDED_DISTRIBUTIONS:
        out[dist] = package_version() if dist == "kgtransfer" else _dist_version(dist)
    return out


def _dist_version(dist: str) -> str:
    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"
