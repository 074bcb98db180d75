"""Fingerprints, dataset similarity and the graph tables they feed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from kgtransfer.data import (
    dataset_metadata_table,
    dataset_similarity,
    fingerprint,
    from_arrays,
    load_dataset,
    similarity_table,
)
from kgtransfer.kg.tables import COLUMNS


class _Mean(nn.Module):
    """A tiny 'reference model': features are [mean, max] of the flattened input."""

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.flatten(1)
        return torch.stack([flat.mean(1), flat.amax(1)], dim=1)


def test_fingerprint_hand_computed() -> None:
    ds = from_arrays([[0.0, 2.0], [2.0, 2.0], [4.0, 2.0], [6.0, 2.0]], [0, 0, 0, 1], name="h")
    fp = fingerprint(ds)
    assert fp.n_samples == 4 and fp.n_classes == 2
    assert fp.class_counts.tolist() == [3, 1]
    p = np.array([0.75, 0.25])
    assert fp.balance_entropy == pytest.approx(-(p * np.log(p)).sum() / np.log(2))
    assert fp.value_stats[0] == pytest.approx(2.5)  # (0+2+4+6 + 4*2) / 8
    assert fp.feature_mean.tolist() == [3.0, 2.0]
    assert fp.feature_std[1] == 0.0


def test_stats_similarity_orders_neighbours() -> None:
    fps = {n: fingerprint(load_dataset(n)) for n in ["digits", "digits_noisy", "wine"]}
    near = dataset_similarity(fps["digits"], fps["digits_noisy"], method="stats")
    far = dataset_similarity(fps["digits"], fps["wine"], method="stats")
    assert 0.0 <= far < near <= 1.0
    assert dataset_similarity(fps["wine"], fps["wine"]) == 1.0
    # symmetry
    assert dataset_similarity(fps["wine"], fps["digits"]) == pytest.approx(far)


def test_embedding_similarity() -> None:
    model = _Mean()
    a = fingerprint(load_dataset("digits"), reference_model=model)
    b = fingerprint(load_dataset("digits_inverted"), reference_model=model)
    assert a.embedding_mean is not None and a.embedding_mean.shape == (2,)
    assert a.class_embeddings is not None and a.class_embeddings.shape == (10, 2)
    assert dataset_similarity(a, a, method="embedding") == pytest.approx(1.0)
    s = dataset_similarity(a, b, method="embedding")
    assert 0.0 <= s < 1.0
    plain = fingerprint(load_dataset("wine"))
    with pytest.raises(ValueError, match="has no embedding"):
        dataset_similarity(a, plain, method="embedding")
    with pytest.raises(ValueError, match="Unknown similarity method 'cosine'"):
        dataset_similarity(a, b, method="cosine")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="forward_features"):
        fingerprint(load_dataset("wine"), reference_model=object())


def test_fingerprint_subsample_is_seeded() -> None:
    ds = load_dataset("digits")
    a, b = fingerprint(ds, n_max=100, seed=3), fingerprint(ds, n_max=100, seed=3)
    c = fingerprint(ds, n_max=100, seed=4)
    assert np.array_equal(a.value_stats, b.value_stats)
    assert not np.array_equal(a.value_stats, c.value_stats)
    assert a.n_samples == len(ds) and a.metadata["n_used"] == 100


def test_similarity_table_contract_and_k() -> None:
    names = ["digits", "digits_noisy", "digits_rotated", "wine"]
    fps = {n: fingerprint(load_dataset(n)) for n in names}
    table = similarity_table(fps, method="stats")
    assert list(table.columns) == list(COLUMNS["similarities"])
    assert dict(table.dtypes.astype(str)) == COLUMNS["similarities"]
    assert len(table) == 6  # all unordered pairs
    assert (table["method"] == "stats").all()
    assert np.allclose(table["similarity"], np.exp(-table["distance"].astype(float)))
    top1 = similarity_table(list(fps.values()), method="stats", k=1)
    pairs = {frozenset(p) for p in zip(top1["dataset_a"], top1["dataset_b"], strict=True)}
    assert frozenset({"digits", "digits_noisy"}) in pairs
    assert len(top1) < len(table)
    assert all("wine" in p for p in pairs if "wine" in p)  # wine still has its nearest neighbour
    assert any("wine" in p for p in pairs)
    with pytest.raises(ValueError, match="k must be a positive int"):
        similarity_table(fps, k=0)


def test_dataset_metadata_table() -> None:
    table = dataset_metadata_table(
        {"p": load_dataset("digits_parity", split="all"), "i": load_dataset("iris", split="all")}
    )
    assert list(table.columns) == list(COLUMNS["datasets"])
    assert table["dataset"].tolist() == ["p", "i"]
    assert table["n_classes"].tolist() == [2.0, 3.0]
    assert table["n_samples"].tolist() == [1797.0, 150.0]
    assert table.loc[0, "task"] == "parity" and table.loc[1, "modality"] == "tabular"
    assert pd.isna(table.loc[0, "language"])
