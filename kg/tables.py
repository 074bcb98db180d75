"""The normalised tables every part of kgtransfer exchanges.

Ingestion turns CSV files, DataFrames, model cards and public benchmark folders
into a :class:`ZooTables`; :class:`~kgtransfer.kg.ZooGraph` stores one as RDF and
gives one back with ``to_tables()``; the recommender learns from one. Column
names and dtypes are fixed here so those three never disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

from kgtransfer._schema import COLUMNS
from kgtransfer.errors import ArgumentError
from kgtransfer.protocols import GraphLike, TablesLike

__all__ = ["COLUMNS", "ZooTables", "as_tables", "empty_table", "is_na"]


def is_na(value: Any) -> bool:
    """Whether a table cell is missing: ``None``, ``pd.NA`` or what ``pd.isna`` calls missing.

    A value ``pd.isna`` cannot judge as one cell (a list, an array) is not missing.

    Example:
        >>> [is_na(v) for v in (None, float("nan"), pd.NA, 0, "", [1, 2])]
        [True, True, True, False, False, False]
    """
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def empty_table(name: str) -> pd.DataFrame:
    """An empty DataFrame with the canonical columns and dtypes of table ``name``."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in COLUMNS[name].items()})


@dataclass
class ZooTables:
    """A model zoo as seven tidy tables (see :data:`COLUMNS`).

    Every table has at least its canonical columns; ``None``/``<NA>`` means unknown.
    """

    models: pd.DataFrame = field(default_factory=lambda: empty_table("models"))
    lineage: pd.DataFrame = field(default_factory=lambda: empty_table("lineage"))
    datasets: pd.DataFrame = field(default_factory=lambda: empty_table("datasets"))
    records: pd.DataFrame = field(default_factory=lambda: empty_table("records"))
    similarities: pd.DataFrame = field(default_factory=lambda: empty_table("similarities"))
    scores: pd.DataFrame = field(default_factory=lambda: empty_table("scores"))
    metrics: pd.DataFrame = field(default_factory=lambda: empty_table("metrics"))

    def __iter__(self) -> Iterator[tuple[str, pd.DataFrame]]:
        """Yield ``(name, table)`` pairs."""
        for f in fields(self):
            yield f.name, getattr(self, f.name)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(t)}" for name, t in self)
        return f"ZooTables({sizes})"


def as_tables(graph: GraphLike | TablesLike, *, caller: str | None = None) -> ZooTables:
    """The zoo as :class:`ZooTables`: a ``ZooTables`` itself, or ``graph.to_tables()``.

    Any other :class:`~kgtransfer.protocols.TablesLike` (seven DataFrames under the
    table names) is copied into a ``ZooTables``.

    Raises:
        ArgumentError: ``graph`` is neither (a ``TypeError``; the message names
            ``caller``, e.g. ``"recommend()"``, and the type received).

    Example:
        >>> as_tables(ZooTables()) is not None
        True
        >>> as_tables(3, caller="recommend()")
        Traceback (most recent call last):
        ...
        kgtransfer.errors.ArgumentError: recommend() needs a ZooGraph or ZooTables as graph, got 'int'; open one with ZooGraph.open(path) or build one with ZooGraph.from_tables(...).
    """
    tables: object = graph
    if not isinstance(tables, ZooTables) and isinstance(graph, GraphLike):
        tables = graph.to_tables()
    if isinstance(tables, ZooTables):
        return tables
    if isinstance(tables, TablesLike):
        return ZooTables(**{f.name: getattr(tables, f.name) for f in fields(ZooTables)})
    head = f"{caller} needs" if caller else "Expected"
    raise ArgumentError(
        f"{head} a ZooGraph or ZooTables as graph, got {type(graph).__name__!r}; "
        "open one with ZooGraph.open(path) or build one with ZooGraph.from_tables(...)."
    )
