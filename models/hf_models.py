"""Hugging Face ``transformers`` image and text models as ZooModels (optional extra ``hf``).

A model is read from a local folder (``save_pretrained``: ``config.json`` +
``model.safetensors``) or, by hub id, from the local Hugging Face cache; nothing is
downloaded. The class named in the config's ``architectures`` is built, so a
``*ForImageClassification`` / ``*ForSequenceClassification`` keeps its trained
classifier: it is split off as the ZooModel's head (see
:func:`~kgtransfer.models.wrap_module`) and the features are what it reads (the
pooled output or the CLS token). A base model (``ViTModel``, ``BertModel``, ...)
gets a new linear head on its ``pooler_output`` (else its first token).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from kgtransfer.errors import CheckpointError
from kgtransfer.models.hub import resolve_pretrained
from kgtransfer.models.wrap import WrappedModel, _find_head, output_features

__all__ = ["HFModel", "load_hf"]

_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "vocab.json")


def _transformers() -> Any:
    from kgtransfer.models._compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    try:
        import transformers
    except ImportError as exc:
        raise ImportError(
            "Hugging Face models need the optional extra 'hf': .venv/bin/pip install "
            "-c constraints.txt -e '.[hf]'"
        ) from exc
    return transformers


def _image_size(config: Any, folder: Path | None) -> int:
    size = getattr(config, "image_size", None)
    if isinstance(size, int):
        return size
    if isinstance(size, (list, tuple)) and size:
        return int(size[0])
    if folder is not None and (folder / "preprocessor_config.json").is_file():
        try:
            pre = json.loads((folder / "preprocessor_config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pre = {}
        for key in ("crop_size", "size"):
            value = pre.get(key)
            if isinstance(value, int):
                return value
            if isinstance(value, dict):
                for k in ("height", "shortest_edge"):
                    if isinstance(value.get(k), int):
                        return int(value[k])
    return 224


class HFModel(WrappedModel):
    """A ``transformers`` model with its classifier split off (or a new head).

    Shapes:
        - image: forward_features (N, C, H, W) -> (N, D)
        - text: forward_features (N, L) token ids -> (N, D)

    Attributes:
        modality: ``"image"`` or ``"text"`` (from the model's ``main_input_name``).
        tokenizer: The folder's tokenizer (text models), or None.
        max_length: Truncation length of :meth:`tokenize`.
        source_info: Where it was read from: ``folder``, ``hub_id``, ``revision``.
    """

    modality: str
    tokenizer: Any
    max_length: int
    source_info: dict[str, Any]

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        """Token ids (N, L) of ``texts``, padded with ``pad_token_id``, truncated to ``max_length``."""
        if self.tokenizer is None:
            raise ValueError(
                "This model has no tokenizer saved beside it; pass token ids (N, L) padded "
                f"with {self.pad_token_id} instead of texts (or save the tokenizer into the "
                "folder with tokenizer.save_pretrained(folder))."
            )
        if isinstance(texts, str):
            raise TypeError("tokenize takes a list of texts, got a single str; wrap it: [text].")
        enc = self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length,
            return_tensors="pt",
        )  # fmt: skip
        ids: torch.Tensor = enc["input_ids"]
        return ids

    def new_like(self, n_classes: int) -> HFModel:
        """The same architecture and config, freshly initialised, with ``n_classes``."""
        config: Any = copy.deepcopy(self.backbone.config)
        config.num_labels = n_classes
        module = type(self.backbone)(config)
        fresh = _as_zoo(module, n_classes=n_classes, folder=None, max_length=self.max_length)
        fresh.input_shape = self.input_shape
        fresh.tokenizer = self.tokenizer
        fresh.source_info = {}
        return fresh


def _as_zoo(
    module: nn.Module, *, n_classes: int | None, folder: Path | None, max_length: int
) -> HFModel:
    config = module.config
    text = getattr(module, "main_input_name", "") == "input_ids"
    if text:
        length = min(int(getattr(config, "max_position_embeddings", max_length)), max_length)
        shape: tuple[int, ...] = (length,)
    else:
        size = _image_size(config, folder)
        shape = (int(getattr(config, "num_channels", 3)), size, size)
    try:
        head_name: str | None = _find_head(module)[0]
        feature_dim = None
    except ValueError:  # a base model: features from its output, a new head
        head_name = None
        dummy = torch.ones(1, 2, dtype=torch.long) if text else torch.zeros(1, *shape)
        with torch.no_grad():
            module.eval()
            out = module(input_ids=dummy) if text else module(dummy)
        feature_dim = int(output_features(out).shape[1])
    labels = n_classes or int(getattr(config, "num_labels", 2) or 2)
    model = HFModel(module, head_name, shape, feature_dim=feature_dim, n_classes=labels)
    model.modality = "text" if text else "image"
    model.max_length = shape[0] if text else max_length
    model.tokenizer = None
    model.source_info = {}
    archs = getattr(config, "architectures", None) or [type(module).__name__]
    model.arch = f"transformers:{archs[0]}"
    if n_classes is not None and n_classes != model.n_classes:
        model.reset_classifier(n_classes)
    return model


def load_hf(
    source: str | os.PathLike[str],
    *,
    n_classes: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    revision: str | None = None,
    max_length: int = 128,
    dtype: torch.dtype | None = torch.float32,
) -> HFModel:
    """Load a Hugging Face image or text model from a local folder or the local cache.

    Args:
        source: A ``save_pretrained`` folder (``config.json`` + ``model.safetensors``;
            pickle ``.bin`` weights are refused) or a hub id (``org/name``, optionally
            ``hf-hub:org/name``) that is in the local Hugging Face cache.
        n_classes: Outputs of the head; a trained classifier of another size is
            replaced by a fresh one (and ``config.num_labels`` follows).
        cache_dir: Hugging Face cache to look hub ids up in (default: huggingface_hub's,
            from ``HF_HOME`` / ``HF_HUB_CACHE``).
        revision: Branch, tag or commit of a cached hub id (default ``main``).
        max_length: Truncation length of text inputs.
        dtype: Weights are cast to it (float32 by default, so half-precision checkpoints
            train and score like the zoo's models); None keeps the checkpoint's dtype.

    Returns:
        An :class:`HFModel` (``modality`` ``"image"`` or ``"text"``; text models have
        ``tokenize(texts)`` when a tokenizer is saved beside the weights).

    Raises:
        ImportError: transformers is not installed.
        UnknownNameError: A hub id not in the local cache (the download command named).
        CheckpointError: No usable config or safetensors weights.

    Example:
        >>> import tempfile, torch
        >>> from transformers import ViTConfig, ViTForImageClassification
        >>> cfg = ViTConfig(image_size=16, patch_size=8, hidden_size=8, num_hidden_layers=1,
        ...                 num_attention_heads=2, intermediate_size=16, num_labels=3)
        >>> d = tempfile.mkdtemp(); ViTForImageClassification(cfg).save_pretrained(d)
        >>> m = load_hf(d)
        >>> m.modality, m.input_shape, m(torch.zeros(1, 3, 16, 16)).shape
        ('image', (3, 16, 16), torch.Size([1, 3]))
    """
    transformers = _transformers()
    folder = resolve_pretrained(source, cache_dir=cache_dir, revision=revision)
    if not (folder / "config.json").is_file():
        raise CheckpointError(
            f"No config.json in {str(folder)!r}; save the model with save_pretrained()."
        )
    if not any(folder.glob("*.safetensors")):
        raise CheckpointError(
            f"No safetensors weights in {str(folder)!r} (pickle .bin files are refused): "
            "re-save with model.save_pretrained(folder) (safetensors by default)."
        )
    try:
        config = transformers.AutoConfig.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"Unreadable Hugging Face config in {str(folder)!r}: {exc}") from exc
    archs = getattr(config, "architectures", None) or []
    cls = getattr(transformers, archs[0], None) if archs else None
    cls = cls if cls is not None else transformers.AutoModel
    logging = transformers.utils.logging
    was_shown = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()  # a library does not print; the caller shows progress
    try:
        module = cls.from_pretrained(
            str(folder), local_files_only=True, use_safetensors=True, dtype=dtype or "auto"
        )
    finally:
        if was_shown:
            logging.enable_progress_bar()
    module.eval()
    model = _as_zoo(module, n_classes=n_classes, folder=folder, max_length=max_length)
    if model.modality == "text" and any((folder / f).is_file() for f in _TOKENIZER_FILES):
        model.tokenizer = transformers.AutoTokenizer.from_pretrained(
            str(folder), local_files_only=True
        )
        if (
            getattr(config, "pad_token_id", None) is None
            and model.tokenizer.pad_token_id is not None
        ):
            model.pad_token_id = int(model.tokenizer.pad_token_id)
    text = str(source)
    hub = not Path(source).is_dir()
    model.source_info = {
        "folder": str(folder),
        "hub_id": text.removeprefix("hf-hub:") if hub else None,
        "revision": folder.name if hub else None,
    }
    return model.eval()
