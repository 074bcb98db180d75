"""The one feature interface every kgtransfer model has.

Built-in architectures subclass :class:`ZooModel`; a user's own ``nn.Module`` is
wrapped into it (:func:`~kgtransfer.models.wrap_module`). Transfer methods, feature
extraction and estimators rely only on this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import nn

__all__ = ["BlockModel", "ZooModel"]


class ZooModel(nn.Module, ABC):
    """A classifier split into a feature extractor and a head.

    ``forward(x) == forward_head(forward_features(x))``.

    Attributes:
        feature_dim: Width D of ``forward_features``' output.
        n_classes: Number of outputs of the head.
        input_shape: Shape of one input, without the batch dimension.
        arch: Registry key it was built from ("" for wrapped user modules).
        arch_kwargs: Keyword arguments it was built with (enough to rebuild it).
        head: The classifier on top of the features.

    Shapes:
        - forward_features: (N, *input_shape) -> (N, D)
        - forward_head: (N, D) -> (N, n_classes)
    """

    feature_dim: int
    n_classes: int
    input_shape: tuple[int, ...] = ()
    arch: str = ""
    arch_kwargs: dict[str, Any]
    head: nn.Module  # the classifier (linear unless a subclass overrides the two head methods)

    @abstractmethod
    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features, shape (N, D)."""

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Logits from features, shape (N, n_classes): the linear ``self.head`` by default."""
        logits: torch.Tensor = self.head(features)
        return logits

    def reset_classifier(self, n_classes: int) -> None:
        """Replace the head by a freshly initialised linear one with ``n_classes`` outputs.

        Subclasses with another kind of head override this and :meth:`forward_head`.
        """
        if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
            raise ValueError(f"n_classes must be a positive int, got {n_classes!r}.")
        self.head = nn.Linear(self.feature_dim, n_classes)
        self.n_classes = n_classes

    def blocks(self) -> list[nn.Module]:
        """Backbone blocks in forward order (for fine-tuning only the last k)."""
        return []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class BlockModel(ZooModel):
    """A backbone of sequential ``body`` blocks, a parameter-free ``pool`` and a linear ``head``.

    The built-in architectures are all of this form.
    """

    def __init__(
        self,
        body: list[nn.Module],
        pool: nn.Module,
        *,
        feature_dim: int,
        n_classes: int,
        input_shape: tuple[int, ...],
    ) -> None:
        super().__init__()
        self.body = nn.ModuleList(body)
        self.pool = pool
        self.head = nn.Linear(feature_dim, n_classes)
        self.feature_dim = feature_dim
        self.n_classes = n_classes
        self.input_shape = tuple(input_shape)
        self.arch_kwargs = {}

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.body:
            x = block(x)
        return torch.flatten(self.pool(x), 1)

    def blocks(self) -> list[nn.Module]:
        return list(self.body)

    def extra_repr(self) -> str:
        return (
            f"arch={self.arch!r}, input_shape={self.input_shape}, "
            f"feature_dim={self.feature_dim}, n_classes={self.n_classes}"
        )
