"""The ingestion front end of :class:`~kgtransfer.kg.ZooGraph`: tables, records, cards.

:class:`IngestFront` is a mixin of ``ZooGraph``. Every path in goes through
``_normalized`` (:func:`~kgtransfer.kg.ingest.normalize_tables` against what the graph
knows) and writes one batch with ``_write_batch`` (:mod:`kgtransfer.kg.store`);
``add_records`` is the one record writer.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from kgtransfer.errors import ErrorMode
from kgtransfer.kg._known import StoreIds, StoreLineage, StoreNClasses
from kgtransfer.kg._layout import _XSD, _json_literal, _new_batch_id
from kgtransfer.kg._merge import WriteMode, _check_mode
from kgtransfer.kg._writer import term_iri
from kgtransfer.kg.ingest import IngestReport
from kgtransfer.kg.ingest._tables import TableInput
from kgtransfer.kg.iri import to_iri
from kgtransfer.kg.tables import COLUMNS, ZooTables
from kgtransfer.kg.vocab import KGT, PROV, RDF

if TYPE_CHECKING:
    from typing import Self

    from kgtransfer.kg._host import GraphHost
else:  # a mixin of ZooGraph: GraphHost tells type checkers what ZooGraph has
    GraphHost = object

__all__ = ["IngestFront"]


def _record_attributes(attributes: Mapping[str, Any] | None) -> dict[str, float]:
    """``add_record``'s numeric attributes, checked: names new to records, finite numbers."""
    out: dict[str, float] = {}
    for name, value in (attributes or {}).items():
        if not isinstance(name, str) or not name or name in COLUMNS["records"]:
            raise ValueError(
                f"Record attribute name {name!r} is empty or a records column "
                f"({', '.join(COLUMNS['records'])}); pass those as arguments of add_record."
            )
        if value is None:
            continue  # unknown, like an empty cell
        number = math.nan
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            number = float(value)
        if not math.isfinite(number):
            raise ValueError(
                f"Record attribute {name!r} must be a finite number or None, got {value!r}."
            )
        out[name] = number
    return out


def _provenances(
    provenance: Mapping[str, Any] | Sequence[Mapping[str, Any] | None] | None, n_rows: int
) -> list[Mapping[str, Any] | None] | None:
    """``add_records``' provenance as one entry (or None) per row."""
    from kgtransfer.errors import ArgumentError

    if provenance is None:
        return None
    if isinstance(provenance, Mapping):
        return [provenance] * n_rows
    if isinstance(provenance, Sequence) and not isinstance(provenance, str):
        items = list(provenance)
        if len(items) != n_rows or not all(p is None or isinstance(p, Mapping) for p in items):
            raise ArgumentError(
                f"provenance must be one mapping or a sequence of {n_rows} mappings (or None), "
                f"one per record; got {len(items)} item(s)."
            )
        return items
    raise ArgumentError(
        f"provenance must be a mapping or a sequence of mappings, got {type(provenance).__name__}."
    )


def _run_lines(batch_id: str, row: int, details: Mapping[str, Any]) -> list[str]:
    """The run activity of record ``row`` of a batch: its provenance, as N-Triples lines."""
    details = dict(details)
    record_iri = term_iri(to_iri("record", batch_id, str(row)))
    run_iri = term_iri(to_iri("run", batch_id, str(row)))
    lines = [
        f"{record_iri} <{PROV.wasGeneratedBy}> {run_iri}",
        f"{run_iri} <{RDF.type}> <{PROV.Activity}>",
        f"{run_iri} <{KGT.provenance}> {_json_literal(details, 'provenance')}",
    ]
    for key, prop in (
        ("hyperparameters", KGT.hyperParameters),
        ("hyper_parameters", KGT.hyperParameters),
        ("versions", KGT.packageVersions),
        ("package_versions", KGT.packageVersions),
    ):
        if details.get(key) is not None:
            lines.append(f"{run_iri} <{prop}> {_json_literal(details[key], key)}")
    wall = details.get("wall_time")
    if isinstance(wall, numbers.Real) and not isinstance(wall, bool) and math.isfinite(wall):
        lines.append(f'{run_iri} <{KGT.wallTime}> "{float(wall)!r}"^^<{_XSD}double>')
    return lines


class IngestFront(GraphHost):
    """Writing tables, records, model cards and benchmarks into a :class:`~kgtransfer.kg.ZooGraph` (a mixin of it)."""

    def add_records(
        self,
        records: pd.DataFrame,
        *,
        datasets: pd.DataFrame | None = None,
        models: pd.DataFrame | None = None,
        source: str = "add_records",
        provenance: Mapping[str, object] | Sequence[Mapping[str, object] | None] | None = None,
        metric_directions: Mapping[str, object] | None = None,
    ) -> IngestReport:
        """Write transfer results (a ``records`` table) as one batch: THE record writer.

        Every path that stores a transfer result goes through here (``add_record``,
        ``transfer_from``, ``evaluate_transfer`` and the zoo grid), so the same fact is
        always written the same way: the records columns (value, metric, method, seed,
        run, suspect and the regime: ``n_train``, ``shots``, ``split``, ``epochs``,
        ``steps``, ``frozen``, see :mod:`kgtransfer.kg.regime`), numeric attributes
        (``gain``, ``scratch_accuracy``, ``wall_time``, ``n_test``, ...) and, per record,
        a ``prov:Activity`` run node with its provenance as JSON.

        The rows are validated by :func:`kgtransfer.kg.ingest.normalize_tables` with
        ``errors="raise"`` against the ids the graph already knows: a record about an
        unknown model or dataset is an error unless its row comes in ``models`` /
        ``datasets`` of the same call (a new user dataset comes with its row).

        Args:
            records: The records (``model``, ``dataset``, ``value`` required; other
                records columns optional; extra numeric columns become attributes).
            datasets: Rows of datasets new to the graph (or updated), written in the batch.
            models: Rows of models new to the graph (or updated), written in the batch.
            source: Label of the batch.
            provenance: JSON-serialisable details of the runs: one mapping for every
                row, or a sequence with one mapping (or None) per row. Keys
                ``hyperparameters`` and ``versions`` also get their own properties, and
                ``wall_time`` its own ``kgt:wallTime``, on the run node.
            metric_directions: Directions of metrics neither built in nor declared in
                the graph, e.g. ``{"bleu": "higher"}``.

        Returns:
            The ingestion report; ``report.batch`` is the batch id, and record ``i`` of
            the batch has the id ``<batch id>/<i>``.

        Raises:
            IngestError: A row fails validation (unknown model or dataset, missing or
                non-numeric value, unknown metric, conflicting duplicate, ...); nothing
                is written then.
            ArgumentError: ``provenance`` has the wrong length or type.

        Example:
            >>> from kgtransfer.kg import ZooGraph
            >>> g = ZooGraph()
            >>> _ = g.add_records(pd.DataFrame({"model": ["a", "b"], "dataset": ["d", "d"],
            ...                                 "value": [0.5, 0.6], "seed": [0, 0]}),
            ...                   models=pd.DataFrame({"model": ["a", "b"]}),
            ...                   datasets=pd.DataFrame({"dataset": ["d"]}))
            >>> g.best_sources("d")["model"].tolist()
            ['b', 'a']
        """
        from kgtransfer.errors import ArgumentError

        if not isinstance(records, pd.DataFrame):
            raise ArgumentError(
                f"records must be a pandas DataFrame, got {type(records).__name__}."
            )
        self._writable()
        details = _provenances(provenance, len(records))
        tables, report = self._normalized(
            models=models,
            datasets=datasets,
            records=records,
            errors="raise",
            source=source,
            metric_directions=metric_directions,
        )
        if details is not None and len(tables.records) != len(records):
            raise ArgumentError(
                f"records holds {len(records) - len(tables.records)} exact duplicate row(s) "
                "while provenance is given per row; drop the duplicates first."
            )
        batch_id = _new_batch_id()
        lines: list[str] = []
        for i, prov in enumerate(details or []):
            if prov is not None:
                lines += _run_lines(batch_id, i, prov)
        report.batch = batch_id
        self._write_batch(tables, source=source, report=report, batch_id=batch_id, extra=lines)
        self._last_report = report
        return report

    def add_record(
        self,
        model: str,
        dataset: str,
        value: float,
        *,
        metric: str = "accuracy",
        method: str | None = None,
        seed: int | None = None,
        run: str | None = None,
        suspect: bool | None = None,
        provenance: Mapping[str, object] | None = None,
        attributes: Mapping[str, float] | None = None,
        n_train: int | None = None,
        shots: int | None = None,
        split: str | None = None,
        epochs: float | None = None,
        steps: int | None = None,
        frozen: bool | None = None,
        models: pd.DataFrame | None = None,
        datasets: pd.DataFrame | None = None,
        source: str | None = None,
    ) -> str:
        """Write back one transfer result with its regime and provenance (one batch).

        A thin wrapper over :meth:`add_records` (the one record writer).

        Args:
            model: Source model id (known to the graph, or given in ``models``).
            dataset: Target dataset id (known to the graph, or given in ``datasets``).
            value: Measured value of ``metric``.
            metric: Metric name (its direction comes from the metrics table).
            method: Transfer method, e.g. ``"finetune"``, ``"linear_probe"``, ``"lora"``.
            seed: Seed of the run.
            run: Free-form run label.
            suspect: Mark a probable failed run.
            provenance: JSON-serialisable details, kept as JSON on the run activity
                (``prov:wasGeneratedBy`` of the record); keys ``hyperparameters``,
                ``versions`` and ``wall_time`` also get their own properties there.
            attributes: Numeric attributes of the record, like the extra numeric columns
                of a records table (e.g. ``{"gain": 0.12, "scratch_accuracy": 0.61}``:
                the recommender's gain and negative-transfer estimates read ``gain``).
            n_train: Regime: labelled training examples.
            shots: Regime: training examples per class of a few-shot draw.
            split: Regime: how the training examples were drawn (and seeded).
            epochs: Regime: passes over the training examples.
            steps: Regime: optimiser steps.
            frozen: Regime: the backbone was frozen (a probe).
            models: Rows of models new to the graph (e.g. ``pd.DataFrame({"model": [m]})``).
            datasets: Rows of datasets new to the graph.
            source: Label of the batch (default ``add_record(<model>, <dataset>)``).

        Returns:
            The record id (``<batch id>/0``), accepted by :meth:`remove_record`.

        Raises:
            ValueError: An attribute named like a records column, or not a finite number.
            IngestError: The record fails validation (see :meth:`add_records`).

        Example:
            >>> from kgtransfer.kg import ZooGraph
            >>> g = ZooGraph()
            >>> rid = g.add_record("m", "d", 0.8, method="finetune", seed=1, n_train=100,
            ...                    provenance={"wall_time": 2.5},
            ...                    models=pd.DataFrame({"model": ["m"]}),
            ...                    datasets=pd.DataFrame({"dataset": ["d"]}))
            >>> g.records(dataset="d")[["value", "n_train"]].values.tolist()
            [[0.8, 100]]
        """
        extra = _record_attributes(attributes)
        records = pd.DataFrame(
            {
                "model": [model],
                "dataset": [dataset],
                "value": [value],
                "metric": [metric],
                "method": [method],
                "seed": [seed],
                "run": [run],
                "suspect": [suspect],
                "n_train": [n_train],
                "shots": [shots],
                "split": [split],
                "epochs": [epochs],
                "steps": [steps],
                "frozen": [frozen],
            },
            dtype=object,
        )
        records = records.assign(**{k: [v] for k, v in extra.items()})
        report = self.add_records(
            records,
            models=models,
            datasets=datasets,
            source=source or f"add_record({model!r}, {dataset!r})",
            provenance=[dict(provenance or {})],
        )
        return f"{report.batch}/0"

    @classmethod
    def from_tables(
        cls,
        models: Any = None,
        datasets: Any = None,
        records: Any = None,
        similarities: Any = None,
        scores: Any = None,
        *,
        column_map: Mapping[str, Any] | None = None,
        errors: ErrorMode = "raise",
        create_missing: bool = False,
        path: str | os.PathLike[str] | None = None,
        progress: bool = False,
        mode: WriteMode = "merge",
    ) -> Self:
        """Build a graph from CSV files or DataFrames (normalised by ``kgtransfer.kg.ingest``).

        ``path`` makes the graph persistent on disk; ``mode`` is ``"merge"`` or
        ``"replace"`` (see :meth:`add_zoo_tables`). The ingestion report is stored on the
        graph's batch (:meth:`batch`); for the report object, build the graph first and
        call :meth:`add_tables`, which returns it.
        """
        graph = cls.open(path, create=True) if path is not None else cls()
        try:
            graph.add_tables(
                models,
                datasets,
                records,
                similarities,
                scores,
                column_map=column_map,
                errors=errors,
                create_missing=create_missing,
                progress=progress,
                mode=mode,
            )
        except BaseException:
            graph.close()
            raise
        return graph

    def _normalized(self, **inputs: Any) -> tuple[ZooTables, IngestReport]:
        """``normalize_tables(**inputs)`` against what the graph knows: its model and
        dataset ids, declared metrics, lineage and ``n_classes`` (so a result at chance
        level is flagged ``suspect`` whichever path brings it); every path in uses it."""
        from kgtransfer.kg.ingest import normalize_tables

        # looked up per id the batch names (kg._known), never listed
        return normalize_tables(
            **inputs,
            known_models=StoreIds(self, "model"),
            known_datasets=StoreIds(self, "dataset"),
            known_metrics=self._declared_metrics(),
            known_lineage=StoreLineage(self),
            known_n_classes=StoreNClasses(self),
        )

    def add_tables(
        self,
        models: TableInput = None,
        datasets: TableInput = None,
        records: TableInput = None,
        similarities: TableInput = None,
        scores: TableInput = None,
        *,
        column_map: Mapping[str, str | Mapping[str, str]] | None = None,
        errors: ErrorMode = "raise",
        create_missing: bool = False,
        progress: bool = False,
        mode: WriteMode = "merge",
    ) -> IngestReport:
        """Normalise tables (CSV paths or DataFrames) and write them as one batch.

        Ids already in the graph count as known, so references to them resolve;
        ``create_missing=True`` accepts records about models or datasets that are in
        no table (see :func:`kgtransfer.kg.ingest.normalize_tables`). ``mode`` is
        ``"merge"`` or ``"replace"`` (see :meth:`add_zoo_tables`).

        Returns:
            The ingestion report (overwritten values included); ``report.batch`` is the
            batch id (for :meth:`remove_batch`).
        """
        _check_mode(mode)
        tables, report = self._normalized(
            models=models,
            datasets=datasets,
            records=records,
            similarities=similarities,
            scores=scores,
            column_map=dict(column_map) if column_map else None,
            errors=errors,
            create_missing=create_missing,
        )
        sources = [
            str(x)
            for x in (models, datasets, records, similarities, scores)
            if isinstance(x, (str, os.PathLike))
        ]
        report.batch = batch_id = _new_batch_id()  # stored with the report
        self._write_batch(
            tables,
            source=", ".join(sources) or "tables",
            report=report,
            batch_id=batch_id,
            progress=progress,
            mode=mode,
        )
        self._last_report = report
        return report

    def add_model_cards(
        self,
        path: str | os.PathLike[str],
        *,
        errors: ErrorMode = "raise",
        mode: WriteMode = "merge",
    ) -> IngestReport:
        """Ingest model cards (YAML front matter) from a file or folder as one batch.

        A card's fields update what is known about its model and datasets (``mode``:
        see :meth:`add_zoo_tables`); fields a card lacks keep their stored values. Cards
        are validated against the graph's declared metrics and lineage (a ``base_model``
        closing a cycle with stored lineage is rejected); percent conversions are listed
        in the report's ``warnings``.

        Returns:
            The ingestion report; ``report.batch`` is the batch id.
        """
        from kgtransfer.kg.ingest import read_model_cards

        _check_mode(mode)
        tables, report = read_model_cards(
            path,
            errors=errors,
            known_metrics=self._declared_metrics(),
            known_lineage=self._lineage(),
        )
        report.batch = batch_id = _new_batch_id()
        self._write_batch(tables, source=str(path), report=report, batch_id=batch_id, mode=mode)
        self._last_report = report
        return report

    def add_transfergraph(
        self,
        folder: str | os.PathLike[str],
        *,
        zoo: Literal["image", "text"] = "image",
        errors: ErrorMode = "warn",
        mode: WriteMode = "merge",
    ) -> IngestReport:
        """Ingest a TransferGraph benchmark folder (``zoo`` = image or text) as one batch.

        The public tables hold a few malformed rows (truncated score lines, text
        runs whose dataset is ``0.1`` or ``lora``), so the default ``errors="warn"``
        rejects those with a warning each and keeps the rest; the report lists them.
        ``mode`` is ``"merge"`` or ``"replace"`` (see :meth:`add_zoo_tables`).

        Returns:
            The ingestion report; ``report.batch`` is the batch id.
        """
        from kgtransfer.kg.ingest import read_transfergraph

        _check_mode(mode)
        tables, report = read_transfergraph(folder, zoo=zoo, errors=errors)
        report.batch = batch_id = _new_batch_id()
        source = f"{folder} ({zoo})"
        self._write_batch(tables, source=source, report=report, batch_id=batch_id, mode=mode)
        self._last_report = report
        return report
