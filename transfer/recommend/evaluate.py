"""Leave-one-target-out evaluation of a recommender on a zoo's records."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from kgtransfer._versions import versions
from kgtransfer.errors import BaselineInputsMissing
from kgtransfer.kg.regime import ANY_REGIME, REGIME_COLUMNS, regime_of, select_regime
from kgtransfer.kg.tables import COLUMNS, ZooTables

from ._data import as_tables, scratch_accuracies, truth_table
from ._metrics import (
    coverage_band,
    negative_transfer_calibration,
    negative_transfer_probability,
    ranking_metrics,
)

__all__ = ["evaluate_recommender"]


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_clean(v) for v in x]
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x


def _regime_name(regime: str | Mapping[str, Any] | None) -> str:
    if regime is None:
        return "each target's own"
    return regime_of(regime) if isinstance(regime, Mapping) else str(regime)


def _mean(rows: list[dict[str, Any]], suffix: str = "") -> dict[str, float | None]:
    keys = [
        "pearson",
        "weighted_tau",
        "top1_relative",
        "top1_regret",
        "top1_regret_points",
        "coverage",
    ]
    out: dict[str, float | None] = {}
    for k in keys:
        raw = [r.get(k + suffix) for r in rows]
        vals = [
            float(v)
            for v in raw
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(float(v))
        ]
        out[k] = float(np.mean(vals)) if vals else None
    return out


def evaluate_recommender(
    recommender_factory: Callable[[], Any],
    tables: Any,
    targets: Iterable[str] | None = None,
    *,
    subset_estimator: str | None = "logme",
    min_models: int = 3,
    progress: bool = False,
    regime: str | Mapping[str, Any] | None = "any",
) -> dict[str, Any]:
    """Leave-one-target-out: per target, fit without its records, rank its models.

    For each target dataset every record of it is excluded from ``fit`` (in both
    directions of the graph); the recommender then predicts every model that has
    a true (best, non-suspect) record on it. Metrics are those of
    :func:`ranking_metrics`; when the zoo holds ``subset_estimator`` scores they
    are also computed over the models with such a score (suffix ``_<estimator>``),
    the subset the TransferGraph paper reports on.

    A baseline that cannot rank a target (e.g. ``score:logme`` on a target without
    LogME scores) gets a row ``{"target": t, "n/a": reason}``, left out of the
    means; when it can rank none, :class:`~kgtransfer.errors.BaselineInputsMissing`
    propagates.

    Args:
        recommender_factory: Zero-argument callable returning a new recommender.
        tables: ``ZooTables`` or ``ZooGraph``.
        targets: Target datasets; default every dataset with at least ``min_models``
            true records.
        subset_estimator: Estimator defining the second model subset, or None.
        min_models: Fewest models with records a default target needs.
        progress: Show a tqdm bar on stderr.
        regime: Training regime of the ground truth and of what the recommenders
            learn from (:mod:`kgtransfer.kg.regime`): ``"any"`` (default) mixes them
            explicitly, the truth being the best non-suspect run per (model, target)
            whatever its regime; None keeps each dataset's own regime; a label (or
            mapping of regime parts) keeps only records of that regime.

    Returns:
        JSON-serialisable dict: ``targets`` (one row per target, with
        ``top1_regret_points``: the regret x 100 for fraction metrics such as
        accuracy, in the metric's own units otherwise), ``mean``,
        ``mean_<estimator>``, ``calibration`` (coverage of the 90 % intervals over
        all held-out pairs with its 95 % binomial band, and the Brier score and
        reliability table of the negative-transfer probability where the target's
        scratch value is known from a dataset ``scratch_accuracy`` or the
        records' ``gain``; else ``{"n/a": reason}``), ``fit_seconds`` and
        ``versions`` and ``regime``.

    Raises:
        BaselineInputsMissing: The recommender lacks its inputs on this zoo (from
            ``fit``) or on every target.

    Example:
        >>> import pandas as pd
        >>> from kgtransfer.kg.tables import ZooTables
        >>> from kgtransfer.transfer.recommend import PopularityRecommender
        >>> recs = pd.DataFrame({"model": list("abcabcabc"), "dataset": list("xxxyyyzzz"),
        ...                      "value": [.9, .6, .3, .8, .5, .4, .7, .6, .1]})
        >>> res = evaluate_recommender(PopularityRecommender, ZooTables(records=recs))
        >>> res["mean"]["top1_relative"]
        1.0
    """
    from tqdm.auto import tqdm

    # metrics in [0, 1] (the ingest layer's fractions): regret reported in points (x 100)
    from kgtransfer.kg.ingest._metrics import FRACTION_METRICS as _FRACTIONS

    zoo: ZooTables = as_tables(tables)
    truth_regime = regime
    if regime == ANY_REGIME:  # mixed on purpose, for fitting as for the truth
        rec = zoo.records
        blank = {
            c: pd.Series(pd.NA, index=rec.index, dtype=COLUMNS["records"][c])
            for c in REGIME_COLUMNS
            if c in rec.columns
        }
        zoo = dataclasses.replace(zoo, records=rec.assign(**blank))
    elif regime is not None:  # one regime, for fitting and truth
        kept, _, _ = select_regime(zoo.records, regime)
        zoo = dataclasses.replace(zoo, records=kept.reset_index(drop=True))
        truth_regime = ANY_REGIME
    truth = truth_table(zoo, regime=truth_regime)
    counts = truth.values.groupby("dataset").size()
    if targets is None:
        target_list = sorted(counts.index[counts >= min_models])
    else:
        target_list = [str(t) for t in targets]
        missing = [t for t in target_list if t not in counts.index]
        if missing:
            raise ValueError(
                f"Target(s) {missing} have no non-suspect records to evaluate against; "
                f"datasets with records: {sorted(counts.index)}."
            )
    sub = None
    if subset_estimator is not None and len(zoo.scores):
        s = zoo.scores.loc[zoo.scores["estimator"].astype("object") == subset_estimator]
        sub = s.assign(model=s["model"].astype(str), dataset=s["dataset"].astype(str))
    rows: list[dict[str, Any]] = []
    fit_seconds: list[float] = []
    name = ""
    scratch = _target_scratch(zoo)
    covered: list[np.ndarray] = []
    risk: list[np.ndarray] = []
    negative: list[np.ndarray] = []
    for target in tqdm(target_list, disable=not progress, desc="targets"):
        rec = recommender_factory()
        name = getattr(rec, "name", type(rec).__name__)
        start = time.perf_counter()
        rec.fit(zoo, exclude_datasets=[target])
        fit_seconds.append(time.perf_counter() - start)
        tv = truth.values.loc[truth.values["dataset"] == target]
        hib = bool(truth.stats.loc[target, "higher_is_better"])
        models = tv["model"].to_numpy(dtype=object)
        try:
            ranked = rec.rank(target, candidates=models, n_evidence=0)
        except BaselineInputsMissing as exc:
            rows.append({"target": target, "n/a": str(exc).splitlines()[0]})
            continue
        ranked = ranked.set_index("model").loc[models]
        true = tv["value"].to_numpy(dtype=float)
        low = ranked["low"].to_numpy(dtype=float)
        high = ranked["high"].to_numpy(dtype=float)
        row: dict[str, Any] = {"target": target}
        row.update(
            ranking_metrics(
                true,
                ranked["predicted"].to_numpy(dtype=float),
                low=low,
                high=high,
                higher_is_better=hib,
            )
        )
        metric = str(truth.stats.loc[target, "metric"])
        row["top1_regret_points"] = row["top1_regret"] * (100.0 if metric in _FRACTIONS else 1.0)
        covered.append((true >= low) & (true <= high))
        if hib and target in scratch:
            risk.append(
                negative_transfer_probability(
                    ranked["predicted"].to_numpy(dtype=float), low, high, scratch[target]
                )
            )
            negative.append(true < scratch[target])
        if sub is not None:
            keep = np.isin(models, sub.loc[sub["dataset"] == target, "model"].unique())
            if keep.sum() >= 2:
                m = ranking_metrics(
                    true[keep],
                    ranked["predicted"].to_numpy(dtype=float)[keep],
                    low=ranked["low"].to_numpy(dtype=float)[keep],
                    high=ranked["high"].to_numpy(dtype=float)[keep],
                    higher_is_better=hib,
                )
                m["top1_regret_points"] = m["top1_regret"] * (
                    100.0 if metric in _FRACTIONS else 1.0
                )
                row.update({f"{k}_{subset_estimator}": v for k, v in m.items()})
        rows.append(row)
    if target_list and all("n/a" in r for r in rows):
        raise BaselineInputsMissing(rows[0]["n/a"])
    out: dict[str, Any] = {
        "method": name,
        "params": _clean(dict(recommender_factory().get_params()))
        if hasattr(recommender_factory(), "get_params")
        else {},
        "protocol": "leave-one-target-out; truth = best non-suspect run per (model, dataset)",
        "regime": _regime_name(regime),
        "regime_notes": truth.notes,
        "n_suspect_records": truth.n_suspect,
        "targets": rows,
        "mean": _mean(rows),
        "calibration": _calibration(covered, risk, negative),
        "fit_seconds": float(np.mean(fit_seconds)) if fit_seconds else None,
        "versions": versions(),
    }
    if sub is not None:
        out[f"mean_{subset_estimator}"] = _mean(rows, f"_{subset_estimator}")
    cleaned: dict[str, Any] = _clean(out)
    return cleaned


def _target_scratch(zoo: ZooTables) -> dict[str, float]:
    """Scratch value per dataset: its ``scratch_accuracy``, else the median of its
    records' ``value - gain`` (records carrying the gain over scratch)."""
    out = scratch_accuracies(zoo)
    rec = zoo.records
    if "gain" in rec.columns:
        value = rec["value"].astype("Float64").astype(float)
        gain = rec["gain"].astype("Float64").astype(float)
        implied = (value - gain).groupby(rec["dataset"].astype(str)).median().dropna()
        for d, v in implied.items():
            out.setdefault(str(d), float(v))
    return out


def _calibration(
    covered: list[np.ndarray], risk: list[np.ndarray], negative: list[np.ndarray]
) -> dict[str, Any]:
    hits = np.concatenate(covered) if covered else np.zeros(0, dtype=bool)
    lo, hi = coverage_band(len(hits))
    rate = float(hits.mean()) if len(hits) else math.nan
    out: dict[str, Any] = {
        "interval": {
            "nominal": 0.90,
            "n_pairs": len(hits),
            "coverage": rate,
            "band95": [lo, hi],
            "within_band": bool(lo <= rate <= hi) if len(hits) else None,
        }
    }
    if risk:
        out["negative_transfer"] = negative_transfer_calibration(
            np.concatenate(risk), np.concatenate(negative)
        )
    else:
        out["negative_transfer"] = {
            "n/a": "no held-out target has a known scratch value (dataset scratch_accuracy "
            "or records with a gain column)"
        }
    return out
