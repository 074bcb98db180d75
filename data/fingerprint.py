"""Dataset fingerprints and dataset-to-dataset similarity (the graph's similarity edges)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch

from kgtransfer._schema import COLUMNS
from kgtransfer.data.dataset import ArrayDataset

__all__ = [
    "DatasetFingerprint",
    "dataset_metadata_table",
    "dataset_similarity",
    "fingerprint",
    "similarity_table",
]

_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
_METHODS = ("stats", "embedding")
#: Distance added when two datasets' inputs have different shapes (profiles incomparable).
_SHAPE_MISMATCH = 1.0


@dataclass
class DatasetFingerprint:
    """A compact description of a dataset, comparable across datasets.

    Attributes:
        name, modality, task, domain: Copied from the dataset.
        input_shape: Shape of one input.
        n_samples: Samples described (all of them, not only the ``n_max`` subsample).
        n_classes: Number of classes.
        class_counts: Samples per class, shape (n_classes,).
        balance_entropy: Entropy of the class distribution divided by log(n_classes), in [0, 1].
        value_stats: mean, std, quantiles 5/25/50/75/95 % of all input values, shape (7,).
        feature_mean: Mean input per feature (flattened), shape (prod(input_shape),).
        feature_std: Std of the input per feature, same shape.
        embedding_mean: Mean feature vector under the reference model, shape (D,), or None.
        class_embeddings: Per-class mean feature vectors, shape (n_classes, D), or None
            (rows of absent classes are NaN).
        metadata: ``n_used``, ``seed`` and the reference model's class name.
    """

    name: str
    modality: str
    task: str
    domain: str
    input_shape: tuple[int, ...]
    n_samples: int
    n_classes: int
    class_counts: np.ndarray
    balance_entropy: float
    value_stats: np.ndarray
    feature_mean: np.ndarray
    feature_std: np.ndarray
    embedding_mean: np.ndarray | None = None
    class_embeddings: np.ndarray | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def stats_vector(self) -> np.ndarray:
        """Global statistics compared by the ``stats`` method: value stats, log #classes, balance."""
        return np.concatenate(
            [self.value_stats, [np.log(max(self.n_classes, 1)), self.balance_entropy]]
        ).astype(np.float64)


def _embed(model: Any, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    if not hasattr(model, "forward_features"):
        raise TypeError(
            f"reference_model must have forward_features (a ZooModel), got {type(model).__name__}."
        )
    was_training = bool(getattr(model, "training", False))
    if hasattr(model, "eval"):
        model.eval()
    chunks = []
    try:
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                out = model.forward_features(torch.as_tensor(x[i : i + batch_size]))
                chunks.append(torch.flatten(out, 1).double().cpu().numpy())
    finally:
        if was_training:
            model.train()
    return np.concatenate(chunks)


def fingerprint(
    ds: ArrayDataset, *, reference_model: Any = None, n_max: int = 2000, seed: int = 0
) -> DatasetFingerprint:
    """Describe ``ds`` by its size, classes, input statistics and optionally an embedding.

    At most ``n_max`` samples (a seeded subsample) enter the input statistics and the
    embedding; sizes and class counts always use all samples.

    Args:
        ds: The dataset.
        reference_model: Optional model with ``forward_features`` (a ZooModel); then the
            fingerprint holds the mean feature vector and per-class mean features.
        n_max: Most samples used for statistics and embedding.
        seed: Seed of the subsample.

    Returns:
        A :class:`DatasetFingerprint`.

    Raises:
        ValueError: ``ds`` is empty or ``n_max`` < 1.

    Example:
        >>> from kgtransfer.data import load_dataset
        >>> fp = fingerprint(load_dataset("digits"), seed=0)
        >>> fp.n_classes, fp.value_stats.shape
        (10, (7,))
    """
    if len(ds) == 0:
        raise ValueError(f"Dataset {ds.name!r} is empty: nothing to fingerprint.")
    if n_max < 1:
        raise ValueError(f"n_max must be >= 1, got {n_max!r}.")
    idx = np.arange(len(ds))
    if len(ds) > n_max:
        idx = np.sort(np.random.default_rng(seed).choice(len(ds), n_max, replace=False))
    x, y = ds.x[idx], ds.y[idx]
    flat = x.reshape(len(x), -1).astype(np.float64)
    counts = ds.class_counts()
    p = counts[counts > 0] / counts.sum()
    entropy = float(-(p * np.log(p)).sum() / np.log(ds.n_classes)) if ds.n_classes > 1 else 1.0
    values = flat.ravel()
    stats = np.concatenate([[values.mean(), values.std()], np.quantile(values, _QUANTILES)])
    emb_mean = class_emb = None
    if reference_model is not None:
        feats = _embed(reference_model, x)
        emb_mean = feats.mean(axis=0)
        class_emb = np.full((ds.n_classes, feats.shape[1]), np.nan)
        for c in np.unique(y):
            class_emb[c] = feats[y == c].mean(axis=0)
    return DatasetFingerprint(
        name=ds.name,
        modality=ds.modality,
        task=ds.task,
        domain=ds.domain,
        input_shape=ds.input_shape,
        n_samples=len(ds),
        n_classes=ds.n_classes,
        class_counts=counts,
        balance_entropy=entropy,
        value_stats=stats,
        feature_mean=flat.mean(axis=0),
        feature_std=flat.std(axis=0),
        embedding_mean=emb_mean,
        class_embeddings=class_emb,
        metadata={
            "n_used": len(idx),
            "seed": seed,
            "reference_model": None if reference_model is None else type(reference_model).__name__,
        },
    )


def _stats_distance(a: DatasetFingerprint, b: DatasetFingerprint) -> float:
    glob = float(np.sqrt(np.mean((a.stats_vector() - b.stats_vector()) ** 2)))
    if a.input_shape != b.input_shape:
        prof = _SHAPE_MISMATCH
    else:
        prof = float(
            np.sqrt(
                np.mean((a.feature_mean - b.feature_mean) ** 2)
                + np.mean((a.feature_std - b.feature_std) ** 2)
            )
        )
    return float(np.hypot(glob, prof))


def _embedding_distance(a: DatasetFingerprint, b: DatasetFingerprint) -> float:
    for fp in (a, b):
        if fp.embedding_mean is None:
            raise ValueError(
                f"Fingerprint of {fp.name!r} has no embedding; compute it with "
                "fingerprint(ds, reference_model=model) or use method='stats'."
            )
    ea, eb = np.asarray(a.embedding_mean), np.asarray(b.embedding_mean)
    if ea.shape != eb.shape:
        raise ValueError(
            f"Embeddings of {a.name!r} {ea.shape} and {b.name!r} {eb.shape} differ in width; "
            "fingerprint both datasets with the same reference_model."
        )
    denom = float(np.linalg.norm(ea) * np.linalg.norm(eb))
    cos = float(ea @ eb / denom) if denom > 0 else (1.0 if np.allclose(ea, eb) else 0.0)
    return 1.0 - float(np.clip(cos, -1.0, 1.0))


def _distance_and_similarity(
    a: DatasetFingerprint, b: DatasetFingerprint, method: str
) -> tuple[float, float]:
    if method == "stats":
        d = _stats_distance(a, b)
        return d, float(np.exp(-d))
    if method == "embedding":
        d = _embedding_distance(a, b)  # 1 - cosine, in [0, 2]
        return d, 1.0 - d / 2.0
    raise ValueError(f"Unknown similarity method {method!r}; use one of {_METHODS}.")


def dataset_similarity(
    fp_a: DatasetFingerprint,
    fp_b: DatasetFingerprint,
    *,
    method: Literal["embedding", "stats"] = "stats",
) -> float:
    r"""How close two datasets are, in [0, 1] (1 = indistinguishable by this method).

    - ``stats``: :math:`\exp(-d)`, where :math:`d` combines the RMS difference of the
      global statistics (value mean/std/quantiles, log #classes, class balance) and the
      RMS difference of the per-feature mean and std profiles (a fixed penalty of 1
      when input shapes differ).
    - ``embedding``: :math:`(1 + \cos(\bar e_a, \bar e_b)) / 2` of the mean features under
      the same reference model.

    Raises:
        ValueError: unknown ``method``, or missing/mismatched embeddings.

    Example:
        >>> from kgtransfer.data import load_dataset
        >>> fp = fingerprint(load_dataset("iris"))
        >>> dataset_similarity(fp, fp)
        1.0
    """
    return _distance_and_similarity(fp_a, fp_b, method)[1]


def similarity_table(
    fingerprints: Mapping[str, DatasetFingerprint] | Sequence[DatasetFingerprint],
    *,
    method: Literal["embedding", "stats"] = "stats",
    k: int | None = None,
) -> pd.DataFrame:
    """Pairwise similarities as the graph's ``similarities`` table.

    One row per unordered pair ``(dataset_a, dataset_b)`` (a listed before b). With
    ``k``, only pairs where one side is among the other's ``k`` most similar datasets
    are kept, so a new dataset joins the graph linked to its nearest neighbours.

    Args:
        fingerprints: ``{name: fingerprint}`` or a sequence (named by ``fp.name``).
        method: ``"stats"`` or ``"embedding"``.
        k: Neighbours kept per dataset (None: all pairs).

    Returns:
        DataFrame with columns ``dataset_a, dataset_b, similarity, distance, method``
        (dtypes of ``kgtransfer.kg.tables.COLUMNS["similarities"]``, the core schema).

    Raises:
        ValueError: duplicate names, ``k`` < 1, or see :func:`dataset_similarity`.
    """
    if isinstance(fingerprints, Mapping):
        items = list(fingerprints.items())
    else:
        items = [(fp.name, fp) for fp in fingerprints]
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"Duplicate dataset names {dup} in fingerprints; give each a unique name.")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
        raise ValueError(f"k must be a positive int or None, got {k!r}.")
    n = len(items)
    sim = np.full((n, n), -np.inf)
    dist = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            d, s = _distance_and_similarity(items[i][1], items[j][1], method)
            sim[i, j] = sim[j, i] = s
            dist[i, j] = dist[j, i] = d
    keep = np.triu(np.ones((n, n), dtype=bool), 1)
    if k is not None and n > 1:
        near = np.zeros((n, n), dtype=bool)
        for i in range(n):
            order = np.argsort(-sim[i], kind="stable")
            near[i, order[: min(k, n - 1)]] = True
        keep &= near | near.T
    rows = [
        (names[i], names[j], sim[i, j], dist[i, j], method)
        for i, j in zip(*np.nonzero(keep), strict=True)
    ]
    table = pd.DataFrame(rows, columns=list(COLUMNS["similarities"]))
    return table.astype(COLUMNS["similarities"])


def dataset_metadata_table(
    datasets: Iterable[ArrayDataset] | Mapping[str, ArrayDataset],
) -> pd.DataFrame:
    """The graph's ``datasets`` table (canonical columns and dtypes) for some datasets.

    Example:
        >>> from kgtransfer.data import load_dataset
        >>> dataset_metadata_table([load_dataset("wine", split="all")])[["dataset", "n_classes"]]
          dataset  n_classes
        0    wine        3.0
    """
    if isinstance(datasets, Mapping):
        pairs = list(datasets.items())
    else:
        pairs = [(d.name, d) for d in datasets]
    rows = [
        {
            "dataset": name,
            "task": ds.task,
            "domain": ds.domain,
            "modality": ds.modality,
            "language": None,
            "n_samples": float(len(ds)),
            "n_classes": float(ds.n_classes),
        }
        for name, ds in pairs
    ]
    table = pd.DataFrame(rows, columns=list(COLUMNS["datasets"]))
    return table.astype(COLUMNS["datasets"])
