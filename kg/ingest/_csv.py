"""Read a CSV table as text, row by row, so that no row is shifted, guessed or lost.

pandas' reader turns surplus leading fields into an index (a row with one field
too many is stored under the wrong id), reads ``NA``/``null``/``None`` ids as
missing and parses numbers before we can see them. This reader keeps every cell
as the text written, and returns the rows whose field count differs from the
header's separately, with their line numbers, for the caller to reject.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field

import pandas as pd

from kgtransfer.errors import IngestError

__all__ = ["CsvText", "read_csv_text"]


@dataclass
class CsvText:
    """A CSV file read as text.

    Attributes:
        frame: Well-formed rows, every cell a ``str`` (object dtype).
        rows: 1-based data-row number of each row of ``frame`` (header and blank
            lines not counted).
        malformed: ``(row, line, text, reason)`` of each row whose field count
            differs from the header's.
        notes: Harmless repairs (trailing empty fields dropped).
    """

    frame: pd.DataFrame
    rows: list[int]
    malformed: list[tuple[int, int, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_csv_text(path: str | os.PathLike[str], name: str) -> CsvText:
    """Read ``path`` (UTF-8, comma separated, header first) as text cells.

    A row with more fields than the header is malformed unless the surplus
    fields are all empty (a trailing comma, dropped and noted); a row with fewer
    fields is malformed. Blank lines are skipped.

    Raises:
        IngestError: The file cannot be opened or decoded, has no header, or
            its quoting is broken (an unterminated quote would swallow the
            rest of the file); the message names the line.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
        >>> _ = p.write_text("model,value\\n1,0.5\\nx,m,0.7\\n")
        >>> t = read_csv_text(p, "records")
        >>> t.frame["model"].tolist(), t.malformed[0][:2]
        (['1'], (2, 3))
    """
    label = os.fspath(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, skipinitialspace=True, strict=True)
            header: list[str] | None = None
            data: list[list[str]] = []
            rows: list[int] = []
            out = CsvText(pd.DataFrame(), [])
            n_trailing = 0
            for fields in reader:
                if not fields or (header is None and all(f.strip() == "" for f in fields)):
                    continue
                if header is None:
                    header = [f.strip() or f"Unnamed: {i}" for i, f in enumerate(fields)]
                    continue
                if len(fields) == 1 and fields[0].strip() == "" and len(header) > 1:
                    continue  # a blank line made of spaces
                row = len(rows) + len(out.malformed) + 1
                if len(fields) > len(header) and all(
                    f.strip() == "" for f in fields[len(header) :]
                ):
                    fields = fields[: len(header)]
                    n_trailing += 1
                if len(fields) != len(header):
                    more = "more" if len(fields) > len(header) else "fewer"
                    out.malformed.append(
                        (
                            row,
                            reader.line_num,
                            ",".join(fields),
                            f"line {reader.line_num} has {len(fields)} fields, {more} than the "
                            f"{len(header)} of the header {header}; the row is not read (a "
                            "surplus field would shift every value into the wrong column). "
                            "Quote cells that contain commas, or fix the row.",
                        )
                    )
                    continue
                data.append(fields)
                rows.append(row)
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"cannot read the {name} table {label!r}: not UTF-8 ({exc.reason} at byte "
            f"{exc.start}); save it as UTF-8."
        ) from exc
    except csv.Error as exc:
        raise IngestError(
            f"cannot read the {name} table {label!r}: malformed CSV at line "
            f"{reader.line_num}: {exc}. Check the quotes around that line."
        ) from exc
    except OSError as exc:
        raise IngestError(f"cannot read the {name} table {label!r}: {exc}") from exc
    if header is None:
        raise IngestError(f"cannot read the {name} table {label!r}: the file is empty (no header).")
    out.frame = pd.DataFrame(data, columns=header, dtype=object)
    out.rows = rows
    if n_trailing:
        out.notes.append(
            f"{label}: dropped empty trailing field(s) on {n_trailing} row(s) (trailing commas)."
        )
    return out
