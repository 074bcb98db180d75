from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from kgtransfer.transfer.recommend import (
    interval_coverage,
    pearson_r,
    ranking_metrics,
    top1_regret,
    top1_relative,
    weighted_tau,
)


def test_top1_hand_computed() -> None:
    true = np.array([0.8, 0.9, 0.6])
    pred = np.array([3.0, 2.0, 1.0])  # picks the 0.8 model
    assert top1_relative(true, pred) == pytest.approx(0.8 / 0.9)
    assert top1_regret(true, pred) == pytest.approx(0.1)


def test_top1_lower_is_better() -> None:
    err = np.array([0.2, 0.1, 0.4])
    pred = np.array([0.25, 0.3, 0.05])  # lowest predicted error: the 0.4 model
    assert top1_relative(err, pred, higher_is_better=False) == pytest.approx(0.1 / 0.4)
    assert top1_regret(err, pred, higher_is_better=False) == pytest.approx(0.3)


def test_weighted_tau_matches_scipy_defaults() -> None:
    rng = np.random.default_rng(0)
    t, p = rng.normal(size=20), rng.normal(size=20)
    assert weighted_tau(t, p) == pytest.approx(stats.weightedtau(t, p).statistic)
    assert weighted_tau(t, p, higher_is_better=False) == pytest.approx(
        stats.weightedtau(-t, -p).statistic
    )


def test_pearson_and_constant() -> None:
    assert pearson_r(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0])) == pytest.approx(1.0)
    assert math.isnan(pearson_r(np.array([1.0, 2.0]), np.array([5.0, 5.0])))


def test_coverage_and_bundle() -> None:
    assert (
        interval_coverage(np.array([1.0, 2.0]), np.array([0.0, 2.5]), np.array([1.5, 3.0])) == 0.5
    )
    m = ranking_metrics(
        np.array([0.8, 0.9, 0.6]), np.array([0.7, 0.95, 0.5]), low=np.zeros(3), high=np.ones(3)
    )
    assert m["top1_relative"] == 1.0 and m["weighted_tau"] == 1.0 and m["coverage"] == 1.0


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="equal length"):
        pearson_r(np.array([1.0, 2.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="finite"):
        weighted_tau(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
