"""Turn a :class:`ZooTables` into N-Triples statements, column by column (vectorised).

The store appends the graph name to every statement and loads them in one
transaction. Only our own escaping and IRI encoding produce text here; no user
value is ever spliced into a query.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from kgtransfer.errors import IngestError
from kgtransfer.kg._schema import CONCEPT_TYPES, RELATIONS, SPECS, ColumnSpec, TableSpec
from kgtransfer.kg.iri import ID_BASE, encode_id, to_iri
from kgtransfer.kg.tables import COLUMNS, ZooTables
from kgtransfer.kg.vocab import DCTERMS, KGT, PROV, RDF, SKOS

__all__ = ["render_tables", "string_literal", "term_iri"]

_XSD = "http://www.w3.org/2001/XMLSchema#"
_TYPE = f"<{RDF.type}>"
_IDENT = f"<{DCTERMS.identifier}>"
#: Canonical columns a table may lack (their cells are then unknown).
_OPTIONAL = {"records": ("n_train", "shots", "split", "epochs", "steps", "frozen")}


def term_iri(iri: str) -> str:
    """``<iri>`` (our IRIs only hold unreserved characters and %XX)."""
    return f"<{iri}>"


def string_literal(value: str) -> str:
    """An N-Triples string literal."""
    return '"' + _escape_scalar(value) + '"'


def _escape_scalar(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def _escape(values: pd.Series) -> pd.Series:
    out = values.astype(str)
    for old, new in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r")):
        if out.str.contains(old, regex=False).any():
            out = out.str.replace(old, new, regex=False)
    return out


def _double(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "INF" if x > 0 else "-INF"
    return repr(x)


def _iris(kind: str, values: pd.Series) -> pd.Series:
    prefix = f"<{ID_BASE}{kind}/"
    return prefix + values.map(encode_id) + ">"


def _objects(spec: ColumnSpec, values: pd.Series, table: str) -> pd.Series:
    """Render non-null cells of one column as RDF terms."""
    term = spec.term
    if term.startswith("iri:"):
        _check_ids(values, table, spec.column)
        return _iris(term[4:], values.astype(str))
    if term == "string":
        return '"' + _escape(values) + '"'
    if term == "double":
        return '"' + values.astype("float64").map(_double) + f'"^^<{_XSD}double>'
    if term == "integer":
        as_float = values.astype("float64")
        if not np.all(np.equal(np.mod(as_float, 1), 0)):
            bad = values[np.mod(as_float, 1) != 0].iloc[0]
            raise IngestError(
                f"Table {table!r}, column {spec.column!r}: {bad!r} is not an integer."
            )
        return '"' + values.astype("int64").astype(str) + f'"^^<{_XSD}integer>'
    if term == "boolean":
        return values.astype(bool).map({True: '"true"', False: '"false"'}) + f"^^<{_XSD}boolean>"
    if term == "relation":
        unknown = sorted(set(values.astype(str)) - set(RELATIONS))
        if unknown:
            raise IngestError(
                f"Table 'lineage', column 'relation': unknown value {unknown[0]!r}; "
                f"use one of {', '.join(RELATIONS)} or leave it empty."
            )
        return values.astype(str).map(RELATIONS).map(term_iri)
    raise AssertionError(f"unknown term kind {term}")  # pragma: no cover - specs are fixed


def _check_ids(values: pd.Series, table: str, column: str) -> None:
    as_str = values.astype(str)
    empty = as_str == ""
    if empty.any():
        row = values.index[np.asarray(empty)][0]
        raise IngestError(
            f"Table {table!r}, row {row}, column {column!r}: empty id; "
            "give every entity a non-empty name or leave the cell missing."
        )


def _required(table: pd.DataFrame, name: str, column: str) -> pd.Series:
    values = table[column]
    if values.isna().any():
        row = values.index[np.asarray(values.isna())][0]
        raise IngestError(
            f"Table {name!r}, row {row}: column {column!r} is missing; every row needs one."
        )
    _check_ids(values, name, column)
    return values.astype(str)


def _extra_columns(table: pd.DataFrame, name: str) -> list[str]:
    extra = [c for c in table.columns if c not in COLUMNS[name]]
    for col in extra:
        if not isinstance(col, str) or not col:
            raise IngestError(f"Table {name!r} has a column named {col!r}; name it with a string.")
        if not pd.api.types.is_numeric_dtype(table[col]):
            raise IngestError(
                f"Table {name!r}, extra column {col!r} has dtype {table[col].dtype}; only numeric "
                "extra columns are stored (as numeric attributes). Convert or drop it first."
            )
    missing = [c for c in COLUMNS[name] if c not in table.columns]
    if missing:
        raise IngestError(
            f"Table {name!r} lacks columns {missing}; build it with kgtransfer.kg.ingest."
            "normalize_tables or kgtransfer.kg.tables.empty_table."
        )
    return extra


def _subjects(spec: TableSpec, table: pd.DataFrame, batch_id: str) -> pd.Series:
    if spec.key is not None:
        return _iris(spec.kind, _required(table, spec.name, spec.key))
    if spec.name == "lineage":
        model = _required(table, "lineage", "model")
        base = _required(table, "lineage", "base_model")
        return f"<{ID_BASE}lineage/" + model.map(encode_id) + "/" + base.map(encode_id) + ">"
    rows = pd.Series(np.arange(len(table)), index=table.index).astype(str)
    return f"<{ID_BASE}{spec.kind}/{encode_id(batch_id)}/" + rows + ">"


def render_tables(tables: ZooTables, batch_id: str) -> tuple[list[pd.Series], dict[str, int]]:
    """N-Triples statements (without the final graph and dot) for every row of ``tables``.

    Args:
        tables: Normalised tables (canonical columns plus numeric extras).
        batch_id: Names the row nodes of event tables (records, similarities, scores).

    Returns:
        ``(pieces, counts)``: Series of ``"<s> <p> <o>"`` strings and rows per table.

    Raises:
        IngestError: A missing key, an empty id, an unknown relation or a
            non-numeric extra column (table, row and value named).
    """
    pieces: list[pd.Series] = []
    counts: dict[str, int] = {}
    concepts: dict[str, set[str]] = {k: set() for k in CONCEPT_TYPES}
    attributes: set[tuple[str, str]] = set()
    for name, spec in SPECS.items():
        table = getattr(tables, name)
        absent = [c for c in _OPTIONAL.get(name, ()) if c not in table.columns]
        if absent:  # tables built before these columns existed: unknown regime
            table = table.assign(**{c: pd.Series(pd.NA, index=table.index) for c in absent})
        counts[name] = len(table)
        if table.empty:
            _extra_columns(table, name)
            continue
        table = table.reset_index(drop=True)
        extra = _extra_columns(table, name)
        subjects = _subjects(spec, table, batch_id)
        for rdf_type in spec.types:
            pieces.append(subjects + f" {_TYPE} <{rdf_type}>")
        if spec.key is not None:
            pieces.append(subjects + f" {_IDENT} " + '"' + _escape(table[spec.key]) + '"')
        if name == "lineage":
            models = _iris("model", table["model"].astype(str))
            bases = _iris("model", table["base_model"].astype(str))
            pieces.append(models + f" <{PROV.wasDerivedFrom}> " + bases)
            pieces.append(models + f" <{PROV.qualifiedDerivation}> " + subjects)
        for col in spec.columns:
            values = table[col.column]
            mask = values.notna().to_numpy(dtype=bool)
            if not mask.any():
                continue
            present = values[mask]
            pieces.append(subjects[mask] + f" <{col.predicate}> " + _objects(col, present, name))
            kind = col.term[4:] if col.term.startswith("iri:") else ""
            if kind in concepts:
                concepts[kind].update(present.astype(str).unique())
        for column in extra:
            values = pd.to_numeric(table[column]).astype("Float64")
            mask = values.notna().to_numpy(dtype=bool)
            if not mask.any():
                continue
            attr = to_iri("attribute", name, column)
            attributes.add((name, column))
            objects = '"' + values[mask].astype("float64").map(_double) + f'"^^<{_XSD}double>'
            pieces.append(subjects[mask] + f" <{attr}> " + objects)
    declarations: list[str] = []
    for kind, ids in concepts.items():
        for id_ in sorted(ids):
            s = term_iri(to_iri(kind, id_))
            declarations += [f"{s} {_TYPE} <{t}>" for t in CONCEPT_TYPES[kind]]
            declarations.append(f"{s} <{SKOS.prefLabel}> {string_literal(id_)}")
    for table_name, column in sorted(attributes):
        s = term_iri(to_iri("attribute", table_name, column))
        declarations += [
            f"{s} {_TYPE} <{KGT.NumericAttribute}>",
            f"{s} <{KGT.attributeOf}> {string_literal(table_name)}",
            f"{s} {_IDENT} {string_literal(column)}",
        ]
    if declarations:
        pieces.append(pd.Series(declarations, dtype=object))
    return pieces, counts
