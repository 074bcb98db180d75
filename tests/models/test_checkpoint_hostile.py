"""Tampered checkpoints: configs checked before anything is built, non-finite weights refused."""

from __future__ import annotations

import json
import resource
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file
from typer.testing import CliRunner

from kgtransfer.cli import app
from kgtransfer.errors import ArgumentError, CheckpointError
from kgtransfer.models import (
    create_model,
    load_checkpoint,
    load_state_dict_file,
    save_checkpoint,
)


def _saved(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = create_model("mlp", n_classes=3, input_shape=(4,), width=8)
    return save_checkpoint(model, tmp_path / "ckpt", name="mlp.x")


def _edit(folder: Path, **changes: Any) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


def test_create_model_names_unknown_options() -> None:
    from kgtransfer.models import model_options

    with pytest.raises(ArgumentError, match=r"mlp does not take option\(s\) \['bogus'\].*'depth'"):
        create_model("mlp", n_classes=2, bogus=1)
    assert sorted(model_options("cnn_small") or {}) == ["width"]


def test_unknown_arch_kwargs_are_named(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    _edit(folder, arch_kwargs={"width": 8, "bogus": 1, "evil": "x"})
    with pytest.raises(
        CheckpointError, match=r"config\.json.*\['bogus', 'evil'\]; it accepts \['depth', 'width'\]"
    ):
        load_checkpoint(folder)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"n_classes": 200_000_000}, "n_classes"),
        ({"n_classes": True}, "n_classes"),
        ({"n_classes": 2.5}, "n_classes"),
        ({"n_classes": "3"}, "n_classes"),
        ({"input_shape": [4, -1]}, "input_shape"),
        ({"input_shape": "4"}, "input_shape"),
        ({"arch": ["mlp"]}, "arch"),
        ({"arch_kwargs": {"width": "8"}}, r"arch_kwargs\['width'\]"),
        ({"arch_kwargs": {"width": 8, "depth": 10**6}}, r"arch_kwargs\['depth'\]"),
        ({"arch_kwargs": [1]}, "arch_kwargs"),
        ({"arch": "mlpp"}, "Did you mean 'mlp'"),
    ],
)
def test_bad_config_fields_are_named(tmp_path: Path, changes: dict, field: str) -> None:
    folder = _saved(tmp_path)
    _edit(folder, **changes)
    with pytest.raises(CheckpointError, match=rf"config\.json.*{field}"):
        load_checkpoint(folder)


def test_huge_head_is_refused_before_allocating(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    _edit(folder, n_classes=200_000_000)  # ~25 GB of float32 head on the old code
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError, match=r"n_classes.*200000000.*create_model"):
        load_checkpoint(folder)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 500


def test_param_count_is_checked_on_the_meta_device(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    _edit(folder, n_classes=900_000, arch_kwargs={"width": 4096})  # 3.7e9 parameters
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CheckpointError, match=r"3,704,101,792 parameters.*max_params"):
        load_checkpoint(folder)
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 500


def test_config_that_disagrees_with_the_weights_is_refused(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    _edit(folder, n_classes=1000)
    with pytest.raises(CheckpointError, match=r"head\.weight: file \(3, 8\) vs model \(1000, 8\)"):
        load_checkpoint(folder)


def test_missing_or_garbage_config(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    (folder / "config.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="must hold a JSON object"):
        load_checkpoint(folder)
    (folder / "config.json").write_text("{nope")
    with pytest.raises(CheckpointError, match=r"Unreadable config\.json"):
        load_checkpoint(folder)
    (folder / "config.json").unlink()
    with pytest.raises(CheckpointError, match=r"No config\.json"):
        load_checkpoint(folder)


def test_nonfinite_weights_are_refused_unless_allowed(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    model = load_checkpoint(folder)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    state["head.weight"][0, 0] = float("nan")
    state["body.0.1.bias"][1] = float("inf")
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(CheckpointError, match=r"non-finite.*2 tensor.*allow_nonfinite=True"):
        load_checkpoint(folder)
    with pytest.raises(CheckpointError, match=r"head\.weight \(1\)"):
        load_state_dict_file(model, folder / "model.safetensors")
    loaded = load_checkpoint(folder, allow_nonfinite=True)
    assert torch.isnan(loaded.head.weight[0, 0])


def test_cli_prints_one_line_for_a_tampered_checkpoint(tmp_path: Path) -> None:
    folder = _saved(tmp_path)
    _edit(folder, arch_kwargs={"width": 8, "bogus": 1})
    result = CliRunner().invoke(app, ["transfer", str(folder), "digits", "--quiet"])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "bogus" in lines[0]
