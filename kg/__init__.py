"""kgtransfer.kg: the model-zoo knowledge graph (vocabulary, IRIs, store, queries)."""

from kgtransfer.kg._networkx import tables_to_networkx
from kgtransfer.kg._queries import get_query, list_queries, query_rdflib
from kgtransfer.kg._removal import Removed
from kgtransfer.kg.ingest import (
    IngestReport,
    normalize_tables,
    read_benchmark,
    read_model_cards,
    read_transfergraph,
)
from kgtransfer.kg.iri import ID_BASE, from_iri, to_iri
from kgtransfer.kg.regime import (
    REGIME_COLUMNS,
    dataset_regime,
    regime_key,
    regime_of,
    select_regime,
)
from kgtransfer.kg.store import FORMAT_VERSION, ZooGraph, migrate_store
from kgtransfer.kg.tables import COLUMNS, ZooTables, empty_table
from kgtransfer.kg.vocab import KGT

__all__ = [
    "COLUMNS",
    "FORMAT_VERSION",
    "ID_BASE",
    "KGT",
    "REGIME_COLUMNS",
    "IngestReport",
    "Removed",
    "ZooGraph",
    "ZooTables",
    "dataset_regime",
    "empty_table",
    "from_iri",
    "get_query",
    "list_queries",
    "migrate_store",
    "normalize_tables",
    "query_rdflib",
    "read_benchmark",
    "read_model_cards",
    "read_transfergraph",
    "regime_key",
    "regime_of",
    "select_regime",
    "tables_to_networkx",
    "to_iri",
]
