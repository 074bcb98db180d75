"""``kgtransfer demo | recommend | transfer | report``: help, exit codes, outputs."""

from __future__ import annotations

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
FAST_GNN = ["--gnn-epochs", "20", "--ensemble", "1"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An on-disk graph: 4 models, 3 targets with records, similarity edges."""
    path = tmp_path_factory.mktemp("store") / "graph"
    models = pd.DataFrame(
        {
            "model": ["a.x", "b.x", "c.y", "d.y"],
            "trained_on": ["x", "x", "y", "y"],
            "license": "mit",
        }
    )
    datasets = pd.DataFrame(
        {
            "dataset": ["x", "y", "t1", "t2", "t3"],
            "task": "cls",
            "n_classes": 2.0,
            "scratch_accuracy": [np.nan, np.nan, 0.6, 0.6, 0.6],
        }
    )
    values = {
        "t1": [0.9, 0.85, 0.62, 0.64],
        "t2": [0.88, 0.84, 0.63, 0.66],
        "t3": [0.65, 0.63, 0.9, 0.87],
    }
    records = pd.DataFrame(
        [
            {"model": m, "dataset": t, "value": v, "metric": "accuracy"}
            for t, vs in values.items()
            for m, v in zip(models["model"], vs, strict=True)
        ]
    )
    sims = pd.DataFrame(
        {
            "dataset_a": ["t1", "t2", "t3", "t1"],
            "dataset_b": ["x", "x", "y", "t2"],
            "similarity": [0.9, 0.8, 0.9, 0.85],
        }
    )
    with ZooGraph.open(path, create=True) as graph:
        graph.add_tables(models=models, datasets=datasets, records=records, similarities=sims)
    return path


@pytest.mark.parametrize("command", ["demo", "recommend", "transfer", "report"])
def test_help_shows_examples(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Examples" in result.output and f"kgtransfer {command}" in result.output


def test_recommend_ranks_from_a_store(store: Path) -> None:
    result = runner.invoke(
        app, ["recommend", "t1", "--store", str(store), "--k", "2", "--quiet", *FAST_GNN]
    )
    assert result.exit_code == 0, result.output
    assert "target t1 (known) scratch 0.600 (measured)" in result.output
    lines = [line for line in result.output.splitlines() if line.strip().startswith(("1 ", "2 "))]
    assert len(lines) == 2 and "a.x" in lines[0]


def test_recommend_failures_are_one_line(store: Path, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["recommend", "t1", "--store", str(tmp_path / "none")])
    assert missing.exit_code == 1
    assert missing.output.strip().startswith("error: No graph store at")
    assert len(missing.output.strip().splitlines()) == 1
    unknown = runner.invoke(app, ["recommend", "t9", "--store", str(store), *FAST_GNN])
    assert unknown.exit_code == 1
    assert "error: Unknown target dataset 't9'" in unknown.output
    no_label = runner.invoke(
        app, ["recommend", "new", "--store", str(store), "--data", str(tmp_path / "x.csv")]
    )
    assert no_label.exit_code == 1 and "--label-column" in no_label.output
    csv = tmp_path / "mine.csv"
    pd.DataFrame({"f": [0.1, 0.2, 0.3, 0.4], "y": [0, 1, 0, 1]}).to_csv(csv, index=False)
    unjoinable = runner.invoke(
        app,
        ["recommend", "mine", "--store", str(store), "--data", str(csv), "--label-column", "y"],
    )
    assert unjoinable.exit_code == 1
    assert "could be fingerprinted to join 'mine'" in unjoinable.output


def test_report_writes_every_format(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    result = runner.invoke(
        app,
        ["report", "--targets", "t1,t3", "--store", str(store), "--out", str(out), "-q", *FAST_GNN],
    )
    assert result.exit_code == 0, result.output
    assert f"report: {out / 'report.html'}" in result.output
    for name in ("report.html", "candidates.csv", "report.json", "report.md", "targets.csv"):
        assert (out / name).is_file()
    doc = json.loads((out / "report.json").read_text())
    assert [t["target"] for t in doc["targets"]] == ["t1", "t3"]
    assert doc["meta"]["holdout"] is True
    # held out: measured values are shown beside the predictions
    assert all(c["actual"] is not None for c in doc["targets"][0]["candidates"])
    bad = runner.invoke(app, ["report", "--targets", " , ", "--store", str(store)])
    assert bad.exit_code == 1 and "--targets is empty" in bad.output


def test_transfer_and_write_back(store: Path, tmp_path: Path) -> None:
    ckpt = tmp_path / "cnn_small.mine"
    model = create_model("cnn_small", n_classes=10, input_shape=(1, 8, 8))
    save_checkpoint(model, ckpt, name="cnn_small.mine", card={"license": "mit"})
    result = runner.invoke(
        app,
        [
            "transfer",
            str(ckpt),
            "digits_parity",
            "--epochs",
            "1",
            "--write",
            "--store",
            str(store),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "method: finetune (same architecture 'cnn_small'" in result.output
    assert "cnn_small.mine -> digits_parity: accuracy" in result.output
    with ZooGraph.open(store, read_only=True) as graph:
        rec = graph.to_tables().records
    assert ((rec["model"] == "cnn_small.mine") & (rec["dataset"] == "digits_parity")).sum() == 1
    wrong = runner.invoke(
        app,
        [
            "transfer",
            str(ckpt),
            "digits_parity",
            "--arch",
            "mlp_wide",
            "--method",
            "nope",
            "--epochs",
            "1",
        ],
    )
    assert wrong.exit_code == 1 and "Unknown transfer method 'nope'" in wrong.output


def test_demo_on_the_tiny_zoo(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    args = ["demo", "--spec", "tiny", "--home", str(tmp_path / "home"), "--out", str(out), "-q"]
    result = runner.invoke(app, [*args, *FAST_GNN])
    assert result.exit_code == 0, result.output
    assert "digits_blurred" in result.output and "digits_5to9" in result.output
    assert f"report: {out / 'report.html'}" in result.output
    doc = json.loads((out / "report.json").read_text())
    assert [t["target"] for t in doc["targets"]] == ["digits_blurred", "digits_5to9"]
    for t in doc["targets"]:
        assert t["transfer_method"] == "finetune"
        assert t["best_in_hindsight"] is not None and t["transfer_gain"] is not None
        assert t["scratch_source"] == "measured"
    assert "leave-one-target-out" in doc["meta"]["protocol"]


def test_column_map_renames_csv_columns_for_transfer_and_recommend(
    store: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4))
    csv = tmp_path / "wine.csv"
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"]).assign(quality=(x[:, 0] > 0).astype(int))
    frame.to_csv(csv, index=False)
    ckpt = tmp_path / "mlp.mine"
    save_checkpoint(create_model("mlp", n_classes=2, input_shape=(4,)), ckpt, name="mlp.mine")
    base = ["transfer", str(ckpt), "wine", "--data", str(csv), "--epochs", "1", "-q"]
    unmapped = runner.invoke(app, [*base, "--label-column", "label"])
    assert unmapped.exit_code == 1 and "has no column(s) ['label']" in unmapped.output
    mapped = runner.invoke(
        app, [*base, "--column-map", "quality=label", "--label-column", "label", "-f", "json"]
    )
    assert mapped.exit_code == 0, mapped.output
    assert json.loads(mapped.output)["target"] == "wine"
    typo = runner.invoke(app, [*base, "--column-map", "qualty=label", "--label-column", "label"])
    assert typo.exit_code == 1
    assert "--column-map renames column(s) ['qualty']" in typo.output  # in CLI words
    rec = ["recommend", "wine", "--store", str(store), "--data", str(csv), *FAST_GNN]
    reached = runner.invoke(app, [*rec, "--column-map", "quality=label", "--label-column", "label"])
    assert "has no column" not in reached.output  # renamed: the label is found
    # it gets as far as joining the graph (which depends on what earlier tests wrote)
    joined = "target wine (new)" in reached.output
    assert joined or "could be fingerprinted to join 'wine'" in reached.output
    unmapped = runner.invoke(app, [*rec, "--label-column", "label"])
    assert unmapped.exit_code == 1 and "has no column(s) ['label']" in unmapped.output
    alone = runner.invoke(app, ["recommend", "t1", "--store", str(store), "--column-map", "a=b"])
    assert alone.exit_code == 1 and "pass --data PATH too" in alone.output
