"""A tiny ResNet (He et al., CVPR 2016) for small images."""

from __future__ import annotations

import torch
from torch import nn

from kgtransfer.models.architectures.cnn import image_shape
from kgtransfer.models.base import BlockModel
from kgtransfer.models.registry import register_model


class BasicBlock(nn.Module):
    """Two 3×3 conv + BatchNorm layers with an identity (or 1×1 projection) shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


@register_model(
    "resnet_small",
    family="resnet",
    modality="image",
    default_input_shape=(1, 8, 8),
    description="stem + 3 basic residual blocks (w, 2w stride 2, 2w), global average pool",
)
def resnet_small(*, n_classes: int, input_shape: tuple[int, ...], width: int = 16) -> BlockModel:
    """Conv stem, then residual blocks of width w, 2w (stride 2) and 2w."""
    c, _, _ = image_shape("resnet_small", input_shape)
    body: list[nn.Module] = [
        nn.Sequential(
            nn.Conv2d(c, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()
        ),
        BasicBlock(width, width),
        BasicBlock(width, 2 * width, stride=2),
        BasicBlock(2 * width, 2 * width),
    ]
    pool = nn.AdaptiveAvgPool2d(1)
    return BlockModel(
        body, pool, feature_dim=2 * width, n_classes=n_classes, input_shape=input_shape
    )
