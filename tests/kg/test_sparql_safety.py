"""No query or update reaches outside the graph; queries stop on timeout and Ctrl-C; rows
are capped by default.

A loopback HTTP server stands in for the outside world: it answers SPARQL results and
Turtle, and it must receive no request from anything ``ZooGraph.query`` accepts.
"""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import textwrap
import threading
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kgtransfer.errors import ArgumentError, QueryRefusedError, QueryTimeoutError
from kgtransfer.kg import FORMAT_VERSION, ID_BASE, ZooGraph, _runner
from kgtransfer.kg._example import example_tables

REPO = Path(__file__).resolve().parents[2]
RESULTS = (
    b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"REMOTE"}}]}}'
)
TURTLE = b'<http://remote.example/s> <http://remote.example/p> "REMOTE" .\n'
# a query far too long to finish: a three-way cross product (~8e9 rows) counted
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


class _Outside(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        type(self).hits.append(f"{self.command} {self.path}")
        turtle = self.path.endswith(".ttl")
        body = TURTLE if turtle else RESULTS
        self.send_response(200)
        kind = "text/turtle" if turtle else "application/sparql-results+json"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def outside() -> Iterator[str]:
    """Base URL of a loopback HTTP server on a free port; its requests in ``_Outside.hits``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Outside)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def hits(outside: str) -> Iterator[list[str]]:
    _Outside.hits.clear()
    yield _Outside.hits
    _Outside.hits.clear()


@pytest.fixture(scope="module", params=["memory", "disk"])
def graph(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ZooGraph]:
    """One graph per kind for the module; the tests using it must leave it unchanged."""
    if request.param == "memory":
        g = ZooGraph()
    else:
        g = ZooGraph.open(tmp_path_factory.mktemp("sparql") / "store", create=True)
    g.add_zoo_tables(example_tables(), source="example")
    yield g
    g.close()


def _triples(n: int) -> bytes:
    return "".join(
        f'<http://e.example/{i}> <http://e.example/p> "{i}" .\n' for i in range(n)
    ).encode()


def test_the_server_answers_and_pyoxigraph_alone_would_call_it(
    outside: str, hits: list[str]
) -> None:
    """The setup is live: without the guard, pyoxigraph does reach the server."""
    with urllib.request.urlopen(f"{outside}/ping") as response:
        assert response.status == 200
    result = ox.Store().query(f"SELECT * WHERE {{ SERVICE <{outside}/sparql> {{ ?x ?y ?z }} }}")
    assert [s["x"].value for s in result] == ["REMOTE"]  # type: ignore[union-attr]
    assert len(hits) == 2


QUERIES = [
    "SELECT * WHERE {{ SERVICE <{U}/sparql> {{ ?x ?y ?z }} }}",
    "SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ SERVICE <{U}/sparql> {{ ?x ?y ?z }} }} }}",
    "SELECT * WHERE {{ {{ ?s ?p ?o }} UNION {{ SERVICE SILENT <{U}/sparql> {{ ?x ?y ?z }} }} }}",
    "SELECT * WHERE {{ ?s ?p ?o MINUS {{ SERVICE <{U}/sparql> {{ ?s ?y ?z }} }} }}",
    "SELECT * WHERE {{ {{ SELECT ?x WHERE {{ SERVICE <{U}/sparql> {{ ?x ?y ?z }} }} }} }}",
    "ASK {{ FILTER EXISTS {{ SERVICE <{U}/sparql> {{ ?x ?y ?z }} }} }}",
    "SELECT * WHERE {{ ?s ?p ?o FILTER NOT EXISTS {{ SERVICE <{U}/sparql> {{ ?s ?y ?z }} }} }}",
    "SELECT * WHERE {{ GRAPH ?g {{ SERVICE <{U}/sparql> {{ ?x ?y ?z }} }} }}",
    "CONSTRUCT {{ ?x ?y ?z }} WHERE {{ SERVICE <{U}/sparql> {{ ?x ?y ?z }} }}",
    "SELECT * WHERE {{ VALUES ?ep {{ <{U}/sparql> }} SERVICE ?ep {{ ?x ?y ?z }} }}",
    "SELECT * WHERE {{ BIND(<{U}/sparql> AS ?ep) SERVICE SILENT ?ep {{ ?x ?y ?z }} }}",
    "PREFIX r: <{U}/> SELECT * WHERE {{ SERVICE r:sparql {{ ?x ?y ?z }} }}",
    "select * where {{ sErViCe\t<{U}/sparql>\n{{ ?x ?y ?z }} }}",
    # the bypass found on main: a comment that a text scan read as a long string
    'SELECT * WHERE {{ # """\n SERVICE <{U}/sparql> {{ ?x ?y ?z }} # """\n}}',
    "SELECT * WHERE {{ ?s ?p '''a''' . # '''\n SERVICE <{U}/sparql> {{ ?x ?y ?z }} }}",
    'SELECT * WHERE {{ ?s ?p "#" . SERVICE <{U}/sparql> {{ ?x ?y ?z }} }}',
    "SELECT * WHERE {{ #SERVICE\nSERVICE<{U}/sparql>{{?x ?y ?z}}}}",
    "SELECT * WHERE {{ \\u0053ERVICE <{U}/sparql> {{ ?x ?y ?z }} }}",
    "SELECT * WHERE {{ SERVICE <{U}/\\u0073parql> {{ ?x ?y ?z }} }}",
    "SELECT * FROM <{U}/data.ttl> WHERE {{ ?s ?p ?o }}",
    "SELECT * FROM NAMED <{U}/data.ttl> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
]
UPDATES = [
    "LOAD <{U}/data.ttl>",
    "LOAD SILENT <{U}/data.ttl>",
    "LOAD <{U}/data.ttl> INTO GRAPH <{B}graph/x>",
    "INSERT DATA {{ <http://e/a> <http://e/b> <http://e/c> }} ; LOAD <{U}/data.ttl>",
    "CLEAR SILENT GRAPH <{B}graph/x> ;\nload silent <{U}/data.ttl>",
    'INSERT DATA {{ <http://e/a> <http://e/b> <http://e/c> }} ; # """\n LOAD <{U}/data.ttl> # """\n',
    "\\u004cOAD <{U}/data.ttl>",
    "INSERT {{ ?x ?y ?z }} WHERE {{ SERVICE <{U}/sparql> {{ ?x ?y ?z }} }}",
    "DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{U}/sparql> {{ ?s ?y ?z }} }} }}",
    "WITH <{U}/data.ttl> INSERT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
    "INSERT {{ ?s ?p ?o }} USING <{U}/data.ttl> WHERE {{ ?s ?p ?o }}",
    "INSERT {{ ?s ?p ?o }} USING NAMED <{U}/data.ttl> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
]


@pytest.mark.parametrize("template", QUERIES)
def test_remote_access_in_queries_is_refused(
    graph: ZooGraph, outside: str, hits: list[str], template: str
) -> None:
    sparql = template.format(U=outside, B=ID_BASE)
    with pytest.raises(QueryRefusedError, match=r"SERVICE|FROM"):
        graph.query(sparql)
    with pytest.raises(PermissionError):  # still a PermissionError, as before
        graph.query(sparql, allow_update=True)
    assert hits == []


@pytest.mark.parametrize("template", UPDATES)
def test_remote_access_in_updates_is_refused(
    graph: ZooGraph, outside: str, hits: list[str], template: str
) -> None:
    n = len(graph)
    sparql = template.format(U=outside, B=ID_BASE)
    with pytest.raises(QueryRefusedError, match=r"LOAD|SERVICE|WITH|USING"):
        graph.query(sparql, allow_update=True)
    assert hits == []
    assert len(graph) == n  # nothing written, not even the first operation
    assert graph.query("ASK { ?s ?p 'REMOTE' }")["ask"].tolist() == [False]


def test_what_only_looks_remote_is_accepted(graph: ZooGraph, hits: list[str]) -> None:
    frame = graph.query(
        "PREFIX ex: <http://e.example/> "
        "SELECT ?service ('SERVICE <x> { }' AS ?text) WHERE { "
        "OPTIONAL { ?service ex:LOAD ?load } } # SERVICE <http://e.example/> {}"
    )
    assert frame["text"].tolist() == ["SERVICE <x> { }"]
    meta = graph.query(
        f"SELECT ?v WHERE {{ GRAPH <{ID_BASE}graph/meta> {{ ?s kgt:formatVersion ?v }} }}"
    )
    assert meta["v"].tolist() == [FORMAT_VERSION]
    assert hits == []


_SERVICE = st.sampled_from(
    ["SERVICE", "service", "Service", "sErViCe", "\\u0053ERVICE", "SERVIC\\u0045"]
)
_SPACE = st.sampled_from(
    [" ", "\t", "\n", "  \n\t", " # SERVICE? no: a comment\n", ' # """\n', " #'\n"]
)


@st.composite
def _service_queries(draw: st.DrawFn, url: str) -> str:
    space = lambda: draw(_SPACE)  # noqa: E731
    endpoint = draw(
        st.sampled_from([f"<{url}/sparql>", "?ep", "r:sparql", f"<{url}/\\u0073parql>"])
    )
    silent = draw(st.sampled_from(["", "SILENT" + space(), "silent" + space()]))
    pattern = f"{draw(_SERVICE)}{space()}{silent}{endpoint}{space()}{{ ?x ?y ?z }}"
    for _ in range(draw(st.integers(0, 3))):
        wrap = draw(
            st.sampled_from(
                [
                    "{{ {} }}",
                    "OPTIONAL {{ {} }}",
                    "{{ ?s ?p ?o }} UNION {{ {} }}",
                    "?s ?p ?o MINUS {{ {} }}",
                    "FILTER EXISTS {{ {} }}",
                    "FILTER (NOT EXISTS {{ {} }})",
                    "GRAPH ?g {{ {} }}",
                    "{{ SELECT * WHERE {{ {} }} }}",
                ]
            )
        )
        pattern = wrap.format(pattern)
    values = f"VALUES ?ep {{ <{url}/sparql> }}" if endpoint == "?ep" else ""
    return f"PREFIX r: <{url}/>{space()}SELECT * WHERE {{{space()}{values} {pattern}{space()}}}"


@st.composite
def _load_updates(draw: st.DrawFn, url: str) -> str:
    space = lambda: draw(_SPACE)  # noqa: E731
    keyword = draw(st.sampled_from(["LOAD", "load", "LoAd", "\\u004cOAD"]))
    silent = draw(st.sampled_from(["", "SILENT", "silent"]))
    target = draw(st.sampled_from(["", f"INTO GRAPH <{ID_BASE}graph/x>"]))
    load = f"{keyword}{space()}{silent}{space()}<{url}/data.ttl>{space()}{target}"
    before = draw(st.sampled_from(["", "INSERT DATA { <http://e/a> <http://e/b> <http://e/c> } ;"]))
    after = draw(st.sampled_from(["", "; CLEAR SILENT GRAPH <http://e/g>"]))
    return f"{before}{space()}{load}{space()}{after}"


@settings(
    max_examples=int(os.environ.get("KGT_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_generated_remote_access_is_refused(outside: str, data: st.DataObject) -> None:
    graph = ZooGraph()
    n = len(graph)
    sparql = data.draw(_service_queries(outside))
    with pytest.raises(QueryRefusedError, match="SERVICE"):
        graph.query(sparql, allow_update=True)
    update = data.draw(_load_updates(outside))
    with pytest.raises(QueryRefusedError, match="LOAD"):
        graph.query(update, allow_update=True)
    assert _Outside.hits == []
    assert len(graph) == n


def test_text_the_parser_cannot_read_is_refused(graph: ZooGraph) -> None:
    for text in [
        "SELEC ?x {}",
        "SELECT ?x WHERE { ?x unknown:p ?y }",
        "",
        "SELECT * { <<?a ?b ?c>> ?p ?o }",
    ]:
        with pytest.raises(QueryRefusedError, match="SPARQL"):
            graph.query(text)
    with pytest.raises(QueryRefusedError, match="allow_update=True"):
        graph.query("INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }")
    with pytest.raises(ArgumentError, match="sparql must be a str"):
        graph.query(b"SELECT * {}")  # type: ignore[arg-type]


def test_row_cap_warns_and_can_be_lifted() -> None:
    graph = ZooGraph()
    graph.load_rdf(_triples(1500), format="nt")
    sparql = "SELECT ?s WHERE { ?s <http://e.example/p> ?o }"
    with pytest.warns(UserWarning, match="limit=None"):
        capped = graph.query(sparql)
    assert len(capped) == 1000 and capped.attrs["truncated"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(graph.query(sparql, limit=None)) == 1500
        explicit = graph.query(sparql, limit=10)  # a chosen limit: no warning
        assert len(explicit) == 10 and explicit.attrs["truncated"]
        assert not graph.query(sparql, limit=1500).attrs["truncated"]
        assert len(graph.query(sparql, limit=0)) == 0


@pytest.mark.parametrize("limit", [-5, -1, 2.5, "10", True])
def test_bad_limits_are_refused(graph: ZooGraph, limit: object) -> None:
    with pytest.raises(ArgumentError, match="limit must be a non-negative int"):
        graph.query("SELECT ?s WHERE { ?s ?p ?o }", limit=limit)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match="limit"):
        graph.named_query("stats", limit=limit)  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "5"])
def test_bad_timeouts_are_refused(timeout: object) -> None:
    with pytest.raises(ArgumentError, match="timeout must be a positive number"):
        ZooGraph().query("ASK {}", timeout=timeout)  # type: ignore[arg-type]


def test_cli_refuses_a_negative_limit(tmp_path: Path) -> None:
    from kgtransfer.cli import app

    with ZooGraph.open(tmp_path / "store", create=True) as g:
        g.add_zoo_tables(example_tables(), source="example")
    result = CliRunner().invoke(
        app, ["query", "stats", "--store", str(tmp_path / "store"), "--limit", "-5"]
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: --limit must be 0 (all rows) or a positive number of rows, got -5"
    ]


def test_on_disk_queries_see_this_process_writes(tmp_path: Path) -> None:
    """The worker's read-only handle is reopened when the store changed: no stale reads."""
    with ZooGraph.open(tmp_path / "store", create=True) as graph:
        ask = "ASK { <http://e.example/1> ?p ?o }"
        assert graph.query(ask)["ask"].tolist() == [False]
        graph.load_rdf(_triples(3), format="nt")
        assert graph.query(ask)["ask"].tolist() == [True]
        graph.query("DELETE WHERE { GRAPH ?g { <http://e.example/1> ?p ?o } }", allow_update=True)
        assert graph.query(ask)["ask"].tolist() == [False]
        before = graph.stats()["models"]
        graph.add_zoo_tables(example_tables(), source="example")
        assert graph.stats()["models"] > before


def test_timeout_stops_the_query_and_the_store_stays_usable(tmp_path: Path) -> None:
    with ZooGraph.open(tmp_path / "store", create=True) as graph:
        graph.load_rdf(_triples(2000), format="nt")
        assert graph.query("ASK { ?s ?p ?o }")["ask"].tolist() == [True]
        worker = _runner._POOL._proc
        assert worker is not None
        with pytest.raises(QueryTimeoutError, match=r"timeout of 0\.5 s"):
            graph.query(ENDLESS, timeout=0.5)
        assert worker.poll() is not None  # the worker evaluating it was killed
        assert len(graph.query("SELECT ?s WHERE { ?s ?p ?o }", limit=None)) > 2000
        graph.load_rdf(_triples(1), format="nt")  # still writable


def test_timeout_in_memory_returns_and_stops_a_streaming_query() -> None:
    graph = ZooGraph()
    graph.load_rdf(_triples(300), format="nt")
    streaming = "SELECT ?a WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # 2.7e7 rows, one by one
    with pytest.raises(QueryTimeoutError):
        graph.query(streaming, limit=None, timeout=0.5)
    assert graph.query("ASK { ?s ?p ?o }")["ask"].tolist() == [True]


def test_named_queries_take_a_timeout(graph: ZooGraph) -> None:
    assert graph.named_query("stats", limit=None, timeout=None)["n"].sum() > 0
    with pytest.raises(ArgumentError, match="timeout"):
        graph.named_query("stats", timeout=-1)


_INTERRUPTED = textwrap.dedent(
    """
    import signal, sys
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as at a terminal
    from kgtransfer.kg import ZooGraph
    data = b"".join(b'<http://e/%d> <http://e/p> "%d" .\\n' % (i, i) for i in range(2000))
    for where in ("memory", sys.argv[1]):
        graph = ZooGraph() if where == "memory" else ZooGraph.open(where, create=True)
        graph.load_rdf(data, format="nt")
        print("ready", flush=True)
        try:
            graph.query({endless!r}, timeout=None)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
        graph.close()
    sys.exit(130)
    """
)


@pytest.mark.slow
def test_ctrl_c_stops_a_long_query(tmp_path: Path) -> None:
    """Ctrl-C during a query of an in-memory, then an on-disk store: both stop at once."""
    script = _INTERRUPTED.format(endless=ENDLESS)
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "store")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        for round_ in range(2):
            while seen.count("ready") <= round_:  # "interrupted" comes before the 2nd "ready"
                line = proc.stdout.readline()
                assert line, "the script ended early"
                seen.append(line.strip())
            threading.Event().wait(1.0)  # let the query start evaluating
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)  # before the fix: minutes of evaluation
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert [*seen, *out.split()] == ["ready", "interrupted", "ready", "interrupted"]


def test_a_dead_worker_is_replaced(tmp_path: Path) -> None:
    with ZooGraph.open(tmp_path / "store", create=True) as graph:
        graph.load_rdf(_triples(3), format="nt")
        _runner._POOL.kill()
        # started from a thread that then ends (Linux kills it with that thread) ...
        thread = threading.Thread(target=lambda: graph.query("ASK { ?s ?p ?o }"))
        thread.start()
        thread.join()
        assert graph.query("ASK { ?s ?p ?o }")["ask"].tolist() == [True]
        # ... or killed from outside
        worker = _runner._POOL._proc
        assert worker is not None
        worker.kill()
        worker.wait()
        assert len(graph.query("SELECT ?s WHERE { ?s ?p ?o }", limit=None)) >= 3


def test_text_too_long_or_deep_to_parse_in_bounded_time_is_refused(graph: ZooGraph) -> None:
    deep = "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * 40 + "?o" + ")" * 40 + ") }"
    with pytest.raises(QueryRefusedError, match="nest 42 levels"):
        graph.query(deep)
    long = "SELECT * WHERE { ?s ?p ?o FILTER(" + " || ".join(f"?o = {i}" for i in range(3000))
    with pytest.raises(QueryRefusedError, match=r"characters.*bindings"):
        graph.query(long + ") }")
    # brackets inside strings, IRIs and comments do not count; 20 real levels are fine
    fine = (
        "SELECT * WHERE { ?s ?p ?o # ((((((((((((((((((((((((((((((\n"
        'FILTER(?o != "((((((((((((((((((((((((((((((((" && '
        + "(" * 20
        + "?o != <http://x/(>"
        + ")" * 20
        + ") }"
    )
    graph.query(fine)
