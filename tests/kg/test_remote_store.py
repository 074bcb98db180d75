"""ZooGraph.connect on an Oxigraph server: several writers, credentials, network faults.

The store's behaviour itself (ingest, merge, batches, queries, export) is checked by the
store test modules, which run on both backends (see ``conftest.py``).
"""

from __future__ import annotations

import http.client
import http.server
import json
import logging
import multiprocessing
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pyoxigraph as ox
import pytest

from kgtransfer.errors import ArgumentError, StoreError, StoreUnavailableError
from kgtransfer.kg import ZooGraph
from kgtransfer.kg._example import example_tables
from kgtransfer.kg._queries import get_query, list_queries
from kgtransfer.kg._remote import RemoteStore, is_url
from kgtransfer.kg._substitute import substitute

SECRET = "s3cr3t-t0ken-XYZ"
OxigraphServer = Any  # the conftest's server (its fixture oxigraph_server)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Proxy:
    """A loopback proxy in front of the server: checks ``Authorization``, can fail or stall.

    ``fail(method, path)`` returns an HTTP status to answer instead of forwarding (or None).
    """

    def __init__(self, upstream: str, *, expect: str | None = None) -> None:
        self.upstream = urllib.parse.urlsplit(upstream)
        self.expect = expect
        self.fail: Callable[[str, str], int | None] = lambda method, path: None
        self.delay = 0.0
        self.seen: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def setup(self) -> None:
                super().setup()  # no Nagle delays on loopback
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.seen.append(f"{self.command} {self.path}")
                status = None
                if proxy.expect is not None and self.headers.get("Authorization") != proxy.expect:
                    status = 401
                status = status or proxy.fail(self.command, self.path)
                if proxy.delay:
                    time.sleep(proxy.delay)
                if status is not None:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                conn = http.client.HTTPConnection(
                    proxy.upstream.hostname or "", proxy.upstream.port
                )
                conn.connect()
                assert conn.sock is not None
                conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                conn.close()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def proxy(oxigraph_server: OxigraphServer) -> Iterator[Proxy]:
    p = Proxy(oxigraph_server.url)
    try:
        yield p
    finally:
        p.close()


def _records(prefix: str, n: int) -> dict[str, pd.DataFrame]:
    models = [f"{prefix}-m{i}" for i in range(n)]
    return {
        "records": pd.DataFrame(
            {"model": models, "dataset": ["d"] * n, "value": [0.5] * n, "seed": list(range(n))}
        ),
        "models": pd.DataFrame({"model": models}),
        "datasets": pd.DataFrame({"dataset": ["d"]}),
    }


# ---------------------------------------------------------------------- several writers
def _writer(url: str, prefix: str, n_batches: int) -> None:
    graph = ZooGraph.connect(url)
    for b in range(n_batches):
        graph.add_records(**_records(f"{prefix}-b{b}", 3), source=f"{prefix}-{b}")


def test_several_processes_writing_at_once_lose_nothing(oxigraph_server: OxigraphServer) -> None:
    context = multiprocessing.get_context("fork")
    procs = [
        context.Process(target=_writer, args=(oxigraph_server.url, f"w{i}", 3)) for i in range(4)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    assert [proc.exitcode for proc in procs] == [0, 0, 0, 0]
    graph = ZooGraph.connect(oxigraph_server.url)
    assert len(graph.batches()) == 12
    assert len(graph.records(limit=None)) == 36
    assert len(graph.ids("model")) == 36
    assert graph.stats()["records"] == 36


def test_clients_connecting_at_once_write_the_version_once(oxigraph_server: OxigraphServer) -> None:
    graphs: list[ZooGraph] = []
    threads = [
        threading.Thread(target=lambda: graphs.append(ZooGraph.connect(oxigraph_server.url)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(graphs) == 4
    assert len(graphs[0]) == 1  # one version triple, whoever wrote it


def test_a_batch_is_visible_only_once_committed(oxigraph_server: OxigraphServer) -> None:
    writer = ZooGraph.connect(oxigraph_server.url)
    reader = ZooGraph.connect(oxigraph_server.url, read_only=True)
    store = writer._live
    assert isinstance(store, RemoteStore)
    batch = ox.NamedNode("https://w3id.org/kgtransfer/id/batch/20990101T000000000000Z-00000000")
    model = ox.NamedNode("https://w3id.org/kgtransfer/id/model/half")
    store.add(ox.Quad(model, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                      ox.NamedNode("http://www.w3.org/ns/mls#Model"), batch))  # fmt: skip
    # the data is on the server, its commit marker is not: no reader sees it
    assert reader.ids("model") == []
    assert reader.query("SELECT ?m WHERE { ?m a mls:Model }").empty
    assert reader.to_tables().models.empty
    meta = ox.NamedNode("https://w3id.org/kgtransfer/id/graph/meta")
    assert list(reader._live.named_graphs()) == [meta]
    with pytest.raises(StoreError, match="read_only"):
        reader.add_records(**_records("r", 1))


# ---------------------------------------------------------------------- credentials
def test_credentials_are_checked_and_never_shown(
    oxigraph_server: OxigraphServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    p = Proxy(oxigraph_server.url, expect=f"Bearer {SECRET}")
    try:
        with pytest.raises(StoreError, match="KGTRANSFER_STORE_TOKEN") as refused:
            ZooGraph.connect(p.url, retries=0)
        with pytest.raises(StoreError, match="not accepted") as wrong:
            ZooGraph.connect(p.url, auth="wrong-" + SECRET, retries=0)
        graph = ZooGraph.connect(p.url, auth=SECRET)
        graph.add_records(**_records("a", 2))
        assert len(graph.records(limit=None)) == 2
        monkeypatch.setenv("KGTRANSFER_STORE_TOKEN", SECRET)
        from_env = ZooGraph.connect(p.url)
        assert len(from_env.records(limit=None)) == 2
        # unavailable after the retries: the message names the server, not the secret
        p.fail = lambda method, path: 503
        with pytest.raises(StoreUnavailableError) as down:
            ZooGraph.connect(p.url, auth=SECRET, retries=1, backoff=0.01)
    finally:
        p.close()
    texts = [repr(graph), str(graph), repr(graph._live), caplog.text, repr(graph.__dict__)]
    for info in (refused, wrong, down):
        texts += [
            str(info.value),
            repr(info.value),
            str(info.value.__cause__),
            str(info.value.__context__),
        ]
    assert p.url in str(down.value) and "503" in str(down.value)
    assert all(SECRET not in text for text in texts)


def test_basic_auth_and_credentials_in_the_url(oxigraph_server: OxigraphServer) -> None:
    import base64

    token = base64.b64encode(b"alice:pa ss").decode()
    p = Proxy(oxigraph_server.url, expect=f"Basic {token}")
    try:
        graph = ZooGraph.connect(p.url, auth=("alice", "pa ss"))
        assert graph.ids("model") == []
        host = p.url.removeprefix("http://")
        in_url = ZooGraph.connect(f"http://alice:pa%20ss@{host}")
        assert "pa ss" not in repr(in_url) and "alice" not in repr(in_url)
        assert in_url.ids("model") == []
    finally:
        p.close()
    with pytest.raises(ArgumentError, match="auth must be"):
        ZooGraph.connect(p.url, auth=("alice",))  # type: ignore[arg-type]


# ---------------------------------------------------------------------- network faults
def test_server_down_is_one_typed_error_after_retries() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError, match="did not answer") as info:
        ZooGraph.connect(url, retries=2, backoff=0.01)
    assert url in str(info.value) and "3 attempt" in str(info.value)
    assert "oxigraph serve" in str(info.value)  # the fix
    assert isinstance(info.value, StoreError) and isinstance(info.value, OSError)
    assert time.monotonic() - started < 30


def test_5xx_is_retried_then_answered(proxy: Proxy) -> None:
    failures = [503, 502]
    proxy.fail = lambda method, path: failures.pop() if failures else None
    graph = ZooGraph.connect(proxy.url, retries=2, backoff=0.01)
    assert graph.ids("model") == []
    assert failures == []


def test_a_slow_server_times_out(proxy: Proxy) -> None:
    graph = ZooGraph.connect(proxy.url)
    proxy.delay = 1.0
    store = RemoteStore(proxy.url, timeout=0.2, retries=1, backoff=0.01)
    with pytest.raises(StoreUnavailableError, match=r"timeout of 0\.2 s"):
        store.query("ASK { ?s ?p ?o }")
    proxy.delay = 0.0
    assert graph.ids("model") == []


def test_a_failed_batch_commits_nothing_and_rerunning_is_safe(proxy: Proxy) -> None:
    graph = ZooGraph.connect(proxy.url, retries=1, backoff=0.01)
    meta = urllib.parse.quote("https://w3id.org/kgtransfer/id/graph/meta", safe="")
    # the batch's graph uploads, its provenance (the commit marker) does not
    proxy.fail = lambda method, path: 503 if method == "POST" and meta in path else None
    with pytest.raises(StoreUnavailableError):
        graph.add_records(**_records("x", 2))
    proxy.fail = lambda method, path: None
    assert graph.batches().empty
    assert graph.records(limit=None).empty
    assert graph.ids("model") == []
    graph.add_records(**_records("x", 2))  # again: nothing doubled
    assert len(graph.batches()) == 1
    assert len(graph.records(limit=None)) == 2


def test_an_update_failing_after_staging_leaves_the_old_state(proxy: Proxy) -> None:
    graph = ZooGraph.connect(proxy.url, retries=0)
    graph.add_zoo_tables(example_tables(), source="v1")
    before = graph.to_tables().models
    changed = example_tables()
    changed.models.loc[:, "architecture"] = "other"
    proxy.fail = lambda method, path: 503 if path.startswith("/update") else None
    with pytest.raises(StoreUnavailableError):
        graph.add_zoo_tables(changed, source="v2")  # a merge: retractions go by update
    proxy.fail = lambda method, path: None
    pd.testing.assert_frame_equal(graph.to_tables().models, before)
    assert len(graph.batches()) == 1


# ---------------------------------------------------------------------- substitutions
@pytest.mark.parametrize("name", list_queries())
def test_substitution_in_the_text_equals_pyoxigraphs(name: str) -> None:
    """Each named query gives the same rows with its parameters pre-bound in the text."""
    from kgtransfer.kg._writer import render_tables

    store = ox.Store()

    pieces, _ = render_tables(example_tables(), "b")
    text = "".join(" .\n".join(p.tolist()) + " .\n" for p in pieces if len(p))
    store.load(text.encode(), format=ox.RdfFormat.N_TRIPLES)
    named = get_query(name)
    values = {
        "model": ["vit-ft-cifar", "vit base", "bert base"],
        "dataset": ["cifar10", "sst2", "unknown"],
        "task": ["image-classification"],
        "modality": ["image"],
        "metric": ["accuracy"],
        "max_params": [1e8],
        "license": ["apache-2.0"],
        "include_suspect": [True],
    }
    cases: list[dict[str, Any]] = [{}]
    for param in named.params:
        for value in values.get(param, []):
            cases.append({**cases[0], param: value})
    required = [p for p, spec in named.params.items() if spec.required]
    for case in cases:
        full = {p: case.get(p, values[p][0]) for p in required} | case
        terms = named.terms(full)
        subs = {ox.Variable(k): v for k, v in terms.items()}
        want = store.query(named.text, substitutions=subs, use_default_graph_as_union=True)
        got = store.query(substitute(named.text, terms), use_default_graph_as_union=True)
        assert isinstance(want, ox.QuerySolutions) and isinstance(got, ox.QuerySolutions)
        rows_want = sorted(str([str(t) for t in row]) for row in want)
        rows_got = sorted(str([str(t) for t in row]) for row in got)
        assert rows_got == rows_want, (name, full)


def test_substitute_keeps_strings_comments_and_refuses_blank_nodes() -> None:
    text = 'SELECT ?x WHERE { ?x <http://e/?x> "?x" # ?x\n }'
    assert substitute(text, {"x": ox.Literal(1)}) == (
        'SELECT ("1"^^<http://www.w3.org/2001/XMLSchema#integer> AS ?x) WHERE { '
        '"1"^^<http://www.w3.org/2001/XMLSchema#integer> <http://e/?x> "?x" # ?x\n }'
    )
    hostile = ox.Literal('x" } ; DROP ALL ; #')
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), hostile))
    out = substitute("SELECT ?x WHERE { ?s <http://e/p> ?x }", {"x": hostile})
    result = store.query(out)  # one query still: the value stays one literal
    assert isinstance(result, ox.QuerySolutions)
    assert [row[0] for row in result] == [hostile]
    with pytest.raises(ArgumentError, match="blank node"):
        substitute("SELECT ?x WHERE { ?x ?p ?o }", {"x": ox.BlankNode()})


def test_is_url_and_bad_urls() -> None:
    from pathlib import Path

    assert is_url("https://example.org/sparql") and is_url(Path("http://h:1"))
    assert not is_url("/tmp/graph") and not is_url("graph")
    with pytest.raises(ArgumentError, match="http:// or https://"):
        ZooGraph.connect("ftp://example.org")
    with pytest.raises(ArgumentError, match="timeout"):
        ZooGraph.connect("http://127.0.0.1:1", timeout=0)


# ---------------------------------------------------------------------- the CLI
def test_cli_takes_a_server_url_as_store(oxigraph_server: OxigraphServer, tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from kgtransfer.cli import app

    runner = CliRunner()
    url = oxigraph_server.url
    tables = _records("cli", 2)
    for name, frame in tables.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    ingest = ["ingest", "--store", url]
    for name in tables:
        ingest += [f"--{name}", str(tmp_path / f"{name}.csv")]
    result = runner.invoke(app, ingest)
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["stats", "--store", url])
    assert result.exit_code == 0, result.output
    assert "records" in result.output and " 2" in result.output
    result = runner.invoke(app, ["batches", "list", "--format", "json", "--store", url])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)) == 1
    result = runner.invoke(
        app, ["export", str(tmp_path / "g.nq"), "--format", "nq", "--store", url]
    )
    assert result.exit_code == 0, result.output
    assert b"cli-m1" in (tmp_path / "g.nq").read_bytes()
    assert len(ZooGraph.connect(url).records(limit=None)) == 2
    down = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["stats", "--store", down])
    assert result.exit_code == 1 and "did not answer" in result.output, result.output
    assert down in result.output and "Traceback" not in result.output


def test_a_large_load_goes_in_parts_metadata_last(
    proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kgtransfer.kg._remote as remote

    monkeypatch.setattr(remote, "_UPLOAD_TRIPLES", 4)
    graph = ZooGraph.connect(proxy.url)
    proxy.seen.clear()
    batch = graph.add_records(**_records("big", 5)).batch
    posts = [line for line in proxy.seen if line.startswith("POST /store")]
    meta = urllib.parse.quote("https://w3id.org/kgtransfer/id/graph/meta", safe="")
    assert len(posts) > 3 and meta in posts[-1] and all(meta not in p for p in posts[:-1])
    assert len(graph.records(limit=None)) == 5
    assert graph.batch(batch)["n_quads"] > 20
    # a graph with blank nodes is sent whole: each blank node stays one node
    store = graph._live
    node = ox.BlankNode()
    g = ox.NamedNode("https://example.org/g")
    p = ox.NamedNode("https://example.org/p")
    store.extend([ox.Quad(node, p, ox.Literal(i), g) for i in range(9)])
    rows = store.query(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH {g} {{ ?s {p} ?o }} }}")
    assert [int(row[0].value) for row in rows] == [1]


# ---------------------------------------------------------------------- recommend, report
def _zoo() -> dict[str, pd.DataFrame]:
    models = ["m1", "m2", "m3", "m4"]
    datasets = ["d1", "d2", "d3", "t"]
    value = {"m1": 0.9, "m2": 0.8, "m3": 0.7, "m4": 0.6}
    rows = [
        {"model": m, "dataset": d, "value": value[m] - 0.05 * i, "seed": 0}
        for i, d in enumerate(datasets)
        for m in models
    ]
    return {
        "models": pd.DataFrame({"model": models, "trained_on": ["d1", "d1", "d2", "d3"]}),
        "datasets": pd.DataFrame({"dataset": datasets, "n_classes": [2.0] * 4}),
        "records": pd.DataFrame(rows),
        "similarities": pd.DataFrame(
            {
                "dataset_a": ["t", "t", "t"],
                "dataset_b": ["d1", "d2", "d3"],
                "similarity": [0.9, 0.5, 0.1],
            }
        ),
    }


def test_recommend_and_report_read_a_server_graph_like_a_local_one(
    oxigraph_server: OxigraphServer, tmp_path: Any
) -> None:
    from kgtransfer.api import recommend
    from kgtransfer.report import write_report
    from kgtransfer.transfer import SimilarityRecommender

    local, remote = ZooGraph(), ZooGraph.connect(oxigraph_server.url)
    for graph in (local, remote):
        graph.add_tables(**_zoo())
    frames = [
        recommend(g, "t", k=3, recommender=SimilarityRecommender()).to_frame()
        for g in (local, remote)
    ]
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert frames[1]["model"].tolist()[:1] == ["m1"]
    rec = recommend(remote, "t", k=3, recommender=SimilarityRecommender())
    write_report([rec], tmp_path / "report", formats=("html", "csv"), plots=False)
    assert "m1" in (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
