"""``kgtransfer zoo build|grid|list`` on the tiny spec, and their one-line failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kgtransfer.cli import app
from kgtransfer.cli.zoo import default_home

runner = CliRunner()


def test_default_home_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KGTRANSFER_HOME", str(tmp_path))
    assert default_home() == tmp_path
    monkeypatch.delenv("KGTRANSFER_HOME")
    assert default_home() == Path.home() / ".cache" / "kgtransfer"


def test_build_list_grid(tmp_path: Path) -> None:
    home = str(tmp_path)
    before = runner.invoke(app, ["zoo", "list", "--home", home, "--spec", "tiny"])
    assert before.exit_code == 0, before.output
    assert before.output.count("missing") == 4
    assert "nan" not in before.output
    row = next(line for line in before.output.splitlines() if line.startswith("mlp.digits "))
    assert row.split()[:5] == ["mlp.digits", "mlp", "digits", "-", "missing"]

    built = runner.invoke(app, ["zoo", "build", "--home", home, "--spec", "tiny", "--quiet"])
    assert built.exit_code == 0, built.output
    assert "4 models (4 built, 0 cached)" in built.output

    again = runner.invoke(app, ["zoo", "build", "--home", home, "--spec", "tiny", "-q"])
    assert "4 models (0 built, 4 cached)" in again.output
    assert "unchanged" in again.output

    listed = runner.invoke(app, ["zoo", "list", "--home", home, "--spec", "tiny"])
    assert listed.exit_code == 0
    assert listed.output.count(" built ") == 4
    assert "mlp.digits_ft_rotated" in listed.output and "mlp.digits" in listed.output

    grid = runner.invoke(app, ["zoo", "grid", "--home", home, "--spec", "tiny", "--quiet"])
    assert grid.exit_code == 0, grid.output
    assert "12 runs (8 transfers ok)" in grid.output
    assert "digits_blurred" in grid.output and "digits_5to9" in grid.output
    assert (tmp_path / "zoo" / "grid.csv").is_file()


def test_home_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KGTRANSFER_HOME", str(tmp_path))
    listed = runner.invoke(app, ["zoo", "list", "--spec", "tiny"])
    assert listed.exit_code == 0
    assert str(tmp_path / "zoo" / "models") not in listed.output  # paths are not listed
    assert listed.output.count("missing") == 4


def test_failures_are_one_line(tmp_path: Path) -> None:
    bad = runner.invoke(app, ["zoo", "build", "--home", str(tmp_path), "--spec", "tinny"])
    assert bad.exit_code == 1
    assert bad.output.strip().splitlines() == [
        "error: Unknown zoo spec 'tinny'. Did you mean 'tiny'? Built-in: default, tiny."
    ]
    wrong = runner.invoke(app, ["zoo", "build", "--home", str(tmp_path), "--errors", "ignore"])
    assert wrong.exit_code == 1
    assert wrong.output.strip() == (
        "error: errors must be 'raise', 'warn' or 'collect', got 'ignore'."
    )
    early = runner.invoke(app, ["zoo", "grid", "--home", str(tmp_path), "--spec", "tiny"])
    assert early.exit_code == 1
    lines = early.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: The zoo under")
    assert "kgtransfer zoo build" in lines[0]


def test_help_lists_the_commands() -> None:
    out = runner.invoke(app, ["zoo", "--help"])
    assert out.exit_code == 0
    for cmd in ("build", "grid", "list"):
        assert cmd in out.output
