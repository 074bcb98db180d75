"""``device=`` on feature extraction, every transfer method, ``evaluate_transfer``,
``transfer_from`` and the CLI: checked on the CPU (the GPU path is untested here)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from typer.testing import CliRunner

from kgtransfer.api import transfer_from
from kgtransfer.cli import app
from kgtransfer.errors import ArgumentError
from kgtransfer.models import create_model, extract_features, resolve_device
from kgtransfer.transfer import evaluate_transfer
from kgtransfer.transfer.methods import FineTune, get_method, list_methods


@pytest.fixture
def tiny() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    src = create_model("mlp", n_classes=3, input_shape=(4,))
    x = torch.randn(30, 4)
    return src, x, (x[:, 0] > 0).long()


def test_resolve_device_names_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_device("cpu") == resolve_device(torch.device("cpu")) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(ArgumentError, match=r"Unknown device 'gpu'\. Did you mean 'cpu'\?"):
        resolve_device("gpu")
    with pytest.raises(ArgumentError, match=r"string or a torch\.device, got 3"):
        resolve_device(3)
    with pytest.raises(ArgumentError, match=r"device='cuda' but torch sees no CUDA GPU"):
        resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


def test_extract_features_checks_the_device(tiny) -> None:
    src, x, _ = tiny
    same = extract_features(src, x, device=torch.device("cpu"))
    np.testing.assert_array_equal(same, extract_features(src, x))
    with pytest.raises(ArgumentError, match="Unknown device 'cpux'"):
        extract_features(src, x, device="cpux")


@pytest.mark.parametrize("name", list_methods())
def test_every_method_takes_device_and_clone_keeps_it(name: str) -> None:
    method = get_method(name)
    assert method.get_params()["device"] == "cpu"
    twin = clone(method.set_params(device=torch.device("cpu")))
    assert twin.get_params()["device"] == torch.device("cpu")


@pytest.mark.parametrize("name", ["finetune", "linear_probe", "distill_feature", "weights"])
def test_cpu_device_gives_the_default_result(name: str, tiny) -> None:
    src, x, y = tiny
    target = None if name in ("finetune", "linear_probe") else "mlp"
    budget = {"epochs": 2} if name != "weights" else None
    out = []
    for device in (None, "cpu", torch.device("cpu")):
        params = {} if device is None else {"device": device}
        method = get_method(name, **params).fit(src, target, (x, y), budget)
        assert method.device_ == torch.device("cpu")
        assert "device" not in method.hyperparameters_  # where, not what
        out.append(method.predict_proba(x))
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], out[2])


def test_bad_device_fails_before_the_fit(tiny) -> None:
    src, x, y = tiny
    method = FineTune(epochs=1, device="gpu")
    with pytest.raises(ArgumentError, match="Unknown device 'gpu'"):
        method.fit(src, None, (x, y))
    assert not hasattr(method, "model_")


def test_evaluate_transfer_device_and_instance_conflict(tiny, monkeypatch) -> None:
    src, x, y = tiny
    train, test = (x[:20], y[:20]), (x[20:], y[20:])
    a = evaluate_transfer("finetune", src, "mlp", train, test, budget={"epochs": 2})
    b = evaluate_transfer("finetune", src, "mlp", train, test, budget={"epochs": 2}, device="cpu")
    assert (a.accuracy, a.scratch_accuracy) == (b.accuracy, b.scratch_accuracy)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # "cuda" reads as valid
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ArgumentError, match="set it on the instance"):
        evaluate_transfer(FineTune(device="cpu"), src, "mlp", train, test, device="cuda")


def test_transfer_from_device(tiny) -> None:
    src, x, y = tiny
    data = (x.numpy(), y.numpy())
    kw = {"budget": {"epochs": 2}, "target_name": "toy"}
    a = transfer_from(src, None, data, **kw)
    b = transfer_from(src, None, data, device=torch.device("cpu"), **kw)
    assert (a.accuracy, a.scratch_accuracy) == (b.accuracy, b.scratch_accuracy)
    with pytest.raises(ArgumentError, match="Unknown device 'cuda0'"):
        transfer_from(src, None, data, device="cuda0", **kw)


def test_cli_transfer_device_error_in_cli_words(tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["transfer", "mlp.x", "digits", "--home", str(tmp_path), "--device", "gpu"]
    )
    assert result.exit_code == 1
    assert "Unknown device 'gpu'. Did you mean 'cpu'?" in result.output
    assert "torch.device" not in result.output
