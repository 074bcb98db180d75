"""A tampered saved GNNRecommender folder gives one CheckpointError naming file and field."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file

from kgtransfer.errors import CheckpointError
from kgtransfer.transfer import GNNRecommender

from .conftest import make_zoo

FAST = {"epochs": 5, "n_ensemble": 2, "hidden": 8}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("saved") / "rec"
    GNNRecommender(**FAST).fit(make_zoo(), exclude_datasets=["t"]).save(folder)
    return folder


@pytest.fixture
def copy(saved: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(saved, tmp_path / "rec"))


def _config(folder: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(config: dict[str, Any]) -> None:
        node = config
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


def test_untouched_folder_loads(saved: Path) -> None:
    loaded = GNNRecommender.load(saved)
    assert len(loaded.networks_) == 2
    assert len(loaded.rank("t")) > 0


@pytest.mark.parametrize("missing", ["config.json", "tables.json", "weights.safetensors"])
def test_missing_file_is_named(copy: Path, missing: str) -> None:
    (copy / missing).unlink()
    with pytest.raises(CheckpointError, match=rf"No {missing.replace('.', '[.]')} in"):
        GNNRecommender.load(copy)


@pytest.mark.parametrize("name", ["config.json", "tables.json"])
def test_bad_json_is_named(copy: Path, name: str) -> None:
    (copy / name).write_text('{"format": ')
    with pytest.raises(CheckpointError, match=rf"Unreadable .*{name.replace('.', '[.]')}"):
        GNNRecommender.load(copy)


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (_set(("params", "n_ensemble"), 0), r"params\['n_ensemble'\].*got 0"),
        (_set(("params", "n_ensemble"), -3), r"params\['n_ensemble'\]"),
        (_set(("params", "n_ensemble"), "2"), r"params\['n_ensemble'\]"),
        (_set(("params", "hidden"), 10**9), r"params\['hidden'\]"),
        (_set(("params", "lr"), "fast"), r"params\['lr'\]"),
        (_set(("params", "progress"), 1), r"params\['progress'\]"),
        (_set(("params", "bogus"), 1), r"unknown params \['bogus'\]"),
        (_set(("params",), [1, 2]), "'params' must be a JSON object"),
        (_set(("residual_q90",), float("nan")), "'residual_q90'.*nan"),
        (_set(("residual_q90",), -1.0), "'residual_q90'"),
        (_set(("residual_q90",), "0.3"), "'residual_q90'"),
        (_set(("excluded_datasets",), "t"), "'excluded_datasets'"),
        (_set(("format",), "other/9"), "format 'other/9'"),
    ],
)
def test_bad_config_field_is_named(copy: Path, edit: Callable, field: str) -> None:
    _config(copy, edit)
    with pytest.raises(CheckpointError, match=rf"config\.json.*{field}"):
        GNNRecommender.load(copy)


def test_config_and_weights_must_agree(copy: Path) -> None:
    _config(copy, _set(("params", "n_ensemble"), 3))
    with pytest.raises(CheckpointError, match=r"members \['0', '1'\].*n_ensemble=3"):
        GNNRecommender.load(copy)
    _config(copy, _set(("params", "n_ensemble"), 2))
    _config(copy, _set(("params", "hidden"), 16))
    with pytest.raises(CheckpointError, match=r"weights\.safetensors.*shape mismatches \['0\."):
        GNNRecommender.load(copy)


def test_nonfinite_weights_are_refused_unless_allowed(copy: Path) -> None:
    weights = load_file(str(copy / "weights.safetensors"))
    key = next(k for k, v in weights.items() if v.is_floating_point())
    weights[key] = torch.full_like(weights[key], float("nan"))
    save_file(weights, str(copy / "weights.safetensors"))
    with pytest.raises(CheckpointError, match=r"non-finite.*allow_nonfinite=True"):
        GNNRecommender.load(copy)
    assert GNNRecommender.load(copy, allow_nonfinite=True).networks_


def test_corrupt_weights_file(copy: Path) -> None:
    (copy / "weights.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(CheckpointError, match=r"Corrupt safetensors file .*weights"):
        GNNRecommender.load(copy)


@pytest.mark.parametrize(
    "tables",
    [
        [1, 2],
        {"nonsense": {"columns": [], "data": []}},
        {"records": {"columns": ["model"], "data": [["a", "b"]]}},
        {"records": {"columns": "model", "data": []}},
    ],
)
def test_bad_tables_are_named(copy: Path, tables: Any) -> None:
    (copy / "tables.json").write_text(json.dumps(tables))
    with pytest.raises(CheckpointError, match=r"tables\.json"):
        GNNRecommender.load(copy)
