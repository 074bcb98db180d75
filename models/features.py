"""Batched feature extraction and source-class probabilities for any ZooModel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from kgtransfer.models._device import resolve_device

__all__ = ["extract_features", "predict_proba"]


def _batches(data: Any, batch_size: int) -> Iterator[torch.Tensor]:
    if isinstance(data, DataLoader):
        for batch in data:
            yield batch[0] if isinstance(batch, (list, tuple)) else batch
        return
    x = getattr(data, "x", None)  # kgtransfer ArrayDataset
    if x is None and isinstance(data, (np.ndarray, torch.Tensor)):
        x = data
    if x is not None:
        x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
        for i in range(0, len(x), batch_size):
            yield x[i : i + batch_size].float()
        return
    if isinstance(data, Dataset):
        yield from _batches(DataLoader(data, batch_size=batch_size, shuffle=False), batch_size)
        return
    raise TypeError(
        f"Cannot read inputs from a {type(data).__name__}: pass a tensor, numpy array, "
        "torch Dataset/DataLoader or a kgtransfer dataset."
    )


def _check_device(model: nn.Module, device: str | torch.device) -> torch.device:
    device = resolve_device(device)
    where = {p.device for p in model.parameters()}
    if where and where != {device}:
        found = ", ".join(sorted(str(d) for d in where))
        raise ValueError(
            f"The model is on {found} but device={str(device)!r}; call model.to({str(device)!r}) "
            "first or pass the model's device."
        )
    return device


def _n(data: Any) -> int | None:
    try:
        n: int = len(data.dataset) if isinstance(data, DataLoader) else len(data)  # type: ignore[arg-type]
        return n
    except TypeError:
        return None


@torch.no_grad()
def extract_features(
    model: nn.Module,
    data: Any,
    *,
    layer: str | None = None,
    batch_size: int = 256,
    progress: bool = False,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Features of ``data`` under ``model``: penultimate by default, or a named layer.

    Args:
        model: A ZooModel (``forward_features``) or, with ``layer``, any module.
        data: Tensor, numpy array, torch Dataset/DataLoader or kgtransfer dataset.
        layer: Dotted submodule name (e.g. ``"body.1"``, or a Hugging Face hidden layer
            such as ``"backbone.vit.layers.0"``): its output, flattened per sample
            (of a tuple / ``ModelOutput``, the tensor :func:`output_features` picks).
        batch_size: Samples per forward pass.
        progress: Show a progress bar on stderr.
        device: Device the batches are moved to (``"cpu"``, ``"auto"``, ``"cuda"``, ...;
            see :func:`resolve_device`); the model must already be there.

    Returns:
        float32 array of shape (N, D).

    Example:
        >>> import torch
        >>> from kgtransfer.models import create_model
        >>> m = create_model("mlp", n_classes=3, input_shape=(4,), width=16)
        >>> extract_features(m, torch.zeros(5, 4)).shape
        (5, 16)
        >>> extract_features(m, torch.zeros(5, 4), layer="body.0.1").shape
        (5, 16)
    """
    device = _check_device(model, device)
    was_training = model.training
    model.eval()
    captured: list[torch.Tensor] = []
    hook = None
    if layer is not None:
        try:
            target = model.get_submodule(layer)
        except AttributeError:
            names = [n for n, _ in model.named_modules() if n]
            raise ValueError(f"Model has no layer {layer!r}; layers: {names}") from None
        hook = target.register_forward_hook(lambda _m, _i, out: captured.append(out))
    out: list[np.ndarray] = []
    try:
        bar = tqdm(total=_n(data), disable=not progress, desc="features", unit="sample")
        for x in _batches(data, batch_size):
            x = x.to(device)
            if layer is None:
                feats = model.forward_features(x)  # type: ignore[operator]
            else:
                captured.clear()
                model(x)
                feats = captured[-1]
                if not isinstance(feats, torch.Tensor):  # a tuple / ModelOutput (HF layers)
                    from kgtransfer.models.wrap import output_features

                    feats = output_features(feats)
            out.append(torch.flatten(feats, 1).float().cpu().numpy())
            bar.update(len(x))
        bar.close()
    finally:
        if hook is not None:
            hook.remove()
        model.train(was_training)
    if not out:
        raise ValueError("extract_features got no samples.")
    return np.concatenate(out)


@torch.no_grad()
def predict_proba(
    model: nn.Module,
    data: Any,
    *,
    batch_size: int = 256,
    progress: bool = False,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Softmax outputs of ``model`` on ``data``, shape (N, n_classes) (for LEEP-style scores)."""
    device = _check_device(model, device)
    was_training = model.training
    model.eval()
    try:
        parts = [
            torch.softmax(model(x.to(device)), dim=1).cpu().numpy()
            for x in tqdm(list(_batches(data, batch_size)), disable=not progress)
        ]
    finally:
        model.train(was_training)
    return np.concatenate(parts)
