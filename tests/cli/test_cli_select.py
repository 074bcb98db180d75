"""``kgtransfer select``: help with examples, trials written to the store, one-line failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from kgtransfer.cli import app
from kgtransfer.kg import ZooGraph
from kgtransfer.models import create_model, save_checkpoint

torch.set_num_threads(1)
runner = CliRunner()
NAMES = ["mlp.s1", "mlp.s2", "mlp.s3"]


def test_help_shows_examples() -> None:
    result = runner.invoke(app, ["select", "--help"])
    assert result.exit_code == 0, result.output
    assert "Examples" in result.output and "kgtransfer select" in result.output


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    """A home with three small checkpoints and a graph of their records on d0..d2."""
    for i, name in enumerate(NAMES):
        torch.manual_seed(i)
        model = create_model("mlp", n_classes=2, input_shape=(4,))
        save_checkpoint(model, tmp_path / "zoo" / "models" / name, name=name)
    rows = [  # mlp.gone: the most popular model, without a checkpoint in this home
        {"model": m, "dataset": f"d{j}", "value": 0.6 + 0.1 * i + 0.01 * j, "metric": "accuracy"}
        for i, m in enumerate([*NAMES, "mlp.gone"])
        for j in range(3)
    ]
    with ZooGraph.open(tmp_path / "graph", create=True) as graph:
        graph.add_tables(
            models=pd.DataFrame({"model": [*NAMES, "mlp.gone"], "architecture": "mlp"}),
            datasets=pd.DataFrame({"dataset": ["d0", "d1", "d2", "mine"]}),
            records=pd.DataFrame(rows),
        )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4))
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(y=(x[:, 0] > 0).astype(int))
    frame.to_csv(tmp_path / "mine.csv", index=False)
    return tmp_path


@pytest.mark.slow
def test_select_runs_trials_and_writes_them(home: Path) -> None:
    args = ["select", "mine", "--trials", "2", "--home", str(home), "--recommender", "popularity"]
    args += ["--data", str(home / "mine.csv"), "--label-column", "y", "--epochs", "1", "--quiet"]
    failed = runner.invoke(app, args)  # the first pick has no checkpoint: one-line failure
    assert failed.exit_code == 1 and "mlp.gone" in failed.output
    result = runner.invoke(app, [*args, "--keep-going"])
    assert result.exit_code == 0, result.output
    assert "failed: trial('mlp.gone') failed: UnknownNameError" in result.output
    assert "best tried: mlp.s" in result.output
    assert result.output.count("why: ") == 2
    with ZooGraph.open(home / "graph", read_only=True) as graph:
        records = graph.to_tables().records
    assert (records["dataset"].astype(str) == "mine").sum() == 1  # the failed trial wrote none


def test_select_failures_are_one_line(home: Path) -> None:
    result = runner.invoke(app, ["select", "mine", "--home", str(home), "--data", "x.csv"])
    assert result.exit_code == 1 and "--label-column" in result.output
    result = runner.invoke(app, ["select", "mine", "--store", str(home / "nope")])
    assert result.exit_code == 1 and "No graph store" in result.output
    result = runner.invoke(
        app, ["select", "mne", "--home", str(home), "--recommender", "popularity"]
    )
    assert result.exit_code == 1 and "mine" in result.output  # did you mean


def test_select_without_data_speaks_cli_words(home: Path) -> None:
    result = runner.invoke(
        app, ["select", "mine", "--home", str(home), "--recommender", "popularity"]
    )
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "'mine' is not a registered dataset" in said
    assert "--data PATH --label-column COLUMN" in said
    for python in ("data=", "trial=", "label_column=", "ArrayDataset", "(x, y)"):
        assert python not in said, python
