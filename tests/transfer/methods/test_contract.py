"""The one transfer-method contract: fit(source, target, data, budget), the registry,
scikit-learn parameters, and the deprecated call forms."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from sklearn.base import clone

import kgtransfer.transfer.methods._registry as registry
from kgtransfer.errors import ArgumentError, UnknownNameError
from kgtransfer.models import create_model
from kgtransfer.transfer import evaluate_transfer, list_transfer_methods
from kgtransfer.transfer.methods import (
    Budget,
    Distill,
    FeatureTransfer,
    FineTune,
    TargetData,
    TopKEnsemble,
    TransferMethod,
    TransferReport,
    WeightTransfer,
    get_method,
    list_methods,
    method_name,
    register_method,
)

ALL = [
    "distill_feature",
    "distill_logit",
    "finetune",
    "linear_probe",
    "mlp_probe",
    "topk_ensemble",
    "weights",
]


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_registry_lists_gets_and_names_every_method() -> None:
    assert list_methods() == ALL
    assert list_methods("*_probe") == ["linear_probe", "mlp_probe"]
    assert list_transfer_methods() == ALL  # evaluate_transfer takes every registered name
    for name in ALL:
        method = get_method(name)
        assert isinstance(method, TransferMethod)
        assert method_name(method) == name
    assert get_method("mlp_probe", epochs=3).get_params()["head"] == "mlp"
    with pytest.raises(UnknownNameError, match=r"Did you mean 'finetune'\? See list_methods"):
        get_method("finetun")
    with pytest.raises(ValueError, match="already registered"):
        register_method("finetune")(FeatureTransfer)


@pytest.mark.parametrize("name", ALL)
def test_sklearn_clone_for_every_method(name: str) -> None:
    method = get_method(name, seed=5) if name not in ("topk_ensemble",) else get_method(name, k=2)
    twin = clone(method)
    assert type(twin) is type(method) and twin is not method
    assert twin.get_params() == method.get_params()
    assert method_name(twin) == name


def test_clone_keeps_objects_and_set_params_checks_names(student) -> None:
    def noise(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return x

    ft = clone(FineTune(n_classes=3, augment=noise, train_blocks=1))
    assert ft.augment is noise and ft.train_blocks == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = clone(Distill(student, kind="feature"))
    assert old.student is not student and _same_weights(old.student, student)
    assert clone(WeightTransfer(strict_shapes=False)).strict_shapes is False
    assert FineTune().set_params(epochs=4).epochs == 4
    with pytest.raises(ArgumentError, match="Invalid parameter 'epoch' for FineTune"):
        FineTune().set_params(epoch=4)


def test_one_fit_signature_with_budget_and_target_names(task, source, teacher) -> None:
    data = TargetData(task.train, val=task.test)
    budget = Budget(epochs=2, lr=1e-2, batch_size=16)
    ft = FineTune(seed=0).fit(source, None, data, budget)
    assert len(ft.history_.losses) == 2 and ft.history_.best_epoch is not None
    assert ft.epochs == 30 and ft.lr_backbone == 1e-3  # the budget does not change params
    assert ft.hyperparameters_["lr_backbone"] == ft.hyperparameters_["lr_head"] == 1e-2
    assert ft.hyperparameters_["n_classes"] == 10  # from the labels
    assert ft.training_budget() == Budget(epochs=30, lr=1e-3, batch_size=32)
    # an architecture name as target: built for the data's inputs and classes
    probe = FineTune(epochs=1).fit(source, "mlp", task.train)
    assert probe.model_.n_classes == 10 and probe.report_.copied
    wide = Distill(kind="feature", epochs=1).fit(teacher, "mlp_wide", task.train)
    assert wide.model_.arch == "mlp_wide" and wide.hyperparameters_["student"] == "mlp_wide"
    lin = FeatureTransfer(epochs=1).fit(source, data=task.train, budget={"epochs": 2})
    assert len(lin.history_.losses) == 2 and lin.backbone_frozen() is True
    tgt = create_model("mlp", n_classes=4, input_shape=(64,))
    wt = WeightTransfer().fit(source, tgt)
    assert wt.model_ is tgt and wt.predict(task.test[0]).shape == (len(task.test[0]),)
    ens = TopKEnsemble(k=1).fit([copy.deepcopy(source), source], data=task.train)
    assert ens.selected_ == [0] and ens.hyperparameters_["k"] == 1
    with pytest.raises(ArgumentError, match="only used by distillation, not by 'finetune'"):
        FineTune().fit(source, None, TargetData(task.train, unlabeled=task.unlabeled))
    with pytest.raises(ArgumentError, match="Distill needs a student"):
        Distill().fit(teacher, None, task.train)
    with pytest.raises(ArgumentError, match="unknown keyword"):
        FineTune().fit(source, None, task.train, epochs=3)
    with pytest.raises(ArgumentError, match="target must be a model, an architecture name"):
        FineTune().fit(source, task.train[0], task.train)


def test_old_forms_warn_and_give_the_same_result(task, source, teacher, student) -> None:
    ft_new = FineTune(n_classes=10, epochs=2, seed=0).fit(source, None, task.train)
    with pytest.warns(DeprecationWarning, match=r"fit\(source, train_data, val_data\)"):
        ft_old = FineTune(n_classes=10, epochs=2, seed=0).fit(source, task.train)
    assert _same_weights(ft_new.model_, ft_old.model_)
    tgt = create_model("mlp", n_classes=10, input_shape=(64,))
    with pytest.warns(DeprecationWarning):
        old_t = FineTune(epochs=1).fit(source, task.train, target=tgt)
    assert _same_weights(old_t.model_, FineTune(epochs=1).fit(source, tgt, task.train).model_)
    with pytest.warns(DeprecationWarning, match="val_data="):
        FeatureTransfer(epochs=1).fit(source, None, val_data=task.test, train_data=task.train)

    d_new = Distill(epochs=2).fit(
        teacher, student, TargetData(task.train, unlabeled=task.unlabeled)
    )
    with pytest.warns(DeprecationWarning) as caught:
        d_old = Distill(student, epochs=2).fit(teacher, task.train, unlabeled=task.unlabeled)
    messages = " ".join(str(w.message) for w in caught)
    assert "unlabeled=" in messages and "Distill(student, ...) is deprecated" in messages
    assert _same_weights(d_new.model_, d_old.model_)

    wt = WeightTransfer().fit(source, create_model("mlp", n_classes=3, input_shape=(64,)))
    with pytest.warns(DeprecationWarning, match=r"transform\(\) is deprecated"):
        assert wt.transform() is wt.model_

    models = [copy.deepcopy(source), source]
    with pytest.warns(DeprecationWarning, match=r"TopKEnsemble\(models, k\)"):
        old_ens = TopKEnsemble(models, k=1).fit(task.train)
    with pytest.warns(DeprecationWarning):
        TopKEnsemble(models, k=2).fit()
    assert old_ens.selected_ == TopKEnsemble(k=1).fit(models, data=task.train).selected_


@pytest.mark.parametrize("name", ALL)
def test_every_registered_method_runs_through_evaluate_transfer(name: str) -> None:
    torch.manual_seed(0)
    src = create_model("mlp", n_classes=2, input_shape=(4,))
    x, y = torch.randn(40, 4), torch.arange(40) % 2
    r = evaluate_transfer(
        name, src, "mlp", (x[:20], y[:20]), (x[20:], y[20:]), budget={"epochs": 1}
    )
    assert r.method == name and 0.0 <= r.accuracy <= 1.0
    assert r.provenance["report"]["method"]  # every method reports what it did
    trains = get_method(name).trains
    assert r.regime["epochs"] == (1.0 if trains else 0.0)
    assert (r.provenance["history"] is not None) == trains


def test_a_custom_registered_method_runs_through_evaluate_transfer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry._REGISTRY, "_entries", dict(registry._REGISTRY._entries))

    @register_method("always")
    class Always(TransferMethod):
        """Predicts one class whatever the input (a trivial method, no training)."""

        _budget_params = {}  # noqa: RUF012

        def __init__(self, *, label: int = 0, seed: int = 0) -> None:
            self.label = label
            self.seed = seed

        def _fit(self, source, target, data, p) -> None:
            self.model_ = target
            self.n_ = int(target.n_classes)
            self.report_ = TransferReport(method="always", notes=[f"label {p.label}"])

        def _logits(self, x: torch.Tensor) -> torch.Tensor:
            out = torch.zeros(len(x), self.n_)
            out[:, self.label] = 1.0
            return out

    assert "always" in list_methods()
    torch.manual_seed(0)
    src = create_model("mlp", n_classes=3, input_shape=(4,))
    x, y = torch.randn(40, 4), torch.arange(40) % 2
    train, test = (x[:20], y[:20]), (x[20:], y[20:])
    r = evaluate_transfer("always", src, "mlp", train, test, budget={"epochs": 1}, seed=3)
    assert r.method == "always" and r.accuracy == pytest.approx(0.5)
    assert r.provenance["hyperparameters"] == {
        "label": 0,
        "seed": 3,  # evaluate_transfer seeds a method built by name
        "budget": Budget(epochs=1).to_dict(),
    }
    assert r.provenance["history"] is None and r.regime["frozen"] is None
    r1 = evaluate_transfer(Always(label=1), src, "mlp", train, test, scratch=False)
    assert r1.method == "always" and r1.provenance["report"]["notes"] == ["label 1"]


def test_unregistered_instances_and_renamed_target_keyword(source, task) -> None:
    class Mine(FineTune):
        pass

    with pytest.raises(TypeError, match="register its class with"):
        evaluate_transfer(Mine(), source, "mlp", task.train, task.test, scratch=False)
    with pytest.warns(DeprecationWarning, match="target_arch_or_model"):
        r = evaluate_transfer(
            "linear_probe",
            source,
            train=task.train,
            test=task.test,
            target_arch_or_model="mlp",
            budget={"epochs": 1},
            scratch=False,
        )
    assert r.provenance["target_architecture"] == "mlp"
    with pytest.raises(ArgumentError, match="needs target"):
        evaluate_transfer("finetune", source, train=task.train, test=task.test)
