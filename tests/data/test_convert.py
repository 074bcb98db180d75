"""Users' own data: from_arrays, from_csv, from_torch and their errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from kgtransfer.data import ArrayDataset, from_arrays, from_csv, from_torch


def test_from_arrays_encodes_labels() -> None:
    ds = from_arrays(np.ones((4, 2)), ["dog", "cat", "dog", "emu"], name="pets", modality="tabular")
    assert ds.classes == ["cat", "dog", "emu"]
    assert ds.y.tolist() == [1, 0, 1, 2]
    assert ds.x.dtype == np.float32 and ds.input_shape == (2,)
    ordered = from_arrays(np.ones((3, 1)), [1, 0, 1], name="o", classes=[1, 0])
    assert ordered.y.tolist() == [0, 1, 0] and ordered.classes == [1, 0]
    x, y = ds[1]
    assert isinstance(x, torch.Tensor) and y == 0
    xt, yt = ds.to_tensors()
    assert xt.dtype == torch.float32 and yt.dtype == torch.int64


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        (np.ones((3, 2)), [0, 1], "x has 3 rows but y has 2"),
        (np.ones((3, 2)), [0, np.nan, 1], "1 labels are missing"),
        (np.ones((3, 2)), [0, None, 1], "1 labels are missing"),
        (np.ones((3, 2)), [1, 1, 1], "at least 2 classes"),
        (np.array([["a", "b"], ["c", "d"]]), [0, 1], "features must be numeric"),
    ],
)
def test_from_arrays_errors(x: np.ndarray, y: list[object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        from_arrays(x, y, name="bad")


def test_from_arrays_unknown_class_and_modality() -> None:
    with pytest.raises(ValueError, match=r"labels \['z'\] are not in classes"):
        from_arrays(np.ones((2, 1)), ["a", "z"], name="c", classes=["a", "b"])
    with pytest.raises(ValueError, match="unknown modality 'audio'"):
        from_arrays(np.ones((2, 1)), [0, 1], name="m", modality="audio")


def test_array_dataset_rejects_bad_codes() -> None:
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.1"):
        ArrayDataset(np.ones((2, 1)), np.array([0, 2]), classes=["a", "b"], name="codes")


def test_from_csv_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "flowers.csv"
    path.write_text("petal,sepal,kind\n1.0,2.0,rose\n3.0,4.0,tulip\n5.0,6.0,rose\n")
    ds = from_csv(path, label_column="kind")
    assert ds.name == "flowers" and ds.classes == ["rose", "tulip"]
    assert ds.x.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert ds.metadata["feature_names"] == ["petal", "sepal"]


def test_from_csv_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("colour,size,kind\nred,1,a\nblue,2,b\n")
    with pytest.raises(ValueError, match=r"feature column\(s\) \['colour'\] are not numeric"):
        from_csv(path, label_column="kind")
    assert from_csv(path, label_column="kind", feature_columns=["size"]).input_shape == (1,)
    with pytest.raises(ValueError, match=r"no column\(s\) \['label'\]"):
        from_csv(path, label_column="label")
    with pytest.raises(FileNotFoundError, match="No CSV file"):
        from_csv(tmp_path / "missing.csv", label_column="kind")


def test_from_torch() -> None:
    x = torch.arange(12, dtype=torch.float32).reshape(6, 1, 2)
    y = torch.tensor([2, 0, 2, 0, 2, 0])
    ds = from_torch(TensorDataset(x, y), name="td", modality="signal")
    assert ds.classes == [0, 2] and ds.y.tolist() == [1, 0, 1, 0, 1, 0]
    assert np.array_equal(ds.x, x.numpy()) and ds.input_shape == (1, 2)
    with pytest.raises(ValueError, match="empty"):
        from_torch(TensorDataset(x[:0], y[:0]), name="e")
