"""The distribution installs one package, ``kgtransfer``, in both install modes.

Our folders ``data/`` and ``models/`` must never be importable as top-level
``data`` / ``models``, and a regular install must carry every nested subpackage.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import kgtransfer
import kgtransfer.data
import kgtransfer.kg
import kgtransfer.models
import kgtransfer.transfer

REPO = Path(__file__).resolve().parents[1]
SUBPACKAGES = {
    "kg": kgtransfer.kg,
    "transfer": kgtransfer.transfer,
    "models": kgtransfer.models,
    "data": kgtransfer.data,
}

PROBE = """
import importlib, importlib.util, json, pkgutil, sys
import kgtransfer
names = sorted(m.name for m in pkgutil.walk_packages(kgtransfer.__path__, "kgtransfer.")
               if m.ispkg)
for name in ("kg", "transfer", "models", "data"):
    mod = importlib.import_module("kgtransfer." + name)
    names += sorted(m.name for m in pkgutil.walk_packages(mod.__path__, mod.__name__ + ".")
                    if m.ispkg)
print(json.dumps({
    "file": kgtransfer.__file__,
    "top_data": importlib.util.find_spec("data") is not None,
    "top_models": importlib.util.find_spec("models") is not None,
    "subpackages": names,
}))
"""


def _nested_subpackages() -> list[str]:
    """Every folder with an ``__init__.py`` below the four mapped folders."""
    found = []
    for name in SUBPACKAGES:
        for init in sorted((REPO / name).rglob("__init__.py")):
            rel = init.parent.relative_to(REPO / name)
            if rel.parts:
                found.append(".".join(("kgtransfer", name, *rel.parts)))
    return found


def test_subpackages_come_from_the_repo_folders() -> None:
    for name, module in SUBPACKAGES.items():
        assert Path(module.__file__).resolve().parent == REPO / name


def test_folders_are_not_importable_at_top_level(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout
    probe = __import__("json").loads(out)
    assert probe["top_data"] is False
    assert probe["top_models"] is False


def test_tests_import_the_package_once() -> None:
    """pytest's importlib mode must not import the repo again under another name."""
    assert sys.modules["kgtransfer"] is kgtransfer
    clones = [
        m
        for m, mod in sys.modules.items()
        if m != "kgtransfer.kg"
        and getattr(mod, "__file__", None)
        and Path(mod.__file__).resolve() == REPO / "kg" / "__init__.py"
    ]
    assert clones == []


@pytest.mark.slow
def test_regular_install_has_every_nested_subpackage(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    probe = __import__("json").loads(out)
    assert Path(probe["file"]).resolve().is_relative_to(target.resolve())
    assert probe["top_data"] is False and probe["top_models"] is False
    assert set(_nested_subpackages()) <= set(probe["subpackages"])
    for data_file in ("py.typed",):
        for name in SUBPACKAGES:
            assert (target / "kgtransfer" / name / data_file).exists()


def test_pytest_is_a_dev_dependency_and_the_package_never_imports_it() -> None:
    import ast

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10: mypy depends on tomli
        import tomli as tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = [req.split(">")[0].split("=")[0].strip() for req in project["dependencies"]]
    assert "pytest" not in runtime
    assert any(req.startswith("pytest") for req in project["optional-dependencies"]["dev"])
    importers = []
    for folder in ("kgtransfer", "kg", "transfer", "models", "data"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                if any(n.split(".")[0] in {"pytest", "_pytest"} for n in names):
                    importers.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert importers == []
