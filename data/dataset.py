"""The one in-memory dataset type of kgtransfer: arrays plus what they mean."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

__all__ = ["MODALITIES", "ArrayDataset"]

#: Modalities a dataset may declare.
MODALITIES = ("image", "signal", "tabular", "text")


@dataclass(eq=False)
class ArrayDataset(Dataset[tuple[torch.Tensor, int]]):
    """Features and encoded labels held as numpy arrays, with their description.

    Args:
        x: Features, float32, shape (N, *input_shape).
        y: Labels encoded as int64 in ``0..n_classes-1``, shape (N,).
        classes: Original class name/value of each code: ``classes[y[i]]``.
        name: Dataset name (a :func:`list_datasets` key for built-ins).
        modality: One of :data:`MODALITIES`.
        task: What is predicted, e.g. ``"digit-classification"`` or ``"parity"``.
        domain: Where the inputs come from, e.g. ``"digits-clean"``.
        metadata: Anything else (source, split, seed, transformation, ...).

    Raises:
        ValueError: Wrong dtypes/shapes, lengths that differ, labels outside
            ``0..len(classes)-1`` or an unknown modality.

    Shapes:
        - x: (N, *input_shape)
        - y: (N,)

    Example:
        >>> import numpy as np
        >>> ds = ArrayDataset(np.zeros((4, 2), np.float32), np.array([0, 1, 0, 1]),
        ...                   classes=["a", "b"], name="toy", modality="tabular")
        >>> len(ds), ds.input_shape, ds.n_classes
        (4, (2,), 2)
        >>> ds.subset([1, 3]).y.tolist()
        [1, 1]
    """

    x: np.ndarray
    y: np.ndarray
    classes: list[Any]
    name: str = ""
    modality: str = "tabular"
    task: str = "classification"
    domain: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        x = np.asarray(self.x)
        y = np.asarray(self.y)
        if x.dtype != np.float32:
            if not np.issubdtype(x.dtype, np.number) and x.dtype != np.bool_:
                raise ValueError(
                    f"Dataset {self.name!r}: features must be numeric, got dtype {x.dtype}; "
                    "encode text/categorical columns first."
                )
            x = x.astype(np.float32)
        if x.ndim < 2:
            raise ValueError(
                f"Dataset {self.name!r}: x must have shape (N, *input_shape), got {x.shape}; "
                "reshape a single feature to (N, 1)."
            )
        if y.ndim != 1 or len(y) != len(x):
            raise ValueError(
                f"Dataset {self.name!r}: y must have shape ({len(x)},) like x's first "
                f"dimension, got {y.shape}."
            )
        if not np.issubdtype(y.dtype, np.integer):
            raise ValueError(
                f"Dataset {self.name!r}: y must hold integer codes, got dtype {y.dtype}; "
                "use from_arrays() to encode arbitrary labels."
            )
        y = y.astype(np.int64)
        self.classes = list(self.classes)
        if len(y) and (y.min() < 0 or y.max() >= len(self.classes)):
            raise ValueError(
                f"Dataset {self.name!r}: labels must lie in 0..{len(self.classes) - 1} "
                f"(len(classes)={len(self.classes)}), got {int(y.min())}..{int(y.max())}."
            )
        if self.modality not in MODALITIES:
            raise ValueError(
                f"Dataset {self.name!r}: unknown modality {self.modality!r}; "
                f"use one of {MODALITIES}."
            )
        self.x, self.y = x, y
        self.metadata = dict(self.metadata)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input, without the batch dimension."""
        return tuple(int(d) for d in self.x.shape[1:])

    @property
    def n_classes(self) -> int:
        """Number of classes (``len(classes)``; some may have no example in a subset)."""
        return len(self.classes)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return torch.from_numpy(self.x[index]), int(self.y[index])

    def subset(self, indices: Any, **metadata: Any) -> ArrayDataset:
        """A new dataset with the rows ``indices`` (copied); ``metadata`` entries are added."""
        idx = np.asarray(indices)
        if idx.dtype == np.bool_:
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64)
        return replace(
            self,
            x=self.x[idx].copy(),
            y=self.y[idx].copy(),
            metadata={**self.metadata, **metadata},
        )

    def with_arrays(
        self, x: np.ndarray, y: np.ndarray | None = None, **changes: Any
    ) -> ArrayDataset:
        """A new dataset with replaced features (and labels), keeping the description."""
        return replace(self, x=x, y=self.y.copy() if y is None else y, **changes)

    def to_tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x, y)`` as a float32 and an int64 tensor (sharing memory with the arrays)."""
        return torch.from_numpy(self.x), torch.from_numpy(self.y)

    def class_counts(self) -> np.ndarray:
        """Number of examples of each class, shape (n_classes,)."""
        return np.bincount(self.y, minlength=self.n_classes)

    def __repr__(self) -> str:
        return (
            f"ArrayDataset(name={self.name!r}, n={len(self)}, input_shape={self.input_shape}, "
            f"n_classes={self.n_classes}, modality={self.modality!r}, task={self.task!r}, "
            f"domain={self.domain!r})"
        )
