"""The ingestion report: what was read, accepted, rejected and flagged, and why."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kgtransfer.errors import ErrorMode, IngestError, check_error_mode

__all__ = ["ErrorMode", "Flag", "IngestReport", "Overwrite", "Rejection", "SourceCounts"]


@dataclass(frozen=True)
class Rejection:
    """One input row (or card) that was not ingested.

    Attributes:
        source: File path, or ``"<DataFrame records>"`` for an in-memory table.
        row: 1-based data row (CSV header excluded) or line number; ``None`` for
            a whole file.
        column: Offending column (or card field), if one.
        value: The offending value as received.
        reason: What was wrong and how to fix it.
    """

    source: str
    row: int | None
    column: str | None
    value: Any
    reason: str

    def __str__(self) -> str:
        where = self.source if self.row is None else f"{self.source}, row {self.row}"
        col = "" if self.column is None else f", column {self.column!r}"
        return f"{where}{col}: value {self.value!r}: {self.reason}"


@dataclass(frozen=True)
class Flag:
    """A kept but suspect record (e.g. a fine-tuning run at chance level)."""

    source: str
    row: int | None
    table: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}, row {self.row}: {self.table} {self.key}: {self.reason}"


@dataclass(frozen=True)
class Overwrite:
    """A stored value an ingest batch replaced with a different one.

    Attributes:
        kind: ``model``, ``dataset``, ``metric`` or ``lineage`` (an edge ``child -> base``).
        id: The entity's id.
        field: The column (or numeric attribute) whose value changed.
        old: The value that was stored (and is gone now).
        new: The batch's value (``None`` when ``mode="replace"`` dropped the field).
        batch: The batch the old value came from (``None`` outside any batch).
    """

    kind: str
    id: str
    field: str
    old: Any
    new: Any
    batch: str | None = None

    def __str__(self) -> str:
        where = "" if self.batch is None else f" (from batch {self.batch})"
        return f"{self.kind} {self.id!r}: {self.field} {self.old!r} -> {self.new!r}{where}"


@dataclass
class SourceCounts:
    """Row counts of one source."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    flagged: int = 0


@dataclass
class IngestReport:
    """What one ingestion call did.

    Attributes:
        counts: Per source (file path or ``"<DataFrame name>"``): rows read,
            accepted, rejected and flagged.
        rejections: Every row that was not ingested, with the reason.
        warnings: Things that degrade the result (ignored columns, conflicts
            resolved by an adapter, ...).
        notes: Normalisations applied (percent converted to fractions,
            duplicates collapsed, entities created, ...).
        flagged: Suspect records that were kept and marked ``suspect=True``.
        overwritten: Stored values the batch replaced (filled in when the tables are
            written to a graph).
        batch: Id of the batch the ingestion wrote (for ``ZooGraph.remove_batch``);
            None until written, and for an N-Quads restore.

    Example:
        >>> r = IngestReport()
        >>> r.count("a.csv", read=2, accepted=1)
        >>> r.reject(Rejection("a.csv", 2, "value", "x", "not a number"), errors="collect")
        >>> r.n_rejected
        1
        >>> len(r.to_frame())
        1
    """

    counts: dict[str, SourceCounts] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flagged: list[Flag] = field(default_factory=list)
    overwritten: list[Overwrite] = field(default_factory=list)
    batch: str | None = None

    # -- building -------------------------------------------------------------
    def count(self, source: str, *, read: int = 0, accepted: int = 0) -> None:
        """Add ``read``/``accepted`` rows to the counts of ``source``."""
        c = self.counts.setdefault(source, SourceCounts())
        c.read += read
        c.accepted += accepted

    def reject(self, rejection: Rejection, *, errors: ErrorMode) -> None:
        """Record a rejected row; raise, warn or stay silent according to ``errors``.

        Raises:
            IngestError: If ``errors="raise"``; the message names source, row,
                column, value and the fix.
        """
        check_error_mode(errors)
        if errors == "raise":
            raise IngestError(str(rejection))
        self.rejections.append(rejection)
        self.counts.setdefault(rejection.source, SourceCounts()).rejected += 1
        if errors == "warn":
            warnings.warn(f"rejected {rejection}", UserWarning, stacklevel=4)

    def flag(self, flag: Flag) -> None:
        """Record a suspect record that is kept."""
        self.flagged.append(flag)
        self.counts.setdefault(flag.source, SourceCounts()).flagged += 1

    def merge(self, *others: IngestReport) -> IngestReport:
        """Fold other reports into this one (counts add up); returns ``self``."""
        for other in others:
            for src, c in other.counts.items():
                mine = self.counts.setdefault(src, SourceCounts())
                mine.read += c.read
                mine.accepted += c.accepted
                mine.rejected += c.rejected
                mine.flagged += c.flagged
            self.rejections.extend(other.rejections)
            self.warnings.extend(other.warnings)
            self.notes.extend(other.notes)
            self.flagged.extend(other.flagged)
            self.overwritten.extend(other.overwritten)
        return self

    # -- reading --------------------------------------------------------------
    @property
    def n_rejected(self) -> int:
        """Number of rejected rows over all sources."""
        return len(self.rejections)

    @property
    def n_flagged(self) -> int:
        """Number of flagged (suspect, kept) records over all sources."""
        return len(self.flagged)

    def to_frame(self) -> pd.DataFrame:
        """Rejections, flags and overwritten values as one DataFrame.

        Columns: ``kind`` (``"rejected"``/``"flagged"``/``"overwritten"``), ``source``,
        ``row``, ``column``, ``value`` (as text), ``reason``. An overwritten value has
        ``source`` = ``"<kind> <id>"``, ``column`` = the field and ``value`` = ``old -> new``.
        """
        rows: list[dict[str, Any]] = [
            {
                "kind": "rejected",
                "source": r.source,
                "row": r.row,
                "column": r.column,
                "value": None if r.value is None else str(r.value),
                "reason": r.reason,
            }
            for r in self.rejections
        ]
        rows += [
            {
                "kind": "flagged",
                "source": f.source,
                "row": f.row,
                "column": f.table,
                "value": f.key,
                "reason": f.reason,
            }
            for f in self.flagged
        ]
        rows += [
            {
                "kind": "overwritten",
                "source": f"{o.kind} {o.id}",
                "row": None,
                "column": o.field,
                "value": f"{o.old!r} -> {o.new!r}",
                "reason": "stored value replaced"
                + ("" if o.batch is None else f" (it came from batch {o.batch})"),
            }
            for o in self.overwritten
        ]
        cols = ["kind", "source", "row", "column", "value", "reason"]
        frame = pd.DataFrame(rows, columns=cols)
        return frame.astype(
            {
                "row": "Int64",
                "kind": "string",
                "source": "string",
                "column": "string",
                "value": "string",
                "reason": "string",
            }
        )

    def counts_frame(self) -> pd.DataFrame:
        """Per-source counts as a DataFrame indexed by source."""
        data = {s: vars(c) for s, c in self.counts.items()}
        cols = ["read", "accepted", "rejected", "flagged"]
        return pd.DataFrame.from_dict(data, orient="index", columns=cols).rename_axis("source")

    def __str__(self) -> str:
        lines = ["IngestReport"]
        for src, c in self.counts.items():
            lines.append(
                f"  {src}: read {c.read}, accepted {c.accepted}, "
                f"rejected {c.rejected}, flagged {c.flagged}"
            )
        lines += _section("rejected", self.rejections)
        lines += _section("flagged", self.flagged)
        lines += _section("overwritten", self.overwritten)
        lines += _section("warnings", self.warnings)
        lines += _section("notes", self.notes)
        return "\n".join(lines)


def _section(title: str, items: Iterable[object], limit: int = 10) -> list[str]:
    items = list(items)
    if not items:
        return []
    out = [f"  {title} ({len(items)}):"]
    out += [f"    - {item}" for item in items[:limit]]
    if len(items) > limit:
        out.append(f"    ... and {len(items) - limit} more (see to_frame())")
    return out
