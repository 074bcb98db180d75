"""Seeded, stratified train/test splits and few-shot subsets."""

from __future__ import annotations

from typing import Any

import numpy as np

from kgtransfer.data.dataset import ArrayDataset

__all__ = ["few_shot", "stratified_split"]


def _check_seed(seed: int) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}.")


def stratified_split(
    ds: ArrayDataset, test_size: float = 0.25, *, seed: int = 0
) -> tuple[ArrayDataset, ArrayDataset]:
    """Split ``ds`` into train and test with the class proportions kept in both.

    Each class c with n_c samples gives ``round(test_size * n_c)`` test samples,
    clipped so that train and test both get at least one. The result depends only
    on ``(ds, test_size, seed)``; rows keep their original order inside each split.

    Args:
        ds: The dataset to split.
        test_size: Fraction of each class put in the test split, in (0, 1).
        seed: Seed of the per-class permutations.

    Returns:
        ``(train, test)``; their metadata record ``split`` and ``split_seed``.

    Raises:
        ValueError: ``test_size`` outside (0, 1), or a present class has a single sample.

    Example:
        >>> import numpy as np
        >>> ds = ArrayDataset(np.arange(8.0)[:, None], np.array([0, 0, 0, 0, 1, 1, 1, 1]), [0, 1])
        >>> train, test = stratified_split(ds, 0.5, seed=0)
        >>> np.bincount(train.y).tolist(), np.bincount(test.y).tolist()
        ([2, 2], [2, 2])
    """
    is_test = stratified_test_mask(ds.y, ds.classes, test_size, seed=seed, name=ds.name)
    return split_by_mask(ds, is_test, test_size, seed=seed)


def stratified_test_mask(
    y: np.ndarray, classes: list[Any], test_size: float, *, seed: int, name: str = ""
) -> np.ndarray:
    """The test rows of :func:`stratified_split` for labels ``y`` (codes into ``classes``)."""
    _check_seed(seed)
    if not 0.0 < float(test_size) < 1.0:
        raise ValueError(f"test_size must be a fraction in (0, 1), got {test_size!r}.")
    rng = np.random.default_rng(seed)
    test_idx: list[np.ndarray] = []
    for c in range(len(classes)):
        idx = np.flatnonzero(y == c)
        if len(idx) == 0:
            continue
        if len(idx) < 2:
            raise ValueError(
                f"Dataset {name!r}: class {classes[c]!r} has 1 sample, so it cannot be in "
                "both train and test. Remove it (e.g. with ds.subset) or gather more samples."
            )
        n_test = int(np.clip(round(test_size * len(idx)), 1, len(idx) - 1))
        test_idx.append(rng.permutation(idx)[:n_test])
    is_test = np.zeros(len(y), dtype=bool)
    if test_idx:
        is_test[np.concatenate(test_idx)] = True
    return is_test


def split_by_mask(
    ds: ArrayDataset, is_test: np.ndarray, test_size: float, *, seed: int
) -> tuple[ArrayDataset, ArrayDataset]:
    """``(train, test)`` of ``ds`` for a boolean test mask, recording the split's seed and size."""
    meta = {"split_seed": int(seed), "test_size": float(test_size)}
    return (
        ds.subset(np.flatnonzero(~is_test), split="train", **meta),
        ds.subset(np.flatnonzero(is_test), split="test", **meta),
    )


def few_shot(ds: ArrayDataset, n_per_class: int, *, seed: int = 0) -> ArrayDataset:
    """Exactly ``n_per_class`` samples of every class, drawn without replacement.

    Args:
        ds: The dataset to draw from.
        n_per_class: Samples kept per class (>= 1).
        seed: Seed of the draw.

    Returns:
        A dataset of ``n_per_class * ds.n_classes`` rows, in their original order.

    Raises:
        ValueError: ``n_per_class`` < 1 or some class has fewer samples.

    Example:
        >>> import numpy as np
        >>> ds = ArrayDataset(np.arange(6.0)[:, None], np.array([0, 1, 0, 1, 0, 1]), ["a", "b"])
        >>> np.bincount(few_shot(ds, 2, seed=1).y).tolist()
        [2, 2]
    """
    _check_seed(seed)
    if (
        isinstance(n_per_class, bool)
        or not isinstance(n_per_class, (int, np.integer))
        or n_per_class < 1
    ):
        raise ValueError(f"n_per_class must be a positive int, got {n_per_class!r}.")
    counts = ds.class_counts()
    short = {ds.classes[c]: int(n) for c, n in enumerate(counts) if n < n_per_class}
    if short:
        raise ValueError(
            f"Dataset {ds.name!r}: few_shot needs {n_per_class} samples per class but these "
            f"classes have fewer (class: count) {short}. Lower n_per_class to at most "
            f"{int(counts.min())} or use a larger split."
        )
    rng = np.random.default_rng(seed)
    keep = [
        rng.choice(np.flatnonzero(ds.y == c), n_per_class, replace=False)
        for c in range(ds.n_classes)
    ]
    idx = np.sort(np.concatenate(keep))
    return ds.subset(idx, few_shot=int(n_per_class), few_shot_seed=int(seed))
