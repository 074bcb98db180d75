import numpy as np
import pytest

from kgtransfer.transfer.scores import hscore, shrinkage_hscore


@pytest.mark.filterwarnings("ignore:classes .* have a single sample:UserWarning")
def test_hscore_hand_case():
    # 1-D feature: 0, 2 for class a; 4 for class b (N = 3)
    f = np.array([[0.0], [2.0], [4.0]])
    y = ["a", "a", "b"]
    # mean 2; cov = (4 + 0 + 4)/3 = 8/3 ; class means 1, 1, 4 -> centred -1, -1, 2
    # between = (1 + 1 + 4)/3 = 2 ; H = 2 / (8/3) = 0.75
    assert hscore(f, y) == pytest.approx(0.75, rel=1e-12)


@pytest.mark.filterwarnings("ignore:classes .* have a single sample:UserWarning")
def test_hscore_rank_deficient_uses_pseudo_inverse():
    f = np.array([[0.0, 0.0], [2.0, 2.0], [4.0, 4.0]])  # duplicated column
    assert hscore(f, ["a", "a", "b"]) == pytest.approx(0.75, rel=1e-9)


def test_shrinkage_hscore_hand_case():
    # 1-D: Ledoit-Wolf shrinks towards tr(cov)/D * I = cov itself, so any lambda gives
    # tr(cov^-1 (1 - lambda) between) = (1 - lambda) * H.
    from sklearn.covariance import ledoit_wolf_shrinkage

    f = np.array([[0.0], [2.0], [4.0], [5.0]])
    y = [0, 0, 1, 1]
    lam = ledoit_wolf_shrinkage(f - f.mean(0), assume_centered=True)
    assert shrinkage_hscore(f, y) == pytest.approx((1 - lam) * hscore(f, y), rel=1e-12)


def test_shrinkage_hscore_stable_when_d_exceeds_n():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 10)
    good = rng.normal(size=(20, 50)) + 3 * y[:, None]
    noise = rng.normal(size=(20, 50))
    # plain H-score saturates (pinv of a rank-19 covariance fits anything); shrinkage separates
    assert hscore(noise, y) == pytest.approx(hscore(good, y), rel=1e-6)
    assert shrinkage_hscore(good, y) > 2 * shrinkage_hscore(noise, y)


def test_constant_features():
    assert shrinkage_hscore(np.ones((4, 2)), [0, 0, 1, 1]) == 0.0
    assert hscore(np.ones((4, 2)), [0, 0, 1, 1]) == 0.0
