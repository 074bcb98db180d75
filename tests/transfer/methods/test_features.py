from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from kgtransfer.errors import NotFittedError
from kgtransfer.transfer.methods import FeatureTransfer


@pytest.mark.parametrize("head", ["linear", "mlp"])
def test_improves_over_scratch(task, source, scratch_accuracy, head) -> None:
    ft = FeatureTransfer(head=head, epochs=30, lr=3e-3, batch_size=16, seed=0).fit(
        source, data=task.train
    )
    acc = ft.score(task.test)
    assert acc > scratch_accuracy + 0.05, (acc, scratch_accuracy)
    probs = ft.predict_proba(task.test[0][:10])
    assert probs.shape == (10, 10)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    assert ft.report_.method == f"features_{head}"
    assert {t.name for t in ft.report_.dropped} == {"head.weight", "head.bias"}


def test_source_unchanged_and_frozen(task, source) -> None:
    before = copy.deepcopy(source.state_dict())
    FeatureTransfer(epochs=2, seed=0).fit(source, data=task.train)
    for k, v in source.state_dict().items():
        assert torch.equal(v, before[k])


def test_seeded(task, source) -> None:
    a = FeatureTransfer(epochs=3, seed=1).fit(source, data=task.train).predict_proba(task.test)
    b = FeatureTransfer(epochs=3, seed=1).fit(source, data=task.train).predict_proba(task.test)
    np.testing.assert_array_equal(a, b)


def test_errors(task, source) -> None:
    with pytest.raises(NotFittedError, match="FeatureTransfer is not fitted"):
        FeatureTransfer().predict(task.test[0])
    with pytest.raises(ValueError, match="head must be one of"):
        FeatureTransfer(head="svm").fit(source, data=task.train)  # type: ignore[arg-type]
    broken = copy.deepcopy(source)
    with torch.no_grad():
        broken.body[0][1].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN or inf features"):
        FeatureTransfer(epochs=1).fit(broken, data=task.train)
    x, y = task.train
    x = x.clone()
    x[0, 0] = float("nan")
    with pytest.raises(ValueError, match="train_data: 1 input rows contain NaN"):
        FeatureTransfer(epochs=1).fit(source, data=(x, y))
