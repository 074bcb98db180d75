r"""NCE: negative conditional entropy (Tran, Nguyen and Hassner, ICCV 2019)."""

from __future__ import annotations

from typing import Any

import numpy as np

from kgtransfer.transfer.scores._checks import ScoreInputError, encode_labels, to_numpy
from kgtransfer.transfer.scores._registry import register_score

__all__ = ["nce_score"]


@register_score("nce", input="source_labels")
def nce_score(source_labels: Any, labels: Any) -> float:
    r"""NCE (Tran et al., ICCV 2019): :math:`-H(Y \mid Z)` from hard source labels.

    .. math:: -H(Y\mid Z) = \sum_{y,z} \hat P(y,z)\log \hat P(y\mid z)

    Args:
        source_labels: Source-model predictions, shape (N,) of any hashable values, or
            source-class probabilities (N, C_s), which are arg-maxed.
        labels: Target labels, shape (N,); any hashable values.

    Returns:
        Negative conditional entropy in nats (<= 0). Higher means better transfer.

    Raises:
        ScoreInputError: one target class, wrong dims or mismatched lengths.

    Shapes:
        source_labels (N,) or (N, C_s), labels (N,) -> float.

    Example:
        >>> from kgtransfer.transfer.scores import nce_score
        >>> round(nce_score(["x", "x", "y", "y"], [0, 1, 0, 1]), 4)  # -log 2
        -0.6931
    """
    z = to_numpy(source_labels, name="source_labels")
    if z.ndim == 2:
        if z.dtype.kind not in "biuf" or not np.all(np.isfinite(z)):
            raise ScoreInputError(
                "source probabilities contain NaN/inf or are not numeric; fix the model outputs."
            )
        z = z.argmax(axis=1)
    elif z.ndim != 1:
        raise ScoreInputError(
            f"source_labels must be (N,) labels or (N, C_s) probabilities, got shape {z.shape}."
        )
    if z.dtype.kind == "f" and not np.all(np.isfinite(z)):
        raise ScoreInputError("source_labels contain NaN or inf; drop those samples first.")
    codes, n_classes = encode_labels(labels, n_samples=z.shape[0])
    z_codes = np.unique(z.astype(str) if z.dtype.kind == "O" else z, return_inverse=True)[
        1
    ].reshape(-1)
    joint = np.zeros((n_classes, int(z_codes.max()) + 1))
    np.add.at(joint, (codes, z_codes), 1.0)
    joint /= joint.sum()
    pz = joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float(np.sum(joint[nz] * np.log((joint / pz)[nz])))
