"""The store's layout: its format version, the metadata graph, batch ids and literals.

Shared by the layers of :class:`~kgtransfer.kg.ZooGraph` (:mod:`kgtransfer.kg.store` and
the mixins it is composed of) and by :mod:`kgtransfer.kg._migrate`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any
from uuid import uuid4

import pyoxigraph as ox

from kgtransfer.kg._writer import string_literal
from kgtransfer.kg.iri import to_iri
from kgtransfer.kg.vocab import KGT, RDF

__all__ = ["FORMAT_VERSION"]

#: Version of the on-disk layout and vocabulary; bump it when either changes.
#: 2: batches merge into what is known (and record what they overwrote); records may
#: carry their training regime. :func:`migrate_store` carries a version-1 store forward.
FORMAT_VERSION = 2
_META_GRAPH = ox.NamedNode(to_iri("graph", "meta"))
_STORE_NODE = ox.NamedNode(to_iri("graph", "store"))
_VERSION = ox.NamedNode(str(KGT.formatVersion))
_TYPE = ox.NamedNode(str(RDF.type))
_JSON = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
_XSD = "http://www.w3.org/2001/XMLSchema#"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _new_batch_id() -> str:
    """Batch ids sort in time order and are unique: ``20260101T120000123456Z-1a2b3c4d``."""
    return f"{_now():%Y%m%dT%H%M%S%fZ}-{uuid4().hex[:8]}"


def _json_literal(value: Any, what: str) -> str:
    try:
        text = json.dumps(value, sort_keys=True, allow_nan=True)
    except TypeError as exc:
        raise TypeError(f"{what} must be JSON-serialisable: {exc}") from None
    return f"{string_literal(text)}^^<{_JSON}>"


def _datetime_literal(moment: datetime) -> str:
    return f'"{moment.isoformat()}"^^<{_XSD}dateTime>'
