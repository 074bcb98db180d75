"""``kgtransfer ingest | query | stats | export``: fill, ask and dump the zoo's knowledge graph.

Examples::

    kgtransfer ingest --models models.csv --records records.csv
    kgtransfer ingest --transfergraph ../shared/benchmarks/transfergraph --zoo image
    kgtransfer query lineage --param model=vit-ft-cifar
    kgtransfer query my_query.rq --param dataset=cifar10 --format csv
    kgtransfer stats
    kgtransfer export --format ttl zoo.ttl

The store is ``--store PATH``, by default ``$KGTRANSFER_HOME/graph`` (``KGTRANSFER_HOME``
defaults to ``~/.cache/kgtransfer``). Only ``ingest`` creates it; ``query``, ``stats`` and
``export`` open it read-only, so they work beside a running ingest and on read-only media.
"""

from __future__ import annotations

import json
import os
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from kgtransfer.cli._app import app, fail, progress_enabled
from kgtransfer.cli._output import Format, FormatOption, emit_frame, emit_json
from kgtransfer.errors import ErrorMode, KGTransferError, check_error_mode

if TYPE_CHECKING:
    import pandas as pd

    from kgtransfer.kg import ZooGraph

__all__ = ["default_store"]

_EXPECTED = (KGTransferError, ValueError, KeyError, OSError, TypeError, SyntaxError)


def default_store() -> Path:
    """``$KGTRANSFER_HOME/graph`` (``KGTRANSFER_HOME`` defaults to ``~/.cache/kgtransfer``)."""
    env = os.environ.get("KGTRANSFER_HOME", "").strip()
    home = Path(env).expanduser() if env else Path.home() / ".cache" / "kgtransfer"
    return home / "graph"


class Errors(str, Enum):
    raise_ = "raise"
    warn = "warn"
    collect = "collect"


class Zoo(str, Enum):
    image = "image"
    text = "text"


class OutputFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class RdfFormat(str, Enum):
    ttl = "ttl"
    nt = "nt"
    jsonld = "jsonld"
    nq = "nq"


StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store", help="Graph store folder (default: $KGTRANSFER_HOME/graph).", file_okay=False
    ),
]
FileOption = Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="CSV file.")]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _store(store: Path | None) -> Path:
    return store if store is not None else default_store()


@app.command()
def ingest(
    models: FileOption = None,
    datasets: FileOption = None,
    records: FileOption = None,
    similarities: FileOption = None,
    scores: FileOption = None,
    cards: Annotated[
        Path | None, typer.Option(exists=True, help="A model card or a folder of them.")
    ] = None,
    transfergraph: Annotated[
        Path | None, typer.Option(exists=True, file_okay=False, help="TransferGraph folder.")
    ] = None,
    zoo: Annotated[Zoo, typer.Option(help="Which TransferGraph zoo.")] = Zoo.image,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            help="A timm or Hugging Face model folder, or a hub id in the local Hugging Face "
            "cache (never downloaded); repeatable. Its architecture, size, input contract and "
            "card (license, datasets, base_model) are written.",
        ),
    ] = None,
    create_missing: Annotated[
        bool, typer.Option(help="Accept records about models/datasets that are in no table.")
    ] = False,
    store: StoreOption = None,
    errors: Annotated[
        Errors | None,
        typer.Option(
            help="raise: stop at the first bad row; warn/collect: keep going. "
            "Default: raise, but warn for --transfergraph (its public tables have bad rows)."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    column_map: Annotated[
        list[str] | None,
        typer.Option(
            "--column-map",
            help="Rename a column of your tables before checking: OLD=NEW (every table) or "
            "TABLE:OLD=NEW (models, datasets, records, similarities, scores); repeatable.",
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace everything known about the models, datasets and metrics ingested "
            "(default: merge, i.e. update only the fields given; overwrites are reported).",
        ),
    ] = False,
) -> None:
    """Add tables, model cards, a TransferGraph folder or your own models (one batch each).

    \b
    Examples:
      kgtransfer ingest --models M.csv --datasets D.csv --records R.csv
      kgtransfer ingest --records R.csv --column-map eval_accuracy=value --create-missing
      kgtransfer ingest --cards ~/hf-cards/
      kgtransfer ingest --source google/vit-base-patch16-224 --source ./my_timm_model
    """
    from kgtransfer.kg import ZooGraph

    tables = {"models": models, "datasets": datasets, "records": records,
              "similarities": similarities, "scores": scores}  # fmt: skip
    if not any(tables.values()) and cards is None and transfergraph is None and not source:
        fail(
            "nothing to ingest: give --models/--datasets/--records/..., --cards, "
            "--transfergraph or --source"
        )
    mode: ErrorMode = check_error_mode(errors.value) if errors is not None else "raise"
    write: Literal["merge", "replace"] = "replace" if replace else "merge"
    renames = _column_map(column_map or [])
    try:
        with ZooGraph.open(_store(store), create=True) as graph:
            reports = []
            if any(tables.values()):
                reports.append(
                    graph.add_tables(
                        **tables,
                        errors=mode,
                        create_missing=create_missing,
                        column_map=renames,
                        progress=progress_enabled(quiet),
                        mode=write,
                    )
                )
                _report(reports[-1])
            if cards is not None:
                reports.append(graph.add_model_cards(cards, errors=mode, mode=write))
                _report(reports[-1])
            if source:
                from kgtransfer.api import add_sources

                reports.append(add_sources(graph, source, errors=mode, mode=write))
                _report(reports[-1])
            if transfergraph is not None:
                reports.append(
                    graph.add_transfergraph(
                        transfergraph,
                        zoo=zoo.value,
                        errors=mode if errors is not None else "warn",
                        mode=write,
                    )
                )
                _report(reports[-1])
            stats = graph.stats()
    except _EXPECTED as exc:
        fail(_one_line(exc))
    for report in reports:
        typer.echo(f"batch {report.batch}")
    typer.echo(", ".join(f"{k}={v}" for k, v in stats.items()))


_TABLES = ("models", "datasets", "records", "similarities", "scores")


def _column_map(
    values: list[str], *, tables: tuple[str, ...] = _TABLES
) -> dict[str, dict[str, str]] | None:
    """``--column-map OLD=NEW`` / ``TABLE:OLD=NEW`` as add_tables' per-table column_map
    (``tables=()``: a CSV target, where only OLD=NEW applies; see :func:`csv_column_map`)."""
    if not values:
        return None
    out: dict[str, dict[str, str]] = {}
    for item in values:
        old, sep, new = item.rpartition("=")
        if not sep or not old or not new:
            fail(f"--column-map {item!r} is not OLD=NEW or TABLE:OLD=NEW")
        table, colon, column = old.partition(":")
        targets: tuple[str, ...]
        if colon and not tables and table in _TABLES:
            fail(f"--column-map {item!r}: a CSV target has one table; use OLD=NEW")
        if colon and table in tables:
            targets, old = (table,), column
        elif colon and table and column and tables:
            from kgtransfer.errors import did_you_mean

            hint = f"Tables: {', '.join(_TABLES)} (a column with ':' needs TABLE:OLD=NEW)."
            fail(str(did_you_mean(table, _TABLES, what="table in --column-map", hint=hint)))
        else:
            targets = tables or ("csv",)
        for name in targets:
            out.setdefault(name, {})[old] = new
    return out


def csv_column_map(values: list[str]) -> dict[str, str] | None:
    """``--column-map OLD=NEW`` (repeatable) of ``recommend`` / ``transfer`` as the
    ``{old: new}`` renames of a ``--data`` CSV file (the parser of ``ingest``'s)."""
    per_table = _column_map(values, tables=())
    return None if per_table is None else per_table["csv"]


def _report(report: object) -> None:
    if report is not None:
        typer.echo(str(report), err=True)


def _params(values: list[str]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"--param {item!r} is not KEY=VALUE")
        out[key.strip()] = value
    return out


def _emit(frame: pd.DataFrame, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.csv:
        # Query results carry ids from whoever wrote a card or table: cells a
        # spreadsheet could run as a formula get a leading ' (as report CSVs do).
        from kgtransfer.report._escape import csv_frame

        typer.echo(csv_frame(frame).to_csv(index=False), nl=False)
    elif fmt is OutputFormat.json:
        typer.echo(json.dumps(frame.to_dict(orient="records"), ensure_ascii=False, default=str))
    elif frame.empty:
        typer.echo("(no rows)")
    else:
        import pandas as pd

        with pd.option_context(
            "display.max_rows", None, "display.max_columns", None, "display.width", 200
        ):
            typer.echo(frame.to_string(index=False))


def _check_id(graph: ZooGraph, kind: str, id_: str, flag: str) -> None:
    """Raise a did-you-mean error when ``id_`` names no ``kind`` entity of the graph."""
    from kgtransfer.errors import did_you_mean
    from kgtransfer.kg.iri import ID_BASE, KINDS

    if kind not in KINDS:
        raise did_you_mean(
            kind, KINDS, what=f"entity kind in {flag}", hint=f"KIND is one of {', '.join(KINDS)}."
        )
    if kind in ("model", "dataset", "metric"):  # in-process, no query worker
        ids = graph.ids(kind)  # type: ignore[arg-type]  # narrowed by the test above
        if id_ in ids:
            return
    else:
        found = graph.query(
            "SELECT ?x WHERE { { ?x ?p ?o } UNION { ?s ?p ?x } } LIMIT 1",
            bindings={"x": graph.iri(kind, id_)},
            limit=1,
        )
        if len(found):
            return
        known = graph.query(
            "SELECT DISTINCT ?x ?prefix WHERE { ?x ?p ?o FILTER(STRSTARTS(STR(?x), ?prefix)) }",
            bindings={"prefix": f"{ID_BASE}{kind}/"},
            limit=None,
        )
        ids = sorted({str(x) for x in known["x"]}) if len(known) else []
    raise did_you_mean(
        id_, ids, what=f"{kind} in {flag}", hint=f"The graph has {len(ids)} {kind} ids."
    )


def _check_params(graph: ZooGraph, name: str, params: dict[str, str]) -> None:
    """Check each entity-valued parameter of a named query names something in the graph."""
    from kgtransfer.kg._queries import get_query
    from kgtransfer.kg.iri import KINDS

    declared = get_query(name).params
    for key, value in params.items():
        param = declared.get(key)
        if param is not None and param.kind in KINDS and value:
            _check_id(graph, param.kind, value, f"--param {key}")


@app.command()
def query(
    query_: Annotated[str, typer.Argument(metavar="QUERY", help="A named query or a .rq file.")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="KEY=VALUE, repeatable.")
    ] = None,
    entity: Annotated[
        list[str] | None,
        typer.Option(
            "--entity",
            "-e",
            help="KEY=KIND:ID binds an entity IRI in a .rq file, e.g. m=model:resnet50.",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="Maximum rows (0 = all).")] = 100,
    timeout: Annotated[
        float, typer.Option(help="Seconds before the query is stopped (0 = no limit).")
    ] = 30.0,
    output: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.table,
    store: StoreOption = None,
) -> None:
    """Run a named query (listed below) or a SPARQL .rq file, read-only.

    \b
    Named queries and their --param keys (* = required):
      best_sources (dataset*, include_suspect)
      candidates (dataset*, task, modality, max_params, license)
      descendants (model*)
      lineage (model*)
      records (model, dataset, metric)
      records_for_dataset (dataset*, model, metric)
      similar_datasets (dataset*)
      stats
    An unknown model or dataset id is an error with close matches, not empty output.
    In a .rq file, --param values are bound to variables as string literals and
    --entity KEY=KIND:ID binds an entity IRI; the variable need not be selected.

    \b
    Examples:
      kgtransfer query lineage -p model=vit-ft-cifar
      kgtransfer query candidates -p dataset=cifar10 -p modality=image -f csv
      kgtransfer query my_query.rq -e m=model:resnet50 -f json
    """
    from kgtransfer.kg import ZooGraph, list_queries

    if limit < 0:
        fail(f"--limit must be 0 (all rows) or a positive number of rows, got {limit}")
    if not timeout >= 0:
        fail(f"--timeout must be 0 (no limit) or a positive number of seconds, got {timeout}")
    params = _params(param or [])
    path = Path(query_)
    if path.suffix != ".rq" and query_ not in list_queries():
        fail(f"unknown query {query_!r}: use one of {', '.join(list_queries())} or a .rq file")
    if path.suffix == ".rq" and not path.is_file():
        fail(f"query file {path} not found")
    if not _store(store).is_dir():
        fail(f"no graph store at {_store(store)}; run `kgtransfer ingest` first or pass --store")
    try:
        entities = {}
        for key, value in _params(entity or []).items():
            kind, sep, id_ = value.partition(":")
            if not sep or not id_:
                fail(f"--entity {key}={value!r} is not KEY=KIND:ID")
            entities[key] = (kind, id_)
        with ZooGraph.open(_store(store), read_only=True) as graph:
            if path.suffix == ".rq":
                bindings: dict[str, object] = dict(params)
                for key, (kind, id_) in entities.items():
                    _check_id(graph, kind, id_, f"--entity {key}")
                    bindings[key] = graph.iri(kind, id_)
                frame = graph.query(
                    path.read_text(encoding="utf-8"),
                    bindings=bindings,
                    limit=limit or None,
                    timeout=timeout or None,
                )
            else:
                _check_params(graph, query_, params)
                frame = graph.named_query(
                    query_, limit=limit or None, timeout=timeout or None, **params
                )
    except _EXPECTED as exc:
        fail(_one_line(exc))
    _emit(frame, output)
    if frame.attrs.get("truncated"):
        typer.echo(f"(first {limit} rows shown; --limit 0 for all)", err=True)


@app.command()
def stats(store: StoreOption = None, output: FormatOption = Format.table) -> None:
    """Count models, datasets, records, ... in the graph.

    \b
    Examples:
      kgtransfer stats
      kgtransfer stats --store /tmp/kgt/graph
      kgtransfer stats --format json
    """
    from kgtransfer.kg import ZooGraph

    if not _store(store).is_dir():
        fail(f"no graph store at {_store(store)}; run `kgtransfer ingest` first or pass --store")
    try:
        with ZooGraph.open(_store(store), read_only=True) as graph:
            counts = graph.stats()
            counts["quads"] = len(graph)
    except _EXPECTED as exc:
        fail(_one_line(exc))
    if output is Format.json:
        emit_json(counts)  # {kind: count}
        return
    if output is Format.csv:
        import pandas as pd

        emit_frame(pd.DataFrame({"kind": list(counts), "count": list(counts.values())}), output)
        return
    width = max(len(k) for k in counts)
    for kind, n in counts.items():
        typer.echo(f"{kind:<{width}}  {n}")


@app.command()
def export(
    out: Annotated[Path, typer.Argument(dir_okay=False, help="Output file.")],
    output: Annotated[
        RdfFormat, typer.Option("--format", "-f", help="ttl, nt, jsonld (data) or nq (everything).")
    ] = RdfFormat.ttl,
    store: StoreOption = None,
) -> None:
    """Write the graph as Turtle, N-Triples, JSON-LD or N-Quads.

    \b
    Examples:
      kgtransfer export zoo.ttl
      kgtransfer export zoo.nq --format nq --store /tmp/kgt/graph
    """
    from kgtransfer.kg import ZooGraph

    if not _store(store).is_dir():
        fail(f"no graph store at {_store(store)}; run `kgtransfer ingest` first or pass --store")
    try:
        with ZooGraph.open(_store(store), read_only=True) as graph:
            graph.export(out, format=output.value)
    except _EXPECTED as exc:
        fail(_one_line(exc))
    typer.echo(f"wrote {out}")
