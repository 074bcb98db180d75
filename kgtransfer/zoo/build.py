"""Build the zoo: train every source of a spec, save checkpoints + model cards, fill the graph.

Everything is cached under ``home/zoo``: a source whose folder holds a checkpoint
written for the same spec-entry hash (see :meth:`ZooSpec.entry_hash`) is reused,
and the graph is only rewritten when what it would receive changed.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from kgtransfer._versions import versions
from kgtransfer.errors import ErrorMode, check_error_mode, did_you_mean
from kgtransfer.models import (
    ZooModel,
    create_model,
    list_models,
    load_checkpoint,
    load_pretrained,
    save_checkpoint,
)
from kgtransfer.transfer.training import accuracy, as_arrays, train_classifier
from kgtransfer.zoo._datasets import (
    dataset_rows,
    load_source_data,
    similarity_rows,
    validate_datasets,
)
from kgtransfer.zoo._graph import sync_build_to_graph
from kgtransfer.zoo._io import read_json, write_json_atomic
from kgtransfer.zoo._paths import datasets_dir, graph_path, model_dir, models_dir
from kgtransfer.zoo._spec import DEFAULT_ZOO, SourceSpec, ZooSpec
from kgtransfer.zoo._train import seeded, torch_threads

__all__ = ["ZOO_ENTRY_FILE", "ZooBuildResult", "build_zoo", "load_zoo_model", "zoo_status"]

#: Sidecar file in each model folder: the spec entry, its hash, seed and metrics.
ZOO_ENTRY_FILE = "zoo.json"


@dataclass
class ZooBuildResult:
    """What :func:`build_zoo` did.

    Attributes:
        home: The kgtransfer home folder.
        models: One row per source: ``model, architecture, dataset, base_model,
            status`` ("built" | "cached" | "failed"), ``test_accuracy, n_params,
            seconds, path, error``.
        datasets: The dataset metadata table written to the graph.
        similarities: The dataset similarity table written to the graph.
        graph_path: Folder of the on-disk graph store.
        graph_updated: Whether the graph was (re)written in this call.
        seconds: Wall time of the call.
    """

    home: Path
    models: pd.DataFrame
    datasets: pd.DataFrame
    similarities: pd.DataFrame
    graph_path: Path
    graph_updated: bool
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def n_built(self) -> int:
        """Number of sources trained in this call."""
        return int((self.models["status"] == "built").sum())

    @property
    def n_failed(self) -> int:
        """Number of sources that failed (``errors="warn"|"collect"``)."""
        return int((self.models["status"] == "failed").sum())

    @property
    def n_cached(self) -> int:
        """Number of sources reused from the cache."""
        return int((self.models["status"] == "cached").sum())

    def __repr__(self) -> str:
        return (
            f"ZooBuildResult(models={len(self.models)}, built={self.n_built}, "
            f"cached={self.n_cached}, failed={self.n_failed}, datasets={len(self.datasets)}, "
            f"graph_updated={self.graph_updated}, seconds={self.seconds:.1f})"
        )


def _source_row(
    src: SourceSpec, status: str, meta: dict[str, Any] | None, **more: object
) -> dict[str, Any]:
    """A source's row of ``build_zoo`` / ``zoo_status``: who it is, its status and test
    accuracy (from its entry ``meta``), then the columns ``more``."""
    return {
        "model": src.name,
        "architecture": src.arch,
        "dataset": src.dataset,
        "base_model": src.base_model,
        "status": status,
        "test_accuracy": float(meta["test_accuracy"]) if meta else None,
        **more,
    }


def _cached_entry(folder: Path, entry_hash: str) -> dict[str, Any] | None:
    meta = read_json(folder / ZOO_ENTRY_FILE)
    if not isinstance(meta, dict) or meta.get("spec_hash") != entry_hash:
        return None
    if not (folder / "model.safetensors").is_file() or not (folder / "config.json").is_file():
        return None
    return meta


def _save_folder_atomically(folder: Path, write: Any) -> None:
    """Write a model folder into a temp sibling, then swap it in (old one removed after)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        write(tmp)
        old = None
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old-{time.time_ns()}")
            folder.rename(old)
        tmp.rename(folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _card(
    src: SourceSpec, model: ZooModel, data: Any, acc: float, meta: dict[str, Any]
) -> dict[str, Any]:
    n_params = int(sum(p.numel() for p in model.parameters()))
    card: dict[str, Any] = {
        "datasets": [src.dataset],
        "pipeline_tag": f"{data.modality}-classification",
        "tags": ["kgtransfer-zoo", src.arch, data.modality, data.task],
        "license": "mit",
        "library_name": "kgtransfer",
        "architecture": src.arch,
        "n_params": n_params,
        "modality": data.modality,
        "n_labels": int(data.n_classes),
        "model-index": [
            {
                "name": src.name,
                "results": [
                    {
                        "task": {"type": f"{data.modality}-classification", "name": data.task},
                        "dataset": {"name": src.dataset, "type": src.dataset, "split": "test"},
                        "metrics": [{"type": "accuracy", "value": round(float(acc), 6)}],
                    }
                ],
            }
        ],
        "kgtransfer_zoo": {k: meta[k] for k in ("spec", "spec_hash", "seed", "train_seed")},
    }
    if src.base_model is not None:
        card["base_model"] = src.base_model
        card["base_model_relation"] = "finetune"
    return card


def _train_source(
    src: SourceSpec, base: ZooModel | None, data: Any, seed: int, progress: bool
) -> ZooModel:
    n_classes = int(data.n_classes)
    if base is None:
        model: ZooModel = seeded(
            seed,
            lambda: create_model(
                src.arch,
                n_classes=n_classes,
                input_shape=tuple(data.input_shape),
                **dict(src.arch_kwargs),
            ),
        )
    else:
        model = copy.deepcopy(base)
        if model.n_classes != n_classes:
            seeded(seed, lambda: model.reset_classifier(n_classes))
    x, y = as_arrays(data.train, what=f"{src.dataset} train split")
    train_classifier(model, (x, y), src.budget, seed=seed, progress=progress, desc=src.name)
    return model


def _test_accuracy(model: ZooModel, data: Any) -> float:
    return accuracy(model, as_arrays(data.test, what="test split"))


def _build_one(
    home: Path,
    spec: ZooSpec,
    src: SourceSpec,
    seed: int,
    cache: dict[str, Any],
    trained: dict[str, ZooModel],
    progress: bool,
) -> dict[str, Any]:
    """Train one source, save its folder atomically; returns its ``zoo.json`` metadata."""
    t0 = time.perf_counter()
    if src.dataset not in cache:
        cache[src.dataset] = load_source_data(src.dataset, seed)
    data = cache[src.dataset]
    base = None
    if src.base_model is not None:
        base = trained.get(src.base_model) or load_checkpoint(model_dir(home, src.base_model))
    train_seed = spec.source_seed(src.name, seed)
    model = _train_source(src, base, data, train_seed, progress)
    acc = _test_accuracy(model, data)
    meta = {
        "spec": spec.name,
        "spec_hash": spec.entry_hash(src.name, seed),
        "seed": seed,
        "train_seed": train_seed,
        "entry": src.to_dict(),
        "test_accuracy": acc,
        "n_params": int(sum(p.numel() for p in model.parameters())),
        "n_train": len(data.train.y),
        "n_test": len(data.test.y),
        "split": f"load_dataset({src.dataset!r}, split='train'|'test', seed={seed})",
        "train_seconds": round(time.perf_counter() - t0, 3),
        "versions": versions(),
    }
    card = _card(src, model, data, acc, meta)

    def write(tmp: Path) -> None:
        save_checkpoint(model, tmp, name=src.name, card=card)
        write_json_atomic(tmp / ZOO_ENTRY_FILE, meta)

    _save_folder_atomically(model_dir(home, src.name), write)
    trained[src.name] = model
    return meta


def validate_spec(spec: ZooSpec) -> None:
    """Check every architecture and dataset name of ``spec`` against the registries.

    Raises:
        UnknownNameError: An unknown architecture or dataset (close names suggested).
    """
    known = set(list_models())
    for src in spec.sources:
        if src.arch not in known:
            raise did_you_mean(
                src.arch,
                known,
                what="architecture",
                hint=f"(zoo model {src.name!r}) See list_models().",
            )
    validate_datasets([s.dataset for s in spec.sources] + [t.dataset for t in spec.targets])


def build_zoo(
    home: str | Path,
    *,
    spec: ZooSpec = DEFAULT_ZOO,
    seed: int = 0,
    force: bool = False,
    progress: bool = False,
    num_threads: int | None = 1,
    errors: ErrorMode = "raise",
) -> ZooBuildResult:
    """Train the spec's source models and write checkpoints, cards and the graph.

    Each source ``arch.tag`` is trained (seeded, the spec's budget) on its dataset's
    train split, or fine-tuned from its ``base_model``; its test accuracy goes into the
    model card's ``model-index``. Checkpoints + cards go to ``home/zoo/models/<name>/``,
    dataset metadata to ``home/zoo/datasets/<name>.json``, and the graph at
    ``home/graph`` receives the datasets (task, domain, modality, n_samples,
    n_classes), their similarity edges (dataset fingerprints) and the models with
    lineage (ingested from the cards).

    Args:
        home: The kgtransfer home folder (created if missing).
        spec: The zoo to build.
        seed: Global seed; each source's training seed is derived from it and its name.
        force: Retrain every source and rewrite the graph even when cached.
        progress: Show a tqdm bar on stderr.
        num_threads: torch threads while training (restored afterwards); ``None``
            keeps the current setting. One is fastest for these tiny models.
        errors: A source that fails to train: ``"raise"`` stops; ``"warn"`` (one
            ``UserWarning`` each) and ``"collect"`` go on, the row has status
            ``failed`` and the reason in ``error`` (its fine-tunes fail too), and the
            graph receives only the models that exist.

    Returns:
        A :class:`ZooBuildResult` (which sources were built or reused, tables, timing).

    Raises:
        UnknownNameError: The spec names an unknown architecture or dataset.

    Example:
        >>> import tempfile
        >>> from kgtransfer.zoo import TINY_ZOO, build_zoo
        >>> result = build_zoo(tempfile.mkdtemp(), spec=TINY_ZOO)
        >>> result.n_built
        4
    """
    check_error_mode(errors)
    with torch_threads(num_threads):
        return _build(home, spec=spec, seed=seed, force=force, progress=progress, errors=errors)


def _build(
    home: str | Path, *, spec: ZooSpec, seed: int, force: bool, progress: bool, errors: str
) -> ZooBuildResult:
    start = time.perf_counter()
    home = Path(home)
    validate_spec(spec)
    models_dir(home).mkdir(parents=True, exist_ok=True)
    cache: dict[str, Any] = {}  # dataset name -> SourceData
    trained: dict[str, ZooModel] = {}
    rows: list[dict[str, Any]] = []
    bar = tqdm(spec.sources, desc="zoo build", disable=not progress)
    failed: dict[str, str] = {}
    for src in bar:
        bar.set_postfix_str(src.name)
        t0 = time.perf_counter()
        folder = model_dir(home, src.name)
        entry_hash = spec.entry_hash(src.name, seed)
        meta = None if force else _cached_entry(folder, entry_hash)
        status, error = "cached", ""
        if meta is None:
            status = "built"
            try:
                if src.base_model in failed:
                    raise RuntimeError(f"its base model {src.base_model!r} failed")
                meta = _build_one(home, spec, src, seed, cache, trained, progress)
            except Exception as exc:
                if errors == "raise":
                    raise
                status, error = "failed", f"{type(exc).__name__}: {exc}".splitlines()[0]
                failed[src.name] = error
                if errors == "warn":
                    warnings.warn(
                        f"zoo model {src.name!r} failed: {error}", UserWarning, stacklevel=3
                    )
        rows.append(
            _source_row(
                src,
                status,
                meta,
                n_params=int(meta["n_params"]) if meta else None,
                seconds=round(time.perf_counter() - t0, 3),
                path=str(folder),
                error=error,
            )
        )
    models = pd.DataFrame(rows)

    datasets = dataset_rows(spec, seed, cache=cache, out_dir=datasets_dir(home))
    similarities = similarity_rows(spec, seed, cache=cache)
    updated = sync_build_to_graph(
        home,
        spec=spec,
        seed=seed,
        datasets=datasets,
        similarities=similarities,
        model_names=[s.name for s in spec.sources if s.name not in failed],
        force=force,
    )
    return ZooBuildResult(
        home=home,
        models=models,
        datasets=datasets,
        similarities=similarities,
        graph_path=graph_path(home),
        graph_updated=updated,
        seconds=time.perf_counter() - start,
    )


def load_zoo_model(home: str | Path, name: str) -> ZooModel:
    """Load the zoo checkpoint ``name`` from ``home/zoo/models/<name>``.

    The folder may also hold a timm (``save_for_hf``) or Hugging Face
    (``save_pretrained``) model: see :func:`kgtransfer.models.load_pretrained`.

    Raises:
        UnknownNameError: No such model in this home (close names suggested).

    Example:
        >>> import tempfile
        >>> from kgtransfer.zoo import TINY_ZOO, build_zoo
        >>> home = tempfile.mkdtemp()
        >>> _ = build_zoo(home, spec=TINY_ZOO)
        >>> load_zoo_model(home, "mlp.digits").n_classes
        10
        >>> load_zoo_model(home, "mlp.digit")
        Traceback (most recent call last):
        ...
        kgtransfer.errors.UnknownNameError: ...
    """
    folder = model_dir(home, name)
    if not (folder / "config.json").is_file():
        present = sorted(p.name for p in models_dir(home).glob("*") if p.is_dir())
        raise did_you_mean(
            name,
            present,
            what="zoo model",
            hint=f"Zoo under {models_dir(home)} has {len(present)} models; run build_zoo(home).",
        )
    return load_pretrained(folder)  # a timm or Hugging Face folder placed here loads too


def zoo_status(home: str | Path, *, spec: ZooSpec = DEFAULT_ZOO, seed: int = 0) -> pd.DataFrame:
    """One row per source of ``spec``: is its checkpoint built and current?

    Columns: ``model, architecture, dataset, base_model, status`` ("built" = present and
    matching the spec, "stale" = present for another spec entry/seed, "missing"),
    ``test_accuracy`` (None unless built), ``path``.

    Example:
        >>> import tempfile
        >>> from kgtransfer.zoo import TINY_ZOO
        >>> zoo_status(tempfile.mkdtemp(), spec=TINY_ZOO)["status"].unique().tolist()
        ['missing']
    """
    rows = []
    for src in spec.sources:
        folder = model_dir(home, src.name)
        meta = read_json(folder / ZOO_ENTRY_FILE)
        cached = _cached_entry(folder, spec.entry_hash(src.name, seed))
        status = "built" if cached else ("stale" if isinstance(meta, dict) else "missing")
        rows.append(_source_row(src, status, cached, path=str(folder)))
    return pd.DataFrame(rows)
