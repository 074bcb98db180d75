"""``kgtransfer select``: choose a source with a few fine-tuning trials.

Examples::

    kgtransfer select digits_blurred --trials 5
    kgtransfer select mine --trials 3 --data my.csv --label-column label --batch-size 3
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from kgtransfer.cli._app import HomeOption, QuietOption, app, fail, progress_enabled
from kgtransfer.cli._executor import AddressOption, ExecutorOption, executor_option
from kgtransfer.cli._output import Format, FormatOption, emit_frame, emit_json, note, records
from kgtransfer.cli.product import (
    _EXPECTED,
    EnsembleOption,
    GnnEpochsOption,
    SeedOption,
    StoreOption,
    ThreadsOption,
    _fmt,
    _gnn_params,
    _home,
    _one_line,
    _threads,
)

__all__ = ["select_cmd"]


@app.command("select")
def select_cmd(
    target: Annotated[str, typer.Argument(help="Target dataset id of the graph.")],
    trials: Annotated[int, typer.Option("--trials", min=1, help="Fine-tuning trials to run.")] = 5,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Target data as CSV (default: the registered dataset)."),
    ] = None,
    label_column: Annotated[
        str | None, typer.Option("--label-column", help="Label column of --data.")
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Candidates proposed per round.")
    ] = 1,
    strategy: Annotated[
        str, typer.Option("--strategy", help="ei (default), ucb or thompson.")
    ] = "ei",
    recommender: Annotated[
        str, typer.Option("--recommender", help="Prior: gnn (default) or a baseline name.")
    ] = "gnn",
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Epochs per trial.")] = 30,
    lr: Annotated[float, typer.Option("--lr", help="Learning rate of each trial.")] = 3e-3,
    train_batch_size: Annotated[
        int, typer.Option("--train-batch-size", min=1, help="Training batch size per trial.")
    ] = 32,
    keep_going: Annotated[
        bool,
        typer.Option("--keep-going", help="A failed trial is reported and skipped, not fatal."),
    ] = False,
    store: StoreOption = None,
    home: HomeOption = None,
    gnn_epochs: GnnEpochsOption = None,
    ensemble: EnsembleOption = None,
    seed: SeedOption = 0,
    threads: ThreadsOption = 1,
    quiet: QuietOption = False,
    executor: ExecutorOption = "serial",
    address: AddressOption = None,
    output: FormatOption = Format.table,
) -> None:
    """Fine-tune the most promising sources for TARGET, learning from each trial.

    The recommender ranks the zoo's models for TARGET; each trial fine-tunes one
    candidate on the target data (transfer_from, compared with scratch) and writes
    the result into the graph store; what it measured updates the belief about every
    other candidate (models that rise and fall together across the zoo's datasets),
    and the next candidate is the one with the largest expected improvement.
    With --executor ray the --batch-size trials of a round run in parallel; this
    process writes each result into the store.

    \b
    Examples:
      kgtransfer select digits_blurred --trials 5
      kgtransfer select digits_blurred --trials 6 --batch-size 3 --recommender popularity
      kgtransfer select mine --trials 3 --data my.csv --label-column label --keep-going
      kgtransfer select digits_blurred --trials 6 --batch-size 2 --executor ray
      kgtransfer select digits_blurred --trials 3 --format json | jq .best
    """
    _threads(threads)
    from kgtransfer.api import select_source
    from kgtransfer.kg import ZooGraph

    progress = progress_enabled(quiet)
    prior: Any = recommender
    if recommender == "gnn":
        from kgtransfer.transfer import GNNRecommender

        prior = GNNRecommender(**_gnn_params(seed, gnn_epochs, ensemble), progress=progress)
    budget = {"epochs": epochs, "lr": lr, "batch_size": train_batch_size}
    try:
        if data is not None and label_column is None:
            raise ValueError("--data needs --label-column (the CSV column holding labels).")
        path = store or _home(home) / "graph"
        if not path.is_dir():
            raise FileNotFoundError(
                f"No graph store at {path}; run `kgtransfer zoo build` (or `kgtransfer demo`) "
                "first, or pass --store PATH."
            )
        with ZooGraph.open(path) as graph:
            sel = select_source(
                graph,
                target,
                n_trials=trials,
                recommender=prior,
                batch_size=batch_size,
                seed=seed,
                strategy=strategy,
                data=str(data) if data is not None else None,
                home=_home(home),
                budget=budget,
                label_column=label_column,
                progress=progress,
                errors="collect" if keep_going else "raise",
                executor=executor_option(executor, address),
            )
    except _EXPECTED as exc:
        fail(_one_line(exc))
    if output is not Format.table:
        _emit_selection(sel, output, path)
        return
    typer.echo(f"target {sel.target} ({sel.metric}); {len(sel.trials)} trials written to {path}")
    typer.echo(f"{'step':>4}  {'model':<30} {'measured':>8} {'predicted':>9} {'interval':>15}")
    for row in sel.trials.to_dict("records"):
        interval = f"[{_fmt(row['low'], '.2f')}, {_fmt(row['high'], '.2f')}]"
        typer.echo(
            f"{int(row['step']):>4}  {row['model']!s:<30} {_fmt(row['value']):>8} "
            f"{_fmt(row['predicted']):>9} {interval:>15}"
        )
        typer.echo(f"        why: {row['why']}")
    for failure in sel.metadata["failed"]:
        typer.echo(f"failed: {failure['error']}", err=True)
    if not sel.trials["value"].notna().any():
        fail("no trial measured a value (see the failures above).")
    typer.echo(f"best tried: {sel.best} ({sel.best_value:.3f})")
    untried = sel.frame.loc[sel.frame["measured"].isna()].head(3)
    if len(untried):
        nxt = ", ".join(
            f"{m} ({_fmt(p)})" for m, p in zip(untried["model"], untried["predicted"], strict=True)
        )
        typer.echo(f"most promising untried: {nxt}")


def _emit_selection(sel: Any, output: Format, path: Path) -> None:
    """``select --format csv|json``: the trials on stdout, failures and notes on stderr."""
    for failure in sel.metadata["failed"]:
        note(f"failed: {failure['error']}")
    measured = bool(sel.trials["value"].notna().any())
    if output is Format.csv:
        emit_frame(sel.trials, output)
    else:
        untried = sel.frame.loc[sel.frame["measured"].isna()]
        emit_json(
            {
                "target": sel.target,
                "metric": sel.metric,
                "store": str(path),
                "best": sel.best if measured else None,
                "best_value": sel.best_value if measured else None,
                "trials": records(sel.trials),
                "untried": records(untried[["model", "predicted"]].head(10)),
                "failed": list(sel.metadata["failed"]),
            }
        )
    if not measured:
        fail("no trial measured a value (see the failures above).")
