"""Wrap a user's own ``torch.nn.Module`` (torchvision, timm, hand-built) into a ZooModel."""

from __future__ import annotations

import copy

import torch
from torch import nn

from kgtransfer.models.base import ZooModel

__all__ = ["WrappedModel", "wrap_module"]

HEAD_NAMES = ("fc", "classifier", "head", "last_linear")


def _find_head(module: nn.Module) -> tuple[str, nn.Linear]:
    for name in HEAD_NAMES:
        head = getattr(module, name, None)
        if isinstance(head, nn.Sequential) and len(head) and isinstance(head[-1], nn.Linear):
            return f"{name}.{len(head) - 1}", head[-1]
        if isinstance(head, nn.Linear):
            return name, head
    raise ValueError(
        f"Cannot find the classifier of {type(module).__name__}: none of the attributes "
        f"{HEAD_NAMES} is an nn.Linear. Pass head='<attribute name>' to wrap_module."
    )


class WrappedModel(ZooModel):
    """A user module whose final linear layer is split off as the head."""

    def __init__(self, module: nn.Module, head_name: str, input_shape: tuple[int, ...]) -> None:
        super().__init__()
        head = module.get_submodule(head_name)
        if not isinstance(head, nn.Linear):
            raise ValueError(
                f"wrap_module: {head_name!r} is a {type(head).__name__}, not an nn.Linear."
            )
        parent_name, _, attr = head_name.rpartition(".")
        self.backbone = module
        self.head = head
        setattr(module.get_submodule(parent_name) if parent_name else module, attr, nn.Identity())
        self.head_name = head_name
        self.feature_dim = head.in_features
        self.n_classes = head.out_features
        self.input_shape = tuple(input_shape)
        self.arch_kwargs: dict[str, object] = {}

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.backbone(x), 1)

    def blocks(self) -> list[nn.Module]:
        return [m for m in self.backbone.children() if not isinstance(m, nn.Identity)]


def wrap_module(
    module: nn.Module,
    *,
    head: str | None = None,
    input_shape: tuple[int, ...] = (),
    copy_module: bool = True,
    n_classes: int | None = None,
) -> WrappedModel:
    """Wrap ``module`` into the ZooModel feature interface.

    The classifier is the attribute ``head`` or, by default, the first of ``fc``,
    ``classifier``, ``head``, ``last_linear`` that is (or ends in) an ``nn.Linear``.
    ``module`` is deep-copied unless ``copy_module=False``. With ``n_classes`` different
    from the found head's outputs, the head is replaced by a fresh one of that size.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> net = nn.Sequential()
        >>> net.body = nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.ReLU())
        >>> net.fc = nn.Linear(8, 3)
        >>> m = wrap_module(net, input_shape=(4,))
        >>> m.forward_features(torch.zeros(2, 4)).shape, m.n_classes
        (torch.Size([2, 8]), 3)
    """
    module = copy.deepcopy(module) if copy_module else module
    if head is None:
        head, _ = _find_head(module)
    wrapped = WrappedModel(module, head, input_shape)
    if n_classes is not None and n_classes != wrapped.n_classes:
        wrapped.reset_classifier(n_classes)
    return wrapped
