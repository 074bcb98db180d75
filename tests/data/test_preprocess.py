"""Cleaning reports, augmentation, splits and few-shot subsets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kgtransfer.data import (
    Augment,
    augment,
    clean,
    few_shot,
    from_arrays,
    load_dataset,
    stratified_split,
)


def _toy() -> object:
    x = np.array(
        [
            [1.0, 7.0, 0.0],
            [1.0, 7.0, 0.0],  # exact duplicate of row 0
            [2.0, 7.0, 1.0],
            [np.nan, 7.0, 2.0],  # NaN
            [3.0, 7.0, np.inf],  # inf
            [4.0, 7.0, 3.0],
            [4.0, 7.0, 3.0],  # duplicate inputs, different label -> conflict
            [5.0, 7.0, 4.0],
        ]
    )
    y = ["a", "a", "b", "a", "b", "a", "b", "b"]
    return from_arrays(x, y, name="toy")


def test_clean_drops_and_reports_each_change() -> None:
    out, rep = clean(_toy(), errors="collect")
    assert rep.n_before == 8 and rep.n_after == 5
    assert rep.dropped_nonfinite == [3, 4]
    assert rep.dropped_duplicates == [1]
    assert rep.conflicting_duplicates == [6]
    assert rep.dropped_features == [1]  # the constant column 7.0
    assert out.x.shape == (5, 2)
    assert any("different label" in msg for msg in rep.issues)
    assert rep.changed and "dropped 1 exact duplicate rows" in rep.summary()


def test_clean_counts_exactly() -> None:
    out, rep = clean(_toy(), errors="collect")
    # rows kept: 0, 2, 5, 6, 7 (1 dup, 3 NaN, 4 inf removed)
    assert len(out) == 5 and rep.n_after == 5
    assert out.x.tolist() == [[1.0, 0.0], [2.0, 1.0], [4.0, 3.0], [4.0, 3.0], [5.0, 4.0]]
    assert out.y.tolist() == [0, 1, 0, 1, 1]
    assert rep.class_counts == {"a": 2, "b": 3}
    assert rep.imbalance_ratio == pytest.approx(1.5)


def test_clean_impute_keeps_rows() -> None:
    out, rep = clean(_toy(), nonfinite="impute", drop_duplicates=False, errors="collect")
    assert rep.imputed == 2 and rep.dropped_nonfinite == [] and len(out) == 8
    # column 0 median over finite values [1, 1, 2, 3, 4, 4, 5] is 3
    assert out.x[3, 0] == 3.0
    assert np.isfinite(out.x).all()


def test_clean_error_modes() -> None:
    with pytest.raises(ValueError, match="different label"):
        clean(_toy())
    with pytest.warns(UserWarning, match="different label"):
        clean(_toy(), errors="warn")
    with pytest.raises(
        ValueError, match="errors must be 'raise', 'warn' or 'collect', got 'ignore'"
    ):
        clean(_toy(), errors="ignore")  # type: ignore[arg-type]
    x = np.arange(24, dtype=float).reshape(12, 2)
    imbalanced = from_arrays(x, [0] * 11 + [1], name="imb")
    with pytest.raises(ValueError, match=r"fewer than 2 samples.*imbalance ratio 11\.0"):
        clean(imbalanced)


def test_clean_keeps_image_shape() -> None:
    ds = load_dataset("digits", split="test", seed=0)
    out, rep = clean(ds, errors="collect")
    assert out.input_shape == (1, 8, 8)
    assert rep.constant_features and rep.dropped_features == []  # corner pixels are always 0


def test_stratified_split_deterministic_and_disjoint() -> None:
    ds = from_arrays(np.arange(40.0)[:, None], [0] * 30 + [1] * 10, name="s")
    tr, te = stratified_split(ds, 0.2, seed=5)
    tr2, te2 = stratified_split(ds, 0.2, seed=5)
    assert np.array_equal(te.x, te2.x) and np.array_equal(tr.x, tr2.x)
    assert np.bincount(te.y).tolist() == [6, 2]
    assert set(tr.x[:, 0]).isdisjoint(te.x[:, 0]) and len(tr) + len(te) == 40
    _, te3 = stratified_split(ds, 0.2, seed=6)
    assert not np.array_equal(te.x, te3.x)
    with pytest.raises(ValueError, match="test_size"):
        stratified_split(ds, 1.5)
    single = from_arrays(np.arange(5.0)[:, None], [0, 0, 0, 0, 1], name="one")
    with pytest.raises(ValueError, match="class 1 has 1 sample"):
        stratified_split(single, 0.5)


def test_few_shot_counts_and_errors() -> None:
    ds = load_dataset("digits", split="train", seed=0)
    fs = few_shot(ds, 3, seed=0)
    assert np.bincount(fs.y, minlength=10).tolist() == [3] * 10
    assert np.array_equal(few_shot(ds, 3, seed=0).x, fs.x)
    assert not np.array_equal(few_shot(ds, 3, seed=1).x, fs.x)
    assert fs.metadata["few_shot"] == 3 and fs.metadata["few_shot_seed"] == 0
    small = from_arrays(np.arange(5.0)[:, None], ["a", "a", "a", "b", "b"], name="small")
    with pytest.raises(ValueError, match=r"\{'b': 2\}"):
        few_shot(small, 3)
    with pytest.raises(ValueError, match="positive int"):
        few_shot(small, 0)


@pytest.mark.parametrize(
    ("modality", "shape"), [("image", (3, 1, 8, 8)), ("signal", (3, 1, 40)), ("tabular", (3, 5))]
)
def test_augment_seeded_and_pure(modality: str, shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(0).random(shape).astype(np.float32)
    before = x.copy()
    a, b = augment(x, modality, seed=1), augment(x, modality, seed=1)
    assert np.array_equal(a, b) and a.shape == x.shape and a.dtype == np.float32
    assert not np.array_equal(a, augment(x, modality, seed=2))
    assert not np.allclose(a, x)
    assert np.array_equal(x, before)


def test_augment_image_shift_moves_pixels() -> None:
    x = torch.zeros(50, 1, 5, 5)
    x[:, 0, 2, 2] = 1.0
    out = Augment("image", seed=0, noise_std=0.0, max_shift=1)(x)
    peaks = out.flatten(1).argmax(1)
    assert (out.sum(dim=(1, 2, 3)) == 1.0).all()  # a 1-pixel shift keeps the centre pixel
    assert len(set(peaks.tolist())) > 1


def test_augment_errors() -> None:
    with pytest.raises(ValueError, match="modality 'text'"):
        Augment("text")
    with pytest.raises(ValueError, match="4 dimensions"):
        Augment("image")(torch.zeros(2, 8, 8))
