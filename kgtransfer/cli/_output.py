"""Machine and terminal output of the product commands: ``--format table|csv|json``.

Machine output (CSV, JSON) goes to stdout alone; notes go to stderr. CSV cells that a
spreadsheet could run as a formula are neutralised (:func:`kgtransfer.report._escape.csv_frame`).
Tables are drawn with rich: on a terminal (or with ``COLUMNS`` set) a long id folds
inside its cell instead of pushing the other columns out of line; into a log or pipe the
table is drawn at its natural width.
"""

from __future__ import annotations

import json
import os
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Format", "FormatOption", "emit_frame", "emit_json", "note", "print_table", "records"]


class Format(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOption = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        help="stdout as a table (for people), csv or json (for pipelines; notes go to stderr).",
    ),
]


def note(message: str) -> None:
    """A note for the person at the terminal: stderr, so stdout stays machine-readable."""
    typer.echo(f"note: {message}", err=True)


def _plain(value: Any) -> Any:
    """JSON-safe cell (:func:`kgtransfer.report._rows.plain`: NaN/NA/inf -> None, numpy
    scalars -> Python); imported on first use, so ``--help`` loads no pandas."""
    from kgtransfer.report._rows import plain

    return plain(value)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame`` as JSON-safe row dicts."""
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def emit_json(payload: Any) -> None:
    """One JSON document on stdout (NaN written as null)."""
    typer.echo(json.dumps(_plain(payload), ensure_ascii=False, default=str))


def emit_frame(frame: pd.DataFrame, fmt: Format, *, title: str | None = None) -> None:
    """Write ``frame`` as a rich table, formula-safe CSV or a JSON list of rows."""
    if fmt is Format.csv:
        from kgtransfer.report._escape import csv_frame

        typer.echo(csv_frame(frame).to_csv(index=False), nl=False)
    elif fmt is Format.json:
        emit_json(records(frame))
    else:
        print_table(frame, title=title)


def _is_numeric(column: pd.Series) -> bool:
    """Numbers (possibly with gaps), also in an object column; not booleans."""
    if column.dtype.kind in "iuf":
        return True
    values = [v for v in column if v is not None and not (isinstance(v, float) and v != v)]
    return bool(values) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
    )


def _cell(value: Any, spec: str | None) -> str:
    import pandas as pd

    if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return "-"
    if spec and isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, spec)
    return str(value)


def print_table(
    frame: pd.DataFrame, *, title: str | None = None, formats: dict[str, str] | None = None
) -> None:
    """Draw ``frame`` with rich on stdout; numbers right-aligned, long ids folded."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    formats = formats or {}
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    numeric = {c for c in frame.columns if _is_numeric(frame[c])}
    rows = [
        [_cell(v, formats.get(str(c))) for c, v in zip(frame.columns, row, strict=True)]
        for row in frame.itertuples(index=False)
    ]
    for i, col in enumerate(frame.columns):
        short = col in numeric or str(col) in ("interval", "rank")
        longest = max([len(str(col)), *(len(r[i]) for r in rows)])
        table.add_column(
            str(col),
            justify="right" if col in numeric else "left",
            overflow="fold",
            no_wrap=short,
            # numbers keep their width; long ids fold inside their own cell
            min_width=longest if short else min(longest, 8),
        )
    for row in rows:
        # Text(...) keeps ids such as "[x]" literal (no rich markup from graph data)
        table.add_row(*(Text(cell) for cell in row))
    console = Console(file=_stdout(), highlight=False, soft_wrap=False)
    if not console.is_terminal and not os.environ.get("COLUMNS", "").strip():
        # a log or pipe has no width to fit: draw the table at its natural width
        console.width = 10_000
        console.width = max(80, console.measure(table).maximum)
    console.print(table)


def _stdout() -> Any:
    import sys

    return sys.stdout
