"""PARC, TLlib, Model Spider and SFDA readers on the real public tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgtransfer.errors import IngestError
from kgtransfer.kg import ZooTables
from kgtransfer.kg.ingest import (
    list_benchmarks,
    read_benchmark,
    read_model_spider,
    read_parc,
    read_sfda,
    read_tllib,
)

pytestmark = pytest.mark.shared


def _value(tables: ZooTables, model: str, dataset: str) -> float:
    recs = tables.records
    sel = recs[(recs["model"] == model) & (recs["dataset"] == dataset)]
    assert len(sel) == 1
    return float(sel["value"].iloc[0])


def test_parc(shared_benchmarks: Path) -> None:
    tables, report = read_parc(shared_benchmarks)
    assert len(tables.models) == 71  # README: 71 models
    assert len(tables.records) == 469 - 10  # the 10 Oracle = -1 rows are missing results
    assert any("Oracle = -1" in n and "10 row(s)" in n for n in report.notes)
    assert "resnet101.simclr_imagenet" in set(tables.models["model"])
    assert tables.records["dataset"].nunique() == 7
    assert _value(tables, "resnet50.panoptic-rcnn_fpn_139514544", "cifar10") == pytest.approx(0.891)
    controlled, _ = read_parc(shared_benchmarks / "parc", "controlled")
    assert len(controlled.records) == 196 and len(controlled.models) == 32
    row = controlled.models.set_index("model").loc["resnet50.nabird"]
    assert row["architecture"] == "resnet50" and row["trained_on"] == "nabird"


def test_tllib(shared_benchmarks: Path) -> None:
    tables, report = read_tllib(shared_benchmarks)
    assert len(tables.records) == 80 and tables.records["model"].nunique() == 10
    assert _value(tables, "GoogleNet", "Aircraft") == pytest.approx(0.827)
    assert sorted(tables.scores["estimator"].unique()) == ["hscore", "leep", "logme", "nce"]
    logme = tables.scores.query(
        "model == 'GoogleNet' and dataset == 'Aircraft' and estimator == 'logme'"
    )
    assert float(logme["value"].iloc[0]) == pytest.approx(0.934)
    assert any("percent" in n for n in report.notes)


def test_model_spider(shared_benchmarks: Path) -> None:
    tables, _ = read_model_spider(shared_benchmarks)
    single = tables.records[tables.records["run"] == "model-spider/single"]
    assert len(single) == 100
    reg = single[single["dataset"].isin(["dSprites", "UTKFace"])]
    assert set(reg["metric"]) == {"neg_error"} and (reg["value"] < 0).all()
    directions = dict(
        zip(tables.metrics["metric"], tables.metrics["higher_is_better"], strict=True)
    )
    assert directions == {"accuracy": True, "neg_error": True}
    multi = tables.records[tables.records["run"] == "model-spider/multi"]
    assert multi["model"].nunique() == 66 and multi["dataset"].nunique() == 7
    assert len(tables.scores) == 80 * 9
    m = tables.models.set_index("model").loc["FTD_densenet201_AID"]
    assert m["architecture"] == "densenet201" and m["trained_on"] == "AID"


@pytest.mark.parametrize(
    ("family", "n_models"), [("supervised_cnn", 11), ("selfsupervised", 12), ("vit", 13)]
)
def test_sfda(shared_benchmarks: Path, family: str, n_models: int) -> None:
    tables, report = read_benchmark("sfda", shared_benchmarks, family=family)
    assert tables.records["model"].nunique() == n_models
    assert tables.records["dataset"].nunique() == 11
    assert set(tables.records["run"]) == {f"sfda/{family}"}
    assert tables.records["value"].between(0, 1).all()
    assert report.n_rejected == 0


def test_registry_lists_every_reader(tmp_path: Path) -> None:
    assert list_benchmarks() == ["model_spider", "parc", "sfda", "tllib", "transfergraph"]
    with pytest.raises(IngestError, match="not a sfda benchmark folder"):
        read_sfda(tmp_path)
    with pytest.raises(ValueError, match="family='cnn'"):
        read_sfda(tmp_path, family="cnn")
