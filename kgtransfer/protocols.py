"""Typing Protocols for the objects the rooms hand each other.

Part of the leaf core: a room types what it accepts with these instead of importing
another room's class (``kgtransfer.transfer`` accepts any :class:`GraphLike`, not only
``kgtransfer.kg.ZooGraph``). Every Protocol is ``runtime_checkable``, so
``isinstance(obj, GraphLike)`` checks that the members exist (not their signatures).

- :class:`TablesLike`: the seven zoo tables (``kgtransfer.kg.ZooTables``); columns and
  dtypes in ``kgtransfer.kg.tables.COLUMNS``.
- :class:`GraphLike`: anything that gives its zoo as tables (``kgtransfer.kg.ZooGraph``).
- :class:`DatasetLike`: an in-memory labelled dataset (``kgtransfer.data.ArrayDataset``).
- :class:`RecommenderLike`: a source-model recommender (every entry of
  ``kgtransfer.transfer.recommend.list_recommenders()``).
- :class:`LabelledArrays`, :class:`TensorsLike` and the alias :data:`LabelledData`:
  labelled data as the transfer methods and the API take it (an object with ``x`` and
  ``y``, a ``TensorDataset``, or an ``(x, y)`` pair); :data:`DataInput` adds what the
  product layer also reads (a CSV path or dataset name, an indexable torch dataset).
- :data:`FilterValue`: the value of one candidate filter (``license="mit"``,
  ``max_params=1e8``).

Example:
    >>> from kgtransfer.kg import ZooTables
    >>> isinstance(ZooTables(), TablesLike), isinstance(ZooTables(), GraphLike)
    (True, False)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, runtime_checkable

if TYPE_CHECKING:  # type names only; the core imports no third-party package at run time
    import numpy as np
    import pandas as pd

__all__ = [
    "DataInput",
    "DatasetLike",
    "FilterValue",
    "GraphLike",
    "IndexedDataset",
    "LabelledArrays",
    "LabelledData",
    "RecommenderLike",
    "TablesLike",
    "TensorsLike",
]


@runtime_checkable
class TablesLike(Protocol):
    """The zoo as seven tidy tables, one ``pandas.DataFrame`` each."""

    models: pd.DataFrame
    lineage: pd.DataFrame
    datasets: pd.DataFrame
    records: pd.DataFrame
    similarities: pd.DataFrame
    scores: pd.DataFrame
    metrics: pd.DataFrame


@runtime_checkable
class GraphLike(Protocol):
    """A zoo store that returns its content as :class:`TablesLike` tables."""

    def to_tables(self) -> TablesLike:
        """The whole zoo as tables."""
        ...


@runtime_checkable
class DatasetLike(Protocol):
    """A labelled in-memory dataset.

    Shapes:
        ``x``: (N, *input_shape); ``y``: (N,) integer codes in ``0..n_classes-1``;
        ``classes[y[i]]`` is the original label of sample ``i``.
    """

    x: np.ndarray
    y: np.ndarray
    classes: list[Any]
    name: str
    metadata: dict[str, Any]

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input, without the batch dimension."""
        ...

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        ...

    def __len__(self) -> int: ...


@runtime_checkable
class RecommenderLike(Protocol):
    """A recommender: learns from a zoo, then ranks source models for a target dataset.

    Parameters follow scikit-learn (``get_params`` / ``set_params``).
    """

    def fit(
        self, graph: GraphLike | TablesLike, exclude_datasets: Iterable[str] = ()
    ) -> RecommenderLike:
        """Learn from the zoo, never seeing the records of ``exclude_datasets``."""
        ...

    def rank(
        self,
        dataset: str,
        candidates: Iterable[str] | None = None,
        k: int | None = None,
        **kwargs: Any,
    ) -> pd.DataFrame:
        """Candidate source models for ``dataset``, best first."""
        ...

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters."""
        ...

    def set_params(self, **params: Any) -> RecommenderLike:
        """Set constructor parameters; returns self."""
        ...


@runtime_checkable
class LabelledArrays(Protocol):
    """Anything with inputs ``x`` (N, ...) and labels ``y`` (N,) (``ArrayDataset``)."""

    @property
    def x(self) -> object:
        """Inputs, shape (N, *input_shape)."""
        ...

    @property
    def y(self) -> object:
        """Labels, shape (N,)."""
        ...


@runtime_checkable
class TensorsLike(Protocol):
    """A ``torch.utils.data.TensorDataset``: ``tensors`` is ``(inputs, labels)``."""

    @property
    def tensors(self) -> tuple[object, ...]:
        """The dataset's tensors, inputs first."""
        ...


@runtime_checkable
class IndexedDataset(Protocol):
    """A map-style dataset (``torch.utils.data.Dataset`` with ``__len__``)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int, /) -> object: ...


#: Labelled data: an object with ``x``/``y``, a ``TensorDataset`` or an ``(x, y)`` pair.
LabelledData: TypeAlias = LabelledArrays | TensorsLike | tuple[object, object]

#: Target data as the product layer reads it: labelled data, an indexable dataset, or
#: a registered dataset name / CSV file path.
DataInput: TypeAlias = LabelledData | IndexedDataset | str | os.PathLike[str]

#: One candidate filter's value: text or a list of text, a number, or None (no filter).
FilterValue: TypeAlias = str | Sequence[str] | float | None
