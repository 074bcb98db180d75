"""The one feature interface every kgtransfer model has.

Built-in architectures subclass :class:`ZooModel`; a user's own ``nn.Module`` is
wrapped into it. Transfer methods, feature extraction and estimators rely only
on this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn

__all__ = ["ZooModel"]


class ZooModel(nn.Module, ABC):
    """A classifier split into a feature extractor and a head.

    ``forward(x) == forward_head(forward_features(x))``.

    Attributes:
        feature_dim: Width D of ``forward_features``' output.
        n_classes: Number of outputs of the head (0 = no head, features only).

    Shapes:
        - forward_features: (N, *input_shape) -> (N, D)
        - forward_head: (N, D) -> (N, n_classes)
    """

    feature_dim: int
    n_classes: int

    @abstractmethod
    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features, shape (N, D)."""

    @abstractmethod
    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Logits from features, shape (N, n_classes)."""

    @abstractmethod
    def reset_classifier(self, n_classes: int) -> None:
        """Replace the head by a freshly initialised one with ``n_classes`` outputs."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
