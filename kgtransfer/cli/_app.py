"""The Typer application every ``kgtransfer.cli`` module registers its commands on."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer

app = typer.Typer(
    name="kgtransfer",
    help="Choose, transfer and evaluate pretrained source models with a knowledge graph.",
    no_args_is_help=True,
    # `kgtransfer --install-completion` / `--show-completion` (bash, zsh, fish, PowerShell).
    add_completion=True,
    pretty_exceptions_enable=False,
)


#: Options more than one command group takes (one help text each).
HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="kgtransfer home folder (default: $KGTRANSFER_HOME or ~/.cache/kgtransfer).",
        file_okay=False,
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def print_version() -> None:
    """Print the installed version (``kgtransfer --version`` and ``kgtransfer version``)."""
    from kgtransfer import __version__

    typer.echo(__version__)


def _version_flag(value: bool) -> None:
    if value:
        print_version()
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the installed version and exit.",
            callback=_version_flag,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Choose, transfer and evaluate pretrained source models with a knowledge graph."""


# Library messages name Python calls; on the command line the same fix is a flag or a
# command. (pattern, replacement) pairs, applied in order by :func:`cli_words`.
# Registries a library message may point to with ``list_*()``; the CLI lists the names.
_LISTS = {
    "list_datasets": "kgtransfer.data",
    "list_models": "kgtransfer.models",
    "list_scores": "kgtransfer.transfer.scores",
    "list_methods": "kgtransfer.transfer.methods",
    "list_transfer_methods": "kgtransfer.transfer",
    "list_recommenders": "kgtransfer.transfer.recommend",
    "list_queries": "kgtransfer.kg",
    "list_benchmarks": "kgtransfer.kg.ingest",
}


def _names(match: re.Match[str], template: str) -> str:
    """The names a ``list_*()`` call would return, or the call itself if unavailable."""
    import importlib

    func = match.group("func")
    try:  # imported only when an error names the registry
        names = list(getattr(importlib.import_module(_LISTS[func]), func)())
    except Exception:
        return match.group(0)
    shown = ", ".join(names[:30]) + (f", ... ({len(names)} in all)" if len(names) > 30 else "")
    return template.format(shown)


_LIST_CALL = r"(?P<func>" + "|".join(_LISTS) + r")\(\)"


_CLI_WORDS: tuple[tuple[str, str | Callable[[re.Match[str]], str]], ...] = (
    # select_source's trials (the CLI always runs its own fine-tuning trials)
    (
        r"pass data=\.\.\. \(arrays \(x, y\), an ArrayDataset or a CSV path with "
        r"label_column=\) or your own trial=\.",
        "pass its examples as a CSV: --data PATH --label-column COLUMN.",
    ),
    (r"pass home=<kgtransfer home> \(CLI: --home\) or your own trial=\.", "pass --home PATH."),
    (
        r"pass trial=function\(model_id\) -> value in that metric\.",
        "kgtransfer select measures accuracy only; pick a target scored by accuracy.",
    ),
    (
        r"was opened read_only=True; reopen it with ZooGraph\.open\(path\) or pass trial=\.",
        "is open read-only; run kgtransfer select on a writable store.",
    ),
    (r"\btrial=None (\w+)", lambda m: f"Each trial {m[1]}"),
    (r"run build_zoo\(home\)", "run `kgtransfer zoo build`"),
    (r"build_zoo\(home\)", "`kgtransfer zoo build`"),
    (r"\(" + _LIST_CALL + r"\)", lambda m: _names(m, "({})")),
    (r"See " + _LIST_CALL + r"\.?", lambda m: _names(m, "Known: {}.")),
    (r"pass known_(\w+)s=\[\.\.\.\], or use create_missing=True", "or pass --create-missing"),
    (r"create_missing=True", "--create-missing"),
    (r",? or pass create=True to ZooGraph\.open\.?", "."),
    (r"a CSV path with label_column=\.\.\.", "a CSV with --data PATH --label-column COLUMN"),
    (r"with label_column=\.\.\. \(CLI: --label-column\)", "with --label-column"),
    (r"label_column=\.\.\.", "--label-column COLUMN"),
    (r",? or arrays \(x, y\)", ""),
    (
        r"column_map=\{'(\w+)': \{'([^']*)': '([^']*)'\}\}",
        lambda m: f"--column-map {m[1]}:{m[2]}={m[3]}",
    ),
    (r"\bcolumn_map\b", "--column-map"),
    (r"device='([^']*)'", r"--device \1"),
    (r",? or a torch\.device", ""),
)


def cli_words(message: str) -> str:
    """Say a library message in CLI words: flags and commands instead of Python calls.

    Example:
        >>> cli_words("No metadata for 'x'; run build_zoo(home) first.")
        "No metadata for 'x'; run `kgtransfer zoo build` first."
    """
    for pattern, replacement in _CLI_WORDS:
        message = re.sub(pattern, replacement, message)
    return message


def fail(message: str, code: int = 1) -> NoReturn:
    """Exit with a one-line reason (in CLI words) on stderr and a non-zero exit code."""
    typer.echo(f"error: {cli_words(message)}", err=True)
    raise typer.Exit(code)


def progress_enabled(quiet: bool) -> bool:
    """Progress bars go to stderr only on a terminal: never with ``--quiet``, never into a
    redirected log or pipe (where each frame would land as a line)."""
    stream = sys.stderr
    if quiet or stream is None:
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed or detached stream
        return False
