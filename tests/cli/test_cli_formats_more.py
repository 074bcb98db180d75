"""``--format table|csv|json`` of select, stats, zoo list and benchmark (issue 12).

Machine output alone on stdout (parsed here), notes on stderr.
"""

from __future__ import annotations

import io
import json
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


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three small checkpoints, a graph of their records on d0..d2 and a target ``mine``."""
    root = tmp_path_factory.mktemp("home")
    for i, name in enumerate(NAMES):
        torch.manual_seed(i)
        model = create_model("mlp", n_classes=2, input_shape=(4,))
        save_checkpoint(model, root / "zoo" / "models" / name, name=name)
    rows = [
        {"model": m, "dataset": f"d{j}", "value": 0.6 + 0.1 * i + 0.01 * j, "metric": "accuracy"}
        for i, m in enumerate(NAMES)
        for j in range(3)
    ]
    with ZooGraph.open(root / "graph", create=True) as graph:
        graph.add_tables(
            models=pd.DataFrame({"model": NAMES, "architecture": "mlp"}),
            datasets=pd.DataFrame({"dataset": ["d0", "d1", "d2", "mine"]}),
            records=pd.DataFrame(rows),
        )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4))
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(y=(x[:, 0] > 0).astype(int))
    frame.to_csv(root / "mine.csv", index=False)
    frame = pd.DataFrame(rows)
    frame.to_csv(root / "records.csv", index=False)
    return root


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_stats_csv_and_json(home: Path) -> None:
    store = ["--store", str(home / "graph")]
    counts = json.loads(_ok(["stats", *store, "--format", "json"]))
    assert counts["models"] == 3 and counts["records"] == 9 and counts["quads"] > 0
    frame = pd.read_csv(io.StringIO(_ok(["stats", *store, "-f", "csv"])))
    assert frame.columns.tolist() == ["kind", "count"]
    assert dict(zip(frame["kind"], frame["count"], strict=True)) == counts
    table = _ok(["stats", *store])
    assert "models" in table and not table.lstrip().startswith("{")


def test_zoo_list_csv_and_json(tmp_path: Path) -> None:
    args = ["zoo", "list", "--spec", "tiny", "--home", str(tmp_path)]
    frame = pd.read_csv(io.StringIO(_ok([*args, "--format", "csv"])))
    assert frame["model"].tolist()[:2] == ["mlp.digits", "mlp.digits_ft_rotated"]
    assert set(frame["status"]) == {"missing"} and "test_accuracy" in frame.columns
    rows = json.loads(_ok([*args, "-f", "json"]))
    assert [r["model"] for r in rows] == frame["model"].tolist()
    assert rows[1]["base_model"] == "mlp.digits" and rows[0]["base_model"] is None


def test_benchmark_csv_and_json(home: Path) -> None:
    args = ["benchmark", "--records", str(home / "records.csv"), "--methods", "popularity,size"]
    text = _ok([*args, "--format", "csv", "--quiet"])
    frame = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert frame["method"].tolist() == ["popularity", "size"]
    assert frame["subset"].tolist() == ["all", "all"]
    assert frame.loc[1, "pearson"] == "n/a"  # size needs n_params
    doc = json.loads(_ok([*args, "-f", "json", "--quiet"]))
    assert [r["method"] for r in doc["summary"]] == ["popularity", "size"]
    assert doc["summary"][0]["targets"] == 3 and "logme_subset" not in doc
    assert _ok([*args, "--quiet"]).startswith("| method |")  # the Markdown table stays


@pytest.mark.slow
def test_select_csv_and_json(home: Path) -> None:
    args = ["select", "mine", "--trials", "1", "--home", str(home), "--recommender"]
    args += ["popularity", "--data", str(home / "mine.csv"), "--label-column", "y"]
    args += ["--epochs", "1", "--quiet"]
    doc = json.loads(_ok([*args, "--format", "json"]))
    assert doc["target"] == "mine" and doc["best"] == "mlp.s3"  # popularity's first pick
    assert [t["model"] for t in doc["trials"]] == ["mlp.s3"] and doc["failed"] == []
    assert 0.0 <= doc["best_value"] <= 1.0
    assert {u["model"] for u in doc["untried"]} == {"mlp.s1", "mlp.s2"}
    frame = pd.read_csv(io.StringIO(_ok([*args, "--format", "csv"])))
    assert frame["model"].tolist() == ["mlp.s2"]  # mlp.s3 was measured by the first run
    assert {"step", "model", "value", "predicted", "why"} <= set(frame.columns)
