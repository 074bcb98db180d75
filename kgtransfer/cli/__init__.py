"""The ``kgtransfer`` command line: it parses arguments and calls the public API.

Each module registers its commands on :data:`~kgtransfer.cli._app.app`:
``graph`` (ingest, query, stats, export), ``batches`` (batches list/show/remove,
migrate), ``bench`` (benchmark), ``zoo``
(zoo build/grid), ``product`` (demo, recommend, transfer, report), ``select``.
"""

from __future__ import annotations

from kgtransfer.cli._app import app, print_version

__all__ = ["app", "batches", "bench", "graph", "main", "product", "select", "zoo"]


@app.command()
def version() -> None:
    """Print the installed version (same as kgtransfer --version).

    \b
    Examples:
      kgtransfer version
      kgtransfer --version
    """
    print_version()


# Importing each command module registers its commands on ``app``.
from kgtransfer.cli import batches, bench, graph, product, select, zoo  # noqa: E402


def main() -> None:
    """Console-script entry point."""
    app()
