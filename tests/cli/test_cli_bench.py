from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from kgtransfer.cli import app

runner = CliRunner()


@pytest.fixture
def zoo_csvs(tmp_path):
    rows = []
    for d_i, d in enumerate(["x", "y", "z", "w"]):
        for m_i, m in enumerate(["m0", "m1", "m2", "m3"]):
            rows.append((m, d, 0.5 + 0.1 * m_i + 0.01 * ((m_i + d_i) % 3)))
    recs = pd.DataFrame(rows, columns=["model", "dataset", "value"])
    recs.to_csv(tmp_path / "R.csv", index=False)
    models = pd.DataFrame({"model": ["m0", "m1", "m2", "m3"], "n_params": [1e6, 2e6, 3e6, 4e6]})
    models.to_csv(tmp_path / "M.csv", index=False)
    return tmp_path


def test_benchmark_own_tables(zoo_csvs) -> None:
    out = zoo_csvs / "res.json"
    args = ["benchmark", "--records", str(zoo_csvs / "R.csv"), "--models", str(zoo_csvs / "M.csv")]
    args += [
        "--methods",
        "popularity,gnn",
        "--epochs",
        "5",
        "--targets",
        "x,y",
        "-q",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "| popularity |" in result.output and "| gnn |" in result.output
    saved = json.loads(out.read_text())
    assert saved["targets"] == ["x", "y"]
    assert saved["results"]["popularity"]["mean"]["top1_relative"] == pytest.approx(1.0)


def test_benchmark_bad_arguments(zoo_csvs) -> None:
    result = runner.invoke(app, ["benchmark", "-q"])
    assert result.exit_code == 1 and "either --zoo" in result.output
    args = ["benchmark", "--records", str(zoo_csvs / "R.csv"), "--methods", "gnn,popular", "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "unknown method(s) ['popular']" in result.output
    result = runner.invoke(app, ["benchmark", "--zoo", "tlib", "--shared", str(zoo_csvs), "-q"])
    assert result.exit_code == 1 and "Did you mean 'tllib'" in result.output


def test_benchmark_baselines_and_na(zoo_csvs) -> None:
    args = ["benchmark", "--records", str(zoo_csvs / "R.csv"), "--models", str(zoo_csvs / "M.csv")]
    args += ["--methods", "size,lineage,score:*,logme", "-q"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "| size | 0." in result.output or "| size | -0." in result.output  # sizes known
    assert "| lineage | n/a |" in result.output  # no base_model column
    assert "| score:* | n/a |" in result.output  # no scores table
    assert "'logme' is deprecated" in result.output and "| score:logme | n/a |" in result.output
