"""Baseline recommenders with the same ``fit``/``rank`` interface as the GNN.

- :class:`PopularityRecommender`: "good models are good everywhere" — a model's
  mean z-scored value on the other datasets.
- :class:`SimilarityRecommender`: similarity-weighted mean of a model's z-scores on
  datasets similar to the target, shrunk towards its popularity.
- :class:`ScoreRecommender`: rank by a transferability estimator score stored in
  the graph (LogME by default).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kgtransfer.kg.tables import ZooTables

from ._base import _Z90, BaseRecommender
from ._checks import check_float, check_text
from ._registry import register_recommender

__all__ = ["PopularityRecommender", "ScoreRecommender", "SimilarityRecommender"]


def _popularity(zmat: pd.DataFrame, models: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean z per model (0 without records) and its residual spread."""
    mean = zmat.mean(axis=1)
    spread = float(np.nanstd((zmat.sub(mean, axis=0)).to_numpy())) if zmat.size else 1.0
    z = mean.reindex(models).fillna(0.0).to_numpy(dtype=float)
    return z, np.full(len(models), _Z90 * (spread if np.isfinite(spread) else 1.0))


@register_recommender("popularity")
class PopularityRecommender(BaseRecommender):
    """A model's mean per-dataset z-score on every dataset other than the target.

    Example:
        >>> import pandas as pd
        >>> from kgtransfer.kg.tables import ZooTables
        >>> recs = pd.DataFrame({"model": list("abcabc"), "dataset": list("xxxyyy"),
        ...                      "value": [0.9, 0.5, 0.7, 0.8, 0.6, 0.7]})
        >>> PopularityRecommender().fit(ZooTables(records=recs)).rank("y")["model"].tolist()
        ['a', 'c', 'b']
    """

    name = "popularity"

    def __init__(self) -> None:
        pass

    def _fit(self, tables: ZooTables) -> None:
        self.n_datasets_ = int(self.truth_.values["dataset"].nunique())

    def _predict_z(self, dataset: str, models: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _popularity(self._train_z(dataset), models)


@register_recommender("similarity")
class SimilarityRecommender(BaseRecommender):
    """Similarity-weighted neighbour datasets' z-scores, shrunk towards popularity.

    .. math:: \\hat z_{m,t} = \\frac{\\lambda\\,\\bar z_m + \\sum_d s_{td}^p z_{m,d}}{\\lambda + \\sum_d s_{td}^p}

    Args:
        power: Exponent ``p`` sharpening the similarities.
        shrinkage: Weight ``λ`` of the model's popularity ``z̄_m``.
    """

    name = "similarity"

    def __init__(self, *, power: float = 4.0, shrinkage: float = 0.5) -> None:
        self.power = power
        self.shrinkage = shrinkage

    def _fit(self, tables: ZooTables) -> None:
        check_float(self.power, "power", minimum=0.0, min_inclusive=False)
        check_float(self.shrinkage, "shrinkage", minimum=0.0)

    def _predict_z(self, dataset: str, models: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        zmat = self._train_z(dataset)
        pop, half = _popularity(zmat, models)
        if zmat.shape[1] == 0:
            return pop, half
        z = zmat.reindex(models).to_numpy(dtype=float)
        w = self._target_sims(dataset, list(zmat.columns)) ** self.power
        has = np.isfinite(z)
        num = np.where(has, z, 0.0) @ w + self.shrinkage * pop
        den = has.astype(float) @ w + self.shrinkage
        return np.divide(num, den, out=pop.copy(), where=den > 0), half


@register_recommender("logme")
class ScoreRecommender(BaseRecommender):
    """Rank by a transferability estimator score held in the graph's ``scores`` table.

    Models without a score on the target rank last (at the lowest scored z).

    Args:
        estimator: Estimator name in the ``scores`` table (``logme``, ``hscore``, ...).
    """

    name = "logme"

    def __init__(self, *, estimator: str = "logme") -> None:
        self.estimator = estimator

    def _fit(self, tables: ZooTables) -> None:
        check_text(self.estimator, "estimator", fix="pass e.g. estimator='logme'")
        s = tables.scores
        s = s.loc[s["estimator"].astype("object") == self.estimator]
        if not len(s):
            known = sorted(tables.scores["estimator"].dropna().astype(str).unique())
            raise ValueError(
                f"The graph holds no {self.estimator!r} scores (estimators present: {known}); "
                "add them with the transfer.scores estimators or pick another estimator."
            )
        self.scores_ = (
            s.assign(value=s["value"].astype(float)).groupby(["dataset", "model"])["value"].mean()
        )

    def _predict_z(self, dataset: str, models: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if dataset not in self.scores_.index.get_level_values(0):
            return np.zeros(len(models)), np.full(len(models), np.inf)
        s = self.scores_.loc[dataset]
        sd = float(s.std(ddof=0)) or 1.0
        z = ((s - s.mean()) / sd).reindex(models).to_numpy(dtype=float)
        low = np.nanmin(z) if np.isfinite(z).any() else 0.0
        return np.where(np.isfinite(z), z, low - 1e-6), np.full(len(models), _Z90)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"estimator": self.estimator}
