"""Can a source model take a target's inputs? One answer for ``recommend`` and ``transfer_from``.

The decision uses only what the graph knows about a model (its ``models`` row: the
``architecture`` and the numeric input contract of
:data:`kgtransfer.models.INPUT_CONTRACT_FIELDS`) and the shape of one target sample:

1. The contract is known and equals the target's sample shape (for text: the target
   holds token ids) → the source **reads** the inputs as they are: every method,
   distillation into another architecture included, applies.
2. The architecture is one of the model registry's and can be built for the target's
   sample shape (``create_model(arch, input_shape=...)`` accepts it) → the source
   **adapts**: ``transfer_from`` rebuilds it for the target's inputs and fine-tunes,
   copying the weights that fit and adapting or re-initialising the rest (e.g. a new
   input layer of an MLP, the first convolution's channels), as its report says.
3. The contract is known but differs, and the architecture cannot be rebuilt
   (a timm or Hugging Face model expecting another shape, a 1-D CNN given flat
   features) → **incompatible**, with the reason.
4. Neither the contract nor the architecture is known (e.g. the public benchmark
   zoos), or the target's sample shape is unknown → counted as compatible and
   flagged **unknown**.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Compatibility", "input_compatibility", "sample_shape"]


@dataclass(frozen=True)
class Compatibility:
    """Whether a source can take a target's inputs, how, and why.

    Attributes:
        compatible: False only when the source cannot take the inputs (case 3).
        how: ``"reads"``, ``"adapts"``, ``"unknown"`` or ``"incompatible"``.
        why: One sentence for users (the reason, or the adaptation made).
    """

    compatible: bool
    how: str
    why: str


def _number(value: Any) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if math.isfinite(number) and number > 0 else None


def _text(value: Any) -> str | None:
    from kgtransfer.kg.tables import is_na

    if is_na(value):
        return None
    text = str(value).strip()
    return text or None


def contract_shape(contract: Mapping[str, Any]) -> tuple[int, ...] | None:
    """The sample shape a ``models`` row says the model reads (None when unknown)."""
    from kgtransfer.models import INPUT_CONTRACT_FIELDS

    get = {k: _number(contract.get(k)) for k in INPUT_CONTRACT_FIELDS}
    modality = _text(contract.get("modality"))
    if modality == "text" and get["input_length"]:
        return (get["input_length"],)
    if get["input_channels"] and get["input_height"] and get["input_width"]:
        return (get["input_channels"], get["input_height"], get["input_width"])
    if get["input_channels"] and get["input_length"]:
        return (get["input_channels"], get["input_length"])
    if get["n_features"]:
        return (get["n_features"],)
    return None


@functools.lru_cache(maxsize=256)
def _builds(arch: str, shape: tuple[int, ...]) -> str | None:
    """None when the registry builds ``arch`` for inputs of ``shape``, else why not."""
    import torch

    from kgtransfer.models import create_model

    try:
        with torch.random.fork_rng(devices=[]):
            create_model(arch, n_classes=2, input_shape=shape)
    except (ValueError, TypeError, RuntimeError) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


def _registry_arch(contract: Mapping[str, Any]) -> str | None:
    from kgtransfer.models import list_models

    arch = _text(contract.get("architecture"))
    library = _text(contract.get("library_name"))
    if arch is None or library not in (None, "kgtransfer"):
        return None
    return arch if arch in list_models() else None


def _show(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "(unknown)"
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def sample_shape(data: Any) -> tuple[int, ...] | None:
    """The shape of one sample of ``data`` (an ``ArrayDataset`` or arrays), or None."""
    if data is None:
        return None
    shape = getattr(data, "input_shape", None)
    if shape is None and hasattr(data, "x"):
        shape = getattr(data.x, "shape", (None,))[1:]
    if shape is None and hasattr(data, "shape"):
        shape = data.shape[1:]
    if not shape:
        return None
    return tuple(int(d) for d in shape)


def input_compatibility(
    contract: Mapping[str, Any],
    shape: tuple[int, ...] | None,
    modality: str | None = None,
) -> Compatibility:
    """Whether a source with ``contract`` can be transferred to inputs of ``shape``.

    See the module docstring for the four cases. ``recommend`` calls it on every
    candidate's ``models`` row; ``transfer_from`` on the loaded source's
    :func:`kgtransfer.models.source_metadata` before it builds the target model, so
    both give the same answer in the same words.

    Args:
        contract: A ``models`` row (``architecture``, ``library_name``, ``modality``
            and the numeric input contract fields), or ``source_metadata(model)``.
        shape: The shape of one target sample (None: unknown).
        modality: The target's modality (``"text"`` targets hold token ids).

    Returns:
        A :class:`Compatibility`.

    Example:
        >>> input_compatibility({"architecture": "cnn1d"}, (13,)).compatible
        False
        >>> input_compatibility({"architecture": "mlp", "n_features": 64.0}, (13,)).how
        'adapts'
        >>> input_compatibility({"architecture": "vit_x", "library_name": "timm"}, (13,)).how
        'unknown'
    """
    expected = contract_shape(contract)
    source_modality = _text(contract.get("modality"))
    if shape is None:
        return Compatibility(True, "unknown", "the target's input shape is unknown: not checked")
    shape = tuple(int(d) for d in shape)
    vocab = _number(contract.get("vocab_size"))
    if source_modality == "text" and vocab is not None:
        if len(shape) != 1:
            return Compatibility(
                False,
                "incompatible",
                f"a text model (token ids, vocabulary {vocab}) cannot read inputs {_show(shape)}",
            )
        if modality == "text":
            return Compatibility(True, "reads", f"reads token-id sequences {_show(shape)}")
        return Compatibility(
            True,
            "unknown",
            f"a text model: reads the target's {_show(shape)} values only if they are token "
            f"ids below {vocab}",
        )
    if expected is not None and expected == shape:
        return Compatibility(True, "reads", f"reads the target's inputs {_show(shape)} as they are")
    arch = _registry_arch(contract)
    if arch is not None:
        why_not = _builds(arch, shape)
        if why_not is None and expected is None:
            return Compatibility(
                True,
                "adapts",
                f"{arch} builds for the target's inputs {_show(shape)} (the shape it was "
                "trained on is not in the graph): fine-tuning copies the weights that fit and "
                "adapts or re-initialises the rest",
            )
        if why_not is None:
            return Compatibility(
                True,
                "adapts",
                f"{arch} (trained on {_show(expected)}) is rebuilt for the target's inputs "
                f"{_show(shape)}: fine-tuning copies the weights that fit and adapts or "
                "re-initialises the input layer",
            )
        return Compatibility(False, "incompatible", f"{arch} cannot take inputs: {why_not}")
    if expected is not None:
        return Compatibility(
            False,
            "incompatible",
            f"expects inputs {_show(expected)}, the target's are {_show(shape)}",
        )
    return Compatibility(
        True, "unknown", "input contract unknown (not in the graph): assumed compatible"
    )
