"""Baseline recommenders with the same ``fit``/``rank`` interface as the GNN.

Static baselines are the bar a learned recommender has to clear. Each is
registered (``get_recommender(name)``) and evaluated like the GNN:

- ``popularity`` (:class:`PopularityRecommender`): "good models are good
  everywhere" — a model's mean z-scored value on the other datasets.
- ``similarity`` (:class:`SimilarityRecommender`): similarity-weighted mean of a
  model's z-scores on datasets similar to the target, shrunk towards its
  popularity. Needs dataset similarities.
- ``size`` (:class:`SizeRecommender`): larger models first (``models.n_params``).
- ``lineage`` (:class:`LineageRecommender`): the mean popularity of the models
  sharing the model's ``base_model`` root. Needs lineage.
- ``task_domain`` (:class:`TaskDomainRecommender`): popularity with the
  datasets that share the target's task family and domain weighted up. Needs
  ``task`` or ``domain`` of datasets.
- ``score:<estimator>`` (:class:`ScoreRecommender`): a transferability
  estimator's scores on the target (``score:logme``, ``score:hscore``, ...;
  ``logme`` is a deprecated alias of ``score:logme``). Needs scores.

A baseline whose inputs the zoo lacks raises
:class:`~kgtransfer.errors.BaselineInputsMissing` from ``fit`` (benchmarks report
it as n/a) instead of returning a constant or duplicate ranking.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from kgtransfer.errors import BaselineInputsMissing
from kgtransfer.kg.tables import ZooTables

from ._base import BaseRecommender
from ._checks import check_float, check_text
from ._metrics import Z90 as _Z90
from ._registry import register_recommender

__all__ = [
    "SCORE_ESTIMATORS",
    "LineageRecommender",
    "PopularityRecommender",
    "ScoreRecommender",
    "SimilarityRecommender",
    "SizeRecommender",
    "TaskDomainRecommender",
    "lineage_roots",
]


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
        off = self.similarity_ - np.eye(len(self.similarity_))
        if not (off > 0).any():
            raise BaselineInputsMissing(
                "The similarity baseline needs dataset similarities and this zoo has none "
                "(it would equal popularity); add a similarities table "
                "(dataset_a, dataset_b, similarity or distance)."
            )

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


#: Estimators registered as ``score:<estimator>`` recommenders: those of
#: :mod:`kgtransfer.transfer.scores` plus those the public benchmark zoos publish.
SCORE_ESTIMATORS: tuple[str, ...] = (
    "gbc",
    "hscore",
    "knn",
    "leep",
    "lfc",
    "linear_probe",
    "logme",
    "nce",
    "nleep",
    "otce",
    "pactran_dirichlet",
    "reg_hscore",
    "shrinkage_hscore",
)


class ScoreRecommender(BaseRecommender):
    """Rank by a transferability estimator score held in the graph's ``scores`` table.

    Registered as ``score:<estimator>`` for each of :data:`SCORE_ESTIMATORS`
    (``get_recommender("score:hscore")``); any other estimator name works through
    the constructor. Models without a score on the target rank last (at the lowest
    scored z).

    Args:
        estimator: Estimator name in the ``scores`` table (``logme``, ``hscore``, ...).

    Raises:
        BaselineInputsMissing: From ``fit`` when the graph holds no such scores,
            from ``rank`` when the target has none.
    """

    def __init__(self, *, estimator: str = "logme") -> None:
        self.estimator = estimator

    @property
    def name(self) -> str:  # type: ignore[override]
        """Registry key, ``score:<estimator>``."""
        return f"score:{self.estimator}"

    def _fit(self, tables: ZooTables) -> None:
        check_text(self.estimator, "estimator", fix="pass e.g. estimator='logme'")
        s = tables.scores
        s = s.loc[(s["estimator"].astype("object") == self.estimator) & s["value"].notna()]
        if not len(s):
            known = sorted(tables.scores["estimator"].dropna().astype(str).unique())
            raise BaselineInputsMissing(
                f"The graph holds no {self.estimator!r} scores (estimators present: {known}); "
                "add them with the transfer.scores estimators or pick another estimator."
            )
        self.scores_ = (
            s.assign(value=s["value"].astype(float), model=s["model"].astype(str))
            .assign(dataset=s["dataset"].astype(str))
            .groupby(["dataset", "model"])["value"]
            .mean()
        )

    def _predict_z(self, dataset: str, models: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if dataset not in self.scores_.index.get_level_values(0):
            raise BaselineInputsMissing(
                f"No {self.estimator!r} scores on target {dataset!r}: the {self.name} "
                "baseline cannot rank it; compute them or use another recommender."
            )
        s = self.scores_.loc[dataset]
        sd = float(s.std(ddof=0)) or 1.0
        z = ((s - s.mean()) / sd).reindex(models).to_numpy(dtype=float)
        low = np.nanmin(z) if np.isfinite(z).any() else 0.0
        return np.where(np.isfinite(z), z, low - 1e-6), np.full(len(models), _Z90)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"estimator": self.estimator}


for _estimator in SCORE_ESTIMATORS:
    register_recommender(f"score:{_estimator}")(
        functools.partial(ScoreRecommender, estimator=_estimator)
    )


@register_recommender("logme")
def _logme_alias(**params: Any) -> ScoreRecommender:
    """Deprecated name of ``score:logme``."""
    warnings.warn(
        "The recommender name 'logme' is deprecated; use 'score:logme' "
        "(or 'score:<estimator>' for another estimator).",
        DeprecationWarning,
        stacklevel=3,
    )
    return ScoreRecommender(**{"estimator": "logme", **params})


def _size_z(models: pd.DataFrame) -> pd.Series:
    """z-scored log10 ``n_params`` per model (only models with a positive size)."""
    col = models["n_params"] if "n_params" in models else pd.Series(dtype=float)
    p = pd.to_numeric(col.astype("object"), errors="coerce").astype(float)
    p = p[np.isfinite(p) & (p > 0)]
    logp = np.log10(p)
    sd = float(logp.std(ddof=0)) if len(logp) else 0.0
    return (logp - logp.mean()) / (sd or 1.0)


@register_recommender("size")
class SizeRecommender(BaseRecommender):
    """Larger models first: the z-scored ``log10(n_params)`` over the zoo's models.

    A static ranking, the same for every target (a strong baseline on standard
    model-selection benchmarks). Models of unknown size rank last.

    Raises:
        BaselineInputsMissing: From ``fit`` when fewer than two models have
            distinct known ``n_params``.

    Example:
        >>> import pandas as pd
        >>> from kgtransfer.kg.tables import ZooTables
        >>> models = pd.DataFrame({"model": ["a", "b", "c"], "n_params": [1e6, 1e8, None]})
        >>> recs = pd.DataFrame({"model": ["a", "b", "c"], "dataset": ["x"] * 3,
        ...                      "value": [.9, .5, .7]})
        >>> SizeRecommender().fit(ZooTables(models=models, records=recs)).rank("x")[
        ...     "model"].tolist()
        ['b', 'a', 'c']
    """

    name = "size"

    def __init__(self) -> None:
        pass

    def _fit(self, tables: ZooTables) -> None:
        z = _size_z(self.models_)
        if z.nunique() < 2:
            raise BaselineInputsMissing(
                f"The size baseline needs n_params of at least two models of different "
                f"sizes; this zoo has {len(z)} model(s) with a known size. Add an n_params "
                "column to the models table."
            )
        self.size_z_ = z

    def _predict_z(self, dataset: str, models: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = self.size_z_.reindex(models).to_numpy(dtype=float)
        low = float(self.size_z_.min())
        return np.where(np.isfinite(z), z, low), np.full(len(models), _Z90)


def lineage_roots(lineage: pd.DataFrame, models: Iterable[str]) -> dict[str, str]:
    """The top ancestor of each model, following ``base_model`` edges up the lineage.

    A model with several base models (a merge) follows the alphabetically first; a
    model without lineage is its own root; a cycle stops at the first repeated model.

    Example:
        >>> import pandas as pd
        >>> lin = pd.DataFrame({"model": ["c", "b"], "base_model": ["b", "a"]})
        >>> lineage_roots(lin, ["a", "b", "c", "d"])
        {'a': 'a', 'b': 'a', 'c': 'a', 'd': 'd'}
    """
    edges = lineage.dropna(subset=["model", "base_model"])
    parent: dict[str, str] = {}
    pairs = zip(edges["model"].astype(str), edges["base_model"].astype(str), strict=True)
    for m, b in sorted(pairs):
        if m != b:
            parent.setdefault(m, b)
    out: dict[str, str] = {}
    for m in models:
        seen = {m}
        node = m
        while node in parent and parent[node] not in seen:
            node = parent[node]
            seen.add(node)
        out[m] = node
    return out


@register_recommender("lineage")
class LineageRecommender(BaseRecommender):
    """The mean popularity of the models sharing the model's ``base_model`` root.

    .. math:: \\hat z_{m,t} = \\frac{1}{|F(m)|}\\sum_{m' \\in F(m)} \\bar z_{m'}

    where ``F(m)`` are the models with records (other than on the target) whose
    lineage root (:func:`lineage_roots`) is that of ``m``, and ``z̄`` is a model's
    popularity (mean z on the other datasets). A model whose family has no
    records gets 0 (average).

    Raises:
        BaselineInputsMissing: From ``fit`` when the zoo has no lineage, or no two
            models share a root (the baseline would equal popularity).
    """

    name = "lineage"

    def __init__(self) -> None:
        pass

    def _fit(self, tables: ZooTables) -> None:
        models = list(self.models_.index.astype(str))
        roots = lineage_roots(tables.lineage, models)
        sizes = pd.Series(roots).value_counts()
        if not len(tables.lineage) or not (sizes >= 2).any():
            raise BaselineInputsMissing(
                "The lineage baseline needs base_model lineage shared by at least two models; "
                f"this zoo has {len(tables.lineage)} lineage row(s). Add a base_model column "
                "to the models table."
            )
        self.roots_ = roots

    def _predict_z(self, dataset: str, models: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        zmat = self._train_z(dataset)
        pop = zmat.mean(axis=1)
        _, half = _popularity(zmat, models)
        fam = pop.groupby(pop.index.map(lambda m: self.roots_.get(str(m), str(m)))).mean()
        keys = [self.roots_.get(str(m), str(m)) for m in models]
        z = fam.reindex(keys).fillna(0.0).to_numpy(dtype=float)
        return z, half


def _attr(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip().lower()
    return text or None


@register_recommender("task_domain")
class TaskDomainRecommender(BaseRecommender):
    """Popularity with datasets of the target's task family and domain weighted up.

    .. math:: \\hat z_{m,t} = \\frac{\\sum_d w_{td}\\, z_{m,d}}{\\sum_d w_{td}},\\quad
        w_{td} = 1 + [\\mathrm{task}_d = \\mathrm{task}_t] + [\\mathrm{domain}_d = \\mathrm{domain}_t]

    over the datasets ``d`` (other than the target) on which model ``m`` has
    records: a dataset sharing both the task and the domain counts three times
    an unrelated one, one sharing either counts twice. ``task`` and ``domain``
    are the datasets table's columns (compared case-insensitively; unknown
    never matches). A target whose task and domain are unknown gets plain
    popularity; a model without records gets 0.

    Raises:
        BaselineInputsMissing: From ``fit`` when no dataset has a task or a domain.
    """

    name = "task_domain"

    def __init__(self) -> None:
        pass

    def _fit(self, tables: ZooTables) -> None:
        ds = tables.datasets
        attrs: dict[str, tuple[str | None, str | None]] = {}
        for row in ds.itertuples(index=False):
            name = _attr(getattr(row, "dataset", None))
            if name is None:
                continue
            attrs[str(row.dataset)] = (
                _attr(getattr(row, "task", None)),
                _attr(getattr(row, "domain", None)),
            )
        if not any(t is not None or d is not None for t, d in attrs.values()):
            raise BaselineInputsMissing(
                "The task_domain baseline needs the task or domain of datasets and this zoo "
                "has neither; add task and/or domain columns to the datasets table."
            )
        self.attrs_ = attrs

    def _weights(self, dataset: str, columns: list[str]) -> np.ndarray:
        task, domain = self.attrs_.get(dataset, (None, None))
        w = np.ones(len(columns))
        for j, c in enumerate(columns):
            t, d = self.attrs_.get(c, (None, None))
            w[j] += float(task is not None and t == task) + float(
                domain is not None and d == domain
            )
        return w

    def _predict_z(self, dataset: str, models: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        zmat = self._train_z(dataset)
        _, half = _popularity(zmat, models)
        if zmat.shape[1] == 0:
            return np.zeros(len(models)), half
        z = zmat.reindex(models).to_numpy(dtype=float)
        w = self._weights(dataset, [str(c) for c in zmat.columns])
        has = np.isfinite(z)
        num = np.where(has, z, 0.0) @ w
        den = has.astype(float) @ w
        return np.divide(num, den, out=np.zeros(len(models)), where=den > 0), half
