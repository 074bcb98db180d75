"""Stable IRIs for zoo ids, round-tripping exactly.

Every entity of kind ``k`` with id ``x`` (any non-empty string: ``google/vit-base-patch16-224``,
``['corgi', 'samoyed']``, ``数据集``, spaces, ``#``, ``%``) gets the IRI
``https://w3id.org/kgtransfer/id/<k>/<enc(x)>`` where ``enc`` percent-encodes the
UTF-8 bytes of ``x`` except the unreserved characters ``A-Z a-z 0-9 - . _ ~``.
Since ``/`` is always encoded, compound ids (a lineage edge, a record of a batch)
join several encoded parts with ``/`` without ambiguity.

Example:
    >>> to_iri("model", "google/vit-base-patch16-224")
    'https://w3id.org/kgtransfer/id/model/google%2Fvit-base-patch16-224'
    >>> from_iri(to_iri("dataset", "数据集 #1"))
    ('dataset', '数据集 #1')
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote, unquote

__all__ = ["ID_BASE", "KINDS", "decode_id", "encode_id", "from_iri", "id_of", "to_iri"]

#: Prefix of every IRI kgtransfer mints for an entity.
ID_BASE = "https://w3id.org/kgtransfer/id/"

#: Kinds of entity that get IRIs.
KINDS: tuple[str, ...] = (
    "model",
    "dataset",
    "task",
    "domain",
    "modality",
    "metric",
    "estimator",
    "lineage",
    "record",
    "similarity",
    "score",
    "attribute",
    "batch",
    "run",
    "graph",
)
_KIND_SET = frozenset(KINDS)
#: Ids remembered by encode_id / decode_id: enough for the repeated ones (tasks, datasets,
#: popular models), bounded so a million-model ingest does not keep every id (~0.3 KB each).
_CACHE_SIZE = 1 << 16
_SEGMENT = re.compile(r"(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})+")


def _check_kind(kind: str) -> None:
    if kind not in _KIND_SET:
        raise ValueError(f"Unknown IRI kind {kind!r}; use one of {', '.join(KINDS)}.")


@lru_cache(maxsize=_CACHE_SIZE)
def encode_id(id_: str) -> str:
    """Percent-encode one id into an IRI path segment (never contains ``/``).

    Args:
        id_: Any non-empty string.

    Returns:
        The encoded segment; ``.`` and ``..`` are encoded too so no IRI
        normaliser can remove them as dot segments.

    Raises:
        TypeError: ``id_`` is not a string.
        ValueError: ``id_`` is empty.

    Example:
        >>> encode_id("a b%")
        'a%20b%25'
    """
    if not isinstance(id_, str):
        raise TypeError(
            f"An id must be a non-empty str, got {type(id_).__name__} {id_!r}; convert it with str()."
        )
    if not id_:
        raise ValueError("An id must be a non-empty str, got ''; give every entity a name.")
    if id_ in (".", ".."):
        return id_.replace(".", "%2E")
    return quote(id_, safe="-._~", encoding="utf-8", errors="strict")


@lru_cache(maxsize=_CACHE_SIZE)
def decode_id(segment: str) -> str:
    """Inverse of :func:`encode_id`.

    Raises:
        ValueError: ``segment`` is not something :func:`encode_id` produces.

    Example:
        >>> decode_id("a%20b%25")
        'a b%'
    """
    if not _SEGMENT.fullmatch(segment):
        raise ValueError(f"{segment!r} is not an encoded kgtransfer id (see kgtransfer.kg.iri).")
    return unquote(segment, encoding="utf-8", errors="strict")


def to_iri(kind: str, *ids: str) -> str:
    """The IRI of an entity (several ids make a compound IRI, e.g. a lineage edge).

    Args:
        kind: One of :data:`KINDS`.
        *ids: One or more non-empty string ids.

    Returns:
        The IRI as a string.

    Raises:
        ValueError: Unknown kind, no id, or an empty id.
        TypeError: An id is not a string.

    Example:
        >>> to_iri("lineage", "child", "base/model")
        'https://w3id.org/kgtransfer/id/lineage/child/base%2Fmodel'
    """
    _check_kind(kind)
    if not ids:
        raise ValueError(f"to_iri({kind!r}) needs at least one id.")
    return ID_BASE + kind + "/" + "/".join(encode_id(i) for i in ids)


def from_iri(iri: str) -> tuple[str, ...]:
    """Split a kgtransfer IRI into ``(kind, id, ...)``.

    Raises:
        ValueError: ``iri`` was not minted by :func:`to_iri`.

    Example:
        >>> from_iri("https://w3id.org/kgtransfer/id/model/resnet50.a1_in1k")
        ('model', 'resnet50.a1_in1k')
    """
    if not isinstance(iri, str) or not iri.startswith(ID_BASE):
        raise ValueError(f"{iri!r} is not a kgtransfer IRI (they start with {ID_BASE!r}).")
    kind, _, rest = iri[len(ID_BASE) :].partition("/")
    _check_kind(kind)
    if not rest:
        raise ValueError(f"{iri!r} has no id after the kind {kind!r}.")
    return (kind, *(decode_id(part) for part in rest.split("/")))


def id_of(iri: str, kind: str) -> str:
    """The single id of an IRI of the given kind.

    Raises:
        ValueError: The IRI is of another kind or compound.

    Example:
        >>> id_of(to_iri("task", "image classification"), "task")
        'image classification'
    """
    parts = from_iri(iri)
    if parts[0] != kind or len(parts) != 2:
        raise ValueError(f"{iri!r} is not the IRI of a {kind} (it is a {parts[0]}).")
    return parts[1]
