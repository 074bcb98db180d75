"""The storage seam of :class:`~kgtransfer.kg.ZooGraph`: :class:`StoreBackend`.

Every layer of ``ZooGraph`` reaches its RDF store only through ``self._store`` (via
``self._live`` to read, ``self._writable()`` to write), and uses only the methods of
:class:`StoreBackend`, a subset of :class:`pyoxigraph.Store`. A ``pyoxigraph.Store``
(in memory, or a folder on disk) is one; a new backend (e.g. a SPARQL 1.1 endpoint over
HTTP) implements these methods with the same meaning and plugs in as ``_store``. What
only a local store can do (its folder, its lock, read-only snapshots, the query worker
process) stays in the lifecycle layer (:mod:`kgtransfer.kg.store`,
:mod:`kgtransfer.kg._lifecycle`), behind ``ZooGraph.path``.

Example:
    >>> import pyoxigraph as ox
    >>> def quads(store: StoreBackend) -> int:
    ...     return len(store)
    >>> quads(ox.Store())
    0
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Protocol

import pyoxigraph as ox

__all__ = ["StoreBackend"]

#: A graph name: a named graph, or the default graph.
GraphName = ox.NamedNode | ox.BlankNode | ox.DefaultGraph
#: A value bound to a query variable.
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


class StoreBackend(Protocol):
    """The subset of :class:`pyoxigraph.Store` that ``ZooGraph`` uses (and nothing else).

    Writes (``add``, ``extend``, ``remove``, ``remove_graph``, ``update``, ``load``) are
    each one transaction; ``bulk_load`` may be non-transactional (``ZooGraph`` writes the
    commit marker afterwards). ``query`` and ``update`` take SPARQL 1.1 text; data never
    reaches it as text (see :mod:`kgtransfer.kg._merge`).
    """

    def quads_for_pattern(
        self,
        subject: ox.NamedNode | ox.BlankNode | ox.Triple | None,
        predicate: ox.NamedNode | None,
        object: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None,
        graph_name: GraphName | None = None,
    ) -> Iterator[ox.Quad]:
        """The quads matching the pattern (``None`` matches anything)."""
        ...

    def named_graphs(self) -> Iterator[ox.NamedNode | ox.BlankNode]:
        """The names of the named graphs."""
        ...

    def add(self, quad: ox.Quad) -> None:
        """Add one quad."""
        ...

    def extend(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads in one transaction."""
        ...

    def remove(self, quad: ox.Quad) -> None:
        """Remove one quad."""
        ...

    def remove_graph(self, graph_name: GraphName) -> None:
        """Remove a named graph and its quads (a missing graph is no error)."""
        ...

    def update(self, update: str, *, prefixes: dict[str, str] | None = None) -> None:
        """Apply a SPARQL 1.1 update in one transaction."""
        ...

    def query(
        self,
        query: str,
        *,
        prefixes: dict[str, str] | None = None,
        use_default_graph_as_union: bool = False,
        default_graph: GraphName | list[GraphName] | None = None,
        substitutions: dict[ox.Variable, Term] | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a SPARQL 1.1 query."""
        ...

    def load(
        self,
        input: bytes | str | IO[bytes] | IO[str] | None = None,
        format: ox.RdfFormat | None = None,
        *,
        path: str | None = None,
        to_graph: GraphName | None = None,
    ) -> None:
        """Load RDF (e.g. N-Quads) in one transaction."""
        ...

    def bulk_load(
        self,
        input: bytes | str | IO[bytes] | IO[str] | None = None,
        format: ox.RdfFormat | None = None,
        *,
        path: str | None = None,
        to_graph: GraphName | None = None,
    ) -> None:
        """Load a large amount of RDF (not necessarily in one transaction)."""
        ...

    def dump(
        self,
        output: IO[bytes] | str | None = None,
        format: ox.RdfFormat | None = None,
        *,
        from_graph: GraphName | None = None,
    ) -> bytes | None:
        """Serialise the store (or one graph); the bytes when ``output`` is None."""
        ...

    def flush(self) -> None:
        """Make the writes so far durable."""
        ...

    def __len__(self) -> int:
        """The number of quads."""
        ...
