r"""``select_source``: choose which source to fine-tune next, with a few trials.

The recommender gives every candidate a prior (predicted value and 90 % interval on
the target); the candidates' values are modelled jointly as a Gaussian process whose
covariance comes from the zoo's own records, so one measured trial moves the belief
about every other candidate; the next candidate is the one with the largest expected
improvement over the best value measured so far.

.. math::

    y_m = \mu_m + \ell + s_m\,\varepsilon_m,\qquad \ell \sim N(0, \sigma_\ell^2),\qquad
    \operatorname{corr}(\varepsilon_i, \varepsilon_j)
        = (1-\gamma)\,R_{ij} + \gamma\,[\mathrm{root}_i = \mathrm{root}_j]

In "goodness" (the value, negated when lower is better). ``μ``: the recommender's
prediction. ``ℓ``: the target's level, shared by every candidate; ``σ_ℓ²`` is the
cold-start error of a training dataset's mean predicted by the others' (leave one
dataset out), so a first trial far from the prediction moves every candidate.
``s_m``: the zoo's typical spread of models within a dataset times the popularity
baseline's leave-one-dataset-out error (z units), scaled per candidate by the
recommender's relative interval width (within [0.25, 4]). ``R``: how the models'
z-scores co-vary across the training datasets once each model's mean is removed
(cosine of the residual vectors), shrunk towards the identity by an empirical-Bayes
factor (the pairs' squared cosine beyond what noise alone gives). ``γ``: lineage weight
(models sharing a ``base_model`` root), 0 without lineage. Trials are measured with a
small noise (1 % of ``s²``). Nothing is formed as an ``n × n`` matrix: conditioning
uses the covariance columns of the observed models, so 10,000 candidates are cheap.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kgtransfer.errors import ArgumentError, ErrorMode, check_error_mode, did_you_mean
from kgtransfer.executor import Executor, executor_scope
from kgtransfer.kg.tables import ZooTables
from kgtransfer.protocols import DataInput, GraphLike, RecommenderLike, TablesLike
from kgtransfer.transfer.recommend._checks import (
    check_bool,
    check_int,
    check_names,
    check_seed,
    check_text,
)
from kgtransfer.transfer.recommend._data import as_tables, metric_directions, truth_table
from kgtransfer.transfer.recommend._metrics import Z90 as _Z90
from kgtransfer.transfer.training import BudgetLike

__all__ = ["STRATEGIES", "Selection", "select_source"]

#: Selection rules: ``ei`` expected improvement over the best value so far (the
#: one-step Bayes-optimal rule for "the best model tried"), ``ucb`` posterior mean
#: + 1 sd, ``thompson`` a seeded posterior draw.
STRATEGIES = ("ei", "ucb", "thompson")
_UCB_BETA = 1.0
#: Lineage share of the model-specific correlation when the zoo has ``base_model`` edges.
_LINEAGE_WEIGHT = 0.3
#: Measurement noise of a trial, as a share of the median prior variance.
_NOISE_SHARE = 0.01
#: Bounds of a candidate's prior sd relative to the median candidate's.
_RELATIVE_SD_BOUNDS = (0.25, 4.0)
#: Fewest training datasets a model needs to get a residual vector.
_MIN_DATASETS = 2


@dataclass
class Selection:
    """What :func:`select_source` tried and what it believes after the trials.

    Attributes:
        target: The target dataset id.
        metric: The target's metric (``value`` columns are in its units).
        higher_is_better: Direction of the metric.
        trials: One row per trial, in order: ``step`` (1-based round), ``model``,
            ``value`` (measured; NaN for a failed trial under ``errors="warn"|"collect"``),
            ``predicted, low, high`` (the posterior mean and
            90 % interval when it was chosen) and ``why`` it was chosen.
        frame: The final ranking of every candidate after conditioning on all
            observations: ``rank, model, predicted, low, high`` (posterior),
            ``prior_predicted, prior_low, prior_high`` (the recommender's),
            ``measured`` (a trial's value, or a record the graph already held on the
            target) and ``step`` (the trial's round; NaN otherwise).
        metadata: Recommender, strategy, seed, batch size, covariance settings, notes.

    Example:
        >>> t = pd.DataFrame({"step": [1, 2], "model": ["a", "b"], "value": [0.7, 0.9]})
        >>> Selection("t", "accuracy", True, t, pd.DataFrame()).best
        'b'
    """

    target: str
    metric: str
    higher_is_better: bool
    trials: pd.DataFrame
    frame: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def best(self) -> str:
        """The best model actually tried (by measured value, in the metric's direction)."""
        values = self.trials["value"].to_numpy(dtype=float)
        if not np.isfinite(values).any():
            raise ValueError(
                f"No trial on {self.target!r} measured a value; see .metadata['failed']."
            )
        i = int(np.nanargmax(values) if self.higher_is_better else np.nanargmin(values))
        return str(self.trials["model"].iloc[i])

    @property
    def best_value(self) -> float:
        """The measured value of :attr:`best`."""
        row = self.trials.loc[self.trials["model"] == self.best, "value"]
        return float(row.iloc[0])

    def __repr__(self) -> str:
        tried = ", ".join(self.trials["model"].astype(str).head(5))
        ok = bool(self.trials["value"].notna().any()) if len(self.trials) else False
        best = repr(self.best) if ok else None
        return f"Selection(target={self.target!r}, best={best}, tried=[{tried}])"


# --------------------------------------------------------------------- prior covariance
@dataclass
class _Prior:
    """Prior of the candidates' goodness: mean, model sd, level variance, correlation factors."""

    models: np.ndarray  # (n,) names
    mean: np.ndarray  # (n,)
    sd: np.ndarray  # (n,) model-specific sd (the target's level excluded)
    level: float  # variance of the target's level, shared by every candidate
    factors: np.ndarray  # (n, d) unit-or-zero residual vectors, times sqrt(weight)
    lineage: np.ndarray  # (n,) root ids (int), -1 = none shared
    gamma: float

    @property
    def var(self) -> np.ndarray:
        return self.level + self.sd**2

    def column(self, j: int) -> np.ndarray:
        """Column ``j`` of the prior covariance (all candidates vs candidate ``j``)."""
        own = self.factors @ self.factors[j]  # shrunk cosine of residual vectors
        own[j] = 1.0
        lin = (self.lineage == self.lineage[j]) & (self.lineage[j] >= 0)
        lin[j] = True
        corr = (1.0 - self.gamma) * own + self.gamma * lin
        cov: np.ndarray = self.level + self.sd * self.sd[j] * corr
        return cov


def _residual_factors(
    tables: ZooTables, target: str, models: np.ndarray
) -> tuple[np.ndarray, dict[str, Any]]:
    """Unit residual vectors of the models' z-scores across training datasets, shrunk."""
    truth = truth_table(tables, exclude_datasets=[target], min_records=3)
    v = truth.values
    n = len(models)
    if v.empty:
        return np.zeros((n, 0)), {"n_datasets": 0, "shrinkage_weight": 0.0}
    z = v.pivot_table(index="model", columns="dataset", values="z", aggfunc="first")
    z = z.reindex(pd.Index(models.astype(str)))
    mat = z.to_numpy(dtype=float)
    seen = np.isfinite(mat)
    counts = seen.sum(axis=1)
    row_mean = np.where(counts > 0, np.nansum(mat, axis=1) / np.maximum(counts, 1), 0.0)
    resid = np.where(seen, mat - row_mean[:, None], 0.0)
    resid[counts < _MIN_DATASETS] = 0.0
    norms = np.linalg.norm(resid, axis=1)
    unit = np.divide(resid, norms[:, None], out=np.zeros_like(resid), where=norms[:, None] > 0)
    # empirical Bayes: keep the part of the pairs' cosine variance noise does not explain
    has = np.flatnonzero(norms > 0)
    weight = 0.0
    if len(has) >= 3:
        rng = np.random.default_rng(0)
        pick = has if len(has) <= 400 else np.sort(rng.choice(has, 400, replace=False))
        cos = unit[pick] @ unit[pick].T
        overlap = seen[pick].astype(float) @ seen[pick].T.astype(float)
        iu = np.triu_indices(len(pick), 1)
        ok = overlap[iu] >= 2
        if ok.any():
            total = float(np.mean(cos[iu][ok] ** 2))
            noise = float(np.mean(1.0 / np.maximum(overlap[iu][ok] - 1.0, 1.0)))
            signal = max(total - noise, 0.0)
            weight = signal / (signal + noise) if signal + noise > 0 else 0.0
    info = {"n_datasets": int(mat.shape[1]), "shrinkage_weight": round(weight, 4)}
    return unit * math.sqrt(weight), info


def _popularity_error(tables: ZooTables, target: str) -> float:
    """Mean squared error, in z units, of a model's mean z on the other training datasets.

    The leave-one-dataset-out error of the popularity baseline: how far a model's
    standing on a new dataset strays from its standing elsewhere (1 = no better than
    guessing the mean). It scales the model-specific prior uncertainty.
    """
    v = truth_table(tables, exclude_datasets=[target], min_records=3).values
    if v.empty:
        return 1.0
    n = v.groupby("model")["z"].transform("size").to_numpy(dtype=float)
    total = v.groupby("model")["z"].transform("sum").to_numpy(dtype=float)
    z = v["z"].to_numpy(dtype=float)
    keep = n >= 2
    if not keep.any():
        return 1.0
    loo = (total[keep] - z[keep]) / (n[keep] - 1)
    return float(np.clip(np.mean((z[keep] - loo) ** 2), 0.05, 4.0))


def _prior_scales(
    prior: pd.DataFrame, tables: ZooTables, target: str, metric: str, sign: float
) -> tuple[np.ndarray, float, float]:
    """(model-specific sd per candidate, level variance, typical model sd), goodness units.

    The recommender's interval sets each candidate's relative uncertainty; its scale is
    the zoo's typical spread of models within a dataset times the popularity baseline's
    leave-one-dataset-out error (in z units), and the target's level (shared
    by every candidate) gets the cold-start level error of the training datasets, so a
    first trial far from the prediction moves every candidate rather than only the
    models correlated with the tried one.
    """
    pred = prior["predicted"].to_numpy(dtype=float)
    worse = prior["low" if sign > 0 else "high"].to_numpy(dtype=float)
    half = np.abs(pred - worse)  # the side away from a clipped best value
    both = (prior["high"].to_numpy(dtype=float) - prior["low"].to_numpy(dtype=float)) / 2
    half = np.where(np.isfinite(half) & (half > 0), half, both)
    good = np.isfinite(half) & (half > 0)
    typical = float(np.median(half[good])) if good.any() else math.nan
    rel = np.clip(half / typical, *_RELATIVE_SD_BOUNDS) if good.any() else np.ones(len(half))
    rel = np.where(np.isfinite(rel), rel, 1.0)
    truth = truth_table(tables, exclude_datasets=[target], min_records=3)
    stats = truth.stats.loc[truth.stats["metric"] == metric]
    spread = float(stats["std"].median()) if len(stats) else math.nan
    if not (math.isfinite(spread) and spread > 0):
        spread = typical / _Z90 if math.isfinite(typical) and typical > 0 else 1.0
    spread *= math.sqrt(_popularity_error(tables, target))
    level = math.nan
    if len(stats) >= 3:
        means = stats["mean"].to_numpy(dtype=float)
        loo = (means.sum() - means) / (len(means) - 1)
        level = float(np.mean((means - loo) ** 2))
    from_interval = (typical / _Z90) ** 2 - spread**2 if math.isfinite(typical) else 0.0
    level = max(level if math.isfinite(level) else 0.0, from_interval, (0.1 * spread) ** 2)
    return spread * rel, level, spread


def _lineage_ids(tables: ZooTables, models: np.ndarray) -> np.ndarray:
    from kgtransfer.transfer.recommend import lineage_roots

    lin = tables.lineage
    if lin.empty:
        return np.full(len(models), -1)
    roots = lineage_roots(lin, [str(m) for m in models])
    counts = pd.Series(list(roots.values())).value_counts()
    shared = {r: i for i, r in enumerate(counts.index[counts > 1])}
    return np.array([shared.get(roots[str(m)], -1) for m in models])


# ------------------------------------------------------------------------ posterior
class _Posterior:
    """GP posterior of the candidates' goodness given observations (in memory)."""

    def __init__(self, prior: _Prior, noise: float) -> None:
        self.prior = prior
        self.noise = noise
        self.obs: list[int] = []
        self.values: list[float] = []
        self._update()

    def observe(self, j: int, value: float) -> None:
        self.obs.append(j)
        self.values.append(float(value))
        self._update()

    def forget(self, n: int) -> None:
        """Drop the last ``n`` observations (fantasies of a batch)."""
        if n:
            del self.obs[-n:], self.values[-n:]
            self._update()

    def _update(self) -> None:
        p = self.prior
        if not self.obs:
            self.mean, self.var = p.mean.copy(), p.var
            self.cols, self.alpha, self.chol = np.zeros((len(p.mean), 0)), np.zeros(0), None
            return
        cols = np.stack([p.column(j) for j in self.obs], axis=1)  # (n, o)
        koo = cols[self.obs] + self.noise * np.eye(len(self.obs))
        chol = np.linalg.cholesky(koo + 1e-12 * np.trace(koo) * np.eye(len(self.obs)))
        resid = np.asarray(self.values) - p.mean[self.obs]
        self.alpha = _chol_solve(chol, resid)
        self.mean = p.mean + cols @ self.alpha
        half = np.linalg.solve(chol, cols.T)  # (o, n)
        self.var = np.maximum(p.var - np.sum(half**2, axis=0), 1e-12 * p.var + 1e-300)
        self.cols, self.chol = cols, chol

    def closest(self, i: int, real: np.ndarray) -> tuple[int | None, float]:
        """(observed index, correlation) of the measured model most correlated with ``i``.

        The correlation is the model-specific one (the shared target level left out).
        """
        p = self.prior
        best, corr = None, 0.0
        for k, j in enumerate(self.obs):
            if not real[j] or j == i:
                continue
            c = (self.cols[i, k] - p.level) / (p.sd[i] * p.sd[j])
            if abs(c) > abs(corr):
                best, corr = j, float(c)
        return best, corr

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One joint posterior draw (Matheron's rule on a factor-form prior draw)."""
        p = self.prior
        n = len(p.mean)
        common = math.sqrt(p.level) * rng.normal()  # the target's level
        fz = p.factors @ rng.normal(size=p.factors.shape[1]) if p.factors.shape[1] else 0.0
        diag = np.clip(1.0 - np.sum(p.factors**2, axis=1), 0.0, None)
        own = fz + np.sqrt(diag) * rng.normal(size=n)
        roots = p.lineage
        lin = np.zeros(n)
        if (roots >= 0).any():
            draws = rng.normal(size=int(roots.max()) + 1)
            lin = np.where(roots >= 0, draws[np.maximum(roots, 0)], rng.normal(size=n))
        else:
            lin = rng.normal(size=n)
        model = math.sqrt(1.0 - p.gamma) * own + math.sqrt(p.gamma) * lin
        draw = p.mean + common + p.sd * model
        if not self.obs:
            return np.asarray(draw, dtype=float)
        noisy = draw[self.obs] + math.sqrt(self.noise) * rng.normal(size=len(self.obs))
        out: np.ndarray = draw + self.cols @ _chol_solve(self.chol, np.asarray(self.values) - noisy)
        return out


def _chol_solve(chol: Any, b: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.linalg.solve(chol.T, np.linalg.solve(chol, b))
    return out


def _expected_improvement(mean: np.ndarray, sd: np.ndarray, best: float) -> np.ndarray:
    from scipy.special import ndtr

    z = (mean - best) / sd
    gain: np.ndarray = (mean - best) * ndtr(z) + sd * np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    return gain


# ------------------------------------------------------------------------ arguments
def _check_arguments(
    n_trials: Any, trial: Any, recommender: Any, batch_size: Any, seed: Any, strategy: Any
) -> tuple[int, int, int]:
    n = check_int(n_trials, "n_trials", minimum=1, fix="the number of trials, e.g. n_trials=5")
    b = check_int(batch_size, "batch_size", minimum=1, fix="candidates per round, e.g. 1")
    s = check_seed(seed)
    if trial is not None and not callable(trial):
        raise ArgumentError(
            f"trial must be a function model_id -> measured value, got "
            f"{type(trial).__name__!r}; or leave trial=None to fine-tune with transfer_from."
        )
    duck = callable(getattr(recommender, "fit", None)) and callable(
        getattr(recommender, "rank", None)
    )
    if recommender is not None and not isinstance(recommender, str) and not duck:
        raise ArgumentError(
            f"recommender must have fit() and rank() (e.g. GNNRecommender()) or be a "
            f"registry name such as 'popularity', got {type(recommender).__name__!r}."
        )
    if strategy not in STRATEGIES:
        raise did_you_mean(
            str(strategy), STRATEGIES, what="selection strategy", hint=f"Use one of {STRATEGIES}."
        )
    return int(n or 0), int(b or 0), s


def _resolve_recommender(recommender: Any, seed: int) -> Any:
    if recommender is None:
        from kgtransfer.transfer import GNNRecommender

        return GNNRecommender(seed=seed)
    if isinstance(recommender, str):
        from kgtransfer.transfer.recommend import get_recommender

        if recommender == "gnn":
            return get_recommender("gnn", seed=seed)
        return get_recommender(recommender)
    return recommender


def _target_metric(tables: ZooTables, target: str) -> tuple[str, bool]:
    rec = tables.records
    own = rec.loc[rec["dataset"].astype("object") == target]
    col = "metric"
    if col in own.columns and own[col].notna().any():
        metric = str(own[col].dropna().astype(str).value_counts().index[0])
    elif col in rec.columns and rec[col].notna().any():
        metric = str(rec[col].dropna().astype(str).value_counts().index[0])
    else:
        metric = "accuracy"
    return metric, bool(metric_directions(tables).get(metric, metric != "error"))


def _product_trial(
    graph: Any,
    target: str,
    *,
    metric: str,
    data: Any,
    home: str | Path | None,
    budget: Any,
    label_column: str | None,
    seed: int,
    progress: bool,
) -> _Trial:
    """``transfer_from`` on the user's data, each result written back to ``graph`` by the
    driver (the trial itself runs with ``graph=None``, in any executor)."""
    if not callable(getattr(graph, "add_records", None)) or isinstance(graph, ZooTables):
        raise ArgumentError(
            f"trial=None fine-tunes each candidate and writes the result into the graph, but "
            f"the graph is a {type(graph).__name__!r}; pass a writable ZooGraph "
            "(ZooGraph.open(path)) or your own trial=function(model_id) -> value."
        )
    if bool(getattr(graph, "read_only", False)):
        raise ArgumentError(
            f"trial=None writes each result into the graph, but the store {graph.path} was "
            "opened read_only=True; reopen it with ZooGraph.open(path) or pass trial=."
        )
    if metric != "accuracy":
        raise ArgumentError(
            f"trial=None measures test accuracy, but {target!r} is scored by {metric!r}; "
            "pass trial=function(model_id) -> value in that metric."
        )
    if data is None:
        from kgtransfer.data import list_datasets

        if target not in list_datasets():
            raise ArgumentError(
                f"trial=None fine-tunes on the target's data, and {target!r} is not a "
                "registered dataset: pass data=... (arrays (x, y), an ArrayDataset or a CSV "
                "path with label_column=) or your own trial=."
            )
        data = target
    if home is None:
        raise ArgumentError(
            "trial=None loads each candidate from the zoo by name: pass home=<kgtransfer "
            "home> (CLI: --home) or your own trial=."
        )

    task = partial(
        _transfer_trial,
        target=target,
        data=data,
        home=home,
        budget=budget,
        label_column=label_column,
        seed=seed,
        progress=progress,
    )

    def finish(model: str, result: Any) -> float:
        """In the driver: write the result through the record writer, return its accuracy."""
        from kgtransfer._api._transfer import _write_back, load_source

        source_model, _ = load_source(model, home=home)
        result.record_id = _write_back(graph, result, source_model, None)
        return float(result.accuracy)

    return _Trial(task, finish)


def _transfer_trial(
    model: str,
    *,
    target: str,
    data: Any,
    home: str | Path | None,
    budget: Any,
    label_column: str | None,
    seed: int,
    progress: bool,
) -> Any:
    """The product trial's work, wherever it runs: ``transfer_from`` without writing."""
    from kgtransfer._api._transfer import transfer_from

    return transfer_from(
        model,
        None,
        data,
        graph=None,
        seed=seed,
        budget=budget,
        home=home,
        source_name=model,
        target_name=target,
        label_column=label_column,
        progress=progress,
    )


@dataclass(frozen=True)
class _Trial:
    """A trial split where it runs: ``task(model)`` anywhere (an executor's worker),
    ``finish(model, got)`` in the driver (the only place that writes), giving the value."""

    task: Callable[[str], Any]
    finish: Callable[[str, Any], float]


# ----------------------------------------------------------------------- the search
def select_source(
    graph: GraphLike | TablesLike,
    target: str,
    *,
    n_trials: int,
    trial: Callable[[str], float] | None = None,
    candidates: Iterable[str] | None = None,
    recommender: RecommenderLike | str | None = None,
    batch_size: int = 1,
    seed: int = 0,
    strategy: str = "ei",
    data: DataInput | None = None,
    home: str | Path | None = None,
    budget: BudgetLike | None = None,
    label_column: str | None = None,
    progress: bool = False,
    errors: ErrorMode = "raise",
    executor: str | Executor | None = None,
) -> Selection:
    """Choose which candidate to fine-tune next, learn from each trial, stop after ``n_trials``.

    The recommender is fitted once without the target's records and ranks the
    candidates (prior value and interval). The values of all candidates are then
    modelled jointly (module docstring): the zoo's records say which models rise and
    fall together across datasets (and lineage, when the graph has ``base_model``
    edges), so a measured trial moves every untried candidate. Records the graph
    already holds on the target are evidence too: they are conditioned on first
    and their models are not tried again. Each round picks ``batch_size`` distinct
    candidates by ``strategy`` (a batch's later picks assume the earlier ones
    measure their predicted value: "kriging believer", which spreads a batch over
    uncorrelated models and lineage families), calls ``trial`` on each and
    conditions on the measured values, in memory.

    Args:
        graph: A ``ZooGraph`` or ``ZooTables``.
        target: Target dataset id of the graph.
        n_trials: Trials to run (>= 1); fewer when fewer candidates are left.
        trial: ``model_id -> measured value`` in the target metric's units (e.g.
            accuracy in [0, 1]). Writes nothing to the graph. None = the product's
            own trial: :func:`~kgtransfer.api.transfer_from` of the candidate (loaded
            from ``home``) on ``data``, each result written back to ``graph``
            through its record writer (a writable ``ZooGraph`` is needed).
        candidates: Model ids to choose from; default every model of the graph.
        recommender: A recommender (``fit``/``rank``; fitted ones are reused when
            they left the target out), a registry name, or None for
            ``GNNRecommender(seed=seed)``.
        batch_size: Candidates proposed per round (for parallel executors).
        seed: Seed of the recommender, Thompson draws and of the product trial.
        strategy: ``"ei"`` (expected improvement, default), ``"ucb"`` or
            ``"thompson"``.
        data: The target's data for ``trial=None`` (default: the target's
            registered dataset).
        home: kgtransfer home to load candidates from for ``trial=None``.
        budget: Training budget of ``trial=None`` (see ``transfer_from``).
        label_column: Label column of CSV ``data``.
        progress: Progress bars while fitting and fine-tuning.
        errors: A trial that raises or returns no finite number: ``"raise"``
            (default; the trials so far are lost), ``"warn"`` or ``"collect"`` (it
            counts as a trial with value NaN, the reason in ``why`` and in
            ``metadata["failed"]``; nothing is learned from it and the search goes on).
        executor: Where a round's trials run: ``"serial"`` (default, one after
            another in this process), ``"ray"`` (the ``batch_size`` trials of a round
            in parallel on a local Ray) or an :class:`~kgtransfer.executor.Executor`.
            Each trial runs with this process's torch threads; the values are
            conditioned on in pick order, so a seeded search gives the same
            :class:`Selection` on every executor. With ``trial=None`` only this process
            writes, each result as it arrives. A custom ``trial`` must be picklable
            for Ray (cloudpickle: lambdas and closures are).

    Returns:
        A :class:`Selection` (``.best``, ``.trials``, ``.frame``).

    Raises:
        ArgumentError: A bad ``n_trials``, ``batch_size``, ``seed``, ``trial``,
            ``recommender`` or ``candidates``; a trial returning a non-number or a
            non-finite value (the model is named); ``trial=None`` without a
            writable ``ZooGraph``, data or ``home``; no candidate left to try.
        UnknownNameError: ``target``, a candidate, the strategy or a recommender
            name is unknown (close names suggested).

    Example:
        >>> from kgtransfer.kg import ZooTables
        >>> from kgtransfer.transfer import PopularityRecommender
        >>> recs = pd.DataFrame({"model": list("abcabcabc"), "dataset": list("xxxyyyzzz"),
        ...                      "value": [.9, .6, .5, .8, .5, .6, .2, .9, .5]})
        >>> true = {"a": 0.6, "b": 0.95, "c": 0.7}
        >>> zoo = ZooTables(records=recs, datasets=pd.DataFrame({"dataset": ["w"]}))
        >>> s = select_source(zoo, "w", n_trials=2, trial=true.get,
        ...                   recommender=PopularityRecommender())
        >>> s.trials["model"].tolist(), s.best
        (['a', 'b'], 'b')
    """
    n_trials, batch_size, seed = _check_arguments(
        n_trials, trial, recommender, batch_size, seed, strategy
    )
    check_text(target, "target", fix="give a dataset id of the graph")
    names = check_names(candidates, "candidates")
    check_bool(progress, "progress")
    check_error_mode(errors)
    tables = as_tables(graph)
    datasets = set(tables.datasets["dataset"].dropna().astype(str))
    datasets |= set(tables.records["dataset"].dropna().astype(str))
    if target not in datasets:
        raise did_you_mean(
            target,
            sorted(datasets),
            what="target dataset",
            hint="Add it to the graph (a datasets row, with similarities) first.",
        )
    metric, hib = _target_metric(tables, target)
    if trial is not None:
        run = _Trial(trial, _as_value)
    else:
        run = _product_trial(
            graph,
            target,
            metric=metric,
            data=data,
            home=home,
            budget=budget,
            label_column=label_column,
            seed=seed,
            progress=progress,
        )
    from kgtransfer._api._recommend import _fit_recommender

    rec = _resolve_recommender(recommender, seed)
    has_records = bool((tables.records["dataset"].astype("object") == target).any())
    fitted, how = _fit_recommender(  # a recommender fitted without the target is reused
        rec,
        tables,
        exclude=[target] if has_records else [],
        new_target=False,
        seed=seed,
        progress=progress,
        target=target,
    )
    prior_frame = fitted.rank(target, candidates=names, n_evidence=0)
    if prior_frame.empty:
        raise ArgumentError(f"No candidate source model to try on {target!r}; pass candidates=.")
    sign = 1.0 if hib else -1.0
    models = prior_frame["model"].to_numpy(dtype=object).astype(str)
    pred = prior_frame["predicted"].to_numpy(dtype=float)
    known = truth_table(tables, min_records=1)
    sd, level, spread = _prior_scales(prior_frame, tables, target, metric, sign)
    factors, cov_info = _residual_factors(tables, target, models)
    lineage = _lineage_ids(tables, models)
    gamma = _LINEAGE_WEIGHT if (lineage >= 0).any() else 0.0
    prior = _Prior(
        models=models,
        mean=sign * pred,
        sd=sd,
        level=level,
        factors=factors,
        lineage=lineage,
        gamma=gamma,
    )
    post = _Posterior(prior, noise=_NOISE_SHARE * spread**2)
    index = {m: i for i, m in enumerate(models)}
    measured = np.full(len(models), np.nan)
    step_of = np.full(len(models), np.nan)
    own = known.values.loc[known.values["dataset"] == target]
    n_known = 0
    for m, value in zip(own["model"].astype(str), own["value"].astype(float), strict=True):
        if m in index:
            post.observe(index[m], sign * value)
            measured[index[m]] = value
            n_known += 1
    untried = np.isnan(measured)
    if not untried.any():
        raise ArgumentError(
            f"Every candidate already has a record on {target!r}; nothing is left to try. "
            "Pass other candidates=, or read the measured values with graph.records()."
        )
    notes: list[str] = []
    if n_trials > int(untried.sum()):
        notes.append(f"n_trials={n_trials} > {int(untried.sum())} untried candidates: all tried")
        warnings.warn(notes[-1], UserWarning, stacklevel=2)
        n_trials = int(untried.sum())
    rng = np.random.default_rng(seed)
    failed: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    step = 0
    with executor_scope(executor) as ex:
        while len(rows) < n_trials:
            step += 1
            picks: list[tuple[int, str, float, float]] = []
            for b in range(min(batch_size, n_trials - len(rows))):
                i, why = _choose(post, untried, measured, strategy, rng, sign, models, metric)
                mu, s = post.mean[i], math.sqrt(post.var[i])
                if b:
                    why += (
                        f" (pick {b + 1} of the round: earlier picks assumed at their prediction)"
                    )
                picks.append((i, why, mu, s))
                untried[i] = False
                post.observe(i, mu)  # believer: fantasise its predicted value
            post.forget(len(picks))
            tasks = [partial(run.task, str(models[i])) for i, *_ in picks]
            got: dict[int, tuple[float, BaseException | None]] = {}
            nxt = 0
            # results arrive in any order; the posterior takes them in pick order
            for result in ex.map(tasks):
                model = str(models[picks[result.index][0]])
                try:
                    got[result.index] = (run.finish(model, result.get()), None)
                except Exception as err:
                    got[result.index] = (math.nan, err)
                while nxt in got:
                    i, why, mu, s = picks[nxt]
                    value, error = got.pop(nxt)
                    model = str(models[i])
                    step_of[i] = step
                    if error is not None:
                        if errors == "raise":
                            raise error
                        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
                        kind = type(error).__name__
                        reason = f"trial({model!r}) failed: {kind}: {text}".rstrip(": ")
                        failed.append({"step": step, "model": model, "error": reason})
                        if errors == "warn":
                            warnings.warn(reason, UserWarning, stacklevel=2)
                        why = f"{why}; FAILED: {reason}"
                    else:
                        post.observe(i, sign * value)
                        measured[i] = value
                    lo, hi = sorted((sign * (mu - _Z90 * s), sign * (mu + _Z90 * s)))
                    rows.append(
                        {
                            "step": step,
                            "model": model,
                            "value": value,
                            "predicted": sign * mu,
                            "low": lo,
                            "high": hi,
                            "why": why,
                        }
                    )
                    nxt += 1
    trials = pd.DataFrame(
        rows, columns=["step", "model", "value", "predicted", "low", "high", "why"]
    )
    frame = _final_frame(post, prior_frame, models, sign, measured, step_of, metric)
    return Selection(
        target=target,
        metric=metric,
        higher_is_better=hib,
        trials=trials,
        frame=frame,
        metadata={
            "recommender": repr(fitted),
            "recommender_status": how,
            "strategy": strategy,
            "seed": seed,
            "batch_size": batch_size,
            "n_candidates": len(models),
            "known_records": n_known,
            "level_sd": round(math.sqrt(level), 6),
            "model_sd": round(spread, 6),
            "lineage_weight": gamma,
            "covariance": cov_info,
            "writes": "graph records (transfer_from)" if trial is None else "nothing",
            "notes": notes,
            "failed": failed,
        },
    )


def _as_value(model: str, got: Any) -> float:
    """A user trial's return value as the measured value (a finite number), else raise."""
    try:
        value = float(got)
    except (TypeError, ValueError):
        raise ArgumentError(
            f"trial({model!r}) returned {got!r} ({type(got).__name__}); it must return the "
            "measured target metric as a number."
        ) from None
    if not math.isfinite(value):
        raise ArgumentError(
            f"trial({model!r}) returned {value!r}; it must return a finite measured value "
            "(a failed run should raise, or be left out of candidates=)."
        )
    return value


def _choose(
    post: _Posterior,
    untried: np.ndarray,
    measured: np.ndarray,
    strategy: str,
    rng: np.random.Generator,
    sign: float,
    models: np.ndarray,
    metric: str,
) -> tuple[int, str]:
    """Index of the next candidate and why (the prior order breaks ties)."""
    mean, sd = post.mean, np.sqrt(post.var)
    idx = np.flatnonzero(untried)
    seen = np.isfinite(measured)
    best_j = int(np.flatnonzero(seen)[np.argmax(sign * measured[seen])]) if seen.any() else None
    fantasy = [j for j in post.obs if not seen[j]]
    best = sign * measured[best_j] if best_j is not None else -math.inf
    if fantasy:
        best = max(best, float(np.max(mean[fantasy])))
    if strategy == "thompson":
        score = post.sample(rng)[idx]
        label = "highest value in a seeded posterior draw"
    elif strategy == "ucb":
        score = mean[idx] + _UCB_BETA * sd[idx]
        label = "highest upper confidence bound (posterior mean + 1 sd)"
    elif math.isinf(best):
        score = mean[idx]
        label = "highest predicted value (no measurement yet)"
    else:
        score = _expected_improvement(mean[idx], sd[idx], best)
        label = "largest expected improvement"
    i = int(idx[int(np.argmax(score))])  # first maximum: the earlier (higher prior) candidate
    mu, s = sign * mean[i], _Z90 * sd[i]
    why = f"{label}: {metric} {mu:.3f} ± {s:.3f}"
    if strategy == "ei" and not math.isinf(best):
        ei = float(score[int(np.argmax(score))])
        ref = f"{models[best_j]} {measured[best_j]:.3f}" if best_j is not None else "fantasy"
        why = f"{label} {ei:.3g} over the best so far ({ref}); {metric} {mu:.3f} ± {s:.3f}"
    shift = float(mean[i] - post.prior.mean[i])
    if seen.any() and abs(shift) >= 0.1 * sd[i]:
        why += f"; {sign * shift:+.3f} from the prior after {int(seen.sum())} measured"
        j, corr = post.closest(i, seen)
        if j is not None and abs(corr) >= 0.3:
            why += f" (closest: {models[j]}, correlation {corr:+.2f}, measured {measured[j]:.3f})"
    return i, why


def _final_frame(
    post: _Posterior,
    prior_frame: pd.DataFrame,
    models: np.ndarray,
    sign: float,
    measured: np.ndarray,
    step_of: np.ndarray,
    metric: str,
) -> pd.DataFrame:
    from kgtransfer.transfer.recommend._base import metric_bounds

    mean, half = post.mean, _Z90 * np.sqrt(post.var)
    low_b, high_b = metric_bounds(metric)
    pred = np.clip(sign * mean, low_b, high_b)
    lo = np.clip(np.minimum(sign * (mean - half), sign * (mean + half)), low_b, high_b)
    hi = np.clip(np.maximum(sign * (mean - half), sign * (mean + half)), low_b, high_b)
    out = pd.DataFrame(
        {
            "model": models,
            "predicted": pred,
            "low": lo,
            "high": hi,
            "prior_predicted": prior_frame["predicted"].to_numpy(dtype=float),
            "prior_low": prior_frame["low"].to_numpy(dtype=float),
            "prior_high": prior_frame["high"].to_numpy(dtype=float),
            "measured": measured,
            "step": step_of,
            "_key": mean,
        }
    )
    out = out.sort_values(["_key", "model"], ascending=[False, True], kind="stable")
    out = out.drop(columns="_key").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out
