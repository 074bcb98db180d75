"""``kgtransfer benchmark``: leave-one-target-out comparison of source-model recommenders.

Examples::

    kgtransfer benchmark --zoo transfergraph-image --targets stanfordcars,dtd
    kgtransfer benchmark --zoo tllib --methods gnn,popularity,size,score:logme --out tllib.json
    kgtransfer benchmark --models M.csv --datasets D.csv --records R.csv --similarities S.csv

Public zoos are read from ``--shared PATH`` (default ``$KGTRANSFER_SHARED_BENCHMARKS`` or
``../shared/benchmarks`` relative to the working directory). The default methods are
the GNN and every baseline (``popularity``, ``similarity``, ``size``, ``lineage``,
``task_domain`` and ``score:*`` = one ``score:<estimator>`` per estimator the zoo has
scores of); a baseline whose inputs the zoo lacks is shown as n/a.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from kgtransfer._io import atomic_write_text
from kgtransfer.cli._app import app, fail, progress_enabled
from kgtransfer.cli._output import Format, FormatOption, emit_frame, emit_json
from kgtransfer.cli._output import records as row_dicts
from kgtransfer.errors import KGTransferError

__all__: list[str] = []

_EXPECTED = (KGTransferError, ValueError, KeyError, OSError, TypeError)
CsvOption = Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="CSV file.")]


def _shared(path: Path | None) -> Path:
    if path is not None:
        return path
    env = os.environ.get("KGTRANSFER_SHARED_BENCHMARKS", "").strip()
    return Path(env) if env else Path.cwd().parent / "shared" / "benchmarks"


@app.command()
def benchmark(
    zoo: Annotated[
        str | None,
        typer.Option(
            help="Public zoo: transfergraph-image|transfergraph-text|parc|tllib|model-spider|sfda-supervised_cnn|sfda-selfsupervised|sfda-vit."
        ),
    ] = None,
    shared: Annotated[
        Path | None, typer.Option(help="Folder of the public benchmark tables.", file_okay=False)
    ] = None,
    models: CsvOption = None,
    datasets: CsvOption = None,
    records: CsvOption = None,
    similarities: CsvOption = None,
    scores: CsvOption = None,
    targets: Annotated[
        str | None,
        typer.Option(help="Comma-separated targets; 'paper' = the TransferGraph paper's 8."),
    ] = None,
    methods: Annotated[
        str,
        typer.Option(
            help="Comma-separated recommenders; 'score:*' = every estimator the zoo has scores of."
        ),
    ] = "gnn,popularity,similarity,size,lineage,task_domain,score:*",
    seed: Annotated[int, typer.Option(help="Seed of the GNN.")] = 0,
    epochs: Annotated[
        int | None, typer.Option(help="GNN training steps (default: its own).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the full results as JSON here.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    output: FormatOption = Format.table,
) -> None:
    """Leave-one-target-out benchmark; prints a Markdown table of per-method means.

    --format csv|json prints the same means for pipelines (one row per method, and with
    LogME scores a second set over those models: column ``subset`` in CSV, key
    ``logme_subset`` in JSON); --out keeps every per-target number.

    \b
    Examples:
      kgtransfer benchmark --zoo transfergraph-image --targets stanfordcars,dtd
      kgtransfer benchmark --zoo tllib --methods gnn,popularity,score:logme --out tllib.json
      kgtransfer benchmark --records R.csv --models M.csv --datasets D.csv
      kgtransfer benchmark --records R.csv --methods gnn,popularity --format csv
    """
    from kgtransfer.transfer.recommend import list_recommenders
    from kgtransfer.transfer.recommend.benchmarks import (
        PAPER_TARGETS,
        load_benchmark_zoo,
        markdown_table,
        run_benchmark,
        summary_table,
    )

    if (zoo is None) == (records is None):
        fail(
            "give either --zoo NAME or your own tables (--records R.csv [--models ...]), not both."
        )
    method_list = [m.strip() for m in methods.split(",") if m.strip()]
    if "logme" in method_list:
        typer.echo("note: method 'logme' is deprecated; running 'score:logme'.", err=True)
        method_list = [("score:logme" if m == "logme" else m) for m in method_list]
    unknown = [m for m in method_list if m not in list_recommenders() and m != "score:*"]
    if unknown:
        fail(f"unknown method(s) {unknown}; choose from {list_recommenders()}.")
    try:
        if zoo is not None:
            tables = load_benchmark_zoo(zoo, _shared(shared))
        else:
            from kgtransfer.kg.ingest import normalize_tables

            tables, _ = normalize_tables(
                models=models, datasets=datasets, records=records,
                similarities=similarities, scores=scores, create_missing=True,
            )  # fmt: skip
        target_list: list[str] | None = None
        if targets == "paper":
            if zoo not in PAPER_TARGETS:
                fail(f"--targets paper needs --zoo {' or '.join(PAPER_TARGETS)}.")
            target_list = PAPER_TARGETS[str(zoo)]
        elif targets:
            target_list = [t.strip() for t in targets.split(",") if t.strip()]
        gnn_params: dict[str, object] = {"seed": seed}
        if epochs is not None:
            gnn_params["epochs"] = epochs
        results = run_benchmark(
            tables, method_list, targets=target_list, params={"gnn": gnn_params},
            progress=progress_enabled(quiet),
        )  # fmt: skip
    except _EXPECTED as exc:
        text = str(exc).strip().splitlines()
        fail(text[0] if text else type(exc).__name__)
    for method, res in results.items():
        if "error" in res:
            typer.echo(f"note: {method} skipped: {res['error']}", err=True)
        elif "n/a" in res:
            typer.echo(f"note: {method} n/a: {res['n/a']}", err=True)
    has_logme = any("mean_logme" in r for r in results.values())
    if output is Format.json:
        doc: dict[str, object] = {"zoo": zoo, "targets": target_list}
        doc["summary"] = row_dicts(summary_table(results))
        if has_logme:
            doc["logme_subset"] = row_dicts(summary_table(results, subset="logme"))
        emit_json(doc)
    elif output is Format.csv:
        import pandas as pd

        frames = [summary_table(results).assign(subset="all")]
        if has_logme:
            frames.append(summary_table(results, subset="logme").assign(subset="logme"))
        emit_frame(pd.concat(frames, ignore_index=True), output)
    else:
        typer.echo(markdown_table(summary_table(results)))
        if has_logme:
            typer.echo("\nOver the models with a LogME score:\n")
            typer.echo(markdown_table(summary_table(results, subset="logme")))
    if out is not None:
        payload = {"zoo": zoo, "targets": target_list, "results": results}
        atomic_write_text(out, json.dumps(payload, indent=2))
