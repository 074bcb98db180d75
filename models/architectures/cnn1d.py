"""A 1-D convolutional network for signals such as MNIST-1D (1 × 40)."""

from __future__ import annotations

from torch import nn

from kgtransfer.models.base import BlockModel
from kgtransfer.models.registry import register_model


@register_model(
    "cnn1d",
    family="cnn1d",
    modality="signal",
    default_input_shape=(1, 40),
    description="3 conv1d blocks (width w, 2w, 2w), max-pool, global average pool",
)
def cnn1d(*, n_classes: int, input_shape: tuple[int, ...], width: int = 32) -> BlockModel:
    """Three 1-D conv blocks with ReLU and one max-pool, then global average pooling."""
    if len(input_shape) != 2 or input_shape[1] < 4:
        raise ValueError(
            f"cnn1d takes signal inputs of shape (C, L) with L >= 4, got {input_shape}; "
            "use 'cnn_small' for images or 'mlp' for tabular data."
        )
    c = input_shape[0]
    body: list[nn.Module] = [
        nn.Sequential(nn.Conv1d(c, width, 5, padding=2), nn.ReLU()),
        nn.Sequential(nn.Conv1d(width, 2 * width, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2)),
        nn.Sequential(nn.Conv1d(2 * width, 2 * width, 3, padding=1), nn.ReLU()),
    ]
    pool = nn.AdaptiveAvgPool1d(1)
    return BlockModel(
        body, pool, feature_dim=2 * width, n_classes=n_classes, input_shape=input_shape
    )
