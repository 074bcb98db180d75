"""The Typer application every ``kgtransfer.cli`` module registers its commands on."""

from __future__ import annotations

import sys
from typing import Annotated, NoReturn

import typer

app = typer.Typer(
    name="kgtransfer",
    help="Choose, transfer and evaluate pretrained source models with a knowledge graph.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


def fail(message: str, code: int = 1) -> NoReturn:
    """Exit with a one-line reason on stderr and a non-zero exit code."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def progress_enabled(quiet: bool) -> bool:
    """Progress bars go to stderr unless ``--quiet`` or stderr is not a terminal-like stream."""
    return not quiet and sys.stderr is not None
