"""Keep ``import torchvision`` (and so timm and transformers' image models) working when
the installed torchvision wheel was built for CUDA but torch is the CPU build.

PyPI serves only CUDA builds of torchvision for Linux; beside the CPU wheel of torch
their compiled ops (``torchvision::nms``, ...) cannot load, and ``import torchvision``
then fails in its meta registrations with ``operator torchvision::nms does not exist``.
timm imports torchvision at import time, and so does transformers for image models.
When (and only when) that mismatch is seen, the two operator schemas torchvision's
meta registrations need are declared without kernels: classification models, timm
and transformers work; torchvision's detection ops raise if called.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import torch

__all__ = ["ensure_torchvision_importable"]

_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor",
)
_LIBRARIES: list[torch.library.Library] = []  # kept alive: dropping one undefines its ops


def _torchvision_cuda_build() -> bool:
    """Whether the installed torchvision (not imported) is a ``+cu`` build."""
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.origin is None:
        return False
    try:
        text = (Path(spec.origin).parent / "version.py").read_text(encoding="utf-8")
    except OSError:
        return False
    match = re.search(r"__version__\s*=\s*['\"]([^'\"]+)['\"]", text)
    return bool(match and "+cu" in match.group(1))


def ensure_torchvision_importable() -> bool:
    """Declare torchvision's op schemas when a CUDA torchvision sits beside CPU torch.

    Returns:
        True when the schemas were declared (now or earlier), else False.
    """
    if _LIBRARIES:
        return True
    if "torchvision" in sys.modules or torch.version.cuda is not None:
        return False
    if not _torchvision_cuda_build():
        return False
    try:
        lib = torch.library.Library("torchvision", "DEF")
        for schema in _SCHEMAS:
            lib.define(schema)
    except RuntimeError:  # already defined (by torchvision or another shim)
        return False
    _LIBRARIES.append(lib)
    return True


ensure_torchvision_importable()  # on import of kgtransfer.models (a file read; no torchvision)
