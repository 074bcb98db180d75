"""mypy --strict over the package as it is installed, with a not-yet-strict list that only shrinks.

setup.py maps five folders onto ``kgtransfer`` (``kg/`` is ``kgtransfer.kg`` and so on);
an editable install reaches them through an import hook that mypy does not follow. So
this script builds the installed layout as a tree of symlinks in a temporary folder and
runs mypy there once, strict on every module, with the rest of ``[tool.mypy]`` from
pyproject.toml.

The ``[[tool.mypy.overrides]]`` of pyproject.toml are the modules not yet strict: each
names the error codes its modules still fail (``disable_error_code``), so a plain
``mypy`` run in an editor agrees with this one. Here an error passes only if its
module and code are listed, and a listed code that no longer occurs in its module
fails the check ("delete it"): the strict set can only grow.

Usage: ``python .ci/typecheck.py`` (``make lint`` runs it); exit status 0 when clean.
Errors are printed with the repository's paths.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: mypy depends on tomli
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
ROOT = "kgtransfer"

_LINE = re.compile(
    r"^(?P<path>[^:]+\.py):(?P<line>\d+): (?P<level>error|note|warning): (?P<text>.*?)"
    r"(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)


@dataclass(frozen=True)
class Message:
    """One mypy error with the notes that follow it."""

    module: str
    path: str
    code: str
    lines: tuple[str, ...]


def package_folders(setup_py: Path = REPO / "setup.py") -> dict[str, str]:
    """setup.py's ``FOLDERS``: package name -> folder (its ``package_dir``)."""
    tree = ast.parse(setup_py.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "FOLDERS":
            folders = ast.literal_eval(node.value)
            assert isinstance(folders, dict)
            return {str(k): str(v) for k, v in folders.items()}
    raise SystemExit(f"no FOLDERS mapping in {setup_py}")


def link_tree(dest: Path, folders: dict[str, str], repo: Path = REPO) -> Path:
    """Lay the installed package out under ``dest`` as symlinks; returns the package folder."""
    top = dest / ROOT
    top.mkdir()
    for entry in sorted((repo / folders[ROOT]).iterdir()):
        if entry.name != "__pycache__":
            (top / entry.name).symlink_to(entry)
    for name, folder in folders.items():
        if name != ROOT:
            link = dest.joinpath(*name.split("."))
            link.symlink_to(repo / folder, target_is_directory=True)
    return top


def repo_path(path: str, folders: dict[str, str]) -> str:
    """The repository path of a file of the link tree (``kgtransfer/kg/x.py`` -> ``kg/x.py``)."""
    module_path = path.replace("\\", "/")
    for name, folder in sorted(folders.items(), key=lambda kv: -len(kv[0])):
        prefix = name.replace(".", "/") + "/"
        if module_path.startswith(prefix):
            return f"{folder}/{module_path[len(prefix) :]}"
    return module_path


def module_of(path: str) -> str:
    """The module name of a link-tree path (``kgtransfer/kg/__init__.py`` -> ``kgtransfer.kg``)."""
    parts = path.replace("\\", "/").removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def parse(output: str) -> tuple[list[Message], list[str]]:
    """mypy's output as errors (each with its notes) and lines that belong to none."""
    messages: list[Message] = []
    other: list[str] = []
    for line in output.splitlines():
        m = _LINE.match(line)
        if m is None:
            if line.strip() and not line.startswith(("Found ", "Success: ")):
                other.append(line)
            continue
        if m["level"] == "note" and messages and messages[-1].path == m["path"]:
            last = messages[-1]
            messages[-1] = Message(last.module, last.path, last.code, (*last.lines, line))
        elif m["level"] == "note":
            other.append(line)
        else:
            code = m["code"] or "misc"
            messages.append(Message(module_of(m["path"]), m["path"], code, (line,)))
    return messages, other


def not_yet_strict(pyproject: dict[str, object]) -> dict[str, set[str]]:
    """Module pattern -> error codes it may still fail, from ``[[tool.mypy.overrides]]``."""
    tool = pyproject.get("tool", {})
    assert isinstance(tool, dict)
    allowed: dict[str, set[str]] = {}
    for override in tool.get("mypy", {}).get("overrides", []):
        modules = override["module"]
        for module in [modules] if isinstance(modules, str) else modules:
            allowed.setdefault(module, set()).update(override.get("disable_error_code", []))
    return allowed


def matches(pattern: str, module: str) -> bool:
    """mypy's override patterns: an exact name, or ``pkg.*`` for ``pkg`` and below."""
    if pattern.endswith(".*"):
        base = pattern[:-2]
        return module == base or module.startswith(base + ".")
    return module == pattern


def judge(
    messages: Iterable[Message], allowed: dict[str, set[str]]
) -> tuple[list[Message], list[Message], list[str]]:
    """``(new, tolerated, stale)``: errors outside the list, errors in it, unused entries."""
    new: list[Message] = []
    tolerated: list[Message] = []
    used: set[tuple[str, str]] = set()
    for msg in messages:
        hits = [p for p in allowed if matches(p, msg.module) and msg.code in allowed[p]]
        if hits:
            tolerated.append(msg)
            used.update((p, msg.code) for p in hits)
        else:
            new.append(msg)
    stale = [
        f"{pattern}: {code!r} no longer occurs; delete it from [[tool.mypy.overrides]] in "
        "pyproject.toml (the module is stricter now)"
        for pattern, codes in sorted(allowed.items())
        for code in sorted(codes)
        if (pattern, code) not in used
    ]
    return new, tolerated, stale


def ini_config(mypy_config: dict[str, object]) -> str:
    """``[tool.mypy]`` without its overrides, as a mypy.ini (every module strict)."""
    lines = ["[mypy]"]
    for key, value in mypy_config.items():
        if key == "overrides":
            continue
        if isinstance(value, bool):
            text = str(value)
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def main() -> int:
    from mypy import api

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    mypy_config = pyproject["tool"]["mypy"]
    folders = package_folders()
    allowed = not_yet_strict(pyproject)
    with tempfile.TemporaryDirectory(prefix="kgtransfer-mypy-") as tmp:
        link_tree(Path(tmp), folders)
        config = Path(tmp) / "mypy.ini"
        config.write_text(ini_config(mypy_config), encoding="utf-8")
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            stdout, stderr, status = api.run(
                [
                    "--config-file",
                    str(config),
                    "--cache-dir",
                    str(REPO / ".mypy_cache"),
                    "--no-pretty",
                    "--no-error-summary",
                    "--show-error-codes",
                    "-p",
                    ROOT,
                ]
            )
        finally:
            os.chdir(cwd)
    if status not in (0, 1) or stderr.strip():
        print(stdout + stderr, file=sys.stderr)
        return 2
    messages, other = parse(stdout)
    new, tolerated, stale = judge(messages, allowed)
    for msg in new:
        for line in msg.lines:
            print(line.replace(msg.path, repo_path(msg.path, folders), 1))
    for line in other if new else []:
        print(line)
    for line in stale:
        print(f"stale: {line}")
    n_modules = len({m.module for m in tolerated})
    print(
        f"mypy --strict: {len(new)} error(s) in strict modules, {len(stale)} stale "
        f"not-yet-strict entr{'y' if len(stale) == 1 else 'ies'}; {len(tolerated)} known "
        f"error(s) in {n_modules} not-yet-strict module(s) (pyproject.toml)."
    )
    return 1 if new or stale else 0


if __name__ == "__main__":
    sys.exit(main())
