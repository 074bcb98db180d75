"""timm models as ZooModels (optional extra ``timm``).

The classifier is found with timm's ``get_classifier()``, split off as the
ZooModel's linear ``head`` and removed from the timm model with
``reset_classifier(0)``; features are ``forward_head(forward_features(x),
pre_logits=True)``, i.e. exactly what timm's classifier reads. Weights are read
from a local file or folder (timm's ``save_for_hf`` layout: ``config.json`` +
``model.safetensors``) or from the local Hugging Face cache: nothing is downloaded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from kgtransfer.errors import CheckpointError
from kgtransfer.models.base import ZooModel
from kgtransfer.models.hub import resolve_pretrained

__all__ = ["TimmModel", "load_timm"]

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "pytorch_model.pth")
_TORCH_SUFFIXES = (".pth", ".pt", ".bin")


def _timm() -> Any:
    from kgtransfer.models._compat import ensure_torchvision_importable

    ensure_torchvision_importable()
    try:
        import timm
    except ImportError as exc:
        raise ImportError(
            "timm models need the optional extra 'timm': .venv/bin/pip install "
            "-c constraints.txt -e '.[timm]'"
        ) from exc
    return timm


class TimmModel(ZooModel):
    """A timm model split into its pre-logits features and a linear head.

    Shapes:
        - forward_features: (N, C, H, W) -> (N, num_features)
        - forward_head: (N, num_features) -> (N, n_classes)

    Attributes:
        model: The timm model, its classifier removed (``reset_classifier(0)``).
        pretrained_cfg: timm's pretrained config (input size, mean/std, ...).
    """

    def __init__(self, model: nn.Module, *, arch: str, model_args: dict[str, Any]) -> None:
        super().__init__()
        classifier = model.get_classifier()  # type: ignore[operator]
        n_features = int(model.num_features)  # type: ignore[arg-type]
        if isinstance(classifier, nn.Linear):
            head: nn.Linear = classifier
        else:  # no classifier (num_classes=0) or not a linear one: a new linear head
            n_out = int(getattr(model, "num_classes", 0) or 1)
            head = nn.Linear(n_features, n_out)
        model.reset_classifier(0)  # type: ignore[operator]
        self.model = model
        self.head = head
        self.feature_dim = int(head.in_features)
        self.n_classes = int(head.out_features)
        cfg = dict(getattr(model, "pretrained_cfg", {}) or {})
        self.pretrained_cfg = cfg
        size = model_args.get("img_size")
        chans = int(model_args.get("in_chans", cfg.get("input_size", (3,))[0]))
        if isinstance(size, int):
            self.input_shape: tuple[int, ...] = (chans, size, size)
        elif isinstance(size, (list, tuple)) and len(size) == 2:
            self.input_shape = (chans, int(size[0]), int(size[1]))
        else:
            self.input_shape = tuple(int(d) for d in cfg.get("input_size", (chans, 224, 224)))
        self.arch = f"timm:{arch}"
        self.arch_kwargs = dict(model_args)
        self.modality = "image"
        self.source_info: dict[str, Any] = {}

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.model.forward_features(x)  # type: ignore[operator]
        out: torch.Tensor = self.model.forward_head(feats, pre_logits=True)  # type: ignore[operator]
        return torch.flatten(out, 1)

    def blocks(self) -> list[nn.Module]:
        for name in ("blocks", "stages", "layers"):
            seq = getattr(self.model, name, None)
            if isinstance(seq, (nn.Sequential, nn.ModuleList)) and len(seq):
                return list(seq)
        layers = [getattr(self.model, f"layer{i}", None) for i in range(1, 5)]  # ResNets
        if all(isinstance(m, nn.Module) for m in layers):
            return [m for m in layers if m is not None]
        return [m for m in self.model.children() if not isinstance(m, nn.Identity)]

    def new_like(self, n_classes: int) -> TimmModel:
        """The same architecture and options, freshly initialised, with ``n_classes``."""
        timm = _timm()
        model = timm.create_model(
            self.arch.removeprefix("timm:"),
            pretrained=False,
            num_classes=n_classes,
            **self.arch_kwargs,
        )
        fresh = TimmModel(model, arch=self.arch.removeprefix("timm:"), model_args=self.arch_kwargs)
        fresh.input_shape = self.input_shape
        return fresh


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    if path.suffix in _TORCH_SUFFIXES:
        try:  # weights_only: tensors and plain containers only, no code runs
            state = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as exc:
            raise CheckpointError(
                f"Cannot read {str(path)!r} with torch.load(weights_only=True): {exc}"
            ) from exc
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        if not isinstance(state, dict):
            raise CheckpointError(f"{str(path)!r} holds no state dict ({type(state).__name__}).")
        return state
    raise CheckpointError(
        f"Unknown weights file {str(path)!r}: pass a .safetensors, .pth, .pt or .bin file."
    )


def _folder_config(folder: Path) -> tuple[str, dict[str, Any], Path]:
    """``(architecture, model_args, weights file)`` of a timm ``save_for_hf`` folder."""
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"No readable timm config.json in {str(folder)!r}: {exc}") from exc
    arch = config.get("architecture") if isinstance(config, dict) else None
    if not isinstance(arch, str) or not arch:
        raise CheckpointError(
            f"config.json in {str(folder)!r} names no timm 'architecture'; is this a "
            "Hugging Face transformers folder? Use load_hf()."
        )
    args = dict(config.get("model_args") or {})
    if "num_classes" in config:
        args.setdefault("num_classes", int(config["num_classes"]))
    weights = next((folder / f for f in _WEIGHT_FILES if (folder / f).is_file()), None)
    if weights is None:
        raise CheckpointError(f"No weights ({', '.join(_WEIGHT_FILES)}) in {str(folder)!r}.")
    return arch, args, weights


def is_timm_folder(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` holds a timm ``config.json`` (``architecture`` key)."""
    try:
        config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and isinstance(config.get("architecture"), str)


def load_timm(
    source: str | os.PathLike[str],
    *,
    arch: str | None = None,
    n_classes: int | None = None,
    pretrained: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    **model_args: Any,
) -> TimmModel:
    """Load a timm model from local weights, offline.

    ``source`` is one of:

    - a folder in timm's hub layout (``timm.models.save_for_hf``: ``config.json``
      with ``architecture`` and ``model_args``, ``model.safetensors`` or
      ``pytorch_model.bin``);
    - a weights file (``.safetensors``, or ``.pth``/``.pt``/``.bin`` read with
      ``torch.load(weights_only=True)``) with ``arch=`` naming the architecture;
    - a hub id such as ``timm/resnet10t.c3_in1k`` that is in the local Hugging Face
      cache, or a timm architecture name (``resnet10t``): its default pretrained tag
      is looked up in the cache; with ``pretrained=False`` the architecture is built
      with random weights instead.

    Weights are loaded strictly (every tensor must match). The classifier is then
    split off as the head; ``n_classes`` different from it replaces it.

    Args:
        source: See above.
        arch: timm architecture of a weights file.
        n_classes: Outputs of the head (default: the checkpoint's classifier).
        pretrained: False builds ``source`` (an architecture name) with random weights.
        cache_dir: Hugging Face cache to look hub ids up in (default: huggingface_hub's).
        **model_args: Options of ``timm.create_model`` (``img_size``, ``in_chans``, ...),
            overriding the folder's ``model_args``.

    Raises:
        ImportError: timm is not installed.
        UnknownNameError: A hub id / architecture whose weights are not cached (the
            download command named) or an unknown architecture.
        CheckpointError: Unreadable weights or weights that do not match.

    Example:
        >>> m = load_timm("resnet10t", pretrained=False, n_classes=3)
        >>> m.feature_dim, m.n_classes
        (512, 3)
    """
    timm = _timm()
    from kgtransfer.errors import UnknownNameError, did_you_mean

    path = Path(source)
    weights: Path | None
    args: dict[str, Any]
    folder: Path | None = path if path.is_dir() else None
    if path.is_file():
        if arch is None:
            raise CheckpointError(
                f"{str(path)!r} is a weights file: pass arch='<timm architecture>' (e.g. "
                "arch='resnet10t') to say which model it belongs to."
            )
        args, weights = {}, path
    elif path.is_dir() or not pretrained:
        if not pretrained and not path.is_dir():
            arch, args, weights = str(source).removeprefix("timm:"), {}, None
        else:
            arch, args, weights = _folder_config(path)
    else:
        name = str(source).removeprefix("timm:")
        if "/" not in name:
            if not timm.is_model(name.split(".")[0]):
                raise did_you_mean(
                    name, timm.list_models(), what="timm model", hint="See timm.list_models()."
                )
            cfg = timm.models.get_pretrained_cfg(name)
            hub_id = getattr(cfg, "hf_hub_id", None) if cfg is not None else None
            if not hub_id:
                raise UnknownNameError(
                    f"timm has no hub weights for {name!r}; pass a local weights file with "
                    "arch=..., or pretrained=False for random weights."
                )
            name = hub_id
        folder = resolve_pretrained(name, cache_dir=cache_dir)
        arch, args, weights = _folder_config(folder)
    args.update(model_args)
    if not timm.is_model(arch):
        raise did_you_mean(
            arch, timm.list_models(), what="timm model", hint="See timm.list_models()."
        )
    model = timm.create_model(arch, pretrained=False, **args)
    if weights is not None:
        state = _read_state(weights)
        own = model.state_dict()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        bad = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
        if missing or unexpected or bad:
            raise CheckpointError(
                f"{str(weights)!r} does not match timm {arch!r} {args}: missing {missing[:5]}, "
                f"unexpected {unexpected[:5]}, shape mismatches {bad[:5]}. Pass the options "
                "it was created with (img_size=..., num_classes=...)."
            )
        model.load_state_dict(state, strict=True)
    model.eval()
    args.pop("num_classes", None)
    wrapped = TimmModel(model, arch=arch, model_args=args)
    wrapped.source_info = {"folder": None if folder is None else str(folder)}
    if folder is not None and not path.is_dir():
        wrapped.source_info.update(hub_id=str(source).removeprefix("timm:"), revision=folder.name)
    if n_classes is not None and n_classes != wrapped.n_classes:
        wrapped.reset_classifier(n_classes)
    return wrapped.eval()
