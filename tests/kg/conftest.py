"""The store tests run on both backends: a local pyoxigraph store and an Oxigraph server.

Every test of the modules in :data:`STORE_MODULES` runs twice, ``[local]`` and
``[remote]``. In ``[remote]``, each ``ZooGraph()`` the test makes (directly or through
``from_tables``, ``from_rdflib``, ...) is a :meth:`ZooGraph.connect` to an emptied
``oxigraph serve`` (the k-th graph of a test gets the k-th server of a session pool, so
graphs of one test never share data), and a test that opens an on-disk store
(``ZooGraph.open``: paths, locks, snapshots, migration) is skipped as inherently local.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgtransfer.kg import ZooGraph

#: Test modules of the store's behaviour (ingest, merge, batches, remove, queries, export).
STORE_MODULES = frozenset(
    {
        "test_bindings.py",
        "test_export.py",
        "test_fault_writeback.py",
        "test_integrity_more.py",
        "test_queries.py",
        "test_rdf_import.py",
        "test_regime.py",
        "test_sparql_safety.py",
        "test_store.py",
        "test_store_ingest.py",
        "test_store_merge.py",
    }
)


#: Tests of those modules that exercise only local machinery (a subprocess with a store of
#: its own, the query worker), skipped for ``[remote]``.
LOCAL_ONLY = frozenset({"test_ctrl_c_stops_a_long_query"})


def oxigraph_binary() -> Path | None:
    """The ``oxigraph`` server binary of this environment (the ``server`` extra)."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file():
        return beside
    found = shutil.which("oxigraph")
    return Path(found) if found else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OxigraphServer:
    """One ``oxigraph serve --location DIR --bind 127.0.0.1:PORT``, started and stopped."""

    def __init__(self, location: Path) -> None:
        binary = oxigraph_binary()
        if binary is None:
            pytest.skip("the oxigraph server binary is missing (pip install -e '.[server]')")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = location.with_suffix(".log")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [
                    str(binary),
                    "serve",
                    "--location",
                    str(location),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--timeout-s",  # an abandoned query stops on the server too
                    "60",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/query?query=ASK%7B%7D", timeout=2):
                    return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"oxigraph serve did not start: {self.log.read_text(errors='replace')}"
                    ) from None
                time.sleep(0.05)

    def clear(self) -> None:
        """Drop every graph (a fresh, empty store for the next test)."""
        request = urllib.request.Request(
            f"{self.url}/update",
            data=b"DROP ALL",
            headers={"Content-Type": "application/sparql-update"},
        )
        with urllib.request.urlopen(request, timeout=30):
            pass

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ServerPool:
    """Servers started on demand and reused by every test of the session."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.servers: dict[Any, OxigraphServer] = {}

    def get(self, key: Any) -> OxigraphServer:
        if key not in self.servers:
            self.servers[key] = OxigraphServer(self.root / f"server{len(self.servers)}")
        return self.servers[key]

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()


@pytest.fixture(scope="session")
def oxigraph_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    """A pool of Oxigraph servers on 127.0.0.1, stopped at the end of the session."""
    pool = ServerPool(tmp_path_factory.mktemp("oxigraph"))
    try:
        yield pool
    finally:
        pool.stop()


@pytest.fixture
def oxigraph_server(oxigraph_pool: ServerPool) -> OxigraphServer:
    """An emptied Oxigraph server (the pool's first)."""
    server = oxigraph_pool.get(("test", 0))
    server.clear()
    return server


class _Made:
    """Which server the next ``ZooGraph()`` gets: a test's k-th graph gets the pool's
    k-th server; a graph of a module-scoped fixture (made before any test runs) gets a
    server of its own for the module."""

    def __init__(self) -> None:
        self.in_test = False
        self.in_test_count = 0
        self.module_count = 0

    def next_key(self) -> tuple[str, int]:
        if self.in_test:
            self.in_test_count += 1
            return ("test", self.in_test_count - 1)
        self.module_count += 1
        return ("module", self.module_count - 1)


@pytest.fixture(scope="module", autouse=True, params=["local", "remote"])
def store_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """``local`` or ``remote`` (see the module docstring); ``remote`` only for
    :data:`STORE_MODULES` (the other modules' ``[remote]`` items are deselected).
    Module-scoped, so module-scoped graph fixtures are remote too."""
    backend: str = request.param
    if backend == "local":
        yield backend
        return
    pool: ServerPool = request.getfixturevalue("oxigraph_pool")
    made = _Made()

    def remote_init(self: ZooGraph) -> None:
        server = pool.get(made.next_key())
        server.clear()
        self.__dict__.update(ZooGraph.connect(server.url, retries=1).__dict__)

    def local_only(*args: Any, **kwargs: Any) -> Any:
        pytest.skip("inherently local: opens an on-disk store (path, lock, snapshot)")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ZooGraph, "__init__", remote_init)
        patch.setattr(ZooGraph, "open", local_only)
        _MADE["remote"] = made
        try:
            yield backend
        finally:
            del _MADE["remote"]


#: The remote module's counter while one runs.
_MADE: dict[str, _Made] = {}


@pytest.fixture(autouse=True)
def _remote_test(store_backend: str, request: pytest.FixtureRequest) -> Iterator[None]:
    """Counts a test's own graphs from 0 (module fixtures keep their servers)."""
    made = _MADE.get("remote") if store_backend == "remote" else None
    if made is None:
        yield
        return
    if request.node.originalname in LOCAL_ONLY:
        pytest.skip("inherently local: runs its own local store in a subprocess")
    made.in_test, made.in_test_count = True, 0
    try:
        yield
    finally:
        made.in_test = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run ``[remote]`` only for the store modules."""
    keep, drop = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        local_module = Path(str(item.path)).name not in STORE_MODULES
        if params.get("store_backend") == "remote" and local_module:
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
