"""One record writer: the zoo grid, transfer_from and evaluate_transfer write the same
columns, with their real regime; the README's `transfer --write` example keeps both
results apart; evaluate() drops only the record it judges."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from kgtransfer.api import evaluate, transfer_from
from kgtransfer.kg import ZooGraph, regime_key
from kgtransfer.models import create_model
from kgtransfer.transfer import evaluate_transfer
from kgtransfer.zoo import TINY_ZOO, ZooBuildResult, load_target, load_zoo_model, run_grid

torch.set_num_threads(1)
FAST = {"epochs": 1, "batch_size": 64}
#: What every writer stores about a transfer result beside the records columns.
SHARED = ["gain", "scratch_accuracy", "wall_time", "n_test", "n_train", "epochs", "frozen"]


@pytest.fixture(scope="module")
def grid_graph(tiny_zoo: tuple[Path, ZooBuildResult]) -> ZooGraph:
    """A private in-memory copy of the tiny zoo's graph after its grid."""
    home = tiny_zoo[0]
    run_grid(home, spec=TINY_ZOO, seed=0)
    buffer = io.BytesIO()
    with ZooGraph.open(home / "graph") as graph:
        graph.export(buffer, format="nq")
    copy = ZooGraph()
    copy.load_rdf(buffer.getvalue(), format="nq")
    return copy


def _tabular(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def test_three_writers_write_the_same_columns(
    tiny_zoo: tuple[Path, ZooBuildResult], grid_graph: ZooGraph
) -> None:
    graph = ZooGraph()
    src = create_model("mlp", n_classes=3, input_shape=(4,))
    x, y = _tabular()
    a = evaluate_transfer(
        "finetune", src, "mlp", (x[:40], y[:40]), (x[40:], y[40:]), budget=FAST,
        graph=graph, source_name="mlp.a", target_name="toy",
    )  # fmt: skip
    b = transfer_from(src, None, (x, y), budget=FAST, graph=graph, source_name="mlp.b",
                      target_name="toy")  # fmt: skip
    records = graph.to_tables().records.set_index("model")
    grid = grid_graph.to_tables().records
    grid = grid[grid["run"].str.startswith("kgtransfer-zoo/")]
    assert len(grid) == 8
    assert sorted(records.reset_index().columns) == sorted(grid.columns)  # one schema
    for writer in (records.loc[["mlp.a"]], records.loc[["mlp.b"]], grid):
        assert writer[SHARED].notna().all().all(), writer[SHARED]
        assert "scratch" not in writer.columns
    assert records.loc["mlp.a", "n_train"] == 40 and records.loc["mlp.b", "n_train"] == 45
    assert records.loc["mlp.a", "gain"] == pytest.approx(a.gain)
    assert records.loc["mlp.b", "scratch_accuracy"] == pytest.approx(b.scratch_accuracy)
    assert (grid["shots"] == 5).all() and grid["split"].str.contains("few_shot").all()
    # provenance hangs off every record's run, from every writer
    found = grid_graph.query(
        "SELECT (COUNT(?r) AS ?n) WHERE { ?r a kgt:TransferRecord ; prov:wasGeneratedBy ?run . "
        "?run kgt:provenance ?p }"
    )
    assert found["n"][0] == 8
    assert len(graph.query("SELECT ?r WHERE { ?r prov:wasGeneratedBy ?run }")) == 2


def test_readme_transfer_write_keeps_both_regimes(
    tiny_zoo: tuple[Path, ZooBuildResult], grid_graph: ZooGraph
) -> None:
    # `kgtransfer transfer cnn_small.digits digits_blurred --write` on top of the grid
    home = tiny_zoo[0]
    buffer = io.BytesIO()
    grid_graph.export(buffer, format="nq")
    graph = ZooGraph()
    graph.load_rdf(buffer.getvalue(), format="nq")
    before = graph.best_sources("digits_blurred")
    full = transfer_from(
        load_zoo_model(home, "cnn_small.digits"),
        None,
        "digits_blurred",
        budget={"epochs": 1},
        graph=graph,
        source_name="cnn_small.digits",
    )
    records = graph.records(model="cnn_small.digits", dataset="digits_blurred", limit=None)
    assert len(records) == 2  # the full-split result beside the grid's few-shot one
    assert (
        sorted(records["n_train"]) == [50, full.regime["n_train"]] and full.regime["n_train"] > 500
    )
    assert regime_key(records).nunique() == 2
    after = graph.best_sources("digits_blurred")
    pd.testing.assert_frame_equal(after, before)  # still the grid's regime by default
    assert after.attrs["notes"] and "span 2 regimes" in after.attrs["notes"][0]
    mixed = graph.best_sources("digits_blurred", regime="any").set_index("model")
    few = before.set_index("model").loc["cnn_small.digits", "best"]
    assert mixed.loc["cnn_small.digits", "best"] == pytest.approx(max(few, full.accuracy))
    assert mixed.loc["cnn_small.digits", "n_records"] == 2
    # judged in its own regime: no other record of it, so the target's regime, said so
    ev = evaluate(full, graph)
    assert ev.regime == after.attrs["regime"] and any("differs" in n for n in ev.notes)
    # a transfer on the grid's own few-shot split and budget has exactly the grid's regime
    few = transfer_from(
        load_zoo_model(home, "mlp.digits"),
        None,
        load_target(TINY_ZOO, "digits_blurred", 0),
        budget=TINY_ZOO.grid_budget,
        source_name="mlp.digits",
        target_name="digits_blurred",
    )
    ev = evaluate(few, graph)
    assert ev.regime == after.attrs["regime"] and ev.notes == [ev.notes[0]]
    assert "span 2 regimes" in ev.notes[0] and ev.n_sources == len(after)


def test_evaluate_drops_only_the_judged_record() -> None:
    graph = ZooGraph()
    graph.add_records(
        pd.DataFrame({"model": ["a", "b", "c"], "dataset": ["toy"] * 3, "value": [0.95, 0.6, 0.7]}),
        models=pd.DataFrame({"model": ["a", "b", "c"]}),
        datasets=pd.DataFrame({"dataset": ["toy"]}),
    )
    src = create_model("mlp", n_classes=2, input_shape=(4,))
    earlier = transfer_from(src, None, _tabular(), budget=FAST, graph=graph, source_name="d",
                            target_name="toy")  # fmt: skip
    judged = transfer_from(src, None, _tabular(), budget=FAST, graph=graph, source_name="b",
                           target_name="toy")  # fmt: skip
    assert earlier.record_id != judged.record_id
    for where in (graph, graph.to_tables()):
        ev = evaluate(judged, where)
        # the earlier transfer_from record counts (same regime); the judged one does not
        assert (ev.best_in_hindsight, ev.n_sources) == ("d", 1), where
        assert ev.best_value == pytest.approx(earlier.accuracy)
        mixed = evaluate(judged, where, regime="any")
        assert mixed.n_sources == 4 and mixed.best_in_hindsight == "a"
