"""Fuzzed ids survive the whole path, or are refused; never stored altered.

An id (unicode, ``/``, ``#``, ``%``, quotes, newlines, ``..``, whitespace, numeric-looking,
very long) goes in through ``add_tables`` (DataFrames or CSV files) and ``add_record``,
and must come back the same (surrounding blanks are trimmed, as every text cell is) from
``to_tables``, ``ids``, ``records`` (named queries with bindings), ``best_sources`` and an
N-Quads or Turtle export loaded into a fresh graph; or the whole call is refused with
``IngestError`` / ``ArgumentError`` and nothing is written. ``KGT_FUZZ_EXAMPLES`` sets
the number of examples (``benchmarks/fuzz_kg.py`` runs many more).
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kgtransfer.errors import ArgumentError, IngestError
from kgtransfer.kg import ZooGraph

TRICKY = [
    "a/b",
    "org/model#frag",
    "100%",
    "%41%2F",
    "..",
    ".",
    "../../etc/passwd",
    "x/../y",
    "it's",
    'say "hi"',
    "line\nbreak",
    "cr\rlf",
    "tab\there",
    "  padded  ",
    " ",
    "1",
    "1.0",
    "007",
    "-0",
    "1e5",
    "NaN",
    "NA",
    "None",
    "null",
    "true",
    "数据集",
    "émoji 🚀",
    "nul\x00byte",
    "lone \ud800 surrogate",
    "a;b",
    "=1+2",
    "<http://example.org/x>",
    "?var",
    "$x$",
    "\u2028sep",
    "x" * 3000,
]
_ID = st.one_of(
    st.sampled_from(TRICKY),
    st.text(min_size=1, max_size=30),
    st.text(alphabet="/#%'\"\n\r\t .;\\<>?", min_size=1, max_size=8),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(min_size=300, max_size=1200),
)


def _ids(min_size: int, max_size: int) -> st.SearchStrategy[list[str]]:
    return st.lists(_ID, min_size=min_size, max_size=max_size, unique_by=str.strip)


def _write_csv(folder: Path, name: str, frame: pd.DataFrame) -> Path:
    path = folder / f"{name}.csv"
    with open(path, "w", encoding="utf-8", newline="", errors="surrogatepass") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(frame.columns)
        writer.writerows(frame.astype(str).itertuples(index=False))
    return path


def _frames(graph: ZooGraph) -> dict[str, pd.DataFrame]:
    tables = graph.to_tables()
    return {
        "models": tables.models.sort_values("model").reset_index(drop=True),
        "datasets": tables.datasets.sort_values("dataset").reset_index(drop=True),
        "records": tables.records.sort_values(["model", "dataset", "value"]).reset_index(drop=True),
    }


def _assert_same(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], check_dtype=False)


@pytest.mark.slow
@settings(
    max_examples=int(os.environ.get("KGT_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(models=["lone \ud800 surrogate"], datasets=["d"], as_csv=False, fmt="nq")
@example(models=["m"], datasets=["\udfff"], as_csv=True, fmt="nq")
@example(models=[" padded ", "a/../b"], datasets=["line\nbreak", "1.0"], as_csv=True, fmt="ttl")
@given(
    models=_ids(1, 3),
    datasets=_ids(1, 2),
    as_csv=st.booleans(),
    fmt=st.sampled_from(["nq", "ttl"]),
)
def test_ids_survive_every_path_or_are_refused(
    tmp_path: Path, models: list[str], datasets: list[str], as_csv: bool, fmt: str
) -> None:
    pairs = [(m, d) for m in models for d in datasets]
    frames = {
        "models": pd.DataFrame({"model": models, "architecture": models}),
        "datasets": pd.DataFrame({"dataset": datasets}),
        "records": pd.DataFrame(
            {
                "model": [m for m, _ in pairs],
                "dataset": [d for _, d in pairs],
                "value": [0.5 + i / 1000 for i in range(len(pairs))],
                "split": [m for m, _ in pairs],  # free text travels like an id
            }
        ),
    }
    inputs: dict[str, object] = dict(frames)
    if as_csv:
        inputs = {name: _write_csv(tmp_path, name, frame) for name, frame in frames.items()}
    graph = ZooGraph()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph.add_tables(**inputs)  # type: ignore[arg-type]
    except (IngestError, ArgumentError):
        assert len(graph.to_tables().models) == 0 and graph.batches().empty  # nothing stored
        # refused only for a reason in the ids themselves: a blank id, or text that is
        # not valid Unicode (a lone surrogate cannot be written as UTF-8)
        assert any(not i.strip() or not _utf8(i) for i in models + datasets)
        return
    want_models = sorted(m.strip() for m in models)
    want_datasets = sorted(d.strip() for d in datasets)
    assert all(want_models) and all(want_datasets) and all(map(_utf8, models + datasets))
    stored = _frames(graph)
    assert stored["models"]["model"].tolist() == want_models
    assert stored["models"]["architecture"].tolist() == want_models
    assert stored["datasets"]["dataset"].tolist() == want_datasets
    assert graph.ids("model") == want_models and graph.ids("dataset") == want_datasets
    got_pairs = sorted(zip(stored["records"]["model"], stored["records"]["dataset"], strict=True))
    assert got_pairs == sorted((m.strip(), d.strip()) for m, d in pairs)
    assert sorted(stored["records"]["split"]) == sorted(m.strip() for m, _ in pairs)

    # named queries with the ids as bindings
    for m in want_models:
        found = graph.records(model=m, limit=None)
        assert sorted(found["dataset"]) == want_datasets
        assert set(found["model"]) == {m}
    for d in want_datasets:
        found = graph.records(dataset=d, limit=None)
        assert sorted(found["model"]) == want_models
        assert sorted(graph.best_sources(d, regime="any")["model"]) == want_models
        both = graph.records(model=want_models[0], dataset=d, limit=None)
        assert both[["model", "dataset"]].values.tolist() == [[want_models[0], d]]

    # the single-record writer takes the same ids
    record = graph.add_record(models[0], datasets[0], 0.25, split=datasets[0], seed=7)
    found = graph.records(model=models[0].strip(), limit=None)
    row = found[found["record"] == record]
    assert row[["model", "dataset", "split"]].values.tolist() == [
        [models[0].strip(), datasets[0].strip(), datasets[0].strip()]
    ]
    stored = _frames(graph)

    # an export loaded into a fresh graph: N-Quads keeps everything; Turtle the data
    buffer = io.BytesIO()
    graph.export(buffer, format=fmt)
    fresh = ZooGraph()
    fresh.load_rdf(buffer.getvalue(), format=fmt)
    _assert_same(_frames(fresh), stored)
    assert fresh.ids("model") == want_models


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
