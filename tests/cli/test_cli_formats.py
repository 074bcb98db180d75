"""``--format table|csv|json`` of recommend, transfer and report; rich tables (issue 12)."""

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
FAST_GNN = ["--gnn-epochs", "20", "--ensemble", "1", "--quiet"]
LONG = "a_really_long_model_identifier_from_the_hub_that_goes_on_and_on.x"
FORMULA = "=cmd.y"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 models (one with a long id, one that looks like a spreadsheet formula), 3 targets."""
    path = tmp_path_factory.mktemp("store") / "graph"
    models = pd.DataFrame(
        {"model": [LONG, "b.x", FORMULA, "d.y"], "trained_on": ["x", "x", "y", "y"]}
    )
    datasets = pd.DataFrame(
        {
            "dataset": ["x", "y", "t1", "t2", "t3"],
            "task": "cls",
            "n_classes": 2.0,
            "scratch_accuracy": [np.nan, np.nan, 0.6, 0.6, 0.6],
        }
    )
    values = {"t1": [0.9, 0.85, 0.62, 0.64], "t2": [0.88, 0.84, 0.63, 0.66], "t3": [0.65, 0.63, 0.9, 0.87]}  # fmt: skip
    records = pd.DataFrame(
        [
            {"model": m, "dataset": t, "value": v, "metric": "accuracy"}
            for t, vs in values.items()
            for m, v in zip(models["model"], vs, strict=True)
        ]
    )
    sims = pd.DataFrame(
        {"dataset_a": ["t1", "t2", "t3"], "dataset_b": ["x", "x", "y"], "similarity": 0.9}
    )
    with ZooGraph.open(path, create=True) as graph:
        graph.add_tables(models=models, datasets=datasets, records=records, similarities=sims)
    return path


def test_recommend_csv_is_machine_output_with_formulas_neutralised(store: Path) -> None:
    args = ["recommend", "t3", "--store", str(store), "--k", "4", "-f", "csv", *FAST_GNN]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert frame.columns[:3].tolist() == ["target", "rank", "model"]
    assert set(frame["target"]) == {"t3"} and frame["rank"].tolist() == [1, 2, 3, 4]
    assert f"'{FORMULA}" in frame["model"].tolist() and FORMULA not in frame["model"].tolist()
    assert not result.stdout.startswith("target t3 (known)")


def test_recommend_json(store: Path) -> None:
    args = ["recommend", "t1", "--store", str(store), "--k", "2", "--format", "json", *FAST_GNN]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["target"] == "t1" and doc["scratch"] == pytest.approx(0.6)
    assert [c["rank"] for c in doc["candidates"]] == [1, 2]
    assert doc["candidates"][0]["model"] in (LONG, "b.x")


def test_recommend_table_keeps_columns_aligned_with_long_ids(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = runner.invoke(app, ["recommend", "t3", "--store", str(store), "--k", "4", *FAST_GNN])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "predicted" in line and "model" in line)
    end = header.index("predicted") + len("predicted")
    rows = [line for line in lines if line.strip()[:2] in ("1 ", "2 ", "3 ", "4 ")]
    assert len(rows) == 4
    for row in rows:  # every value ends under its header, the long id folds in its cell
        assert row[end - 5 : end].strip().replace(".", "").isdigit(), (header, row)
    assert all(len(line) <= 80 for line in lines[: lines.index(rows[-1]) + 1])
    assert "".join(line[6:40] for line in lines).replace(" ", "").count("goes_on_and_on") == 1


def test_report_summary_formats(store: Path, tmp_path: Path) -> None:
    base = ["report", "--targets", "t1,t3", "--store", str(store), "--formats", "json", *FAST_GNN]
    as_json = runner.invoke(app, [*base, "--out", str(tmp_path / "a"), "-f", "json"])
    assert as_json.exit_code == 0, as_json.output
    doc = json.loads(as_json.stdout)
    assert [t["target"] for t in doc["targets"]] == ["t1", "t3"]
    assert doc["files"]["json"].endswith("report.json")
    as_csv = runner.invoke(app, [*base, "--out", str(tmp_path / "b"), "-f", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    frame = pd.read_csv(io.StringIO(as_csv.stdout))
    assert frame.columns.tolist() == ["target", "best", "predicted", "gain", "risk"]
    assert set(frame["best"]) <= {LONG, "b.x", f"'{FORMULA}", "d.y"}  # formulas neutralised


def test_transfer_json(tmp_path: Path) -> None:
    ckpt = tmp_path / "cnn_small.mine"
    model = create_model("cnn_small", n_classes=10, input_shape=(1, 8, 8))
    save_checkpoint(model, ckpt, name="cnn_small.mine", card={"license": "mit"})
    args = ["transfer", str(ckpt), "digits_parity", "--epochs", "1", "-q", "-f", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["source"] == "cnn_small.mine" and doc["target"] == "digits_parity"
    assert doc["method"] == "finetune" and 0.0 <= doc["accuracy"] <= 1.0
    assert isinstance(doc["negative_transfer"], bool) and doc["record"] is None


def test_no_progress_frames_in_a_redirected_log(store: Path) -> None:
    """Without --quiet, progress still stays out of a log (stderr is not a terminal here)."""
    args = ["recommend", "t1", "--store", str(store), "--gnn-epochs", "20", "--ensemble", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "gnn ensemble" not in result.output and "it/s" not in result.output


def test_table_into_a_log_keeps_long_ids_whole(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)  # a log has no width: natural width
    result = runner.invoke(app, ["recommend", "t3", "--store", str(store), "--k", "4", *FAST_GNN])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if LONG in line)
    header = next(line for line in result.stdout.splitlines() if "predicted" in line)
    end = header.index("predicted") + len("predicted")
    assert row[end - 5 : end] == "0.650"


def test_empty_ranking_says_why(store: Path) -> None:
    args = ["recommend", "t1", "--store", str(store), "--modality", "nope", "-f", "json"]
    result = runner.invoke(app, [*args, *FAST_GNN])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["candidates"] == []
    assert "no candidate model of modality 'nope' for t1" in result.stderr


def test_json_output_is_strict_json(capsys: pytest.CaptureFixture[str]) -> None:
    """inf and NaN are null (JSON has neither), numpy and torch scalars are numbers."""
    from kgtransfer.cli._output import emit_json, records

    frame = pd.DataFrame({"a": [np.inf, 1.0], "b": [pd.NA, "x"]}).astype({"b": "string"})
    emit_json({"rows": records(frame), "t": torch.tensor(2.5), "n": [np.int64(3), np.nan]})
    text = capsys.readouterr().out
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON {c}")) == {
        "rows": [{"a": None, "b": None}, {"a": 1.0, "b": "x"}],
        "t": 2.5,
        "n": [3, None],
    }
