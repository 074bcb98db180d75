"""A small 2-D convolutional network for small images (8×8 digits up to 3×32×32)."""

from __future__ import annotations

from torch import nn

from kgtransfer.models.base import BlockModel
from kgtransfer.models.registry import register_model


def image_shape(name: str, input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Check that ``input_shape`` is (C, H, W) with H, W >= 4."""
    if len(input_shape) != 3 or min(input_shape[1:]) < 4:
        raise ValueError(
            f"{name} takes image inputs of shape (C, H, W) with H, W >= 4, got {input_shape}; "
            "use 'mlp' or 'cnn1d' for other inputs."
        )
    c, h, w = input_shape
    return c, h, w


@register_model(
    "cnn_small",
    family="cnn",
    modality="image",
    default_input_shape=(1, 8, 8),
    description="3 conv blocks (width w, 2w, 2w), max-pool, global average pool",
)
def cnn_small(*, n_classes: int, input_shape: tuple[int, ...], width: int = 32) -> BlockModel:
    """Three 3×3 conv blocks with ReLU, one 2×2 max-pool, then global average pooling."""
    c, _, _ = image_shape("cnn_small", input_shape)
    body: list[nn.Module] = [
        nn.Sequential(nn.Conv2d(c, width, 3, padding=1), nn.ReLU()),
        nn.Sequential(nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)),
        nn.Sequential(nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.ReLU()),
    ]
    pool = nn.AdaptiveAvgPool2d(1)
    return BlockModel(
        body, pool, feature_dim=2 * width, n_classes=n_classes, input_shape=input_shape
    )
