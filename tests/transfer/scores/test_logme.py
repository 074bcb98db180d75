import warnings

import numpy as np
import pytest

from kgtransfer.transfer.scores import ScoreInputError, logme_score
from kgtransfer.transfer.scores.logme import _logme_reference


def _evidence_at(f, y, alpha, beta):
    """Textbook log evidence of one target column at given alpha, beta."""
    n, d = f.shape
    a = alpha * np.eye(d) + beta * f.T @ f
    m = beta * np.linalg.solve(a, f.T @ y)
    return 0.5 * (
        n * np.log(beta)
        + d * np.log(alpha)
        - n * np.log(2 * np.pi)
        - beta * np.sum((f @ m - y) ** 2)
        - alpha * m @ m
        - np.linalg.slogdet(a)[1]
    )


def test_hand_case_one_dim():
    # D = 1, two classes, F^T F = 4, F^T y_0 = F^T y_1 = ... computed by hand below
    f = np.array([[1.0], [1.0], [-1.0], [-1.0]])
    labels = np.array([0, 0, 1, 1])
    # class 0: y = (1,1,0,0): F^T y = 2, ||y||^2 = 2, sigma = 4, p = (F^T y)^2/sigma = 1,
    # outside = ||y||^2 - p = 1. Fixed point: gamma = 4b/(a+4b), m = 2b/(a+4b),
    # residual = 1*(a/(a+4b))^2 + 1. Check the fast result against a brute-force
    # maximisation of the evidence over a (alpha, beta) grid; class 1 is symmetric.
    got = logme_score(f, labels)
    grid = np.exp(np.linspace(-6, 6, 601))
    y0 = np.array([1.0, 1.0, 0.0, 0.0])
    best = max(_evidence_at(f, y0, a, b) for a in grid[::10] for b in grid[::10])
    assert got * 4 >= best - 1e-9  # the fixed point is at least as good as the grid
    assert got * 4 == pytest.approx(best, abs=0.05)


@pytest.mark.parametrize(("n", "d"), [(120, 7), (20, 35)])
def test_matches_reference(n, d):
    rng = np.random.default_rng(n)
    y = rng.integers(0, 4, n)
    f = rng.normal(size=(n, d)) + 1.5 * rng.normal(size=(4, d))[y]
    fast, ref = logme_score(f, y), _logme_reference(f, y)
    assert fast == pytest.approx(ref, rel=1e-6)


def test_evidence_is_maximised():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 80)
    f = rng.normal(size=(80, 5)) + y[:, None]
    score = logme_score(f, y)
    # perturbing alpha/beta of the fixed point cannot increase the per-class evidence
    codes = y
    per_class = []
    for k in range(2):
        col = (codes == k).astype(float)
        grid = [
            _evidence_at(f, col, a, b)
            for a in np.exp(np.linspace(-4, 4, 41))
            for b in np.exp(np.linspace(-3, 3, 41))
        ]
        per_class.append(max(grid) / 80)
    assert score >= np.mean(per_class) - 1e-9


def test_float32_precision_close():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    f = rng.normal(size=(300, 20)) + np.eye(3, 20)[y]
    assert logme_score(f, y, precision="float32") == pytest.approx(logme_score(f, y), rel=1e-4)
    with pytest.raises(
        ScoreInputError, match="precision must be 'float64' or 'float32', got 'half'"
    ):
        logme_score(f, y, precision="half")  # type: ignore[arg-type]


def test_degenerate_inputs():
    y = np.array([0, 0, 1, 1, 2])
    f = np.arange(10.0).reshape(5, 2)
    with pytest.warns(UserWarning, match=r"classes \[2\] have a single sample"):
        s = logme_score(f, y)
    assert np.isfinite(s)
    with pytest.raises(ScoreInputError, match=r"features must be 2-D \(N, D\), got shape \(5,\)"):
        logme_score(np.arange(5.0), y)
    f_inf = f.copy()
    f_inf[1, 1] = np.inf
    with pytest.raises(ScoreInputError, match=r"NaN or inf in 1 row"):
        logme_score(f_inf, y)


def test_duplicate_feature_columns_are_fine():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)
    f = rng.normal(size=(50, 3)) + y[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = logme_score(np.hstack([f, f]), y)
    assert np.isfinite(a)
    assert a == pytest.approx(_logme_reference(np.hstack([f, f]), y), rel=1e-6)


def test_interpolating_regime_is_finite():
    # N << D: every label column lies in span(F), beta grows until the residual floor
    rng = np.random.default_rng(10)
    y = np.repeat([0, 1, 2], 4)
    f = rng.normal(size=(12, 200))
    s = logme_score(f, y)
    assert np.isfinite(s)
    assert logme_score(f, y, max_iter=5000) == pytest.approx(s, rel=1e-9)


# ---------------------------------------------------------------- variant="thuml"
def _thuml_recipe(n, d, n_classes, seed, rank):
    """The feature recipe of ../shared/benchmarks/logme/thuml_fixtures.json (draw order matters)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, n)
    w = rng.standard_normal((n_classes, d))
    features = w[labels] * 0.3 + rng.standard_normal((n, d))
    if rank is not None:
        features[:, rank:] = (
            features[:, :rank] @ rng.standard_normal((rank, d - rank)) / np.sqrt(rank)
        )
    return features, labels


# Values returned by LogME(regression=False).fit of thuml/LogME (LogME.py at commit
# 56551ca94a3295bcc37e6a01b1291911af985f07, numba's njit replaced by the identity) on
# the recipe above; re-typed from ../shared/benchmarks/logme/thuml_fixtures.json.
THUML_VALUES = [
    ((150, 1000, 3, 12, None), 26.92301082630379),  # N < D
    ((1500, 64, 5, 14, None), -0.29559737805132136),  # N > D
    ((200, 300, 2, 16, 50), 1.2183487543764042),  # N < D, rank-deficient
    ((60, 20, 3, 17, None), -0.7936086509012074),  # N > D, small
]


@pytest.mark.parametrize(("case", "expected"), THUML_VALUES)
def test_thuml_variant_matches_reference_values(case, expected):
    f, y = _thuml_recipe(*case)
    assert logme_score(f, y, variant="thuml") == pytest.approx(expected, rel=1e-6)


def test_thuml_variant_on_shared_fixtures(shared_benchmarks):
    import json

    path = shared_benchmarks / "logme" / "thuml_fixtures.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    cases = json.loads(path.read_text())["cases"]
    assert len(cases) >= 3
    for c in cases:
        f, y = _thuml_recipe(c["n"], c["d"], c["n_classes"], c["seed"], c["rank"])
        got = logme_score(f, y, variant="thuml")
        assert got == pytest.approx(c["logme_thuml"], rel=1e-6), c


def test_thuml_differs_from_exact_only_when_n_below_d():
    # N > D, full rank: same maximum up to the reference's looser stopping rule
    f, y = _thuml_recipe(1500, 64, 5, 14, None)
    assert logme_score(f, y, variant="thuml") == pytest.approx(logme_score(f, y), rel=1e-6)
    # N < D: the reference drops (D - N) log(alpha) from the log-determinant
    f, y = _thuml_recipe(150, 1000, 3, 12, None)
    thuml, exact = logme_score(f, y, variant="thuml"), logme_score(f, y)
    assert thuml > exact + 1.0


def test_thuml_variant_relabel_invariant_and_validated():
    f, y = _thuml_recipe(60, 20, 3, 17, None)
    names = np.array(["cat", "dog", "emu"])[y]
    assert logme_score(f, names, variant="thuml") == pytest.approx(
        logme_score(f, y, variant="thuml"), rel=1e-12
    )
    with pytest.raises(ScoreInputError, match="variant must be"):
        logme_score(f, y, variant="paper")
