"""``kgtransfer recommend``: bad inputs give one line naming the argument, exit code 1."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kgtransfer.cli import app
from kgtransfer.kg import ZooGraph

runner = CliRunner()
FAST_GNN = ["--gnn-epochs", "5", "--ensemble", "1", "--quiet"]
MODELS = pd.DataFrame({"model": ["a.x", "b.x", "c.y"], "trained_on": ["x", "x", "y"]})
DATASETS = pd.DataFrame({"dataset": ["x", "y", "t1", "t2"], "task": "cls"})


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "graph"
    records = pd.DataFrame(
        [
            {"model": m, "dataset": t, "value": v, "metric": "accuracy"}
            for t, vs in {"t1": [0.9, 0.8, 0.6], "t2": [0.85, 0.8, 0.65]}.items()
            for m, v in zip(MODELS["model"], vs, strict=True)
        ]
    )
    with ZooGraph.open(path, create=True) as graph:
        graph.add_tables(models=MODELS, datasets=DATASETS, records=records)
    return path


@pytest.fixture(scope="module")
def empty_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("empty") / "graph"
    with ZooGraph.open(path, create=True) as graph:
        graph.add_tables(models=MODELS, datasets=DATASETS)
    return path


def _error_line(args: list[str]) -> str:
    result = runner.invoke(app, ["recommend", *args])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["", *FAST_GNN], "error: target must be non-empty text, got ''"),
        (["   ", *FAST_GNN], "error: target must be non-empty text, got '   '"),
        (["t1", "--modality", "", *FAST_GNN], "error: modality must be non-empty text"),
        (["t1", "--seed", "-1", *FAST_GNN], "error: seed must be a non-negative integer"),
        (["t11", *FAST_GNN], "error: Unknown target dataset 't11'. Did you mean 't1'"),
    ],
)
def test_bad_inputs_are_one_line(store: Path, args: list[str], expected: str) -> None:
    assert _error_line([*args, "--store", str(store)]).startswith(expected)


def test_graph_without_records_is_one_line(empty_store: Path) -> None:
    line = _error_line(["t1", "--store", str(empty_store), *FAST_GNN])
    assert "has no transfer records" in line and "kgtransfer ingest" in line


def test_good_inputs_still_rank(store: Path) -> None:
    result = runner.invoke(app, ["recommend", "t1", "--store", str(store), "--k", "2", *FAST_GNN])
    assert result.exit_code == 0, result.output
    assert "target t1 (known)" in result.output
