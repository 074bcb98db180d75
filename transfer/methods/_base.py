"""Shared parts of the trained transfer methods: fitted checks and scoring."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from kgtransfer.errors import NotFittedError
from kgtransfer.transfer.methods._train import as_arrays, batched_predict

__all__ = ["Classifier"]


class Classifier:
    """Mixin: ``predict``, ``predict_proba`` and ``score`` from ``_logits(x)``."""

    _fitted_attr = "model_"

    def _check_fitted(self) -> None:
        if not hasattr(self, self._fitted_attr):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted; call fit(...) before predicting."
            )

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _inputs(self, data: Any) -> torch.Tensor:
        if hasattr(data, "x") or hasattr(data, "tensors") or isinstance(data, tuple):
            return as_arrays(data, what="data")[0]
        x = torch.as_tensor(np.asarray(data, dtype=np.float32))
        if not torch.isfinite(x).all():
            raise ValueError("inputs contain NaN or inf; clean them first.")
        return x

    def predict_proba(self, data: Any) -> np.ndarray:
        """Class probabilities, shape (N, C); ``data`` is a dataset, a pair or inputs."""
        self._check_fitted()
        x = self._inputs(data)
        return batched_predict(lambda b: torch.softmax(self._logits(b), 1), x).numpy()

    def predict(self, data: Any) -> np.ndarray:
        """Predicted class codes, shape (N,)."""
        return self.predict_proba(data).argmax(1)

    def score(self, data: Any) -> float:
        """Accuracy on a labelled dataset (higher is better)."""
        self._check_fitted()
        x, y = as_arrays(data, what="data")
        pred = self.predict(x.numpy())
        return float((pred == y.numpy()).mean())
