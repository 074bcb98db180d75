"""Ingestion: turn tables, model cards and public benchmark folders into :class:`ZooTables`.

Every reader returns ``(ZooTables, IngestReport)``; nothing here touches RDF.
"""

from ._benchmarks import N_CLASSES, read_model_spider, read_parc, read_sfda, read_tllib
from ._cards import read_model_cards
from ._metrics import KNOWN_METRICS, metric_direction
from ._registry import list_benchmarks, read_benchmark, register_benchmark
from ._report import Flag, IngestReport, Rejection, SourceCounts
from ._tables import normalize_tables
from ._transfergraph import read_transfergraph

__all__ = [
    "KNOWN_METRICS",
    "N_CLASSES",
    "Flag",
    "IngestReport",
    "Rejection",
    "SourceCounts",
    "list_benchmarks",
    "metric_direction",
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
