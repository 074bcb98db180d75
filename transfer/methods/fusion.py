"""Fusing several sources: weight averaging and a top-k probability ensemble."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, ClassVar, cast

import numpy as np
import torch
from torch import nn

from kgtransfer.errors import ArgumentError, TransferError
from kgtransfer.models import Device
from kgtransfer.models._device import on_device
from kgtransfer.protocols import LabelledData
from kgtransfer.transfer.methods._base import TargetData, TransferMethod, _is_data
from kgtransfer.transfer.methods._registry import register_method
from kgtransfer.transfer.methods._report import TensorNote, TransferReport
from kgtransfer.transfer.training import BudgetLike, as_arrays, batched_predict

__all__ = ["TopKEnsemble", "average_weights"]


def average_weights(
    models: Sequence[nn.Module], weights: Sequence[float] | None = None
) -> nn.Module:
    """A new model whose floating-point tensors are the weighted mean of ``models``'.

    Integer buffers (e.g. batch-norm counters) are taken from the first model.

    Args:
        models: Models of the same architecture (same tensor names and shapes).
        weights: Non-negative weights, one per model (normalised); equal by default.

    Returns:
        A deep copy of ``models[0]`` holding the averaged tensors.

    Raises:
        ValueError: No models, or bad weights.
        TransferError: The models differ in a tensor's name or shape (named).

    Example:
        >>> from torch import nn
        >>> a, b = nn.Linear(2, 1), nn.Linear(2, 1)
        >>> m = average_weights([a, b])
        >>> bool(torch.allclose(m.bias, (a.bias + b.bias) / 2))
        True
    """
    models = list(models)
    if not models:
        raise ValueError("average_weights needs at least one model, got none.")
    w = np.ones(len(models)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(models),) or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError(
            f"weights must be {len(models)} finite non-negative numbers with a positive sum, "
            f"got {weights!r}."
        )
    w = w / w.sum()
    states = [m.state_dict() for m in models]
    ref = states[0]
    for i, state in enumerate(states[1:], start=1):
        if set(state) != set(ref):
            extra = sorted(set(state) ^ set(ref))[0]
            raise TransferError(
                f"Model {i} and model 0 have different tensors: {extra!r} is in only one "
                "of them. average_weights needs models of the same architecture."
            )
        for name, t in state.items():
            if t.shape != ref[name].shape:
                raise TransferError(
                    f"Tensor {name!r} has shape {list(t.shape)} in model {i} but "
                    f"{list(ref[name].shape)} in model 0; average_weights needs models of "
                    "the same architecture (and the same number of classes)."
                )
    avg = {}
    for name, t in ref.items():
        if t.is_floating_point():
            avg[name] = sum(float(wi) * s[name].double() for wi, s in zip(w, states, strict=True))
            avg[name] = avg[name].to(t.dtype)
        else:
            avg[name] = t.clone()
    out = copy.deepcopy(models[0])
    out.load_state_dict(avg, strict=True)
    return out


@register_method("topk_ensemble")
class TopKEnsemble(TransferMethod):
    """Average the class probabilities of the k best (or first k) source models.

    ``fit(sources, target=None, data=None)``: ``sources`` are candidate models with the
    same classes (e.g. ranked by a recommender; one model counts as a list of one);
    with labelled ``data`` the k most accurate on it are kept, else the first k.
    ``target`` and ``budget`` are not used (nothing is trained).

    Args:
        models: Deprecated (pass the candidates to ``fit``): candidate models, used
            when ``fit`` gets no sources.
        k: How many to keep.
        device: Where the kept models predict (``"cpu"``, ``"auto"``, ``"cuda"``, ...;
            see :func:`kgtransfer.models.resolve_device`); a candidate elsewhere is
            copied there, never moved.

    Attributes:
        models_: The kept models.
        selected_: Their indices in the candidates.
        accuracies_: Each candidate's accuracy on the ``fit`` data (if given).
        report_: :class:`TransferReport` (the kept models' tensors, copied unchanged).

    Example:
        >>> from torch import nn
        >>> m = nn.Linear(3, 2)
        >>> ens = TopKEnsemble(k=2).fit([m, m])
        >>> ens.predict_proba(torch.zeros(4, 3)).shape
        (4, 2)
    """

    _fitted_attr = "models_"
    _budget_params: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(
        self, models: Sequence[nn.Module] | None = None, k: int = 1, *, device: Device = "cpu"
    ) -> None:
        self.models = models
        self.k = k
        self.device = device

    def fit(
        self,
        source: nn.Module | Sequence[nn.Module] | LabelledData | None = None,
        target: str | nn.Module | LabelledData | None = None,
        data: LabelledData | TargetData | None = None,
        budget: BudgetLike | None = None,
        /,
        **kwargs: object,
    ) -> TopKEnsemble:
        """Keep the k models of ``source`` most accurate on ``data`` (the first k without).

        The deprecated ``TopKEnsemble(models, k).fit(data)`` form still works for one
        release (with a ``DeprecationWarning``).
        """
        models: Any = source  # the deprecated form passes the data first
        if self.models is not None and (source is None or _is_data(source)):
            warnings.warn(
                "TopKEnsemble(models, k).fit(data) is deprecated and will be removed in the "
                "next release; use TopKEnsemble(k=k).fit(models, data=data).",
                DeprecationWarning,
                stacklevel=2,
            )
            if source is not None:
                if data is not None or "data" in kwargs:
                    raise ArgumentError("The data was given twice; pass it once as data.")
                data = cast("LabelledData", source)
            models = self.models
        super().fit(models, target, data, budget, **kwargs)
        return self

    def _fit(self, source: Any, target: Any, data: TargetData | None, p: SimpleNamespace) -> None:
        if source is None:
            raise ArgumentError("TopKEnsemble needs candidate models: fit(models, data=...).")
        models = [
            on_device(m, p.device) for m in ([source] if isinstance(source, nn.Module) else source)
        ]
        k = p.k
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be an int >= 1, got {k!r}.")
        if k > len(models):
            raise ValueError(f"k={k} but only {len(models)} models were given.")
        if data is None:
            self.selected_ = list(range(k))
            self.accuracies_: list[float] | None = None
        else:
            x, y = (t.to(p.device) for t in as_arrays(data.train, what="data"))
            accs = []
            for m in models:
                m.eval()
                accs.append(float((batched_predict(m, x).argmax(1) == y).float().mean()))
            self.accuracies_ = accs
            self.selected_ = sorted(range(len(models)), key=lambda i: (-accs[i], i))[:k]
        self.models_ = [models[i].eval() for i in self.selected_]
        p.models = self.models_
        report = TransferReport(method="topk_ensemble")
        for rank, i in enumerate(self.selected_):
            for name, t in models[i].state_dict().items():
                report.copied.append(
                    TensorNote(f"member{rank}.{name}", tuple(t.shape), f"candidate {i}, unchanged")
                )
        report.notes.append(
            f"kept {k} of {len(models)} candidates {self.selected_}"
            + ("" if self.accuracies_ is None else " (most accurate on the data)")
        )
        self.report_ = report

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        outs = [torch.softmax(m(x), 1) for m in self.models_]
        widths = {o.shape[1] for o in outs}
        if len(widths) > 1:
            raise TransferError(
                f"TopKEnsemble: the kept models predict different numbers of classes "
                f"{sorted(widths)}; ensemble models of the same target classes."
            )
        probs = torch.stack(outs).mean(0)
        return torch.log(probs.clamp_min(1e-12))
