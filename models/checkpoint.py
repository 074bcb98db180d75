"""Checkpoints: ``model.safetensors`` + ``config.json`` + a ``README.md`` model card.

Only safetensors weights are loaded; pickle files (``.pt``, ``.pth``, ``.bin``,
``.pkl``) are refused, since unpickling runs arbitrary code.
"""

from __future__ import annotations

import inspect
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeGuard

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save

from kgtransfer._io import atomic_write_bytes
from kgtransfer.errors import CheckpointError
from kgtransfer.models.base import ZooModel
from kgtransfer.models.card import write_card
from kgtransfer.models.registry import create_model, model_options

__all__ = [
    "MAX_CLASSES",
    "MAX_OPTION",
    "MAX_PARAMS",
    "load_checkpoint",
    "load_state_dict_file",
    "save_checkpoint",
]

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


#: Largest parameter count :func:`load_checkpoint` builds by default (4 GB in float32).
MAX_PARAMS = 1_000_000_000
#: Largest ``n_classes`` a checkpoint config may ask for.
MAX_CLASSES = 1_000_000
#: Largest integer architecture option (width, depth, ...) a checkpoint config may set.
MAX_OPTION = 4096
#: Largest input dimension and number of input dimensions a checkpoint config may set.
MAX_INPUT_DIM, MAX_INPUT_NDIM = 65_536, 4


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    _check_weights_present(path)
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"Corrupt safetensors file {str(path)!r}: {exc}") from exc


def _check_weights_present(path: Path) -> None:
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


def _safetensors_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor shapes from the safetensors header, without reading the tensors."""
    _check_weights_present(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            return {k: tuple(handle.get_slice(k).get_shape()) for k in handle.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"Corrupt safetensors file {str(path)!r}: {exc}") from exc


def _check_finite(state: dict[str, torch.Tensor], path: Path) -> None:
    bad = {
        k: int((~torch.isfinite(v)).sum())
        for k, v in state.items()
        if (v.is_floating_point() or v.is_complex()) and not bool(torch.isfinite(v).all())
    }
    if bad:
        named = ", ".join(f"{k} ({n})" for k, n in sorted(bad.items())[:5])
        raise CheckpointError(
            f"{str(path)!r} holds non-finite weights (NaN or inf) in {len(bad)} tensor(s): "
            f"{named}. The checkpoint is probably corrupt or diverged; pass "
            "allow_nonfinite=True to load it anyway."
        )


def load_state_dict_file(
    module: torch.nn.Module, path: str | os.PathLike[str], *, allow_nonfinite: bool = False
) -> None:
    """Load a safetensors state dict into ``module`` strictly.

    Args:
        module: The module to load into.
        path: A ``.safetensors`` file.
        allow_nonfinite: Load NaN or infinite weights too (refused by default).

    Raises:
        CheckpointError: Refused/corrupt file, missing, unexpected or mis-shaped tensors
            (all named), or non-finite weights (unless ``allow_nonfinite``).
    """
    path = Path(path)
    if path.suffix in PICKLE_SUFFIXES:
        raise CheckpointError(
            f"Refusing pickle file {str(path)!r}: only safetensors files are loaded."
        )
    _check_shapes(path, _safetensors_shapes(path), module.state_dict())
    state = _read_safetensors(path)
    if not allow_nonfinite:
        _check_finite(state, path)
    module.load_state_dict(state, strict=True)


def state_differences(
    shapes: Mapping[str, tuple[int, ...]],
    own: Mapping[str, torch.Tensor],
    *,
    prefix: str = "",
    against: str = "model",
) -> tuple[list[str], list[str], list[str]]:
    """How tensor ``shapes`` read from a file differ from a module's state ``own``.

    Returns:
        ``(missing, unexpected, mismatched)``, each sorted; a mismatch reads
        ``"<prefix><name>: file (a, b) vs <against> (c, d)"``.
    """
    missing = sorted(set(own) - set(shapes))
    unexpected = sorted(set(shapes) - set(own))
    mismatched = sorted(
        f"{prefix}{k}: file {tuple(shapes[k])} vs {against} {tuple(own[k].shape)}"
        for k in set(own) & set(shapes)
        if tuple(shapes[k]) != tuple(own[k].shape)
    )
    return missing, unexpected, mismatched


def _check_shapes(
    path: Path, shapes: dict[str, tuple[int, ...]], own: dict[str, torch.Tensor]
) -> None:
    missing, unexpected, mismatched = state_differences(shapes, own)
    if missing or unexpected or mismatched:
        raise CheckpointError(
            f"{str(path)!r} does not match the model: missing {missing[:5]}, unexpected "
            f"{unexpected[:5]}, shape mismatches {mismatched[:5]}. Use "
            "kgtransfer.transfer.WeightTransfer to copy what matches and report the rest."
        )


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_config(folder: Path) -> tuple[str, int, tuple[int, ...], dict[str, Any]]:
    """``(arch, n_classes, input_shape, arch_kwargs)`` of ``folder/config.json``, checked
    for types and sizes; nothing is built yet."""
    path = folder / CONFIG
    where = f"{CONFIG} in {str(folder)!r}"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(
            f"No {CONFIG} in {str(folder)!r}; pass a folder written by save_checkpoint()."
        ) from None
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"Unreadable {where}: {exc}") from exc
    if not isinstance(config, dict):
        raise CheckpointError(f"{where} must hold a JSON object, got {type(config).__name__}.")
    arch = config.get("arch")
    if not isinstance(arch, str) or not arch:
        raise CheckpointError(f"{where}: 'arch' must be an architecture name, got {arch!r}.")
    n_classes = config.get("n_classes")
    if not _is_int(n_classes) or not 1 <= n_classes <= MAX_CLASSES:
        raise CheckpointError(
            f"{where}: 'n_classes' must be an int in [1, {MAX_CLASSES:,}], got {n_classes!r}. "
            "For a genuine larger head, build the model with create_model() and load the "
            "weights with load_state_dict_file()."
        )
    shape = config.get("input_shape")
    if (
        not isinstance(shape, list)
        or not 1 <= len(shape) <= MAX_INPUT_NDIM
        or not all(_is_int(d) and 1 <= d <= MAX_INPUT_DIM for d in shape)
    ):
        raise CheckpointError(
            f"{where}: 'input_shape' must be a list of 1 to {MAX_INPUT_NDIM} ints in "
            f"[1, {MAX_INPUT_DIM:,}], got {shape!r}."
        )
    kwargs = config.get("arch_kwargs")
    if kwargs is None:
        kwargs = {}
    if not isinstance(kwargs, dict):
        raise CheckpointError(
            f"{where}: 'arch_kwargs' must be a JSON object, got {type(kwargs).__name__}."
        )
    return arch, n_classes, tuple(shape), _check_options(arch, kwargs, where)


def _option_problem(value: Any, default: Any) -> str | None:
    """What ``value`` should be, given the option's ``default``; None when it is fine."""
    bounded_int = f"an int in [0, {MAX_OPTION}]"
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "true or false"
    if _is_int(default):
        return None if _is_int(value) and 0 <= value <= MAX_OPTION else bounded_int
    if isinstance(default, float):
        ok = _is_int(value) or isinstance(value, float)
        return None if ok and math.isfinite(value) else "a finite number"
    if isinstance(default, str):
        return None if isinstance(value, str) else "a string"
    if isinstance(default, (tuple, list)):
        ok = isinstance(value, list) and len(value) <= 64
        ok = ok and all(_option_problem(v, 0 if _is_int(v) else 0.0) is None for v in value)
        return None if ok else f"a list of at most 64 numbers (ints in [0, {MAX_OPTION}])"
    # no default or None: any JSON scalar, integers bounded like sizes
    if value is None or isinstance(value, (bool, str)):
        return None
    if _is_int(value):
        return None if 0 <= value <= MAX_OPTION else bounded_int
    return None if isinstance(value, float) and math.isfinite(value) else "a JSON scalar"


def _check_options(arch: str, kwargs: dict[str, Any], where: str) -> dict[str, Any]:
    """``kwargs`` if ``arch`` accepts each option with a value of the default's type."""
    try:
        options = model_options(arch)
    except KeyError as exc:
        raise CheckpointError(f"{where}: {exc}") from None
    if options is not None:
        unknown = sorted(set(kwargs) - set(options))
        if unknown:
            raise CheckpointError(
                f"{where}: architecture {arch!r} does not take arch_kwargs {unknown}; it "
                f"accepts {sorted(options)}. Remove them from the config."
            )
    for key, value in kwargs.items():
        param = options.get(key) if options is not None else None
        default = param.default if param is not None else None
        expected = _option_problem(value, None if default is inspect.Parameter.empty else default)
        if expected is not None:
            raise CheckpointError(
                f"{where}: arch_kwargs[{key!r}] must be {expected}, got {value!r}. For a "
                "genuine larger model, build it with create_model() and load the weights "
                "with load_state_dict_file()."
            )
    return dict(kwargs)


def _meta_state(
    arch: str, n_classes: int, shape: tuple[int, ...], kwargs: dict[str, Any], where: str
) -> dict[str, torch.Tensor]:
    """The state dict of the model the config describes, built on the ``meta`` device
    (shapes only, no memory)."""
    try:
        with torch.device("meta"):
            model = create_model(arch, n_classes=n_classes, input_shape=shape, **kwargs)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise CheckpointError(f"{where} describes no buildable {arch!r}: {exc}") from exc
    return model.state_dict()


def load_checkpoint(
    folder: str | os.PathLike[str],
    *,
    allow_nonfinite: bool = False,
    max_params: int = MAX_PARAMS,
) -> ZooModel:
    """Rebuild a model saved by :func:`save_checkpoint` and load its weights strictly.

    Nothing is allocated before the config is checked: its types, sizes
    (``n_classes`` up to :data:`MAX_CLASSES`, integer options up to
    :data:`MAX_OPTION`), the options the architecture accepts, the parameter count
    (built on the ``meta`` device) and the tensor shapes in the weights file header.

    Args:
        folder: A folder written by :func:`save_checkpoint`.
        allow_nonfinite: Load NaN or infinite weights too (refused by default).
        max_params: Refuse models with more parameters than this.

    Raises:
        CheckpointError: Missing/corrupt config or weights, a pickle file, a config
            field of the wrong type or size or an option the architecture does not
            take (file and field named), too many parameters, a mismatch between
            config and weights, or non-finite weights.
    """
    folder = Path(folder)
    arch, n_classes, shape, kwargs = _read_config(folder)
    where = f"{CONFIG} in {str(folder)!r}"
    meta = _meta_state(arch, n_classes, shape, kwargs, where)
    n_params = sum(v.numel() for v in meta.values())
    if n_params > max_params:
        raise CheckpointError(
            f"{where} describes a {arch!r} with {n_params:,} parameters, more than "
            f"max_params={max_params:,}; pass a larger max_params to load_checkpoint() if "
            "the checkpoint is genuine and fits in memory."
        )
    _check_shapes(folder / WEIGHTS, _safetensors_shapes(folder / WEIGHTS), meta)
    model = create_model(arch, n_classes=n_classes, input_shape=shape, **kwargs)
    load_state_dict_file(model, folder / WEIGHTS, allow_nonfinite=allow_nonfinite)
    model.eval()
    return model
