"""Evaluate a transfer against a from-scratch baseline with the same budget and seed."""

from __future__ import annotations

import copy
import datetime as _dt
import json
import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from kgtransfer._versions import versions
from kgtransfer.errors import ArgumentError
from kgtransfer.kg import ZooGraph
from kgtransfer.models import Device, ZooModel, resolve_device
from kgtransfer.protocols import LabelledData
from kgtransfer.transfer.methods import (
    TargetData,
    TransferMethod,
    get_method,
    list_methods,
    method_name,
)
from kgtransfer.transfer.methods._base import build_target
from kgtransfer.transfer.training import (
    Budget,
    BudgetLike,
    accuracy,
    as_arrays,
    as_budget,
    check_n_classes,
    train_from_scratch,
)

__all__ = [
    "TransferResult",
    "describe_split",
    "evaluate_transfer",
    "list_transfer_methods",
    "method_frozen",
    "split_identity",
    "training_regime",
    "write_transfer_result",
]


def list_transfer_methods() -> list[str]:
    """Names accepted by :func:`evaluate_transfer`: the registered transfer methods
    (the same as :func:`~kgtransfer.transfer.methods.list_methods`).

    Example:
        >>> list_transfer_methods()[:5]
        ['distill_feature', 'distill_logit', 'finetune', 'linear_probe', 'mlp_probe']
    """
    return list_methods()


@dataclass
class TransferResult:
    """A transfer's test accuracy next to its scratch baseline's, with provenance.

    Attributes:
        method: Method name.
        source: Source model id.
        target: Target dataset id.
        accuracy: Test accuracy of the transferred target model.
        scratch_accuracy: Test accuracy of the same architecture trained from scratch
            with the same budget and seed (``None`` when ``scratch=False``).
        gain: ``accuracy - scratch_accuracy`` (``None`` without scratch).
        negative_transfer: ``gain < -tolerance``.
        tolerance: Tolerance of the negative-transfer flag.
        wall_time: Seconds spent by the transfer (fit + test).
        scratch_wall_time: Seconds spent by the baseline.
        seed: Seed of both runs.
        provenance: Method, hyper-parameters, seed, split, versions, timestamp, report.
        record_id: Graph record id when written back, else ``None``.
        regime: The training regime (``n_train``, ``shots``, ``split``, ``epochs``,
            ``steps``, ``frozen``; see :mod:`kgtransfer.kg.regime`), None = unknown.
    """

    method: str
    source: str
    target: str
    accuracy: float
    scratch_accuracy: float | None
    gain: float | None
    negative_transfer: bool
    tolerance: float
    wall_time: float
    scratch_wall_time: float | None
    seed: int
    provenance: dict[str, Any] = field(default_factory=dict)
    record_id: str | None = None
    regime: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """All fields as a JSON-ready dict."""
        return asdict(self)

    def to_record(self) -> dict[str, Any]:
        """Keyword arguments of ``ZooGraph.add_record`` for this result.

        The same columns every record writer uses: the regime as columns, ``gain``,
        ``scratch_accuracy``, ``wall_time`` and ``n_test`` as numeric attributes, the
        provenance as JSON on the run.
        """
        prov = json.loads(json.dumps(self.provenance, default=str))
        prov.update(
            scratch_accuracy=self.scratch_accuracy,
            gain=self.gain,
            negative_transfer=self.negative_transfer,
            wall_time=self.wall_time,
            scratch_wall_time=self.scratch_wall_time,
        )
        regime = {k: self.regime.get(k) for k in _REGIME_PARTS}
        return {
            "model": self.source,
            "dataset": self.target,
            "value": self.accuracy,
            "metric": "accuracy",
            "method": self.method,
            "seed": self.seed,
            "run": self.provenance.get("run"),
            "provenance": prov,
            # numeric, so the recommender's gain and negative-transfer estimates learn from it
            "attributes": {
                "gain": self.gain,
                "scratch_accuracy": self.scratch_accuracy,
                "wall_time": self.wall_time,
                "n_test": self.provenance.get("n_test"),
            },
            **regime,
        }


#: Regime parts besides the method (see :mod:`kgtransfer.kg.regime`).
_REGIME_PARTS = ("n_train", "shots", "split", "epochs", "steps", "frozen")


def split_identity(data: Any) -> str | None:
    """How a training split was drawn, from its dataset's metadata (None when unknown).

    ``load_dataset(name, split="train", seed=s)`` gives ``"train(seed=s,test_size=f)"``;
    a :func:`~kgtransfer.data.few_shot` draw of it appends
    ``"+few_shot(k/class,seed=s)"``. Two runs with the same identity trained on the
    same examples.

    Example:
        >>> from types import SimpleNamespace
        >>> split_identity(SimpleNamespace(metadata={"split": "train", "split_seed": 0,
        ...     "test_size": 0.25, "few_shot": 10, "few_shot_seed": 0}))
        'train(seed=0,test_size=0.25)+few_shot(10/class,seed=0)'
    """
    meta = getattr(data, "metadata", None)
    if not isinstance(meta, Mapping):
        return None
    parts = []
    if meta.get("split") is not None:
        args = [
            f"{k}={meta[m]}"
            for k, m in (("seed", "split_seed"), ("test_size", "test_size"))
            if meta.get(m) is not None
        ]
        parts.append(f"{meta['split']}({','.join(args)})")
    if meta.get("few_shot") is not None:
        seed = meta.get("few_shot_seed")
        parts.append(
            f"few_shot({meta['few_shot']}/class" + (f",seed={seed})" if seed is not None else ")")
        )
    return "+".join(parts) or None


def method_frozen(method: Any) -> bool | None:
    """Whether a transfer method (instance or name) keeps the source backbone frozen.

    Probes freeze it (True); full fine-tuning and distillation train it (False);
    fine-tuning only the last k blocks is neither (None). An instance answers itself
    (:meth:`TransferMethod.backbone_frozen`); names are read as record method names.

    Example:
        >>> method_frozen("linear_probe"), method_frozen("finetune")
        (True, False)
    """
    if isinstance(method, str):
        if method.endswith("_probe"):
            return True
        if method == "finetune" or method.startswith("distill"):
            return False
        return None
    frozen = getattr(method, "backbone_frozen", None)
    return frozen() if callable(frozen) else None


def training_regime(method: Any, train: Any, n_train: int, epochs: float | None) -> dict[str, Any]:
    """The regime of a run of ``method`` on ``train`` (see :mod:`kgtransfer.kg.regime`).

    Example:
        >>> training_regime("finetune", None, 40, 3)["n_train"]
        40
    """
    meta = getattr(train, "metadata", None)
    shots = meta.get("few_shot") if isinstance(meta, Mapping) else None
    return {
        "n_train": int(n_train),
        "shots": None if shots is None else int(shots),
        "split": split_identity(train),
        "epochs": None if epochs is None else float(epochs),
        "steps": None,
        "frozen": method_frozen(method),
    }


def write_transfer_result(
    graph: Any,
    result: TransferResult,
    *,
    source_model: Any = None,
    n_classes: int | None = None,
    label: str | None = None,
) -> str:
    """Write ``result`` into ``graph`` as one record (through ``graph.add_record``).

    A source model or target dataset new to the graph is written with it, described
    by what is known here (the source's architecture and parameter count, the target's
    number of classes); ids the graph already knows are not touched.

    Args:
        graph: A ``ZooGraph`` (or anything with ``add_record``).
        result: The result to write.
        source_model: The source model, to describe it when the graph lacks it.
        n_classes: The target's number of classes, to describe a new target dataset.
        label: Label of the write's batch (default: the writer's name and the ids).

    Returns:
        The record id.
    """
    kwargs = result.to_record()
    kwargs["source"] = label or f"evaluate_transfer({result.source!r}, {result.target!r})"
    ids = getattr(graph, "ids", None)
    if callable(ids):
        import pandas as pd

        if result.source not in ids("model"):
            row: dict[str, Any] = {"model": result.source}
            if source_model is not None:
                row["architecture"] = getattr(source_model, "arch", None) or None
                row["n_params"] = float(sum(p.numel() for p in source_model.parameters()))
                row.update(_described(source_model))
            kwargs["models"] = pd.DataFrame([row])
        if result.target not in ids("dataset"):
            row = {"dataset": result.target}
            if n_classes is not None:
                row["n_classes"] = float(n_classes)
            kwargs["datasets"] = pd.DataFrame([row])
    return str(graph.add_record(**kwargs))


def _described(model: Any) -> dict[str, Any]:
    """What ``source_metadata`` knows of a model, less the fields naming other entities
    (datasets, base models: those come with ``add_sources``)."""
    from kgtransfer.models import ZooModel, source_metadata

    if not isinstance(model, ZooModel):
        return {}
    meta = source_metadata(model)
    for key in ("datasets", "trained_on", "base_model", "base_model_relation"):
        meta.pop(key, None)
    return meta


def _budget(budget: Any, method: Any) -> Budget:
    if budget is not None:
        return as_budget(budget)
    if isinstance(method, TransferMethod):
        return method.training_budget()
    return Budget()


def describe_split(train: Any, test: Any) -> str:
    """How many samples of which dataset (and split) a run trained and was tested on.

    Example:
        >>> import torch
        >>> describe_split((torch.zeros(8, 2), torch.zeros(8)), (torch.zeros(4, 2), torch.zeros(4)))
        'train: 8 samples; test: 4 samples'
    """

    def one(d: Any, what: str) -> str:
        n = len(as_arrays(d, what=what)[0])
        name = getattr(d, "name", None)
        split = getattr(d, "metadata", {}).get("split") if hasattr(d, "metadata") else None
        return f"{n} samples" + (f" of {name}" if name else "") + (f" ({split})" if split else "")

    return f"train: {one(train, 'train')}; test: {one(test, 'test')}"


def evaluate_transfer(
    method_or_name: str | TransferMethod,
    source: ZooModel,
    target: str | ZooModel | None = None,
    train: LabelledData | None = None,
    test: LabelledData | None = None,
    *,
    budget: BudgetLike | None = None,
    seed: int = 0,
    scratch: bool = True,
    graph: ZooGraph | None = None,
    target_name: str | None = None,
    source_name: str | None = None,
    tolerance: float = 0.01,
    unlabeled: np.ndarray | torch.Tensor | None = None,
    progress: bool = False,
    target_arch_or_model: str | ZooModel | None = None,
    device: Device | None = None,
) -> TransferResult:
    """Transfer ``source`` to a target and compare with training that target from scratch.

    The target model (``target``, built with the target's input shape and classes and
    initialised with ``seed``) is trained once with the transfer and once from scratch
    (:func:`~kgtransfer.transfer.training.train_from_scratch`), with the same budget,
    seed and training loop. The method is found by name in the registry
    (:func:`~kgtransfer.transfer.methods.list_methods`) and fitted through the one
    contract ``fit(source, target, data, budget)``.

    Args:
        method_or_name: A registered method name (built with ``seed`` and fitted with
            ``budget``) or a method instance (its own settings; the scratch budget
            defaults to them).
        source: Source model (unchanged).
        target: Target architecture name (built with ``seed``) or a freshly
            initialised ``ZooModel`` with the target's classes; copies of it are the
            starting point of both runs, so do not pass a trained model.
        train: Target training data (dataset with x/y, TensorDataset or pair).
        test: Target test data.
        budget: A :class:`Budget`, a mapping of its fields, or any object with
            ``epochs``, ``lr``, ``batch_size`` (e.g. the zoo's budget).
        seed: Seed of initialisation, batch order and heads, for both runs.
        scratch: Also train the from-scratch baseline.
        graph: A ``ZooGraph`` (or anything with ``add_record``) to write the result to.
        target_name: Target dataset id (default: ``train.name``).
        source_name: Source model id (default: ``source.arch``).
        tolerance: ``negative_transfer`` is set when ``gain < -tolerance``.
        unlabeled: Extra unlabeled target inputs for distillation methods only.
        progress: Show tqdm bars on stderr.
        target_arch_or_model: Deprecated name of ``target`` (one release).
        device: Where the transfer and the scratch baseline compute (``"cpu"``,
            ``"auto"``, ``"cuda"``, ...; see :func:`kgtransfer.models.resolve_device`).
            None: the method's own ``device`` (``"cpu"`` for a method built by name).
            With a method instance, pass its device on the instance instead.

    Returns:
        The :class:`TransferResult` (with ``record_id`` when written to ``graph``).

    Raises:
        UnknownNameError: Unknown method name.
        ValueError: Bad data (NaN, labels beyond the target's classes), bad budget, or
            ``graph`` given without names for the source or target.
        TransferError: The method cannot transfer between these models.

    Example:
        >>> import torch
        >>> from kgtransfer.models import create_model
        >>> src = create_model("mlp", n_classes=3, input_shape=(4,))
        >>> x, y = torch.randn(40, 4), torch.arange(40) % 2
        >>> r = evaluate_transfer("finetune", src, "mlp", (x[:20], y[:20]), (x[20:], y[20:]),
        ...                       budget={"epochs": 2}, source_name="s", target_name="t")
        >>> r.method, r.gain == r.accuracy - r.scratch_accuracy
        ('finetune', True)
    """
    if target_arch_or_model is not None:
        warnings.warn(
            "evaluate_transfer(target_arch_or_model=...) is deprecated and will be removed "
            "in the next release; use target=...",
            DeprecationWarning,
            stacklevel=2,
        )
        if target is not None:
            raise ArgumentError("Pass the target once: target=... (not also target_arch_or_model).")
        target = target_arch_or_model
    for arg, value in (("target", target), ("train", train), ("test", test)):
        if value is None:
            raise ArgumentError(f"evaluate_transfer needs {arg}=...; got None.")
    x, y = as_arrays(train, what="train")
    xt, yt = as_arrays(test, what="test")
    n_classes = int(getattr(train, "n_classes", 0) or int(max(y.max(), yt.max())) + 1)
    check_n_classes(y, n_classes, what="train", model="the target model")
    check_n_classes(yt, n_classes, what="test", model="the target model")
    if not (isinstance(tolerance, int | float) and math.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}.")
    src_id = source_name or getattr(source, "arch", "") or type(source).__name__
    tgt_id = target_name or getattr(train, "name", None)
    if graph is not None and (not source_name or not tgt_id):
        raise ValueError(
            "Writing to a graph needs ids: pass source_name=... and target_name=... "
            f"(got source_name={source_name!r}, target_name={target_name!r})."
        )
    if device is not None:
        resolve_device(device)  # a bad device fails before any training
    b = _budget(budget, method_or_name)
    fresh = build_target(target, x, n_classes, seed)
    if isinstance(method_or_name, str):
        method = get_method(method_or_name)
        own = method.get_params(deep=False)
        if device is not None and "device" not in own and resolve_device(device).type != "cpu":
            raise ArgumentError(
                f"The transfer method {method_or_name!r} takes no device (it runs on the "
                f"CPU), got device={device!r}; add a device parameter to its class or "
                "leave device=None."
            )
        given = (("seed", seed), ("progress", progress), ("device", device))
        method.set_params(**{k: v for k, v in given if k in own and v is not None})
        name, fit_budget = method_or_name, b
    else:
        own_device = getattr(method_or_name, "device", "cpu")
        if device is not None and resolve_device(device) != resolve_device(own_device):
            raise ArgumentError(
                f"device={device!r} but the method instance has device={own_device!r}; set "
                "it on the instance (e.g. FineTune(device=...)) and leave device=None."
            )
        method, fit_budget = method_or_name, None  # an instance keeps its own settings
        found = method_name(method)
        if found is None:
            raise TypeError(
                f"method_or_name must be a name from list_transfer_methods() or an instance "
                f"of a registered transfer method, got {type(method).__name__}; register "
                "its class with kgtransfer.transfer.methods.register_method."
            )
        name = found

    t0 = time.perf_counter()
    method.fit(source, copy.deepcopy(fresh), TargetData((x, y), unlabeled=unlabeled), fit_budget)
    acc = method.score((xt, yt))
    wall = time.perf_counter() - t0

    scratch_acc = scratch_wall = gain = None
    if scratch:
        t1 = time.perf_counter()
        on = getattr(method, "device", "cpu") if device is None else device
        model = train_from_scratch(fresh, (x, y), b, seed=seed, progress=progress, device=on)
        scratch_acc = accuracy(model, (xt, yt))
        scratch_wall = time.perf_counter() - t1
        gain = acc - scratch_acc
    history = getattr(method, "history_", None)
    hparams = dict(getattr(method, "hyperparameters_", None) or method.get_params(deep=False))
    provenance = {
        "method": name,
        "hyperparameters": {**hparams, "budget": b.to_dict()},
        "seed": int(seed),
        "split": describe_split(train, test)
        + (
            f"; {len(unlabeled)} unlabeled inputs for distillation" if unlabeled is not None else ""
        ),
        "target_architecture": getattr(fresh, "arch", "") or type(fresh).__name__,
        "versions": versions(),
        "timestamp": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "report": method.report_.to_dict(),
        "history": None if history is None else history.to_dict(),
        "n_train": len(x),
        "n_test": len(xt),
    }
    epochs = hparams.get("epochs")  # the effective epochs of the fit
    if epochs is None:
        epochs = b.epochs if getattr(method, "trains", True) else 0
    result = TransferResult(
        method=name,
        source=src_id,
        target=str(tgt_id or "target"),
        accuracy=acc,
        scratch_accuracy=scratch_acc,
        gain=gain,
        negative_transfer=gain is not None and gain < -tolerance,
        tolerance=float(tolerance),
        wall_time=wall,
        scratch_wall_time=scratch_wall,
        seed=int(seed),
        provenance=provenance,
        regime=training_regime(method, train, len(x), epochs),
    )
    if graph is not None:
        result.record_id = write_transfer_result(
            graph, result, source_model=source, n_classes=n_classes
        )
    return result
