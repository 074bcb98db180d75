"""Users' own data as an :class:`ArrayDataset`: from arrays, a CSV file or a torch dataset."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from kgtransfer.data.dataset import ArrayDataset

__all__ = ["from_arrays", "from_csv", "from_torch"]


def _features(x: Any, name: str) -> np.ndarray:
    arr = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(
            f"Dataset {name!r}: features must be numeric, got dtype {arr.dtype}. Encode text or "
            "categorical columns as numbers first (e.g. pandas.get_dummies)."
        )
    if arr.ndim == 1:
        arr = arr[:, None]
    return arr.astype(np.float32)


def _labels(y: Any, name: str) -> tuple[np.ndarray, list[Any]]:
    arr = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"Dataset {name!r}: labels must be 1-D, got shape {arr.shape}.")
    missing = pd.isna(pd.Series(arr, dtype=object)).to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing)[:5].tolist()
        raise ValueError(
            f"Dataset {name!r}: {int(missing.sum())} labels are missing (NaN/None), first rows "
            f"{rows}. Drop those rows or give them a label before building the dataset."
        )
    classes, codes = np.unique(arr, return_inverse=True)
    return codes.astype(np.int64), [c.item() if hasattr(c, "item") else c for c in classes]


def from_arrays(
    x: Any,
    y: Any,
    *,
    name: str,
    modality: str = "tabular",
    task: str = "classification",
    domain: str | None = None,
    classes: list[Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> ArrayDataset:
    """Build a dataset from inputs and labels of any hashable values.

    Labels are encoded with ``np.unique`` (``classes`` sorted), unless ``classes``
    gives the order explicitly (then every label must be in it).

    Args:
        x: Numeric inputs, shape (N, *input_shape); a 1-D array becomes (N, 1).
        y: Labels, shape (N,); any hashable values.
        name: Dataset name.
        modality: ``"image"``, ``"signal"``, ``"tabular"`` or ``"text"``.
        task: What is predicted.
        domain: Where inputs come from (default: ``name``).
        classes: Optional explicit class order.
        metadata: Extra provenance.

    Raises:
        ValueError: lengths differ, labels missing, a single class, non-numeric features,
            or a label outside ``classes``.

    Example:
        >>> ds = from_arrays([[0.0], [1.0], [2.0]], ["cat", "dog", "cat"], name="pets")
        >>> ds.classes, ds.y.tolist()
        (['cat', 'dog'], [0, 1, 0])
    """
    xs = _features(x, name)
    if len(xs) != len(y):
        raise ValueError(
            f"Dataset {name!r}: x has {len(xs)} rows but y has {len(y)} labels; they must match."
        )
    codes, found = _labels(y, name)
    if classes is not None:
        order = {c: i for i, c in enumerate(classes)}
        unknown = [c for c in found if c not in order]
        if unknown:
            raise ValueError(
                f"Dataset {name!r}: labels {unknown[:5]} are not in classes={list(classes)}; "
                "add them or leave classes=None."
            )
        codes = np.asarray([order[c] for c in found], dtype=np.int64)[codes]
        found = list(classes)
    if len(found) < 2:
        raise ValueError(
            f"Dataset {name!r}: a classification dataset needs at least 2 classes, got "
            f"{found!r}. Check the label column."
        )
    return ArrayDataset(
        xs,
        codes,
        classes=found,
        name=name,
        modality=modality,
        task=task,
        domain=domain or name,
        metadata=dict(metadata or {}),
    )


def from_csv(
    path: str | Path,
    *,
    label_column: str,
    name: str | None = None,
    feature_columns: list[str] | None = None,
    task: str = "classification",
    domain: str | None = None,
    column_map: Mapping[str, str] | None = None,
    **read_csv_kwargs: Any,
) -> ArrayDataset:
    """Build a tabular dataset from a CSV file (one row per sample).

    Args:
        path: CSV file.
        label_column: Column holding the labels.
        name: Dataset name (default: the file's stem).
        feature_columns: Columns used as features (default: all but the label).
        task: What is predicted.
        domain: Where inputs come from (default: ``name``).
        column_map: ``{old: new}`` column renames applied right after reading (so
            ``label_column`` and ``feature_columns`` use the new names); CLI
            ``--column-map OLD=NEW``.
        **read_csv_kwargs: Passed to :func:`pandas.read_csv`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a named or renamed column is missing, or a feature column is not numeric.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No CSV file at {str(path)!r}.")
    name = name or path.stem
    frame = pd.read_csv(path, **read_csv_kwargs)
    if column_map:
        unknown = [c for c in column_map if c not in frame.columns]
        if unknown:
            raise ValueError(
                f"{str(path)!r}: column_map renames column(s) {unknown} it does not have; "
                f"its columns are {list(frame.columns)}."
            )
        frame = frame.rename(columns=dict(column_map))
    wanted = [label_column, *(feature_columns or [])]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{str(path)!r} has no column(s) {missing}; its columns are {list(frame.columns)}."
        )
    cols = feature_columns or [c for c in frame.columns if c != label_column]
    bad = [c for c in cols if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ValueError(
            f"{str(path)!r}: feature column(s) {bad} are not numeric. Encode them as numbers or "
            "leave them out with feature_columns=[...]."
        )
    return from_arrays(
        frame[cols].to_numpy(dtype=np.float64, na_value=np.nan),
        frame[label_column].to_numpy(),
        name=name,
        modality="tabular",
        task=task,
        domain=domain,
        metadata={"source": str(path), "feature_names": list(map(str, cols))},
    )


def from_torch(
    dataset: Dataset[Any],
    *,
    name: str,
    modality: str = "image",
    task: str = "classification",
    domain: str | None = None,
    classes: list[Any] | None = None,
) -> ArrayDataset:
    """Materialise a map-style torch dataset of ``(input, label)`` pairs.

    Raises:
        ValueError: the dataset is empty or an item is not an ``(input, label)`` pair.
    """
    n = len(dataset)  # type: ignore[arg-type]
    if n == 0:
        raise ValueError(f"Dataset {name!r}: the torch dataset is empty.")
    xs, ys = [], []
    for i in range(n):
        item = dataset[i]
        if not isinstance(item, (tuple, list)) or len(item) < 2:
            raise ValueError(
                f"Dataset {name!r}: item {i} is a {type(item).__name__}, expected an (input, label) pair."
            )
        x, label = item[0], item[1]
        xs.append(x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x))
        ys.append(label.item() if isinstance(label, torch.Tensor) else label)
    if classes is None:
        classes = getattr(dataset, "classes", None)
        if classes is not None and not all(isinstance(v, (int, np.integer)) for v in ys):
            classes = None
        elif classes is not None:
            ys = [classes[int(v)] for v in ys]
    return from_arrays(
        np.stack(xs),
        np.asarray(ys, dtype=object if isinstance(ys[0], str) else None),
        name=name,
        modality=modality,
        task=task,
        domain=domain,
        classes=classes,
    )
