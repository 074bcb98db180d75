r"""LEEP: log expected empirical prediction (Nguyen et al., ICML 2020)."""

from __future__ import annotations

from typing import Any

import numpy as np

from kgtransfer.transfer.scores._checks import check_probs
from kgtransfer.transfer.scores._registry import register_score

__all__ = ["leep_score"]


@register_score("leep", input="probs")
def leep_score(probs: Any, labels: Any) -> float:
    r"""LEEP (Nguyen et al., ICML 2020).

    With the empirical joint :math:`\hat P(y, z) = \frac1N\sum_{i: y_i=y}\theta(x_i)_z`
    of target label y and source class z,

    .. math:: \frac{1}{N}\sum_i \log \sum_z \hat P(y_i \mid z)\,\theta(x_i)_z

    Args:
        probs: Source-class probabilities, shape (N, C_s); rows sum to 1.
        labels: Target labels, shape (N,); any hashable values.

    Returns:
        Mean log-likelihood (<= 0). Higher means better expected transfer.

    Raises:
        ScoreInputError: probs not a probability matrix, one class, wrong shapes.

    Shapes:
        probs (N, C_s), labels (N,) -> float.

    Example:
        >>> import numpy as np
        >>> from kgtransfer.transfer.scores import leep_score
        >>> probs = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
        >>> round(leep_score(probs, ["a", "a", "b", "b"]), 6)
        0.0
    """
    p, codes, n_classes = check_probs(probs, labels)
    n = p.shape[0]
    joint = np.zeros((n_classes, p.shape[1]))
    np.add.at(joint, codes, p)
    joint /= n
    pz = joint.sum(axis=0)
    cond = np.divide(joint, pz, out=np.zeros_like(joint), where=pz > 0)  # P(y | z)
    eep = np.einsum("iz,iz->i", p, cond[codes])
    return float(np.mean(np.log(np.maximum(eep, np.finfo(np.float64).tiny))))
