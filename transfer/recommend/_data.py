"""Ground-truth values and per-target normalisation shared by every recommender."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kgtransfer.errors import IngestError
from kgtransfer.kg.regime import select_regime
from kgtransfer.kg.tables import ZooTables, as_tables

__all__ = [
    "Truth",
    "as_tables",
    "metric_directions",
    "scratch_accuracies",
    "similarity_matrix",
    "truth_table",
]


def metric_directions(tables: ZooTables) -> dict[str, bool]:
    """``metric -> higher_is_better``; metrics not listed count as higher-is-better."""
    out: dict[str, bool] = {}
    for metric, hib in zip(
        tables.metrics["metric"], tables.metrics["higher_is_better"], strict=True
    ):
        if pd.notna(metric):
            out[str(metric)] = True if pd.isna(hib) else bool(hib)
    return out


@dataclass
class Truth:
    """One value per (model, dataset): the best non-suspect run, plus per-dataset scale.

    Attributes:
        values: DataFrame ``model, dataset, value, metric, goodness, z`` where
            ``goodness`` is ``value`` (or ``-value`` when lower is better) and ``z``
            is goodness z-scored within its dataset (higher is always better).
        stats: DataFrame indexed by dataset with ``mean``, ``std`` (of goodness),
            ``metric``, ``higher_is_better`` and ``n`` (records).
        n_suspect: Records left out because they are flagged ``suspect``.
        regimes: Per dataset, the training regime its values come from
            (:mod:`kgtransfer.kg.regime`; ``"any"`` when regimes were mixed on purpose).
        notes: Datasets whose records of other regimes were left out, and why.
    """

    values: pd.DataFrame
    stats: pd.DataFrame
    n_suspect: int
    regimes: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def truth_table(
    tables: ZooTables,
    *,
    exclude_datasets: Iterable[str] = (),
    min_records: int = 1,
    regime: str | Mapping[str, Any] | None = None,
) -> Truth:
    """Reduce records to one value per (model, dataset) and z-score it per dataset.

    Suspect records (probable failed runs) are never learned from. Results of
    different training regimes are not comparable, so each dataset's values come from
    one regime (:mod:`kgtransfer.kg.regime`): by default its own, the regime of most
    of its records (``Truth.notes`` names datasets where others were left out);
    ``regime="any"`` mixes them on purpose. When a pair has several runs in the
    regime kept (e.g. seeds, or full fine-tuning and LoRA with ``regime="any"``), the
    best run is the value, as in the TransferGraph paper's ground truth. A dataset
    with several metrics keeps its most frequent one.

    Args:
        tables: The zoo.
        exclude_datasets: Datasets whose records are dropped (held-out targets).
        min_records: Datasets with fewer (non-suspect) models are dropped: their
            z-scores are noise (e.g. 2 surviving runs always get z = ±1).
        regime: None (each dataset's own regime), ``"any"`` (mix), or a regime label
            / mapping of regime parts kept for every dataset.

    Returns:
        A :class:`Truth`.

    Records with a missing model or dataset or a non-finite value (possible
    only in a store written before ingestion validated values) are skipped
    with a ``UserWarning``.

    Raises:
        IngestError: The records table lacks a model, dataset or value column.

    Example:
        >>> import pandas as pd
        >>> from kgtransfer.kg.tables import ZooTables
        >>> recs = pd.DataFrame({"model": ["a", "b", "a"], "dataset": ["d", "d", "d"],
        ...                      "value": [0.5, 0.7, 0.9]})
        >>> t = truth_table(ZooTables(records=recs))
        >>> t.values[["model", "value"]].to_dict("records")
        [{'model': 'a', 'value': 0.9}, {'model': 'b', 'value': 0.7}]
    """
    rec = tables.records
    excluded = {str(d) for d in exclude_datasets}
    cols = ["model", "dataset", "value"]
    missing = [c for c in cols if c not in rec.columns]
    if missing:
        raise IngestError(f"records table lacks column(s) {missing}; it needs {cols}.")
    rec = rec.loc[~rec["dataset"].isin(excluded)] if excluded else rec
    value = pd.to_numeric(rec["value"], errors="coerce").astype("float64")
    bad = rec[["model", "dataset"]].isna().any(axis=1) | ~np.isfinite(value.to_numpy())
    if bool(bad.any()):  # only stores written before validation can hold these
        row = rec.loc[bad].iloc[0]
        warnings.warn(
            f"skipped {int(bad.sum())} record(s) with a missing model or dataset or a "
            f"non-finite value (e.g. {row.to_dict()}); the rest are used. Remove them "
            "with graph.remove_record(...) or re-ingest them.",
            UserWarning,
            stacklevel=2,
        )
        rec = rec.loc[~bad.to_numpy()]
    rec, regimes, notes = select_regime(rec, regime)
    suspect = (
        rec["suspect"].fillna(False).astype(bool)
        if "suspect" in rec.columns
        else pd.Series(False, index=rec.index)
    )
    n_suspect = int(suspect.sum())
    rec = rec.loc[~suspect.to_numpy()]
    metric = (
        rec["metric"].astype("object").where(rec["metric"].notna(), "accuracy")
        if "metric" in rec.columns
        else pd.Series("accuracy", index=rec.index, dtype="object")
    )
    df = pd.DataFrame(
        {
            "model": rec["model"].astype(str).to_numpy(),
            "dataset": rec["dataset"].astype(str).to_numpy(),
            "value": rec["value"].astype(float).to_numpy(),
            "metric": metric.astype(str).to_numpy(),
        }
    )
    directions = metric_directions(tables)
    if len(df):
        main = df.groupby("dataset")["metric"].agg(lambda s: s.value_counts().index[0])
        df = df.loc[df["metric"].to_numpy() == main.loc[df["dataset"]].to_numpy()]
    hib = df["metric"].map(lambda m: directions.get(m, True)).astype(bool)
    df["goodness"] = np.where(hib, df["value"], -df["value"])
    df = df.sort_values("goodness", ascending=False, kind="stable")
    df = df.drop_duplicates(["model", "dataset"]).sort_values(["dataset", "model"])
    if min_records > 1:
        sizes = df.groupby("dataset")["model"].transform("size")
        df = df.loc[sizes >= min_records]
    df = df.reset_index(drop=True)
    g = df.groupby("dataset")["goodness"]
    mean = g.transform("mean")
    std = g.transform(lambda s: s.std(ddof=0)).replace(0.0, np.nan).fillna(1.0)
    df["z"] = (df["goodness"] - mean) / std
    stats = df.groupby("dataset").agg(
        mean=("goodness", "mean"),
        std=("goodness", lambda s: s.std(ddof=0) or 1.0),
        metric=("metric", "first"),
        n=("goodness", "size"),
    )
    stats["higher_is_better"] = stats["metric"].map(lambda m: directions.get(m, True))
    return Truth(values=df, stats=stats, n_suspect=n_suspect, regimes=regimes, notes=notes)


def scratch_accuracies(tables: ZooTables) -> dict[str, float]:
    """Finite ``scratch_accuracy`` attributes of the datasets, by name."""
    ds = tables.datasets
    if "scratch_accuracy" not in ds.columns:
        return {}
    values = pd.to_numeric(ds["scratch_accuracy"], errors="coerce").astype(float)
    return {
        str(d): float(v)
        for d, v in zip(ds["dataset"], values, strict=True)
        if pd.notna(d) and np.isfinite(v)
    }


def similarity_matrix(tables: ZooTables, names: list[str]) -> np.ndarray:
    """Dense symmetric dataset similarity in [0, 1] over ``names`` (0 = unknown).

    Similarities are used as given (clipped to [0, 1]); distances become
    ``exp(-d / median_d)`` per method, so each method's typical pair scores ~0.37.
    Several methods are averaged.

    Shapes:
        Returns (D, D) with D = ``len(names)``; the diagonal is 1.

    Example:
        >>> import pandas as pd
        >>> from kgtransfer.kg.tables import ZooTables
        >>> sims = pd.DataFrame({"dataset_a": ["x"], "dataset_b": ["y"], "distance": [2.0]})
        >>> similarity_matrix(ZooTables(similarities=sims), ["x", "y"]).round(3).tolist()
        [[1.0, 0.368], [0.368, 1.0]]
    """
    index = {n: i for i, n in enumerate(names)}
    n = len(names)
    total = np.zeros((n, n))
    count = np.zeros((n, n))
    sims = tables.similarities
    if len(sims):
        method = (
            sims["method"].astype("object").fillna("")
            if "method" in sims.columns
            else pd.Series("", index=sims.index)
        )
        for _, part in sims.groupby(method.to_numpy()):
            a = part["dataset_a"].astype(str).map(index)
            b = part["dataset_b"].astype(str).map(index)
            s = part["similarity"].astype(float) if "similarity" in part else None
            d = part["distance"].astype(float) if "distance" in part else None
            val = pd.Series(np.nan, index=part.index)
            if s is not None:
                val = s.clip(0.0, 1.0)
            if d is not None and d.notna().any():
                med = float(np.nanmedian(d.to_numpy(dtype=float))) or 1.0
                val = val.fillna(np.exp(-d / med))
            ok = a.notna() & b.notna() & val.notna()
            ia = a[ok].astype(int).to_numpy()
            ib = b[ok].astype(int).to_numpy()
            v = val[ok].to_numpy(dtype=float)
            m_sum = np.zeros((n, n))
            m_cnt = np.zeros((n, n))
            np.add.at(m_sum, (ia, ib), v)
            np.add.at(m_cnt, (ia, ib), 1.0)
            np.add.at(m_sum, (ib, ia), v)
            np.add.at(m_cnt, (ib, ia), 1.0)
            has = m_cnt > 0
            total[has] += m_sum[has] / m_cnt[has]
            count[has] += 1.0
    out = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    np.fill_diagonal(out, 1.0)
    return out
