import numpy as np
import pytest

from kgtransfer.transfer.scores import ScoreInputError, leep_score, nce_score


@pytest.mark.filterwarnings("ignore:classes .* have a single sample:UserWarning")
def test_leep_hand_case():
    # theta rows; target labels a, a, b
    probs = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    labels = ["a", "a", "b"]
    # joint P(y,z) = [[1.5, 0.5], [0, 1]] / 3 ; P(z) = [0.5, 0.5]
    # P(a|z0)=1, P(a|z1)=1/3, P(b|z0)=0, P(b|z1)=2/3
    # EEP: x1 -> 1 ; x2 -> 0.5 + 0.5/3 = 2/3 ; x3 -> 2/3
    expected = (np.log(1.0) + 2 * np.log(2 / 3)) / 3
    assert leep_score(probs, labels) == pytest.approx(expected, rel=1e-12)


@pytest.mark.filterwarnings("ignore:classes .* have a single sample:UserWarning")
def test_leep_perfect_is_zero_and_source_columns_permute():
    probs = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    assert leep_score(probs, [7, 7, 3]) == pytest.approx(0.0, abs=1e-12)
    assert leep_score(probs[:, ::-1], [7, 7, 3]) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.filterwarnings("ignore:classes .* have a single sample:UserWarning")
def test_leep_rejects_non_probabilities():
    with pytest.raises(ScoreInputError, match="row 1 sums to 3; apply softmax"):
        leep_score(np.array([[1.0, 0.0], [1.0, 2.0]]), [0, 1])
    with pytest.raises(ScoreInputError, match="non-negative, got a minimum of -1"):
        leep_score(np.array([[2.0, -1.0], [0.0, 1.0]]), [0, 1])


def test_nce_hand_case():
    z = ["cat", "cat", "cat", "dog"]
    y = [1, 1, 2, 2]
    # P(z=cat)=3/4 with Y|cat = (2/3, 1/3); dog -> Y=2 surely
    expected = 0.75 * (2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3))
    assert nce_score(z, y) == pytest.approx(expected, rel=1e-12)
    assert nce_score(["d", "d", "c", "c"], [0, 0, 1, 1]) == pytest.approx(0.0, abs=1e-15)


def test_nce_accepts_probs_and_checks_shapes():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.1, 0.9]])
    assert nce_score(probs, ["a", "a", "b", "b"]) == pytest.approx(0.0, abs=1e-15)
    assert nce_score(probs, ["a", "b", "a", "b"]) == pytest.approx(-np.log(2))
    with pytest.raises(
        ScoreInputError, match=r"\(N,\) labels or \(N, C_s\) probabilities, got shape \(2, 2, 1\)"
    ):
        nce_score(np.zeros((2, 2, 1)), [0, 1])
    with pytest.raises(ScoreInputError, match="labels has 3 entries"):
        nce_score([0, 1], [0, 1, 1])
