"""Model cards go through the one validator: the graph's lineage, percent warnings, fuzzing."""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgtransfer.errors import CardParseError, IngestError
from kgtransfer.kg import ZooGraph
from kgtransfer.kg.ingest import metric_spec, read_model_cards


def _card(folder: Path, name: str, meta: dict[str, object]) -> Path:
    path = folder / name / "README.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("---\n" + yaml.safe_dump(meta) + "---\n# card\n", encoding="utf-8")
    return path


def test_a_card_closing_a_cycle_through_the_graphs_lineage_is_rejected(tmp_path: Path) -> None:
    graph = ZooGraph()
    graph.add_tables(pd.DataFrame({"model": ["org/b", "org/a"], "base_model": ["org/a", None]}))
    card = _card(tmp_path, "a", {"model_name": "org/a", "base_model": "org/b"})
    with pytest.raises((CardParseError, IngestError), match="cycle"):
        graph.add_model_cards(card)
    report = graph.add_model_cards(card, errors="collect")
    assert [r.column for r in report.rejections] == ["base_model"]
    lineage = graph.to_tables().lineage
    assert list(zip(lineage["model"], lineage["base_model"], strict=True)) == [("org/b", "org/a")]


def test_a_percent_metric_beside_an_empty_value_of_another_converts(tmp_path: Path) -> None:
    # found by the fuzz test below: converting the value column to float for the percent
    # metric failed on the other metric's empty value (ValueError from pandas)
    result = {"type": "d1"}
    metrics = [{"type": "accuracy", "value": 2}, {"type": "f1", "value": ""}]
    index = [{"name": "x", "results": [{"dataset": result, "metrics": metrics}]}]
    card = _card(tmp_path, "m", {"model_name": "org/m", "model-index": index})
    tables, report = read_model_cards(card, errors="collect")
    assert tables.records[["metric", "value"]].values.tolist() == [["accuracy", 0.02]]
    assert [r.column for r in report.rejections] == ["value"]


def test_card_percent_conversion_is_a_warning(tmp_path: Path) -> None:
    index = [
        {
            "name": "org/m",
            "results": [
                {"dataset": {"type": "cifar10"}, "metrics": [{"type": "accuracy", "value": 91.5}]}
            ],
        }
    ]
    card = _card(tmp_path, "m", {"model_name": "org/m", "model-index": index})
    tables, report = read_model_cards(card)
    assert tables.records["value"].tolist() == [pytest.approx(0.915)]
    assert any("accuracy" in w and "percent" in w for w in report.warnings), report.warnings
    graph = ZooGraph()
    assert any("percent" in w for w in graph.add_model_cards(card).warnings)


def test_card_percent_conversion_beside_a_text_value_of_another_metric(tmp_path: Path) -> None:
    """Found by the fuzz test below: a whole-number percent of one metric beside a text
    value of another made pandas refuse the float cast of the whole column."""
    results = [
        {"dataset": {"type": "cifar10"}, "metrics": [{"type": "accuracy", "value": 2}]},
        {"dataset": {"type": "cifar10"}, "metrics": [{"type": "f1", "value": ""}]},
    ]
    index = [{"name": "org/m", "results": results}]
    card = _card(tmp_path, "m", {"model_name": "org/m", "model-index": index})
    tables, report = read_model_cards(card, errors="collect")
    assert tables.records["value"].tolist() == [pytest.approx(0.02)]
    assert [r.column for r in report.rejections] == ["value"]


def test_card_whole_number_percent_becomes_a_fraction(tmp_path: Path) -> None:
    """Found by the fuzz test below: integer percents (``accuracy: 2``) made pandas refuse
    to write 0.02 into an integer column."""
    index = [
        {
            "name": "org/m",
            "results": [
                {"dataset": {"type": "cifar10"}, "metrics": [{"type": "accuracy", "value": 2}]},
                {"dataset": {"type": "mnist"}, "metrics": [{"type": "accuracy", "value": 85}]},
            ],
        }
    ]
    card = _card(tmp_path, "m", {"model_name": "org/m", "model-index": index})
    tables, _ = read_model_cards(card)
    assert sorted(tables.records["value"].tolist()) == [pytest.approx(0.02), pytest.approx(0.85)]


# ---------------------------------------------------------------------------- fuzz
_ODD = st.sampled_from(
    ["1", "1.0", "007", "NA", "null", "None", "数据集", "a b", "x/y", "#%", "-1", "true", "~"]
)
_IDS = st.one_of(
    _ODD,
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True, width=16),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8),
)
_VALUES = st.one_of(
    st.floats(-200, 200),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1.0, 55.0, 100.0, 101.0]),
    st.integers(-10, 1000),
    st.text(max_size=4),
    st.none(),
)
_METRICS = st.sampled_from(["accuracy", "f1", "rmse", "made_up", "pearson", 7])


@st.composite
def _meta(draw: st.DrawFn, pool: list[object]) -> dict[object, object]:
    meta: dict[object, object] = {"model_name": draw(st.sampled_from(pool))}
    if draw(st.booleans()):
        meta["base_model"] = draw(
            st.one_of(st.sampled_from(pool), st.lists(st.sampled_from(pool), max_size=3))
        )
    if draw(st.booleans()):
        meta["license"] = draw(st.one_of(_IDS, st.lists(_IDS, max_size=2), st.none()))
    if draw(st.booleans()):
        meta["datasets"] = draw(st.one_of(_IDS, st.lists(_IDS, max_size=3)))
    if draw(st.booleans()):
        meta["n_params"] = draw(_VALUES)
    if draw(st.booleans()):
        results = [
            {
                "dataset": {"type": draw(_IDS), "config": draw(st.one_of(st.none(), _IDS))},
                "metrics": [
                    {"type": draw(_METRICS), "value": draw(_VALUES)}
                    for _ in range(draw(st.integers(0, 3)))
                ],
            }
            for _ in range(draw(st.integers(0, 2)))
        ]
        meta["model-index"] = [{"name": "x", "results": results}]
    return meta


@st.composite
def _cards(draw: st.DrawFn) -> list[str]:
    pool = draw(st.lists(_IDS, min_size=1, max_size=4))
    texts = []
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.integers(0, 9)) == 0:
            texts.append(draw(st.sampled_from(["---\nlicense: [a\n---\n", "---\n: :\n---\n"])))
            continue
        body = yaml.safe_dump(draw(_meta(pool)), allow_unicode=True)
        texts.append("---\n" + body + "---\n")
    return texts


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # bounded for CI
@given(_cards())
def test_fuzzed_cards_keep_only_valid_values_and_lose_nothing(texts: list[str]) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        for i, text in enumerate(texts):
            path = folder / f"c{i}" / "README.md"
            path.parent.mkdir()
            path.write_text(text, encoding="utf-8")
        try:
            tables, report = read_model_cards(folder, errors="collect")
        except (CardParseError, IngestError):
            return
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for name, table in tables:
        for col in ("model", "dataset", "base_model", "trained_on"):
            if col in table.columns:
                assert all(isinstance(v, str) and v for v in table[col].dropna()), (name, col)
    recs = tables.records
    for metric, value in zip(recs["metric"], recs["value"], strict=True):
        assert math.isfinite(value) and metric_spec(metric).contains(value), (metric, value)
    for col in ("n_params", "n_labels"):
        values = tables.models[col].dropna() if col in tables.models else []
        assert all(math.isfinite(v) and v >= 0 for v in values)
    edges: dict[str, set[str]] = {}
    for m, b in zip(tables.lineage["model"], tables.lineage["base_model"], strict=True):
        edges.setdefault(m, set()).add(b)
    for start in edges:  # no model is its own ancestor
        seen, todo = set(), list(edges[start])
        while todo:
            node = todo.pop()
            assert node != start, f"lineage cycle through {start!r}"
            if node not in seen:
                seen.add(node)
                todo += edges.get(node, ())
    for source, counts in report.counts.items():  # nothing dropped silently
        assert counts.read == counts.accepted + counts.rejected, (source, counts)
    n_cards = len(texts)
    kept = len(tables.models)
    skipped = sum(1 for r in report.rejections if "card skipped" in r.reason)
    collapsed = sum(1 for n in report.notes if "collapsed" in n and "same model" in n)
    duplicate = sum(1 for r in report.rejections if "already described by" in r.reason)
    rejected_model = sum(
        1 for r in report.rejections if r.column in ("model", "base_model", "n_params", "license")
    )
    assert kept <= n_cards
    assert n_cards <= kept + skipped + collapsed + duplicate + rejected_model
