"""Hostile ids through write_report: CSV formula injection, Markdown/HTML escaping, plots."""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kgtransfer.report import read_report, write_report

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x","click")',
    "+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    " =1+1",
    "'=already quoted",
    "<script>alert(1)</script>",
    "a|b",
    "line\nbreak",
    "$x^2$",
    "$\\frac$",
    "\\",
    "`tick` *star* _under_ [l](http://x)",
    "# heading",
    "1. item",
    "\u00a0=1+1",  # Unicode blanks and a BOM before the formula
    "\ufeff=1+1",
    "\u3000@SUM(A1)",
    "\x0b-1+2",
]
FORMULA_START = tuple("=+-@\t\r")


def _rows(ids: list[str]) -> pd.DataFrame:
    n = len(ids)
    return pd.DataFrame(
        {
            "target": [ids[i % n] for i in range(2 * n)],
            "model": [ids[(i + 3) % n] for i in range(2 * n)],
            "predicted": np.linspace(0.2, 0.9, 2 * n),
            "actual": np.linspace(0.1, 0.8, 2 * n),
            "scratch": 0.5,  # gains below are negative numbers: they must stay numbers
            "evidence": [ids[(i + 5) % n] for i in range(2 * n)],
        }
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Path], pd.DataFrame]:
    rows = _rows(HOSTILE)
    out = tmp_path_factory.mktemp("hostile")
    paths = write_report(
        rows,
        out,
        formats=("csv", "json", "md"),
        k=100,
        summaries=[{"target": "+1", "note": "=cmd|' /C calc'!A0"}],
    )
    return paths, rows


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("hostile_html")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Glyph", UserWarning)  # a tab has no glyph
        paths = write_report(_rows(HOSTILE), out, formats=("html",), k=100)
    return paths["html"].read_text(encoding="utf-8")


def test_csv_text_cells_cannot_start_a_formula(
    report: tuple[dict[str, Path], pd.DataFrame],
) -> None:
    paths, _ = report
    for key in ("csv", "targets_csv"):
        with open(paths[key], newline="", encoding="utf-8") as fh:
            table = list(csv.reader(fh))
        header, body = table[0], table[1:]
        numeric = {"rank", "score", "predicted", "low", "high", "scratch", "predicted_gain"}
        numeric |= {"risk", "actual", "actual_gain", "recommended_predicted", "regret"}
        for row in body:
            for col, cell in zip(header, row, strict=True):
                if col in numeric:
                    if cell:
                        float(cell)  # numbers are written as numbers, not quoted text
                    continue
                bare = cell.lstrip().lstrip("\ufeff\u200b").lstrip()
                assert cell.startswith("'") or not bare.startswith(FORMULA_START), (col, cell)


def test_csv_round_trip_keeps_ids_and_numbers(report: tuple[dict[str, Path], pd.DataFrame]) -> None:
    paths, rows = report
    back = (
        read_report(paths["csv"])
        .sort_values(["target", "model", "predicted"])
        .reset_index(drop=True)
    )
    want = rows.sort_values(["target", "model", "predicted"]).reset_index(drop=True)
    assert back["target"].tolist() == want["target"].tolist()
    assert back["model"].tolist() == want["model"].tolist()
    assert back["evidence"].tolist() == want["evidence"].tolist()
    for col in ("predicted", "actual", "predicted_gain", "actual_gain"):
        assert back[col].dtype == float
    np.testing.assert_allclose(back["predicted"], want["predicted"])
    assert (back["actual_gain"] < 0).any()  # e.g. -0.13 stays the number -0.13
    np.testing.assert_allclose(back["actual_gain"], want["actual"] - want["scratch"])


def test_json_keeps_ids_verbatim(report: tuple[dict[str, Path], pd.DataFrame]) -> None:
    paths, rows = report
    back = read_report(paths["json"])
    assert sorted(back["model"]) == sorted(rows["model"])


def _cells(line: str) -> list[str]:
    """Split a GFM table row like cmark-gfm: a backslash escapes the next character."""
    assert line.startswith("|") and line.endswith("|"), line
    cells, cur, i = [], "", 1
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            cur += line[i : i + 2]
            i += 2
            continue
        if ch == "|":
            cells.append(cur.strip())
            cur = ""
        else:
            cur += ch
        i += 1
    return cells


def test_markdown_tables_keep_their_shape(report: tuple[dict[str, Path], pd.DataFrame]) -> None:
    paths, rows = report
    text = paths["md"].read_text(encoding="utf-8")
    assert "<script" not in text and "<" not in text
    lines = text.splitlines()
    tables: list[list[str]] = []
    for i, line in enumerate(lines):
        if line.startswith("|") and (i == 0 or not lines[i - 1].startswith("|")):
            tables.append([])
        if line.startswith("|"):
            tables[-1].append(line)
    n_targets = rows["target"].nunique()
    assert len(tables) == 1 + n_targets  # the summary and one table per target
    for table in tables:
        width = len(_cells(table[0]))
        assert all(len(_cells(line)) == width for line in table), table
    summary = tables[0]
    assert len(summary) == 2 + n_targets
    for table in tables[1:]:
        assert len(table) == 2 + 2  # header, rule, two candidates per target
    # every heading is a single line of escaped text
    headings = [line for line in lines if line.startswith("## ")]
    assert len(headings) == 1 + n_targets  # Summary (no Problems), one per target


def test_markdown_renders_without_raw_html(report: tuple[dict[str, Path], pd.DataFrame]) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    paths, rows = report
    md = markdown_it.MarkdownIt("commonmark").enable("table")  # raw HTML enabled
    html = md.render(paths["md"].read_text(encoding="utf-8"))
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    n_targets = rows["target"].nunique()
    assert html.count("<table>") == 1 + n_targets
    assert html.count("<tr>") == (1 + n_targets) + n_targets * 3
    assert "<em>" not in html and "<code>" not in html and "<a " not in html
    assert "<h1>" in html and html.count("<h1>") == 1  # "# heading" stays text
    assert "<ol" not in html


def test_html_has_no_script_from_data(page: str) -> None:
    assert page.count("<script") == 1  # the page's own sort script
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_plots_draw_ids_literally(page: str) -> None:
    svg_text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", page))
    assert "$x^2$" in svg_text  # not typeset as mathtext
    assert "$\\frac$" in svg_text  # and invalid mathtext does not crash


@pytest.mark.parametrize("bad", ["$\\frac$", "a$b_$c", "$x^$"])
def test_mathtext_like_ids_do_not_crash(tmp_path: Path, bad: str) -> None:
    rows = pd.DataFrame(
        {"target": [bad, bad], "model": [bad, "m"], "predicted": [0.5, 0.4], "actual": [0.4, 0.3]}
    )
    paths = write_report(rows, tmp_path, formats=("html",))
    assert paths["html"].is_file()
