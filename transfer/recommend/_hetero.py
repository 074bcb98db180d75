"""Turn a :class:`ZooTables` into a PyTorch Geometric ``HeteroData`` graph."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from ._data import as_tables, similarity_matrix, truth_table

if TYPE_CHECKING:  # torch_geometric (~3 s) is imported when a graph is built
    from torch_geometric.data import HeteroData

__all__ = ["RECORD", "HeteroIndex", "build_hetero_data", "numeric_features"]

#: Edge type of transfer records (model -> dataset); its reverse is ``REV_RECORD``.
RECORD = ("model", "transfers_to", "dataset")
REV_RECORD = ("dataset", "rev_transfers_to", "model")
SCORE = ("model", "scored_on", "dataset")
REV_SCORE = ("dataset", "rev_scored_on", "model")
TRAINED = ("model", "trained_on", "dataset")
SIMILAR = ("dataset", "similar_to", "dataset")
DERIVED = ("model", "derived_from", "model")
HAS_TASK = ("dataset", "has_task", "task")
IN_DOMAIN = ("dataset", "in_domain", "domain")
FAMILY = ("model", "has_type", "family")
_NON_NUMERIC = {"seed", "suspect"}


@dataclass
class HeteroIndex:
    """Node names of each node type, in node-index order, and the reverse maps."""

    names: dict[str, list[str]]
    index: dict[str, dict[str, int]] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {k: {n: i for i, n in enumerate(v)} for k, v in self.names.items()}


def numeric_features(table: pd.DataFrame, skip: Iterable[str]) -> tuple[np.ndarray, list[str]]:
    """Signed-log, standardised numeric columns plus missing-value indicators.

    Shapes:
        Returns (N, 2 F) for F numeric columns (value, is-missing), and the names.

    Example:
        >>> x, names = numeric_features(pd.DataFrame({"n": [1.0, None, 100.0]}), skip=[])
        >>> names, x.shape
        (['n', 'n_missing'], (3, 2))
    """
    cols: list[np.ndarray] = []
    names: list[str] = []
    for col in table.columns:
        if col in set(skip) or col in _NON_NUMERIC:
            continue
        ser = table[col]
        if not (pd.api.types.is_numeric_dtype(ser) and not pd.api.types.is_bool_dtype(ser)):
            continue
        v = pd.to_numeric(ser, errors="coerce").astype(float).to_numpy()
        miss = ~np.isfinite(v)
        if miss.all():
            continue
        v = np.sign(v) * np.log1p(np.abs(v))
        mu, sd = np.nanmean(v[~miss]), np.nanstd(v[~miss]) or 1.0
        cols += [np.where(miss, 0.0, (v - mu) / sd), miss.astype(float)]
        names += [col, f"{col}_missing"]
    if not cols:
        return np.zeros((len(table), 0)), []
    return np.stack(cols, axis=1), names


def _categories(series: pd.Series | None) -> list[str]:
    if series is None:
        return []
    return sorted(series.dropna().astype(str).unique())


def build_hetero_data(
    graph: Any,
    *,
    exclude_datasets: Iterable[str] = (),
    top_k_similar: int = 10,
    undirected: bool = True,
    min_records: int = 3,
) -> tuple[HeteroData, HeteroIndex]:
    """Build the heterogeneous zoo graph a GNN learns from.

    Node types ``model``, ``dataset``, ``task``, ``domain`` and ``family``
    (``model_type``). Edges: ``trained_on``, ``derived_from`` (lineage),
    ``similar_to`` (the ``top_k_similar`` closest datasets, weight = similarity in
    [0, 1]; distances become similarities), ``transfers_to`` (one edge per
    (model, dataset) with a non-suspect record, ``edge_attr`` = value z-scored within
    the dataset, higher is better), ``scored_on`` (estimator scores z-scored per
    dataset and estimator), ``has_task``, ``in_domain``, ``has_type``, and, when
    ``undirected``, a ``rev_*`` edge type for each.

    Records of ``exclude_datasets`` are dropped before any reverse edge is made, so
    nothing of them reaches the graph in either direction; their dataset nodes stay
    (for cold-start scoring through similarity, task and domain edges).

    Node features: ``x`` of ``model`` and ``dataset`` are signed-log standardised
    numeric metadata (``n_params``, ``n_labels``, ``n_samples``, ``n_classes``, any
    extra numeric column) with missing indicators; ``task``, ``domain`` and
    ``family`` nodes carry only ``num_nodes`` (their embeddings are learned).

    Args:
        graph: ``ZooTables`` or ``ZooGraph``.
        exclude_datasets: Held-out datasets whose records are left out.
        top_k_similar: Similarity edges kept per dataset.
        undirected: Add reverse edge types.
        min_records: Datasets with fewer non-suspect records get no record edges.

    Returns:
        ``(data, index)``: the ``HeteroData`` and the node names per type.

    Example:
        >>> import pandas as pd
        >>> from kgtransfer.kg.tables import ZooTables
        >>> recs = pd.DataFrame({"model": ["a", "b"], "dataset": ["x", "y"], "value": [0.9, 0.5]})
        >>> data, index = build_hetero_data(
        ...     ZooTables(records=recs), exclude_datasets=["y"], min_records=1)
        >>> data["model", "transfers_to", "dataset"].edge_index.tolist()
        [[0], [0]]
        >>> index.names["dataset"]
        ['x', 'y']
    """
    tables = as_tables(graph)
    excluded = {str(d) for d in exclude_datasets}
    truth = truth_table(tables, exclude_datasets=excluded, min_records=min_records)
    models_t = tables.models.assign(model=tables.models["model"].astype(str))
    models_t = models_t.drop_duplicates("model")
    model_names = sorted(
        set(models_t["model"])
        | set(tables.records["model"].dropna().astype(str))
        | set(tables.lineage["model"].dropna().astype(str))
        | set(tables.lineage["base_model"].dropna().astype(str))
    )
    models_t = models_t.set_index("model").reindex(model_names)
    ds_t = tables.datasets.assign(dataset=tables.datasets["dataset"].astype(str))
    dataset_names = sorted(
        set(ds_t["dataset"])
        | set(tables.records["dataset"].dropna().astype(str))
        | set(tables.similarities["dataset_a"].dropna().astype(str))
        | set(tables.similarities["dataset_b"].dropna().astype(str))
        | set(models_t["trained_on"].dropna().astype(str) if "trained_on" in models_t else [])
    )
    ds_t = ds_t.drop_duplicates("dataset").set_index("dataset").reindex(dataset_names)
    index = HeteroIndex(
        {
            "model": model_names,
            "dataset": dataset_names,
            "task": _categories(ds_t.get("task")),
            "domain": _categories(ds_t.get("domain")),
            "family": _categories(models_t.get("model_type")),
        }
    )
    mi, di = index.index["model"], index.index["dataset"]
    from torch_geometric.data import HeteroData

    data = HeteroData()
    xm, _ = numeric_features(models_t, skip=[])
    xd, _ = numeric_features(ds_t, skip=[])
    data["model"].x = torch.tensor(xm, dtype=torch.float32)
    data["dataset"].x = torch.tensor(xd, dtype=torch.float32)
    for kind in ("task", "domain", "family"):
        data[kind].num_nodes = len(index.names[kind])

    def put(
        etype: tuple[str, str, str], src: list[int], dst: list[int], w: list[float] | None
    ) -> None:
        data[etype].edge_index = torch.tensor([src, dst], dtype=torch.long).reshape(2, -1)
        if w is not None:
            data[etype].edge_attr = torch.tensor(w, dtype=torch.float32).reshape(-1, 1)

    tv = truth.values
    put(RECORD, [mi[m] for m in tv["model"]], [di[d] for d in tv["dataset"]], list(tv["z"]))
    sc = tables.scores.dropna(subset=["model", "dataset", "value"])
    sc = sc.loc[sc["model"].astype(str).isin(mi) & sc["dataset"].astype(str).isin(di)]
    if len(sc):
        key = [sc["dataset"].astype(str), sc["estimator"].astype(str)]
        v = sc["value"].astype(float)
        z = (v - v.groupby(key).transform("mean")) / v.groupby(key).transform("std").fillna(1.0)
        sz = z.fillna(0.0).groupby([sc["model"].astype(str), sc["dataset"].astype(str)]).mean()
        sm, sd_ = sz.index.get_level_values(0), sz.index.get_level_values(1)
        put(SCORE, [mi[m] for m in sm], [di[d] for d in sd_], list(sz.to_numpy()))
    else:
        put(SCORE, [], [], [])
    tr = models_t["trained_on"].dropna().astype(str) if "trained_on" in models_t else pd.Series()
    put(TRAINED, [mi[m] for m in tr.index], [di[d] for d in tr], None)
    lin = tables.lineage.dropna(subset=["model", "base_model"])
    put(DERIVED, [mi[str(m)] for m in lin["model"]], [mi[str(b)] for b in lin["base_model"]], None)
    sim = similarity_matrix(tables, dataset_names)
    np.fill_diagonal(sim, 0.0)
    src, dst, w = [], [], []
    for a in range(len(dataset_names)):
        for b in np.argsort(-sim[a], kind="stable")[:top_k_similar]:
            if sim[a, b] > 0:
                src.append(a)
                dst.append(int(b))
                w.append(float(sim[a, b]))
    put(SIMILAR, src, dst, w)
    for etype, col, kind in ((HAS_TASK, "task", "task"), (IN_DOMAIN, "domain", "domain")):
        s = ds_t[col].dropna().astype(str) if col in ds_t else pd.Series()
        put(etype, [di[d] for d in s.index], [index.index[kind][v] for v in s], None)
    fam = models_t["model_type"].dropna().astype(str) if "model_type" in models_t else pd.Series()
    put(FAMILY, [mi[m] for m in fam.index], [index.index["family"][v] for v in fam], None)
    if undirected:
        for etype in list(data.edge_types):
            s, r, d = etype
            if etype == SIMILAR:  # already symmetric
                continue
            store = data[etype]
            rev = data[(d, f"rev_{r}", s)]
            rev.edge_index = store.edge_index.flip(0)
            if "edge_attr" in store:
                rev.edge_attr = store.edge_attr
    return data, index
