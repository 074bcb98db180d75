"""``kgtransfer batches list | show | remove`` and ``kgtransfer migrate``: inspect, undo, upgrade.

Examples::

    kgtransfer batches list                      # every ingest batch, oldest first
    kgtransfer batches show 20260101T120000123456Z-1a2b3c4d
    kgtransfer batches remove 20260101T120000123456Z-1a2b3c4d
    kgtransfer migrate --store ~/.cache/kgtransfer/graph

The store is ``--store PATH``, by default ``$KGTRANSFER_HOME/graph``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kgtransfer.cli._app import app, fail
from kgtransfer.cli.graph import _EXPECTED, StoreOption, _one_line, _store

__all__ = ["batches_app"]

batches_app = typer.Typer(
    help="List, show and remove ingest batches (each ingest is one batch).",
    no_args_is_help=True,
)
app.add_typer(batches_app, name="batches")

BatchArgument = Annotated[str, typer.Argument(metavar="ID", help="A batch id (see `list`).")]


def _existing(store: Path | None) -> Path:
    path = _store(store)
    if not path.is_dir():
        fail(f"no graph store at {path}; run `kgtransfer ingest` first or pass --store")
    return path


@batches_app.command("list")
def list_(
    output: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    store: StoreOption = None,
) -> None:
    """One line per batch: id, start time, source and rows per table.

    \b
    Examples:
      kgtransfer batches list
      kgtransfer batches list --format json --store /tmp/kgt/graph
    """
    from kgtransfer.kg import ZooGraph

    if output not in ("table", "json"):
        fail(f"--format {output!r}: use table or json")
    error = None
    try:
        with ZooGraph.open(_existing(store), read_only=True) as graph:
            frame = graph.batches()
    except _EXPECTED as exc:
        error = _one_line(exc)  # fail outside: the traceback may hold the store's lock
    if error is not None:
        fail(error)
    if output == "json":
        typer.echo(json.dumps(frame.to_dict(orient="records"), default=str))
        return
    if frame.empty:
        typer.echo("(no batches)")
        return
    for row in frame.itertuples(index=False):
        counts = ", ".join(f"{k}={v}" for k, v in sorted(row.counts.items()) if v)
        typer.echo(f"{row.batch}  {row.started}  {row.source}  {counts or '(empty)'}")


@batches_app.command()
def show(
    batch: BatchArgument,
    output: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    store: StoreOption = None,
) -> None:
    """A batch's provenance: source, times, counts, report and the values it overwrote.

    \b
    Examples:
      kgtransfer batches show 20260101T120000123456Z-1a2b3c4d
      kgtransfer batches show 20260101T120000123456Z-1a2b3c4d --format json
    """
    from kgtransfer.kg import ZooGraph

    if output not in ("text", "json"):
        fail(f"--format {output!r}: use text or json")
    error = None
    try:
        with ZooGraph.open(_existing(store), read_only=True) as graph:
            info = graph.batch(batch)
    except _EXPECTED as exc:
        error = _one_line(exc)  # fail outside: the traceback may hold the store's lock
    if error is not None:
        fail(error)
    if output == "json":
        typer.echo(json.dumps(info, default=str))
        return
    for key in ("batch", "source", "started", "ended", "n_quads"):
        typer.echo(f"{key}: {info[key]}")
    typer.echo("counts: " + ", ".join(f"{k}={v}" for k, v in sorted(info["counts"].items())))
    typer.echo(f"overwritten: {len(info['overwritten'])}")
    for change in info["overwritten"]:
        typer.echo(f"  {_change_line(change)}")
    if info["report"] is not None:
        typer.echo("report: " + json.dumps(info["report"], default=str))


def _change_line(change: dict[str, Any]) -> str:
    where = "" if change.get("batch") is None else f" (from batch {change['batch']})"
    return (
        f"{change['kind']} {change['id']!r}: {change['field']} "
        f"{change['old']!r} -> {change['new']!r}{where}"
    )


@batches_app.command()
def remove(batch: BatchArgument, store: StoreOption = None) -> None:
    """Retract everything a batch wrote (values it overwrote come back, see the docs).

    \b
    Examples:
      kgtransfer batches remove 20260101T120000123456Z-1a2b3c4d
      kgtransfer batches remove 20260101T120000123456Z-1a2b3c4d --store /tmp/kgt/graph
    """
    from kgtransfer.kg import ZooGraph

    error = None
    try:
        with ZooGraph.open(_existing(store)) as graph:
            removed = graph.remove_batch(batch)
    except _EXPECTED as exc:
        error = _one_line(exc)  # fail outside: the traceback may hold the store's lock
    if error is not None:
        fail(error)
    typer.echo(f"removed batch {batch} ({removed.quads} statements, {removed.records} records)")


@app.command()
def migrate(store: StoreOption = None) -> None:
    """Carry a store written by an older kgtransfer forward (backed up first).

    \b
    Examples:
      kgtransfer migrate
      kgtransfer migrate --store ~/.cache/kgtransfer/graph
    """
    from kgtransfer.kg import migrate_store

    error = None
    try:
        result = migrate_store(_existing(store))
    except _EXPECTED as exc:
        error = _one_line(exc)  # fail outside: the traceback may hold the store's lock
    if error is not None:
        fail(error)
    if result["backup"] is None:
        typer.echo(f"{result['path']} is at format version {result['to_version']}; nothing to do")
        return
    typer.echo(
        f"migrated {result['path']} from format version {result['from_version']} to "
        f"{result['to_version']}; backup: {result['backup']}"
    )
