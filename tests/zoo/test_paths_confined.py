"""Zoo names never become paths outside the kgtransfer home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from kgtransfer.errors import ArgumentError
from kgtransfer.models import create_model, save_checkpoint
from kgtransfer.zoo import SourceSpec, TargetSpec, load_zoo_model

HOSTILE = ["../../outside", "..", ".", "a/b", "a\\b", "x\x00y", "C:evil", "line\nbreak", ""]


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """``(home, outside)``: an empty zoo home and a valid checkpoint beside it."""
    torch.manual_seed(0)
    outside = save_checkpoint(
        create_model("mlp", n_classes=2, input_shape=(4,), width=4), tmp_path / "outside", name="x"
    )
    home = tmp_path / "home"
    (home / "zoo" / "models").mkdir(parents=True)
    return home, outside


@pytest.mark.parametrize("name", HOSTILE)
def test_bad_zoo_names_are_refused(layout: tuple[Path, Path], name: str) -> None:
    home, _ = layout
    with pytest.raises(ArgumentError, match="Invalid zoo model name") as info:
        load_zoo_model(home, name)
    assert repr(name) in str(info.value)


def test_names_cannot_reach_a_checkpoint_outside_the_home(layout: tuple[Path, Path]) -> None:
    home, outside = layout
    for name in ("../../outside", str(outside), str(outside.resolve())):
        with pytest.raises(ArgumentError, match="plain name"):
            load_zoo_model(home, name)


def test_a_symlink_out_of_the_home_is_refused(layout: tuple[Path, Path]) -> None:
    home, outside = layout
    os.symlink(outside, home / "zoo" / "models" / "mlp.link")
    with pytest.raises(ArgumentError, match="resolves outside"):
        load_zoo_model(home, "mlp.link")


def test_spec_names_must_be_plain() -> None:
    with pytest.raises(ArgumentError, match=r"'mlp\.\.\./\.\./x'"):
        SourceSpec("mlp.../../x", "digits")
    with pytest.raises(ArgumentError, match="zoo target name"):
        TargetSpec("../digits")
    assert SourceSpec("mlp.digits", "digits").arch == "mlp"
