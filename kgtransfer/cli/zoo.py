"""``kgtransfer zoo``: build the built-in model zoo, run its transfer grid, list its models.

Examples::

    kgtransfer zoo build                 # train (or reuse) the default zoo, fill the graph
    kgtransfer zoo grid --quiet          # fine-tune every source on every few-shot target
    kgtransfer zoo list --spec tiny      # models of the tiny test zoo and their status
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from kgtransfer.cli._app import HomeOption, QuietOption, app, fail, progress_enabled
from kgtransfer.cli._executor import AddressOption, ExecutorOption, executor_option
from kgtransfer.cli._output import Format, FormatOption, emit_frame
from kgtransfer.errors import KGTransferError

__all__ = ["default_home", "zoo_app"]

zoo_app = typer.Typer(
    help="Build the built-in model zoo and the transfer grid that is the graph's ground truth.",
    no_args_is_help=True,
)
app.add_typer(zoo_app, name="zoo")


def default_home() -> Path:
    """``$KGTRANSFER_HOME``, or ``~/.cache/kgtransfer`` when it is unset or empty."""
    env = os.environ.get("KGTRANSFER_HOME", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "kgtransfer"


SpecOption = Annotated[str, typer.Option("--spec", help="Built-in zoo spec: default or tiny.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Global seed of training and splits.")]
ForceOption = Annotated[bool, typer.Option("--force", help="Recompute even what is cached.")]
ErrorsOption = Annotated[
    str,
    typer.Option(
        "--errors",
        help="On a failing model or run: raise (stop), warn or collect (go on, report it).",
    ),
]

_EXPECTED = (KGTransferError, ValueError, KeyError, OSError)
_T = TypeVar("_T")


def _zoo_step(
    step: Callable[..., _T],
    home: Path,
    spec: str,
    seed: int,
    force: bool,
    quiet: bool,
    errors: str,
    **extra: Callable[[], object],
) -> _T:
    """Run ``build_zoo`` / ``run_grid`` with the options the zoo commands share.

    ``extra``: further keyword arguments, each made inside the same error handling (an
    expected error ends the command with its one-line reason).
    """
    from kgtransfer.zoo import get_zoo_spec

    try:
        return step(
            home,
            spec=get_zoo_spec(spec),
            seed=seed,
            force=force,
            progress=progress_enabled(quiet),
            errors=errors,  # checked by the step
            **{name: make() for name, make in extra.items()},
        )
    except _EXPECTED as exc:
        fail(_one_line(exc))


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@zoo_app.command("build")
def build(
    home: HomeOption = None,
    force: ForceOption = False,
    seed: SeedOption = 0,
    quiet: QuietOption = False,
    spec: SpecOption = "default",
    errors: ErrorsOption = "raise",
) -> None:
    """Train (or reuse) every zoo source model and write checkpoints, cards and the graph.

    \b
    Examples:
      kgtransfer zoo build
      kgtransfer zoo build --home /tmp/kgt --spec tiny
    """
    from kgtransfer.zoo import build_zoo

    home = home or default_home()
    result = _zoo_step(build_zoo, home, spec, seed, force, quiet, errors)
    for row in result.models[result.models["status"] == "failed"].itertuples():
        typer.echo(f"failed: {row.model}: {row.error}", err=True)
    failed = f", {result.n_failed} failed" if result.n_failed else ""
    typer.echo(
        f"zoo {spec!r}: {len(result.models)} models ({result.n_built} built, "
        f"{result.n_cached} cached{failed}), {len(result.datasets)} datasets, "
        f"{len(result.similarities)} similarity edges in {result.seconds:.1f} s"
    )
    typer.echo(f"checkpoints: {home / 'zoo' / 'models'}")
    typer.echo(f"graph: {result.graph_path} ({'updated' if result.graph_updated else 'unchanged'})")


@zoo_app.command("grid")
def grid(
    home: HomeOption = None,
    force: ForceOption = False,
    seed: SeedOption = 0,
    quiet: QuietOption = False,
    spec: SpecOption = "default",
    errors: ErrorsOption = "raise",
    executor: ExecutorOption = "serial",
    address: AddressOption = None,
) -> None:
    """Fine-tune every source on every few-shot target, versus scratch; write the results.

    Needs `kgtransfer zoo build` first. Results: HOME/zoo/grid.csv and the graph.
    With --executor ray the runs execute in parallel on Ray; this process writes each
    result as it arrives (an interrupted grid resumes where it stopped).

    \b
    Examples:
      kgtransfer zoo grid
      kgtransfer zoo grid --home /tmp/kgt --spec tiny --quiet
      kgtransfer zoo grid --executor ray
      kgtransfer zoo grid --executor ray --address 127.0.0.1:6379
    """
    from kgtransfer.zoo import run_grid

    home = home or default_home()
    frame = _zoo_step(
        run_grid,
        home,
        spec,
        seed,
        force,
        quiet,
        errors,
        executor=lambda: executor_option(executor, address),
    )
    ok = frame[(frame["status"] == "ok") & (frame["method"] != "scratch")]
    bad = frame[frame["status"] == "failed"]
    for row in bad.itertuples():
        typer.echo(
            f"failed: {row.method} {row.source or row.architecture} on {row.target}: {row.error}",
            err=True,
        )
    failed = f", {len(bad)} failed" if len(bad) else ""
    typer.echo(
        f"{len(frame)} runs ({len(ok)} transfers ok{failed}); results: {home / 'zoo' / 'grid.csv'}"
    )
    import pandas as pd

    from kgtransfer.cli._output import print_table

    best_rows = []
    for target, rows in ok.groupby("target", sort=False):
        best = rows.loc[rows["accuracy"].idxmax()]
        best_rows.append(
            {"target": target, "best source": best["source"], "accuracy": best["accuracy"],
             "scratch": best["scratch"], "gain": best["gain"]}
        )  # fmt: skip
    columns = ["target", "best source", "accuracy", "scratch", "gain"]
    print_table(
        pd.DataFrame(best_rows, columns=columns),
        formats={"accuracy": ".3f", "scratch": ".3f", "gain": "+.3f"},
    )


@zoo_app.command("list")
def list_(
    home: HomeOption = None,
    seed: SeedOption = 0,
    spec: SpecOption = "default",
    output: FormatOption = Format.table,
) -> None:
    """List the zoo's models with their status (built, stale, missing) and test accuracy.

    \b
    Examples:
      kgtransfer zoo list
      kgtransfer zoo list --spec tiny --home /tmp/kgt
      kgtransfer zoo list --format csv > zoo.csv
    """
    from kgtransfer.zoo import get_zoo_spec, zoo_status

    home = home or default_home()
    try:
        frame = zoo_status(home, spec=get_zoo_spec(spec), seed=seed)
    except _EXPECTED as exc:
        fail(_one_line(exc))
    from kgtransfer.cli._output import print_table

    shown = frame.reindex(
        columns=["model", "architecture", "dataset", "base_model", "status", "test_accuracy"]
    ).rename(columns={"test_accuracy": "test_acc"})
    if output is not Format.table:
        emit_frame(frame, output)  # every column, under its own name
        return
    print_table(shown, formats={"test_acc": ".3f"})
