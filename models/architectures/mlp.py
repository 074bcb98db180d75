"""A multi-layer perceptron on flattened inputs (any modality)."""

from __future__ import annotations

import math

from torch import nn

from kgtransfer.models.base import BlockModel
from kgtransfer.models.registry import register_model


def _mlp(n_classes: int, input_shape: tuple[int, ...], width: int, depth: int) -> BlockModel:
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}.")
    d_in = math.prod(input_shape)
    body: list[nn.Module] = [nn.Sequential(nn.Flatten(), nn.Linear(d_in, width), nn.ReLU())]
    body += [nn.Sequential(nn.Linear(width, width), nn.ReLU()) for _ in range(depth - 1)]
    return BlockModel(
        body, nn.Identity(), feature_dim=width, n_classes=n_classes, input_shape=input_shape
    )


@register_model(
    "mlp",
    family="mlp",
    modality="any",
    default_input_shape=(64,),
    description="MLP, 2 hidden layers of 128 on flattened input",
)
def mlp(
    *, n_classes: int, input_shape: tuple[int, ...], width: int = 128, depth: int = 2
) -> BlockModel:
    """MLP on flattened inputs: ``depth`` blocks of Linear + ReLU of ``width`` units."""
    return _mlp(n_classes, input_shape, width, depth)


@register_model(
    "mlp_wide",
    family="mlp",
    modality="any",
    default_input_shape=(64,),
    description="MLP, 2 hidden layers of 256",
)
def mlp_wide(
    *, n_classes: int, input_shape: tuple[int, ...], width: int = 256, depth: int = 2
) -> BlockModel:
    """A wider :func:`mlp`."""
    return _mlp(n_classes, input_shape, width, depth)
