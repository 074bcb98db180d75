"""Turn :class:`ZooTables` into a ``networkx.MultiDiGraph``.

Nodes are ``"<kind>:<id>"`` with attributes ``kind`` (model, dataset, task, domain,
modality) and ``id`` plus every known column (numeric extras included). Edges carry
``relation``: ``trained_on``, ``task``, ``domain``, ``modality``, ``derived_from``
(with ``base_model_relation``), ``transfer`` (one per record: value, metric, method,
seed, run, suspect), ``similar`` (similarity, distance, method) and ``score``
(estimator, value).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from kgtransfer.kg.tables import ZooTables, is_na

if TYPE_CHECKING:  # networkx is imported on first use (it costs ~0.2 s at start-up)
    import networkx as nx

__all__ = ["tables_to_networkx"]


def _plain(value: Any) -> Any:
    if is_na(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _node(graph: nx.MultiDiGraph, kind: str, id_: Any, **attrs: Any) -> str:
    key = f"{kind}:{id_}"
    if key not in graph:
        graph.add_node(key, kind=kind, id=str(id_))
    graph.nodes[key].update({k: v for k, v in attrs.items() if v is not None})
    return key


def _rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in table.to_dict("records")]


def tables_to_networkx(tables: ZooTables) -> nx.MultiDiGraph:
    """Build the MultiDiGraph view of a zoo.

    Example:
        >>> g = tables_to_networkx(ZooTables())
        >>> g.number_of_nodes()
        0
    """
    import networkx as nx

    graph = nx.MultiDiGraph()
    for row in _rows(tables.models):
        model = _node(graph, "model", row.pop("model"), **row)
        for column, kind in (("trained_on", "dataset"), ("task", "task"), ("modality", "modality")):
            if row.get(column) is not None:
                graph.add_edge(model, _node(graph, kind, row[column]), relation=column)
    for row in _rows(tables.datasets):
        dataset = _node(graph, "dataset", row.pop("dataset"), **row)
        for column in ("task", "domain", "modality"):
            if row.get(column) is not None:
                graph.add_edge(dataset, _node(graph, column, row[column]), relation=column)
    for row in _rows(tables.lineage):
        graph.add_edge(
            _node(graph, "model", row["model"]),
            _node(graph, "model", row["base_model"]),
            relation="derived_from",
            base_model_relation=row["relation"],
        )
    for row in _rows(tables.records):
        source = _node(graph, "model", row.pop("model"))
        target = _node(graph, "dataset", row.pop("dataset"))
        graph.add_edge(source, target, relation="transfer", **row)
    for row in _rows(tables.similarities):
        a = _node(graph, "dataset", row.pop("dataset_a"))
        b = _node(graph, "dataset", row.pop("dataset_b"))
        graph.add_edge(a, b, relation="similar", **row)
    for row in _rows(tables.scores):
        source = _node(graph, "model", row.pop("model"))
        target = _node(graph, "dataset", row.pop("dataset"))
        graph.add_edge(source, target, relation="score", **row)
    for row in _rows(tables.metrics):
        _node(graph, "metric", row["metric"], higher_is_better=row["higher_is_better"])
    return graph
