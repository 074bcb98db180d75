"""Checkpoints: ``model.safetensors`` + ``config.json`` + a ``README.md`` model card.

Only safetensors weights are loaded; pickle files (``.pt``, ``.pth``, ``.bin``,
``.pkl``) are refused, since unpickling runs arbitrary code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from kgtransfer._io import atomic_write_bytes
from kgtransfer.errors import CheckpointError
from kgtransfer.models.base import ZooModel
from kgtransfer.models.card import write_card
from kgtransfer.models.registry import create_model

__all__ = ["load_checkpoint", "load_state_dict_file", "save_checkpoint"]

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
CARD = "README.md"
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".ckpt")


def save_checkpoint(
    model: ZooModel,
    folder: str | os.PathLike[str],
    *,
    name: str,
    card: dict[str, Any] | None = None,
    body: str = "",
) -> Path:
    """Save a registry model's weights, rebuild config and model card to ``folder``.

    The card gets ``library_name: kgtransfer``, ``architecture``, ``n_params`` and
    ``model_name`` unless ``card`` sets them. Every file is written atomically.

    Example:
        >>> import tempfile
        >>> from kgtransfer.models import create_model
        >>> m = create_model("mlp", n_classes=2, input_shape=(4,))
        >>> folder = save_checkpoint(m, tempfile.mkdtemp(), name="mlp.demo",
        ...                          card={"datasets": ["toy"]})
        >>> load_checkpoint(folder).n_classes
        2
    """
    if not model.arch:
        raise CheckpointError(
            f"Model {name!r} was not built by create_model (no 'arch'), so it cannot be "
            "rebuilt from a config; save its state dict with safetensors instead."
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "name": name,
        "arch": model.arch,
        "arch_kwargs": model.arch_kwargs,
        "n_classes": model.n_classes,
        "input_shape": list(model.input_shape),
        "feature_dim": model.feature_dim,
    }
    tensors = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    atomic_write_bytes(folder / WEIGHTS, save(tensors, metadata={"name": name}))
    atomic_write_bytes(folder / CONFIG, json.dumps(config, indent=2).encode())
    meta = {
        "model_name": name,
        "library_name": "kgtransfer",
        "architecture": model.arch,
        "n_params": int(sum(p.numel() for p in model.parameters())),
        **(card or {}),
    }
    write_card(folder / CARD, meta, body or f"# {name}\n\nA kgtransfer zoo model.\n")
    return folder


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    folder = path.parent
    if not path.exists():
        pickles = sorted(p.name for p in folder.glob("*") if p.suffix in PICKLE_SUFFIXES)
        if pickles:
            raise CheckpointError(
                f"Refusing pickle checkpoint {pickles[0]!r} in {str(folder)!r}: unpickling can "
                "run arbitrary code. Convert it once, in a trusted environment, with "
                "safetensors.torch.save_file(torch.load(p, weights_only=True), "
                "'model.safetensors')."
            )
        raise CheckpointError(f"No {path.name} in {str(folder)!r}.")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"Corrupt safetensors file {str(path)!r}: {exc}") from exc


def load_state_dict_file(module: torch.nn.Module, path: str | os.PathLike[str]) -> None:
    """Load a safetensors state dict into ``module`` strictly.

    Raises:
        CheckpointError: Refused/corrupt file, or missing, unexpected or mis-shaped tensors
            (all named).
    """
    path = Path(path)
    if path.suffix in PICKLE_SUFFIXES:
        raise CheckpointError(
            f"Refusing pickle file {str(path)!r}: only safetensors files are loaded."
        )
    state = _read_safetensors(path)
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = sorted(
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in set(own) & set(state)
        if state[k].shape != own[k].shape
    )
    if missing or unexpected or shapes:
        raise CheckpointError(
            f"{str(path)!r} does not match the model: missing {missing[:5]}, unexpected "
            f"{unexpected[:5]}, shape mismatches {shapes[:5]}. Use "
            "kgtransfer.transfer.WeightTransfer to copy what matches and report the rest."
        )
    module.load_state_dict(state, strict=True)


def load_checkpoint(folder: str | os.PathLike[str]) -> ZooModel:
    """Rebuild a model saved by :func:`save_checkpoint` and load its weights strictly.

    Raises:
        CheckpointError: Missing/corrupt config or weights, a pickle file, or a mismatch.
    """
    folder = Path(folder)
    try:
        config = json.loads((folder / CONFIG).read_text())
        arch, n_classes = config["arch"], int(config["n_classes"])
        input_shape = tuple(int(d) for d in config["input_shape"])
        kwargs = dict(config.get("arch_kwargs") or {})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"Unreadable {CONFIG} in {str(folder)!r}: {exc}") from exc
    model = create_model(arch, n_classes=n_classes, input_shape=input_shape, **kwargs)
    load_state_dict_file(model, folder / WEIGHTS)
    model.eval()
    return model
