"""normalize_tables: validation, normalisation and the three error modes."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgtransfer.errors import IngestError
from kgtransfer.kg.ingest import IngestReport, normalize_tables
from kgtransfer.kg.tables import COLUMNS


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


MODELS = """model,architecture,base_model,base_model_relation,n_params,memory
m1,vit,,,86000000,1.5
m2,vit,m1,finetune,86000000,1.5
m3,resnet,,,,
"""
DATASETS = """dataset,n_classes,n_samples
cifar10,10,50000
pets,37,
"""


def test_round_trip_good_tables(tmp_path: Path) -> None:
    recs = _csv(
        tmp_path,
        "records.csv",
        "model,dataset,value,seed\nm1,cifar10,0.9,0\nm1,cifar10,0.91,1\nm2,pets,0.8,0\n",
    )
    tables, report = normalize_tables(
        _csv(tmp_path, "models.csv", MODELS), _csv(tmp_path, "datasets.csv", DATASETS), recs
    )
    assert list(tables.models["model"]) == ["m1", "m2", "m3"]
    assert tables.models["n_params"].tolist()[:2] == [86e6, 86e6]
    assert pd.isna(tables.models["n_params"][2])
    assert tables.models["memory"].dtype == "Float64"  # extra numeric column kept
    assert tables.lineage.to_dict("records") == [
        {"model": "m2", "base_model": "m1", "relation": "finetune"}
    ]
    assert tables.records["value"].tolist() == [0.9, 0.91, 0.8]
    assert tables.records["seed"].tolist() == [0, 1, 0]  # different seeds: distinct runs
    assert set(tables.records["metric"]) == {"accuracy"}
    for name, table in tables:
        for col, dtype in COLUMNS[name].items():
            assert str(table[col].dtype) == dtype, (name, col)
    assert report.n_rejected == 0
    assert report.counts[str(recs)].read == 3
    assert report.counts[str(recs)].accepted == 3
    # the output is already normalised: feeding it back changes nothing
    again, _ = normalize_tables(tables.models, tables.datasets, tables.records)
    pd.testing.assert_frame_equal(again.records, tables.records)
    pd.testing.assert_frame_equal(again.models, tables.models)


def test_missing_id_names_file_and_row(tmp_path: Path) -> None:
    models = _csv(tmp_path, "models.csv", "model,architecture\nm1,vit\n,resnet\n")
    with pytest.raises(IngestError, match=r"models\.csv, row 2, column 'model'.*required"):
        normalize_tables(models)


def test_non_numeric_value(tmp_path: Path) -> None:
    recs = _csv(tmp_path, "r.csv", "model,dataset,value\nm,d,0.5\nm,e,high\n")
    with pytest.raises(IngestError, match=r"r\.csv, row 2, column 'value': value 'high'"):
        normalize_tables(records=recs, create_missing=True)


def test_nan_in_required_value() -> None:
    recs = pd.DataFrame({"model": ["m", "m"], "dataset": ["a", "b"], "value": [0.5, None]})
    with pytest.raises(IngestError, match=r"<DataFrame records>, row 2, column 'value'"):
        normalize_tables(records=recs, create_missing=True)


def test_wrong_type_in_optional_cell(tmp_path: Path) -> None:
    models = _csv(tmp_path, "m.csv", "model,n_params\nm1,\nm2,lots\n")
    with pytest.raises(IngestError, match=r"row 2, column 'n_params': value 'lots'"):
        normalize_tables(models)
    tables, report = normalize_tables(models, errors="collect")
    assert list(tables.models["model"]) == ["m1"]  # empty cell = unknown, fine
    assert report.rejections[0].value == "lots"


def test_percent_converted_and_mixed_rejected(tmp_path: Path) -> None:
    recs = pd.DataFrame({"model": ["m"] * 3, "dataset": ["a", "b", "c"], "value": [90, 45.5, 100]})
    tables, report = normalize_tables(records=recs, create_missing=True)
    assert tables.records["value"].tolist() == [0.9, 0.455, 1.0]
    assert any("percent" in n for n in report.notes)
    mixed = _csv(tmp_path, "mixed.csv", "model,dataset,value\nm,a,0.9\nm,b,0.8\nm,c,85\n")
    with pytest.raises(IngestError, match=r"mixed\.csv, row 3.*85.*percent mixed with fractions"):
        normalize_tables(records=mixed, create_missing=True)
    tables, report = normalize_tables(records=mixed, create_missing=True, errors="collect")
    assert tables.records["value"].tolist() == [0.9, 0.8]  # the odd one out is rejected
    assert [r.row for r in report.rejections] == [3]


def test_conflicting_and_exact_duplicates(tmp_path: Path) -> None:
    recs = _csv(
        tmp_path,
        "r.csv",
        "model,dataset,value,method\nm,a,0.5,finetune\n"
        "m,a,0.5,finetune\nm,a,0.6,linear_probe\nm,a,0.7,finetune\n",
    )
    with pytest.raises(IngestError, match=r"r\.csv, row 4, column 'value'.*conflicts with row 1"):
        normalize_tables(records=recs, create_missing=True)
    tables, report = normalize_tables(records=recs, create_missing=True, errors="collect")
    assert tables.records[["method", "value"]].values.tolist() == [
        ["finetune", 0.5],
        ["linear_probe", 0.6],
    ]
    assert any("collapsed 1 exact duplicate" in n for n in report.notes)
    assert report.counts[str(recs)].rejected == 1


def test_unknown_references_and_create_missing(tmp_path: Path) -> None:
    models = _csv(tmp_path, "m.csv", "model\nm1\n")
    recs = _csv(tmp_path, "r.csv", "model,dataset,value\nm1,d,0.5\nm9,d,0.6\n")
    with pytest.raises(IngestError, match=r"r\.csv, row 2, column 'model': value 'm9'.*unknown"):
        normalize_tables(models, records=recs, known_datasets=["d"])
    tables, _ = normalize_tables(models, records=recs, known_models=["m9"], known_datasets=["d"])
    assert len(tables.records) == 2
    tables, report = normalize_tables(records=recs, create_missing=True)
    assert sorted(tables.models["model"]) == ["m1", "m9"]
    assert list(tables.datasets["dataset"]) == ["d"]
    assert any("create_missing" in n for n in report.notes)
    scores = pd.DataFrame(
        {"model": ["m1"], "dataset": ["zz"], "estimator": ["LogME"], "value": [1.2]}
    )
    with pytest.raises(IngestError, match="unknown dataset 'zz'"):
        normalize_tables(models, scores=scores)


def test_reference_to_rejected_model_says_so() -> None:
    models = pd.DataFrame({"model": ["m1"], "n_params": ["many"]})
    recs = pd.DataFrame({"model": ["m1"], "dataset": ["d"], "value": [0.5]})
    _, report = normalize_tables(models, records=recs, known_datasets=["d"], errors="collect")
    assert [r.column for r in report.rejections] == ["n_params", "model"]
    assert "its models row was rejected" in report.rejections[1].reason


def test_warn_mode_one_warning_per_rejection(tmp_path: Path) -> None:
    recs = _csv(tmp_path, "r.csv", "model,dataset,value\nm,a,x\nm,b,y\nm,c,0.5\n")
    with pytest.warns(UserWarning) as caught:
        tables, report = normalize_tables(records=recs, create_missing=True, errors="warn")
    assert len([w for w in caught if "rejected" in str(w.message)]) == 2
    assert len(tables.records) == 1
    assert report.n_rejected == 2


def test_collect_mode_is_silent(tmp_path: Path) -> None:
    recs = _csv(tmp_path, "r.csv", "model,dataset,value\nm,a,x\nm,b,0.5\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tables, report = normalize_tables(records=recs, create_missing=True, errors="collect")
    assert len(tables.records) == 1
    frame = report.to_frame()
    assert frame.loc[0, "kind"] == "rejected" and frame.loc[0, "row"] == 1
    assert "rejected 1" in str(report)


def test_metric_directions(tmp_path: Path) -> None:
    recs = pd.DataFrame(
        {
            "model": ["m", "m"],
            "dataset": ["a", "b"],
            "value": [1.0, 2.0],
            "metric": ["my_score", "my_score"],
        }
    )
    with pytest.raises(
        IngestError, match=r"row 1, column 'metric': value .my_score..*metric_directions"
    ):
        normalize_tables(records=recs, create_missing=True)
    tables, _ = normalize_tables(
        records=recs, create_missing=True, metric_directions={"my_score": "higher"}
    )
    assert tables.metrics.to_dict("records") == [
        {"metric": "my_score", "higher_is_better": True, "min": None, "max": None}
    ]
    neg = pd.DataFrame(
        {
            "model": ["m", "m"],
            "dataset": ["a", "b"],
            "value": [-0.3, -0.1],
            "metric": ["rmse", "RMSE"],
        }
    )
    tables, report = normalize_tables(records=neg, create_missing=True)
    assert set(tables.records["metric"]) == {"neg_rmse"}
    assert any("negated errors" in n for n in report.notes)
    assert tables.metrics.to_dict("records") == [
        {"metric": "neg_rmse", "higher_is_better": True, "min": None, "max": 0.0}
    ]
    pos = neg.assign(value=[0.3, 0.1])
    tables, _ = normalize_tables(records=pos, create_missing=True)
    assert tables.metrics.to_dict("records") == [
        {"metric": "rmse", "higher_is_better": False, "min": 0.0, "max": None}
    ]


def test_chance_level_flagged() -> None:
    datasets = pd.DataFrame({"dataset": ["food101", "cifar10"], "n_classes": [101, 10]})
    recs = pd.DataFrame(
        {
            "model": ["a", "b", "c"],
            "dataset": ["food101", "food101", "cifar10"],
            "value": [0.0099, 0.85, 0.1],
        }
    )
    tables, report = normalize_tables(datasets=datasets, records=recs, create_missing=True)
    assert tables.records["suspect"].tolist() == [True, False, True]
    assert len(report.flagged) == 2 and "1/101" in report.flagged[0].reason
    assert report.counts["<DataFrame records>"].flagged == 2


def test_column_map_nested_and_flat() -> None:
    recs = pd.DataFrame({"model": ["m"], "finetuned_dataset": ["d"], "eval_accuracy": [0.7]})
    nested = {"records": {"eval_accuracy": "value", "finetuned_dataset": "dataset"}}
    tables, _ = normalize_tables(records=recs, column_map=nested, create_missing=True)
    assert tables.records["value"].tolist() == [0.7]
    flat = {"eval_accuracy": "value", "finetuned_dataset": "dataset"}
    tables, _ = normalize_tables(records=recs, column_map=flat, create_missing=True)
    assert tables.records["dataset"].tolist() == ["d"]
    with pytest.raises(IngestError, match=r"lacks required column\(s\) \['dataset', 'value'\]"):
        normalize_tables(records=recs)


def test_non_numeric_extra_column_reported() -> None:
    models = pd.DataFrame({"model": ["m"], "labels": ["['a', 'b']"], "depth": ["12"]})
    tables, report = normalize_tables(models)
    assert "labels" not in tables.models.columns
    assert tables.models["depth"].tolist() == [12.0]
    assert any("'labels'" in w and "ignored" in w for w in report.warnings)


def test_similarities_symmetric_duplicate_and_missing_measure() -> None:
    sims = pd.DataFrame(
        {
            "dataset_a": ["a", "b", "a"],
            "dataset_b": ["b", "a", "c"],
            "distance": [1.0, 1.0, None],
            "method": ["emb"] * 3,
        }
    )
    tables, report = normalize_tables(similarities=sims, known_datasets="abc", errors="collect")
    assert len(tables.similarities) == 1
    assert report.rejections[0].row == 3 and "neither" in report.rejections[0].reason


def test_report_merge() -> None:
    a = normalize_tables(
        records=pd.DataFrame({"model": ["m"], "dataset": ["d"], "value": ["x"]}),
        create_missing=True,
        errors="collect",
    )[1]
    b = IngestReport()
    b.notes.append("hello")
    merged = IngestReport().merge(a, b)
    assert merged.n_rejected == 1 and merged.notes[-1] == "hello"
    assert merged.counts["<DataFrame records>"].rejected == 1


def test_bad_errors_mode_and_bad_file(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match="errors must be 'raise', 'warn' or 'collect', got 'ignore'"
    ):
        normalize_tables(errors="ignore")
    with pytest.raises(IngestError, match="cannot read the records table"):
        normalize_tables(records=tmp_path / "nope.csv")


def test_lineage_lists_and_relations(tmp_path: Path) -> None:
    models = _csv(
        tmp_path,
        "m.csv",
        "model,base_model,base_model_relation\nmerged,org/a; org/b,Merge\nbad,org/a,distilled\n",
    )
    with pytest.raises(
        IngestError, match=r"row 2, column 'base_model_relation': value 'distilled'"
    ):
        normalize_tables(models)
    tables, report = normalize_tables(models, errors="collect")
    assert tables.lineage.values.tolist() == [
        ["merged", "org/a", "merge"],
        ["merged", "org/b", "merge"],
    ]
    assert list(tables.models["model"]) == ["merged"] and report.n_rejected == 1
    frame = pd.DataFrame({"model": ["m"], "base_model": [["x", "y"]]})
    tables, _ = normalize_tables(frame)
    assert sorted(tables.lineage["base_model"]) == ["x", "y"]


def test_negative_error_mixed_with_positive_rejected() -> None:
    recs = pd.DataFrame(
        {"model": ["m", "m"], "dataset": ["a", "b"], "value": [0.3, -0.2], "metric": ["mae", "mae"]}
    )
    with pytest.raises(IngestError, match=r"row 2, column 'value': value -0\.2.*'neg_mae'"):
        normalize_tables(records=recs, create_missing=True)


def test_chance_level_with_known_n_classes() -> None:
    recs = pd.DataFrame({"model": ["m", "m"], "dataset": ["d", "e"], "value": [0.25, 0.25]})
    tables, report = normalize_tables(
        records=recs, known_models=["m"], known_datasets=["d", "e"], known_n_classes={"d": 4}
    )
    assert tables.records["suspect"].tolist() == [True, False]
    assert report.flagged[0].key == "m -> d"


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0.011, 0.99, allow_nan=False), min_size=2, max_size=12))
def test_percent_and_fraction_give_the_same_table(values: list[float]) -> None:
    n = len(values)
    frame = pd.DataFrame(
        {"model": [f"m{i}" for i in range(n)], "dataset": ["d"] * n, "value": values}
    )
    frac, _ = normalize_tables(records=frame, create_missing=True)
    pct, report = normalize_tables(
        records=frame.assign(value=[v * 100 for v in values]), create_missing=True
    )
    assert frac.records["value"].tolist() == pytest.approx(values)
    assert pct.records["value"].tolist() == pytest.approx(values)
    assert any("percent" in note for note in report.notes)
