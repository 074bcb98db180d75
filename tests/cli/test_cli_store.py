"""The graph commands and the store's life: read commands never write (read-only media,
beside a writer, a folder that is not a store), and a store problem is one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgtransfer.cli import app
from kgtransfer.kg import ZooGraph
from kgtransfer.kg._example import example_tables

runner = CliRunner()


def read_commands(store: Path, out: Path) -> list[list[str]]:
    return [
        ["stats", "--store", str(store)],
        ["query", "stats", "--format", "json", "--store", str(store)],
        ["export", str(out), "--format", "nq", "--store", str(store)],
    ]


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    path = tmp_path / "graph"
    with ZooGraph.create(path) as graph:
        graph.add_zoo_tables(example_tables(), source="example")
    return path


def one_line_error(result: object) -> str:
    output = getattr(result, "output", "")
    assert getattr(result, "exit_code", 0) == 1, output
    assert output.startswith("error: ") and len(output.strip().splitlines()) == 1, output
    assert "Traceback" not in output
    return str(output)


def test_read_commands_write_nothing(store: Path, tmp_path: Path, listing) -> None:
    before = listing(store)
    for args in read_commands(store, tmp_path / "out.nq"):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    assert listing(store) == before
    assert (tmp_path / "out.nq").stat().st_size > 0


def test_read_commands_leave_a_folder_that_is_not_a_store_alone(tmp_path: Path, listing) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cat.jpg").write_bytes(b"\xff\xd8not really")
    before = listing(folder)
    for args in read_commands(folder, tmp_path / "out.nq"):
        assert "not a kgtransfer graph store" in one_line_error(runner.invoke(app, args))
    assert listing(folder) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["stats", "--store", str(empty)])
    assert "no graph store" in one_line_error(result).lower()
    assert list(empty.iterdir()) == []


def test_ingest_creates_the_store_but_not_in_a_foreign_folder(tmp_path: Path, listing) -> None:
    records = tmp_path / "records.csv"
    records.write_text("model,dataset,value\na,d,0.5\n", encoding="utf-8")
    args = ["ingest", "--records", str(records), "--create-missing", "--quiet", "--store"]
    new = tmp_path / "new" / "graph"
    assert runner.invoke(app, [*args, str(new)]).exit_code == 0
    assert (new / "CURRENT").is_file()
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("a", encoding="utf-8")
    before = listing(folder)
    assert "not a kgtransfer graph store" in one_line_error(
        runner.invoke(app, [*args, str(folder)])
    )
    assert listing(folder) == before


def test_read_commands_beside_a_writer_and_the_lock_line(store: Path, tmp_path: Path) -> None:
    with ZooGraph.open(store) as writer:
        writer.add_record("vit-ft-cifar", "数据集 #1", 0.5, seed=99)
        for args in read_commands(store, tmp_path / "out.nq"):
            result = runner.invoke(app, args)
            assert result.exit_code == 0, result.output
        stats = runner.invoke(app, ["query", "stats", "-f", "json", "--store", str(store)])
        counts = {row["kind"]: row["n"] for row in json.loads(stats.output)}
        assert counts["records"] == 7  # the writer's committed record is seen
        records = tmp_path / "records.csv"
        records.write_text("model,dataset,value\na,d,0.5\n", encoding="utf-8")
        locked = runner.invoke(
            app, ["ingest", "--records", str(records), "--create-missing", "--store", str(store)]
        )
        line = one_line_error(locked)
        assert f"pid {os.getpid()} (this process)" in line and "since" in line


def _garbage_current(store: Path) -> None:
    (store / "CURRENT").write_bytes(b"\x00garbage\n")


def _truncated_tables(store: Path) -> None:
    for table in store.glob("*.sst"):
        table.write_bytes(table.read_bytes()[:40])


@pytest.mark.parametrize("damage", [_garbage_current, _truncated_tables])
def test_damaged_store_is_one_line(
    store: Path, tmp_path: Path, damage: Callable[[Path], None]
) -> None:
    damage(store)
    for args in read_commands(store, tmp_path / "out.nq"):
        assert str(store) in one_line_error(runner.invoke(app, args))


PROBE = "mount --bind {src} {dst} && mount -o remount,bind,ro {dst}"
READ_ONLY_MEDIA = textwrap.dedent(
    """
    # import kgtransfer.kg without the top-level package's heavy imports (torch): seconds saved
    import importlib.util, sys, types
    _pkg = types.ModuleType("kgtransfer")
    _pkg.__path__ = list(importlib.util.find_spec("kgtransfer").submodule_search_locations)
    sys.modules["kgtransfer"] = _pkg
    import json, sys
    from typer.testing import CliRunner
    from kgtransfer.cli import app
    store, out = sys.argv[1], sys.argv[2]
    results = [CliRunner().invoke(app, args) for args in (
        ["stats", "--store", store],
        ["query", "stats", "--format", "json", "--store", store],
        ["export", out, "--format", "nq", "--store", store],
        ["ingest", "--records", out, "--store", store],
    )]
    print(json.dumps([[r.exit_code, r.output] for r in results]))
    """
)


@pytest.mark.slow
def test_read_commands_on_read_only_media(store: Path, tmp_path: Path) -> None:
    """A read-only bind mount (root ignores chmod, not a read-only mount)."""
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) to make a read-only mount")
    mount = tmp_path / "ro"
    mount.mkdir()
    probe = subprocess.run(
        [
            "unshare",
            "-m",
            "sh",
            "-c",
            PROBE.format(src=store, dst=mount) + f" && ! touch {mount}/x",
        ],
        capture_output=True,
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot make a read-only mount here: {probe.stderr.decode().strip()}")
    out = tmp_path / "out.nq"
    command = " ".join(
        [PROBE.format(src=store, dst=mount), "&&", "exec", sys.executable, '-c "$0"', "$1", "$2"]
    )
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", command, READ_ONLY_MEDIA, str(mount), str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    (stats, query, export, ingest) = json.loads(done.stdout.strip().splitlines()[-1])
    assert stats[0] == 0 and "models" in stats[1], stats
    assert query[0] == 0 and {"kind": "models", "n": 4} in json.loads(query[1]), query
    assert export[0] == 0 and out.stat().st_size > 0, export
    assert ingest[0] == 1 and "read-only" in ingest[1], ingest  # a writer is refused, one line
