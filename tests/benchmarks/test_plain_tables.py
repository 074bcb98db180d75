"""benchmarks/plain_tables.py: public zoos as plain tables, through the public from_tables path."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from kgtransfer.kg import ZooGraph
from kgtransfer.transfer.recommend.benchmarks import run_benchmark, summary_table

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "plain_tables.py"


@pytest.fixture(scope="module")
def plain_tables():
    spec = importlib.util.spec_from_file_location("plain_tables", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _graph(paths: dict[str, str]) -> ZooGraph:
    return ZooGraph.from_tables(**paths)  # errors="raise": the plain tables are clean


@pytest.mark.shared
def test_tllib_plain_tables_run_the_public_path(plain_tables, shared_benchmarks, tmp_path):
    paths = plain_tables.write_plain("tllib", shared_benchmarks, tmp_path)
    assert sorted(paths) == ["datasets", "models", "records", "scores"]
    graph = _graph(paths)
    tables = graph.to_tables()
    assert tables.records["value"].max() <= 1.0  # percent -> fraction
    assert tables.records["model"].nunique() == 10
    res = run_benchmark(graph, ["popularity", "size", "lineage", "score:*"])
    assert {"score:logme", "score:hscore", "score:leep", "score:nce"} <= set(res)
    assert "n/a" in res["size"] and "n/a" in res["lineage"]  # no n_params, no lineage
    assert len(res["popularity"]["targets"]) == 8
    table = summary_table(res).set_index("method")
    assert table.loc["size", "weighted_tau"] == "n/a"
    assert -1.0 <= table.loc["score:logme", "weighted_tau"] <= 1.0
    graph.close()


@pytest.mark.shared
def test_chance_level_runs_flagged_from_plain_tables(plain_tables, shared_benchmarks, tmp_path):
    # food101's failed runs sit at 1/101; the plain datasets table gives n_classes = 101
    # (from the #labels of the models trained on it), and the product flags them itself.
    paths = plain_tables.write_plain("transfergraph-image", shared_benchmarks, tmp_path)
    graph = _graph(paths)
    rec = graph.to_tables().records
    food = rec[rec["dataset"] == "food101"]
    assert int(food["suspect"].sum()) >= 100
    assert not rec.loc[rec["dataset"] == "cifar100", "suspect"].all()
    report = graph.batch(graph.batches()["batch"].iloc[0])["report"]  # stored on the batch
    assert len(report["flagged"]) == int(rec["suspect"].sum())
    graph.close()
