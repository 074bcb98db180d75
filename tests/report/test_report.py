"""Batch report: CSV/JSON round trips, Markdown, error modes, HTML in headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kgtransfer.report import CANDIDATE_COLUMNS, read_report, write_report

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)


class _Rec:
    """A recommendation-like object (duck-typed like kgtransfer.api.Recommendation)."""

    def __init__(self, target: str, frame: pd.DataFrame, context: dict) -> None:
        self.target = target
        self._frame = frame
        self.context = context

    def to_frame(self) -> pd.DataFrame:
        return self._frame.assign(target=self.target)

    def summary(self) -> dict:
        return {"target": self.target, "kind": "known"}


def _rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "target": ["t1"] * 3 + ["t2"] * 2,
            "model": ["a", "b", "c", "a", "b"],
            "rank": [1, 2, 3, 1, 2],
            "score": [1.0, 0.5, -1.0, 0.3, 0.1],
            "predicted": [0.8, 0.7, 0.6, 0.5, 0.45],
            "low": [0.7, 0.6, 0.5, 0.4, 0.35],
            "high": [0.9, 0.8, 0.7, 0.6, 0.55],
            "scratch": [0.6, 0.6, 0.6, 0.5, 0.5],
            "risk": [0.05, 0.2, 0.5, 0.4, 0.6],
            "actual": [0.75, 0.78, np.nan, 0.52, 0.49],
            "evidence": ['trained on "x", similar (0.9)', "", "", "a|b, c", ""],
            "logme": [1.5, 1.2, 0.3, 0.1, 0.0],
        }
    )


def test_csv_and_json_round_trip(tmp_path: Path) -> None:
    rows = _rows()
    paths = write_report(rows, tmp_path, formats=("csv", "json"))
    assert sorted(paths) == ["csv", "json", "targets_csv"]
    from_csv = read_report(paths["csv"])
    from_json = read_report(paths["json"])
    assert list(from_csv.columns) == [*CANDIDATE_COLUMNS, "logme"]
    assert not any(c.startswith("Unnamed") for c in pd.read_csv(paths["csv"]).columns)
    pd.testing.assert_frame_equal(from_csv, from_json, check_dtype=False)
    expected = rows.set_index(["target", "model"])
    got = from_csv.set_index(["target", "model"]).loc[expected.index]
    for col in ("predicted", "low", "high", "actual", "logme", "risk"):
        np.testing.assert_allclose(got[col], expected[col], equal_nan=True)
    assert got["evidence"].tolist() == rows["evidence"].tolist()
    # derived columns: gains computed from scratch when absent
    assert got.loc[("t1", "a"), "predicted_gain"] == pytest.approx(0.2)
    assert got.loc[("t1", "b"), "actual_gain"] == pytest.approx(0.18)


def test_json_holds_target_summaries(tmp_path: Path) -> None:
    paths = write_report(
        _rows(),
        tmp_path,
        formats=("json",),
        summaries=[{"target": "t1", "transfer_gain": 0.12, "transfer_method": "finetune"}],
        meta={"seed": 3},
    )
    doc = json.loads(paths["json"].read_text())
    assert doc["format"] == "kgtransfer.report/1"
    assert doc["meta"]["seed"] == 3
    t1, t2 = doc["targets"]
    assert (t1["target"], t1["recommended"], t1["best_in_hindsight"]) == ("t1", "a", "b")
    assert t1["regret"] == pytest.approx(0.03)  # 0.78 - 0.75
    assert t1["transfer_gain"] == 0.12 and t1["transfer_method"] == "finetune"
    assert len(t1["candidates"]) == 3 and t1["candidates"][2]["actual"] is None
    assert t2["regret"] == pytest.approx(0.0)


def test_markdown_summary(tmp_path: Path) -> None:
    paths = write_report(_rows(), tmp_path, formats=("md",), title="My zoo", k=2)
    text = paths["md"].read_text()
    assert text.startswith("# My zoo")
    assert "| t1 | a | 0.800 | 0.750 |" in text
    assert "a\\|b, c" in text  # pipes escaped inside table cells
    assert "| 3 | c |" not in text  # k=2 rows per target


def test_recommendation_objects_and_rank_filled(tmp_path: Path) -> None:
    frame = pd.DataFrame({"model": ["x", "y"], "predicted": [0.2, 0.9]})
    rec = _Rec("new", frame, {"neighbours": [{"dataset": "d", "similarity": 0.8}]})
    paths = write_report([rec], tmp_path, formats=("csv", "json"))
    back = read_report(paths["csv"])
    assert back["model"].tolist() == ["y", "x"]  # ranked by predicted when no rank
    assert back["rank"].tolist() == [1.0, 2.0]
    doc = json.loads(paths["json"].read_text())
    assert doc["targets"][0]["kind"] == "known"
    assert doc["targets"][0]["context"]["neighbours"][0]["dataset"] == "d"


def test_bad_input_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['predicted'\]"):
        write_report(pd.DataFrame({"target": ["t"], "model": ["a"]}), tmp_path)
    with pytest.raises(ValueError, match=r"Unknown report format\(s\) \['pdf'\]"):
        write_report(_rows(), tmp_path, formats=("pdf",))
    bad = _rows().assign(predicted=["high"] * 5)
    with pytest.raises(ValueError, match="non-numeric value 'high'"):
        write_report(bad, tmp_path)
    with pytest.raises(TypeError, match="Cannot report a 'int'"):
        write_report([3], tmp_path)
    with pytest.raises(ValueError, match="not a kgtransfer report"):
        (tmp_path / "x.json").write_text('{"format": "other"}')
        read_report(tmp_path / "x.json")


def test_collect_and_warn_keep_problems_visible(tmp_path: Path) -> None:
    items = [_rows(), pd.DataFrame({"target": ["t3"], "model": ["z"]})]
    with pytest.warns(UserWarning, match="report item 1"):
        paths = write_report(items, tmp_path / "w", formats=("json", "md"), errors="warn")
    doc = json.loads(paths["json"].read_text())
    assert len(doc["problems"]) == 1 and "predicted" in doc["problems"][0]
    assert "## Problems" in paths["md"].read_text()
    paths = write_report(items, tmp_path / "c", formats=("json",), errors="collect")
    assert len(json.loads(paths["json"].read_text())["problems"]) == 1
    with pytest.raises(ValueError, match="Nothing to report"):
        write_report(items[1:], tmp_path / "n", errors="collect")


def test_rewrite_is_atomic_and_readable(tmp_path: Path) -> None:
    write_report(_rows(), tmp_path, formats=("csv",))
    write_report(_rows().head(2), tmp_path, formats=("csv",))
    assert len(read_report(tmp_path / "candidates.csv")) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert (tmp_path / "candidates.csv").stat().st_mode & 0o044  # readable by others


def _chromium(html: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
            html.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_html_opens_in_headless_chromium(tmp_path: Path) -> None:
    rows = _rows()
    rec = _Rec(
        "t1",
        rows[rows["target"] == "t1"].drop(columns="target"),
        {
            "neighbours": [{"dataset": "near", "similarity": 0.91}],
            "trained_on": {"a": "near", "b": "far"},
            "base_model": {"b": "a"},
        },
    )
    paths = write_report(
        [rec, rows[rows["target"] == "t2"]], tmp_path / "r", title="<Zoo & report>"
    )
    html = paths["html"].read_text()
    assert "<title>&lt;Zoo &amp; report&gt;</title>" in html
    for remote in ('src="http', 'href="http', "<link", "@import", "url(http"):
        assert remote not in html  # nothing to fetch
    assert html.count("<svg") == 4  # predicted-vs-actual, gain, 2 evidence graphs
    shot = tmp_path / "shot.png"
    run = _chromium(paths["html"], tmp_path, f"--screenshot={shot}", "--window-size=1280,2000")
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    assert shot.is_file() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dom = _chromium(paths["html"], tmp_path, "--dump-dom")
    assert 'data-ready="3"' in dom.stdout  # the sort script ran over the 3 tables
