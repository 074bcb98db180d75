"""Bring your own models: timm and Hugging Face sources into the graph and the API.

:func:`add_sources` describes local pretrained models (folders, or hub ids in the
local Hugging Face cache) in the graph through its validated table writer
(``ZooGraph.add_tables``), so the recommender ranks them and ``transfer_from`` can
use them by id. :func:`load_named_source` is how ``load_source`` reads a name.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import pandas as pd

from kgtransfer.errors import ArgumentError, ErrorMode, UnknownNameError, check_error_mode
from kgtransfer.kg import ZooGraph
from kgtransfer.models import ZooModel

#: A source model: a loaded ``ZooModel``, a folder, a zoo name or a cached hub id.
SourceInput: TypeAlias = ZooModel | str | os.PathLike[str]

if TYPE_CHECKING:
    from kgtransfer.kg.ingest import IngestReport

__all__ = ["add_sources", "load_named_source", "source_id", "source_loader"]


def source_id(model: Any) -> str:
    """The graph id of a loaded model: its hub id, else its folder's name, else its arch.

    Example:
        >>> from kgtransfer.models import create_model
        >>> source_id(create_model("mlp", n_classes=2, input_shape=(4,)))
        'mlp'
    """
    info = getattr(model, "source_info", None) or {}
    folder = Path(info["folder"]).name if info.get("folder") else None
    return str(info.get("hub_id") or folder or getattr(model, "arch", "") or type(model).__name__)


def load_named_source(
    source: str | os.PathLike[str],
    *,
    home: str | Path | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> tuple[ZooModel, str]:
    """``(model, id)`` of a folder, a zoo name (with ``home``) or a cached hub id.

    A folder with a ``config.json`` is a kgtransfer checkpoint, a timm folder or a
    transformers folder (its id: the folder name). A name is looked up in the zoo of
    ``home`` first, then in the local Hugging Face cache (its id: the hub id).
    Nothing is downloaded.

    Raises:
        UnknownNameError: Neither a zoo model nor a cached hub id (the fixes named).
        ValueError: A plain name without ``home`` that is no cached hub id either.
    """
    from kgtransfer.models import is_hub_id, load_pretrained

    path = Path(source)
    if (path / "config.json").is_file():
        return load_pretrained(path, cache_dir=cache_dir), path.name
    text = os.fspath(source)
    zoo_error: UnknownNameError | None = None
    if home is not None and "/" not in text and ":" not in text:
        from kgtransfer.zoo import load_zoo_model

        try:
            return load_zoo_model(home, text), text
        except UnknownNameError as exc:
            zoo_error = exc
    if not (is_hub_id(text) or text.startswith("timm:")):
        if zoo_error is not None:
            raise zoo_error
        raise ValueError(
            f"{text!r} is no checkpoint folder and no Hugging Face hub id; to load a zoo "
            "model by name pass home=<kgtransfer home> (CLI: --home)."
        )
    try:
        return load_pretrained(text, cache_dir=cache_dir), text.removeprefix("hf-hub:")
    except UnknownNameError as exc:
        if zoo_error is not None:
            raise UnknownNameError(f"{zoo_error} Nor is it a cached hub id: {exc}") from exc
        if home is None and "/" not in text and ":" not in text:
            raise ValueError(
                f"{text!r} is no checkpoint folder and not in the local Hugging Face cache; "
                "to load a zoo model by name pass home=<kgtransfer home> (CLI: --home), for "
                f"a hub model download it first (`huggingface-cli download {text}`)."
            ) from exc
        raise


def source_loader(
    sources: Mapping[str, ZooModel | str | os.PathLike[str]] | None = None,
    *,
    home: str | Path | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Callable[[str], ZooModel]:
    """A ``name -> model`` loader for ``recommend(..., checkpoints=...)`` re-ranking.

    Names in ``sources`` map to a loaded model or to what :func:`load_named_source`
    reads; other names are read as folders, zoo names (with ``home``) or cached hub
    ids. Each model is loaded once.
    """
    given = dict(sources or {})
    cache: dict[str, ZooModel] = {}

    def load(name: str) -> ZooModel:
        if name not in cache:
            value = given.get(name, name)
            if isinstance(value, (str, os.PathLike)):
                value = load_named_source(value, home=home, cache_dir=cache_dir)[0]
            cache[name] = value
        return cache[name]

    return load


def _rows(
    sources: SourceInput | Iterable[SourceInput] | Mapping[str, SourceInput],
    names: Iterable[str] | None,
    cache_dir: object,
) -> list[tuple[str, Any]]:
    if isinstance(sources, Mapping):
        if names is not None:
            raise ArgumentError("add_sources: pass names= only with a list of sources.")
        return [(str(k), v) for k, v in sources.items()]
    items: list[SourceInput] = (
        [sources] if isinstance(sources, (str, os.PathLike, ZooModel)) else list(sources)
    )
    labels = list(names) if names is not None else [None] * len(items)
    if len(labels) != len(items):
        raise ArgumentError(
            f"add_sources: {len(labels)} names for {len(items)} sources; give one name each."
        )
    return [(label, item) for label, item in zip(labels, items, strict=True)]  # type: ignore[misc]


def add_sources(
    graph: ZooGraph,
    sources: SourceInput | Iterable[SourceInput] | Mapping[str, SourceInput],
    *,
    names: Iterable[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    errors: ErrorMode = "raise",
    mode: Literal["merge", "replace"] = "merge",
) -> IngestReport:
    """Describe local pretrained models in ``graph`` as one ingest batch.

    Each source (a loaded ZooModel, a folder, or a hub id in the local Hugging Face
    cache) becomes a ``models`` row with what
    :func:`kgtransfer.models.source_metadata` knows: architecture, ``model_type``,
    library, modality, ``n_params``, ``n_labels``, the input contract
    (``input_channels``, ``input_height``, ``input_width``, ``input_length``,
    ``n_features``, ``vocab_size``) and, from the model card beside the weights,
    license, task, datasets (``trained_on`` and dataset rows) and ``base_model``
    lineage. The rows go through ``ZooGraph.add_tables`` (the validated writer:
    ``mode`` merges or replaces, ``remove_batch`` undoes it).

    Args:
        graph: A ``ZooGraph``.
        sources: Sources, or ``{id: source}``.
        names: Graph ids, one per source (default: the hub id, folder name or arch).
        cache_dir: Hugging Face cache for hub ids (default: huggingface_hub's).
        errors: ``"raise"``, ``"warn"`` or ``"collect"`` for a source that cannot be
            loaded (skipped with a ``UserWarning`` / silently listed in the returned
            report's ``notes``; never dropped unreported).
        mode: ``"merge"`` or ``"replace"`` (see ``ZooGraph.add_zoo_tables``).

    Returns:
        The ingestion report of ``ZooGraph.add_tables``; ``report.batch`` is the batch
        id.

    Raises:
        ArgumentError: Bad ``names`` / ``errors``, or nothing left to write.
        UnknownNameError: A hub id not in the local cache (with ``errors="raise"``).

    Example:
        >>> from kgtransfer.kg import ZooGraph
        >>> from kgtransfer.models import create_model
        >>> g = ZooGraph()
        >>> _ = add_sources(g, {"mlp.mine": create_model("mlp", n_classes=2, input_shape=(4,))})
        >>> g.ids("model")
        ['mlp.mine']
    """
    from kgtransfer.models import ZooModel, source_metadata

    check_error_mode(errors)
    models: list[dict[str, Any]] = []
    datasets: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    for label, item in _rows(sources, names, cache_dir):
        try:
            if isinstance(item, ZooModel):
                model, default = item, source_id(item)
            else:
                model, default = load_named_source(item, cache_dir=cache_dir)
        except (UnknownNameError, ValueError, OSError, ImportError) as exc:
            if errors == "raise":
                raise
            failed.append(f"{item!r}: {exc}")
            if errors == "warn":
                warnings.warn(f"add_sources skipped {item!r}: {exc}", UserWarning, stacklevel=2)
            continue
        row = source_metadata(model)
        for name in row.pop("datasets", []):
            datasets.setdefault(name, {"dataset": name})
        models.append({"model": label or default, **row})
    if not models:
        raise ArgumentError(f"add_sources: no source could be loaded ({'; '.join(failed)}).")
    report: IngestReport = graph.add_tables(
        models=pd.DataFrame(models),
        datasets=pd.DataFrame(list(datasets.values())) if datasets else None,
        mode=mode,
    )
    report.notes.extend(f"source skipped: {f}" for f in failed)
    return report
