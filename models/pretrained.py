"""One entry point for pretrained weights on this machine, and what the graph should know
about them.

:func:`load_pretrained` reads a kgtransfer checkpoint, a timm folder, a Hugging Face
``transformers`` folder or a hub id in the local Hugging Face cache (the folder's
``config.json`` tells which). :func:`source_metadata` describes a loaded model the way
the graph's ``models`` table does (architecture, parameter count, card fields such as
``license``, ``datasets`` and ``base_model``, and its input contract as numbers).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kgtransfer.errors import CardParseError
from kgtransfer.models.base import ZooModel
from kgtransfer.models.card import read_card
from kgtransfer.models.hub import resolve_pretrained

__all__ = ["INPUT_CONTRACT_FIELDS", "load_pretrained", "source_metadata"]

#: Numeric model attributes describing what a model reads (absent: not applicable).
INPUT_CONTRACT_FIELDS = (
    "input_channels",
    "input_height",
    "input_width",
    "input_length",
    "n_features",
    "vocab_size",
)


def _config_kind(folder: Path) -> str:
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unknown"
    if not isinstance(config, dict):
        return "unknown"
    if "arch" in config and "n_classes" in config:
        return "kgtransfer"
    if isinstance(config.get("architecture"), str):
        return "timm"
    return "transformers"


def load_pretrained(
    source: str | os.PathLike[str],
    *,
    n_classes: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    revision: str | None = None,
) -> ZooModel:
    """Load local pretrained weights of any supported kind, offline.

    Args:
        source: A folder (kgtransfer ``save_checkpoint``, timm ``save_for_hf`` or
            transformers ``save_pretrained``), a hub id in the local Hugging Face cache
            (``org/name`` or ``hf-hub:org/name``; timm and transformers repos alike),
            or ``timm:<architecture>`` (its default pretrained tag, from the cache).
        n_classes: Outputs of the head (replaced when it differs).
        cache_dir: Hugging Face cache for hub ids (default: huggingface_hub's).
        revision: Revision of a cached hub id (default ``main``).

    Raises:
        UnknownNameError: A hub id not in the local cache (the download command named).
        CheckpointError: Unusable config or weights.

    Example:
        >>> import tempfile
        >>> from kgtransfer.models import create_model, save_checkpoint
        >>> d = save_checkpoint(create_model("mlp", n_classes=2, input_shape=(4,)),
        ...                     tempfile.mkdtemp(), name="mlp.demo")
        >>> load_pretrained(d).arch
        'mlp'
    """
    text = os.fspath(source)
    if text.startswith("timm:"):
        from kgtransfer.models.timm_models import load_timm

        return _tag(load_timm(text, n_classes=n_classes, cache_dir=cache_dir), text, None)
    folder = resolve_pretrained(source, cache_dir=cache_dir, revision=revision)
    hub_id = None if Path(source).is_dir() else text.removeprefix("hf-hub:")
    kind = _config_kind(folder)
    if kind == "kgtransfer":
        from kgtransfer.models.checkpoint import load_checkpoint

        model: ZooModel = load_checkpoint(folder)
        if n_classes is not None and n_classes != model.n_classes:
            model.reset_classifier(n_classes)
    elif kind == "timm":
        from kgtransfer.models.timm_models import load_timm

        model = load_timm(folder, n_classes=n_classes)
    else:
        from kgtransfer.models.hf_models import load_hf

        model = load_hf(folder, n_classes=n_classes)
    return _tag(model, hub_id, folder)


def _tag(model: ZooModel, hub_id: str | None, folder: Path | None) -> ZooModel:
    info = dict(getattr(model, "source_info", None) or {})
    if folder is not None:
        info["folder"] = str(folder)
        if hub_id is not None:
            info["revision"] = folder.name
    if hub_id is not None:
        info["hub_id"] = hub_id
    setattr(model, "source_info", info)  # noqa: B010 (a plain attribute, not a submodule)
    return model


def _card(folder: str | None) -> dict[str, Any]:
    if not folder or not (Path(folder) / "README.md").is_file():
        return {}
    try:
        return read_card(Path(folder) / "README.md")
    except CardParseError:
        return {}  # a README without front matter describes nothing machine-readable


def _library(model: ZooModel) -> str:
    arch = str(getattr(model, "arch", "") or "")
    if arch.startswith("timm:"):
        return "timm"
    if arch.startswith(("transformers:", "sentence_transformers:")):
        return arch.split(":", 1)[0]
    return "kgtransfer"


def _modality(model: ZooModel) -> str | None:
    modality = getattr(model, "modality", None)
    if isinstance(modality, str):
        return modality
    if _library(model) == "timm":
        return "image"
    if _library(model) != "kgtransfer":
        return "text"
    if getattr(model, "input_kind", None) == "tokens":
        return "text"
    from kgtransfer.models.registry import get_model_config, list_models

    arch = str(getattr(model, "arch", "") or "")
    return get_model_config(arch).modality if arch in list_models() else None


def source_metadata(model: ZooModel) -> dict[str, Any]:
    """The graph's ``models`` row for ``model`` (a ``base_model`` list and ``datasets`` included).

    Fields: ``architecture`` (``timm:<name>``, ``transformers:<class>`` or the registry
    key), ``model_type`` (the transformers ``model_type`` / timm architecture),
    ``library_name``, ``modality``, ``n_params``, ``n_labels`` (the classes of its
    head), the input contract (:data:`INPUT_CONTRACT_FIELDS`: channels, height and
    width of images, token length and vocabulary size of text, ``n_features`` of
    flat inputs) and, from a ``README.md`` model card beside the weights,
    ``license``, ``task`` (``pipeline_tag``), ``datasets`` (the first is
    ``trained_on``), ``base_model`` and ``base_model_relation``. Absent facts are
    left out.

    Example:
        >>> from kgtransfer.models import create_model
        >>> meta = source_metadata(create_model("mlp", n_classes=2, input_shape=(4,)))
        >>> meta["architecture"], meta["n_features"], meta["library_name"]
        ('mlp', 4.0, 'kgtransfer')
    """
    row: dict[str, Any] = {
        "architecture": str(getattr(model, "arch", "") or type(model).__name__),
        "library_name": _library(model),
        "n_params": float(sum(p.numel() for p in model.parameters())),
        "n_labels": float(model.n_classes),
    }
    modality = _modality(model)
    if modality:
        row["modality"] = modality
    config = getattr(getattr(model, "backbone", None), "config", None)
    if config is not None and getattr(config, "model_type", None):
        row["model_type"] = str(config.model_type)
    elif row["library_name"] == "timm":
        row["model_type"] = row["architecture"].removeprefix("timm:")
    shape = tuple(int(d) for d in getattr(model, "input_shape", ()) or ())
    if modality == "text" and len(shape) == 1:
        row["input_length"] = float(shape[0])
        vocab = getattr(config, "vocab_size", None)
        tokenizer: Any = getattr(model, "tokenizer", None)
        if vocab is None and tokenizer is not None:
            vocab = len(tokenizer)
        if vocab is not None:
            row["vocab_size"] = float(vocab)
    elif len(shape) == 3:
        row["input_channels"], row["input_height"], row["input_width"] = map(float, shape)
    elif len(shape) == 2:
        row["input_channels"], row["input_length"] = map(float, shape)
    elif len(shape) == 1:
        row["n_features"] = float(shape[0])
    card = _card((getattr(model, "source_info", None) or {}).get("folder"))
    if isinstance(card.get("license"), str):
        row["license"] = card["license"]
    if isinstance(card.get("pipeline_tag"), str):
        row["task"] = card["pipeline_tag"]
    datasets = card.get("datasets")
    datasets = [datasets] if isinstance(datasets, str) else datasets
    if isinstance(datasets, list) and all(isinstance(d, str) for d in datasets) and datasets:
        row["datasets"] = list(datasets)
        row["trained_on"] = datasets[0]
    base = card.get("base_model")
    base = [base] if isinstance(base, str) else base
    if isinstance(base, list) and base and all(isinstance(b, str) for b in base):
        row["base_model"] = list(base)
        if isinstance(card.get("base_model_relation"), str):
            row["base_model_relation"] = card["base_model_relation"]
    return row
