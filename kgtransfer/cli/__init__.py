"""The ``kgtransfer`` command line: it parses arguments and calls the public API.

Each module registers its commands on :data:`~kgtransfer.cli._app.app`:
``graph`` (ingest, query, stats, export), ``bench`` (benchmark), ``zoo``
(zoo build/grid), ``product`` (demo, recommend, transfer, report).
"""

from __future__ import annotations

import typer

from kgtransfer.cli._app import app

__all__ = ["app", "main"]


@app.command()
def version() -> None:
    """Print the installed version."""
    from kgtransfer import __version__

    typer.echo(__version__)


def _register() -> None:
    import importlib

    for name in ("graph", "bench", "zoo", "product"):
        try:
            importlib.import_module(f"kgtransfer.cli.{name}")
        except ModuleNotFoundError as exc:  # a command group not written yet
            if exc.name != f"kgtransfer.cli.{name}":
                raise


_register()


def main() -> None:
    """Console-script entry point."""
    app()
