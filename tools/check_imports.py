"""Check the direction of imports between kgtransfer's rooms (no import of the package needed).

The layers, lowest first; a module may import its own layer and any layer below::

    0 core      kgtransfer.errors, ._io, .registry, ._versions, .protocols, ._schema
    1 rooms     kgtransfer.kg, kgtransfer.data, kgtransfer.models (independent of each other)
    2 transfer  kgtransfer.transfer
    3 product   kgtransfer (the lazy root), .api, ._api, .zoo, .report, .cli

Every ``import`` and ``from ... import`` counts, also the lazy ones inside functions, those
under ``if TYPE_CHECKING:`` and ``importlib.import_module("...")`` / ``__import__("...")`` of a
literal name. The core may import nothing but the standard library and the core
(third-party names only under ``TYPE_CHECKING``), so it never loads torch.

The source folders are read as text (ast), so the check needs no install and works the same
whether the package is installed in editable mode or not::

    python tools/check_imports.py          # exits 1 and lists each wrong-way import
    python tools/check_imports.py --root DIR

An import that must go the wrong way is listed in :data:`ALLOWED` with its reason.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: source folder -> the package it installs as (setup.py's FOLDERS)
FOLDERS = {
    "kgtransfer": "kgtransfer",
    "kg": "kgtransfer.kg",
    "data": "kgtransfer.data",
    "models": "kgtransfer.models",
    "transfer": "kgtransfer.transfer",
}

#: modules of the leaf core (each imports only the standard library and other core modules)
CORE = frozenset(
    {
        "kgtransfer.errors",
        "kgtransfer._io",
        "kgtransfer.registry",
        "kgtransfer._versions",
        "kgtransfer.protocols",
        "kgtransfer._schema",
    }
)

#: package prefix -> (layer, room); the longest matching prefix wins
ROOMS = {
    "kgtransfer.kg": (1, "kg"),
    "kgtransfer.data": (1, "data"),
    "kgtransfer.models": (1, "models"),
    "kgtransfer.transfer": (2, "transfer"),
    "kgtransfer": (3, "product"),
}

LAYER_NAMES = {0: "core", 1: "kg/data/models", 2: "transfer", 3: "product"}

#: (importing module, imported module) -> why this wrong-way import must stay. Keep it short;
#: each entry goes when its reason does.
ALLOWED: dict[tuple[str, str], str] = {
    ("kgtransfer.kg.store", "kgtransfer.transfer.recommend.build_hetero_data"): (
        "the deprecated alias ZooGraph.to_hetero_data() (one release, DeprecationWarning) calls "
        "the converter that now lives with the recommender; remove both together"
    ),
}


@dataclass(frozen=True)
class Violation:
    path: Path
    line: int
    importer: str
    imported: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports {self.imported}: {self.reason}"


def classify(module: str) -> tuple[int, str] | None:
    """``(layer, room)`` of a kgtransfer module, or ``None`` for a module outside the package.

    Example:
        >>> classify("kgtransfer.kg.store"), classify("kgtransfer.errors"), classify("numpy")
        ((1, 'kg'), (0, 'core'), None)
    """
    if module in CORE or any(module.startswith(c + ".") for c in CORE):
        return 0, "core"
    for prefix in sorted(ROOMS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return ROOMS[prefix]
    return None


def module_name(path: Path, root: Path) -> str:
    """Installed module name of a source file, e.g. ``kg/store.py`` -> ``kgtransfer.kg.store``."""
    rel = path.relative_to(root)
    parts = list(rel.with_suffix("").parts)
    parts[0] = FOLDERS[parts[0]]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Line numbers of the statements under ``if TYPE_CHECKING:``."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
            if name == "TYPE_CHECKING":
                for stmt in node.body:
                    for sub in ast.walk(stmt):
                        if hasattr(sub, "lineno"):
                            lines.add(sub.lineno)
    return lines


def imports(path: Path, module: str) -> Iterator[tuple[int, str, bool]]:
    """``(line, imported module, type_checking_only)`` for each import in a file.

    ``from pkg import name`` yields ``pkg.name`` (a submodule, or a name whose owner is
    ``pkg``: :func:`classify` gives both the same layer unless ``pkg`` is the root).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    typing_only = _type_checking_lines(tree)
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, node.lineno in typing_only
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                drop = node.level - 1 if is_package else node.level
                base = base[: len(base) - drop] if drop else base
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                name = target if alias.name == "*" else f"{target}.{alias.name}"
                yield node.lineno, name, node.lineno in typing_only
        elif isinstance(node, ast.Call) and node.args:  # import_module("x") / __import__("x")
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if (
                called in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                yield node.lineno, first.value, node.lineno in typing_only


def _third_party(name: str) -> bool:
    top = name.split(".")[0]
    return top != "kgtransfer" and top not in sys.stdlib_module_names and top != "__future__"


def check_file(path: Path, root: Path) -> list[Violation]:
    """The wrong-way imports of one source file."""
    importer = module_name(path, root)
    own = classify(importer)
    if own is None:
        return []
    out = []
    for line, imported, typing_only in imports(path, importer):
        if (importer, imported) in ALLOWED:
            continue
        if own[0] == 0 and _third_party(imported) and not typing_only:
            out.append(Violation(path, line, importer, imported, "the core imports no third party"))
            continue
        target = classify(imported)  # ``from kgtransfer import x``: the lazy root, product
        if target is None:
            continue
        layer, room = target
        if layer > own[0]:
            out.append(
                Violation(
                    path,
                    line,
                    importer,
                    imported,
                    f"{LAYER_NAMES[own[0]]} may not import {LAYER_NAMES[layer]} ({room})",
                )
            )
        elif layer == own[0] == 1 and room != own[1]:
            out.append(
                Violation(
                    path, line, importer, imported, f"{own[1]} may not import {room} (same layer)"
                )
            )
    return out


def check(root: Path) -> list[Violation]:
    """Every wrong-way import in the five source folders below ``root``."""
    out: list[Violation] = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            out += check_file(path, root)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument(
        "--core-files", action="store_true", help="print the core's source files and exit"
    )
    args = parser.parse_args(argv)
    if args.core_files:
        print(" ".join(f"kgtransfer/{m.split('.', 1)[1]}.py" for m in sorted(CORE)))
        return 0
    violations = check(args.root)
    for v in violations:
        print(v)
    if violations:
        print(f"{len(violations)} wrong-way import(s); see tools/check_imports.py for the layers.")
        return 1
    print("import contracts kept")
    return 0


if __name__ == "__main__":
    sys.exit(main())
