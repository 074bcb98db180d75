"""Evaluate a transfer against a from-scratch baseline with the same budget and seed."""

from __future__ import annotations

import copy
import datetime as _dt
import json
import math
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypeAlias

import numpy as np
import torch
from torch import nn

from kgtransfer.errors import did_you_mean
from kgtransfer.models import ZooModel, create_model
from kgtransfer.transfer.methods import Distill, FeatureTransfer, FineTune
from kgtransfer.transfer.methods._train import (
    Budget,
    accuracy_of,
    as_arrays,
    batched_predict,
    check_n_classes,
    train_loop,
)

__all__ = [
    "TransferResult",
    "evaluate_transfer",
    "list_transfer_methods",
    "method_frozen",
    "split_identity",
    "training_regime",
    "write_transfer_result",
]

Method: TypeAlias = FineTune | FeatureTransfer | Distill


def _finetune(b: Budget, n: int, target: ZooModel, seed: int) -> Method:
    return FineTune(
        n_classes=n,
        lr_backbone=b.lr,
        lr_head=b.lr,
        epochs=b.epochs,
        batch_size=b.batch_size,
        weight_decay=b.weight_decay,
        seed=seed,
    )


def _probe(head: str) -> Callable[[Budget, int, ZooModel, int], Method]:
    def build(b: Budget, n: int, target: ZooModel, seed: int) -> Method:
        return FeatureTransfer(
            head=head,
            epochs=b.epochs,
            lr=b.lr,
            batch_size=b.batch_size,
            weight_decay=b.weight_decay,
            seed=seed,
        )

    return build


def _distill(kind: str) -> Callable[[Budget, int, ZooModel, int], Method]:
    def build(b: Budget, n: int, target: ZooModel, seed: int) -> Method:
        return Distill(
            target,
            kind=kind,
            epochs=b.epochs,
            lr=b.lr,
            batch_size=b.batch_size,
            weight_decay=b.weight_decay,
            seed=seed,
        )

    return build


_METHODS: dict[str, Callable[[Budget, int, ZooModel, int], Method]] = {
    "finetune": _finetune,
    "linear_probe": _probe("linear"),
    "mlp_probe": _probe("mlp"),
    "distill_logit": _distill("logit"),
    "distill_feature": _distill("feature"),
}


def list_transfer_methods() -> list[str]:
    """Names accepted by :func:`evaluate_transfer`.

    Example:
        >>> list_transfer_methods()
        ['distill_feature', 'distill_logit', 'finetune', 'linear_probe', 'mlp_probe']
    """
    return sorted(_METHODS)


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
    fine-tuning only the last k blocks is neither (None).

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
    if isinstance(method, FeatureTransfer):
        return True
    if isinstance(method, FineTune):
        blocks = getattr(method, "train_blocks", "all")
        return False if blocks == "all" else (True if blocks == 0 else None)
    if isinstance(method, Distill):
        return False
    return None


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


def _versions() -> dict[str, str]:
    from kgtransfer import __version__

    return {
        "python": platform.python_version(),
        "kgtransfer": __version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
    }


def _budget(budget: Any, method: Any) -> Budget:
    if budget is None:
        if method is not None and not isinstance(method, str):
            lr = getattr(method, "lr", None) or getattr(method, "lr_backbone", 3e-3)
            return Budget(
                epochs=method.epochs,
                lr=lr,
                batch_size=method.batch_size,
                weight_decay=method.weight_decay,
            )
        return Budget()
    if isinstance(budget, Budget):
        return budget
    if isinstance(budget, Mapping):
        return Budget(**budget)
    return Budget(
        epochs=budget.epochs,
        lr=budget.lr,
        batch_size=budget.batch_size,
        weight_decay=getattr(budget, "weight_decay", 0.0),
    )


def _method_name(method: Method) -> str:
    if isinstance(method, FineTune):
        return "finetune"
    if isinstance(method, FeatureTransfer):
        return f"{method.head}_probe"
    if isinstance(method, Distill):
        return f"distill_{method.kind}"
    raise TypeError(
        f"method_or_name must be a name from list_transfer_methods() or a FineTune, "
        f"FeatureTransfer or Distill instance, got {type(method).__name__}."
    )


def _target_model(spec: str | ZooModel, x: torch.Tensor, n_classes: int, seed: int) -> ZooModel:
    if isinstance(spec, str):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            return create_model(spec, n_classes=n_classes, input_shape=tuple(x.shape[1:]))
    if not isinstance(spec, ZooModel):
        raise TypeError(
            f"target_arch_or_model must be an architecture name or a ZooModel, got "
            f"{type(spec).__name__}; wrap your module with kgtransfer.models.wrap_module."
        )
    if spec.n_classes != n_classes:
        raise ValueError(
            f"The target model predicts {spec.n_classes} classes but the target data has "
            f"{n_classes}; call reset_classifier({n_classes}) or pass an architecture name."
        )
    return copy.deepcopy(spec)


def _split(train: Any, test: Any, n_train: int, n_test: int) -> str:
    def one(d: Any, n: int) -> str:
        name = getattr(d, "name", None)
        split = getattr(d, "metadata", {}).get("split") if hasattr(d, "metadata") else None
        return f"{n} samples" + (f" of {name}" if name else "") + (f" ({split})" if split else "")

    return f"train: {one(train, n_train)}; test: {one(test, n_test)}"


def _scratch(
    model: ZooModel, x: torch.Tensor, y: torch.Tensor, b: Budget, seed: int, progress: bool
) -> ZooModel:
    loss_fn = nn.CrossEntropyLoss()
    train_loop(
        model,
        [{"params": list(model.parameters()), "lr": b.lr}],
        len(x),
        lambda idx: loss_fn(model(x[idx]), y[idx]),
        epochs=b.epochs,
        batch_size=b.batch_size,
        seed=seed,
        weight_decay=b.weight_decay,
        progress=progress,
        desc="scratch",
    )
    return model


def evaluate_transfer(
    method_or_name: str | Method,
    source: ZooModel,
    target_arch_or_model: str | ZooModel,
    train: Any,
    test: Any,
    *,
    budget: Budget | Mapping[str, Any] | Any | None = None,
    seed: int = 0,
    scratch: bool = True,
    graph: Any = None,
    target_name: str | None = None,
    source_name: str | None = None,
    tolerance: float = 0.01,
    unlabeled: Any = None,
    progress: bool = False,
) -> TransferResult:
    """Transfer ``source`` to a target and compare with training that target from scratch.

    The target model (``target_arch_or_model``, built with the target's input shape and
    classes and initialised with ``seed``) is trained once with the transfer and once
    from scratch, with the same budget, seed and training loop.

    Args:
        method_or_name: A name from :func:`list_transfer_methods` (built with ``budget``)
            or a method instance (its own settings; the scratch budget defaults to them).
        source: Source model (unchanged).
        target_arch_or_model: Target architecture name (built with ``seed``) or a
            freshly initialised ``ZooModel`` with the target's classes; copies of it are
            the starting point of both runs, so do not pass a trained model.
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
    b = _budget(budget, method_or_name)
    target = _target_model(target_arch_or_model, x, n_classes, seed)
    if isinstance(method_or_name, str):
        if method_or_name not in _METHODS:
            raise did_you_mean(
                method_or_name,
                _METHODS,
                what="transfer method",
                hint="See list_transfer_methods().",
            )
        name = method_or_name
        method = _METHODS[name](b, n_classes, copy.deepcopy(target), seed)
        method.progress = progress
    else:
        method = method_or_name
        name = _method_name(method)

    t0 = time.perf_counter()
    if unlabeled is not None and not isinstance(method, Distill):
        raise ValueError(
            f"unlabeled inputs are only used by distillation, not by {name!r}; "
            "drop unlabeled=... or use 'distill_logit' / 'distill_feature'."
        )
    if isinstance(method, FineTune):
        method.fit(source, (x, y), target=copy.deepcopy(target))
    elif isinstance(method, Distill):
        method.fit(source, (x, y), unlabeled=unlabeled)
    else:
        method.fit(source, (x, y))
    acc = method.score((xt, yt))
    wall = time.perf_counter() - t0

    scratch_acc = scratch_wall = gain = None
    if scratch:
        t1 = time.perf_counter()
        model = _scratch(copy.deepcopy(target), x, y, b, seed, progress)
        scratch_acc = accuracy_of(batched_predict(model, xt), yt)
        scratch_wall = time.perf_counter() - t1
        gain = acc - scratch_acc
    provenance = {
        "method": name,
        "hyperparameters": {**method.get_params(), "budget": b.to_dict()},
        "seed": int(seed),
        "split": _split(train, test, len(x), len(xt))
        + (
            f"; {len(unlabeled)} unlabeled inputs for distillation" if unlabeled is not None else ""
        ),
        "target_architecture": getattr(target, "arch", "") or type(target).__name__,
        "versions": _versions(),
        "timestamp": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "report": method.report_.to_dict(),
        "history": method.history_.to_dict(),
        "n_train": len(x),
        "n_test": len(xt),
    }
    epochs = getattr(method, "epochs", None)
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
        regime=training_regime(method, train, len(x), b.epochs if epochs is None else epochs),
    )
    if graph is not None:
        result.record_id = write_transfer_result(
            graph, result, source_model=source, n_classes=n_classes
        )
    return result
