"""read_transfergraph on the real public TransferGraph tables."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from kgtransfer.errors import IngestError
from kgtransfer.kg.ingest import read_benchmark, read_transfergraph
from kgtransfer.kg.tables import COLUMNS

pytestmark = pytest.mark.shared


def test_image_zoo(shared_benchmarks: Path) -> None:
    folder = shared_benchmarks / "transfergraph" / "image_classification"
    tables, report = read_transfergraph(folder, "image", errors="collect")
    recs = tables.records
    assert recs["model"].nunique() == 180
    assert recs["dataset"].nunique() == 13
    assert len(recs) == 2254
    assert set(recs["method"]) == {"finetune"}
    food = recs[recs["dataset"] == "food101"]
    assert len(food) == 112
    assert int(food["suspect"].sum()) == 110  # the 110 runs at 1/101
    assert len(report.flagged) >= 110
    assert any("food101" in f.key and "1/101" in f.reason for f in report.flagged)
    # canonical columns and dtypes
    for name, table in tables:
        for col, dtype in COLUMNS[name].items():
            assert str(table[col].dtype) == dtype, (name, col)
    assert len(tables.models) == 185
    assert "memory_consumption" in tables.models.columns
    vit = tables.models.set_index("model").loc["google/vit-base-patch16-224"]
    assert vit["architecture"] == "ViTForImageClassification"
    assert vit["n_labels"] == 1000
    ds = tables.datasets.set_index("dataset")
    assert ds.loc["cifar100", "n_classes"] == 100
    assert ds.loc["food101", "n_classes"] == 101  # from models trained on it
    assert set(tables.scores["estimator"]) == {"logme", "reg_hscore"}
    assert not tables.scores.duplicated(["model", "dataset", "estimator"]).any()
    assert any("computed more than once" in w for w in report.warnings)
    scores = tables.scores.set_index(["model", "dataset", "estimator"])["value"]
    # LogME of this pair was computed twice (0.746431 and 0.745524): the mean is kept
    assert scores[("meame2010/rare-puppers", "dtd", "logme")] == pytest.approx(0.7459775, abs=1e-5)
    assert len(tables.scores) == 2468 - 2 - 120  # 2 malformed rows, 120 repeats merged
    assert [r.row for r in report.rejections] == [1051, 2308]  # the two truncated lines
    assert all("malformed row" in r.reason for r in report.rejections)
    counts = report.counts_frame().loc[str(folder / "transferability_score_records.csv")]
    assert counts.tolist() == [2468, 2466, 2, 0]  # read, accepted, rejected, flagged
    assert set(tables.similarities["method"]) == {"google_vit_base_patch16_224_imagenet"}
    assert tables.similarities["distance"].notna().all()
    assert tables.metrics.set_index("metric").loc["accuracy", "higher_is_better"]


def test_text_zoo_rejects_malformed_rows(shared_benchmarks: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tables, report = read_transfergraph(shared_benchmarks, "text")  # errors="warn"
    assert len(caught) == report.n_rejected == 5  # one UserWarning per rejected row
    assert sum("malformed row" in str(w.message) for w in caught) == 4
    malformed = [r for r in report.rejections if "malformed" in r.reason]
    assert sorted(str(r.value) for r in malformed) == ["0.1", "0.1", "lora", "none"]
    assert all(r.column == "finetuned_dataset" for r in malformed)
    # one more: a run without eval_accuracy
    assert any(r.column == "value" for r in report.rejections)
    recs = tables.records
    assert recs["dataset"].nunique() == 10
    assert set(recs["method"]) == {"finetune", "lora"}
    keys = ["model", "dataset", "metric", "method", "seed", "run"]
    assert not recs.duplicated(keys).any()
    # several runs per pair survive as distinct keys
    assert recs.groupby(["model", "dataset"]).size().max() > 1
    # README: 1,451 unique pairs, 3 of which are the malformed rows
    assert len(recs.drop_duplicates(["model", "dataset"])) == 1451 - 3
    assert (
        report.counts[
            str(shared_benchmarks / "transfergraph/sequence_classification/records.csv")
        ].read
        == 3194
    )


def test_text_zoo_raise_mode(shared_benchmarks: Path) -> None:
    with pytest.raises(IngestError, match=r"row 2030.*'0\.1'"):
        read_transfergraph(shared_benchmarks, "text", errors="raise")


def test_registry_and_bad_folder(tmp_path: Path, shared_benchmarks: Path) -> None:
    with pytest.raises(IngestError, match="not a image_classification benchmark folder"):
        read_transfergraph(tmp_path, "image")
    with pytest.raises(KeyError, match="Did you mean 'transfergraph'"):
        read_benchmark("transfergraf", tmp_path)
    tables, _ = read_benchmark("transfergraph", shared_benchmarks, zoo="image", errors="collect")
    assert len(tables.records) == 2254
