"""Package versions recorded in every zoo artefact's provenance."""

from __future__ import annotations

import platform

import numpy as np
import torch

__all__ = ["versions"]


def versions() -> dict[str, str]:
    """Versions of python, kgtransfer, torch and numpy, as strings."""
    from kgtransfer import __version__

    return {
        "python": platform.python_version(),
        "kgtransfer": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }
