"""Registry of transfer methods, keyed like ``evaluate_transfer`` and ``transfer --method``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from kgtransfer.registry import Registry

__all__ = ["get_method", "list_methods", "method_name", "register_method"]

#: name -> (class, constructor parameters preset by the name)
_REGISTRY: Registry[tuple[type, dict[str, Any]]] = Registry(
    "transfer method", hint="See list_methods()."
)
T = TypeVar("T", bound=type)


def register_method(name: str, *, overwrite: bool = False, **preset: Any) -> Callable[[T], T]:
    """Class decorator adding a transfer method under ``name``.

    ``preset`` fixes constructor parameters for that name, so one class can be
    registered under several names (``FeatureTransfer`` as ``linear_probe`` with
    ``head="linear"`` and as ``mlp_probe`` with ``head="mlp"``).

    Raises:
        ArgumentError: ``name`` is taken and ``overwrite`` is False.
    """

    def deco(cls: T) -> T:
        _REGISTRY.add(name, (cls, dict(preset)), overwrite=overwrite)
        return cls

    return deco


def list_methods(pattern: str = "*") -> list[str]:
    """Registered transfer method names matching a glob ``pattern``.

    Example:
        >>> from kgtransfer.transfer.methods import list_methods
        >>> [m for m in list_methods() if not m.startswith("distill")]
        ['finetune', 'linear_probe', 'mlp_probe', 'topk_ensemble', 'weights']
        >>> list_methods("distill_*")
        ['distill_feature', 'distill_logit']
    """
    return _REGISTRY.list(pattern)


def get_method(name: str, **params: Any) -> Any:
    """A new, unfitted transfer method ``name`` built with ``params``.

    Raises:
        UnknownNameError: Unknown name (close names suggested).

    Example:
        >>> from kgtransfer.transfer.methods import get_method
        >>> get_method("linear_probe", epochs=5).get_params()["head"]
        'linear'
    """
    cls, preset = _REGISTRY.get(name)
    return cls(**{**preset, **params})


def method_name(method: Any) -> str | None:
    """The registered name of a method instance (the most specific preset it matches), or None.

    Example:
        >>> from kgtransfer.transfer.methods import FeatureTransfer, method_name
        >>> method_name(FeatureTransfer(head="mlp"))
        'mlp_probe'
    """
    best: tuple[int, str] | None = None
    for name, (cls, preset) in _REGISTRY.items():
        fits = type(method) is cls and all(getattr(method, k, None) == v for k, v in preset.items())
        if fits and (best is None or len(preset) > best[0]):
            best = (len(preset), name)
    return None if best is None else best[1]
