"""ZooGraph's on-disk life: what opening creates (nothing, unless asked), read-only views
beside a writer, the holder named by a lock error, leftovers of a killed bulk load, and
damaged or foreign stores."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from kgtransfer.errors import ArgumentError, StoreError, StoreLockedError, StoreVersionError
from kgtransfer.kg import KGT, ZooGraph
from kgtransfer.kg._example import example_tables
from kgtransfer.kg.iri import to_iri

Listing = Callable[[Path], dict[str, tuple[int, int]]]


def make_store(path: Path) -> Path:
    with ZooGraph.create(path) as graph:
        graph.add_zoo_tables(example_tables(), source="example")
    return path


def not_a_store(folder: Path) -> Path:
    folder.mkdir()
    (folder / "notes.txt").write_text("my notes\n", encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "data.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    return folder


# ---------------------------------------------------------------------- what open creates
def test_open_never_creates_a_store(tmp_path: Path) -> None:
    missing, empty = tmp_path / "missing", tmp_path / "empty"
    empty.mkdir()
    for path in (missing, empty):
        for read_only in (False, True):
            with pytest.raises(StoreError, match=r"No graph store at .*create=True"):
                ZooGraph.open(path, read_only=read_only)
    assert not missing.exists() and list(empty.iterdir()) == []
    with pytest.raises(ArgumentError, match="exclude each other"):
        ZooGraph.open(missing, read_only=True, create=True)
    with ZooGraph.open(missing, create=True) as graph, ZooGraph.create(empty) as other:
        assert graph.stats()["models"] == 0 and len(other) == 1  # the format version
    with ZooGraph.open(missing) as graph:  # a store now
        assert len(graph) == 1


@pytest.mark.parametrize(("read_only", "create"), [(False, False), (False, True), (True, False)])
def test_a_folder_that_is_not_a_store_is_never_written(
    tmp_path: Path, read_only: bool, create: bool, listing: Listing
) -> None:
    folder = not_a_store(tmp_path / "mine")
    before = listing(folder)
    with pytest.raises(StoreError, match=r"not a kgtransfer graph store.*nothing was written"):
        ZooGraph.open(folder, read_only=read_only, create=create)
    assert listing(folder) == before
    file = tmp_path / "file"
    file.write_text("x", encoding="utf-8")
    with pytest.raises(StoreError, match="is a file"):
        ZooGraph.open(file, read_only=read_only, create=create)


def test_read_only_open_writes_nothing(tmp_path: Path, listing: Listing) -> None:
    path = make_store(tmp_path / "graph")
    before = listing(path)
    with ZooGraph.open(path, read_only=True) as graph:
        assert graph.stats()["models"] == 4
        assert len(graph.query("SELECT ?m WHERE { ?m a mls:Model }")) == 4
        graph.export(tmp_path / "out.nq")
    assert listing(path) == before
    assert b"formatVersion" in (tmp_path / "out.nq").read_bytes()


# ---------------------------------------------------------------------- writer and readers
def test_a_long_lived_view_survives_a_later_writer(tmp_path: Path) -> None:
    """The writer's compactions delete table files; the view keeps reading its snapshot."""
    path = make_store(tmp_path / "graph")
    with ZooGraph.open(path, read_only=True) as view:
        expected = view.to_tables()
        with ZooGraph.open(path) as writer:
            for k in range(3):
                writer.add_record("vit-ft-cifar", "数据集 #1", 0.1 * k, seed=k)
                writer._live.flush()
            writer._live.optimize()
            writer.remove_model("google/vit-base")
            writer._live.optimize()
        assert view.stats()["models"] == 4 and view.stats()["records"] == 6
        assert len(view.to_tables().records) == len(expected.records)
    with ZooGraph.open(path, read_only=True) as view:  # a new open sees the writes
        removed = int((expected.records["model"] == "google/vit-base").sum())
        assert view.stats()["records"] == 6 + 3 - removed and view.stats()["models"] == 3


WRITER = textwrap.dedent(
    """
    # import kgtransfer.kg without the top-level package's heavy imports (torch): seconds saved
    import importlib.util, sys, types
    _pkg = types.ModuleType("kgtransfer")
    _pkg.__path__ = list(importlib.util.find_spec("kgtransfer").submodule_search_locations)
    sys.modules["kgtransfer"] = _pkg
    import sys
    from kgtransfer.kg import ZooGraph, ZooTables
    from kgtransfer.kg._example import typed
    graph = ZooGraph.open(sys.argv[1])
    print("ready", flush=True)
    for k in range(int(sys.argv[2])):  # 50 new models per batch, compacted now and then
        ids = [f"w{k}-m{i}" for i in range(50)]
        tables = ZooTables(models=typed("models", {"model": ids, "architecture": ["a"] * 50}))
        graph.add_zoo_tables(tables, source=f"writer {k}")
        if k % 4 == 3:
            graph._live.optimize()
        print("committed", k + 1, flush=True)
    sys.stdin.readline()  # hold the store until the test is done
    """
)

READER = textwrap.dedent(
    """
    # import kgtransfer.kg without the top-level package's heavy imports (torch): seconds saved
    import importlib.util, sys, types
    _pkg = types.ModuleType("kgtransfer")
    _pkg.__path__ = list(importlib.util.find_spec("kgtransfer").submodule_search_locations)
    sys.modules["kgtransfer"] = _pkg
    import json
    from typer.testing import CliRunner
    from kgtransfer.cli import app
    store, out, seen = sys.argv[1], sys.argv[3], []
    commands = (["stats"], ["export", out, "--format", "nq"], ["query", "stats", "-f", "json"])
    for _ in range(int(sys.argv[2])):  # the CLI's read commands, each a read-only open
        for args in commands:
            result = CliRunner().invoke(app, [*args, "--store", store])
            assert result.exit_code == 0, result.output
        seen += [row["n"] for row in json.loads(result.output) if row["kind"] == "models"]
    print(json.dumps(seen), flush=True)
    """
)


def spawn(script: str, *args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
    )


@pytest.mark.slow
def test_readers_beside_a_writer_see_committed_batches(tmp_path: Path) -> None:
    path = make_store(tmp_path / "graph")
    writer = spawn(WRITER, path, 12)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        reader = spawn(READER, path, 6, tmp_path / "out.nq")  # a parallel process
        committed = 0
        counts = []
        while committed < 12:
            committed = int(writer.stdout.readline().split()[1])
            with ZooGraph.open(path, read_only=True) as graph:  # opened after the commit
                counts.append((committed, graph.stats()["models"]))
        out, _ = reader.communicate(timeout=300)
        assert reader.returncode == 0
        seen = json.loads(out)
        assert len(seen) == 6
        for n in seen:  # whole batches only, never a part of one
            assert (n - 4) % 50 == 0 and 4 <= n <= 4 + 12 * 50
        for done, n in counts:  # every batch committed before the open is seen
            assert (n - 4) % 50 == 0 and n >= 4 + 50 * done
        with pytest.raises(StoreLockedError):
            ZooGraph.open(path)
    finally:
        writer.kill()
        writer.wait()
    with ZooGraph.open(path) as graph:
        assert graph.stats()["models"] == 4 + 12 * 50


@pytest.mark.slow
def test_lock_error_names_the_holder(tmp_path: Path) -> None:
    path = make_store(tmp_path / "graph")
    assert not (path / ".kgtransfer-writer.json").exists()  # removed by close
    writer = spawn(WRITER, path, 0)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLockedError) as info:
            ZooGraph.open(path)
        message = str(info.value)
        assert f"pid {writer.pid} on host {socket.gethostname()} since 20" in message
        assert str(path) in message and "Close that process" in message
        with ZooGraph.open(path, read_only=True) as graph:  # reading still works
            assert graph.stats()["models"] == 4
    finally:
        writer.kill()
        writer.wait()
    # the killed writer's record is stale: the next writer replaces it, and close removes it
    holder = json.loads((path / ".kgtransfer-writer.json").read_text(encoding="utf-8"))
    assert holder["pid"] == writer.pid
    with ZooGraph.open(path) as graph:
        mine = json.loads((path / ".kgtransfer-writer.json").read_text(encoding="utf-8"))
        assert mine["pid"] == os.getpid() and len(graph) > 0
    assert not (path / ".kgtransfer-writer.json").exists()


# ---------------------------------------------------------------------- interrupted loads
BULK = textwrap.dedent(
    """
    # import kgtransfer.kg without the top-level package's heavy imports (torch): seconds saved
    import importlib.util, sys, types
    _pkg = types.ModuleType("kgtransfer")
    _pkg.__path__ = list(importlib.util.find_spec("kgtransfer").submodule_search_locations)
    sys.modules["kgtransfer"] = _pkg
    import sys, time
    from kgtransfer.kg import ZooGraph, ZooTables
    from kgtransfer.kg._example import typed

    class Stall:  # the real store, but stop for good once the bulk load is in
        def __init__(self, store):
            self.store = store
        def __getattr__(self, name):
            return getattr(self.store, name)
        def bulk_load(self, *args, **kwargs):
            self.store.bulk_load(*args, **kwargs)
            print("loaded", flush=True)
            time.sleep(600)

    graph = ZooGraph.open(sys.argv[1])
    graph._store = Stall(graph._store)
    n = 8000  # 24,000 statements: the bulk path
    ids = [f"bulk-{i}" for i in range(n)]
    graph.add_zoo_tables(ZooTables(models=typed("models", {
        "model": ids, "architecture": ["a"] * n, "n_params": [float(i) for i in range(n)]})),
        source="bulk")
    """
)


@pytest.mark.slow
def test_kill_during_bulk_load_leaves_nothing_behind(tmp_path: Path, listing: Listing) -> None:
    path = make_store(tmp_path / "graph")
    with ZooGraph.open(path) as graph:
        before = graph.stats()
    legacy = tmp_path / ".graph.abc_1234.nq"  # where kgtransfer used to spool a bulk load
    legacy.write_text("<a> <b> <c> .\n", encoding="utf-8")
    child = spawn(BULK, path)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "loaded"
        with ZooGraph.open(path, read_only=True) as reader:  # loaded, not committed yet
            assert reader.stats() == before and "bulk-0" not in reader.ids("model")
    finally:
        child.kill()  # SIGKILL: no cleanup runs
        child.wait()
    spool = path / ".kgtransfer-tmp"
    assert [p.suffix for p in spool.iterdir()] == [".nq"]  # the killed load's temp file
    untouched = listing(path)
    with ZooGraph.open(path, read_only=True) as reader:  # before any writer cleaned up
        assert reader.stats() == before and "bulk-0" not in reader.ids("model")
    assert listing(path) == untouched
    with ZooGraph.open(path) as graph:
        assert not spool.exists() and not legacy.exists()
        assert graph.stats() == before  # the uncommitted batch is gone
        assert "bulk-0" not in graph.ids("model")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph"]


# ---------------------------------------------------------------------- damaged stores
def _set_version(path: Path, literal: ox.Literal) -> None:
    store = ox.Store(str(path))
    meta, node = ox.NamedNode(to_iri("graph", "meta")), ox.NamedNode(to_iri("graph", "store"))
    version = ox.NamedNode(str(KGT.formatVersion))
    for quad in list(store.quads_for_pattern(node, version, None, meta)):
        store.remove(quad)
    store.add(ox.Quad(node, version, literal, meta))
    store.flush()
    del store


@pytest.mark.parametrize("read_only", [False, True])
def test_garbage_version_literal(tmp_path: Path, read_only: bool) -> None:
    path = make_store(tmp_path / "graph")
    _set_version(path, ox.Literal("two"))
    with pytest.raises(StoreVersionError, match=r"unreadable store format version 'two'"):
        ZooGraph.open(path, read_only=read_only)
    assert not (path / ".kgtransfer-writer.json").exists()


def _truncate_tables(path: Path) -> None:
    for table in path.glob("*.sst"):
        table.write_bytes(table.read_bytes()[:40])


def _flipped_bytes(path: Path) -> None:  # same sizes, bad checksums ("block ...")
    for table in path.glob("*.sst"):
        data = bytearray(table.read_bytes())
        for i in range(100, len(data) - 200, 7):
            data[i] ^= 0x5A
        table.write_bytes(bytes(data))


def _garbage_current(path: Path) -> None:
    (path / "CURRENT").write_bytes(b"\x00\xffgarbage\n")


def _foreign_rocksdb(path: Path) -> None:  # a RocksDB folder without the RDF tables
    for options in path.glob("OPTIONS-*"):
        text = options.read_text(encoding="utf-8")
        options.write_text(text.replace('"spog"', '"users"'), encoding="utf-8")


@pytest.mark.parametrize(
    "damage", [_truncate_tables, _flipped_bytes, _garbage_current, _foreign_rocksdb]
)
@pytest.mark.parametrize("read_only", [False, True])
def test_damaged_store_is_one_typed_error(
    tmp_path: Path, damage: Callable[[Path], None], read_only: bool, listing: Listing
) -> None:
    path = make_store(tmp_path / "graph")
    with ZooGraph.open(path) as graph:  # several table files
        graph._live.flush()
    damage(path)
    before = listing(path)
    raised = pytest.raises(StoreError, match=str(path))
    with raised as info, ZooGraph.open(path, read_only=read_only) as graph:
        graph.stats()
    assert not isinstance(info.value, StoreLockedError)  # "block checksum" is not a lock
    if read_only or damage is _foreign_rocksdb:
        assert listing(path) == before


def test_a_store_is_never_created_inside_another(tmp_path: Path) -> None:
    outer = tmp_path / "st"
    ZooGraph.open(outer, create=True).close()
    with pytest.raises(StoreError, match="inside the graph store"):
        ZooGraph.open(outer / "sub" / "deeper", create=True)
    assert not (outer / "sub").exists()
    ZooGraph.open(tmp_path / "beside", create=True).close()  # a sibling is fine
