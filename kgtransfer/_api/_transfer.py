"""``transfer_from`` (pick a method, transfer, compare with scratch, write back) and ``evaluate``."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from kgtransfer._api._recommend import Recommendation
from kgtransfer._api._target import as_dataset, user_tabular
from kgtransfer.errors import TransferError
from kgtransfer.kg import ZooGraph
from kgtransfer.models import Device, ZooModel
from kgtransfer.protocols import DataInput, GraphLike, TablesLike
from kgtransfer.transfer.evaluate import TransferResult
from kgtransfer.transfer.training import BudgetLike

__all__ = ["Evaluation", "choose_method", "evaluate", "load_source", "transfer_from"]


def load_source(
    source: ZooModel | str | Path, *, home: str | Path | None = None
) -> tuple[ZooModel, str]:
    """``(model, id)`` of a source: a ZooModel, a folder, a zoo name or a cached hub id.

    A folder is a kgtransfer checkpoint, a timm folder or a Hugging Face
    ``save_pretrained`` folder; a name is looked up in the zoo of ``home``, then in
    the local Hugging Face cache (``org/name``, ``hf-hub:org/name``, ``timm:<arch>``).
    Nothing is downloaded.

    Raises:
        UnknownNameError: Neither a zoo model under ``home`` nor a cached hub id.
        ValueError: A plain name without ``home``, or another kind of object.

    Example:
        >>> from kgtransfer.models import create_model
        >>> model, name = load_source(create_model("mlp", n_classes=2, input_shape=(4,)))
        >>> name
        'mlp'
    """
    from kgtransfer._api._sources import load_named_source, source_id
    from kgtransfer.models import ZooModel

    if isinstance(source, ZooModel):
        return source, source_id(source)  # a loaded hub model keeps its hub id
    if isinstance(source, (str, Path)):
        return load_named_source(source, home=home)
    raise ValueError(
        f"Cannot use a {type(source).__name__!r} as a source: pass a ZooModel, a checkpoint "
        "folder or a zoo model name."
    )


def _reads(model: Any, x: np.ndarray) -> str | None:
    """None when ``model`` can run ``x[:2]``, else the reason it cannot."""
    try:
        with torch.no_grad():
            was = model.training
            model.eval()
            model.forward_features(torch.as_tensor(np.ascontiguousarray(x[:2])))
            model.train(was)
    except (RuntimeError, ValueError, TypeError, IndexError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return text
    return None


def _source_compatibility(model: Any, train: Any) -> Any:
    """:func:`input_compatibility` of a loaded source for ``train``'s inputs; a source
    whose contract says otherwise but that does run the inputs counts as reading them."""
    from kgtransfer._api._compat import Compatibility, input_compatibility, sample_shape
    from kgtransfer.models import ZooModel, source_metadata

    contract = source_metadata(model) if isinstance(model, ZooModel) else {}
    compat = input_compatibility(contract, sample_shape(train), getattr(train, "modality", None))
    if not compat.compatible and _reads(model, np.asarray(train.x)) is None:
        return Compatibility(True, "reads", "runs the target's inputs as they are")
    return compat


def is_texts(x: Any) -> bool:
    """Whether ``x`` is a sequence of strings (a text target's inputs), not token ids."""
    if isinstance(x, str):
        return False
    if isinstance(x, np.ndarray):
        return x.ndim == 1 and len(x) > 0 and all(isinstance(t, str) for t in x.tolist())
    return isinstance(x, list | tuple) and len(x) > 0 and all(isinstance(t, str) for t in x)


def _text_pair(data: Any) -> bool:
    return isinstance(data, tuple) and len(data) == 2 and is_texts(data[0])


def _tokenized(model: Any, data: Any, test: Any) -> tuple[Any, Any, dict[str, Any] | None]:
    """``(data, test)`` with texts (``(texts, labels)`` pairs) replaced by text datasets of
    the source's token ids: both tokenised in one call, so they share one padded length.
    ``(data, test, note)``; unchanged (note None) when neither holds texts."""
    if not _text_pair(data) and not (test is not None and _text_pair(test)):
        return data, test, None
    if not callable(getattr(model, "tokenize", None)):
        raise TransferError(
            f"The target data are texts, but the source {type(model).__name__} has no "
            "tokenizer to read them: use a Hugging Face text model saved with its tokenizer "
            "(tokenizer.save_pretrained(folder)), or pass token ids (N, L) instead of texts."
        )
    from kgtransfer.data import from_arrays

    pairs = [p for p in (data, test) if p is not None and _text_pair(p)]
    if len(pairs) != len([p for p in (data, test) if p is not None]):
        raise ValueError("data and test must both be texts or both be arrays; tokenise them alike.")
    texts = [str(t) for p in pairs for t in p[0]]
    ids = np.asarray(model.tokenize(texts), dtype=np.int64)  # the source's own tokenizer
    out, start = [], 0
    for p in pairs:
        n = len(p[0])
        out.append(from_arrays(ids[start : start + n], np.asarray(p[1]), name="new_dataset",
                               modality="text"))  # fmt: skip
        start += n
    tokenizer = getattr(model, "tokenizer", None)
    note = {
        "tokenizer": str(getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__),
        "length": int(ids.shape[1]),
        "n_texts": len(texts),
    }
    return out[0], (out[1] if len(out) > 1 else None), note


def _fresh_target(target: Any, source: Any, x: np.ndarray, n_classes: int, seed: int) -> Any:
    """The target model: a given ZooModel (copied), an architecture, or the source's own."""
    from kgtransfer.models import ZooModel, create_model

    if isinstance(target, ZooModel):
        return copy.deepcopy(target)
    if target is None and callable(getattr(source, "new_like", None)):  # timm / HF sources
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            return source.new_like(n_classes)
    arch = str(target) if target is not None else str(getattr(source, "arch", "") or "")
    if not arch:
        raise ValueError(
            "The source is a wrapped model without a registry architecture: pass the target "
            "architecture (e.g. 'mlp') or a ZooModel as target."
        )
    kwargs = dict(getattr(source, "arch_kwargs", {}) or {}) if arch == source.arch else {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return create_model(arch, n_classes=n_classes, input_shape=tuple(x.shape[1:]), **kwargs)


def choose_method(
    source: ZooModel, target: ZooModel, x: np.ndarray, n_classes: int
) -> tuple[str, str]:
    """``(method, reason)`` for ``method="auto"``.

    Same architecture and some tensors transferable → ``finetune`` (weights copied,
    what does not fit adapted or re-initialised). Otherwise, when the source can
    read the target's inputs, its knowledge moves into the target architecture by
    distillation (``distill_logit`` when the source head already predicts the
    target's number of classes, else ``distill_feature``); and when the target *is*
    the source architecture but no weight fits, a linear probe on the source's
    frozen features.

    Raises:
        TransferError: Nothing can be transferred (no shared tensor and the source
            cannot read the target's inputs).

    Example:
        >>> import numpy as np
        >>> from kgtransfer.models import create_model
        >>> src = create_model("mlp", n_classes=3, input_shape=(4,))
        >>> tgt = create_model("mlp_wide", n_classes=2, input_shape=(4,))
        >>> choose_method(src, tgt, np.zeros((2, 4), "float32"), 2)[0]
        'distill_feature'
    """
    from kgtransfer.transfer import transfer_weights

    src_arch = str(getattr(source, "arch", "") or type(source).__name__)
    tgt_arch = str(getattr(target, "arch", "") or type(target).__name__)
    cannot_read = _reads(source, x)
    if src_arch == tgt_arch:
        try:
            report = transfer_weights(source, copy.deepcopy(target), reset_head=True)
        except TransferError as exc:
            if cannot_read is None:
                return "linear_probe", (
                    f"same architecture {src_arch!r} but no weight fits the target "
                    f"({str(exc).splitlines()[0]}); the source reads the target inputs, so a "
                    "linear head is trained on its frozen features"
                )
            raise TransferError(
                f"Cannot transfer {src_arch!r} to this target: no weight fits "
                f"({str(exc).splitlines()[0]}) and the source cannot read the target inputs "
                f"({cannot_read}). Pick a source of a compatible input shape."
            ) from exc
        return "finetune", (
            f"same architecture {src_arch!r}: {len(report.copied)} tensors copied, "
            f"{len(report.adapted)} adapted, {len(report.reinitialized)} re-initialised "
            "(new head); all layers fine-tuned"
        )
    if cannot_read is not None:
        raise TransferError(
            f"Cannot transfer {src_arch!r} to a {tgt_arch!r} target: the architectures differ "
            f"and the source cannot read the target inputs ({cannot_read}). Use a source "
            "with the target's input shape, or the source's architecture as target."
        )
    if int(getattr(source, "n_classes", 0)) == int(n_classes):
        return "distill_logit", (
            f"architectures differ ({src_arch!r} → {tgt_arch!r}); the source reads the target "
            f"inputs and its head has the target's {n_classes} classes: logit distillation"
        )
    return "distill_feature", (
        f"architectures differ ({src_arch!r} → {tgt_arch!r}); the source reads the target "
        f"inputs but predicts {getattr(source, 'n_classes', '?')} classes, not {n_classes}: "
        "feature distillation through a learned projector"
    )


def _splits(
    data: Any,
    test: Any,
    *,
    test_size: float,
    seed: int,
    label_column: str | None,
    standardize: bool = True,
    column_map: Mapping[str, str] | None = None,
) -> tuple[Any, Any, str | None]:
    """(train, test, target id) from what the user passed."""
    from kgtransfer.data import list_datasets, load_dataset, stratified_split

    if isinstance(data, tuple) and len(data) == 2 and test is None:
        first = data[0]
        if hasattr(first, "x") and hasattr(first, "y"):  # (train, test) datasets
            return first, data[1], getattr(first, "name", None) or None
    registered = isinstance(data, str) and data in list_datasets()
    if registered and test is None and not Path(str(data)).exists():
        return (
            load_dataset(data, split="train", seed=seed),
            load_dataset(data, split="test", seed=seed),
            data,
        )
    ds = as_dataset(data, label_column=label_column, seed=seed, column_map=column_map)
    if test is None:
        train, held = stratified_split(ds, test_size, seed=seed)
        # the regime's split identity (see kgtransfer.transfer.split_identity)
        train.metadata.update(split="train", split_seed=seed, test_size=test_size)
    else:
        train, held = (
            ds,
            as_dataset(test, label_column=label_column, seed=seed, column_map=column_map),
        )
    if standardize and user_tabular(data, ds):
        from kgtransfer.data import standardize as standardise

        train, held = standardise(train, held)  # fit on the training split only
    return train, held, ds.name or None


def _write_back(graph: Any, result: Any, model: Any, n_classes: int | None) -> str:
    """Write the result through the one record writer; returns the record id."""
    from kgtransfer.transfer import write_transfer_result

    result.provenance.setdefault("run", f"transfer_from/{result.provenance.get('timestamp', '')}")
    return write_transfer_result(
        graph,
        result,
        source_model=model,
        n_classes=n_classes,
        label=f"transfer_from({result.source!r}, {result.target!r})",
    )


_UNSET: Any = object()


def transfer_from(
    source: ZooModel | str | Path | Recommendation,
    target: str | ZooModel | None = None,
    data: DataInput | None = _UNSET,
    *,
    method: str = "auto",
    graph: ZooGraph | None = None,
    seed: int = 0,
    budget: BudgetLike | None = None,
    test: DataInput | None = None,
    test_size: float = 0.25,
    home: str | Path | None = None,
    source_name: str | None = None,
    target_name: str | None = None,
    label_column: str | None = None,
    scratch: bool = True,
    progress: bool = False,
    target_model_or_arch: str | ZooModel | None = _UNSET,
    recommendation: Recommendation | None = None,
    standardize: bool = True,
    device: Device = "cpu",
    column_map: Mapping[str, str] | None = None,
) -> TransferResult:
    """Transfer a source model to a target, compare with scratch, write the record back.

    With ``method="auto"`` the method is chosen from the two models (see
    :func:`choose_method`): fine-tuning for a compatible architecture, distillation
    into another architecture, a linear probe when only features carry over. The
    choice and its reason are in ``result.provenance["choice"]`` (and so in the
    graph's provenance). The target model is trained with the transfer and once
    from scratch with the same budget, seed and training loop
    (:func:`kgtransfer.transfer.evaluate_transfer`).

    Before the target model is built, :func:`~kgtransfer._api._compat.input_compatibility`
    (the check ``recommend`` ranks with) decides whether the source can take the
    target's inputs when the target is the source's own architecture; a source that
    cannot is refused with the same reason ``recommend`` gives (``TransferError``).
    The verdict is in ``result.provenance["choice"]["compatibility"]``.

    Tabular data the user brings raw (a CSV file, ``(x, y)`` arrays) is standardised
    per feature with the statistics of the training split only
    (:func:`kgtransfer.data.standardize`); ``result.provenance["preprocessing"]``
    records it. Built-in datasets keep their own preprocessing.

    Args:
        source: A ``ZooModel``, a checkpoint folder, a zoo model name (with ``home``),
            or a :class:`~kgtransfer.api.Recommendation` (its best source).
        target: Target architecture name, a fresh ``ZooModel``, or None for the
            source's own architecture (same hyper-parameters).
        data: Target data: a registered dataset name (its train/test splits), an
            ``ArrayDataset``, ``(x, y)``, ``(train, test)`` datasets, a CSV path (with
            ``label_column``), a torch dataset, or ``(texts, labels)`` with a list of
            strings for a Hugging Face text source saved with its tokenizer (tokenised
            with it, padded to one length; ``result.provenance["preprocessing"]
            ["tokenized"]`` says how). Without ``test`` (and unless the
            name gives one) a seeded stratified ``test_size`` split is held out.
        method: ``"auto"`` or a registered method name
            (:func:`kgtransfer.transfer.list_methods`).
        graph: A ``ZooGraph`` to write the result into: a record with its regime
            (``n_train`` = the training examples used, the split, epochs, ...),
            numeric ``gain``, ``scratch_accuracy``, ``wall_time`` and ``n_test``
            attributes and its provenance, written by ``ZooGraph.add_records`` like
            every other record. A new source model or target dataset is written with it.
        seed: Seed of the split, the initialisations and the training order.
        budget: ``Budget``, mapping or object with ``epochs, lr, batch_size`` (the
            zoo's grid budget fits); default the transfer package's.
        test: Held-out target data (same kinds as ``data``).
        test_size: Held-out fraction when ``test`` is not given.
        home: kgtransfer home, to load a zoo source by name.
        source_name: Source id in the graph (default: the zoo name / folder / arch).
        target_name: Target dataset id (default: the dataset's name).
        label_column: Label column of CSV data.
        scratch: Also train the scratch baseline (needed for ``gain``).
        progress: Progress bars on stderr.
        target_model_or_arch: Deprecated name of ``target`` (one release).
        recommendation: The :class:`~kgtransfer.api.Recommendation` that chose the
            source (implied when ``source`` is one). The result is then written under
            the recommendation's target id (the ``name=`` given to ``recommend``)
            unless ``target_name`` says otherwise, and ``result.provenance
            ["recommendation"]`` (its id, the source's rank, predicted value, gain and
            risk) links the record to it, for :func:`evaluate`.
        standardize: Standardise raw tabular data (see above); False keeps it as is.
        column_map: ``{old: new}`` renames of a CSV target's columns (``data`` and
            ``test``), applied before ``label_column`` is looked up (CLI
            ``--column-map OLD=NEW``).
        device: Where the transfer and the scratch baseline train: ``"cpu"`` (default),
            ``"auto"`` (the first CUDA GPU when torch sees one, else the CPU),
            ``"cuda"``, ``"cuda:<index>"``, ``"mps"`` or a ``torch.device`` (see
            :func:`kgtransfer.models.resolve_device`). The source is loaded on the CPU
            and copied there; results do not depend on it beyond floating-point noise.
            Only the CPU path is tested here.

    Returns:
        A :class:`kgtransfer.transfer.TransferResult` (``record_id`` set when written).

    Raises:
        TransferError: Nothing can be transferred between the two models.
        UnknownNameError: Unknown zoo model or method name.
        ArgumentError: An unknown device, or an accelerator this machine lacks.
        ValueError: Bad data or budget.

    Example:
        >>> import numpy as np
        >>> from kgtransfer.models import create_model
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(40, 4)).astype("float32"); y = (x[:, 0] > 0).astype(int)
        >>> src = create_model("mlp", n_classes=3, input_shape=(4,))
        >>> r = transfer_from(src, None, (x, y), budget={"epochs": 2}, target_name="toy")
        >>> r.method, r.provenance["choice"]["requested"]
        ('finetune', 'auto')
    """
    from kgtransfer.errors import ArgumentError
    from kgtransfer.transfer import evaluate_transfer, list_methods

    if target_model_or_arch is not _UNSET:
        import warnings

        warnings.warn(
            "transfer_from(target_model_or_arch=...) is deprecated and will be removed in "
            "the next release; use target=...",
            DeprecationWarning,
            stacklevel=2,
        )
        if target is not None:
            raise ArgumentError("Pass the target once: target=... (not also target_model_or_arch).")
        target = target_model_or_arch
    if data is _UNSET:
        raise ArgumentError(
            "transfer_from needs the target data: transfer_from(source, target, data)."
        )
    from kgtransfer.models import resolve_device

    resolve_device(device)  # a bad device fails before loading or splitting anything
    from kgtransfer._api._recommend import Recommendation

    if isinstance(source, Recommendation):
        if recommendation is not None and recommendation is not source:
            raise ArgumentError(
                "Pass the recommendation once: as source or as recommendation=..., not both."
            )
        recommendation, source = source, source.best
    if recommendation is not None and not isinstance(recommendation, Recommendation):
        raise ArgumentError(
            f"recommendation must be a Recommendation (from recommend()), got "
            f"{type(recommendation).__name__!r}."
        )
    model, default_name = load_source(source, home=home)
    data, test, tokenized = _tokenized(model, data, test)
    train, held, data_name = _splits(
        data,
        test,
        test_size=test_size,
        seed=seed,
        label_column=label_column,
        standardize=standardize,
        column_map=column_map,
    )
    x = np.asarray(train.x)
    n_classes = int(train.n_classes)
    compat = _source_compatibility(model, train) if target is None else None
    if compat is not None and not compat.compatible:
        shown = source_name or default_name
        raise TransferError(
            f"Cannot transfer {shown!r} to this target: {compat.why.rstrip('.')}. Pick a "
            "compatible source (recommend() ranks only those), or pass a target "
            "architecture that the source can be distilled into."
        )
    fresh = _fresh_target(target, model, x, n_classes, seed)
    if method == "auto":
        chosen, reason = choose_method(model, fresh, x, n_classes)
    else:
        if method not in list_methods():
            from kgtransfer.errors import did_you_mean

            raise did_you_mean(
                method,
                ["auto", *list_methods()],
                what="transfer method",
                hint="See list_methods().",
            )
        chosen, reason = method, "requested"
    name_src = source_name or default_name
    linked = recommendation.target if recommendation is not None else None
    name_tgt = target_name or linked or data_name or "target"
    result = evaluate_transfer(
        chosen,
        model,
        fresh,
        train,
        held,
        budget=budget,
        seed=seed,
        scratch=scratch,
        target_name=name_tgt,
        source_name=name_src,
        progress=progress,
        device=device,
    )
    result.provenance["choice"] = {"requested": method, "method": chosen, "reason": reason}
    if compat is not None:
        result.provenance["choice"]["compatibility"] = {"how": compat.how, "why": compat.why}
    info = getattr(train, "metadata", {}).get("standardised")
    if info is not None:
        result.provenance["preprocessing"] = {"standardised": info}
    if tokenized is not None:
        result.provenance["preprocessing"] = {"tokenized": tokenized}
    if recommendation is not None:
        result.provenance["recommendation"] = recommendation.link(name_src)
    if graph is not None:
        result.record_id = _write_back(graph, result, model, n_classes)
    return result


@dataclass
class Evaluation:
    """A transfer judged against scratch and against the best source in hindsight.

    Attributes:
        target: Target dataset id.
        source: The transferred source.
        method: Transfer method.
        accuracy: The transfer's test accuracy.
        scratch_accuracy: Same architecture from scratch (same budget and seed).
        gain: ``accuracy - scratch_accuracy``.
        negative_transfer: The transfer lost to scratch (beyond its tolerance).
        best_in_hindsight: The best source on this target according to the graph's
            other records (None without ground truth).
        best_value: Its recorded value.
        regret: ``best_value - accuracy`` (>= 0 when the graph's best beats it).
        relative: ``accuracy / best_value``.
        source_rank: Rank of the chosen source among the graph's records on the target
            (1 = best), None when it has no record there.
        n_sources: Sources with a record on the target.
        predicted: The recommendation's predicted value of the source, if given.
        predicted_gain: Its predicted gain over scratch, if given.
        risk: Its predicted negative-transfer risk, if given.
        recommendation_id: Id of the recommendation that chose the source (given, or
            carried by a result of ``transfer_from(recommendation)``).
        regime: The training regime the result was compared in (None without records).
        notes: What the comparison left out (records of other regimes, ...).
    """

    target: str
    source: str
    method: str
    accuracy: float
    scratch_accuracy: float | None
    gain: float | None
    negative_transfer: bool
    best_in_hindsight: str | None = None
    best_value: float | None = None
    regret: float | None = None
    relative: float | None = None
    source_rank: int | None = None
    n_sources: int = 0
    predicted: float | None = None
    predicted_gain: float | None = None
    risk: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    regime: str | None = None
    notes: list[str] = field(default_factory=list)
    recommendation_id: str | None = None

    def to_dict(self) -> dict[str, object]:
        """All fields as a JSON-ready dict."""
        return asdict(self)

    def summary(self) -> dict[str, object]:
        """Per-target fields for :func:`kgtransfer.report.write_report` ``summaries``."""
        return {
            "target": self.target,
            "transfer_source": self.source,
            "transfer_method": self.method,
            "transfer_value": self.accuracy,
            "transfer_scratch": self.scratch_accuracy,
            "transfer_gain": self.gain,
            "negative_transfer": self.negative_transfer,
            "transfer_regret": self.regret,
            "transfer_source_rank": self.source_rank,
        }


def _records(graph: Any, target: str) -> pd.DataFrame:
    """The target's records; from a ZooGraph with their ids (column ``record``)."""
    tables = (
        graph if hasattr(graph, "records") and isinstance(graph.records, pd.DataFrame) else None
    )
    if tables is None and callable(getattr(graph, "records", None)):
        return graph.records(dataset=target, limit=None)
    if tables is None:
        tables = graph.to_tables()
    rec = tables.records
    return rec[rec["dataset"].astype(str) == target]


def _judged(rec: pd.DataFrame, result: Any) -> pd.Series:
    """Mask of the record ``result`` wrote (its ``record_id``), nothing else."""
    record_id = getattr(result, "record_id", None)
    drop = pd.Series(False, index=rec.index)
    if not record_id or rec.empty:
        return drop
    if "record" in rec.columns:
        return rec["record"].astype("object") == str(record_id)
    # tables have no record ids: the first row with the result's identity and value
    from kgtransfer.kg.regime import regime_key, regime_of

    same = (rec["model"].astype(str) == str(result.source)) & (
        pd.to_numeric(rec["value"], errors="coerce").astype(float) == float(result.accuracy)
    )
    for col, value in (("method", result.method), ("seed", getattr(result, "seed", None))):
        if col in rec.columns and value is not None:
            same &= rec[col].astype("object") == value
    own = regime_of({"method": result.method, **(getattr(result, "regime", None) or {})})
    same &= regime_key(rec) == own
    if same.any():
        drop.loc[same[same].index[0]] = True
    return drop


def _result_regime(result: Any) -> str | None:
    from kgtransfer.kg.regime import regime_of

    regime = getattr(result, "regime", None)
    if not regime:
        return None
    return regime_of({"method": getattr(result, "method", None), **regime})


def evaluate(
    result: TransferResult,
    graph: GraphLike | TablesLike | None = None,
    *,
    recommendation: Recommendation | None = None,
    exclude_record: str | None = None,
    regime: str | Mapping[str, object] | None = None,
) -> Evaluation:
    """Judge a transfer against scratch and, where the graph has ground truth for the
    target, against the best source in hindsight.

    Only results of one training regime are compared (see :mod:`kgtransfer.kg.regime`):
    by default the result's own regime when the target has other records of it, else
    the target's own regime (the regime of most of its records); ``regime="any"`` mixes
    them explicitly. ``Evaluation.regime`` names the regime used and
    ``Evaluation.notes`` says when records of other regimes were left out or the
    result's regime differs from it.

    Args:
        result: A ``TransferResult`` (from :func:`transfer_from` or ``evaluate_transfer``).
        graph: ``ZooGraph`` or ``ZooTables`` holding the target's records.
        recommendation: The :class:`~kgtransfer.api.Recommendation` that chose the
            source, to set predicted value, gain and risk beside the outcome. Default:
            the one a ``transfer_from(recommendation)`` result carries in its
            provenance.
        exclude_record: A run label whose records are ignored as well. The record the
            result itself wrote (its ``record_id``) is always ignored; other records,
            even those written by earlier ``transfer_from`` calls, count.
        regime: None (as above), ``"any"``, or a regime label / mapping of parts.

    Returns:
        An :class:`Evaluation`.

    Example:
        >>> import pandas as pd
        >>> from types import SimpleNamespace
        >>> from kgtransfer.kg import ZooTables
        >>> recs = pd.DataFrame({"model": ["a", "b"], "dataset": ["t", "t"],
        ...                      "value": [0.9, 0.7]})
        >>> r = SimpleNamespace(target="t", source="b", method="finetune", accuracy=0.72,
        ...                     scratch_accuracy=0.6, gain=0.12, negative_transfer=False)
        >>> e = evaluate(r, ZooTables(records=recs))
        >>> e.best_in_hindsight, round(e.regret, 2), e.source_rank
        ('a', 0.18, 2)
    """
    from kgtransfer.kg.regime import regime_key, select_regime

    ev = Evaluation(
        target=str(result.target),
        source=str(result.source),
        method=str(result.method),
        accuracy=float(result.accuracy),
        scratch_accuracy=None
        if result.scratch_accuracy is None
        else float(result.scratch_accuracy),
        gain=None if result.gain is None else float(result.gain),
        negative_transfer=bool(result.negative_transfer),
    )
    if graph is not None:
        rec = _records(graph, ev.target)
        drop = _judged(rec, result)
        if exclude_record is not None and "run" in rec.columns:
            drop |= rec["run"].astype("object").fillna("").astype(str) == exclude_record
        rec = rec[~drop.to_numpy()]
        own = _result_regime(result)
        wanted = regime
        if wanted is None and own is not None and len(rec) and (regime_key(rec) == own).any():
            wanted = own
        labels = regime_key(rec)
        rec, used, notes = select_regime(rec, wanted)
        ev.regime = used.get(ev.target)
        ev.notes = list(notes)
        if regime is None and wanted is not None and labels.nunique() > 1:
            ev.notes.append(
                f"{ev.target}: its records span {labels.nunique()} regimes; compared within "
                f"this result's own regime {wanted!r} ({len(rec)} records). Pass "
                "regime='any' to mix them or regime=<label> to choose one."
            )
        if own is not None and ev.regime not in (None, own, "any"):
            ev.notes.append(
                f"This result's regime {own!r} differs from the regime it is compared in "
                f"({ev.regime!r}): {ev.target} has no other record of its regime."
            )
        if "suspect" in rec.columns:
            rec = rec[~rec["suspect"].astype("object").fillna(False).astype(bool).to_numpy()]
        if len(rec):
            values = pd.to_numeric(rec["value"], errors="coerce").astype(float)
            best = (
                pd.DataFrame({"model": rec["model"].astype(str), "value": values})
                .groupby("model")["value"]
                .max()
                .sort_values(ascending=False, kind="stable")
            )
            ev.best_in_hindsight = str(best.index[0])
            ev.best_value = float(best.iloc[0])
            ev.regret = ev.best_value - ev.accuracy
            ev.relative = ev.accuracy / ev.best_value if ev.best_value else None
            ev.n_sources = len(best)
            if ev.source in best.index:
                ev.source_rank = int(list(best.index).index(ev.source)) + 1
    link: Any = None
    if recommendation is not None:
        link = recommendation.link(ev.source)
    else:  # the recommendation transfer_from was given travels with the result
        link = (getattr(result, "provenance", None) or {}).get("recommendation")
    if isinstance(link, Mapping):
        ev.recommendation_id = None if link.get("id") is None else str(link["id"])
        for key in ("predicted", "predicted_gain", "risk"):
            value = link.get(key)
            setattr(ev, key, None if value is None or pd.isna(value) else float(value))
    return ev
