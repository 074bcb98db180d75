"""A graph store on a SPARQL 1.1 server: :class:`RemoteStore`, behind :meth:`ZooGraph.connect`.

:class:`RemoteStore` offers the part of ``pyoxigraph.Store`` that
:class:`~kgtransfer.kg.ZooGraph` uses, over HTTP:

* reads go through the **SPARQL 1.1 Protocol** (``POST`` of a form to the query endpoint;
  results as ``application/sparql-results+json`` read by ``pyoxigraph.parse_query_results``,
  graphs as N-Triples read by ``pyoxigraph.parse``), writes through **SPARQL 1.1 Update**
  (``INSERT DATA``/``DELETE DATA`` of terms serialised by pyoxigraph, and ZooGraph's own
  fixed updates), and loads through the **Graph Store Protocol** (one ``POST`` of
  N-Triples per named graph).
* **Readers see committed batches only.** The graph of an ingest batch becomes visible
  when its provenance (the commit marker, ``?batch a kgt:IngestBatch`` in the metadata
  graph) is there. A load sends every other graph first and the metadata graph last, and
  every read runs on the dataset of the metadata graph plus the committed batch graphs (the
  protocol's ``default-graph-uri``/``named-graph-uri``), so a batch whose upload is running,
  or was cut short, is never seen, on any server, whatever its transactions.
* Query bindings ("substitutions") are pre-bound like pyoxigraph does it: each occurrence of
  the variable becomes its term as pyoxigraph serialises it (:mod:`kgtransfer.kg._substitute`);
  no value is ever formatted into SPARQL text by us.
* **Network faults** (connection refused or reset, a timeout, a 5xx answer) are retried
  ``retries`` times with exponential backoff (``backoff``, ``2 * backoff``, ...), then
  raise one :class:`~kgtransfer.errors.StoreUnavailableError` naming the server (never
  its credentials) and the fix. Every request is safe to repeat: loads and ``INSERT
  DATA`` add a set of quads, and ZooGraph's updates apply staged graphs they then drop.
* **Credentials** (``auth=``: a token, sent as ``Authorization: Bearer``, or a ``(user,
  password)`` pair, sent as HTTP Basic; else the environment variables
  ``KGTRANSFER_STORE_TOKEN`` or ``KGTRANSFER_STORE_USER`` + ``KGTRANSFER_STORE_PASSWORD``;
  or ``user:password@`` in the URL) are kept out of every repr, message and log line.

Endpoints default to the Oxigraph server's layout (``URL/query``, ``URL/update``,
``URL/store``); ``query_url=``, ``update_url=`` and ``store_url=`` point elsewhere (e.g.
Virtuoso: ``/sparql`` for both query and update, ``/sparql-graph-crud`` for the store).
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import re
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from kgtransfer.errors import ArgumentError, StoreError, StoreUnavailableError
from kgtransfer.kg._layout import _META_GRAPH, _TYPE
from kgtransfer.kg._substitute import substitute
from kgtransfer.kg.iri import ID_BASE
from kgtransfer.kg.vocab import KGT

__all__ = [
    "AUTH_ENV",
    "RemoteStore",
    "is_url",
]

#: Environment variables read for credentials when ``auth=None`` (token first).
AUTH_ENV = ("KGTRANSFER_STORE_TOKEN", "KGTRANSFER_STORE_USER", "KGTRANSFER_STORE_PASSWORD")
# The commit marker of a batch graph: ``?batch a kgt:IngestBatch`` in the metadata graph.
_META = _META_GRAPH
_BATCH_TYPE = ox.NamedNode(str(KGT.IngestBatch))
_JSON = "application/sparql-results+json"
_RESULT_TYPES = {
    _JSON: ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
_GRAPH_TYPES = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
_ACCEPT = f"{_JSON}, application/n-triples;q=0.9, text/turtle;q=0.8"
# A graph is visible to readers when it is the metadata graph or a committed batch.
_VISIBLE = f"FILTER(?g = {_META} || EXISTS {{ GRAPH {_META} {{ ?g {_TYPE} {_BATCH_TYPE} }} }})"
# kgtransfer's graphs (metadata, batches, staging) all have IRIs under ID_BASE.
_OURS = f"FILTER(STRSTARTS(STR(?g), {ox.Literal(ID_BASE)}))"
_COMMITTED = f"SELECT DISTINCT ?g WHERE {{ GRAPH {_META} {{ ?g {_TYPE} {_BATCH_TYPE} }} }}"
#: Triples per Graph Store Protocol request of a large load.
_UPLOAD_TRIPLES = 200_000
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_Term = ox.NamedNode | ox.BlankNode | ox.Literal


def is_url(location: object) -> bool:
    """Whether ``location`` names a SPARQL server (``http://`` or ``https://``).

    A ``pathlib.Path`` of a URL has lost one slash (``http:/host``); it counts too.

    Example:
        >>> is_url("http://127.0.0.1:7878"), is_url("/data/graph")
        (True, False)
    """
    return re.match(r"(?i)https?:/", str(location)) is not None


def _as_url(location: object) -> str:
    """``location`` as a URL (restores the slash a ``Path`` collapsed)."""
    return re.sub(r"(?i)^(https?):/+", lambda m: f"{m.group(1).lower()}://", str(location))


@dataclass(frozen=True)
class _Credentials:
    """An ``Authorization`` header value; its repr never shows it."""

    header: str
    secrets: tuple[str, ...]

    def __repr__(self) -> str:
        return "_Credentials(***)"


def _credentials(auth: object, user_info: tuple[str, str] | None) -> _Credentials | None:
    """The credentials from ``auth=``, else the URL's ``user:password@``, else the
    environment (:data:`AUTH_ENV`)."""
    if auth is None and user_info is not None:
        auth = user_info
    if auth is None:
        token = os.environ.get(AUTH_ENV[0], "").strip()
        user = os.environ.get(AUTH_ENV[1], "")
        if token:
            auth = token
        elif user:
            auth = (user, os.environ.get(AUTH_ENV[2], ""))
    if auth is None:
        return None
    if isinstance(auth, str) and auth:
        return _Credentials(f"Bearer {auth}", (auth,))
    if (
        isinstance(auth, tuple)
        and len(auth) == 2
        and all(isinstance(part, str) for part in auth)
        and auth[0]
    ):
        user, password = auth
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return _Credentials(f"Basic {token}", tuple(s for s in (password, token) if s))
    raise ArgumentError(
        f"auth must be a token (str) or a (user, password) pair of str, got "
        f"{type(auth).__name__}; or set {AUTH_ENV[0]} (or {AUTH_ENV[1]} and {AUTH_ENV[2]})."
    )


def _term(term: object, what: str) -> str:
    """``term`` in SPARQL syntax, as pyoxigraph serialises it (never our own formatting)."""
    if isinstance(term, ox.NamedNode | ox.Literal):
        return str(term)
    raise ArgumentError(
        f"{what} must be an IRI (pyoxigraph NamedNode) or a literal, got {term!r}; blank "
        "nodes cannot be named across requests to a SPARQL server."
    )


def _prologue(prefixes: Mapping[str, str] | None) -> str:
    return "".join(
        f"PREFIX {name}: {ox.NamedNode(iri)}\n" for name, iri in (prefixes or {}).items()
    )


def _pattern(term: object, variable: str, what: str) -> str:
    return variable if term is None else _term(term, what)


class RemoteStore:
    """The part of ``pyoxigraph.Store`` that ZooGraph uses, on a SPARQL 1.1 server.

    Args:
        url: Base URL of the server (``http://host:port``); ``user:password@`` in it
            counts as ``auth``.
        auth: A bearer token, or a ``(user, password)`` pair for HTTP Basic; None reads
            the environment (:data:`AUTH_ENV`).
        timeout: Seconds to wait for the server to connect and to answer each request.
        retries: Further attempts after a network fault (refused, reset, timeout, 5xx).
        backoff: Seconds before the first retry; doubled for each next one.
        query_url: SPARQL query endpoint (default ``URL/query``).
        update_url: SPARQL update endpoint (default ``URL/update``).
        store_url: Graph Store Protocol endpoint (default ``URL/store``).

    Raises:
        ArgumentError: Not an http(s) URL, a bad ``auth``, ``timeout``, ``retries`` or
            ``backoff``.
    """

    def __init__(
        self,
        url: str,
        *,
        auth: str | tuple[str, str] | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.2,
        query_url: str | None = None,
        update_url: str | None = None,
        store_url: str | None = None,
    ) -> None:
        if not isinstance(url, str | os.PathLike) or not is_url(url):
            raise ArgumentError(
                f"A graph store URL must start with http:// or https://, got {url!r}."
            )
        parts = urllib.parse.urlsplit(_as_url(url))
        user_info = None
        if parts.username is not None:
            user_info = (
                urllib.parse.unquote(parts.username),
                urllib.parse.unquote(parts.password or ""),
            )
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"
        if parts.port is not None:
            netloc += f":{parts.port}"
        base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        #: The server's base URL, without credentials.
        self.url = base
        self._credentials = _credentials(auth, user_info)
        self._endpoints = {
            "query": self._endpoint(query_url, "query"),
            "update": self._endpoint(update_url, "update"),
            "store": self._endpoint(store_url, "store"),
        }
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise ArgumentError(f"timeout must be a positive number of seconds, got {timeout!r}.")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ArgumentError(f"retries must be a non-negative int, got {retries!r}.")
        if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 0:
            raise ArgumentError(f"backoff must be non-negative seconds, got {backoff!r}.")
        self.timeout = float(timeout)
        self.retries = retries
        self.backoff = float(backoff)
        self._lock = threading.Lock()
        self._idle: list[tuple[tuple[str, str], http.client.HTTPConnection]] = []
        self._pid = os.getpid()

    def _endpoint(self, given: str | None, name: str) -> urllib.parse.SplitResult:
        text = given if given is not None else f"{self.url}/{name}"
        parts = urllib.parse.urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ArgumentError(f"{name}_url must be an http(s) URL, got {given!r}.")
        if parts.username is not None:
            raise ArgumentError(
                f"{name}_url must not hold credentials; pass auth= (or set {AUTH_ENV[0]})."
            )
        return parts

    def __repr__(self) -> str:
        return f"RemoteStore({self.url!r})"

    # ------------------------------------------------------------------ HTTP
    def _take(self, where: urllib.parse.SplitResult) -> tuple[http.client.HTTPConnection, bool]:
        """An idle kept-alive connection to ``where`` (True), or a new one (False)."""
        key = (where.scheme, where.netloc)
        with self._lock:
            if self._pid != os.getpid():  # a forked child never shares its parent's sockets
                self._idle, self._pid = [], os.getpid()
            for i, (held, conn) in enumerate(self._idle):
                if held == key:
                    del self._idle[i]
                    return conn, True
        kind = (
            http.client.HTTPSConnection if where.scheme == "https" else http.client.HTTPConnection
        )
        conn = kind(where.hostname or "", where.port, timeout=self.timeout)
        try:
            conn.connect()
            if conn.sock is not None:  # small requests: no Nagle delay between header and body
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except BaseException:
            conn.close()
            raise
        return conn, False

    def _give(self, where: urllib.parse.SplitResult, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if self._pid == os.getpid() and len(self._idle) < 8:
                self._idle.append(((where.scheme, where.netloc), conn))
                return
        conn.close()

    def close(self) -> None:
        """Close the idle connections (a later request opens new ones)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for _, conn in idle:
            conn.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()

    def _redact(self, text: str) -> str:
        for secret in self._credentials.secrets if self._credentials else ():
            text = text.replace(secret, "***")
        return text

    def _request(
        self,
        endpoint: str,
        method: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        accept: str | None = None,
        params: Mapping[str, str] | None = None,
        what: str,
    ) -> tuple[str, bytes]:
        """Send one request (retried on network faults); the answer's content type and body."""
        where = self._endpoints[endpoint]
        target = where.path or "/"
        query = "&".join(p for p in (where.query, urllib.parse.urlencode(params or {})) if p)
        if query:
            target += f"?{query}"
        headers = {"User-Agent": "kgtransfer"}
        if content_type:
            headers["Content-Type"] = content_type
        if accept:
            headers["Accept"] = accept
        if self._credentials is not None:
            headers["Authorization"] = self._credentials.header
        shown = urllib.parse.urlunsplit((where.scheme, where.netloc, where.path, "", ""))
        reason = ""
        attempt = 0
        while attempt <= self.retries:
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            reused = False
            conn: http.client.HTTPConnection | None = None
            try:
                conn, reused = self._take(where)
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                if conn is not None:
                    conn.close()
                if reused and isinstance(exc, ConnectionError | http.client.RemoteDisconnected):
                    continue  # the server closed an idle kept-alive connection: reconnect
                attempt += 1
                if isinstance(exc, TimeoutError | socket.timeout):
                    reason = f"no answer within the timeout of {self.timeout:g} s"
                else:
                    reason = self._redact(f"{type(exc).__name__}: {exc}")
                continue
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
            else:
                self._give(where, conn)
            if status in _RETRY_STATUS:
                reason = f"HTTP {status} {response.reason}"
                attempt += 1
                continue
            if status in (401, 403):
                raise StoreError(
                    f"The graph store at {shown} refused the request to {what} (HTTP {status} "
                    f"{response.reason}): {'the credentials were not accepted' if self._credentials else 'it needs credentials'}. "
                    f"Pass auth=token or auth=(user, password) to ZooGraph.connect, or set "
                    f"{AUTH_ENV[0]} (or {AUTH_ENV[1]} and {AUTH_ENV[2]})."
                )
            if status >= 400:
                message = self._redact(data[:2000].decode("utf-8", "replace").strip())
                if status == 400 and endpoint in ("query", "update"):
                    raise SyntaxError(f"The SPARQL server at {shown} refused it: {message}")
                raise StoreError(
                    f"The graph store at {shown} answered HTTP {status} {response.reason} to "
                    f"the request to {what}: {message}"
                )
            kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
            return kind, data
        raise StoreUnavailableError(
            f"The graph store at {shown} did not answer the request to {what} after "
            f"{self.retries + 1} attempt(s) ({reason}). Check that the server runs and is "
            f"reachable (e.g. `oxigraph serve --location DIR --bind HOST:PORT`), or pass a "
            "larger timeout= or retries= to ZooGraph.connect; nothing was committed by the "
            "failed request, so re-running the operation is safe."
        )

    # ------------------------------------------------------------------ reading
    def _committed(self) -> list[ox.NamedNode]:
        """The graphs readers see: the metadata graph and every committed batch graph."""
        result = self._select(_COMMITTED, params=[])
        graphs = [row[0] for row in result if isinstance(row[0], ox.NamedNode)]
        return [_META, *graphs]

    def _select(self, sparql: str, *, params: list[tuple[str, str]] | None) -> list[list[Any]]:
        result = self._send_query(sparql, params)
        if not isinstance(result, ox.QuerySolutions):
            raise StoreError(f"The graph store at {self.url} did not answer a SELECT with rows.")
        return [list(solution) for solution in result]

    def _send_query(self, sparql: str, params: list[tuple[str, str]] | None) -> Any:
        form = [("query", sparql), *(params or [])]
        body = urllib.parse.urlencode(form).encode("ascii")
        kind, data = self._request(
            "query",
            "POST",
            body=body,
            content_type="application/x-www-form-urlencoded",
            accept=_ACCEPT,
            what="run a query",
        )
        if kind in _RESULT_TYPES:
            return ox.parse_query_results(data, _RESULT_TYPES[kind])
        if kind in _GRAPH_TYPES:
            # a graph: re-read through a scratch store to hand back pyoxigraph's own triples
            scratch = ox.Store()
            scratch.load(data, format=_GRAPH_TYPES[kind], to_graph=ox.DefaultGraph())
            return scratch.query("CONSTRUCT WHERE { ?s ?p ?o }")
        raise StoreError(
            f"The graph store at {self.url} answered a query with content type {kind!r}; "
            f"kgtransfer reads {', '.join(sorted(_RESULT_TYPES))} and N-Triples."
        )

    def query(
        self,
        query: str,
        *,
        prefixes: Mapping[str, str] | None = None,
        use_default_graph_as_union: bool = False,
        default_graph: Any = None,
        named_graphs: Iterable[Any] | None = None,
        substitutions: Mapping[Any, Any] | None = None,
        base_iri: str | None = None,
    ) -> Any:
        """Run a read query like ``pyoxigraph.Store.query``; its pyoxigraph result.

        ``use_default_graph_as_union`` reads the committed view (module docstring).
        """
        text = _prologue(prefixes) + substitute(query, substitutions or {})
        if base_iri is not None:
            text = f"BASE {ox.NamedNode(base_iri)}\n{text}"
        params: list[tuple[str, str]] = []
        if use_default_graph_as_union:
            graphs = self._committed()
            params += [("default-graph-uri", g.value) for g in graphs]
            params += [("named-graph-uri", g.value) for g in graphs]
        else:
            if default_graph is not None:
                chosen = (
                    default_graph if isinstance(default_graph, list | tuple) else [default_graph]
                )
                params += [("default-graph-uri", g.value) for g in chosen]
            if named_graphs is not None:
                params += [("named-graph-uri", g.value) for g in named_graphs]
        return self._send_query(text, params)

    def quads_for_pattern(
        self, subject: Any, predicate: Any, object: Any, graph_name: Any = None
    ) -> Iterator[ox.Quad]:
        """Quads matching the pattern (None matches anything) in the graphs readers see."""
        if any(isinstance(t, ox.BlankNode) for t in (subject, predicate, object, graph_name)):
            return iter(())  # a blank node of another answer names nothing on the server
        triple = " ".join(
            (
                _pattern(subject, "?s", "subject"),
                _pattern(predicate, "?p", "predicate"),
                _pattern(object, "?o", "object"),
            )
        )
        if graph_name is None:
            where = f"GRAPH ?g {{ {triple} }} {_VISIBLE}"
        elif isinstance(graph_name, ox.DefaultGraph):
            where = f"{{ {triple} }}"
        else:
            where = f"GRAPH {_term(graph_name, 'graph_name')} {{ {triple} }}"
        rows = self._select(f"SELECT ?s ?p ?o ?g WHERE {{ {where} }}", params=None)
        out = []
        for s, p, o, g in rows:
            out.append(
                ox.Quad(
                    s if s is not None else subject,
                    p if p is not None else predicate,
                    o if o is not None else object,
                    g if g is not None else (graph_name or ox.DefaultGraph()),
                )
            )
        return iter(out)

    def named_graphs(self) -> Iterator[ox.NamedNode]:
        """The graphs readers see: the metadata graph and the committed batch graphs."""
        return iter(self._committed())

    def __iter__(self) -> Iterator[ox.Quad]:
        """Every quad readers see (like iterating a ``pyoxigraph.Store``)."""
        return self.quads_for_pattern(None, None, None, None)

    def __len__(self) -> int:
        """Quads in kgtransfer's graphs (committed or not) and in the default graph; a
        shared server's other named graphs are not ours and not counted."""
        rows = self._select(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ {{ GRAPH ?g {{ ?s ?p ?o }} {_OURS} }} "
            "UNION { ?s ?p ?o } }",
            params=None,
        )
        value = rows[0][0] if rows and rows[0] else None
        return int(value.value) if isinstance(value, ox.Literal) else 0

    def dump(
        self,
        output: str | os.PathLike[str] | IO[bytes] | None = None,
        format: ox.RdfFormat | None = None,
        *,
        from_graph: Any = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> bytes | None:
        """The quads readers see (or the triples of ``from_graph``), serialised."""
        rdf_format = format or ox.RdfFormat.N_QUADS
        if from_graph is not None:
            result = self.query(
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {_term(from_graph, 'from_graph')} {{ ?s ?p ?o }} }}"
            )
            items: Iterable[Any] = iter(result)
        else:
            items = self.quads_for_pattern(None, None, None, None)
        options: dict[str, Any] = {"prefixes": dict(prefixes)} if prefixes else {}
        payload = ox.serialize(items, format=rdf_format, **options)
        assert payload is not None
        if output is None:
            return payload
        if isinstance(output, str | os.PathLike):
            Path(output).write_bytes(payload)
        else:
            output.write(payload)
        return None

    def flush(self) -> None:
        """Nothing to do: the server commits every request."""

    # ------------------------------------------------------------------ writing
    def update(
        self, update: str, *, prefixes: Mapping[str, str] | None = None, base_iri: str | None = None
    ) -> None:
        """Run a SPARQL update (one request: the server applies it whole)."""
        text = _prologue(prefixes) + update
        if base_iri is not None:
            text = f"BASE {ox.NamedNode(base_iri)}\n{text}"
        body = urllib.parse.urlencode({"update": text}).encode("ascii")
        self._request(
            "update",
            "POST",
            body=body,
            content_type="application/x-www-form-urlencoded",
            what="apply an update",
        )

    def _data_block(self, quads: Iterable[ox.Quad]) -> str:
        parts = []
        for q in quads:
            triple = f"{q.subject} {q.predicate} {q.object} ."
            if isinstance(q.graph_name, ox.DefaultGraph):
                parts.append(triple)
            else:
                parts.append(f"GRAPH {q.graph_name} {{ {triple} }}")
        return " ".join(parts)

    def add(self, quad: ox.Quad) -> None:
        """Add one quad (``INSERT DATA``)."""
        self.update(f"INSERT DATA {{ {self._data_block([quad])} }}")

    def remove(self, quad: ox.Quad) -> None:
        """Remove one quad (``DELETE DATA``; blank nodes cannot be named remotely).

        Raises:
            StoreError: The quad holds a blank node.
        """
        if any(isinstance(t, ox.BlankNode) for t in (quad.subject, quad.object, quad.graph_name)):
            raise StoreError(
                f"Cannot remove {quad} from the graph store at {self.url}: a blank node cannot "
                "be named in a request to a SPARQL server. Remove its whole batch "
                "(remove_batch) instead."
            )
        self.update(f"DELETE DATA {{ {self._data_block([quad])} }}")

    def remove_graph(self, graph: Any) -> None:
        """Drop a named graph (``DROP SILENT GRAPH``)."""
        self.update(f"DROP SILENT GRAPH {_term(graph, 'graph')}")

    def extend(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads: every other graph first, the metadata graph (commit markers) last."""
        self._upload(quads)

    def load(
        self,
        input: bytes | str | IO[bytes] | IO[str] | None = None,
        format: ox.RdfFormat | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        base_iri: str | None = None,
        to_graph: Any = None,
        lenient: bool = False,
    ) -> None:
        """Parse RDF here and upload it graph by graph (metadata graph last)."""
        if path is not None:
            input = Path(path).read_bytes()
        options: dict[str, Any] = {"format": format, "base_iri": base_iri, "lenient": lenient}
        if to_graph is not None:
            options["to_graph"] = to_graph
        assert input is not None
        self._upload(ox.parse(input, **options))

    bulk_load = load

    def _upload(self, quads: Iterable[ox.Quad]) -> None:
        """POST the triples of each graph (Graph Store Protocol), the metadata graph last.

        A large graph goes in parts of :data:`_UPLOAD_TRIPLES` (bounded memory), unless it
        holds blank nodes (one document keeps them one node each); readers see none of it
        before the metadata graph (its commit marker) is there.
        """
        graphs: dict[Any, list[ox.Triple]] = {}
        blank: set[Any] = set()
        for q in quads:
            graph = q.graph_name
            triples = graphs.setdefault(graph, [])
            triples.append(q.triple)
            if isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode):
                blank.add(graph)
            if len(triples) >= _UPLOAD_TRIPLES and graph != _META and graph not in blank:
                self._post_graph(graph, triples)
                graphs[graph] = []
        for graph in sorted(graphs, key=lambda g: g == _META):  # the metadata graph last
            if graphs[graph]:
                self._post_graph(graph, graphs[graph])

    def _post_graph(self, graph: Any, triples: list[ox.Triple]) -> None:
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        assert body is not None
        params = {"default": ""} if isinstance(graph, ox.DefaultGraph) else {"graph": graph.value}
        self._request(
            "store",
            "POST",
            body=body,
            content_type="application/n-triples",
            params=params,
            what="load a graph",
        )


def init_store(store: RemoteStore, version_quad: ox.Quad) -> None:
    """Write the store's format version if the server holds none of kgtransfer's graphs yet
    (one update: several clients connecting at once write it once). Other graphs of a
    shared server are left alone."""
    insert = store._data_block([version_quad])
    store.update(
        f"INSERT {{ {insert} }} WHERE {{ FILTER NOT EXISTS {{ GRAPH ?g {{ ?s ?p ?o }} {_OURS} }} }}"
    )
