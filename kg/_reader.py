"""Read a :class:`ZooTables` back out of the store with one SPARQL query per table.

Results are serialised by pyoxigraph as CSV and parsed by pandas' C reader,
which is far faster than converting a million solutions one term at a time.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
import pyoxigraph as ox

from kgtransfer.kg._backend import StoreBackend
from kgtransfer.kg._schema import RELATIONS, SPECS, TableSpec
from kgtransfer.kg.iri import ID_BASE, decode_id, from_iri
from kgtransfer.kg.tables import COLUMNS, ZooTables
from kgtransfer.kg.vocab import DCTERMS, KGT, PROV

__all__ = ["read_tables"]

_RELATION_NAMES = {iri: name for name, iri in RELATIONS.items()}
_SPECIAL = {"INF": np.inf, "-INF": -np.inf, "+INF": np.inf, "NaN": np.nan}


def _subjects_query(spec: TableSpec) -> str:
    if spec.name == "lineage":
        return f"SELECT DISTINCT ?s WHERE {{ ?model <{PROV.qualifiedDerivation}> ?s }}"
    return f"SELECT DISTINCT ?s WHERE {{ ?s a <{spec.types[0]}> }}"


def _column(store: StoreBackend, predicate: str, subjects: pd.Index) -> pd.Series:
    """Values of one predicate for the given subjects (first value when several)."""
    pairs = _csv(store, f"SELECT ?s ?o WHERE {{ ?s <{predicate}> ?o }}")
    pairs = pairs.drop_duplicates("s")
    return pd.Series(pairs["o"].to_numpy(), index=pairs["s"].to_numpy()).reindex(subjects)


def _csv(store: StoreBackend, query: str) -> pd.DataFrame:
    result = store.query(query, use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions)
    data = result.serialize(format=ox.QueryResultsFormat.CSV)
    assert data is not None
    return pd.read_csv(
        io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8"
    )


def _decode_iris(values: pd.Series, kind: str) -> pd.Series:
    prefix = f"{ID_BASE}{kind}/"
    out = pd.Series(pd.NA, index=values.index, dtype=object)
    present = values.notna()
    if present.any():
        out[present] = values[present].str.slice(len(prefix)).map(decode_id)
    return out


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.replace(_SPECIAL), errors="raise")


def _convert(table: pd.DataFrame, spec_term: str, column: str) -> pd.Series:
    values = table[column]
    if spec_term.startswith("iri:"):
        return _decode_iris(values, spec_term[4:])
    if spec_term == "relation":
        return values.map(_RELATION_NAMES, na_action="ignore")
    if spec_term in ("double", "integer"):
        return _numbers(values)
    if spec_term == "boolean":
        return values.map({"true": True, "false": False, "1": True, "0": False}, na_action="ignore")
    return values


def _attributes(store: StoreBackend, table: str) -> pd.DataFrame:
    # the table name is a constant of ours, passed as a substitution all the same
    query = (
        "SELECT DISTINCT ?s ?col ?v ?table WHERE { "
        f"?attr <{KGT.attributeOf}> ?table ; <{DCTERMS.identifier}> ?col . ?s ?attr ?v }}"
    )
    result = store.query(
        query,
        use_default_graph_as_union=True,
        substitutions={ox.Variable("table"): ox.Literal(table)},
    )
    assert isinstance(result, ox.QuerySolutions)
    data = result.serialize(format=ox.QueryResultsFormat.CSV)
    assert data is not None
    long = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""])
    if long.empty:
        return pd.DataFrame(index=pd.Index([], name="s"))
    long["v"] = _numbers(long["v"])
    return long.pivot_table(index="s", columns="col", values="v", aggfunc="first")


def _read_table(store: StoreBackend, spec: TableSpec) -> pd.DataFrame:
    subjects = pd.Index(_csv(store, _subjects_query(spec))["s"].drop_duplicates())
    raw = pd.DataFrame({"s": subjects.to_numpy()})
    for col in spec.columns:
        raw[col.column] = _column(store, col.predicate, subjects).to_numpy()
    out: dict[str, Any] = {}
    if spec.key is not None:
        out[spec.key] = _decode_iris(raw["s"], spec.kind)
        order = [out[spec.key]]
    elif spec.name == "lineage":
        parts = raw["s"].map(from_iri)
        out["model"] = parts.map(lambda p: p[1])
        order = [out["model"], parts.map(lambda p: p[2])]
    else:
        parts = raw["s"].map(from_iri)
        order = [parts.map(lambda p: p[1]), parts.map(lambda p: int(p[2]))]
    for col in spec.columns:
        out[col.column] = _convert(raw, col.term, col.column)
    table = pd.DataFrame(out, index=raw.index)
    extra = _attributes(store, spec.name)
    if len(extra.columns):
        extra = extra.reindex(raw["s"])
        for col in extra.columns:
            if col in table.columns:  # a column that was a numeric attribute in older stores
                table[col] = table[col].where(table[col].notna(), extra[col].to_numpy())
            else:
                table[col] = extra[col].to_numpy()
    if len(table):
        keys = pd.DataFrame({f"k{i}": k for i, k in enumerate(order)})
        table = table.iloc[np.lexsort([keys[c].to_numpy() for c in reversed(keys.columns)])]
    table = table.reset_index(drop=True)
    typed = {c: table[c].astype(t) for c, t in COLUMNS[spec.name].items()}
    extras = {c: table[c].astype("Float64") for c in table.columns if c not in COLUMNS[spec.name]}
    return pd.DataFrame({**typed, **extras})


def read_tables(store: StoreBackend) -> ZooTables:
    """Everything in ``store`` as a :class:`ZooTables` (rows sorted by id, or ingestion order)."""
    return ZooTables(**{name: _read_table(store, spec) for name, spec in SPECS.items()})
