"""Input checking shared by all transferability scores."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

from kgtransfer.errors import ScoreInputError

__all__ = ["ScoreInputError", "check_features_labels", "check_probs", "encode_labels", "to_numpy"]


def to_numpy(x: Any, *, name: str) -> np.ndarray:
    """A numpy view of an array-like or a (possibly GPU / grad) torch tensor."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ScoreInputError(
            f"{name} could not be read as an array ({exc}); pass a numpy array or tensor."
        ) from exc


def encode_labels(labels: Any, *, n_samples: int | None = None) -> tuple[npt.NDArray[np.intp], int]:
    """Re-encode any hashable labels to ``0..C-1`` codes; at least two classes required.

    Returns:
        ``(codes, n_classes)``.

    Raises:
        ScoreInputError: labels not 1-D, wrong length, missing (NaN) or a single class.
    """
    y = to_numpy(labels, name="labels")
    if y.ndim != 1:
        raise ScoreInputError(
            f"labels must be 1-D (N,), got shape {y.shape}; pass class labels, not one-hot rows "
            "(use labels.argmax(1))."
        )
    if n_samples is not None and y.shape[0] != n_samples:
        raise ScoreInputError(
            f"labels has {y.shape[0]} entries but the first input has {n_samples} rows; "
            "pass one label per sample."
        )
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ScoreInputError("labels contain NaN or inf; drop the unlabelled samples first.")
    if y.dtype.kind == "O":
        y = np.asarray([str(type(v)) + repr(v) if not isinstance(v, str) else v for v in y])
    classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    if len(classes) < 2:
        raise ScoreInputError(
            f"labels have a single class {classes.tolist()!r}; a transferability score needs "
            "at least two target classes."
        )
    if counts.min() < 2:
        lonely = classes[counts < 2].tolist()[:5]
        warnings.warn(
            f"classes {lonely!r} have a single sample; the score is noisy. "
            "Use more target samples per class.",
            UserWarning,
            stacklevel=3,
        )
    return codes.astype(np.intp).reshape(-1), len(classes)


def check_features_labels(
    features: Any, labels: Any
) -> tuple[np.ndarray, npt.NDArray[np.intp], int]:
    """Validate ``features`` (N, D) and ``labels`` (N,).

    Returns:
        ``(features as float64, label codes, n_classes)``.

    Raises:
        ScoreInputError: wrong dims, empty, non-finite values or mismatched lengths.
    """
    f = to_numpy(features, name="features")
    if f.ndim != 2:
        raise ScoreInputError(
            f"features must be 2-D (N, D), got shape {f.shape}; flatten or pool them first."
        )
    if f.shape[0] == 0 or f.shape[1] == 0:
        raise ScoreInputError(
            f"features are empty (shape {f.shape}); pass at least one sample and dimension."
        )
    if f.dtype.kind not in "biuf":
        raise ScoreInputError(f"features must be numeric, got dtype {f.dtype}.")
    f = f.astype(np.float64, copy=False)
    if not np.all(np.isfinite(f)):
        n_bad = int((~np.isfinite(f)).any(axis=1).sum())
        raise ScoreInputError(
            f"features contain NaN or inf in {n_bad} row(s); drop or impute those samples first."
        )
    codes, n_classes = encode_labels(labels, n_samples=f.shape[0])
    return f, codes, n_classes


def check_probs(
    probs: Any, labels: Any, *, atol: float = 1e-3
) -> tuple[np.ndarray, npt.NDArray[np.intp], int]:
    """Validate source-class probabilities ``probs`` (N, C_s) and ``labels`` (N,).

    Raises:
        ScoreInputError: not a probability matrix (negative, rows not summing to 1,
            non-finite), wrong dims or mismatched lengths.
    """
    p, codes, n_classes = check_features_labels(probs, labels)
    if p.min() < 0:
        raise ScoreInputError(
            f"probs must be non-negative, got a minimum of {p.min():.3g}; apply softmax to logits first."
        )
    sums = p.sum(axis=1)
    worst = int(np.argmax(np.abs(sums - 1.0)))
    if abs(sums[worst] - 1.0) > atol:
        raise ScoreInputError(
            f"probs rows must sum to 1, row {worst} sums to {sums[worst]:.4g}; apply softmax to logits first."
        )
    return p / sums[:, None], codes, n_classes
