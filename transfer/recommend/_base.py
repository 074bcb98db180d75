"""The fit/rank machinery every recommender shares (candidates, filters, scale, evidence)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from kgtransfer.errors import ArgumentError, NotFittedError, did_you_mean
from kgtransfer.kg.ingest._metrics import FRACTION_METRICS
from kgtransfer.kg.tables import ZooTables
from kgtransfer.protocols import FilterValue, GraphLike, TablesLike
from kgtransfer.transfer._params import ParamsMixin

from ._checks import (
    FILTERS,
    check_bool,
    check_dataset,
    check_filters,
    check_has_records,
    check_int,
    check_k,
    check_names,
)
from ._data import Truth, as_tables, scratch_accuracies, similarity_matrix, truth_table
from ._metrics import Z90 as _Z90
from ._threads import limited_threads

__all__ = ["FILTERS", "BaseRecommender"]

#: Datasets with fewer non-suspect records are not learned from (z-scores of 2 runs are ±1).
_MIN_RECORDS = 3
#: Lower-is-better metrics that cannot be negative (errors, distances, losses).
_NON_NEGATIVE_METRICS = frozenset(
    {"error", "wer", "cer", "perplexity", "loss", "rmse", "mae", "mse"}
)


def metric_bounds(metric: str) -> tuple[float, float]:
    """The range a metric's values live in: [0, 1] for fractions such as accuracy.

    Example:
        >>> metric_bounds("accuracy"), metric_bounds("mae")
        ((0.0, 1.0), (0.0, inf))
    """
    name = str(metric).lower()
    if name in FRACTION_METRICS or name == "error":
        return 0.0, 1.0
    if name in _NON_NEGATIVE_METRICS:
        return 0.0, math.inf
    return -math.inf, math.inf


def _check_truth(tables: ZooTables, truth: Truth, excluded: list[str]) -> None:
    """Refuse a graph without a transfer record to learn from (it would predict noise)."""
    if len(truth.values):
        return
    check_has_records(tables)
    n = len(tables.records)
    held = f", {len(excluded)} held-out dataset(s) {excluded[:3]}" if excluded else ""
    raise ArgumentError(
        f"The graph has {n} transfer record(s) but none to learn from: "
        f"{truth.n_suspect} suspect{held}, and datasets with fewer than {_MIN_RECORDS} "
        "models are skipped; ingest more records or hold out fewer datasets."
    )


class BaseRecommender(ParamsMixin):
    """Shared state: the zoo's models, the training truth and dataset similarities.

    Subclasses implement :meth:`_fit` and :meth:`_predict_z`; predictions are
    z-scores within the target (higher is better), turned into the target
    metric's scale by :meth:`rank`.
    """

    #: Registry key (also the CLI ``--methods`` name).
    name: str = "base"

    def _check_fitted(self) -> None:
        if not hasattr(self, "truth_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(graph) before rank()."
            )

    # ----------------------------------------------------------------- fit
    def fit(
        self, graph: GraphLike | TablesLike, exclude_datasets: Iterable[str] = ()
    ) -> BaseRecommender:
        """Learn from a :class:`ZooTables` or ``ZooGraph``.

        Args:
            graph: The zoo (``ZooTables`` or an object with ``to_tables()``).
            exclude_datasets: Datasets whose records are never seen (held-out targets).

        Runs on :func:`~kgtransfer.transfer.recommend.get_recommender_threads`
        CPU threads (default 1), restoring the process's settings after.

        Returns:
            self

        Raises:
            ArgumentError: ``exclude_datasets`` is not a list of ids, or the graph
                has no usable transfer records to learn from.
            UnknownNameError: An excluded dataset is not in the graph.
        """
        self._validate()
        excluded = check_names(exclude_datasets, "exclude_datasets", allow_none=False) or []
        tables = as_tables(graph)
        with limited_threads():
            self._prepare(tables, excluded)
            self._fit(tables)
        return self

    def _prepare(self, tables: ZooTables, exclude_datasets: Iterable[str]) -> None:
        excluded = sorted({str(d) for d in exclude_datasets})
        truth = truth_table(tables, exclude_datasets=excluded, min_records=_MIN_RECORDS)
        models = tables.models.copy()
        models["model"] = models["model"].astype(str)
        extra = sorted(set(tables.records["model"].dropna().astype(str)) - set(models["model"]))
        if extra:
            models = pd.concat([models, pd.DataFrame({"model": extra})], ignore_index=True)
        self.models_ = models.drop_duplicates("model").set_index("model", drop=False)
        names = set(tables.datasets["dataset"].dropna().astype(str))
        names |= set(tables.records["dataset"].dropna().astype(str))
        names |= set(tables.similarities["dataset_a"].dropna().astype(str))
        names |= set(tables.similarities["dataset_b"].dropna().astype(str))
        names |= (
            set(self.models_["trained_on"].dropna().astype(str))
            if "trained_on" in models
            else set()
        )
        unknown = [d for d in excluded if d not in names]
        if unknown:
            raise did_you_mean(
                unknown[0],
                sorted(names),
                what="dataset in exclude_datasets",
                hint="Held-out datasets must be datasets of the graph.",
            )
        _check_truth(tables, truth, excluded)
        self.excluded_datasets_ = excluded
        self.datasets_ = sorted(names)
        self.dataset_index_ = {d: i for i, d in enumerate(self.datasets_)}
        self.similarity_ = similarity_matrix(tables, self.datasets_)
        self.truth_: Truth = truth
        self.n_suspect_ = truth.n_suspect
        self.scratch_ = scratch_accuracies(tables)

    def _validate(self) -> None:
        """Check the constructor parameters (before any work); subclasses extend it."""

    def _fit(self, tables: ZooTables) -> None:
        raise NotImplementedError

    def _predict_z(self, dataset: str, models: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted z (higher is better) and a half-width in z units, per model."""
        raise NotImplementedError

    # ----------------------------------------------------------- helpers
    def _train_z(self, dataset: str | None = None) -> pd.DataFrame:
        """model × dataset z matrix of the training truth, without ``dataset``."""
        v = self.truth_.values
        if dataset is not None:
            v = v.loc[v["dataset"] != dataset]
        return v.pivot(index="model", columns="dataset", values="z")

    def _target_sims(self, dataset: str, columns: Sequence[str]) -> np.ndarray:
        i = self.dataset_index_.get(dataset)
        if i is None:
            return np.zeros(len(columns))
        idx = [self.dataset_index_[c] for c in columns]
        return self.similarity_[i, idx]

    def _scale(self, dataset: str, *, held_out: bool = False) -> tuple[float, float, float, bool]:
        """(mean, std, uncertainty of mean, higher_is_better) of the target's goodness scale.

        A target without records gets the similarity-weighted mean scale of the
        training datasets (same metric), and the weighted spread of their means as
        the uncertainty of its own mean. When the metric is accuracy and the graph
        holds the target's from-scratch accuracy (dataset attribute
        ``scratch_accuracy``), its mean is that plus the similarity-weighted mean
        offset (mean − scratch) of the training datasets whose scratch is known: a hard
        target stays hard, whatever its neighbours score. ``held_out=True`` estimates a
        training dataset's scale as if it had no records (for held-out calibration).
        """
        stats = self.truth_.stats
        if held_out:
            stats = stats.drop(index=dataset, errors="ignore")
        if dataset in stats.index:
            row = stats.loc[dataset]
            return float(row["mean"]), float(row["std"]), 0.0, bool(row["higher_is_better"])
        if len(stats) == 0:
            return 0.0, 1.0, 0.0, True
        metric = stats["metric"].value_counts().index[0]
        same = stats.loc[stats["metric"] == metric]
        w = self._target_sims(dataset, list(same.index)) + 1e-3
        level = same["mean"].to_numpy(dtype=float)
        base = 0.0
        scratch = np.array([self.scratch_.get(str(d), np.nan) for d in same.index])
        if metric == "accuracy" and dataset in self.scratch_ and np.isfinite(scratch).any():
            known = np.isfinite(scratch)
            level, w, base = level[known] - scratch[known], w[known], self.scratch_[dataset]
            same = same.loc[known]
        mean = float(np.average(level, weights=w))
        std = float(np.average(same["std"], weights=w))
        spread = float(np.sqrt(np.average((level - mean) ** 2, weights=w)))
        return base + mean, std, spread, bool(same["higher_is_better"].iloc[0])

    def _target_metric(self, dataset: str) -> str:
        """The metric of the target's records, else the training truth's most frequent one."""
        stats = self.truth_.stats
        if dataset in stats.index:
            return str(stats.at[dataset, "metric"])
        if len(stats):
            return str(stats["metric"].value_counts().index[0])
        return "accuracy"

    def _candidates(
        self, candidates: Iterable[str] | None, filters: dict[str, Any]
    ) -> pd.DataFrame:
        if candidates is None:
            table = self.models_
        else:
            names = list(candidates)
            missing = [c for c in names if c not in self.models_.index]
            if missing:
                raise did_you_mean(
                    missing[0],
                    self.models_.index,
                    what="candidate model",
                    hint="Candidates must be models of the fitted graph; add them and refit.",
                )
            table = self.models_.loc[list(dict.fromkeys(names))]
        keep = np.ones(len(table), dtype=bool)
        for key, value in filters.items():
            if value is None:
                continue
            if key in ("max_params", "min_params"):
                col = (
                    table["n_params"]
                    if "n_params" in table
                    else pd.Series(np.nan, index=table.index)
                )
                p = pd.to_numeric(col, errors="coerce").astype(float).to_numpy()
                with np.errstate(invalid="ignore"):
                    ok = p <= float(value) if key == "max_params" else p >= float(value)
                keep &= np.nan_to_num(ok, nan=0).astype(bool)
            else:
                allowed = {value} if isinstance(value, str) else set(value)
                col = table[key] if key in table else pd.Series(pd.NA, index=table.index)
                keep &= col.astype("object").isin(allowed).to_numpy()
        return table.loc[keep]

    # ---------------------------------------------------------------- rank
    def rank(
        self,
        dataset: str,
        candidates: Iterable[str] | None = None,
        k: int | None = None,
        *,
        n_evidence: int = 5,
        cold_start: bool = False,
        **filters: FilterValue,
    ) -> pd.DataFrame:
        """Rank candidate source models for ``dataset`` (best first).

        Every argument is checked before any work.

        Args:
            dataset: Target dataset id of the fitted graph (a dataset without records
                is a cold start: it is ranked through its similarity edges).
            candidates: Model names (a list); default every model in the graph.
            k: Keep the top ``k`` rows (a positive integer; None = all).
            n_evidence: Rows that get an ``evidence`` text (the rest get "").
            cold_start: Allow a ``dataset`` the graph does not know at all; it is
                ranked from the graph as a whole (no similarity, no metadata). To
                use a new dataset's data or metadata, add it to the graph and refit,
                or call :func:`kgtransfer.recommend` with the data.
            **filters: See :data:`FILTERS`, e.g. ``license="mit"``, ``max_params=1e8``.

        Returns:
            DataFrame ``model, score, predicted, low, high, rank, evidence``:
            ``score`` is the predicted z within the target (higher is better),
            ``predicted`` and ``[low, high]`` are in the target metric's scale,
            clipped to the metric's range (e.g. [0, 1] for accuracy).

        Raises:
            NotFittedError: Before ``fit``.
            ArgumentError: A bad ``dataset``, ``k``, ``n_evidence``, ``candidates``,
                filter name (close names suggested) or filter value.
            UnknownNameError: ``dataset`` or a candidate is not in the graph.
        """
        self._check_fitted()
        dataset = check_dataset(
            dataset, self.dataset_index_, cold_start=check_bool(cold_start, "cold_start")
        )
        k = check_k(k)
        n_evidence = cast(
            int, check_int(n_evidence, "n_evidence", minimum=0, fix="pass e.g. n_evidence=5")
        )
        candidates = check_names(candidates, "candidates")
        filters = check_filters(filters, where="rank()")
        table = self._candidates(candidates, filters)
        models = table.index.to_numpy(dtype=object)
        if len(models):
            with limited_threads():
                z, half = self._predict_z(str(dataset), models)
        else:
            z, half = np.zeros(0), np.zeros(0)
        mean, std, mean_sd, hib = self._scale(str(dataset))
        good = mean + z * std
        width = np.sqrt((half * std) ** 2 + (_Z90 * mean_sd) ** 2)
        lo_g, hi_g = good - width, good + width
        sign = 1.0 if hib else -1.0
        pred, lo, hi = sign * good, sign * (lo_g if hib else hi_g), sign * (hi_g if hib else lo_g)
        low_bound, high_bound = metric_bounds(self._target_metric(str(dataset)))
        pred, lo, hi = (np.clip(v, low_bound, high_bound) for v in (pred, lo, hi))
        out = pd.DataFrame(
            {"model": models.astype(str), "score": z, "predicted": pred, "low": lo, "high": hi}
        )
        out = out.sort_values(["score", "model"], ascending=[False, True], kind="stable")
        out = out.reset_index(drop=True)
        out["rank"] = np.arange(1, len(out) + 1)
        if k is not None:
            out = out.head(k)
        out["evidence"] = ""
        n_ev = min(n_evidence, len(out))
        if n_ev:
            out.loc[: n_ev - 1, "evidence"] = [
                self._evidence(str(dataset), m) for m in out["model"].iloc[:n_ev]
            ]
        return out

    def predict(
        self, dataset: str, models: Iterable[str], *, cold_start: bool = False
    ) -> np.ndarray:
        """Predicted values (metric scale) of ``models`` on ``dataset``, in the given order."""
        names = check_names(models, "models", allow_none=False) or []
        r = self.rank(dataset, candidates=names, n_evidence=0, cold_start=cold_start)
        r = r.set_index("model")
        predicted: np.ndarray = r.loc[names, "predicted"].to_numpy(dtype=float)
        return predicted

    # ------------------------------------------------------------ evidence
    def _evidence(self, dataset: str, model: str) -> str:
        parts: list[str] = []
        v = self.truth_.values
        own = v.loc[(v["model"] == model) & (v["dataset"] != dataset)]
        if len(own):
            parts.append(
                f"mean normalised score {own['z'].mean():+.2f} on {len(own)} other target"
                f"{'s' if len(own) != 1 else ''}"
            )
            sims = self._target_sims(dataset, list(own["dataset"]))
            if sims.size and sims.max() > 0:
                j = int(np.argmax(sims))
                row = own.iloc[j]
                parts.append(
                    f"{row['value']:.3g} {row['metric']} on {row['dataset']}, "
                    f"similar to the target ({sims[j]:.2f})"
                )
        trained = self.models_.at[model, "trained_on"] if "trained_on" in self.models_ else None
        if (
            trained is not None
            and not (isinstance(trained, float) and math.isnan(trained))
            and pd.notna(trained)
        ):
            s = self._target_sims(dataset, [str(trained)])
            if str(trained) == dataset:
                parts.append(f"trained on {trained}, the target itself")
            elif s.size and s[0] > 0:
                parts.append(f"trained on {trained}, similar to the target ({s[0]:.2f})")
            else:
                parts.append(f"trained on {trained}")
        if not parts:
            parts.append("no records or lineage: ranked from metadata only")
        return "; ".join(parts)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"
