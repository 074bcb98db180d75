"""build_zoo on the tiny spec: checkpoints, cards, graph contents, caching and force."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from kgtransfer.data import load_dataset
from kgtransfer.errors import UnknownNameError
from kgtransfer.kg import ZooGraph
from kgtransfer.models import create_model, read_card
from kgtransfer.zoo import (
    TINY_ZOO,
    Budget,
    SourceSpec,
    ZooBuildResult,
    ZooSpec,
    build_zoo,
    load_target,
    load_zoo_model,
    zoo_status,
)

FILES = ("model.safetensors", "config.json", "README.md", "zoo.json")


@pytest.fixture
def built(tiny_zoo: tuple[Path, ZooBuildResult]) -> tuple[Path, ZooBuildResult]:
    return tiny_zoo


def _mtimes(home: Path) -> dict[str, int]:
    return {
        str(p.relative_to(home)): p.stat().st_mtime_ns
        for p in (home / "zoo" / "models").rglob("*")
        if p.is_file()
    }


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_checkpoints_and_cards_exist_and_load(built: tuple[Path, ZooBuildResult]) -> None:
    home, result = built
    assert result.n_built == 4 and result.n_cached == 0
    for name in (
        "mlp.digits",
        "mlp.digits_ft_rotated",
        "cnn_small.digits",
        "cnn_small.digits_rotated",
    ):
        folder = home / "zoo" / "models" / name
        assert all((folder / f).is_file() for f in FILES), name
        model = load_zoo_model(home, name)
        row = result.models.set_index("model").loc[name]
        # the recorded source test accuracy is what the checkpoint really scores
        test = load_dataset(row["dataset"], split="test", seed=0)
        with torch.no_grad():
            pred = model(torch.as_tensor(test.x, dtype=torch.float32)).argmax(1).numpy()
        assert float(np.mean(pred == test.y)) == pytest.approx(row["test_accuracy"], abs=1e-9)
        assert row["test_accuracy"] > 1.5 / test.n_classes  # learned something
    card = read_card(home / "zoo" / "models" / "mlp.digits_ft_rotated" / "README.md")
    assert card["base_model"] == "mlp.digits"
    assert card["base_model_relation"] == "finetune"
    assert card["datasets"] == ["digits_rotated"]
    metrics = card["model-index"][0]["results"][0]["metrics"][0]
    assert metrics["type"] == "accuracy"
    assert card["n_params"] == sum(
        p.numel() for p in load_zoo_model(home, "mlp.digits_ft_rotated").parameters()
    )


def test_finetune_starts_from_its_base(built: tuple[Path, ZooBuildResult]) -> None:
    home, _ = built
    base = load_zoo_model(home, "mlp.digits").state_dict()
    ft = load_zoo_model(home, "mlp.digits_ft_rotated").state_dict()
    torch.manual_seed(123)
    fresh = create_model("mlp", n_classes=10, input_shape=(1, 8, 8)).state_dict()
    assert base.keys() == ft.keys() == fresh.keys()

    def dist(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
        return sum(float((a[k].float() - b[k].float()).norm()) for k in a)

    # trained on, so it moved; but it is far closer to its base than to a fresh init
    assert 0 < dist(ft, base) < 0.5 * dist(ft, fresh)


def test_graph_holds_models_lineage_datasets_similarities(
    built: tuple[Path, ZooBuildResult],
) -> None:
    home, result = built
    with ZooGraph.open(home / "graph") as graph:
        tables = graph.to_tables()
    models = tables.models.set_index("model")
    assert set(models.index) == {s.name for s in TINY_ZOO.sources}
    assert models.loc["cnn_small.digits", "architecture"] == "cnn_small"
    assert models.loc["mlp.digits_ft_rotated", "trained_on"] == "digits_rotated"
    assert models.loc["mlp.digits", "n_params"] > 0
    lineage = tables.lineage[["model", "base_model", "relation"]].values.tolist()
    assert lineage == [["mlp.digits_ft_rotated", "mlp.digits", "finetune"]]
    datasets = tables.datasets.set_index("dataset")
    assert {"digits", "digits_rotated", "digits_blurred", "digits_5to9"} <= set(datasets.index)
    assert datasets.loc["digits_5to9", "n_classes"] == 5
    assert datasets.loc["digits_blurred", "n_samples"] == 50  # the few-shot split
    assert datasets.loc["digits", "modality"] == "image"
    assert not datasets["domain"].isna().any()
    sims = tables.similarities
    assert len(sims) == len(result.similarities) > 0
    assert sims["similarity"].between(0, 1).all()
    # the model-index source accuracies arrive as records on the source datasets
    records = tables.records.set_index(["model", "dataset"])
    rec = records.loc[("cnn_small.digits", "digits")]
    assert rec["value"] == pytest.approx(
        result.models.set_index("model").loc["cnn_small.digits", "test_accuracy"], abs=1e-6
    )


def test_second_build_is_a_cache_hit(built: tuple[Path, ZooBuildResult]) -> None:
    home, _ = built
    before = _mtimes(home)
    again = build_zoo(home, spec=TINY_ZOO, seed=0)
    assert again.n_cached == 4 and again.n_built == 0
    assert not again.graph_updated
    assert _mtimes(home) == before
    assert (zoo_status(home, spec=TINY_ZOO)["status"] == "built").all()
    assert (zoo_status(home, spec=TINY_ZOO, seed=1)["status"] == "stale").all()


def test_changed_entry_rebuilds_it_and_its_finetunes_only(tmp_path: Path) -> None:
    fast = Budget(epochs=1)
    small = ZooSpec(
        "t",
        (
            SourceSpec("mlp.digits", "digits", budget=fast),
            SourceSpec("mlp.digits_ft_rotated", "digits_rotated", "mlp.digits", fast),
            SourceSpec("mlp.digits_rotated", "digits_rotated", budget=fast),
        ),
        TINY_ZOO.targets,
    )
    first = build_zoo(tmp_path, spec=small)
    weights = {n: _state(load_zoo_model(tmp_path, n)) for n in first.models["model"]}
    edited = dataclasses.replace(
        small,
        sources=(
            dataclasses.replace(small.sources[0], budget=Budget(epochs=2)),
            *small.sources[1:],
        ),
    )
    second = build_zoo(tmp_path, spec=edited)
    assert second.models.set_index("model")["status"].to_dict() == {
        "mlp.digits": "built",
        "mlp.digits_ft_rotated": "built",
        "mlp.digits_rotated": "cached",
    }
    assert second.graph_updated
    # force retrains everything, and seeded training reproduces the weights exactly
    third = build_zoo(tmp_path, spec=small, force=True)
    assert third.n_built == 3
    for name, state in weights.items():
        again = load_zoo_model(tmp_path, name).state_dict()
        assert all(torch.equal(state[k], again[k]) for k in state), name
    with ZooGraph.open(tmp_path / "graph") as graph:
        assert len(graph.to_tables().models) == 3  # re-syncs replaced, never duplicated
        assert len(graph.batches()) == 2


def test_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match=r"Unknown zoo model 'mlp\.digit'"):
        load_zoo_model(tmp_path, "mlp.digit")
    bad_arch = ZooSpec("bad", (SourceSpec("mlpp.digits", "digits"),), ())
    with pytest.raises(UnknownNameError, match=r"Unknown architecture 'mlpp'.*'mlp'"):
        build_zoo(tmp_path, spec=bad_arch)
    bad_data = ZooSpec("bad", (SourceSpec("mlp.digitz", "digitz"),), ())
    with pytest.raises(UnknownNameError, match=r"Unknown dataset 'digitz'"):
        build_zoo(tmp_path, spec=bad_data)


def test_load_target_is_a_fixed_few_shot_split() -> None:
    train, test = load_target(TINY_ZOO, "digits_5to9", seed=0)
    again, _ = load_target(TINY_ZOO, "digits_5to9", seed=0)
    other, _ = load_target(TINY_ZOO, "digits_5to9", seed=1)
    assert np.bincount(train.y).tolist() == [5] * 5
    assert np.array_equal(train.x, again.x)
    assert not np.array_equal(train.x, other.x)
    assert len(test) > len(train)
    with pytest.raises(UnknownNameError, match="Did you mean 'digits_blurred'"):
        load_target(TINY_ZOO, "digits_blured")


def test_errors_collect_reports_failed_sources_and_their_finetunes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kgtransfer.zoo.build as build_module

    fast = Budget(epochs=1)
    spec = ZooSpec(
        "f",
        (
            SourceSpec("mlp.digits", "digits", budget=fast),
            SourceSpec("mlp.digits_ft_rotated", "digits_rotated", "mlp.digits", fast),
            SourceSpec("mlp.digits_rotated", "digits_rotated", budget=fast),
        ),
        TINY_ZOO.targets,
    )
    real = build_module._train_source

    def broken(src: SourceSpec, *args: object, **kwargs: object) -> object:
        if src.name == "mlp.digits":
            raise RuntimeError("out of memory")
        return real(src, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "_train_source", broken)
    with pytest.raises(RuntimeError, match="out of memory"):
        build_zoo(tmp_path, spec=spec)
    result = build_zoo(tmp_path, spec=spec, errors="collect")
    rows = result.models.set_index("model")
    assert rows["status"].to_dict() == {
        "mlp.digits": "failed",
        "mlp.digits_ft_rotated": "failed",
        "mlp.digits_rotated": "built",
    }
    assert rows.loc["mlp.digits", "error"] == "RuntimeError: out of memory"
    assert "base model 'mlp.digits' failed" in rows.loc["mlp.digits_ft_rotated", "error"]
    assert result.n_failed == 2
    with ZooGraph.open(tmp_path / "graph") as graph:
        assert graph.ids("model") == ["mlp.digits_rotated"]
