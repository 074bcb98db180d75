"""Benchmark the built-in zoo: build + grid wall time, estimators vs the grid, gain over scratch.

Builds the zoo from scratch in a fresh home (unless ``--home`` points at one), runs the
transfer grid, then scores every source on every target's few-shot training split with
each content-based estimator (LogME, LEEP, ...: features/probabilities of the source
model before fine-tuning) and compares each estimator's ranking with the grid's ground
truth (scipy's weighted Kendall tau per target). Prints one JSON document.

Usage::

    .venv/bin/python benchmarks/bench_zoo.py                 # default zoo, fresh temp home
    .venv/bin/python benchmarks/bench_zoo.py --spec tiny     # seconds
    .venv/bin/python benchmarks/bench_zoo.py --home /tmp/kgt # reuse a built zoo
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.stats import weightedtau

from kgtransfer.models import extract_features, predict_proba
from kgtransfer.transfer.scores import get_score, list_scores, score_input
from kgtransfer.zoo import build_zoo, get_zoo_spec, load_target, load_zoo_model, run_grid


def _scores_for_pair(
    model: Any, x: np.ndarray, y: np.ndarray, estimators: list[str]
) -> dict[str, tuple[float, float]]:
    """``{estimator: (value, seconds)}``; features and probabilities computed once."""
    t0 = time.perf_counter()
    features = extract_features(model, x)
    probs = predict_proba(model, x)
    shared = (time.perf_counter() - t0) / max(len(estimators), 1)
    inputs = {"features": features, "probs": probs, "source_labels": probs.argmax(1)}
    out = {}
    for name in estimators:
        t1 = time.perf_counter()
        value = float(get_score(name)(inputs[score_input(name)], y))
        out[name] = (value, time.perf_counter() - t1 + shared)
    return out


def _fits(model: Any, x: np.ndarray) -> bool:
    """Whether the source model takes the target's inputs as they are."""
    try:
        with torch.no_grad():
            model.eval()
            model(torch.as_tensor(x[:2], dtype=torch.float32))
    except (RuntimeError, ValueError):
        return False
    return True


def estimator_scores(home: Path, spec: Any, seed: int, estimators: list[str]) -> pd.DataFrame:
    """Each estimator on each (source, target) pair whose input shapes fit."""
    rows = []
    models = {s.name: load_zoo_model(home, s.name) for s in spec.sources}
    for tgt in spec.targets:
        train, _ = load_target(spec, tgt.name, seed)
        for name, model in models.items():
            if not _fits(model, train.x):
                continue
            for est, (value, seconds) in _scores_for_pair(
                model, train.x, train.y, estimators
            ).items():
                rows.append(
                    {
                        "model": name,
                        "dataset": tgt.name,
                        "estimator": est,
                        "value": value,
                        "seconds": seconds,
                    }
                )
    return pd.DataFrame(rows)


#: Fewest sources an estimator must score on a target for its weighted tau to be reported.
MIN_SOURCES_FOR_TAU = 5


def _wtau(a: pd.Series, b: pd.Series) -> float | None:
    if len(a) < MIN_SOURCES_FOR_TAU or a.nunique() < 2 or b.nunique() < 2:
        return None
    tau = float(weightedtau(a.to_numpy(float), b.to_numpy(float)).statistic)
    return None if math.isnan(tau) else round(tau, 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="default")
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--estimators", default="all", help="comma list or 'all'")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    spec = get_zoo_spec(args.spec)
    home = args.home or Path(tempfile.mkdtemp(prefix="kgtransfer-bench-zoo-"))

    t0 = time.perf_counter()
    build = build_zoo(home, spec=spec, seed=args.seed, progress=args.progress)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    grid = run_grid(home, spec=spec, seed=args.seed, progress=args.progress)
    t_grid = time.perf_counter() - t0

    estimators = list_scores() if args.estimators == "all" else args.estimators.split(",")
    t0 = time.perf_counter()
    scores = estimator_scores(home, spec, args.seed, estimators)
    t_scores = time.perf_counter() - t0

    ok = grid[(grid["status"] == "ok") & (grid["method"] != "scratch")]
    per_target: dict[str, Any] = {}
    taus: dict[str, list[float]] = {e: [] for e in estimators}
    for target, rows in ok.groupby("target", sort=False):
        best = rows.loc[rows["accuracy"].idxmax()]
        truth = rows.set_index("source")["accuracy"]
        entry: dict[str, Any] = {
            "n_sources": len(rows),
            "scratch_best": round(
                float(
                    grid[(grid["target"] == target) & (grid["method"] == "scratch")][
                        "accuracy"
                    ].max()
                ),
                4,
            ),
            "best_source": best["source"],
            "best_accuracy": round(float(best["accuracy"]), 4),
            "best_gain": round(float(best["gain"]), 4),
            "mean_gain": round(float(rows["gain"].mean()), 4),
            "frac_negative_transfer": round(float(rows["negative_transfer"].mean()), 4),
            "n_sources_scored": 0,
            "weighted_tau": {},
        }
        for est in estimators:
            sub = scores[(scores["dataset"] == target) & (scores["estimator"] == est)]
            s = sub.set_index("model")["value"]
            common = s.index.intersection(truth.index)
            entry["n_sources_scored"] = max(entry["n_sources_scored"], len(common))
            tau = _wtau(s[common], truth[common])
            entry["weighted_tau"][est] = tau
            if tau is not None:
                taus[est].append(tau)
        per_target[str(target)] = entry

    out = {
        "spec": spec.name,
        "seed": args.seed,
        "threads": args.threads,
        "cpu_count": os.cpu_count(),
        "n_models": len(spec.sources),
        "n_targets": len(spec.targets),
        "n_grid_runs": len(grid),
        "n_transfers_ok": len(ok),
        "n_skipped": int((grid["status"] == "skipped").sum()),
        "build_seconds": round(t_build, 1),
        "build_models_built": build.n_built,
        "grid_seconds": round(t_grid, 1),
        "build_plus_grid_seconds": round(t_build + t_grid, 1),
        "estimator_seconds": round(t_scores, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "mean_weighted_tau": {
            e: (round(float(np.mean(v)), 4) if v else None) for e, v in taus.items()
        },
        "mean_best_gain": round(float(np.mean([t["best_gain"] for t in per_target.values()])), 4),
        "per_target": per_target,
        "home": str(home),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
