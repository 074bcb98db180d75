"""``--executor`` / ``--address`` on zoo grid, select, demo and report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from kgtransfer.cli import app
from kgtransfer.executor import Executor
from kgtransfer.kg import ZooGraph

runner = CliRunner()
COMMANDS = [["zoo", "grid"], ["select"], ["demo"], ["report"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_shows_the_executor_options_and_an_example(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "--executor" in result.output and "--address" in result.output
    assert f"kgtransfer {' '.join(command)} " in result.output
    assert "--executor ray" in result.output  # an example


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "graph"
    records = pd.DataFrame(
        [
            {"model": m, "dataset": t, "value": v, "metric": "accuracy"}
            for t, vs in {
                "t1": [0.9, 0.6, 0.7],
                "t2": [0.85, 0.62, 0.7],
                "t3": [0.6, 0.9, 0.8],
            }.items()
            for m, v in zip(["a", "b", "c"], vs, strict=True)
        ]
    )
    with ZooGraph.open(path, create=True) as graph:
        graph.add_tables(
            models=pd.DataFrame({"model": ["a", "b", "c"]}),
            datasets=pd.DataFrame({"dataset": ["t1", "t2", "t3"]}),
            records=records,
        )
    return path


def test_bad_executor_options_fail_in_one_line(store: Path, tmp_path: Path) -> None:
    base = ["report", "--targets", "t1", "--store", str(store), "--out", str(tmp_path), "-q"]
    unknown = runner.invoke(app, [*base, "--executor", "rya"])
    assert unknown.exit_code == 1
    assert "Unknown executor 'rya'. Did you mean 'ray'?" in unknown.output
    alone = runner.invoke(app, [*base, "--address", "127.0.0.1:6379"])
    assert alone.exit_code == 1 and "needs --executor ray" in alone.output
    malformed = runner.invoke(app, [*base, "--executor", "ray", "--address", "no address"])
    assert malformed.exit_code == 1 and "host:port" in malformed.output
    assert len(malformed.output.strip().splitlines()) == 1


@pytest.mark.slow
def test_report_on_ray(store: Path, tmp_path: Path, ray_executor: Executor) -> None:
    list(ray_executor.map([lambda: 0]))  # the session's Ray is up: the command reuses it
    args = ["report", "--targets", "t1,t3", "--store", str(store), "--out", str(tmp_path)]
    args += ["-q", "--gnn-epochs", "20", "--ensemble", "1", "--format", "json"]
    ray = runner.invoke(app, [*args, "--executor", "ray"])
    assert ray.exit_code == 0, ray.output
    # equality with the serial report: tests/report/test_report_batch.py
    assert [t["target"] for t in json.loads(ray.output)["targets"]] == ["t1", "t3"]
