"""Wrap a user's own ``torch.nn.Module`` (torchvision, Hugging Face, hand-built) into a ZooModel.

The module's classifier is split off as the ZooModel's ``head`` and replaced by
``nn.Identity`` inside the module, so the module's own forward then returns what the
classifier reads: those are the features. Outputs may be a tensor, a tuple / list
(its first element) or a mapping such as a Hugging Face ``ModelOutput``: ``logits``
(the classifier's input, once the classifier is an identity), else ``pooler_output``,
else the first (CLS) token of ``last_hidden_state`` (spatial maps are averaged).
Hugging Face text models (``main_input_name == "input_ids"``) get integer token ids
and the attention mask rebuilt from the config's ``pad_token_id``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from kgtransfer.models.base import ZooModel

__all__ = ["WrappedModel", "output_features", "wrap_module"]

#: Attributes searched for the classifier, in order (``score``: Hugging Face GPT-style).
HEAD_NAMES = ("fc", "classifier", "head", "last_linear", "score")
#: Keys of a mapping output holding features, in order of preference.
FEATURE_KEYS = ("logits", "pooler_output", "last_hidden_state")


def _last_linear(module: nn.Module) -> str | None:
    """Name of the last direct child of ``module`` that is an ``nn.Linear``."""
    names = [n for n, m in module.named_children() if isinstance(m, nn.Linear)]
    return names[-1] if names else None


def _find_head(module: nn.Module) -> tuple[str, nn.Linear]:
    for name in HEAD_NAMES:
        head = getattr(module, name, None)
        if isinstance(head, nn.Linear):
            return name, head
        if isinstance(head, nn.Module) and not isinstance(head, nn.Identity):
            child = _last_linear(head)
            if child is not None:  # nn.Sequential(..., Linear), RobertaClassificationHead
                return f"{name}.{child}", head.get_submodule(child)  # type: ignore[return-value]
    raise ValueError(
        f"Cannot find the classifier of {type(module).__name__}: none of the attributes "
        f"{HEAD_NAMES} is (or ends in) an nn.Linear. Pass head='<attribute name>' to "
        "wrap_module."
    )


def output_features(out: Any) -> torch.Tensor:
    """The feature tensor (N, D) in a module's output (see the module docstring).

    Example:
        >>> out = {"last_hidden_state": torch.arange(12.0).reshape(1, 3, 4)}
        >>> output_features(out).tolist()
        [[0.0, 1.0, 2.0, 3.0]]
    """
    if isinstance(out, torch.Tensor):
        return torch.flatten(out, 1)
    if isinstance(out, Mapping):
        for key in FEATURE_KEYS:
            value = out.get(key)
            if value is None:
                continue
            if key == "last_hidden_state":
                # (N, L, D): the first (CLS) token; (N, C, H, W): mean over positions
                return value[:, 0] if value.dim() == 3 else torch.flatten(value, 2).mean(-1)
            return torch.flatten(value, 1)
        raise ValueError(
            f"The module's output has none of {FEATURE_KEYS} (keys: {sorted(out)}); wrap a "
            "module whose forward returns a tensor or one of these."
        )
    if isinstance(out, (tuple, list)) and out:
        return output_features(out[0])
    raise TypeError(f"Cannot read features from a {type(out).__name__} output.")


class WrappedModel(ZooModel):
    """A user module whose final linear layer is split off as the head.

    Attributes:
        backbone: The module, its classifier replaced by ``nn.Identity``.
        head_name: Dotted name of the classifier inside the module (None: it had none).
        input_kind: ``"tokens"`` for Hugging Face text models (integer ids and an
            attention mask are passed), else ``"tensor"``.
        pad_token_id: Padding id masked out of text inputs.
    """

    def __init__(
        self,
        module: nn.Module,
        head_name: str | None,
        input_shape: tuple[int, ...],
        *,
        feature_dim: int | None = None,
        n_classes: int | None = None,
    ) -> None:
        super().__init__()
        self.backbone = module
        if head_name is None:
            if feature_dim is None or n_classes is None:
                raise ValueError(
                    "wrap_module: a module without a classifier needs feature_dim and n_classes."
                )
            head: nn.Module = nn.Linear(int(feature_dim), int(n_classes))
        else:
            head = module.get_submodule(head_name)
            if not isinstance(head, nn.Linear):
                raise ValueError(
                    f"wrap_module: {head_name!r} is a {type(head).__name__}, not an nn.Linear."
                )
            parent_name, _, attr = head_name.rpartition(".")
            parent = module.get_submodule(parent_name) if parent_name else module
            setattr(parent, attr, nn.Identity())
        self.head = head
        self.head_name = head_name
        self.feature_dim = int(head.in_features)  # type: ignore[arg-type]
        self.n_classes = int(head.out_features)  # type: ignore[arg-type]
        self.input_shape = tuple(input_shape)
        self.arch_kwargs: dict[str, object] = {}
        text = getattr(module, "main_input_name", None) == "input_ids"
        self.input_kind = "tokens" if text else "tensor"
        pad = getattr(getattr(module, "config", None), "pad_token_id", None)
        self.pad_token_id = 0 if pad is None else int(pad)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        if self.input_kind == "tokens":
            if x.dim() != 2:
                raise ValueError(f"Expected token ids of shape (N, L), got {tuple(x.shape)}.")
            ids = x.round().long() if x.is_floating_point() else x.long()
            out = self.backbone(input_ids=ids, attention_mask=(ids != self.pad_token_id).long())
        else:
            out = self.backbone(x)
        return output_features(out)

    def reset_classifier(self, n_classes: int) -> None:
        """A fresh linear head; a Hugging Face config's ``num_labels`` follows it."""
        super().reset_classifier(n_classes)
        config = getattr(self.backbone, "config", None)
        if config is not None and hasattr(config, "num_labels"):
            config.num_labels = n_classes

    def blocks(self) -> list[nn.Module]:
        from kgtransfer.models.hf import _main_layers

        if hasattr(self.backbone, "config"):  # Hugging Face: the transformer layers
            layers = _main_layers(self.backbone)
            if layers:
                return layers
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
    ``classifier``, ``head``, ``last_linear``, ``score`` that is (or ends in) an
    ``nn.Linear`` (a Hugging Face ``*ForImageClassification`` /
    ``*ForSequenceClassification`` included). ``module`` is deep-copied unless
    ``copy_module=False``. With ``n_classes`` different from the found head's
    outputs, the head is replaced by a fresh one of that size (and a Hugging Face
    config's ``num_labels`` follows).

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
