"""Conformance of every registered dataset, and the registry's errors."""

from __future__ import annotations

import numpy as np
import pytest

from kgtransfer.data import (
    MODALITIES,
    ArrayDataset,
    add_dataset,
    from_arrays,
    list_datasets,
    load_dataset,
    register_dataset,
)
from kgtransfer.errors import UnknownNameError

ZOO_NAMES = [
    "digits",
    "digits_rotated",
    "digits_noisy",
    "digits_inverted",
    "digits_parity",
    "digits_0to4",
    "digits_blurred",
    "digits_shifted",
    "digits_5to9",
    "digits_gt4",
    "mnist1d",
    "mnist1d_noisy",
    "mnist1d_parity",
    "iris",
    "wine",
    "breast_cancer",
]


def test_the_names_others_build_on_are_registered() -> None:
    assert set(ZOO_NAMES) <= set(list_datasets())


@pytest.mark.parametrize("name", list_datasets())
def test_conformance(name: str) -> None:
    train = load_dataset(name, split="train", seed=0)
    test = load_dataset(name, split="test", seed=0)
    full = load_dataset(name, split="all")
    for ds in (train, test):
        assert isinstance(ds, ArrayDataset)
        assert ds.x.dtype == np.float32 and ds.y.dtype == np.int64
        assert ds.x.shape == (len(ds), *ds.input_shape)
        assert ds.modality in MODALITIES and ds.task and ds.domain
        assert ds.n_classes == len(ds.classes) >= 2
        # every class appears in both splits, labels are 0..C-1
        assert sorted(np.unique(ds.y).tolist()) == list(range(ds.n_classes))
        assert np.isfinite(ds.x).all()
    assert len(train) + len(test) == len(full)
    # disjoint: no full row lands in both splits (compare row bytes with labels)
    rows = {r.tobytes() + bytes([int(c)]) for r, c in zip(train.x, train.y, strict=True)}
    test_rows = [r.tobytes() + bytes([int(c)]) for r, c in zip(test.x, test.y, strict=True)]
    dup_in_full = len(full) - len(
        {r.tobytes() + bytes([int(c)]) for r, c in zip(full.x, full.y, strict=True)}
    )
    assert sum(r in rows for r in test_rows) <= dup_in_full
    again = load_dataset(name, split="train", seed=0)
    assert np.array_equal(again.x, train.x) and np.array_equal(again.y, train.y)
    other = load_dataset(name, split="train", seed=1)
    assert not np.array_equal(other.y, train.y) or not np.array_equal(other.x, train.x)
    assert train.metadata["split"] == "train" and train.metadata["split_seed"] == 0


def test_loaded_datasets_are_independent_copies() -> None:
    a = load_dataset("digits", split="train", seed=0)
    a.x[:] = 0.0
    b = load_dataset("digits", split="train", seed=0)
    assert b.x.max() == 1.0


def test_derived_domains_differ_from_the_base() -> None:
    base = load_dataset("digits", split="all")
    for name in [
        "digits_rotated",
        "digits_inverted",
        "digits_noisy",
        "digits_blurred",
        "digits_shifted",
    ]:
        ds = load_dataset(name, split="all")
        assert ds.x.shape == base.x.shape
        assert np.array_equal(ds.y, base.y)
        assert not np.allclose(ds.x, base.x), name
        assert ds.domain != base.domain
    rot = load_dataset("digits_rotated", split="all")
    assert np.array_equal(rot.x[0, 0], np.rot90(base.x[0, 0]))
    inv = load_dataset("digits_inverted", split="all")
    assert np.allclose(inv.x, 1.0 - base.x)


def test_derived_tasks_relabel() -> None:
    base = load_dataset("digits", split="all")
    assert base.metadata["source_version"].startswith("scikit-learn==")
    parity = load_dataset("digits_parity", split="all")
    assert parity.classes == ["even", "odd"]
    assert np.array_equal(parity.y, base.y % 2)
    gt4 = load_dataset("digits_gt4", split="all")
    assert np.array_equal(gt4.y, (base.y > 4).astype(np.int64))
    hi = load_dataset("digits_5to9", split="all")
    assert hi.classes == [5, 6, 7, 8, 9]
    assert len(hi) == int((base.y >= 5).sum())
    assert np.array_equal(np.asarray(hi.classes)[hi.y], base.y[base.y >= 5])
    m = load_dataset("mnist1d", split="all")
    mp = load_dataset("mnist1d_parity", split="all")
    assert np.array_equal(mp.y, m.y % 2) and np.array_equal(mp.x, m.x)
    assert not np.allclose(load_dataset("mnist1d_noisy", split="all").x, m.x)


def test_mnist1d_leaves_global_rng_alone() -> None:
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    load_dataset("mnist1d", split="all", num_samples=40, data_seed=7)
    assert np.random.rand() == expected


def test_unknown_name_suggests() -> None:
    with pytest.raises(UnknownNameError, match="Did you mean 'digits_rotated'"):
        load_dataset("digits_rotatd")
    with pytest.raises(KeyError, match="list_datasets"):
        load_dataset("nope")


def test_bad_split_and_duplicate_registration() -> None:
    with pytest.raises(ValueError, match="split must be one of"):
        load_dataset("iris", split="val")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("iris")(lambda: None)


def test_add_dataset_round_trip() -> None:
    rng = np.random.default_rng(0)
    ds = from_arrays(rng.normal(size=(40, 3)), ["a", "b"] * 20, name="user_toy_reg")
    assert add_dataset(ds, overwrite=True) == "user_toy_reg"
    assert "user_toy_reg" in list_datasets("user_*")
    train = load_dataset("user_toy_reg", split="train", seed=0)
    test = load_dataset("user_toy_reg", split="test", seed=0)
    assert (len(train), len(test)) == (30, 10)
    assert np.bincount(test.y).tolist() == [5, 5]


@pytest.mark.parametrize(
    ("variant", "base"),
    [("digits_5to9", "digits"), ("digits_parity", "digits_noisy"), ("mnist1d_parity", "mnist1d")],
)  # fmt: skip
def test_variants_of_one_pool_share_its_split(variant: str, base: str) -> None:
    """No test sample of one variant is (a transform of) a training sample of another."""
    from kgtransfer.data._builtin import _digits_arrays

    def pool_rows(name: str, split: str) -> set[bytes]:
        ds = load_dataset(name, split=split, seed=3)
        assert "_origin" not in ds.metadata and "_pool_labels" not in ds.metadata
        return {row.tobytes() for row in ds.x}

    # Identify samples through a variant that keeps the raw pixels / signals.
    raw = {"digits": "digits", "digits_5to9": "digits_5to9", "digits_parity": "digits_parity",
           "digits_noisy": "digits", "digits_blurred": "digits", "mnist1d": "mnist1d",
           "mnist1d_noisy": "mnist1d", "mnist1d_parity": "mnist1d_parity"}  # fmt: skip
    train_base = pool_rows(raw[base], "train")
    test_variant = pool_rows(raw[variant], "test")
    x, _ = _digits_arrays()
    n_duplicates = len(x) - len({row.tobytes() for row in x})  # the raw pool repeats a few images
    assert len(train_base & test_variant) <= n_duplicates
    assert len(load_dataset(variant, split="test", seed=3)) > 0
