"""benchmarks/bench_kg_scale.py --hub: the Hub-shaped zoo and its streaming ingest, tiny."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from kgtransfer.kg import ZooGraph

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_kg_scale.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_kg_scale", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hub_plan_is_seeded_and_hub_shaped(bench: ModuleType) -> None:
    a, b, other = bench.hub_plan(6000, 3), bench.hub_plan(6000, 3), bench.hub_plan(6000, 4)
    assert all(np.array_equal(a[k], b[k]) for k in ("parent", "parent2", "relation", "task"))
    assert not np.array_equal(a["parent"], other["parent"])
    n = a["n_models"]
    index = np.arange(n)
    for parents in (a["parent"], a["parent2"]):  # every base comes first: a DAG
        assert np.all(parents[parents >= 0] < index[parents >= 0])
    n_edges = int((a["parent"] >= 0).sum() + (a["parent2"] >= 0).sum())
    share = bench.HUB["lineage_edges"] / bench.HUB["models"]
    assert abs(n_edges / n - share) < 0.02
    assert a["n_datasets"] == round(n * bench.HUB["datasets"] / bench.HUB["models"])
    assert set(a["relation"][a["parent"] >= 0]) == set(range(len(bench.HUB_RELATIONS)))
    assert a["task"].max() < bench.HUB["tasks"]
    # heavy tails: a few long chains and a few bases with many children
    assert a["depth"].max() >= 20 and np.median(a["depth"][a["parent"] >= 0]) <= 3
    assert a["children"].max() >= 20 * max(1.0, np.median(a["children"][a["children"] > 0]))
    assert 0.01 < len(a["with_records"]) / n < 0.03


def test_hub_batches_stream_through_add_tables(bench: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "hub"
    out = bench.child_hub_ingest(str(path), 1500, 0, 400)
    plan = bench.hub_plan(1500, 0)
    n_datasets = plan["n_datasets"]
    assert out["n_batches"] == -(-n_datasets // 400) + -(-1500 // 400)
    assert len(out["rss_mb_after_batches"]) == out["n_batches"]
    with ZooGraph.open(path, read_only=True) as graph:
        tables = graph.to_tables()
        assert len(graph.batches()) == out["n_batches"]
    assert len(tables.models) == 1500 and len(tables.datasets) == n_datasets
    assert len(tables.lineage) == out["n_lineage_edges"]
    assert len(tables.records) == out["n_records"] == int(plan["n_records"].sum())
    assert set(tables.lineage["relation"]) == set(bench.HUB_RELATIONS)
    queries = bench.child_hub_queries(str(path), 1500, 0, 2)
    assert queries["deepest_chain"] == int(plan["depth"].max())
    for name in ("candidates", "lineage_deep_chain", "descendants_top_base", "best_sources"):
        assert queries[f"p50_ms_{name}"] > 0


@pytest.mark.slow  # ~4 s idle, ~8 s on the loaded 2-core machine
def test_hub_server_path_streams_into_an_oxigraph_server(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--hub --server``: the batches go through ``ZooGraph.connect`` to a server the
    script starts (and stops), next to ``oxigraph load`` of the same quads."""
    import argparse
    import json

    if (
        bench.shutil.which("oxigraph") is None
        and not (Path(bench.sys.executable).parent / "oxigraph").is_file()
    ):
        pytest.skip("the oxigraph server binary is missing (pip install -e '.[server]')")
    args = argparse.Namespace(
        models=300,
        scale=1.0,
        server=True,
        chunk=200,
        seed=0,
        repeats=2,
        workdir=str(tmp_path / "work"),
        keep=True,
    )
    bench._hub_main(args)
    out = json.loads(capsys.readouterr().out)
    plan = bench.hub_plan(300, 0)
    assert out["n_models"] == out["n_models_server"] == 300
    assert out["n_batches"] == -(-plan["n_datasets"] // 200) + -(-300 // 200)
    assert out["n_lineage_edges"] == int((plan["parent"] >= 0).sum() + (plan["parent2"] >= 0).sum())
    for key in ("ingest_s", "server_load_s", "ingest_vs_server_load", "peak_mb_client_process"):
        assert out[key] > 0
    assert out["peak_mb_server"] >= out["peak_mb_server_during_ingest"] > 0
    for name in ("candidates", "lineage_deep_chain", "descendants_top_base", "best_sources"):
        assert out[f"p50_ms_{name}"] > 0
    # the server's store and the raw `oxigraph load` of its dump are both on disk
    assert (tmp_path / "work" / "server").is_dir() and (tmp_path / "work" / "raw").is_dir()
