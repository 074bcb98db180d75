"""The type check of ``make lint`` (.ci/typecheck.py): its layout, parsing and verdicts.

mypy itself runs in ``make lint``, not here (a cold run takes tens of seconds).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: mypy depends on tomli
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tc() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("_typecheck", REPO / ".ci" / "typecheck.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def test_link_tree_lays_out_the_installed_package(tc: ModuleType, tmp_path: Path) -> None:
    folders = tc.package_folders()
    assert folders["kgtransfer.kg"] == "kg" and folders["kgtransfer"] == "kgtransfer"
    top = tc.link_tree(tmp_path, folders)
    assert (top / "errors.py").resolve() == REPO / "kgtransfer" / "errors.py"
    assert (top / "kg" / "store.py").resolve() == REPO / "kg" / "store.py"
    assert (top / "transfer" / "recommend" / "gnn.py").is_file()
    assert not (top / "__pycache__").exists()


def test_paths_and_modules(tc: ModuleType) -> None:
    folders = tc.package_folders()
    assert tc.repo_path("kgtransfer/kg/store.py", folders) == "kg/store.py"
    assert tc.repo_path("kgtransfer/zoo/grid.py", folders) == "kgtransfer/zoo/grid.py"
    assert tc.module_of("kgtransfer/kg/ingest/__init__.py") == "kgtransfer.kg.ingest"
    assert tc.module_of("kgtransfer/kg/store.py") == "kgtransfer.kg.store"


OUTPUT = """\
kgtransfer/kg/store.py:3: error: Item "None" of "X | None" has no attribute "y"  [union-attr]
kgtransfer/kg/store.py:3: note: a note of that error
kgtransfer/data/split.py:9: error: Missing type arguments for generic type "list"  [type-arg]
kgtransfer/kg/_writer.py:5: error: Incompatible types in assignment  [assignment]
"""


def test_an_error_outside_the_list_fails_and_a_listed_one_passes(tc: ModuleType) -> None:
    messages, other = tc.parse(OUTPUT)
    assert other == []
    assert [m.code for m in messages] == ["union-attr", "type-arg", "assignment"]
    assert len(messages[0].lines) == 2  # the note travels with its error
    allowed = {"kgtransfer.kg.store": {"union-attr"}, "kgtransfer.kg.*": {"assignment"}}
    new, tolerated, stale = tc.judge(messages, allowed)
    assert [m.module for m in new] == ["kgtransfer.data.split"]
    assert [m.module for m in tolerated] == ["kgtransfer.kg.store", "kgtransfer.kg._writer"]
    assert stale == []


def test_a_listed_code_that_no_longer_occurs_is_stale(tc: ModuleType) -> None:
    messages, _ = tc.parse(OUTPUT)
    allowed = {"kgtransfer.kg.store": {"union-attr", "arg-type"}, "kgtransfer.api": {"misc"}}
    _, _, stale = tc.judge(messages, allowed)
    assert len(stale) == 2
    assert stale[0].startswith("kgtransfer.api: 'misc' no longer occurs")
    assert stale[1].startswith("kgtransfer.kg.store: 'arg-type' no longer occurs")


def test_the_config_is_strict_with_a_not_yet_strict_list(tc: ModuleType) -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    ini = tc.ini_config(pyproject["tool"]["mypy"])
    assert "strict = True" in ini.splitlines()
    assert "overrides" not in ini
    allowed = tc.not_yet_strict(pyproject)  # empty today: every module is strict
    assert all(codes for codes in allowed.values())
    assert all(p.startswith("kgtransfer.") for p in allowed)
