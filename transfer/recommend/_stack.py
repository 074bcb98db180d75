"""Closed-form base scorers and the per-zoo stacking behind :class:`GNNRecommender`.

Each base scorer predicts a model's z on a target from what the graph knows
without the target's records: popularity, similarity-weighted neighbours,
size, lineage-root and model-family popularity, task/domain-weighted
popularity, how close the model's training dataset is to the target, and
estimator scores on the target. :func:`fit_stack` learns non-negative weights
of these (and of the GNN's held-out prediction) from inner held-out datasets,
shrunk towards the best single scorer, so a zoo where lineage decides the
ranking is ranked by lineage and one where similarity does by similarity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["BaseScorers", "StackFit", "conformal_quantile", "fit_stack"]


def _group_mean(pop: np.ndarray, has: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per model, the mean of ``pop`` over the models of its group with records (0 if none)."""
    n = int(groups.max()) + 1 if len(groups) else 0
    total = np.bincount(groups, weights=np.where(has, pop, 0.0), minlength=n)
    count = np.bincount(groups, weights=has.astype(float), minlength=n)
    mean = np.divide(total, count, out=np.zeros(n), where=count > 0)
    out: np.ndarray = mean[groups]
    return out


@dataclass
class BaseScorers:
    """What the closed-form scorers read, as dense arrays over the graph's node indices.

    Attributes:
        z: (M, D) training z per (model, dataset), NaN where unknown.
        sim: (D, D) dataset similarity in [0, 1], diagonal 1 (identity when unknown).
        size: (M,) z-scored log size, NaN when unknown; None when the zoo has no sizes.
        roots: (M,) lineage-root group id; None without shared lineage.
        family: (M,) model-family group id; None without shared families.
        task: (D,) task id (-1 unknown); None without tasks.
        domain: (D,) domain id (-1 unknown); None without domains.
        trained: (M,) index of the model's training dataset, -1 when unknown.
        scores: estimator name -> (M, D) score z within each dataset, NaN missing.
        power: Exponent of the similarities in the neighbour scorer.
        shrinkage: Weight of popularity in the neighbour scorer.
    """

    z: np.ndarray
    sim: np.ndarray
    size: np.ndarray | None = None
    roots: np.ndarray | None = None
    family: np.ndarray | None = None
    task: np.ndarray | None = None
    domain: np.ndarray | None = None
    trained: np.ndarray | None = None
    scores: dict[str, np.ndarray] = field(default_factory=dict)
    power: float = 4.0
    shrinkage: float = 0.5

    def __post_init__(self) -> None:
        off = self.sim - np.diag(np.diag(self.sim))
        self.has_sim = bool((off > 0).any())
        self._sim_off = off

    @property
    def names(self) -> list[str]:
        """The scorers this zoo has the inputs of, in feature-column order."""
        out = ["popularity"]
        if self.has_sim:
            out.append("similarity")
        if self.size is not None:
            out.append("size")
        if self.roots is not None:
            out.append("lineage")
        if self.family is not None:
            out.append("family")
        if self.task is not None or self.domain is not None:
            out.append("task_domain")
        if self.trained is not None and (self.trained >= 0).any():
            out.append("trained_on")
        out += [f"score:{e}" for e in sorted(self.scores)]
        return out

    def predict(self, target: int, hidden: np.ndarray, models: np.ndarray) -> np.ndarray:
        """(len(models), len(names)) predicted z of ``models`` on dataset ``target``.

        Args:
            target: Dataset index (-1 = a dataset the graph does not know).
            hidden: Dataset indices whose records are not used (the target and any fold).
            models: Model indices.
        """
        z = self.z.copy()
        if len(hidden):
            z[:, hidden] = np.nan
        has = np.isfinite(z)
        z0 = np.where(has, z, 0.0)
        n_rec = has.sum(1)
        any_rec = n_rec > 0
        pop_all = z0.sum(1) / np.maximum(n_rec, 1)
        cols = [pop_all[models]]
        if self.has_sim:
            if target >= 0:
                w = np.clip(self._sim_off[target], 0, None) ** self.power
                num = z0 @ w + self.shrinkage * pop_all
                den = has.astype(float) @ w + self.shrinkage
                cols.append((num / den)[models])
            else:
                cols.append(pop_all[models])
        if self.size is not None:
            s = self.size
            cols.append(np.where(np.isfinite(s), s, np.nanmin(s))[models])
        for groups in (self.roots, self.family):
            if groups is not None:
                cols.append(_group_mean(pop_all, any_rec, groups)[models])
        if self.task is not None or self.domain is not None:
            w = np.ones(z.shape[1])
            for attr in (self.task, self.domain):
                if attr is not None and target >= 0 and attr[target] >= 0:
                    w += (attr == attr[target]).astype(float)
            num = z0 @ w
            den = has.astype(float) @ w
            cols.append(np.divide(num, den, out=np.zeros(len(num)), where=den > 0)[models])
        if self.trained is not None and (self.trained >= 0).any():
            tr = self.trained
            if target >= 0:
                near = np.where(tr >= 0, self.sim[target][np.clip(tr, 0, None)], 0.0)
            else:
                near = np.zeros(len(tr))
            universe = any_rec if any_rec.any() else np.ones(len(tr), dtype=bool)
            cols.append(near[models] - near[universe].mean())
        for est in sorted(self.scores):
            mat = self.scores[est]
            v = mat[models, target] if target >= 0 else np.full(len(models), np.nan)
            cols.append(np.where(np.isfinite(v), v, 0.0))
        return np.stack(cols, axis=1)


@dataclass
class StackFit:
    """Learned stacking weights and the held-out diagnostics they came from."""

    names: list[str]
    weights: np.ndarray
    best: str
    inner_loss: dict[str, float]


def _target_weights(y: np.ndarray, top_weight: float) -> np.ndarray:
    a = 1.0 + top_weight * np.clip(y, 0, None)
    out: np.ndarray = a / a.sum()
    return out


def fit_stack(
    blocks: list[tuple[np.ndarray, np.ndarray]],
    names: list[str],
    *,
    shrinkage: float = 1.0,
    top_weight: float = 1.0,
    objective: str = "squared",
    temperature: float = 1.0,
) -> StackFit:
    """Non-negative weights of the base scorers from held-out (features, true z) blocks.

    Each block is one inner held-out dataset: ``X`` (n, K) the scorers' predictions
    made without its records and ``y`` (n,) its true z. Features and truth are centred
    per block (only the order within a target matters), pairs weighted
    ``1 + top_weight * max(y, 0)`` and each block's weights summing to 1 (every target
    counts the same). The weights minimise the weighted squared error plus
    ``shrinkage * ||w - w_best||^2``, where ``w_best`` is the best single scorer at
    its least-squares scale: with few held-out datasets the stack stays close to the
    best single scorer, with many it follows the data.

    Args:
        blocks: ``(X, y)`` per inner held-out dataset.
        names: Scorer names (columns of ``X``).
        shrinkage: Strength of the pull towards the best single scorer (0 = none).
        top_weight: Extra weight of the models above the target's mean.
        objective: ``"squared"`` (the weighted squared error above) or ``"listnet"``
            (per block the cross-entropy between the softmax of the true and of the
            stacked z at ``temperature``, which puts the weight on the top of each
            ranking; started from the squared solution).
        temperature: Softmax temperature of ``"listnet"``, in z units.

    Returns:
        A :class:`StackFit`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> blocks = []
        >>> for _ in range(10):
        ...     good = rng.normal(size=20)
        ...     X = np.stack([good + 0.1 * rng.normal(size=20), rng.normal(size=20)], 1)
        ...     blocks.append((X, good))
        >>> fit = fit_stack(blocks, ["lineage", "noise"])
        >>> fit.best, bool(fit.weights[0] > 0.8 and fit.weights[1] < 0.1)
        ('lineage', True)
    """
    from scipy.optimize import nnls

    k = len(names)
    rows, target = [], []
    for X, y in blocks:
        if len(y) < 2:
            continue
        a = np.sqrt(_target_weights(y - y.mean(), top_weight))
        Xc = X - X.mean(0)
        yc = y - y.mean()
        rows.append(a[:, None] * Xc)
        target.append(a * yc)
    if not rows:
        w = np.zeros(k)
        w[0] = 1.0
        return StackFit(list(names), w, names[0], {})
    A = np.concatenate(rows)
    b = np.concatenate(target)
    loss = {}
    scale = np.zeros(k)
    for j in range(k):
        col = A[:, j]
        denom = float(col @ col)
        scale[j] = max(float(col @ b) / denom, 0.0) if denom > 1e-12 else 0.0
        loss[names[j]] = float(((b - scale[j] * col) ** 2).sum()) / len(rows)
    best = int(np.argmin([loss[n] for n in names]))
    w0 = np.zeros(k)
    w0[best] = scale[best] if scale[best] > 0 else 1.0
    lam = np.sqrt(shrinkage) * np.eye(k)
    w, _ = nnls(np.vstack([A, lam]), np.concatenate([b, lam @ w0]))
    if not np.any(w > 0):
        w = w0
    if objective == "listnet":
        w = _listnet(blocks, w, w0, shrinkage, temperature)
    return StackFit(list(names), w, names[best], loss)


def _listnet(
    blocks: list[tuple[np.ndarray, np.ndarray]],
    start: np.ndarray,
    w0: np.ndarray,
    shrinkage: float,
    tau: float,
) -> np.ndarray:
    """Non-negative weights minimising the summed ListNet cross-entropy + shrinkage."""
    from scipy.optimize import minimize
    from scipy.special import log_softmax, softmax

    data = [(X, softmax(y / tau)) for X, y in blocks if len(y) >= 2]

    def f(w: np.ndarray) -> tuple[float, np.ndarray]:
        loss = shrinkage * float((w - w0) @ (w - w0))
        grad = 2 * shrinkage * (w - w0)
        for X, p in data:
            s = X @ w / tau
            loss -= float(p @ log_softmax(s))
            grad += X.T @ (softmax(s) - p) / tau
        return loss, grad

    res = minimize(f, start, jac=True, method="L-BFGS-B", bounds=[(0, None)] * len(start))
    w = np.asarray(res.x, dtype=float)
    return w if np.isfinite(w).all() and np.any(w > 0) else start


def conformal_quantile(scores: np.ndarray, level: float = 0.9) -> float:
    """Split-conformal quantile: the ceil((n + 1) level)-th smallest of ``scores``.

    Example:
        >>> conformal_quantile(np.arange(1, 11, dtype=float))
        10.0
    """
    s = np.sort(np.asarray(scores, dtype=float)[np.isfinite(scores)])
    if not len(s):
        return 1.0
    k = int(np.ceil((len(s) + 1) * level)) - 1
    return float(s[min(max(k, 0), len(s) - 1)])
