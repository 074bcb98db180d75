"""Ingestion: turn tables, model cards and public benchmark folders into :class:`ZooTables`.

Every reader returns ``(ZooTables, IngestReport)`` and never touches RDF; the
graph store (:class:`~kgtransfer.kg.ZooGraph`) writes the tables.

- :func:`normalize_tables`: CSV files or DataFrames -> validated, normalised tables.
- :func:`read_model_cards`: Hugging Face model cards (YAML front matter).
- :func:`read_benchmark` / :func:`list_benchmarks`: the public benchmark readers
  :func:`read_transfergraph`, :func:`read_parc`, :func:`read_tllib`,
  :func:`read_model_spider`, :func:`read_sfda`.

Bad input is named (file, row, column, value, fix). ``errors="raise"`` stops at
the first bad row; ``"warn"`` and ``"collect"`` keep going, and every rejected
row, suspect record and normalisation is in the :class:`IngestReport`.

Example:
    >>> import pandas as pd
    >>> from kgtransfer.kg.ingest import normalize_tables
    >>> recs = pd.DataFrame({"model": ["a"], "dataset": ["d"], "value": ["x"]})
    >>> tables, report = normalize_tables(records=recs, create_missing=True, errors="collect")
    >>> print(report.rejections[0])
    <DataFrame records>, row 1, column 'value': value 'x': expected a number in column 'value'; fix it or drop the row.
"""

from ._benchmarks import N_CLASSES, read_model_spider, read_parc, read_sfda, read_tllib
from ._cards import read_model_cards
from ._metrics import KNOWN_METRICS, METRIC_RANGES, MetricSpec, metric_direction, metric_spec
from ._registry import list_benchmarks, read_benchmark, register_benchmark
from ._report import Flag, IngestReport, Overwrite, Rejection, SourceCounts
from ._tables import normalize_tables
from ._transfergraph import read_transfergraph

__all__ = [
    "KNOWN_METRICS",
    "METRIC_RANGES",
    "N_CLASSES",
    "Flag",
    "IngestReport",
    "MetricSpec",
    "Overwrite",
    "Rejection",
    "SourceCounts",
    "list_benchmarks",
    "metric_direction",
    "metric_spec",
    "normalize_tables",
    "read_benchmark",
    "read_model_cards",
    "read_model_spider",
    "read_parc",
    "read_sfda",
    "read_tllib",
    "read_transfergraph",
    "register_benchmark",
]
