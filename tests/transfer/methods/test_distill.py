from __future__ import annotations

import pytest
import torch

from kgtransfer.errors import TransferError
from kgtransfer.models import create_model
from kgtransfer.transfer.methods import Distill, TargetData


@pytest.mark.parametrize(("kind", "margin"), [("logit", 0.1), ("feature", 0.03)])
def test_improves_student_over_scratch(
    task, teacher, student, student_scratch, kind, margin
) -> None:
    d = Distill(kind=kind, epochs=30, lr=3e-3, batch_size=16, seed=0)
    d.fit(teacher, student, TargetData(task.train, unlabeled=task.unlabeled))
    acc = d.score(task.test_rest)
    assert acc > student_scratch + margin, (acc, student_scratch)
    assert (d.projector_ is None) == (kind == "logit")
    assert "30 labelled and 300 unlabeled inputs" in d.report_.notes[0]
    assert len(d.report_.dropped) == len(teacher.state_dict())


def test_student_not_modified(task, teacher, student) -> None:
    before = {k: v.clone() for k, v in student.state_dict().items()}
    Distill(epochs=1).fit(teacher, student, task.train)
    assert all(torch.equal(v, before[k]) for k, v in student.state_dict().items())


def test_errors(task, teacher, student, source) -> None:
    five = create_model("mlp", n_classes=5, input_shape=(64,))
    with pytest.raises(TransferError, match="teacher predicts 5 classes and the student 10"):
        Distill(kind="logit").fit(five, student, task.train)
    Distill(kind="feature", epochs=1).fit(five, student, task.train)  # features: fine
    with pytest.raises(ValueError, match=r"labels up to 9 \(10 classes\) but the student"):
        Distill(kind="feature").fit(
            teacher, create_model("mlp", n_classes=4, input_shape=(64,)), task.train
        )
    with pytest.raises(ValueError, match="alpha must be in"):
        Distill(alpha=2.0).fit(teacher, student, task.train)
    with pytest.raises(ValueError, match="kind must be one of"):
        Distill(kind="attention").fit(teacher, student, task.train)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"unlabeled inputs have shape \(3,\)"):
        Distill().fit(teacher, student, TargetData(task.train, unlabeled=torch.zeros(4, 3)))
