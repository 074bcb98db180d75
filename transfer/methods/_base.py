"""The transfer-method contract: :class:`TransferMethod`, :class:`TargetData` and the
shared prediction mixin.

Every method is fitted the same way::

    method.fit(source, target, data, budget)

``source`` is the source model (a sequence of models for ensembles), ``target`` the
target model or an architecture name (built for the target's inputs and classes;
``None``: the method's own choice, e.g. a copy of the source), ``data`` the target
data (labelled data, or a :class:`TargetData` with validation data and unlabeled
inputs), ``budget`` an optional :class:`~kgtransfer.transfer.training.Budget` that sets
the method's training settings for this fit (the constructor parameters stay as they
are). Constructor parameters follow scikit-learn (``get_params``/``set_params``, so
``sklearn.clone`` works).

Every registered method takes ``device=`` (``"cpu"`` by default; ``"auto"``, ``"cuda"``,
``"cuda:<index>"``, ``"mps"`` or a ``torch.device``, read by
:func:`kgtransfer.models.resolve_device`): the fit computes there and the fitted
state stays there (``device_``); ``predict`` moves its inputs to it and returns
numpy arrays. The source model given to ``fit`` is never moved (a copy is, when it
is elsewhere). The device is not a hyper-parameter of the result (it is left out of
``hyperparameters_``). Only the CPU path is tested here.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from torch import nn

from kgtransfer.errors import ArgumentError, NotFittedError
from kgtransfer.models import resolve_device
from kgtransfer.protocols import LabelledData
from kgtransfer.transfer._params import ParamsMixin
from kgtransfer.transfer.training import (
    Budget,
    BudgetLike,
    TrainHistory,
    as_arrays,
    as_budget,
    batched_predict,
    train_loop,
)

__all__ = ["Classifier", "TargetData", "TransferMethod", "build_target"]


class Classifier:
    """Mixin: ``predict``, ``predict_proba`` and ``score`` from ``_logits(x)``."""

    _fitted_attr = "model_"

    def _check_fitted(self) -> None:
        if not hasattr(self, self._fitted_attr):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted; call fit(...) before predicting."
            )

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _inputs(self, data: object) -> torch.Tensor:
        if hasattr(data, "x") or hasattr(data, "tensors") or isinstance(data, tuple):
            return as_arrays(data, what="data")[0]
        x = torch.as_tensor(np.asarray(data, dtype=np.float32))
        if not torch.isfinite(x).all():
            raise ValueError("inputs contain NaN or inf; clean them first.")
        return x

    def _compute_device(self) -> torch.device:
        """Where the fitted state lives (``device_`` of the fit; the CPU before)."""
        device = getattr(self, "device_", None)
        return device if isinstance(device, torch.device) else torch.device("cpu")

    def predict_proba(self, data: object) -> np.ndarray:
        """Class probabilities, shape (N, C); ``data`` is a dataset, a pair or inputs.

        Computed on the fit's device (batches moved there), returned on the CPU.
        """
        self._check_fitted()
        x = self._inputs(data)
        dev = self._compute_device()
        return batched_predict(lambda b: torch.softmax(self._logits(b.to(dev)), 1).cpu(), x).numpy()

    def predict(self, data: object) -> np.ndarray:
        """Predicted class codes, shape (N,)."""
        codes: np.ndarray = self.predict_proba(data).argmax(1)
        return codes

    def score(self, data: LabelledData) -> float:
        """Accuracy on a labelled dataset (higher is better)."""
        self._check_fitted()
        x, y = as_arrays(data, what="data")
        pred = self.predict(x.numpy())
        return float((pred == y.numpy()).mean())


@dataclass(frozen=True)
class TargetData:
    """The target data of a fit: labelled training data, optional validation data and
    optional unlabeled inputs (used by distillation only).

    Attributes:
        train: Labelled target data (dataset with x/y, TensorDataset or pair).
        val: Optional labelled validation data (early stopping / best state kept).
        unlabeled: Optional extra target inputs, shape (M, *input_shape).

    Example:
        >>> import torch
        >>> TargetData((torch.zeros(2, 3), torch.zeros(2))).val is None
        True
    """

    train: Any
    val: Any = None
    unlabeled: Any = None


def _is_data(obj: Any) -> bool:
    """Whether ``obj`` is target data rather than a model, a model sequence or a name."""
    if obj is None or isinstance(obj, nn.Module | str):
        return False
    if isinstance(obj, TargetData) or (hasattr(obj, "x") and hasattr(obj, "y")):
        return True
    if hasattr(obj, "tensors"):
        return True
    if isinstance(obj, tuple | list):
        return not any(isinstance(o, nn.Module) for o in obj)
    return False


def build_target(target: Any, x: torch.Tensor, n_classes: int, seed: int) -> Any:
    """The starting target model: a copy of a ``ZooModel`` or an architecture built with
    ``seed`` for inputs like ``x`` and ``n_classes`` classes.

    Raises:
        ArgumentError: ``target`` is neither a name nor a ``ZooModel``.
        ValueError: A target model with another number of classes.
    """
    from kgtransfer.models import ZooModel, create_model

    if isinstance(target, str):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            return create_model(target, n_classes=n_classes, input_shape=tuple(x.shape[1:]))
    if not isinstance(target, ZooModel):
        raise ArgumentError(
            f"target must be an architecture name or a ZooModel, got "
            f"{type(target).__name__}; wrap your module with kgtransfer.models.wrap_module."
        )
    if target.n_classes != n_classes:
        raise ValueError(
            f"The target model predicts {target.n_classes} classes but the target data has "
            f"{n_classes}; call reset_classifier({n_classes}) or pass an architecture name."
        )
    return copy.deepcopy(target)


def _describe(value: Any) -> Any:
    """A JSON-ready stand-in for a parameter value (models by architecture, callables by name)."""
    if isinstance(value, nn.Module):
        return getattr(value, "arch", "") or type(value).__name__
    if isinstance(value, list | tuple):
        return [_describe(v) for v in value]
    if callable(value):
        return getattr(value, "__name__", type(value).__name__)
    return value


_M = TypeVar("_M", bound="TransferMethod")

_STANDARD_BUDGET: dict[str, tuple[str, ...]] = {
    "epochs": ("epochs",),
    "lr": ("lr",),
    "batch_size": ("batch_size",),
    "weight_decay": ("weight_decay",),
}


class TransferMethod(Classifier, ParamsMixin):
    """Base of every transfer method: one ``fit`` contract and scikit-learn parameters.

    Subclasses store their constructor arguments unchanged (``__init__`` stores, nothing
    else), implement ``_fit(source, target, data, p)`` (``p``: the effective settings,
    the constructor parameters with the fit's budget applied) and set ``model_`` (or
    their ``_fitted_attr``) and ``report_``. Register one with
    :func:`~kgtransfer.transfer.methods.register_method` to use it by name in
    :func:`~kgtransfer.transfer.evaluate_transfer` and ``transfer_from``.

    Attributes:
        hyperparameters_: JSON-ready effective settings of the last fit (the budget
            applied; models by architecture, callables by name, without ``progress``
            and ``device``).
        device_: The ``torch.device`` the last fit computed on (from ``device=``).
    """

    #: Budget field -> constructor parameters it sets (empty: the method does not train).
    _budget_params: ClassVar[dict[str, tuple[str, ...]]] = _STANDARD_BUDGET
    #: Whether the method uses ``TargetData.unlabeled``.
    _uses_unlabeled: ClassVar[bool] = False

    def __repr__(self) -> str:
        params = self.get_params(deep=False)
        sig = inspect.signature(type(self).__init__).parameters
        shown = [f"{k}={_describe(v)!r}" for k, v in params.items() if sig[k].default is not v]
        return f"{type(self).__name__}({', '.join(shown)})"

    # -- what the method does ----------------------------------------------------------
    def training_budget(self) -> Budget:
        """The method's own training settings as a :class:`Budget` (``Budget()`` if it
        does not train); the scratch baseline's default budget in ``evaluate_transfer``."""
        if not self._budget_params:
            return Budget()
        return Budget(**{f: getattr(self, names[0]) for f, names in self._budget_params.items()})

    def backbone_frozen(self) -> bool | None:
        """Whether fitting keeps the source backbone frozen (None: neither / unknown)."""
        return None

    @property
    def trains(self) -> bool:
        """Whether ``fit`` trains anything (a ``budget`` applies); False for pure copies."""
        return bool(self._budget_params)

    def _settings(self, budget: Any) -> SimpleNamespace:
        params = self.get_params(deep=False)
        if budget is not None:
            b = as_budget(budget)
            for field, names in self._budget_params.items():
                params.update({n: getattr(b, field) for n in names})
        return SimpleNamespace(**params)

    # -- the one fit -------------------------------------------------------------------
    def fit(
        self: _M,
        source: nn.Module | Sequence[nn.Module] | None = None,
        target: str | nn.Module | LabelledData | None = None,
        data: LabelledData | TargetData | None = None,
        budget: BudgetLike | None = None,
        /,
        **kwargs: object,
    ) -> _M:
        """Transfer ``source`` to ``target`` on the target ``data``; returns self.

        Args:
            source: Source model (left unchanged); a sequence of models for ensembles.
            target: Target model (copied, except by ``WeightTransfer`` which writes
                into it) or an architecture name (built with the method's seed for the
                target's inputs and classes); None: the method's default (a copy of
                the source, or no separate target).
            data: Target data: labelled data (dataset with x/y, TensorDataset or
                pair) or a :class:`TargetData` (with validation data and unlabeled inputs).
            budget: Optional :class:`~kgtransfer.transfer.training.Budget` (or mapping,
                or object with its fields) setting the training settings of this fit.
            **kwargs: ``target=``, ``data=``, ``budget=`` by keyword. Deprecated, for
                one release: ``fit(source, train_data, val_data)``, ``train_data=``,
                ``val_data=`` and ``unlabeled=`` (use a :class:`TargetData`).

        Returns:
            self.

        Raises:
            ArgumentError: An argument given twice, an unknown keyword, or unlabeled
                inputs for a method that does not use them.
        """
        target, data, budget = self._fit_args(target, data, budget, kwargs)
        p = self._settings(budget)
        p.device = resolve_device(getattr(p, "device", "cpu"))  # checked before any work
        self._fit(source, target, data, p)
        self.device_ = p.device
        self.hyperparameters_ = {
            k: _describe(v) for k, v in vars(p).items() if k not in ("progress", "device")
        }
        return self

    def _fit(self, source: Any, target: Any, data: TargetData | None, p: SimpleNamespace) -> None:
        raise NotImplementedError

    @staticmethod
    def _val_arrays(
        data: TargetData | None, p: SimpleNamespace
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The fit's validation inputs and labels on its device; None without any."""
        if data is None or data.val is None:
            return None
        xv, yv = (t.to(p.device) for t in as_arrays(data.val, what="val_data"))
        return xv, yv

    @staticmethod
    def _train_loop(
        modules: nn.Module | Iterable[nn.Module],
        param_groups: list[dict[str, Any]],
        n_samples: int,
        batch_loss: Callable[[torch.Tensor], torch.Tensor],
        p: SimpleNamespace,
        *,
        val_accuracy: Callable[[], float] | None,
        desc: str,
        patience: int | None = None,
    ) -> TrainHistory:
        """:func:`~kgtransfer.transfer.training.train_loop` with the fit's settings ``p``."""
        return train_loop(
            modules,
            param_groups,
            n_samples,
            batch_loss,
            epochs=p.epochs,
            batch_size=p.batch_size,
            seed=p.seed,
            weight_decay=p.weight_decay,
            val_accuracy=val_accuracy,
            patience=patience,
            progress=p.progress,
            desc=desc,
        )

    def _fit_args(
        self, target: Any, data: Any, budget: Any, kwargs: dict[str, Any]
    ) -> tuple[Any, TargetData | None, Any]:
        """Resolve keyword and deprecated call forms into ``(target, data, budget)``."""
        old: list[str] = []
        train = val = unlabeled = None
        if isinstance(target, TargetData):
            raise ArgumentError(
                "The TargetData was passed as target; pass it third: fit(source, target, data)."
            )
        if _is_data(target):
            old.append("fit(source, train_data, val_data)")
            train, val, target, data = target, data, None, None
        for key, value in (
            ("target", kwargs.pop("target", None)),
            ("data", kwargs.pop("data", None)),
            ("budget", kwargs.pop("budget", None)),
        ):
            if value is None:
                continue
            if {"target": target, "data": data, "budget": budget}[key] is not None:
                raise ArgumentError(f"{key} was given twice (by position and as {key}=...).")
            if key == "target":
                target = value
            elif key == "data":
                data = value
            else:
                budget = value
        if "train_data" in kwargs:
            old.append("train_data=")
            train = kwargs.pop("train_data")
        if "val_data" in kwargs:
            old.append("val_data=")
            val = kwargs.pop("val_data")
        if "unlabeled" in kwargs:
            old.append("unlabeled=")
            unlabeled = kwargs.pop("unlabeled")
        if kwargs:
            raise ArgumentError(
                f"{type(self).__name__}.fit() got unknown keyword(s) {sorted(kwargs)}; "
                "use fit(source, target, data, budget)."
            )
        if target is not None and not isinstance(target, str | nn.Module):
            raise ArgumentError(
                f"target must be a model, an architecture name or None, got "
                f"{type(target).__name__}; pass the data third: fit(source, target, data)."
            )
        if old:
            warnings.warn(
                f"{type(self).__name__}.fit: {', '.join(old)} is deprecated and will be "
                "removed in the next release; call fit(source, target, data, budget) with "
                "data=TargetData(train, val=..., unlabeled=...).",
                DeprecationWarning,
                stacklevel=3,
            )
            if data is not None:
                raise ArgumentError("The target data was given twice; pass it once as data.")
            data = TargetData(train, val, unlabeled) if train is not None else None
        if data is not None and not isinstance(data, TargetData):
            data = TargetData(data)
        if data is not None and data.unlabeled is not None and not self._uses_unlabeled:
            from kgtransfer.transfer.methods._registry import method_name

            name = method_name(self) or type(self).__name__
            raise ArgumentError(
                f"unlabeled inputs are only used by distillation, not by {name!r}; "
                "drop unlabeled=... or use 'distill_logit' / 'distill_feature'."
            )
        return target, data, budget

    @staticmethod
    def _train_data(data: TargetData | None, method: str) -> Any:
        if data is None or data.train is None:
            raise ArgumentError(
                f"{method}.fit needs labelled target data: fit(source, target, data)."
            )
        return data.train
