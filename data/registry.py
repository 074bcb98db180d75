"""The dataset registry: ``register_dataset``, ``load_dataset``, ``list_datasets``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

import numpy as np

from kgtransfer.data.dataset import ArrayDataset
from kgtransfer.data.split import split_by_mask, stratified_split, stratified_test_mask
from kgtransfer.registry import Registry

__all__ = ["add_dataset", "list_datasets", "load_dataset", "register_dataset"]

Loader = Callable[..., ArrayDataset]
L = TypeVar("L", bound=Loader)

_LOADERS: Registry[Loader] = Registry("dataset")
_CACHE: dict[tuple[str, tuple[tuple[str, Any], ...]], ArrayDataset] = {}
_SPLITS = ("train", "test", "all")

#: Fraction of each class held out as the test split when a loader sets none.
DEFAULT_TEST_SIZE = 0.25


def register_dataset(name: str, *, overwrite: bool = False) -> Callable[[L], L]:
    """Register a loader under ``name`` (decorator).

    The loader takes keyword arguments only and returns the *whole* dataset as an
    :class:`ArrayDataset`; :func:`load_dataset` draws the seeded, stratified
    train/test split (fraction ``metadata["test_size"]``, default 0.25).

    Raises:
        ArgumentError: ``name`` is not a non-empty string, or it is already registered
            and ``overwrite`` is False.

    Example:
        >>> import numpy as np
        >>> @register_dataset("toy_doc", overwrite=True)
        ... def load_toy() -> ArrayDataset:
        ...     return ArrayDataset(np.eye(8), np.arange(8) % 2, ["even", "odd"], name="toy_doc")
        >>> len(load_dataset("toy_doc", split="test"))
        2
    """
    _LOADERS.check_name(name)

    def decorate(fn: L) -> L:
        _LOADERS.add(name, fn, overwrite=overwrite)
        for key in [k for k in _CACHE if k[0] == name]:
            del _CACHE[key]
        return fn

    return decorate


def add_dataset(ds: ArrayDataset, *, name: str | None = None, overwrite: bool = False) -> str:
    """Register an in-memory dataset (e.g. from :func:`from_arrays`) so ``load_dataset`` finds it.

    Returns:
        The name it was registered under (``name`` or ``ds.name``).
    """
    key = name or ds.name
    frozen = ds.subset(np.arange(len(ds)))

    def load() -> ArrayDataset:
        return frozen

    register_dataset(key, overwrite=overwrite)(load)
    return key


def list_datasets(pattern: str = "*") -> list[str]:
    """Sorted names of registered datasets matching a shell-style ``pattern``.

    Example:
        >>> "digits_parity" in list_datasets("digits_*")
        True
    """
    return _LOADERS.list(pattern)


def _full(name: str, kwargs: dict[str, Any]) -> ArrayDataset:
    loader = _LOADERS.get(name)
    try:
        key: tuple[str, tuple[tuple[str, Any], ...]] | None = (name, tuple(sorted(kwargs.items())))
        hash(key)
    except TypeError:
        key = None
    if key is not None and key in _CACHE:
        return _CACHE[key]
    ds = loader(**kwargs)
    if not isinstance(ds, ArrayDataset):
        raise TypeError(
            f"The loader of dataset {name!r} returned a {type(ds).__name__}, not an ArrayDataset."
        )
    if key is not None:
        _CACHE[key] = ds
    return ds


#: Private metadata of built-ins derived from one pool of samples: the row of the pool each
#: sample comes from, and the pool's labels. ``load_dataset`` splits such datasets by pool
#: row, so every variant of a pool shares one train/test partition, and strips the keys.
_ORIGIN, _POOL_LABELS, SPLIT_GROUP = "_origin", "_pool_labels", "split_group"


def split_group_meta(group: str, pool_labels: np.ndarray) -> dict[str, Any]:
    """Metadata marking a dataset whose rows are the whole pool ``group`` (labels ``pool_labels``)."""
    labels = np.asarray(pool_labels, dtype=np.int64)
    return {SPLIT_GROUP: group, _ORIGIN: np.arange(len(labels)), _POOL_LABELS: labels}


def keep_rows_meta(metadata: dict[str, Any], keep: np.ndarray) -> dict[str, Any]:
    """``metadata`` for the rows ``keep`` (bool mask or indices) of a dataset: origins sliced."""
    out = dict(metadata)
    if _ORIGIN in out:
        out[_ORIGIN] = np.asarray(out[_ORIGIN])[keep]
    return out


def _strip(ds: ArrayDataset) -> ArrayDataset:
    ds.metadata.pop(_ORIGIN, None)
    ds.metadata.pop(_POOL_LABELS, None)
    return ds


def _pool_split(
    full: ArrayDataset, test_size: float, seed: int
) -> tuple[ArrayDataset, ArrayDataset]:
    """Split ``full`` by the stratified split of its sample pool (same seed, same test size)."""
    labels = np.asarray(full.metadata[_POOL_LABELS])
    classes = list(range(int(labels.max()) + 1))
    name = str(full.metadata[SPLIT_GROUP])
    pool_is_test = stratified_test_mask(labels, classes, test_size, seed=seed, name=name)
    return split_by_mask(
        full, pool_is_test[np.asarray(full.metadata[_ORIGIN])], test_size, seed=seed
    )


def load_dataset(
    name: str,
    *,
    split: Literal["train", "test", "all"] = "train",
    seed: int = 0,
    test_size: float | None = None,
    **kwargs: object,
) -> ArrayDataset:
    """Load a registered dataset's seeded, stratified train or test split (or all of it).

    The same ``(name, seed, test_size, kwargs)`` always gives the same rows, and the
    train and test splits of one seed are disjoint. Nothing touches the network.

    Args:
        name: A name from :func:`list_datasets`.
        split: ``"train"``, ``"test"`` or ``"all"``.
        seed: Seed of the train/test split.
        test_size: Held-out fraction per class; default the loader's ``metadata["test_size"]``
            or 0.25.
        **kwargs: Passed to the loader (e.g. ``num_samples`` for ``mnist1d``).

    Returns:
        A fresh :class:`ArrayDataset`; its ``metadata`` records ``split`` and ``split_seed``.

    Raises:
        UnknownNameError: ``name`` is not registered (close names are suggested).
        ValueError: ``split`` is not one of train/test/all.

    Example:
        >>> ds = load_dataset("digits", split="test", seed=0)
        >>> ds.input_shape, ds.n_classes
        ((1, 8, 8), 10)
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}, got {split!r}.")
    full = _full(name, kwargs)
    if split == "all":
        return _strip(full.subset(np.arange(len(full)), split="all", loader_kwargs=dict(kwargs)))
    size = test_size if test_size is not None else full.metadata.get("test_size", DEFAULT_TEST_SIZE)
    if _ORIGIN in full.metadata:
        train, test = _pool_split(full, float(size), seed)
    else:
        train, test = stratified_split(full, float(size), seed=seed)
    out = _strip(train if split == "train" else test)
    out.metadata["loader_kwargs"] = dict(kwargs)
    return out
