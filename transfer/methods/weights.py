"""Weight transfer: copy a source model's tensors into a target model, reporting each one."""

from __future__ import annotations

import warnings
from types import SimpleNamespace
from typing import Any, ClassVar

import torch
from torch import nn

from kgtransfer.errors import ArgumentError, NotFittedError, TransferError
from kgtransfer.models import Device
from kgtransfer.transfer.methods._base import TargetData, TransferMethod, build_target
from kgtransfer.transfer.methods._registry import register_method
from kgtransfer.transfer.methods._report import TensorNote, TransferReport
from kgtransfer.transfer.training import as_arrays

__all__ = ["WeightTransfer", "transfer_weights"]


def head_names(model: nn.Module) -> set[str]:
    """State-dict names of ``model.head`` (the classifier of every ZooModel)."""
    head = getattr(model, "head", None)
    if not isinstance(head, nn.Module):
        return set()
    return {f"head.{k}" for k in head.state_dict()}


def _shape(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(d) for d in t.shape)


def _first_conv_name(state: dict[str, torch.Tensor]) -> str | None:
    """Name of the first weight with >= 3 dims (the input convolution), if any."""
    for name, t in state.items():
        if name.endswith("weight") and t.ndim >= 3:
            return name
    return None


def _adapt_channels(src: torch.Tensor, c_out: int) -> tuple[torch.Tensor, str]:
    """An input conv's weight for ``c_out`` input channels: average, repeat, rescale.

    The channel mean is repeated ``c_out`` times and scaled by ``c_in / c_out``, so a
    constant input image gives the same pre-activation as in the source.
    """
    c_in = src.shape[1]
    mean = src.mean(dim=1, keepdim=True)
    out = mean.repeat(1, c_out, *([1] * (src.ndim - 2))) * (c_in / c_out)
    how = (
        f"input channels {c_in} -> {c_out}: averaged over channels, repeated, "
        f"scaled by {c_in}/{c_out}"
    )
    return out, how


def _slice_overlap(src: torch.Tensor, dst: torch.Tensor) -> tuple[torch.Tensor, str]:
    out = dst.clone()
    idx = tuple(slice(0, min(a, b)) for a, b in zip(src.shape, dst.shape, strict=True))
    out[idx] = src[idx]
    return out, f"overlapping slice {list(_shape(out[idx]))} copied from source {list(_shape(src))}"


def _transfer(
    source: nn.Module,
    target: nn.Module,
    *,
    reset_head: bool,
    strict_shapes: bool,
    adapt_input_channels: bool,
    seed: int,
    method: str,
) -> TransferReport:
    src_state = source.state_dict()
    tgt_state = target.state_dict()
    heads = head_names(target)
    report = TransferReport(method=method)
    head_reason = ""
    if heads:
        mismatch = [
            n for n in heads if n not in src_state or src_state[n].shape != tgt_state[n].shape
        ]
        if reset_head:
            head_reason = "new classifier head (reset on request)"
        elif mismatch:
            n = sorted(mismatch)[0]
            had = list(src_state[n].shape) if n in src_state else "none"
            head_reason = (
                f"new classifier head: source {n} has shape {had}, "
                f"target {list(tgt_state[n].shape)}"
            )
    first_conv = _first_conv_name(tgt_state)
    new_state = dict(tgt_state)
    used: set[str] = set()
    for name, dst in tgt_state.items():
        src = src_state.get(name)
        if name in heads and head_reason:
            report.reinitialized.append(TensorNote(name, _shape(dst), head_reason))
        elif src is None:
            report.reinitialized.append(
                TensorNote(name, _shape(dst), "no tensor of that name in the source")
            )
        elif src.shape == dst.shape:
            new_state[name] = src.detach().clone()
            report.copied.append(TensorNote(name, _shape(dst)))
            used.add(name)
        elif (
            adapt_input_channels
            and name == first_conv
            and src.ndim == dst.ndim
            and src.shape[0] == dst.shape[0]
            and src.shape[2:] == dst.shape[2:]
        ):
            new_state[name], how = _adapt_channels(src.detach(), int(dst.shape[1]))
            report.adapted.append(TensorNote(name, _shape(dst), how))
            used.add(name)
        elif not strict_shapes and src.ndim == dst.ndim and src.is_floating_point():
            new_state[name], how = _slice_overlap(src.detach(), dst)
            report.adapted.append(TensorNote(name, _shape(dst), how))
            used.add(name)
        else:
            report.reinitialized.append(
                TensorNote(
                    name,
                    _shape(dst),
                    f"source shape {list(src.shape)} differs; target initialisation kept",
                )
            )
    for name, src in src_state.items():
        if name in used:
            continue
        if name not in tgt_state:
            why = "no tensor of that name in the target"
        elif name in heads and head_reason:
            why = "source classifier head replaced"
        else:
            why = f"shape {list(src.shape)} does not fit target {list(tgt_state[name].shape)}"
        report.dropped.append(TensorNote(name, _shape(src), why))
    if not used or all(n in heads for n in used):
        raise TransferError(
            f"No backbone tensor of the source ({type(source).__name__}, {len(src_state)} "
            f"tensors) matches the target ({type(target).__name__}, {len(tgt_state)} tensors) "
            "by name and shape; the architectures do not overlap. Use FeatureTransfer or "
            "Distill for a target of another architecture."
        )
    target.load_state_dict(new_state, strict=True)
    if heads and head_reason:
        reset = getattr(target, "reset_classifier", None)
        n_classes = getattr(target, "n_classes", None)
        if callable(reset) and isinstance(n_classes, int):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(seed))
                reset(n_classes)
            report.notes.append(f"head re-initialised with seed {seed}")
    return report


def transfer_weights(
    source: nn.Module,
    target: nn.Module,
    *,
    strict_shapes: bool = True,
    adapt_input_channels: bool = True,
    reset_head: bool = False,
    seed: int = 0,
) -> TransferReport:
    """Copy ``source``'s tensors into ``target`` in place, and report every tensor.

    Tensors are matched by name. Equal shapes are copied; the first convolution is
    adapted when only its input channels differ (channel mean, repeated, rescaled);
    a head of another shape (or any head with ``reset_head``) is re-initialised
    (seeded); everything else keeps the target's initialisation. Unused source
    tensors are listed as dropped.

    Args:
        source: Model to copy from (unchanged).
        target: Model to copy into (modified in place).
        strict_shapes: If False, tensors of other shapes but equal rank get their
            overlapping slice copied (reported as adapted).
        adapt_input_channels: Adapt the first convolution's input channels.
        reset_head: Re-initialise ``target.head`` even when its shape matches.
        seed: Seed of the re-initialised head.

    Returns:
        The :class:`TransferReport`; its copied, adapted and reinitialized lists
        cover every target tensor, and with dropped every source tensor.

    Raises:
        TransferError: No backbone tensor could be copied or adapted.

    Example:
        >>> from torch import nn
        >>> src, tgt = nn.Linear(3, 2), nn.Linear(3, 2)
        >>> transfer_weights(src, tgt).copied[0].name
        'weight'
        >>> bool(torch.equal(src.weight, tgt.weight))
        True
    """
    return _transfer(
        source,
        target,
        reset_head=reset_head,
        strict_shapes=strict_shapes,
        adapt_input_channels=adapt_input_channels,
        seed=seed,
        method="weights",
    )


@register_method("weights")
class WeightTransfer(TransferMethod):
    """Estimator form of :func:`transfer_weights`: ``fit(source, target)`` copies the
    source's tensors into the target, in place, with nothing trained.

    ``target`` is a model (written into, as :func:`transfer_weights` does) or an
    architecture name (built with ``seed`` for the inputs and classes of ``data``,
    which is needed then and otherwise unused). ``budget`` is ignored.

    Args:
        strict_shapes: See :func:`transfer_weights`.
        adapt_input_channels: See :func:`transfer_weights`.
        seed: Seed of a re-initialised head (and of a named target architecture).
        device: Where the target model is put after the copy (``"cpu"``, ``"auto"``,
            ``"cuda"``, ...; see :func:`kgtransfer.models.resolve_device`), moved in
            place like the copy itself.

    Attributes:
        model_: The target model, after the copy (``predict``/``score`` use it).
        target_: The same model (kept for the deprecated ``transform()``).
        report_: The :class:`TransferReport` of the last ``fit``.

    Example:
        >>> from kgtransfer.models import create_model
        >>> src = create_model("mlp", n_classes=10, input_shape=(64,))
        >>> tgt = create_model("mlp", n_classes=5, input_shape=(64,))
        >>> wt = WeightTransfer().fit(src, tgt)
        >>> len(wt.report_.copied), len(wt.report_.reinitialized), wt.model_ is tgt
        (4, 2, True)
    """

    _budget_params: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(
        self,
        *,
        strict_shapes: bool = True,
        adapt_input_channels: bool = True,
        seed: int = 0,
        device: Device = "cpu",
    ) -> None:
        self.strict_shapes = strict_shapes
        self.adapt_input_channels = adapt_input_channels
        self.seed = seed
        self.device = device

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model_(x)
        return out

    def _fit(self, source: Any, target: Any, data: TargetData | None, p: SimpleNamespace) -> None:
        if target is None:
            raise ArgumentError(
                "WeightTransfer needs a target: fit(source, target) with a model or an "
                "architecture name (and data)."
            )
        if isinstance(target, str):
            if data is None:
                raise ArgumentError(
                    f"WeightTransfer builds the architecture {target!r} for the target data; "
                    "pass it: fit(source, target, data)."
                )
            x, y = as_arrays(data.train, what="data")
            n = int(getattr(data.train, "n_classes", 0) or int(y.max()) + 1)
            target = build_target(target, x, n, p.seed)
        self.report_ = transfer_weights(
            source,
            target,
            strict_shapes=p.strict_shapes,
            adapt_input_channels=p.adapt_input_channels,
            seed=p.seed,
        )
        self.model_ = self.target_ = target.to(p.device)  # nn.Module.to moves in place

    def transform(self) -> nn.Module:
        """Deprecated: the target model after ``fit`` (use ``model_``)."""
        warnings.warn(
            "WeightTransfer.transform() is deprecated and will be removed in the next "
            "release; use the fitted model_ attribute.",
            DeprecationWarning,
            stacklevel=2,
        )
        if not hasattr(self, "model_"):
            raise NotFittedError("WeightTransfer is not fitted; call fit(source, target) first.")
        model: nn.Module = self.model_
        return model
