"""Built-in datasets, all made from data shipped inside installed packages (no download).

- scikit-learn digits (1x8x8 images, values in [0, 1]) and derived domains and tasks;
- MNIST-1D signals (1x40) generated locally with ``mnist1d.data.make_dataset``;
- scikit-learn's bundled tabular sets (iris, wine, breast_cancer), standardised.
"""

from __future__ import annotations

import importlib.metadata
import random
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import ndimage

from kgtransfer.data.dataset import ArrayDataset
from kgtransfer.data.registry import keep_rows_meta, register_dataset, split_group_meta

__all__: list[str] = []

_DIGITS_CLASSES = list(range(10))


def _version(package: str) -> dict[str, str]:
    """``{"source_version": ...}`` of the package the data comes from (provenance)."""
    try:
        return {"source_version": f"{package}=={importlib.metadata.version(package)}"}
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return {"source_version": f"{package}==unknown"}


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (np.asarray(bunch.images, dtype=np.float32) / 16.0)[:, None, :, :]
    y = np.asarray(bunch.target, dtype=np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def _digits(name: str, domain: str, x: np.ndarray, **meta: Any) -> ArrayDataset:
    _, y = _digits_arrays()
    # Every digits variant is split by the underlying image (see registry.load_dataset), so
    # no test image of one variant is a training image of another.
    meta = {**split_group_meta("sklearn.load_digits", y), **meta}
    return ArrayDataset(
        x.astype(np.float32),
        y.copy(),
        classes=list(_DIGITS_CLASSES),
        name=name,
        modality="image",
        task="digit-classification",
        domain=domain,
        metadata={"source": "sklearn.datasets.load_digits", **_version("scikit-learn"), **meta},
    )


@register_dataset("digits")
def load_digits_clean() -> ArrayDataset:
    """scikit-learn's 8x8 handwritten digits, pixel values scaled to [0, 1]."""
    return _digits("digits", "digits-clean", _digits_arrays()[0])


@register_dataset("digits_rotated")
def load_digits_rotated(angle: int = 90) -> ArrayDataset:
    """Digits rotated by a multiple of 90 degrees (default 90, counter-clockwise)."""
    if angle % 90:
        raise ValueError(f"angle must be a multiple of 90, got {angle!r}; see digits_tilted.")
    x = np.rot90(_digits_arrays()[0], k=(angle // 90) % 4, axes=(2, 3))
    return _digits("digits_rotated", f"digits-rotated{angle % 360}", x, angle=angle)


@register_dataset("digits_tilted")
def load_digits_tilted(max_angle: float = 30.0, data_seed: int = 0) -> ArrayDataset:
    """Digits rotated by a random angle in [-max_angle, max_angle] degrees (bilinear)."""
    base = _digits_arrays()[0]
    angles = np.random.default_rng(data_seed).uniform(-max_angle, max_angle, len(base))
    x = np.stack(
        [
            ndimage.rotate(img, a, axes=(1, 2), reshape=False, order=1)
            for img, a in zip(base, angles, strict=True)
        ]
    )
    return _digits(
        "digits_tilted", "digits-tilted", np.clip(x, 0, 1), max_angle=max_angle, data_seed=data_seed
    )


@register_dataset("digits_inverted")
def load_digits_inverted() -> ArrayDataset:
    """Digits with inverted intensities (1 - x): dark strokes on a light background."""
    return _digits("digits_inverted", "digits-inverted", 1.0 - _digits_arrays()[0])


@register_dataset("digits_noisy")
def load_digits_noisy(noise_std: float = 0.25, data_seed: int = 0) -> ArrayDataset:
    """Digits plus seeded gaussian pixel noise, clipped back to [0, 1]."""
    base = _digits_arrays()[0]
    noise = np.random.default_rng(data_seed).normal(0.0, noise_std, base.shape)
    x = np.clip(base + noise, 0.0, 1.0)
    return _digits("digits_noisy", "digits-noisy", x, noise_std=noise_std, data_seed=data_seed)


@register_dataset("digits_blurred")
def load_digits_blurred(sigma: float = 1.0) -> ArrayDataset:
    """Digits blurred by a gaussian filter of width ``sigma`` pixels."""
    x = ndimage.gaussian_filter(_digits_arrays()[0], sigma=(0, 0, sigma, sigma))
    return _digits("digits_blurred", "digits-blurred", x, sigma=sigma)


@register_dataset("digits_shifted")
def load_digits_shifted(max_shift: int = 2, data_seed: int = 0) -> ArrayDataset:
    """Digits translated by a random whole number of pixels (up to ``max_shift``) per axis."""
    base = _digits_arrays()[0]
    shifts = np.random.default_rng(data_seed).integers(-max_shift, max_shift + 1, (len(base), 2))
    x = np.stack(
        [
            ndimage.shift(img, (0, int(dy), int(dx)), order=0, cval=0.0)
            for img, (dy, dx) in zip(base, shifts, strict=True)
        ]
    )
    return _digits("digits_shifted", "digits-shifted", x, max_shift=max_shift, data_seed=data_seed)


def _relabel(
    ds: ArrayDataset, keep: np.ndarray, mapping: np.ndarray, classes: list[Any], task: str
) -> ArrayDataset:
    return ArrayDataset(
        ds.x[keep],
        mapping[ds.y[keep]],
        classes=classes,
        name=ds.name,
        modality=ds.modality,
        task=task,
        domain=ds.domain,
        metadata=keep_rows_meta(ds.metadata, keep),
    )


def _digits_task(
    name: str,
    task: str,
    keep: Callable[[np.ndarray], np.ndarray],
    mapping: list[int],
    classes: list[Any],
) -> None:
    def load() -> ArrayDataset:
        base = _digits(name, "digits-clean", _digits_arrays()[0])
        return _relabel(base, keep(base.y), np.asarray(mapping), classes, task)

    load.__doc__ = f"Clean digits, task {task!r} with classes {classes}."
    register_dataset(name)(load)


_ALL10 = list(range(10))
_digits_task(
    "digits_parity",
    "parity",
    lambda y: np.ones(len(y), bool),
    [i % 2 for i in _ALL10],
    ["even", "odd"],
)
_digits_task(
    "digits_gt4",
    "greater-than-4",
    lambda y: np.ones(len(y), bool),
    [int(i > 4) for i in _ALL10],
    ["<=4", ">4"],
)
_digits_task(
    "digits_0to4",
    "digit-classification-0to4",
    lambda y: y <= 4,
    [0, 1, 2, 3, 4, 0, 0, 0, 0, 0],
    [0, 1, 2, 3, 4],
)
_digits_task(
    "digits_5to9",
    "digit-classification-5to9",
    lambda y: y >= 5,
    [0, 0, 0, 0, 0, 0, 1, 2, 3, 4],
    [5, 6, 7, 8, 9],
)


# --------------------------------------------------------------------------- MNIST-1D


@lru_cache(maxsize=4)
def _mnist1d_arrays(num_samples: int, data_seed: int) -> tuple[np.ndarray, np.ndarray]:
    from mnist1d.data import get_dataset_args, make_dataset  # heavy import, only when used

    args = get_dataset_args()
    args.num_samples = int(num_samples)
    args.seed = int(data_seed)
    args.train_split = 1.0  # we draw our own stratified split
    # make_dataset seeds numpy's and Python's global RNGs: leave the caller's untouched.
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        out = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    x = np.asarray(out["x"], dtype=np.float32)[:, None, :]
    y = np.asarray(out["y"], dtype=np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def _mnist1d(
    name: str, domain: str, task: str, num_samples: int, data_seed: int, **meta: Any
) -> ArrayDataset:
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 20:
        raise ValueError(f"num_samples must be an int >= 20 (2 per class), got {num_samples!r}.")
    x, y = _mnist1d_arrays(num_samples, data_seed)
    return ArrayDataset(
        x.copy(),
        y.copy(),
        classes=list(range(10)),
        name=name,
        modality="signal",
        task=task,
        domain=domain,
        metadata={
            "source": "mnist1d.data.make_dataset",
            **_version("mnist1d"),
            "num_samples": num_samples,
            "data_seed": data_seed,
            **split_group_meta(f"mnist1d(num_samples={num_samples}, data_seed={data_seed})", y),
            **meta,
        },
    )


@register_dataset("mnist1d")
def load_mnist1d(num_samples: int = 2000, data_seed: int = 42) -> ArrayDataset:
    """MNIST-1D (Greydanus 2020): 1x40 signals of 10 digit templates, generated locally."""
    return _mnist1d("mnist1d", "mnist1d-clean", "digit-classification", num_samples, data_seed)


@register_dataset("mnist1d_noisy")
def load_mnist1d_noisy(
    num_samples: int = 2000, data_seed: int = 42, noise_std: float = 0.5
) -> ArrayDataset:
    """MNIST-1D with extra seeded gaussian noise of ``noise_std`` (signals have unit std)."""
    ds = _mnist1d(
        "mnist1d_noisy",
        "mnist1d-noisy",
        "digit-classification",
        num_samples,
        data_seed,
        noise_std=noise_std,
    )
    rng = np.random.default_rng(data_seed + 1)
    ds.x = (ds.x + rng.normal(0.0, noise_std, ds.x.shape)).astype(np.float32)
    return ds


@register_dataset("mnist1d_parity")
def load_mnist1d_parity(num_samples: int = 2000, data_seed: int = 42) -> ArrayDataset:
    """MNIST-1D signals labelled even/odd."""
    ds = _mnist1d("mnist1d_parity", "mnist1d-clean", "parity", num_samples, data_seed)
    return _relabel(ds, np.ones(len(ds), bool), np.arange(10) % 2, ["even", "odd"], "parity")


# --------------------------------------------------------------------------- tabular


def _tabular(name: str, loader: str, task: str, domain: str) -> None:
    def load() -> ArrayDataset:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader)()
        x = np.asarray(bunch.data, dtype=np.float64)
        std = x.std(axis=0)
        x = (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)
        return ArrayDataset(
            x,
            np.asarray(bunch.target, dtype=np.int64),
            classes=[str(c) for c in bunch.target_names],
            name=name,
            modality="tabular",
            task=task,
            domain=domain,
            metadata={
                "source": f"sklearn.datasets.{loader}",
                **_version("scikit-learn"),
                "feature_names": [str(f) for f in bunch.feature_names],
                "standardised": "whole set, per feature (no labels used)",
            },
        )

    load.__doc__ = f"scikit-learn's bundled {name} table, each feature standardised."
    register_dataset(name)(load)


_tabular("iris", "load_iris", "iris-species", "botany-measurements")
_tabular("wine", "load_wine", "wine-cultivar", "wine-chemistry")
_tabular("breast_cancer", "load_breast_cancer", "tumour-diagnosis", "cell-nuclei-measurements")
