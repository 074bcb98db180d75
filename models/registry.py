"""The model registry: ``register_model``, ``create_model``, ``list_models``.

Keys are architecture names (``mlp``, ``cnn_small``, ...); zoo checkpoints are named
``arch.tag`` on top of them (``cnn_small.digits``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from kgtransfer.errors import ArgumentError
from kgtransfer.models.base import ZooModel
from kgtransfer.registry import Registry

__all__ = [
    "ModelConfig",
    "create_model",
    "get_model_config",
    "list_models",
    "model_options",
    "register_model",
]


@dataclass(frozen=True)
class ModelConfig:
    """What the registry knows about an architecture.

    Attributes:
        name: Registry key.
        family: Architecture family (``mlp``, ``cnn``, ``resnet``, ``cnn1d``).
        modality: Inputs it is meant for (``image``, ``signal``, ``tabular``, ``any``).
        default_input_shape: Input shape used when ``create_model`` gets none.
        description: One line for ``list_models``-style listings.
    """

    name: str
    family: str
    modality: str
    default_input_shape: tuple[int, ...]
    description: str = ""


Builder = Callable[..., ZooModel]
B = TypeVar("B", bound=Builder)

#: architecture name -> (config, builder); the rules of :class:`kgtransfer.registry.Registry`
_REGISTRY: Registry[tuple[ModelConfig, Builder]] = Registry("model")


def register_model(
    name: str,
    *,
    family: str,
    modality: str,
    default_input_shape: tuple[int, ...],
    description: str = "",
    overwrite: bool = False,
) -> Callable[[B], B]:
    """Register ``builder(n_classes=..., input_shape=..., **kwargs) -> ZooModel`` as ``name``.

    Raises:
        ArgumentError: ``name`` is taken and ``overwrite`` is False.
    """

    def deco(builder: B) -> B:
        config = ModelConfig(name, family, modality, tuple(default_input_shape), description)
        _REGISTRY.add(name, (config, builder), overwrite=overwrite)
        return builder

    return deco


def list_models(pattern: str = "*") -> list[str]:
    """Registered architecture names matching a shell-style ``pattern``, sorted.

    Example:
        >>> "cnn_small" in list_models("cnn*")
        True
    """
    return _REGISTRY.list(pattern)


def get_model_config(name: str) -> ModelConfig:
    """The :class:`ModelConfig` of ``name``; unknown names suggest close ones."""
    return _REGISTRY.get(name)[0]


def model_options(name: str) -> dict[str, inspect.Parameter] | None:
    """The architecture options ``create_model(name, **kwargs)`` accepts, by name.

    Returns:
        ``{option: inspect.Parameter}`` (its default tells the expected type), or
        ``None`` when the builder takes arbitrary ``**kwargs``.

    Raises:
        UnknownNameError: ``name`` is not registered (close names suggested).

    Example:
        >>> sorted(model_options("mlp"))
        ['depth', 'width']
    """
    get_model_config(name)
    params = inspect.signature(_REGISTRY.get(name)[1]).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return None
    return {
        k: p
        for k, p in params.items()
        if k not in ("n_classes", "input_shape")
        and p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    }


def create_model(
    name: str,
    *,
    n_classes: int,
    input_shape: tuple[int, ...] | None = None,
    in_chans: int | None = None,
    **kwargs: object,
) -> ZooModel:
    """Build a freshly initialised ``name`` model (seed with ``torch.manual_seed`` first).

    Args:
        name: Architecture key (see :func:`list_models`).
        n_classes: Outputs of the classifier head (>= 1).
        input_shape: Shape of one input without the batch dimension; the
            architecture's default when ``None``.
        in_chans: Input channels, replacing the first dimension of the (default)
            input shape; for image and signal inputs only.
        **kwargs: Architecture options, e.g. ``width``, ``depth``.

    Raises:
        UnknownNameError: ``name`` is not registered (close names suggested).
        ArgumentError: An option the architecture does not take (the accepted ones named).
        ValueError: ``n_classes`` < 1 or an input shape the architecture cannot take.

    Example:
        >>> import torch
        >>> model = create_model("mlp", n_classes=3, input_shape=(1, 8, 8))
        >>> model(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 3])
    """
    config = get_model_config(name)
    options = model_options(name)
    unknown = sorted(set(kwargs) - set(options)) if options is not None else []
    if unknown:
        raise ArgumentError(
            f"{name} does not take option(s) {unknown}; it accepts {sorted(options or {})} "
            "(besides n_classes, input_shape, in_chans)."
        )
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive int, got {n_classes!r}.")
    shape = tuple(int(d) for d in (input_shape or config.default_input_shape))
    if in_chans is not None:
        if len(shape) < 2:
            raise ValueError(
                f"in_chans={in_chans!r} needs a (C, ...) input shape, but {name} got {shape}; "
                "pass input_shape instead."
            )
        if input_shape is not None and shape[0] != in_chans:
            raise ValueError(
                f"in_chans={in_chans!r} contradicts input_shape={tuple(input_shape)!r}; "
                "pass only one of them."
            )
        shape = (int(in_chans), *shape[1:])
    if not shape or any(d < 1 for d in shape):
        raise ValueError(f"input_shape must be positive dimensions, got {input_shape!r}.")
    builder = _REGISTRY.get(name)[1]
    model = builder(n_classes=n_classes, input_shape=shape, **kwargs)
    model.arch = name
    model.arch_kwargs = dict(kwargs)
    return model
