"""Named SPARQL queries (``kg/queries/*.rq``), their parameters and result conversion.

Each ``.rq`` file starts with comment lines: a description, then
``# @param <name> <kind> [required]`` for every parameter and
``# @hide <names>`` for parameter variables that are projected only so they can be
substituted (pyoxigraph substitutes projected variables only). A parameter's kind is an
entity kind (``model``, ``dataset``, ``task``, ...: the value is an id, turned into its
IRI) or ``string``, ``float``, ``int``, ``bool``. Values reach the query only as bound
terms: pyoxigraph ``substitutions`` or rdflib ``initBindings``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import pyoxigraph as ox

from kgtransfer.errors import did_you_mean
from kgtransfer.kg.iri import ID_BASE, KINDS, from_iri, to_iri
from kgtransfer.kg.vocab import KGT

__all__ = [
    "NamedQuery",
    "cell",
    "get_query",
    "list_queries",
    "query_rdflib",
    "solutions_frame",
    "to_term",
]

_VALUE_KINDS = ("string", "float", "int", "bool")
_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTS = {f"{_XSD}{t}" for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger")}
_FLOATS = {f"{_XSD}{t}" for t in ("double", "float", "decimal")}
_KGT = str(KGT._NS)


@dataclass(frozen=True)
class Param:
    """One parameter of a named query."""

    name: str
    kind: str
    required: bool = False


@dataclass(frozen=True)
class NamedQuery:
    """A named query: its text, description and parameters (parsed once from its file)."""

    name: str
    text: str
    description: str
    params: dict[str, Param] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()
    renames: dict[str, str] = field(default_factory=dict)

    def terms(self, values: Mapping[str, Any]) -> dict[str, ox.NamedNode | ox.Literal]:
        """Check ``values`` against the parameters and turn them into RDF terms.

        ``None`` leaves a parameter unbound (no filter).

        Raises:
            TypeError: An unknown parameter or a missing required one.
        """
        unknown = sorted(set(values) - set(self.params))
        if unknown:
            raise TypeError(
                f"Query {self.name!r} has no parameter {unknown[0]!r}; "
                f"its parameters are: {', '.join(self.params) or 'none'}."
            )
        out: dict[str, ox.NamedNode | ox.Literal] = {}
        for name, param in self.params.items():
            value = values.get(name)
            if value is None:
                if param.required:
                    raise TypeError(f"Query {self.name!r} needs parameter {name!r} ({param.kind}).")
                continue
            out[name] = to_term(value, param.kind, name=name)
        return out


def to_term(value: Any, kind: str, *, name: str = "value") -> ox.NamedNode | ox.Literal:
    """Turn one parameter value into an RDF term of the given kind.

    Example:
        >>> to_term("resnet50", "model").value
        'https://w3id.org/kgtransfer/id/model/resnet50'
        >>> to_term("true", "bool").value
        'true'
    """
    if isinstance(value, (ox.NamedNode, ox.Literal)):
        return value
    if kind in KINDS:
        if not isinstance(value, str) or not value:
            raise TypeError(f"Parameter {name!r} must be a non-empty {kind} id, got {value!r}.")
        return ox.NamedNode(to_iri(kind, value))
    if kind == "string":
        return ox.Literal(str(value))
    if kind == "bool":
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"Parameter {name!r} must be true or false, got {value!r}.")
            value = lowered in ("true", "1", "yes")
        return ox.Literal(bool(value))
    try:
        number = float(value) if kind == "float" else int(value)
    except (TypeError, ValueError):
        raise ValueError(f"Parameter {name!r} must be a {kind}, got {value!r}.") from None
    return ox.Literal(number)


def _parse(name: str, text: str) -> NamedQuery:
    description: list[str] = []
    params: dict[str, Param] = {}
    hidden: set[str] = set()
    renames: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        if body.startswith("@param"):
            parts = body.split()
            kind = parts[2]
            if kind not in KINDS and kind not in _VALUE_KINDS:
                raise ValueError(f"{name}.rq: unknown parameter kind {kind!r}")
            params[parts[1]] = Param(parts[1], kind, "required" in parts[3:])
        elif body.startswith("@hide"):
            hidden.update(body.split()[1:])
        elif body.startswith("@rename"):
            for pair in body.split()[1:]:
                old, _, new = pair.partition("=")
                renames[old] = new
        else:
            description.append(body)
    return NamedQuery(name, text, " ".join(description), params, frozenset(hidden), renames)


@cache
def _all_queries() -> dict[str, NamedQuery]:
    folder = resources.files("kgtransfer.kg").joinpath("queries")
    out = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".rq"):
            name = entry.name[: -len(".rq")]
            out[name] = _parse(name, entry.read_text(encoding="utf-8"))
    return out


def list_queries() -> list[str]:
    """Names of the named queries shipped in ``kg/queries``.

    Example:
        >>> "lineage" in list_queries()
        True
    """
    return list(_all_queries())


def get_query(name: str) -> NamedQuery:
    """The named query ``name`` (parsed once and cached).

    Raises:
        UnknownNameError: No such query (close names suggested).
    """
    queries = _all_queries()
    if name not in queries:
        raise did_you_mean(name, queries, what="query", hint="See list_queries().")
    return queries[name]


def cell(term: object, *, iris: bool = False) -> object:
    """A pyoxigraph term as a plain Python value.

    Our IRIs become their ids (compound ids joined by ``/``, e.g. a record id
    ``batch/0``) unless ``iris=True``; kgt individuals become their local name;
    literals become int, float, bool or str; unbound becomes None.

    Example:
        >>> cell(ox.NamedNode("https://w3id.org/kgtransfer/id/model/a%2Fb"))
        'a/b'
        >>> cell(ox.Literal("2", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))
        2
    """
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        value = term.value
        if not iris:
            if value.startswith(ID_BASE):
                return "/".join(from_iri(value)[1:])
            if value.startswith(_KGT):
                return value[len(_KGT) :]
        return value
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        text = term.value
        if datatype in _INTS:
            return int(text)
        if datatype in _FLOATS:
            special = {"INF": math.inf, "-INF": -math.inf, "NaN": math.nan}
            return special[text] if text in special else float(text)
        if datatype == f"{_XSD}boolean":
            return text in ("true", "1")
        return text
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


def solutions_frame(
    variables: Iterable[str],
    rows: Iterator[Iterable[object]],
    *,
    limit: int | None = None,
    hidden: Iterable[str] = (),
    iris: bool = False,
    renames: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Build a DataFrame from solution rows, stopping after ``limit`` rows."""
    names = list(variables)
    keep = [i for i, n in enumerate(names) if n not in set(hidden)]
    data: list[list[object]] = []
    for row in rows:
        if limit is not None and len(data) >= limit:
            break
        values = list(row)
        data.append([cell(values[i], iris=iris) for i in keep])
    renames = renames or {}
    columns = [renames.get(names[i], names[i]) for i in keep]
    return pd.DataFrame(data, columns=columns, dtype=object)


@cache
def _prepared(name: str) -> Any:
    from rdflib.plugins.sparql import prepareQuery

    return prepareQuery(get_query(name).text)


def _from_rdflib(term: Any) -> object:
    import rdflib

    if term is None:
        return None
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    return term


def _to_rdflib(term: ox.NamedNode | ox.Literal) -> Any:
    import rdflib

    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def query_rdflib(graph: Any, name: str, *, limit: int | None = 100, **params: Any) -> pd.DataFrame:
    """Run a named query on an rdflib graph (e.g. ``ZooGraph.to_rdflib()``) with ``initBindings``.

    Gives the same DataFrame as ``ZooGraph.named_query`` on pyoxigraph. Use an
    ``rdflib.Dataset(default_union=True)`` or a merged ``rdflib.Graph``.
    """
    named = get_query(name)
    bindings = {k: _to_rdflib(v) for k, v in named.terms(params).items()}
    result = graph.query(_prepared(name), initBindings=bindings)
    variables = [str(v) for v in result.vars]
    rows = ([_from_rdflib(t) for t in row] for row in result)
    return solutions_frame(variables, rows, limit=limit, hidden=named.hidden, renames=named.renames)
