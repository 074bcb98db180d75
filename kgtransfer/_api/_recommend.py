"""``recommend``: one call from a target (known or new) to ranked sources with expected gain."""

from __future__ import annotations

import inspect
import math
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from kgtransfer._api._target import ResolvedTarget, resolve_target
from kgtransfer._api._versions import versions
from kgtransfer.errors import ArgumentError, NotFittedError
from kgtransfer.kg.tables import ZooTables, as_tables
from kgtransfer.models import Device, ZooModel
from kgtransfer.protocols import (
    DataInput,
    DatasetLike,
    FilterValue,
    GraphLike,
    RecommenderLike,
    TablesLike,
)
from kgtransfer.transfer.recommend._base import BaseRecommender, metric_bounds
from kgtransfer.transfer.recommend._checks import (
    check_bool,
    check_filters,
    check_has_records,
    check_int,
    check_k,
    check_seed,
    check_text,
)
from kgtransfer.transfer.recommend._data import scratch_accuracies
from kgtransfer.transfer.recommend._metrics import Z90 as _Z90

__all__ = ["Recommendation", "recommend"]


#: Where ``recommend(..., rerank=N)`` finds candidate weights: a folder of checkpoint
#: folders, ``{name: model}`` or a ``name -> model`` loader.
Checkpoints: TypeAlias = str | os.PathLike[str] | Mapping[str, ZooModel] | Callable[[str], ZooModel]
#: Columns of :meth:`Recommendation.to_frame` (after ``target``).
RECOMMENDATION_COLUMNS = (
    "rank",
    "model",
    "score",
    "predicted",
    "low",
    "high",
    "scratch",
    "predicted_gain",
    "gain_low",
    "gain_high",
    "risk",
    "negative_rate",
    "actual",
    "actual_gain",
    "evidence",
    "compatible",
    "why",
)


@dataclass
class Recommendation:
    """Ranked source models for one target, with the expected gain over scratch.

    Attributes:
        target: The target's dataset id.
        kind: ``"known"`` (a dataset of the graph) or ``"new"`` (joined by similarity).
        frame: One row per candidate, best first: ``rank, model, score, predicted, low,
            high`` (the recommender's prediction and 90 % interval, in the target
            metric), ``scratch`` (the target's from-scratch accuracy, measured or
            predicted), ``predicted_gain, gain_low, gain_high`` (over scratch),
            ``risk`` (probability that the gain is negative), ``negative_rate`` (how
            often this source transferred negatively to other targets), ``actual`` and
            ``actual_gain`` (ground truth where the graph has it), ``evidence``, and the
            re-ranking estimator's score when ``rerank`` was used, and ``compatible``
            / ``why``: whether the source can take the target's inputs and how
            (see :func:`~kgtransfer._api._compat.input_compatibility`).
        scratch: The target's scratch accuracy (None when unknown).
        scratch_source: ``"measured"``, ``"predicted from neighbours"`` or None.
        neighbours: The target's nearest datasets (``dataset, similarity``).
        context: Neighbours, ``trained_on`` and ``base_model`` of the candidates (for
            the report's evidence subgraph).
        metadata: Seed, k, recommender, re-ranking, held-out datasets, versions, notes,
            and ``id`` (see :attr:`id`).
        incompatible: Candidates left out because they cannot take the target's
            inputs (``model, score, why``), best first; empty when
            ``recommend(..., compatible_only=False)`` kept them (ranked last).

    Example:
        >>> import pandas as pd
        >>> rec = Recommendation("t", "known", pd.DataFrame({"model": ["a", "b"]}))
        >>> rec.best, rec.to_frame().columns.tolist()
        ('a', ['target', 'model'])
    """

    target: str
    kind: str
    frame: pd.DataFrame
    scratch: float | None = None
    scratch_source: str | None = None
    neighbours: pd.DataFrame = field(default_factory=pd.DataFrame)
    context: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    incompatible: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"model": [], "score": [], "why": []})
    )

    @property
    def id(self) -> str:
        """A stable id of this recommendation (target, seed, recommender and ranking):
        ``transfer_from`` stores it in a result's provenance, and so in the graph."""
        given = self.metadata.get("id")
        if isinstance(given, str) and given:
            return given
        return _recommendation_id(self.target, self.frame, self.metadata)

    def link(self, model: str) -> dict[str, object]:
        """What this recommendation said of ``model``: ``id, target, model, rank,
        predicted, predicted_gain, risk, compatible`` (None where it has no row)."""
        out: dict[str, Any] = {"id": self.id, "target": self.target, "model": str(model)}
        rows = self.frame.iloc[0:0]
        if "model" in self.frame.columns:
            rows = self.frame[self.frame["model"].astype(str) == str(model)]
        for key in ("rank", "predicted", "predicted_gain", "risk", "compatible"):
            value = rows.iloc[0].get(key) if len(rows) else None
            if value is None or pd.isna(value):
                out[key] = None
            elif key == "rank":
                out[key] = int(value)
            elif key == "compatible":
                out[key] = bool(value)
            else:
                out[key] = float(value)
        return out

    def to_frame(self) -> pd.DataFrame:
        """The ranking with a leading ``target`` column (one row per candidate)."""
        return self.frame.assign(target=self.target)[["target", *self.frame.columns]]

    @property
    def best(self) -> str:
        """The top-ranked source model."""
        if self.frame.empty:
            if len(self.incompatible):
                raise ValueError(
                    f"No compatible source in this zoo for {self.target!r}: the "
                    f"{len(self.incompatible)} candidate(s) cannot take its inputs (see "
                    ".incompatible, e.g. "
                    f"{self.incompatible['model'].iloc[0]}: {self.incompatible['why'].iloc[0]})."
                )
            raise ValueError(f"No candidate source model for {self.target!r}; relax the filters.")
        return str(self.frame["model"].iloc[0])

    def summary(self) -> dict[str, object]:
        """Target-level facts for reports: kind, scratch, neighbours, notes."""
        near = self.neighbours.head(3)
        return {
            "target": self.target,
            "kind": self.kind,
            "scratch_source": self.scratch_source,
            "neighbours": ", ".join(
                f"{d} ({s:.2f})" for d, s in zip(near["dataset"], near["similarity"], strict=True)
            )
            if len(near)
            else None,
            "note": "; ".join(self.metadata.get("notes", [])) or None,
        }

    def __repr__(self) -> str:
        top = ", ".join(self.frame["model"].head(3).astype(str))
        return f"Recommendation(target={self.target!r}, kind={self.kind!r}, top=[{top}])"

    def _repr_html_(self) -> str:  # pragma: no cover - notebooks
        return str(self.to_frame()._repr_html_())


def _recommendation_id(target: str, frame: pd.DataFrame, metadata: Mapping[str, Any]) -> str:
    import hashlib
    import json

    top = frame.get("model", pd.Series(dtype=object)).astype(str).tolist()
    pred = frame.get("predicted", pd.Series(dtype=float)).astype(float).round(6).tolist()
    key = {
        "target": target,
        "models": top,
        "predicted": [None if math.isnan(p) else p for p in pred],
        "seed": metadata.get("seed"),
        "recommender": metadata.get("recommender"),
        "rerank": metadata.get("rerank_estimator"),
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    return f"rec-{digest[:12]}"


def _target_shape(resolved: ResolvedTarget, data: Any) -> tuple[int, ...] | None:
    """The shape of one target sample: of ``data`` when given, else of the resolved data."""
    from kgtransfer._api._compat import sample_shape

    return sample_shape(data if data is not None else resolved.dataset)


def _with_compatibility(
    frame: pd.DataFrame,
    tables: ZooTables,
    shape: tuple[int, ...] | None,
    modality: str | None,
    *,
    compatible_only: bool,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``frame`` with ``compatible`` / ``why``, incompatible rows dropped (or last); the
    dropped rows."""
    from kgtransfer._api._compat import input_compatibility

    models = tables.models
    rows = {str(r["model"]): r for r in models.to_dict("records")} if "model" in models else {}
    verdicts = [
        input_compatibility(rows.get(str(m), {"model": m}), shape, modality) for m in frame["model"]
    ]
    out = frame.copy()
    out["compatible"] = pd.array([v.compatible for v in verdicts], dtype="boolean")
    out["why"] = [v.why for v in verdicts]
    bad = ~out["compatible"].to_numpy(dtype=bool)
    unknown = sum(v.how == "unknown" for v in verdicts)
    if unknown and shape is not None:
        notes.append(
            f"{unknown} candidate(s) have no input contract in the graph: assumed compatible "
            "(see the why column)"
        )
    if not bad.any():
        return out, out.iloc[0:0][["model", "score", "why"]]
    left = out[bad]
    if compatible_only:
        out = out[~bad]
        notes.append(
            f"{int(bad.sum())} candidate(s) cannot take the target's inputs "
            f"{shape} and were left out (see .incompatible; compatible_only=False ranks "
            "them last)"
        )
        if out.empty:
            notes.append("no compatible source in this zoo for the target's inputs")
    else:
        out = pd.concat([out[~bad], left])
        notes.append(
            f"{int(bad.sum())} candidate(s) cannot take the target's inputs {shape}: "
            "ranked last (compatible=False)"
        )
    out = out.reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    dropped = left[["model", "score", "why"]].reset_index(drop=True)
    return out, dropped if compatible_only else dropped.iloc[0:0]


def _write_scores(
    graph: Any, frame: pd.DataFrame, estimator: str, resolved: ResolvedTarget
) -> str | None:
    """Write the re-ranking scores through ``ZooGraph.add_tables`` (one batch)."""
    values = pd.to_numeric(frame[estimator], errors="coerce").astype(float)
    keep = values.notna().to_numpy()
    if not keep.any():
        return None
    scores = pd.DataFrame(
        {
            "model": frame.loc[keep, "model"].astype(str).to_numpy(),
            "dataset": resolved.name,
            "estimator": estimator,
            "value": values[keep].to_numpy(),
        }
    )
    datasets = resolved.datasets if resolved.kind == "new" and len(resolved.datasets) else None
    return str(graph.add_tables(datasets=datasets, scores=scores).batch)


def _fit_recommender(
    recommender: Any,
    tables: ZooTables,
    *,
    exclude: list[str],
    new_target: bool,
    seed: int,
    progress: bool,
    target: str = "",
) -> tuple[Any, str]:
    """A recommender fitted on ``tables`` without ``exclude``'s records; how it was got."""
    from kgtransfer.transfer import GNNRecommender

    if recommender is None:  # the default: reused from the cache while the graph is unchanged
        from kgtransfer._api._cache import cached_fit

        return cached_fit(lambda: GNNRecommender(seed=seed, progress=progress), tables, exclude)
    fitted = hasattr(recommender, "truth_")
    held = set(getattr(recommender, "excluded_datasets_", []))
    knows = target in getattr(recommender, "dataset_index_", {target: 0})
    if fitted and not new_target and set(exclude) <= held and knows:
        return recommender, "given"
    params = recommender.get_params() if hasattr(recommender, "get_params") else {}
    fresh = type(recommender)(**params)
    reason = "refitted: a new target joined the graph" if new_target else "refitted"
    if fitted and not new_target and not knows:
        reason = "refitted: the given recommender was fitted on a graph without the target"
    names = set(tables.datasets["dataset"].dropna().astype(str))
    names |= set(tables.records["dataset"].dropna().astype(str))
    held = {d for d in held if d in names}  # held-out datasets of another graph: no-op
    return fresh.fit(tables, sorted(set(exclude) | held)), reason


def _scratch(tables: ZooTables, resolved: ResolvedTarget) -> tuple[float | None, float, str | None]:
    """(scratch accuracy, its standard error, source) of the target."""
    by_name = scratch_accuracies(tables)
    own = by_name.get(resolved.name)
    if own is not None:
        return own, 0.0, "measured"
    near = resolved.neighbours
    pairs = [
        (by_name[d], s)
        for d, s in zip(near["dataset"], near["similarity"], strict=True)
        if d in by_name
    ]
    if not pairs:
        return None, 0.0, None
    v = np.array([p[0] for p in pairs])
    w = np.array([max(p[1], 1e-6) for p in pairs])
    mean = float(np.average(v, weights=w))
    spread = float(np.sqrt(np.average((v - mean) ** 2, weights=w)))
    return mean, spread, "predicted from neighbours"


def _target_modality(tables: ZooTables, target: str) -> str | None:
    ds = tables.datasets
    if "modality" not in ds.columns:
        return None
    found = ds.loc[ds["dataset"].astype(str) == target, "modality"].dropna()
    return str(found.iloc[0]) if len(found) else None


def _target_metric(tables: ZooTables, target: str) -> str | None:
    """The target's metric: that of its records, else the graph's most frequent one."""
    rec = tables.records
    if "metric" not in rec.columns or rec.empty:
        return None
    metric = rec["metric"].astype("object").where(rec["metric"].notna(), "accuracy")
    own = metric[rec["dataset"].astype(str) == target]
    pool = own if len(own) else metric
    return str(pool.value_counts().index[0])


def _truth(tables: ZooTables, target: str) -> pd.DataFrame:
    """Best non-suspect value (and its gain) per model on ``target``, within the
    target's own training regime (see :mod:`kgtransfer.kg.regime`)."""
    from kgtransfer.kg.regime import select_regime

    rec = tables.records
    rec, _, _ = select_regime(rec[rec["dataset"].astype(str) == target])
    if "suspect" in rec.columns:
        rec = rec[~rec["suspect"].fillna(False).astype(bool)]
    if rec.empty:
        return pd.DataFrame(
            {
                "model": pd.Series([], dtype=object),
                "actual": pd.Series([], dtype=float),
                "actual_gain": pd.Series([], dtype=float),
            }
        )
    out = pd.DataFrame(
        {
            "model": rec["model"].astype(str),
            "actual": pd.to_numeric(rec["value"], errors="coerce").astype(float),
            "actual_gain": (
                pd.to_numeric(rec["gain"], errors="coerce").astype(float)
                if "gain" in rec.columns
                else np.nan
            ),
        }
    )
    out = out.sort_values("actual", ascending=False, kind="stable")
    return out.drop_duplicates("model").reset_index(drop=True)


def _negative_rates(tables: ZooTables, target: str) -> dict[str, float]:
    """Per model: Laplace-smoothed share of negative gains on the *other* targets."""
    rec = tables.records
    if "gain" not in rec.columns:
        return {}
    rec = rec[(rec["dataset"].astype(str) != target)]
    gain = pd.to_numeric(rec["gain"], errors="coerce").astype(float)
    frame = pd.DataFrame({"model": rec["model"].astype(str), "neg": gain < 0, "ok": gain.notna()})
    frame = frame[frame["ok"]]
    grouped = frame.groupby("model")["neg"].agg(["sum", "count"])
    return {
        str(m): (float(r["sum"]) + 1.0) / (float(r["count"]) + 2.0) for m, r in grouped.iterrows()
    }


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return np.array([0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in x.ravel()]).reshape(
        x.shape
    )


def _add_gain(
    frame: pd.DataFrame, scratch: float | None, scratch_sd: float, rates: Mapping[str, float]
) -> pd.DataFrame:
    out = frame.copy()
    out["scratch"] = np.nan if scratch is None else float(scratch)
    sd_pred = (out["high"] - out["low"]).abs().to_numpy(dtype=float) / (2 * _Z90)
    if scratch is None:
        for col in ("predicted_gain", "gain_low", "gain_high", "risk"):
            out[col] = np.nan
    else:
        mean = out["predicted"].to_numpy(dtype=float) - float(scratch)
        sd = np.sqrt(sd_pred**2 + float(scratch_sd) ** 2)
        out["predicted_gain"] = mean
        out["gain_low"] = mean - _Z90 * sd
        out["gain_high"] = mean + _Z90 * sd
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(sd > 0, -mean / np.where(sd > 0, sd, 1.0), np.where(mean < 0, 9.0, -9.0))
        out["risk"] = _normal_cdf(z)
    out["negative_rate"] = [rates.get(str(m), np.nan) for m in out["model"]]
    return out


def _loader(checkpoints: Any) -> Callable[[str], Any]:
    from kgtransfer.models import load_pretrained

    if callable(checkpoints):
        loader: Callable[[str], Any] = checkpoints
        return loader
    if isinstance(checkpoints, Mapping):
        return lambda name: checkpoints[name]
    from kgtransfer.zoo._paths import confined

    folder = Path(checkpoints)
    # model names come from the graph: never let one reach outside the folder
    # kgtransfer checkpoints, timm and Hugging Face folders alike
    return lambda name: load_pretrained(confined(folder, name, what="model name"))


def _rerank(
    frame: pd.DataFrame,
    *,
    n: int,
    estimator: str,
    data: Any,
    checkpoints: Any,
    sample: int,
    seed: int,
    notes: list[str],
    device: Any = "cpu",
) -> pd.DataFrame:
    """Re-order the top ``n`` rows by a content-based estimator on a seeded sample
    (the candidates' forward pass on ``device``)."""
    from kgtransfer.models import extract_features, predict_proba
    from kgtransfer.models._device import on_device
    from kgtransfer.transfer.scores import get_score, score_input

    score_fn = get_score(estimator)
    kind = score_input(estimator)
    if data is None:
        raise ValueError(
            f"rerank={n} needs the target's data to run {estimator!r}; the target is not a "
            "registered dataset, so pass data=... (or rerank=0)."
        )
    if checkpoints is None:
        raise ValueError(
            f"rerank={n} needs the candidates' weights: pass checkpoints=<folder with one "
            "checkpoint folder per model> (e.g. home/zoo/models), a {name: model} mapping "
            "or a loader function."
        )
    load = _loader(checkpoints)
    rng = np.random.default_rng(seed)
    idx = np.arange(len(data.y))
    if len(idx) > sample:
        idx = np.sort(rng.choice(len(idx), sample, replace=False))
    x = np.ascontiguousarray(data.x[idx])
    y = np.asarray(data.y)[idx]
    head = frame.head(n).copy()
    values = []
    for model_name in head["model"]:
        try:
            model = load(str(model_name))
            model = on_device(model, device)  # a caller's model is copied, never moved
            if kind == "features":
                inputs = extract_features(model, x, device=device)
            else:
                probs = predict_proba(model, x, device=device)
                inputs = probs if kind == "probs" else probs.argmax(axis=1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                values.append(float(score_fn(inputs, y)))
        except (KeyError, ValueError, RuntimeError, TypeError, OSError) as exc:
            values.append(np.nan)
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            notes.append(f"{estimator} not computed for {model_name}: {first}")
    head[estimator] = values
    head["_gnn_rank"] = np.arange(len(head))
    head = head.sort_values(
        [estimator, "_gnn_rank"], ascending=[False, True], na_position="last", kind="stable"
    ).drop(columns="_gnn_rank")
    rest = frame.iloc[n:].copy()
    rest[estimator] = np.nan
    out = pd.concat([head, rest], ignore_index=True)
    out["rank"] = np.arange(1, len(out) + 1)
    notes.append(f"top {len(head)} re-ranked by {estimator} on {len(idx)} target samples")
    return out


def _context(tables: ZooTables, models: list[str], neighbours: pd.DataFrame) -> dict[str, Any]:
    m = tables.models
    m = m[m["model"].astype(str).isin(models)]
    trained = {
        str(a): str(b) for a, b in zip(m["model"], m["trained_on"], strict=True) if pd.notna(b)
    }
    lin = tables.lineage
    lin = lin[lin["model"].astype(str).isin(models)]
    base = {str(a): str(b) for a, b in zip(lin["model"], lin["base_model"], strict=True)}
    return {
        "neighbours": [
            {"dataset": str(d), "similarity": float(s)}
            for d, s in zip(neighbours["dataset"], neighbours["similarity"], strict=True)
        ],
        "trained_on": trained,
        "base_model": base,
    }


def _check_arguments(
    target: Any,
    *,
    k: Any,
    recommender: Any,
    rerank: Any,
    rerank_estimator: Any,
    sample: Any,
    seed: Any,
    exclude_target_records: Any,
    name: Any,
    label_column: Any,
    references: Any,
    n_neighbours: Any,
    progress: Any,
    filters: dict[str, Any],
) -> tuple[int | None, dict[str, Any]]:
    """Check every argument of :func:`recommend` before any work; ``(k, filters)``."""
    if target is None:
        raise ArgumentError(
            "target is None; give a dataset id of the graph or new data (an ArrayDataset, "
            "arrays (x, y), a CSV path with label_column=..., or a torch Dataset)."
        )
    if isinstance(target, str):
        check_text(target, "target", fix="give a dataset id of the graph or a CSV path")
    k = check_k(k)
    if recommender is not None and not (
        callable(getattr(recommender, "fit", None)) and callable(getattr(recommender, "rank", None))
    ):
        raise ArgumentError(
            f"recommender must have fit() and rank() (e.g. GNNRecommender()), got "
            f"{type(recommender).__name__!r}; or leave recommender=None."
        )
    rerank = check_int(
        rerank, "rerank", minimum=0, fix="the number of top rows to re-rank; 0 = off"
    )
    check_text(rerank_estimator, "rerank_estimator", fix="pass e.g. rerank_estimator='logme'")
    if rerank:
        from kgtransfer.transfer.scores import get_score

        get_score(rerank_estimator)  # an unknown estimator fails here, before any fit
    check_int(sample, "sample", minimum=1, fix="the number of target examples, e.g. 500")
    check_seed(seed)
    check_bool(exclude_target_records, "exclude_target_records")
    check_text(name, "name", allow_none=True, fix="the new target's id, e.g. name='mine'")
    check_text(label_column, "label_column", allow_none=True, fix="the CSV column of labels")
    if references is not None and not isinstance(references, Mapping):
        raise ArgumentError(
            f"references must be a mapping {{dataset id: ArrayDataset}} or None, got "
            f"{type(references).__name__!r}."
        )
    check_int(n_neighbours, "n_neighbours", minimum=1, fix="pass e.g. n_neighbours=5")
    check_bool(progress, "progress")
    strict = recommender is None or isinstance(recommender, BaseRecommender)
    params = [p for p in _RECOMMEND_PARAMETERS if p != "filters"]
    return k, check_filters(filters, where="recommend()", strict=strict, other_names=params)


def recommend(
    graph: GraphLike | TablesLike,
    target: DataInput,
    k: int | None = 5,
    *,
    recommender: RecommenderLike | None = None,
    rerank: int = 0,
    rerank_estimator: str = "logme",
    sample: int = 500,
    seed: int = 0,
    exclude_target_records: bool = False,
    name: str | None = None,
    label_column: str | None = None,
    data: DataInput | None = None,
    checkpoints: Checkpoints | None = None,
    references: Mapping[str, DatasetLike] | None = None,
    n_neighbours: int = 5,
    progress: bool = False,
    compatible_only: bool = True,
    write: bool = False,
    device: Device = "cpu",
    column_map: Mapping[str, str] | None = None,
    **filters: FilterValue,
) -> Recommendation:
    """Rank source models for a target and say how much transfer is expected to help.

    ``target`` is a dataset id the graph knows, or a NEW dataset (an
    ``ArrayDataset``, arrays ``(x, y)``, a CSV path with ``label_column``, a torch
    dataset, or a registered dataset name the graph lacks). A new dataset is
    fingerprinted and joined to the graph through similarity edges to its
    ``n_neighbours`` nearest known datasets (plus its task/domain/modality); the
    graph itself is not modified. The GNN recommender (fitted here unless a fitted
    one is given; refitted when a new target joins) ranks every candidate. With
    ``rerank=N`` the top N are re-ranked by ``rerank_estimator`` (e.g. LogME) on a
    seeded sample of ``sample`` target examples; only those N are loaded
    (``checkpoints``) and run.

    The expected benefit is the predicted value minus the target's scratch accuracy
    (its measured ``scratch_accuracy`` in the graph, or the similarity-weighted one
    of its neighbours); the negative-transfer risk is P(gain < 0) under a normal
    whose spread combines the recommender's 90 % interval and the scratch
    estimate's uncertainty. ``negative_rate`` adds each source's track record: its
    smoothed share of negative gains on the graph's other targets.

    Every candidate is checked against the target's inputs (the shape of one sample,
    when the target's data is at hand) with the check ``transfer_from`` applies
    (:func:`~kgtransfer._api._compat.input_compatibility`): it **reads** them (its
    input contract in the graph matches), **adapts** (a registry architecture that
    ``transfer_from`` rebuilds for the target's inputs, re-initialising the input
    layer), is **incompatible** (e.g. a 1-D CNN given 13 tabular features), or its
    contract is **unknown** (counted as compatible; its ``why`` says so). By default
    incompatible candidates are left out (listed in ``.incompatible`` with the
    reason); when none is left, ``.best`` says "no compatible source in this zoo".

    Args:
        graph: A ``ZooGraph`` or ``ZooTables``.
        target: See above.
        k: Rows kept (None = all candidates).
        recommender: A (fitted) recommender with ``fit``/``rank``; default a
            ``GNNRecommender(seed=seed)`` fitted here.
        rerank: Re-rank this many top candidates with the estimator (0 = off).
        rerank_estimator: A :func:`kgtransfer.transfer.scores.list_scores` name.
        sample: Target examples used by the estimator.
        seed: Seed of fitting, fingerprints and the estimator's sample.
        exclude_target_records: Fit without the target's own records (an honest
            cold-start ranking of a known target; the records still fill ``actual``).
        name: Id of a new target (default: the file stem / dataset name).
        label_column: Label column of a CSV target.
        data: The target's data for re-ranking when it is not a registered dataset.
        checkpoints: Where candidate weights come from for re-ranking: a folder of
            checkpoint folders (``home/zoo/models``), ``{name: model}`` or a loader.
        references: ``{dataset id: ArrayDataset}`` used to fingerprint known
            datasets when joining a new target (default: registered datasets).
        n_neighbours: Similarity edges of a new target.
        progress: Progress bars on stderr while fitting.
        compatible_only: Leave out candidates that cannot take the target's inputs
            (default); False keeps them, ranked last with ``compatible=False``.
        write: Write the re-ranking estimator's scores back into ``graph`` (a
            writable ``ZooGraph``) as ``scores`` through ``ZooGraph.add_tables``, the
            validated writer (one batch; a new target's dataset row comes with
            them). ``metadata["score_batch"]`` is the batch id. Needs ``rerank``.
        column_map: ``{old: new}`` renames of a CSV target's columns, applied before
            ``label_column`` is looked up (CLI ``--column-map OLD=NEW``).
        device: Where the re-ranking estimator's forward pass runs (``"cpu"``,
            ``"auto"``, ``"cuda"``, ...; see :func:`kgtransfer.models.resolve_device`).
        **filters: Candidate filters of the recommender's ``rank`` (``license=``,
            ``max_params=``, ``task=``, ``modality=``, ``architecture=``, ...).
            ``modality`` defaults to the target's own modality when some candidate
            has it (models of another modality cannot read the target's inputs);
            pass ``modality=None`` to rank every model.

    Returns:
        A :class:`Recommendation` (``.to_frame()``, ``.best``, ``.summary()``).

    Raises:
        ArgumentError: A bad argument (named in the message, with the value and the
            fix): ``k``, an empty target, a filter's name, type or range, ``seed``,
            ... Every argument is checked before any fitting; the graph without
            transfer records is refused when the recommender is fitted.
        UnknownNameError: An unknown target id, candidate or estimator.
        ValueError: Re-ranking without data or checkpoints.
        StoreLockedError: ``write=True`` on a store opened read-only.

    Example:
        >>> import pandas as pd
        >>> from kgtransfer.kg import ZooTables
        >>> from kgtransfer.transfer import PopularityRecommender
        >>> recs = pd.DataFrame({"model": list("abcabcabc"), "dataset": list("xxxyyyzzz"),
        ...                      "value": [0.9, 0.5, 0.7, 0.8, 0.6, 0.7, 0.75, 0.6, 0.7]})
        >>> rec = recommend(ZooTables(records=recs), "z", k=2,
        ...                 recommender=PopularityRecommender(),
        ...                 exclude_target_records=True)
        >>> rec.best, rec.frame[["model", "actual"]].values.tolist()
        ('a', [['a', 0.75], ['c', 0.7]])
    """
    k, filters = _check_arguments(
        target,
        k=k,
        recommender=recommender,
        rerank=rerank,
        rerank_estimator=rerank_estimator,
        sample=sample,
        seed=seed,
        exclude_target_records=exclude_target_records,
        name=name,
        label_column=label_column,
        references=references,
        n_neighbours=n_neighbours,
        progress=progress,
        filters=filters,
    )
    check_bool(compatible_only, "compatible_only")
    check_bool(write, "write")
    if column_map is not None and not isinstance(column_map, Mapping):
        raise ArgumentError(
            f"column_map must be a mapping {{old: new}} of CSV column names, got "
            f"{type(column_map).__name__!r}."
        )
    from kgtransfer.models import resolve_device

    device = resolve_device(device)  # a bad device fails before any fit
    if write and (not rerank or not callable(getattr(graph, "add_tables", None))):
        raise ArgumentError(
            "write=True writes the re-ranking scores back: it needs rerank=N (N > 0) and a "
            f"ZooGraph as graph (got rerank={rerank!r}, graph {type(graph).__name__!r})."
        )
    tables = as_tables(graph, caller="recommend()")
    if recommender is None or isinstance(recommender, BaseRecommender):
        check_has_records(tables)  # before a new target is fingerprinted and joined
    resolved = resolve_target(
        tables,
        target,
        name=name,
        label_column=label_column,
        n_neighbours=n_neighbours,
        references=references,
        seed=seed,
        column_map=column_map,
    )
    tables = resolved.augment(tables)
    exclude = [resolved.name] if exclude_target_records else []
    try:
        fitted, how = _fit_recommender(
            recommender,
            tables,
            exclude=exclude,
            new_target=resolved.kind == "new",
            seed=seed,
            progress=progress,
            target=resolved.name,
        )
    except NotFittedError:  # pragma: no cover - defensive: a recommender that cannot fit
        raise
    notes = list(resolved.notes)
    modality = _target_modality(tables, resolved.name)
    if "modality" not in filters and modality is not None:
        known = tables.models["modality"].astype("object") if "modality" in tables.models else None
        if known is not None and bool((known == modality).any()):
            filters = {**filters, "modality": modality}
        elif known is not None and bool(known.notna().any()):
            notes.append(
                f"no candidate has the target's modality {modality!r}: every model is ranked; "
                "check that the top ones can read the target's inputs"
            )
    ranked = fitted.rank(resolved.name, **filters)
    scratch, scratch_sd, scratch_source = _scratch(tables, resolved)
    ranked = _add_gain(ranked, scratch, scratch_sd, _negative_rates(tables, resolved.name))
    ranked, incompatible = _with_compatibility(
        ranked,
        tables,
        _target_shape(resolved, data),
        modality,
        compatible_only=compatible_only,
        notes=notes,
    )
    if rerank:
        ranked = _rerank(
            ranked,
            n=rerank,
            estimator=rerank_estimator,
            data=data if data is not None else resolved.dataset,
            checkpoints=checkpoints,
            sample=sample,
            seed=seed,
            notes=notes,
            device=device,
        )
    score_batch = _write_scores(graph, ranked, rerank_estimator, resolved) if write else None
    metric = _target_metric(tables, resolved.name)
    if metric is not None:
        low, high = metric_bounds(metric)
        for col in ("predicted", "low", "high"):  # e.g. accuracy lives in [0, 1]
            ranked[col] = ranked[col].clip(low, high)
    truth = _truth(tables, resolved.name)
    ranked = ranked.merge(truth, on="model", how="left")
    if "actual_gain" in ranked and scratch is not None:
        missing = ranked["actual_gain"].isna() & ranked["actual"].notna()
        ranked.loc[missing, "actual_gain"] = ranked.loc[missing, "actual"] - scratch
    extra = [c for c in ranked.columns if c not in RECOMMENDATION_COLUMNS]
    ranked = ranked[[*RECOMMENDATION_COLUMNS, *extra]]
    if k is not None:
        ranked = ranked.head(k)
    ranked = ranked.reset_index(drop=True)
    metadata = {
        "seed": seed,
        "k": k,
        "recommender": repr(fitted),
        "recommender_status": how,
        "excluded_datasets": sorted(getattr(fitted, "excluded_datasets_", [])),
        "rerank": rerank,
        "rerank_estimator": rerank_estimator if rerank else None,
        "sample": sample if rerank else None,
        "filters": {key: v for key, v in filters.items() if v is not None},
        "compatible_only": compatible_only,
        "score_batch": score_batch,
        "versions": versions(),
        "notes": notes,
    }
    metadata["id"] = _recommendation_id(resolved.name, ranked, metadata)
    return Recommendation(
        target=resolved.name,
        kind=resolved.kind,
        frame=ranked,
        scratch=scratch,
        scratch_source=scratch_source,
        neighbours=resolved.neighbours.reset_index(drop=True),
        context=_context(tables, ranked["model"].astype(str).tolist(), resolved.neighbours),
        metadata=metadata,
        incompatible=incompatible,
    )


#: Parameter names of :func:`recommend` (close names are suggested for a mistyped one).
_RECOMMEND_PARAMETERS = tuple(inspect.signature(recommend).parameters)
