"""The one validator (normalize_tables): what it refuses, and that nothing is silently lost."""

from __future__ import annotations

import csv
import io
import math
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgtransfer.errors import CardParseError, IngestError
from kgtransfer.kg import ZooGraph
from kgtransfer.kg.ingest import IngestReport, metric_spec, normalize_tables, read_model_cards
from kgtransfer.kg.ingest._metrics import FRACTION_METRICS
from kgtransfer.kg.tables import COLUMNS, ZooTables


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _recs(values: list[object], metric: str | None = None, **cols: list[object]) -> pd.DataFrame:
    n = len(values)
    frame = pd.DataFrame({"model": [f"m{i}" for i in range(n)], "dataset": ["d"] * n})
    frame["value"] = pd.Series(values, dtype=object)
    if metric is not None:
        frame["metric"] = metric
    for name, col in cols.items():
        frame[name] = col
    return frame


# ---------------------------------------------------------------------------- numbers
@pytest.mark.parametrize("bad", [float("nan"), "nan", "NaN", float("inf"), "-inf"])
def test_required_value_must_be_finite(bad: object) -> None:
    with pytest.raises(IngestError, match=r"row 2, column 'value'.*finite"):
        normalize_tables(records=_recs([0.5, bad]), create_missing=True)


def test_non_finite_extra_rejects_the_row_not_the_column() -> None:
    recs = _recs([0.5, 0.6], gain=[0.1, float("inf")])
    tables, report = normalize_tables(records=recs, create_missing=True, errors="collect")
    assert tables.records["gain"].tolist() == [0.1]  # the column is kept, the bad row is not
    assert report.rejections[0].column == "gain" and report.rejections[0].row == 2


def test_na_text_in_optional_numeric_cell_is_unknown(tmp_path: Path) -> None:
    models = _csv(tmp_path, "m.csv", "model,n_params\nNA,NA\nNone,null\n")
    tables, report = normalize_tables(models)
    # ids are names ("NA" is a model), numeric NA text is unknown
    assert tables.models["model"].tolist() == ["NA", "None"]
    assert tables.models["n_params"].isna().all() and report.n_rejected == 0


# ---------------------------------------------------------------------------- metrics
def test_single_accuracy_above_one_is_an_error_not_percent() -> None:
    with pytest.raises(IngestError, match=r"accuracy 5\.0 is outside its range \[0, 1\]"):
        normalize_tables(records=_recs([5.0]), create_missing=True)


def test_percent_conversion_is_a_warning_listing_rows() -> None:
    tables, report = normalize_tables(records=_recs([85.0, 90.0, 1.7]), create_missing=True)
    assert tables.records["value"].tolist() == pytest.approx([0.85, 0.9, 0.017])
    assert any("divided by 100" in w and "rows 1, 2, 3" in w for w in report.warnings)


def test_value_above_one_among_fractions_is_an_error() -> None:
    with pytest.raises(IngestError, match=r"row 3.*percent mixed with fractions"):
        normalize_tables(records=_recs([0.85, 0.9, 1.7]), create_missing=True)
    with pytest.raises(IngestError, match=r"row 3.*outside its range"):
        normalize_tables(records=_recs([0.0, 1.0, 170.0]), create_missing=True)


@pytest.mark.parametrize(
    ("metric", "value"), [("f1", -0.1), ("pearson", 1.5), ("bleu", 101.0), ("perplexity", 0.5)]
)
def test_known_metric_ranges(metric: str, value: float) -> None:
    with pytest.raises(IngestError, match="outside its range"):
        normalize_tables(records=_recs([value], metric=metric), create_missing=True)


def test_unknown_metric_says_how_to_declare_it() -> None:
    recs = _recs([12.0, 80.0], metric="bleu4")
    with pytest.raises(
        IngestError, match=r"unknown metric 'bleu4'.*metric_directions.*metrics table"
    ):
        normalize_tables(records=recs, create_missing=True)
    tables, _ = normalize_tables(
        records=recs, create_missing=True, metric_directions={"bleu4": ("higher", 0, 100)}
    )
    assert tables.records["value"].tolist() == [12.0, 80.0]
    with pytest.raises(
        IngestError, match=r"bleu4 150\.0 is outside its range \[0, 100\].*declared"
    ):
        normalize_tables(
            records=_recs([150.0], metric="bleu4"),
            create_missing=True,
            metric_directions={"bleu4": {"higher_is_better": True, "min": 0, "max": 100}},
        )


def test_metrics_table_declares_direction_and_range(tmp_path: Path) -> None:
    metrics = _csv(tmp_path, "metrics.csv", "metric,higher_is_better,min,max\ncost,lower,0,\n")
    tables, _ = normalize_tables(
        records=_recs([3.0, 4.0], metric="cost"), metrics=metrics, create_missing=True
    )
    assert tables.metrics.to_dict("records") == [
        {"metric": "cost", "higher_is_better": False, "min": 0.0, "max": None}
    ]
    with pytest.raises(IngestError, match=r"cost -1\.0 is outside its range >= 0"):
        normalize_tables(records=_recs([-1.0], metric="cost"), metrics=metrics, create_missing=True)
    bad = pd.DataFrame({"metric": ["cost"], "higher_is_better": ["sideways"]})
    with pytest.raises(IngestError, match=r"higher_is_better.*sideways"):
        normalize_tables(metrics=bad)


# ---------------------------------------------------------------------------- ranges
@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("models", "n_params", -1),
        ("models", "n_labels", 2.5),
        ("datasets", "n_classes", -3),
        ("datasets", "n_samples", 10.5),
    ],
)
def test_counts_are_whole_and_non_negative(table: str, column: str, value: float) -> None:
    key = "model" if table == "models" else "dataset"
    frame = pd.DataFrame({key: ["x", "y"], column: [10, value]})
    with pytest.raises(IngestError, match=rf"row 2, column '{column}'.*whole number >= 0"):
        normalize_tables(**{table: frame})


@pytest.mark.parametrize(
    ("column", "value", "why"),
    [
        ("similarity", 1.5, r"\[-1, 1\]"),
        ("similarity", -2.0, r"\[-1, 1\]"),
        ("distance", -0.1, ">= 0"),
    ],
)
def test_similarity_and_distance_ranges(column: str, value: float, why: str) -> None:
    sims = pd.DataFrame({"dataset_a": ["a"], "dataset_b": ["b"], column: [value]})
    with pytest.raises(IngestError, match=why):
        normalize_tables(similarities=sims, known_datasets=["a", "b"])


def test_self_pair_rejected() -> None:
    sims = pd.DataFrame({"dataset_a": ["a", "a"], "dataset_b": ["b", " a"], "similarity": [0.5, 1]})
    tables, report = normalize_tables(similarities=sims, known_datasets="ab", errors="collect")
    assert len(tables.similarities) == 1
    assert report.rejections[0].row == 2 and "itself" in report.rejections[0].reason


# ---------------------------------------------------------------------------- lineage
@pytest.mark.parametrize(
    ("bases", "bad_row"),
    [
        ({"s": "s"}, 1),
        ({"a": "b", "b": "a"}, 2),
        ({"a": "b", "b": "c", "c": "a"}, 3),
        ({"a": "x; b", "b": "y; a"}, 2),
    ],
)
def test_lineage_cycles_rejected(bases: dict[str, str], bad_row: int) -> None:
    models = pd.DataFrame({"model": list(bases), "base_model": list(bases.values())})
    with pytest.raises(IngestError, match=rf"row {bad_row}, column 'base_model'.*(cycle|own base)"):
        normalize_tables(models)
    tables, report = normalize_tables(models, errors="collect")
    assert report.n_rejected == 1
    edges = set(zip(tables.lineage["model"], tables.lineage["base_model"], strict=True))
    assert _acyclic(edges)


def test_lineage_cycle_with_known_lineage_and_through_the_store() -> None:
    models = pd.DataFrame({"model": ["a"], "base_model": ["c"]})
    with pytest.raises(IngestError, match=r"'a' -> 'c' -> 'b' -> 'a'"):
        normalize_tables(models, known_lineage=[("c", "b"), ("b", "a")])
    g = ZooGraph()
    g.add_tables(pd.DataFrame({"model": ["b", "c"], "base_model": ["a", "b"]}))
    with pytest.raises(IngestError, match="lineage cycle"):
        g.add_tables(models)
    assert sorted(g.to_tables().lineage["model"]) == ["b", "c"]  # nothing written


def test_lineage_cycle_across_model_cards(tmp_path: Path) -> None:
    for name, base in (("a", "org/b"), ("b", "org/a")):
        (tmp_path / name).mkdir()
        card = f"---\nmodel_name: org/{name}\nbase_model: {base}\n---\n"
        (tmp_path / name / "README.md").write_text(card, encoding="utf-8")
    with pytest.raises(CardParseError, match="lineage cycle"):
        read_model_cards(tmp_path)
    tables, report = read_model_cards(tmp_path, errors="collect")
    assert tables.lineage[["model", "base_model"]].values.tolist() == [["org/a", "org/b"]]
    assert report.n_rejected == 1
    with pytest.raises(CardParseError, match="lineage cycle"):
        read_model_cards(tmp_path / "a", known_lineage=[("org/b", "org/a")])


def test_store_remembers_declared_metrics() -> None:
    g = ZooGraph()
    decl = pd.DataFrame({"metric": ["cost"], "higher_is_better": [False], "min": [None]})
    decl["max"] = None
    g.add_zoo_tables(ZooTables(metrics=decl.astype(COLUMNS["metrics"])), source="declare")
    g.add_tables(records=_recs([3.0], metric="cost"), create_missing=True)  # known from the graph
    assert g.records(dataset="d")["value"].tolist() == [3.0]


# ---------------------------------------------------------------------------- ids
def test_numeric_ids_stay_text(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"model": [1, None, 3], "dataset": ["d", "d", "d"], "value": [0.5, 0.6, 0.7]}
    )
    assert frame["model"].dtype == float  # pandas made the ids 1.0, nan, 3.0
    tables, _ = normalize_tables(records=frame, create_missing=True, errors="collect")
    assert tables.records["model"].tolist() == ["1", "3"]
    text = "model,dataset,value\n1,007,0.5\n1.0,1e3,0.6\n"
    tables, _ = normalize_tables(records=_csv(tmp_path, "r.csv", text), create_missing=True)
    assert tables.records["model"].tolist() == ["1", "1.0"]  # text is never reinterpreted
    assert tables.records["dataset"].tolist() == ["007", "1e3"]


# ---------------------------------------------------------------------------- CSV rows
def test_row_with_surplus_field_is_rejected_not_shifted(tmp_path: Path) -> None:
    path = _csv(tmp_path, "r.csv", "model,dataset,value\nx,m1,d1,0.5\nm2,d2,0.6\nm3,d3\n")
    with pytest.raises(IngestError, match=r"r\.csv, row 1.*line 2 has 4 fields, more than the 3"):
        normalize_tables(records=path, create_missing=True)
    tables, report = normalize_tables(records=path, create_missing=True, errors="collect")
    assert tables.records[["model", "dataset"]].values.tolist() == [["m2", "d2"]]
    assert [(r.row, "line 4 has 2 fields, fewer" in r.reason) for r in report.rejections][1] == (
        3,
        True,
    )
    c = report.counts[str(path)]
    assert (c.read, c.accepted, c.rejected) == (3, 1, 2)


def test_trailing_comma_and_quoted_comma_are_fine(tmp_path: Path) -> None:
    path = _csv(tmp_path, "r.csv", 'model,dataset,value\n"org/a,b",d,0.5,\n')
    tables, report = normalize_tables(records=path, create_missing=True)
    assert tables.records["model"].tolist() == ["org/a,b"]
    assert any("trailing" in n for n in report.notes)


def test_broken_quote_names_the_line(tmp_path: Path) -> None:
    path = _csv(tmp_path, "r.csv", 'model,dataset,value\nm,d,0.5\nm,"d,0.6\nm,e,0.7\n')
    with pytest.raises(IngestError, match="malformed CSV at line"):
        normalize_tables(records=path, create_missing=True, errors="collect")


# ---------------------------------------------------------------------------- modes
def test_warn_and_collect_report_every_rejection_and_keep_the_rest() -> None:
    recs = _recs([0.5, float("nan"), 7.0, 0.6, 0.7], gain=[0.1, 0.2, 0.3, 0.4, float("inf")])
    with pytest.warns(UserWarning) as caught:
        tables, report = normalize_tables(records=recs, create_missing=True, errors="warn")
    assert len([w for w in caught if "rejected" in str(w.message)]) == 3
    assert tables.records["value"].tolist() == [0.5, 0.6]
    assert [(r.row, r.column) for r in report.rejections] == [
        (2, "value"),
        (5, "gain"),
        (3, "value"),
    ]
    for r in report.rejections:
        assert r.source == "<DataFrame records>" and r.reason
    c = report.counts["<DataFrame records>"]
    assert (c.read, c.accepted, c.rejected) == (5, 2, 3)


# ---------------------------------------------------------------------------- property
_ALPHABET = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_IDS = st.one_of(
    st.sampled_from(["m", "d", "a", "b", " m ", "NA", "None", "", "  "]),
    st.integers(-5, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(_ALPHABET, max_size=5),
    st.integers(-5, 10**6),  # a number where an id is expected (DataFrame input)
    st.sampled_from([1.0, 2.0, 2.5]),
)
_POOL = st.sampled_from(["a", "b", "c", "1", " a"])  # small, so lineage cycles happen
_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-2, 120),
    st.integers(-(10**15), 10**15),
    st.sampled_from([10**400, 2**63, 12345678901234567, True]),
    st.sampled_from(["", "nan", "inf", "NA", "1e400", "x", "85", "0.5", "-0"]),
)
_METRICS = st.sampled_from(["accuracy", "f1", "rmse", "pearson", "perplexity", "mystery", ""])


@st.composite
def _tables(draw: st.DrawFn) -> dict[str, list[list[object]]]:
    n = draw(st.integers(0, 8))
    records = [
        [draw(_IDS), draw(_IDS), draw(_NUMBERS), draw(_METRICS), draw(_NUMBERS), draw(_NUMBERS)]
        for _ in range(n)
    ]
    models = [
        [
            draw(st.one_of(_POOL, _IDS)),
            draw(_NUMBERS),
            draw(st.one_of(st.just(""), _POOL, _IDS, st.just("a; b"))),
        ]
        for _ in range(draw(st.integers(0, 6)))
    ]
    sims = [
        [draw(_IDS), draw(_IDS), draw(_NUMBERS), draw(_NUMBERS)]
        for _ in range(draw(st.integers(0, 5)))
    ]
    return {"records": records, "models": models, "similarities": sims}


_HEADERS = {
    "records": ["model", "dataset", "value", "metric", "gain", "seed"],
    "models": ["model", "n_params", "base_model"],
    "similarities": ["dataset_a", "dataset_b", "similarity", "distance"],
}


def _as_csv(tmp: Path, name: str, rows: list[list[object]], ragged: list[int]) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(_HEADERS[name])
    for i, row in enumerate(rows):
        cells = ["" if c is None else str(c) for c in row]
        shift = ragged[i % len(ragged)] if ragged else 0
        cells = cells + ["extra"] * shift if shift > 0 else cells[: len(cells) + shift]
        writer.writerow(cells)
    path = tmp / f"{name}.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _acyclic(edges: set[tuple[str, str]]) -> bool:
    bases: dict[str, set[str]] = {}
    for m, b in edges:
        bases.setdefault(m, set()).add(b)
    state: dict[str, int] = {}

    def visit(node: str) -> bool:
        if state.get(node) == 1:
            return False
        if state.get(node) == 2:
            return True
        state[node] = 1
        ok = all(visit(b) for b in bases.get(node, ()))
        state[node] = 2
        return ok

    return all(visit(m) for m in list(bases))


def _collapsed(report: IngestReport, source: str) -> int:
    pattern = re.compile(rf"^{re.escape(source)}: collapsed (\d+) exact duplicate")
    return sum(int(m.group(1)) for n in report.notes if (m := pattern.match(n)))


def _written(value: object, as_csv: bool) -> str:
    """An id as the validator must keep it: the text as written, stripped; a number
    in a DataFrame without a float round trip (1.0 -> "1")."""
    if not as_csv and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _check(
    tables: object, report: IngestReport, inputs: dict[str, object], given_ids: set[str]
) -> None:
    out = tables
    # ids are as written (never "1.0" for 1)
    for col in ("model", "dataset"):
        assert set(out.records[col]) <= given_ids  # type: ignore[attr-defined]
    # every value satisfies the rules
    for _, row in out.records.iterrows():  # type: ignore[attr-defined]
        v = float(row["value"])
        assert math.isfinite(v)
        spec = metric_spec(str(row["metric"]))  # raises if the metric is unknown
        assert spec.contains(v), (row["metric"], v)
        if row["metric"] in FRACTION_METRICS:
            assert 0.0 <= v <= 1.0
        assert isinstance(row["model"], str) and row["model"] == row["model"].strip() != ""
    gains = out.records["gain"].dropna().astype(float) if "gain" in out.records else []  # type: ignore[attr-defined]
    assert all(math.isfinite(g) for g in gains)
    n_params = out.models["n_params"].dropna().astype(float)  # type: ignore[attr-defined]
    assert all(math.isfinite(x) and x >= 0 and x.is_integer() for x in n_params)
    sims = out.similarities  # type: ignore[attr-defined]
    assert (sims["dataset_a"] != sims["dataset_b"]).all()
    s = sims["similarity"].dropna().astype(float)
    d = sims["distance"].dropna().astype(float)
    assert ((s >= -1) & (s <= 1)).all() and (d >= 0).all()
    assert np.isfinite(s).all() and np.isfinite(d).all()
    lineage = out.lineage  # type: ignore[attr-defined]
    assert _acyclic(set(zip(lineage["model"], lineage["base_model"], strict=True)))
    # nothing silently dropped: read = accepted + rejected; accepted = kept + collapsed
    for name in ("records", "similarities"):
        if inputs.get(name) is None:
            continue
        source = next(s for s in report.counts if name in s)
        c = report.counts[source]
        assert c.read == c.accepted + c.rejected
        assert c.rejected == sum(1 for r in report.rejections if r.source == source)
        assert len(getattr(out, name)) == c.accepted - _collapsed(report, source)
    if inputs.get("models") is not None:
        source = next(s for s in report.counts if "models" in s)
        c = report.counts[source]
        assert c.read == c.accepted + c.rejected
        created = sum(
            int(m.group(1))
            for n in report.notes
            if (m := re.match(r"create_missing: added (\d+) models row", n))
        )
        n_models = len(out.models)  # type: ignore[attr-defined]
        assert n_models == c.accepted - _collapsed(report, source) + created


@settings(
    max_examples=int(os.environ.get("KGT_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=_tables(), as_csv=st.booleans(), ragged=st.lists(st.integers(-1, 1), max_size=3))
def test_property_valid_or_reported(
    tmp_path: Path, data: dict[str, list[list[object]]], as_csv: bool, ragged: list[int]
) -> None:
    inputs: dict[str, object] = {}
    for name, rows in data.items():
        if not rows:
            continue
        if as_csv:
            inputs[name] = _as_csv(tmp_path, name, rows, ragged)
        else:
            inputs[name] = pd.DataFrame(rows, columns=_HEADERS[name])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables, report = normalize_tables(**inputs, create_missing=True, errors="collect")
    ids = {_written(row[0], as_csv) for rows in data.values() for row in rows}
    ids |= {_written(row[1], as_csv) for row in data["records"]}
    _check(tables, report, inputs, ids)
    if as_csv:  # read counts every non-blank data line of the file
        for path in inputs.values():
            lines = list(csv.reader(io.StringIO(Path(str(path)).read_text(encoding="utf-8"))))[1:]
            n_lines = sum(1 for f in lines if f and not (len(f) == 1 and not f[0].strip()))
            assert report.counts[str(path)].read == n_lines
    try:
        strict, strict_report = normalize_tables(**inputs, create_missing=True, errors="raise")
    except IngestError:
        assert report.n_rejected > 0  # raise mode refuses exactly when something is rejected
    else:
        assert report.n_rejected == 0 and strict_report.n_rejected == 0
        pd.testing.assert_frame_equal(strict.records, tables.records)
