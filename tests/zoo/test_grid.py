"""run_grid on the tiny zoo: rows, scratch/gain, graph records, caching, crash resume."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import kgtransfer.zoo.grid as grid_module
from kgtransfer.kg import ZooGraph
from kgtransfer.zoo import (
    TINY_ZOO,
    Budget,
    SourceSpec,
    TargetSpec,
    ZooBuildResult,
    ZooSpec,
    build_zoo,
    load_zoo_model,
    read_grid,
    run_grid,
)


@pytest.fixture(scope="module")
def home(tiny_zoo: tuple[Path, ZooBuildResult]) -> Path:
    return tiny_zoo[0]


@pytest.fixture(scope="module")
def grid(home: Path) -> pd.DataFrame:
    return run_grid(home, spec=TINY_ZOO, seed=0)


def test_grid_rows(grid: pd.DataFrame) -> None:
    # 2 targets x (2 scratch architectures + 4 sources)
    assert len(grid) == 12
    assert (grid["status"] == "ok").all(), grid[["source", "target", "error"]]
    scratch = grid[grid["method"] == "scratch"]
    assert sorted(scratch["architecture"].unique()) == ["cnn_small", "mlp"]
    assert (scratch["source"] == "").all()
    transfers = grid[grid["method"] == "finetune"]
    for row in transfers.itertuples():
        base = scratch[
            (scratch["target"] == row.target) & (scratch["architecture"] == row.architecture)
        ]
        assert row.scratch == base["accuracy"].item()
        assert row.gain == pytest.approx(row.accuracy - row.scratch)
        assert row.negative_transfer == (row.gain < -0.01)
        assert 0.0 <= row.accuracy <= 1.0
        report = json.loads(row.report)
        assert report  # what was copied / re-initialised is recorded
    hp = json.loads(transfers["hparams"].iloc[0])
    assert hp["epochs"] == TINY_ZOO.grid_budget.epochs and hp["method"] == "finetune"
    assert (grid["n_train"][grid["target"] == "digits_5to9"] == 25).all()


def test_graph_holds_the_grid_as_records(home: Path, grid: pd.DataFrame) -> None:
    with ZooGraph.open(home / "graph") as graph:
        tables = graph.to_tables()
    records = tables.records[tables.records["method"] == "finetune"]
    assert len(records) == 8
    merged = records.merge(grid, left_on=["model", "dataset"], right_on=["source", "target"])
    assert len(merged) == 8
    assert (merged["value"] - merged["accuracy"]).abs().max() < 1e-9
    assert (merged["scratch_accuracy"] - merged["scratch"]).abs().max() < 1e-9
    assert (merged["gain_x"] - merged["gain_y"]).abs().max() < 1e-9
    # the few-shot regime of every record
    assert (merged["n_train_x"] == merged["n_train_y"]).all()
    assert (merged["shots"] == 5).all() and (merged["frozen"] == False).all()  # noqa: E712
    assert (merged["epochs"] == TINY_ZOO.grid_budget.epochs).all()
    assert merged["split_x"].str.endswith("+few_shot(5/class,seed=0)").all()
    assert (merged["seed_x"] == 0).all() and (merged["metric"] == "accuracy").all()
    assert merged["run"].str.startswith("kgtransfer-zoo/tiny/").all()
    datasets = tables.datasets.set_index("dataset")
    for target in ("digits_blurred", "digits_5to9"):
        best = grid[(grid["target"] == target) & (grid["method"] == "scratch")]["accuracy"].max()
        assert datasets.loc[target, "scratch_accuracy"] == pytest.approx(best)
        assert datasets.loc[target, "domain"] is not None  # full metadata kept
    # no fake "scratch" model in the graph
    assert set(tables.models["model"]) == {s.name for s in TINY_ZOO.sources}


def test_second_run_is_cached_and_writes_nothing(
    home: Path, grid: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = home / "zoo" / "grid.csv"
    mtime = path.stat().st_mtime_ns
    with ZooGraph.open(home / "graph") as graph:
        batches = graph.batches()["batch"].tolist()

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cached run was recomputed")

    monkeypatch.setattr(grid_module, "run_transfer", boom)
    monkeypatch.setattr(grid_module, "run_scratch", boom)
    again = run_grid(home, spec=TINY_ZOO, seed=0)
    pd.testing.assert_frame_equal(again, grid, check_dtype=False)
    assert path.stat().st_mtime_ns == mtime
    with ZooGraph.open(home / "graph") as graph:
        assert graph.batches()["batch"].tolist() == batches


def test_crash_loses_at_most_one_run_and_resume_reproduces(
    tmp_path: Path, home: Path, grid: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    work = tmp_path / "home"
    shutil.copytree(home, work)  # the built zoo and its graph, without the grid results
    (work / "zoo" / "grid.csv").unlink()
    real = grid_module.run_transfer
    calls: list[str] = []

    def crash_on_third(*args: object, **kwargs: object) -> object:
        calls.append("x")
        if len(calls) == 3:
            raise KeyboardInterrupt("simulated crash")
        return real(*args, **kwargs)

    monkeypatch.setattr(grid_module, "run_transfer", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        run_grid(work, spec=TINY_ZOO, seed=0)
    saved = read_grid(work)
    assert len(saved) == 2 + 2  # two scratch runs and two transfers finished
    calls.clear()

    def counting(*args: object, **kwargs: object) -> object:
        calls.append("x")
        return real(*args, **kwargs)

    monkeypatch.setattr(grid_module, "run_transfer", counting)
    resumed = run_grid(work, spec=TINY_ZOO, seed=0)
    assert len(calls) == 2 + 4  # only the unfinished transfers ran
    # seeded runs: the resumed grid equals the one computed in one go
    cols = ["source", "architecture", "target", "method", "accuracy", "scratch", "gain"]
    pd.testing.assert_frame_equal(resumed[cols], grid[cols])


def test_grid_needs_a_built_zoo(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"not built for spec 'tiny'.*Run build_zoo"):
        run_grid(tmp_path, spec=TINY_ZOO)


def test_architecture_keyword_arguments_reach_build_and_grid(tmp_path: Path) -> None:
    fast = Budget(epochs=1)
    spec = ZooSpec(
        "kw",
        (SourceSpec("mlp.digits_w16", "digits", budget=fast, arch_kwargs=(("width", 16),)),),
        (TargetSpec("digits_5to9", n_per_class=3),),
        grid_budget=fast,
    )
    build_zoo(tmp_path, spec=spec)
    assert load_zoo_model(tmp_path, "mlp.digits_w16").feature_dim == 16
    grid = run_grid(tmp_path, spec=spec).set_index("method")
    assert grid.loc["scratch", "architecture"] == "mlp(width=16)"
    assert grid.loc["finetune", "status"] == "ok"
    report = json.loads(grid.loc["finetune", "report"])
    assert len(report["copied"]) > 0  # same widths: the backbone was copied
    assert json.loads(grid.loc["finetune", "hparams"])["arch_kwargs"] == {"width": 16}


def test_rebuild_then_grid_never_duplicates_records(tmp_path: Path) -> None:
    fast = Budget(epochs=1)
    spec = ZooSpec(
        "one",
        (SourceSpec("mlp.digits", "digits", budget=fast),),
        (TargetSpec("digits_5to9", n_per_class=3),),
        grid_budget=fast,
    )
    build_zoo(tmp_path, spec=spec)
    first = run_grid(tmp_path, spec=spec)
    build_zoo(tmp_path, spec=spec, force=True)  # rewrites datasets: scratch_accuracy lost
    again = run_grid(tmp_path, spec=spec)  # cached runs, but the graph is resynced
    assert again["accuracy"].tolist() == first["accuracy"].tolist()
    with ZooGraph.open(tmp_path / "graph") as graph:
        tables = graph.to_tables()
        n_batches = len(graph.batches())
    assert (tables.records["method"] == "finetune").sum() == 1
    assert tables.datasets.set_index("dataset").loc["digits_5to9", "scratch_accuracy"] == (
        pytest.approx(first.loc[first["method"] == "scratch", "accuracy"].item())
    )
    assert n_batches == 3  # cards, datasets + similarities, the target's grid batch


def test_errors_modes_keep_failed_runs_and_retry_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = Budget(epochs=1)
    spec = ZooSpec(
        "two",
        (
            SourceSpec("mlp.digits", "digits", budget=fast),
            SourceSpec("mlp.digits_rotated", "digits_rotated", budget=fast),
        ),
        (TargetSpec("digits_5to9", n_per_class=3),),
        grid_budget=fast,
    )
    build_zoo(tmp_path, spec=spec)
    real = grid_module.run_transfer

    calls: list[int] = []

    def flaky(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:  # the first transfer (mlp.digits) fails once
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(grid_module, "run_transfer", flaky)
    with pytest.raises(ValueError, match="errors must be 'raise', 'warn' or 'collect', got 'x'"):
        run_grid(tmp_path, spec=spec, errors="x")  # type: ignore[arg-type]
    with pytest.warns(UserWarning, match=r"finetune mlp\.digits on digits_5to9 failed.*fire"):
        grid = run_grid(tmp_path, spec=spec, errors="warn")
    failed = grid[grid["status"] == "failed"]
    assert failed["source"].tolist() == ["mlp.digits"]
    assert failed["error"].item() == "RuntimeError: disk on fire"
    with ZooGraph.open(tmp_path / "graph") as graph:
        records = graph.to_tables().records
    assert records.loc[records["method"] == "finetune", "model"].tolist() == ["mlp.digits_rotated"]
    again = run_grid(tmp_path, spec=spec)  # the failed run is retried, the others cached
    assert (again["status"] == "ok").all()
    with ZooGraph.open(tmp_path / "graph") as graph:
        records = graph.to_tables().records
    assert sorted(records.loc[records["method"] == "finetune", "model"]) == [
        "mlp.digits",
        "mlp.digits_rotated",
    ]
