"""``kgtransfer demo | recommend | transfer | report``: the product on the command line.

Examples::

    kgtransfer demo                                  # built-in zoo -> reports/report.html
    kgtransfer recommend digits_blurred --k 3        # rank sources for a graph dataset
    kgtransfer recommend mine --data my.csv --label-column y
    kgtransfer transfer cnn_small.digits digits_blurred --write
    kgtransfer report --targets digits_blurred,digits_5to9 --out reports
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kgtransfer.cli._app import HomeOption, QuietOption, app, fail, progress_enabled
from kgtransfer.cli._executor import AddressOption, ExecutorOption, executor_option
from kgtransfer.cli._output import Format, FormatOption, emit_frame, emit_json, note, records
from kgtransfer.errors import KGTransferError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["demo", "recommend_cmd", "report_cmd", "transfer_cmd"]

_EXPECTED = (KGTransferError, ValueError, KeyError, OSError, RuntimeError)

StoreOption = Annotated[
    Path | None,
    typer.Option("--store", help="Graph store folder (default: HOME/graph).", file_okay=False),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of every random choice.")]
KOption = Annotated[int, typer.Option("--k", help="Candidates shown per target.", min=1)]
ThreadsOption = Annotated[
    int,
    typer.Option(
        "--threads",
        min=1,
        envvar="KGTRANSFER_THREADS",
        help="torch CPU threads, also of the recommenders' fit and rank. The zoo's models are "
        "tiny: 1 avoids oversubscribing a shared machine (2 threads were 30x slower under "
        "load).",
    ),
]
ColumnMapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--column-map",
        help="Rename a column of the --data CSV before reading it: OLD=NEW (repeatable); "
        "--label-column takes the new name.",
    ),
]
DeviceOption = Annotated[
    str,
    typer.Option(
        "--device",
        help="Where models compute: cpu, auto (a CUDA GPU when torch sees one, else cpu), "
        "cuda, cuda:N or mps. Only cpu is tested here.",
    ),
]


def _csv_renames(values: list[str] | None, data: Path | None) -> dict[str, str] | None:
    """``--column-map`` of a ``--data`` CSV as ``{old: new}`` (ingest's parser)."""
    from kgtransfer.cli.graph import csv_column_map

    if values and data is None:
        fail("--column-map renames columns of the --data CSV; pass --data PATH too")
    return csv_column_map(values or [])


def _threads(n: int) -> None:
    import torch

    from kgtransfer.transfer.recommend import set_recommender_threads

    torch.set_num_threads(n)
    set_recommender_threads(n)


GnnEpochsOption = Annotated[
    int | None, typer.Option("--gnn-epochs", help="GNN training steps (default: its own).")
]
EnsembleOption = Annotated[
    int | None, typer.Option("--ensemble", help="GNN ensemble size (default: its own).")
]


def _gnn_params(seed: int, epochs: int | None, ensemble: int | None) -> dict[str, Any]:
    params: dict[str, Any] = {"seed": seed}
    if epochs is not None:
        params["epochs"] = epochs
    if ensemble is not None:
        params["n_ensemble"] = ensemble
    return params


def _home(home: Path | None) -> Path:
    from kgtransfer.cli.zoo import default_home

    return home or default_home()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _open_tables(store: Path | None, home: Path | None) -> Any:
    from kgtransfer.kg import ZooGraph

    path = store or _home(home) / "graph"
    if not path.is_dir():
        raise FileNotFoundError(
            f"No graph store at {path}; run `kgtransfer zoo build` (or `kgtransfer demo`) "
            "first, or pass --store PATH."
        )
    with ZooGraph.open(path, read_only=True) as graph:
        return graph.to_tables()


def _fmt(value: Any, spec: str = ".3f") -> str:
    import pandas as pd

    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "-"
    return format(value, spec) if isinstance(value, (int, float)) else str(value)


def _print_ranking(frame: pd.DataFrame, *, evidence: bool = True) -> None:
    typer.echo(
        f"{'rank':>4}  {'model':<30} {'predicted':>9} {'interval':>15} {'gain':>7} "
        f"{'P(loss)':>7} {'measured':>8}"
    )
    for row in frame.to_dict("records"):
        interval = f"[{_fmt(row['low'], '.2f')}, {_fmt(row['high'], '.2f')}]"
        typer.echo(
            f"{int(row['rank']):>4}  {row['model']!s:<30} {_fmt(row['predicted']):>9} "
            f"{interval:>15} {_fmt(row['predicted_gain'], '+.3f'):>7} "
            f"{_fmt(row['risk'], '.2f'):>7} {_fmt(row['actual']):>8}"
        )
        if evidence and row.get("evidence"):
            typer.echo(f"        {row['evidence']}")


@app.command("demo")
def demo(
    home: HomeOption = None,
    out: Annotated[Path, typer.Option("--out", help="Report folder.", file_okay=False)] = Path(
        "reports"
    ),
    spec: Annotated[str, typer.Option("--spec", help="Built-in zoo: default or tiny.")] = (
        "default"
    ),
    seed: SeedOption = 0,
    k: KOption = 5,
    gnn_epochs: GnnEpochsOption = None,
    ensemble: EnsembleOption = None,
    threads: ThreadsOption = 1,
    quiet: QuietOption = False,
    executor: ExecutorOption = "serial",
    address: AddressOption = None,
) -> None:
    """Run the whole job on the built-in zoo and write a batch report.

    Builds (or reuses) the zoo and its graph under HOME, runs the transfer grid,
    then for each built-in target: fits the GNN recommender without that target's
    records (leave-one-target-out), recommends sources, fine-tunes the best one
    with the grid's budget, compares it with scratch and with the best source in
    hindsight, and writes the report (HTML, CSV, JSON, Markdown) to --out.
    With --executor ray the grid's runs and the targets run in parallel on Ray.

    \b
    Examples:
      kgtransfer demo
      kgtransfer demo --home /tmp/kgt --out /tmp/reports --quiet
      kgtransfer demo --spec tiny --gnn-epochs 40
      kgtransfer demo --spec tiny --executor ray
    """
    _threads(threads)
    from kgtransfer.api import run_demo
    from kgtransfer.zoo import get_zoo_spec

    params = _gnn_params(seed, gnn_epochs, ensemble)
    try:
        result = run_demo(
            _home(home),
            out,
            spec=get_zoo_spec(spec),
            seed=seed,
            k=k,
            gnn_params=params,
            progress=progress_enabled(quiet),
            executor=executor_option(executor, address),
        )
    except _EXPECTED as exc:
        fail(_one_line(exc))
    from kgtransfer.cli._output import print_table

    columns = {
        "target": "target",
        "recommended": "recommended",
        "predicted": "pred.",
        "risk": "risk",
        "transferred": "transfer",
        "scratch": "scratch",
        "gain": "gain",
        "best_in_hindsight": "best in hindsight",
        "regret": "regret",
    }
    summary = result.summary.reindex(columns=list(columns)).rename(columns=columns)
    print_table(
        summary,
        formats={"pred.": ".3f", "risk": ".2f", "transfer": ".3f", "scratch": ".3f",
                 "gain": "+.3f", "regret": ".3f"},
    )  # fmt: skip
    times = ", ".join(f"{key} {value:.1f} s" for key, value in result.seconds.items())
    typer.echo(f"time: {times}")
    typer.echo(f"report: {result.report['html']}")


@app.command("recommend")
def recommend_cmd(
    target: Annotated[str, typer.Argument(help="Dataset id in the graph, or a name for --data.")],
    k: KOption = 5,
    store: StoreOption = None,
    home: HomeOption = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="A new dataset as CSV (joined to the graph by similarity)."),
    ] = None,
    label_column: Annotated[
        str | None, typer.Option("--label-column", help="Label column of --data.")
    ] = None,
    column_map: ColumnMapOption = None,
    rerank: Annotated[
        int, typer.Option("--rerank", help="Re-rank the top N with an estimator.", min=0)
    ] = 0,
    estimator: Annotated[str, typer.Option("--estimator", help="Estimator of --rerank.")] = "logme",
    holdout: Annotated[
        bool,
        typer.Option("--holdout", help="Hide the target's own records (cold-start ranking)."),
    ] = False,
    modality: Annotated[
        str | None,
        typer.Option(
            "--modality",
            help="Only models of this modality ('all': every model; default: the target's).",
        ),
    ] = None,
    gnn_epochs: GnnEpochsOption = None,
    ensemble: EnsembleOption = None,
    seed: SeedOption = 0,
    threads: ThreadsOption = 1,
    device: DeviceOption = "cpu",
    quiet: QuietOption = False,
    output: FormatOption = Format.table,
) -> None:
    """Rank source models for TARGET with predicted value, interval, gain and risk.

    \b
    Examples:
      kgtransfer recommend digits_blurred --k 3
      kgtransfer recommend digits_blurred --holdout --rerank 5
      kgtransfer recommend mine --data my.csv --label-column label
      kgtransfer recommend wine --data wine.csv --column-map quality=label --label-column label
      kgtransfer recommend digits_blurred --format csv > ranking.csv
    """
    _threads(threads)
    from kgtransfer.api import recommend
    from kgtransfer.transfer import GNNRecommender

    progress = progress_enabled(quiet)
    filters: dict[str, Any] = {}
    if modality is not None:
        filters["modality"] = None if modality == "all" else modality
    try:
        tables = _open_tables(store, home)
        if data is not None and label_column is None:
            raise ValueError("--data needs --label-column (the CSV column holding labels).")
        renames = _csv_renames(column_map, data)
        rec = recommend(
            tables,
            str(data) if data is not None else target,
            k=k,
            name=target if data is not None else None,
            label_column=label_column,
            rerank=rerank,
            rerank_estimator=estimator,
            checkpoints=_home(home) / "zoo" / "models" if rerank else None,
            exclude_target_records=holdout,
            **filters,
            recommender=GNNRecommender(
                **_gnn_params(seed, gnn_epochs, ensemble), progress=progress
            ),
            seed=seed,
            progress=progress,
            device=device,
            column_map=renames,
        )
    except _EXPECTED as exc:
        fail(_one_line(exc))
    if output is Format.csv:
        emit_frame(rec.to_frame(), output)
    elif output is Format.json:
        emit_json(_recommendation_doc(rec))
    else:
        scratch = (
            f"scratch {rec.scratch:.3f} ({rec.scratch_source})" if rec.scratch is not None else ""
        )
        typer.echo(f"target {rec.target} ({rec.kind}) {scratch}".rstrip())
        if len(rec.neighbours):
            near = ", ".join(
                f"{d} ({s:.2f})"
                for d, s in zip(
                    rec.neighbours["dataset"], rec.neighbours["similarity"], strict=True
                )
            )
            typer.echo(f"nearest datasets: {near}")
        _ranking_table(rec.frame)
    for text in rec.metadata.get("notes", []):
        note(text)
    if rec.frame.empty:
        why = f" of modality {modality!r}" if modality not in (None, "all") else ""
        note(f"no candidate model{why} for {rec.target}; try --modality all")


def _recommendation_doc(rec: Any) -> dict[str, Any]:
    """``recommend --format json``: the target, its scratch baseline, neighbours, ranking."""
    return {
        "target": rec.target,
        "kind": rec.kind,
        "scratch": rec.scratch,
        "scratch_source": rec.scratch_source,
        "neighbours": records(rec.neighbours) if len(rec.neighbours) else [],
        "candidates": records(rec.frame),
        "notes": list(rec.metadata.get("notes", [])),
    }


def _ranking_table(frame: pd.DataFrame) -> None:
    """The ranking as a rich table (long model ids fold in their cell), evidence below."""
    import pandas as pd

    from kgtransfer.cli._output import print_table

    def col(name: str) -> pd.Series:
        return frame[name] if name in frame.columns else pd.Series([None] * len(frame))

    interval = [
        f"[{_fmt(lo, '.2f')}, {_fmt(hi, '.2f')}]"
        for lo, hi in zip(col("low"), col("high"), strict=True)
    ]
    shown = pd.DataFrame(
        {
            "rank": [int(r) for r in frame["rank"]],
            "model": frame["model"].astype(str).tolist(),
            "predicted": col("predicted").tolist(),
            "interval": interval,
            "gain": col("predicted_gain").tolist(),
            "P(loss)": col("risk").tolist(),
            "measured": col("actual").tolist(),
        }
    )
    for name in ("predicted", "gain", "P(loss)", "measured"):
        shown[name] = pd.to_numeric(shown[name], errors="coerce")
    print_table(
        shown,
        formats={"predicted": ".3f", "gain": "+.3f", "P(loss)": ".2f", "measured": ".3f"},
    )
    for rank, text in zip(shown["rank"], col("evidence"), strict=True):
        if isinstance(text, str) and text:
            typer.echo(f"  {rank}: {text}")


@app.command("transfer")
def transfer_cmd(
    source: Annotated[
        str,
        typer.Argument(
            help="Zoo model name, checkpoint / timm / Hugging Face folder, or a hub id in the "
            "local Hugging Face cache."
        ),
    ],
    target: Annotated[str, typer.Argument(help="Registered dataset name, or a name for --data.")],
    arch: Annotated[
        str | None, typer.Option("--arch", help="Target architecture (default: the source's).")
    ] = None,
    method: Annotated[str, typer.Option("--method", help="auto or a transfer method.")] = "auto",
    data: Annotated[
        Path | None, typer.Option("--data", help="Target data as CSV (a held-out split is made).")
    ] = None,
    label_column: Annotated[
        str | None, typer.Option("--label-column", help="Label column of --data.")
    ] = None,
    column_map: ColumnMapOption = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = 30,
    lr: Annotated[float, typer.Option("--lr")] = 3e-3,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 32,
    write: Annotated[
        bool, typer.Option("--write", help="Write the result into the graph store.")
    ] = False,
    store: StoreOption = None,
    home: HomeOption = None,
    seed: SeedOption = 0,
    threads: ThreadsOption = 1,
    device: DeviceOption = "cpu",
    quiet: QuietOption = False,
    output: FormatOption = Format.table,
) -> None:
    """Transfer SOURCE to TARGET, compare with training from scratch, optionally write back.

    \b
    Examples:
      kgtransfer transfer cnn_small.digits digits_blurred
      kgtransfer transfer cnn_small.digits digits_blurred --arch mlp --write
      kgtransfer transfer ./my_ckpt mine --data my.csv --label-column label
      kgtransfer transfer ./my_ckpt wine --data wine.csv --column-map quality=label --label-column label
      kgtransfer transfer cnn_small.digits digits_blurred --format json
      kgtransfer transfer cnn_small.digits digits_blurred --device auto
    """
    _threads(threads)
    from kgtransfer.api import transfer_from
    from kgtransfer.kg import ZooGraph

    budget = {"epochs": epochs, "lr": lr, "batch_size": batch_size}
    renames = _csv_renames(column_map, data)
    try:
        graph = None
        if write:
            graph = ZooGraph.open(store or _home(home) / "graph")
        try:
            result = transfer_from(
                source,
                arch,
                str(data) if data is not None else target,
                method=method,
                graph=graph,
                seed=seed,
                budget=budget,
                home=_home(home),
                target_name=target,
                label_column=label_column,
                progress=progress_enabled(quiet),
                device=device,
                column_map=renames,
            )
        finally:
            if graph is not None:
                graph.close()
    except _EXPECTED as exc:
        fail(_one_line(exc))
    choice = result.provenance["choice"]
    if output is not Format.table:
        row = {
            "source": result.source,
            "target": result.target,
            "method": result.method,
            "reason": choice.get("reason"),
            "accuracy": result.accuracy,
            "scratch": result.scratch_accuracy,
            "gain": result.gain,
            "negative_transfer": bool(result.negative_transfer),
            "record": result.record_id,
        }
        if output is Format.json:
            emit_json(row)
        else:
            import pandas as pd

            emit_frame(pd.DataFrame([row]), output)
        return
    typer.echo(f"method: {result.method} ({choice['reason']})")
    typer.echo(
        f"{result.source} -> {result.target}: accuracy {result.accuracy:.3f}, scratch "
        f"{_fmt(result.scratch_accuracy)}, gain {_fmt(result.gain, '+.3f')}"
        + ("  NEGATIVE TRANSFER" if result.negative_transfer else "")
    )
    if result.record_id:
        typer.echo(f"record: {result.record_id}")


@app.command("report")
def report_cmd(
    targets: Annotated[
        str, typer.Option("--targets", help="Comma-separated dataset ids of the graph.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Report folder.", file_okay=False)] = Path(
        "reports"
    ),
    store: StoreOption = None,
    home: HomeOption = None,
    k: KOption = 10,
    holdout: Annotated[
        bool,
        typer.Option(
            "--holdout/--no-holdout",
            help="Rank each target without its own records (one fit per target).",
        ),
    ] = True,
    formats: Annotated[
        str, typer.Option("--formats", help="Comma-separated: html,csv,json,md.")
    ] = "html,csv,json,md",
    title: Annotated[str, typer.Option("--title")] = "kgtransfer recommendations",
    gnn_epochs: GnnEpochsOption = None,
    ensemble: EnsembleOption = None,
    seed: SeedOption = 0,
    threads: ThreadsOption = 1,
    quiet: QuietOption = False,
    executor: ExecutorOption = "serial",
    address: AddressOption = None,
    output: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="The summary on stdout (top source per target): table, csv or json. "
            "--formats chooses the report files.",
        ),
    ] = Format.table,
) -> None:
    """Recommend sources for many targets and write one batch report.

    With --executor ray the targets are ranked in parallel on Ray (one fit per target
    with --holdout); this process writes the report.

    \b
    Examples:
      kgtransfer report --targets digits_blurred,digits_5to9
      kgtransfer report --targets digits_blurred --store /tmp/graph --out /tmp/r --formats html
      kgtransfer report --targets digits_blurred,digits_5to9 --format json
      kgtransfer report --targets digits_blurred,digits_5to9 --executor ray
    """
    _threads(threads)
    from kgtransfer.report.batch import report_targets

    names = [t.strip() for t in targets.split(",") if t.strip()]
    if not names:
        fail("--targets is empty; pass dataset ids separated by commas.")
    try:
        tables = _open_tables(store, home)
        batch = report_targets(
            tables,
            names,
            out,
            recommender_params=_gnn_params(seed, gnn_epochs, ensemble),
            holdout=holdout,
            seed=seed,
            k=k,
            formats=tuple(f.strip() for f in formats.split(",") if f.strip()),
            title=title,
            executor=executor_option(executor, address),
            progress=progress_enabled(quiet),
        )
        recs, paths = batch.recommendations, batch.paths
    except _EXPECTED as exc:
        fail(_one_line(exc))
    import pandas as pd

    summary = pd.DataFrame(
        [
            {
                "target": rec.target,
                "best": rec.best,
                "predicted": rec.frame["predicted"].iloc[0],
                "gain": rec.frame["predicted_gain"].iloc[0],
                "risk": rec.frame["risk"].iloc[0],
            }
            for rec in recs
        ]
    )
    for name in ("predicted", "gain", "risk"):
        summary[name] = pd.to_numeric(summary[name], errors="coerce")
    main_file = paths.get("html") or next(iter(paths.values()))
    if output is Format.json:
        emit_json({"targets": records(summary), "files": {k: str(v) for k, v in paths.items()}})
        return
    if output is Format.csv:
        emit_frame(summary, output)
        note(f"report: {main_file}")
        return
    from kgtransfer.cli._output import print_table

    print_table(summary, formats={"predicted": ".3f", "gain": "+.3f", "risk": ".2f"})
    typer.echo(f"report: {main_file}")
