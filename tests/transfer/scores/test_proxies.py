import numpy as np
import pytest

from kgtransfer.transfer.scores import ScoreInputError, knn_score, linear_probe_score


def test_knn_hand_case():
    # 1-NN with 2 stratified folds: each held-out point's nearest neighbour is its
    # class mate except for the point at 2.6 whose nearest training point is 3.0 (class b)
    f = np.array([[0.0], [1.0], [2.6], [3.0], [3.1], [9.0]])
    y = ["a", "a", "a", "b", "b", "b"]
    s = knn_score(f, y, cv=3, n_neighbors=1, seed=0)
    assert 0.0 <= s <= 1.0
    sep = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    assert knn_score(sep, y, cv=3, n_neighbors=1) == 1.0
    # a point that coincides with the other class: accuracy drops by exactly one sample
    mixed = np.array([[0.0], [0.1], [5.0], [5.0], [5.1], [5.2]])
    assert knn_score(mixed, y, cv=3, n_neighbors=1, seed=0) < 1.0


def test_seeded_folds_are_reproducible():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 10)
    f = rng.normal(size=(30, 3)) + y[:, None]
    assert knn_score(f, y, seed=3) == knn_score(f, y, seed=3)
    assert linear_probe_score(f, y, seed=3, cv=3) == linear_probe_score(f, y, seed=3, cv=3)


def test_folds_reduced_with_warning():
    f = np.array([[0.0], [0.1], [0.2], [5.0], [5.1]])
    with pytest.warns(UserWarning, match="smallest class has 2 sample"):
        assert linear_probe_score(f, ["a", "a", "a", "b", "b"], cv=5) == 1.0


def test_bad_parameters():
    f = np.zeros((4, 1))
    with pytest.raises(ScoreInputError, match="cv must be an integer >= 2, got 1"):
        knn_score(f, [0, 0, 1, 1], cv=1)
    with pytest.raises(ScoreInputError, match="n_neighbors must be >= 1, got 0"):
        knn_score(f, [0, 0, 1, 1], n_neighbors=0)
