"""Compatibility-aware ranking: recommend and transfer_from share one input check;
raw tabular data is standardised on the training split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from kgtransfer._api._compat import input_compatibility
from kgtransfer.api import recommend, transfer_from
from kgtransfer.errors import TransferError
from kgtransfer.kg import ZooGraph, ZooTables
from kgtransfer.models import create_model
from kgtransfer.transfer import PopularityRecommender

torch.set_num_threads(1)
FAST = {"epochs": 2, "batch_size": 16}


@pytest.mark.parametrize(
    ("contract", "shape", "how"),
    [
        ({"architecture": "cnn1d", "library_name": "kgtransfer"}, (13,), "incompatible"),
        ({"architecture": "cnn1d"}, (1, 40), "adapts"),
        ({"architecture": "mlp", "n_features": 64.0}, (13,), "adapts"),
        ({"architecture": "mlp", "n_features": 13.0}, (13,), "reads"),
        (
            {"architecture": "timm:vit", "library_name": "timm", "input_channels": 3.0,
             "input_height": 16.0, "input_width": 16.0},
            (3, 16, 16),
            "reads",
        ),
        (
            {"architecture": "timm:vit", "library_name": "timm", "input_channels": 3.0,
             "input_height": 16.0, "input_width": 16.0},
            (13,),
            "incompatible",
        ),
        ({"architecture": "resnet50", "library_name": "timm"}, (13,), "unknown"),
        ({"architecture": "cnn1d"}, None, "unknown"),
        ({"modality": "text", "vocab_size": 40.0, "input_length": 16.0}, (1, 8, 8), "incompatible"),
    ],
)  # fmt: skip
def test_input_compatibility_cases(contract: dict, shape: tuple | None, how: str) -> None:
    verdict = input_compatibility(contract, shape)
    assert verdict.how == how
    assert verdict.compatible == (how != "incompatible")
    assert verdict.why


def _wine_zoo(models: list[str]) -> ZooTables:
    """A zoo whose most popular model (cnn1d) cannot read the 13 wine features."""
    rows = {
        "cnn1d.mnist1d": {"architecture": "cnn1d", "modality": "signal"},
        "timm.vit": {
            "architecture": "timm:vit_tiny",
            "library_name": "timm",
            "modality": "image",
            "input_channels": 3.0,
            "input_height": 16.0,
            "input_width": 16.0,
        },
        "cnn1d.parity": {"architecture": "cnn1d", "modality": "signal"},
        "mlp.digits": {"architecture": "mlp", "modality": "image", "n_features": 64.0},
        "bench.x": {"architecture": "some-benchmark-net"},
    }
    value = {"cnn1d.mnist1d": 0.95, "timm.vit": 0.9, "cnn1d.parity": 0.85}
    value.update({"mlp.digits": 0.8, "bench.x": 0.7})
    records = pd.DataFrame(
        [
            {"model": m, "dataset": d, "value": value[m] - 0.01 * i}
            for i, d in enumerate(["mnist1d", "digits"])
            for m in models
        ]
    )
    graph = ZooGraph()
    graph.add_tables(
        models=pd.DataFrame([{"model": m, **rows[m]} for m in models]),
        datasets=pd.DataFrame(
            {
                "dataset": ["mnist1d", "digits", "wine"],
                "modality": ["signal", "image", "tabular"],
            }
        ),
        records=records,
    )
    return graph.to_tables()


def test_recommend_leaves_out_models_that_cannot_read_the_target() -> None:
    tables = _wine_zoo(["cnn1d.mnist1d", "timm.vit", "cnn1d.parity", "mlp.digits", "bench.x"])
    rec = recommend(tables, "wine", k=None, recommender=PopularityRecommender())
    # the popularity ranking puts cnn1d first, but it cannot read 13 tabular features
    assert rec.best == "mlp.digits"
    assert rec.frame["model"].tolist() == ["mlp.digits", "bench.x"]
    assert rec.frame["rank"].tolist() == [1, 2]
    assert rec.frame["compatible"].tolist() == [True, True]
    why = rec.frame.set_index("model")["why"]
    assert "rebuilt for the target's inputs (13,)" in why["mlp.digits"]
    assert "assumed compatible" in why["bench.x"]  # unknown contract: kept, flagged
    left = rec.incompatible.set_index("model")["why"]
    assert left.index.tolist() == ["cnn1d.mnist1d", "timm.vit", "cnn1d.parity"]
    assert "signal inputs of shape (C, L)" in left["cnn1d.mnist1d"]
    assert "expects inputs (3, 16, 16)" in left["timm.vit"]
    assert any("3 candidate(s) cannot take" in n for n in rec.metadata["notes"])

    kept = recommend(
        tables, "wine", k=None, recommender=PopularityRecommender(), compatible_only=False
    )
    # ranked last, in the recommender's order
    assert kept.frame["model"].tolist()[2:] == ["cnn1d.mnist1d", "timm.vit", "cnn1d.parity"]
    assert kept.frame["compatible"].tolist() == [True, True, False, False, False]
    assert kept.incompatible.empty


def test_no_compatible_source_is_a_clear_answer() -> None:
    tables = _wine_zoo(["cnn1d.mnist1d", "timm.vit", "cnn1d.parity"])
    rec = recommend(tables, "wine", k=5, recommender=PopularityRecommender())
    assert rec.frame.empty and len(rec.incompatible) == 3
    assert "no compatible source in this zoo" in " ".join(rec.metadata["notes"])
    with pytest.raises(ValueError, match="No compatible source in this zoo for 'wine'"):
        _ = rec.best


def _wine_csv(path: Path) -> Path:
    rng = np.random.default_rng(0)
    y = np.arange(80) % 2
    x = rng.normal(size=(80, 13)) * np.linspace(1, 500, 13) + 1000.0
    x[:, 0] += 300.0 * y
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(13)]).assign(label=y)
    frame.to_csv(path / "wine.csv", index=False)
    return path / "wine.csv"


def test_transfer_from_refuses_with_the_reason_recommend_gives(tmp_path: Path) -> None:
    csv = _wine_csv(tmp_path)
    src = create_model("cnn1d", n_classes=10, input_shape=(1, 40))
    expected = input_compatibility({"architecture": "cnn1d"}, (13,)).why
    with pytest.raises(TransferError, match="Cannot transfer 'cnn1d' to this target") as info:
        transfer_from(src, None, str(csv), label_column="label", budget=FAST)
    assert expected in str(info.value)
    # a model rebuilt for the new inputs transfers, and says how
    mlp = create_model("mlp", n_classes=10, input_shape=(1, 8, 8))
    result = transfer_from(mlp, None, str(csv), label_column="label", budget=FAST)
    assert result.provenance["choice"]["compatibility"]["how"] == "adapts"


def test_csv_features_are_standardised_on_the_training_split(tmp_path: Path) -> None:
    from kgtransfer.data import from_csv, stratified_split

    csv = _wine_csv(tmp_path)
    src = create_model("mlp", n_classes=2, input_shape=(13,))
    result = transfer_from(src, None, str(csv), label_column="label", budget=FAST, scratch=False)
    info = result.provenance["preprocessing"]["standardised"]
    train, _ = stratified_split(from_csv(csv, label_column="label"), 0.25, seed=0)
    assert info["n_fit"] == len(train) == 60
    assert np.allclose(info["mean"], train.x.astype(np.float64).mean(axis=0), rtol=1e-5)
    assert np.allclose(info["std"], train.x.astype(np.float64).std(axis=0), rtol=1e-5)
    assert "train split" in info["fit_on"]
    raw = transfer_from(
        src, None, str(csv), label_column="label", budget=FAST, scratch=False, standardize=False
    )
    assert "preprocessing" not in raw.provenance


def test_standardize_fits_on_train_only() -> None:
    from kgtransfer.data import from_arrays, standardize

    train = from_arrays(np.array([[0.0, 5.0], [2.0, 5.0]]), np.array([0, 1]), name="t")
    test = from_arrays(np.array([[100.0, 7.0], [0.0, 5.0]]), np.array([1, 0]), name="t")
    a, b = standardize(train, test)
    assert a.x.tolist() == [[-1.0, 0.0], [1.0, 0.0]]  # a constant feature keeps std 1
    assert b.x.tolist()[0] == [99.0, 2.0]  # the test rows did not move the statistics
    assert train.x.tolist() == [[0.0, 5.0], [2.0, 5.0]]  # inputs untouched
    with pytest.raises(ValueError, match="tabular datasets of shape"):
        standardize(train, from_arrays(np.zeros((2, 3)), np.array([0, 1]), name="u"))
