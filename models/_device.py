"""The one reading of a ``device=`` argument: feature extraction, every transfer
method and ``transfer_from`` resolve theirs here.

``"cpu"`` (the default everywhere) computes on the CPU; ``"cuda"``, ``"cuda:<index>"``
and ``"mps"`` on that accelerator (an error when torch does not see it); ``"auto"``
takes the first CUDA GPU when torch sees one, else the CPU. A ``torch.device`` is
accepted as well. Only the CPU path is tested in kgtransfer's CI.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any, TypeAlias

import torch

from kgtransfer.errors import ArgumentError

__all__ = ["DEVICE_NAMES", "Device", "on_device", "resolve_device"]

#: What a ``device=`` argument may be.
Device: TypeAlias = str | torch.device

#: Device names accepted as strings (``cuda:<index>`` too).
DEVICE_NAMES: tuple[str, ...] = ("cpu", "auto", "cuda", "mps")

_FIX = "pass 'cpu', 'auto', 'cuda', 'cuda:<index>', 'mps' or a torch.device"


def _parse(device: object) -> torch.device:
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise ArgumentError(f"device must be a string or a torch.device, got {device!r}; {_FIX}.")
    name = device.strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    kind, _, index = name.partition(":")
    if kind not in ("cpu", "cuda", "mps") or (index and not index.isdigit()):
        close = difflib.get_close_matches(kind, DEVICE_NAMES, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ArgumentError(f"Unknown device {device!r}.{hint} {_FIX[0].upper()}{_FIX[1:]}.")
    return torch.device(name)


def resolve_device(device: object = "cpu") -> torch.device:
    """The ``torch.device`` a ``device=`` argument names, checked against this machine.

    Args:
        device: ``"cpu"``, ``"auto"`` (CUDA when available, else CPU), ``"cuda"``,
            ``"cuda:<index>"``, ``"mps"`` or a ``torch.device``.

    Returns:
        The device.

    Raises:
        ArgumentError: An unknown device name (with a did-you-mean), another type,
            or an accelerator torch does not see here (CUDA / MPS unavailable, a CUDA
            index beyond the GPUs present).

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
        >>> resolve_device(torch.device("cpu"))
        device(type='cpu')
        >>> resolve_device("gpu")
        Traceback (most recent call last):
        kgtransfer.errors.ArgumentError: Unknown device 'gpu'. Did you mean 'cpu'? Pass 'cpu', 'auto', 'cuda', 'cuda:<index>', 'mps' or a torch.device.
    """
    dev = _parse(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ArgumentError(
                f"device={str(device)!r} but torch sees no CUDA GPU here "
                f"(torch {torch.__version__}, torch.cuda.is_available() is False); use "
                "device='cpu', or device='auto' to take a GPU only when there is one."
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ArgumentError(
                f"device={str(device)!r} but torch sees {torch.cuda.device_count()} CUDA "
                f"GPU(s); use an index below that, or device='cuda'."
            )
    if dev.type == "mps" and not (
        getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    ):
        raise ArgumentError(
            f"device={str(device)!r} but the MPS backend is not available here; use "
            "device='cpu' or device='auto'."
        )
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ArgumentError(f"Unknown device {str(device)!r}; {_FIX}.")
    return dev


def on_device(module: Any, device: object = "cpu") -> Any:
    """``module`` itself when all its tensors are on ``device``, else a copy moved
    there: a caller's model is never moved behind its back.

    Example:
        >>> from torch import nn
        >>> m = nn.Linear(2, 2)
        >>> on_device(m, "cpu") is m
        True
    """
    dev = resolve_device(device)
    where = {t.device for t in (*module.parameters(), *module.buffers())}
    if not where or where == {dev}:
        return module
    return copy.deepcopy(module).to(dev)
