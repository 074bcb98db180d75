"""What the layers of :class:`~kgtransfer.kg.ZooGraph` use from each other: :class:`GraphHost`.

``ZooGraph`` (:mod:`kgtransfer.kg.store`: lifecycle and batches) is composed of mixins,
one per responsibility (queries, ingestion, removal, import/export). Each mixin
subclasses ``GraphHost`` for type checkers only (at run time its base is ``object``), so
its calls into the other layers are checked; mypy also checks that ``ZooGraph``'s
definitions agree with these declarations. Importing this module costs nothing at run
time: the mixins import it under ``TYPE_CHECKING``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    import os
    from typing import Self

    import pandas as pd
    import pyoxigraph as ox

    from kgtransfer.kg._backend import StoreBackend
    from kgtransfer.kg._merge import WriteMode
    from kgtransfer.kg.ingest import IngestReport
    from kgtransfer.kg.tables import ZooTables

__all__ = ["GraphHost"]


class GraphHost(Protocol):
    """The members of ``ZooGraph`` its mixins call (defined in the module named on each)."""

    # -- lifecycle (kgtransfer.kg.store)
    _store: StoreBackend | None
    _path: Path | None
    _query_path: Path | None
    _read_only: bool
    _last_report: Any

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, read_only: bool = False, create: bool = False
    ) -> Self: ...

    def close(self) -> None: ...

    @property
    def _live(self) -> StoreBackend: ...

    def _writable(self) -> StoreBackend: ...

    @staticmethod
    def iri(kind: str, id_: str) -> ox.NamedNode: ...

    # -- batches (kgtransfer.kg.store)
    def _write_batch(
        self,
        tables: ZooTables,
        *,
        source: str,
        report: Any,
        batch_id: str,
        extra: Iterable[str] = (),
        progress: bool = False,
        mode: WriteMode = "merge",
    ) -> str: ...

    def _entity_quads(self, node: ox.NamedNode) -> list[ox.Quad]: ...

    def _batch_graphs(self) -> Iterator[ox.NamedNode]: ...

    # -- queries (kgtransfer.kg._graph_queries)
    def ids(self, kind: Literal["model", "dataset", "metric"]) -> list[str]: ...

    def records(
        self,
        model: str | None = None,
        dataset: str | None = None,
        *,
        metric: str | None = None,
        limit: int | None = 100,
    ) -> pd.DataFrame: ...

    def batches(self) -> pd.DataFrame: ...

    def _declared_metrics(self) -> dict[str, dict[str, Any]]: ...

    def _lineage(self) -> list[tuple[str, str]]: ...

    # -- ingestion (kgtransfer.kg._ingest_front)
    def _normalized(self, **inputs: Any) -> tuple[ZooTables, IngestReport]: ...
