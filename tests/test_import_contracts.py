"""The import contracts: core -> kg, data, models -> transfer -> product, checked on the source."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_imports", ROOT / "tools" / "check_imports.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


check_imports = _checker()


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for folder in check_imports.FOLDERS:
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_source_keeps_the_contracts(capsys: pytest.CaptureFixture[str]) -> None:
    assert [str(v) for v in check_imports.check(ROOT)] == []
    assert check_imports.main(["--root", str(ROOT)]) == 0
    assert "import contracts kept" in capsys.readouterr().out


def test_a_planted_lazy_import_in_the_real_tree_is_caught(tmp_path: Path) -> None:
    for folder in check_imports.FOLDERS:
        shutil.copytree(
            ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    store = tmp_path / "kg" / "store.py"
    text = store.read_text()
    store.write_text(text + "\n\ndef _planted():\n    from kgtransfer.api import recommend\n")
    line = text.count("\n") + 4
    found = [str(v) for v in check_imports.check(tmp_path)]
    assert found == [
        f"{store}:{line}: kgtransfer.kg.store imports kgtransfer.api.recommend: "
        "kg/data/models may not import product (product)"
    ]
    assert check_imports.main(["--root", str(tmp_path)]) == 1


@pytest.mark.parametrize(
    ("rel", "text", "reason"),
    [
        (
            "kg/x.py",
            "from kgtransfer.transfer import y\n",
            "kg/data/models may not import transfer",
        ),
        (
            "data/x.py",
            "from kgtransfer.kg.tables import y\n",
            "data may not import kg (same layer)",
        ),
        ("models/a/x.py", "from ...data import y\n", "models may not import data (same layer)"),
        ("transfer/x.py", "from kgtransfer import __version__\n", "may not import product"),
        ("transfer/x.py", "import kgtransfer.zoo\n", "transfer may not import product"),
        ("kgtransfer/registry.py", "import torch\n", "the core imports no third party"),
        ("kgtransfer/errors.py", "from kgtransfer.kg import y\n", "core may not import kg"),
        (
            "models/x.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from kgtransfer.transfer import y\n",
            "kg/data/models may not import transfer",
        ),
        (
            "kg/x.py",
            "class A:\n    def f(self):\n        import kgtransfer.cli\n",
            "may not import product",
        ),
        (
            "data/x.py",
            "import importlib\nm = importlib.import_module('kgtransfer.transfer.scores')\n",
            "kg/data/models may not import transfer",
        ),
    ],
)
def test_each_wrong_way_import_is_caught(tmp_path: Path, rel: str, text: str, reason: str) -> None:
    found = check_imports.check(_tree(tmp_path, {rel: text}))
    assert len(found) == 1 and reason in found[0].reason, found


def test_right_way_imports_pass(tmp_path: Path) -> None:
    files = {
        "kgtransfer/api.py": "from kgtransfer.transfer import x\nfrom kgtransfer.kg import y\n",
        "kgtransfer/protocols.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pandas\n",
        "kgtransfer/registry.py": "import fnmatch\nfrom kgtransfer.errors import did_you_mean\n",
        "transfer/a/b.py": "from ..c import d\nfrom kgtransfer.models import m\nimport numpy\n",
        "kg/a/__init__.py": "from .. import store\nfrom . import sub\nfrom kgtransfer._io import w\n",
        "data/x.py": "from kgtransfer._schema import COLUMNS\nfrom kgtransfer import errors\n",
    }
    assert check_imports.check(_tree(tmp_path, files)) == []
