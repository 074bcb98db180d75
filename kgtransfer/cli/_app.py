"""The Typer application every ``kgtransfer.cli`` module registers its commands on."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

app = typer.Typer(
    name="kgtransfer",
    help="Choose, transfer and evaluate pretrained source models with a knowledge graph.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Choose, transfer and evaluate pretrained source models with a knowledge graph."""


def fail(message: str, code: int = 1) -> NoReturn:
    """Exit with a one-line reason on stderr and a non-zero exit code."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def progress_enabled(quiet: bool) -> bool:
    """Progress bars go to stderr unless ``--quiet`` or stderr is not a terminal-like stream."""
    return not quiet and sys.stderr is not None
