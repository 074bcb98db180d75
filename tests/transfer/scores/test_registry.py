import numpy as np
import pytest
import torch

from kgtransfer.errors import UnknownNameError
from kgtransfer.transfer.scores import (
    get_score,
    list_scores,
    logme_score,
    register_score,
    score_input,
)

ALL = list_scores()


def test_list_and_pattern():
    assert ALL == ["hscore", "knn", "leep", "linear_probe", "logme", "nce", "shrinkage_hscore"]
    assert list_scores("*hscore") == ["hscore", "shrinkage_hscore"]
    assert get_score("logme") is logme_score


def test_unknown_name_suggests():
    with pytest.raises(UnknownNameError, match=r"Unknown score 'logm'. Did you mean 'logme'\?"):
        get_score("logm")
    with pytest.raises(KeyError, match="list_scores"):
        score_input("nope")


def test_duplicate_registration_refused():
    with pytest.raises(ValueError, match="'logme' is already registered"):
        register_score("logme")(lambda f, y: 0.0)


def _inputs(name, rng, good):
    n, c = 60, 3
    y = np.repeat(np.arange(c), n // c)
    kind = score_input(name)
    if kind == "features":
        x = rng.normal(size=(n, 4))
        if good:
            x[:, :c] += 4 * np.eye(c)[y]
    else:
        logits = rng.normal(size=(n, 5))
        if good:
            logits[:, :c] += 6 * np.eye(c)[y]
        x = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return x, y


@pytest.mark.parametrize("name", ALL)
def test_conformance(name):
    rng = np.random.default_rng(0)
    fn = get_score(name)
    x, y = _inputs(name, rng, good=True)
    s = fn(x, y)
    assert type(s) is float and np.isfinite(s)
    # relabelling: permute class ids and rename them to strings
    names = np.array(["zebra", "apple", "mango"])
    perm = np.array([2, 0, 1])
    assert fn(x, names[perm[y]]) == pytest.approx(s, rel=1e-9, abs=1e-12)
    # torch input gives the same value
    assert fn(torch.from_numpy(x), torch.from_numpy(y)) == pytest.approx(s, rel=1e-9, abs=1e-12)
    # pure: same inputs, same value; inputs untouched
    x0 = x.copy()
    assert fn(x, y) == s and np.array_equal(x, x0)
    # ranking: class structure beats noise
    xb, _ = _inputs(name, np.random.default_rng(1), good=False)
    assert s > fn(xb, y)


@pytest.mark.parametrize("name", ALL)
def test_conformance_errors(name):
    fn = get_score(name)
    x, y = _inputs(name, np.random.default_rng(0), good=True)
    with pytest.raises(ValueError, match="single class"):
        fn(x, np.zeros(len(y)))
    with pytest.raises(ValueError, match="labels has 59 entries"):
        fn(x, y[:-1])
    with pytest.raises(ValueError, match="labels must be 1-D"):
        fn(x, np.eye(3)[y])
    bad = x.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fn(bad, y)
