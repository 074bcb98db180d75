"""benchmarks/synthetic_zoo.py: a seeded zoo with lineage and task/domain, as plain tables."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kgtransfer.kg import ZooGraph
from kgtransfer.kg.tables import COLUMNS
from kgtransfer.transfer.recommend import evaluate_recommender
from kgtransfer.transfer.recommend._base import BaseRecommender
from kgtransfer.transfer.recommend.benchmarks import run_benchmark

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "synthetic_zoo.py"
SMALL = {"n_models": 80, "n_datasets": 8, "density": 0.3}


@pytest.fixture(scope="module")
def synthetic_zoo():
    spec = importlib.util.spec_from_file_location("synthetic_zoo", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graph(synthetic_zoo, tmp_path_factory):
    paths = synthetic_zoo.write_zoo(tmp_path_factory.mktemp("synthetic"), seed=0, **SMALL)
    g = ZooGraph.from_tables(**paths)  # errors="raise": the generated tables are clean
    yield g
    g.close()


def test_same_seed_same_tables_other_seed_other_tables(synthetic_zoo):
    a = synthetic_zoo.generate(seed=3, **SMALL)
    b = synthetic_zoo.generate(seed=3, **SMALL)
    c = synthetic_zoo.generate(seed=4, **SMALL)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["records"]["value"].equals(c["records"]["value"])


def test_columns_are_canonical(synthetic_zoo):
    tables = synthetic_zoo.generate(seed=0, similarities=True, **SMALL)
    allowed = {
        "models": set(COLUMNS["models"]) | {"base_model", "base_model_relation"},
        "datasets": set(COLUMNS["datasets"]),
        "records": set(COLUMNS["records"]),
        "similarities": set(COLUMNS["similarities"]),
    }
    for name, cols in allowed.items():
        assert set(tables[name].columns) <= cols, name
    assert set(synthetic_zoo.generate(seed=0, **SMALL)) == {
        "models",
        "datasets",
        "records",
        "truth",
    }  # no similarity table by default
    values = tables["records"]["value"]
    assert values.between(0, 1).all()
    rel = set(tables["models"]["base_model_relation"].dropna())
    assert rel == {"finetune", "adapter", "quantized", "merge"}


def test_loads_through_from_tables_with_lineage_and_task_domain(synthetic_zoo, graph):
    tables = graph.to_tables()
    report = graph.batch(graph.batches()["batch"].iloc[0])["report"]  # stored on the batch
    assert not report["rejections"] and not report["flagged"]
    gen = synthetic_zoo.generate(seed=0, **SMALL)
    assert len(tables.models) == SMALL["n_models"]
    assert len(tables.records) == len(gen["records"])
    assert set(tables.lineage["relation"].dropna()) == {"finetune", "adapter", "quantized", "merge"}
    assert tables.datasets["task"].notna().all() and tables.datasets["domain"].notna().all()
    depths = synthetic_zoo.lineage_depths(gen["models"])
    assert depths.max() > 1  # chains of fine-tunes, not only base -> child


class _Random(BaseRecommender):
    """A seeded random ranking: the floor every baseline must clear."""

    name = "random"

    def __init__(self) -> None:
        pass

    def _fit(self, tables) -> None:
        self.rng_ = np.random.default_rng(0)

    def _predict_z(self, dataset, models):
        return self.rng_.normal(size=len(models)), np.ones(len(models))


def test_lineage_baseline_beats_random(graph):
    lineage = run_benchmark(graph, ["lineage"])["lineage"]["mean"]
    rand = evaluate_recommender(_Random, graph)["mean"]
    assert lineage["weighted_tau"] > rand["weighted_tau"] + 0.2
    assert lineage["pearson"] > rand["pearson"] + 0.2
