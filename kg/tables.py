"""The normalised tables every part of kgtransfer exchanges.

Ingestion turns CSV files, DataFrames, model cards and public benchmark folders
into a :class:`ZooTables`; :class:`~kgtransfer.kg.ZooGraph` stores one as RDF and
gives one back with ``to_tables()``; the recommender learns from one. Column
names and dtypes are fixed here so those three never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pandas as pd

from kgtransfer._schema import COLUMNS

__all__ = ["COLUMNS", "ZooTables", "empty_table"]


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

    def __iter__(self):  # type: ignore[no-untyped-def]
        """Yield ``(name, table)`` pairs."""
        for f in fields(self):
            yield f.name, getattr(self, f.name)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(t)}" for name, t in self)
        return f"ZooTables({sizes})"
