"""A small planted zoo: two input domains; sources transfer well within their domain."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from kgtransfer.data import fingerprint, from_arrays, similarity_table
from kgtransfer.kg import ZooGraph


def blobs(name: str, centre: float, n: int = 60, seed: int = 0) -> Any:
    """Two gaussian classes in 8 features around ``centre`` (a domain)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(centre, 1.0, size=(n, 8)).astype(np.float32)
    x[:, 0] += 2.0 * y
    return from_arrays(x, y, name=name, modality="tabular", task="blobs", domain=f"c{centre:g}")


#: dataset id -> domain centre. Sources srcA/srcB; known targets tA*/tB*.
DOMAINS = {"srcA": 0.0, "tA1": 0.1, "tA2": -0.1, "srcB": 6.0, "tB1": 6.1, "tB2": 5.9}
MODELS = {"mA1": "srcA", "mA2": "srcA", "mB1": "srcB", "mB2": "srcB", "mC": "srcA"}


def _value(model: str, target: str) -> float:
    if model == "mC":
        return 0.7
    same = MODELS[model][-1] == target[1]
    base = 0.9 if same else 0.62
    return base - (0.03 if model.endswith("2") else 0.0)


def _checkpoint_zoo(home: Path) -> ZooGraph:
    import torch

    from kgtransfer.models import create_model, save_checkpoint

    names = ["mlp.s1", "mlp.s2", "mlp.s3"]
    for i, name in enumerate(names):
        torch.manual_seed(i)
        model = create_model("mlp", n_classes=2, input_shape=(4,))
        save_checkpoint(model, home / "zoo" / "models" / name, name=name)
    rows = [
        {"model": m, "dataset": f"d{j}", "value": 0.6 + 0.1 * i + 0.01 * j, "metric": "accuracy"}
        for i, m in enumerate(names)
        for j in range(3)
    ]
    graph = ZooGraph()
    graph.add_tables(
        models=pd.DataFrame({"model": names, "architecture": "mlp"}),
        records=pd.DataFrame(rows),
        datasets=pd.DataFrame({"dataset": ["d0", "d1", "d2", "toy"]}),
    )
    return graph


@pytest.fixture
def checkpoint_zoo() -> Callable[[Path], ZooGraph]:
    """``checkpoint_zoo(home)``: three MLP checkpoints (mlp.s1-3) saved under ``home`` and
    an in-memory graph of their accuracy on d0-d2 (plus the dataset ``toy``)."""
    return _checkpoint_zoo


@pytest.fixture(scope="session")
def make_blobs() -> Any:
    """The :func:`blobs` factory (test modules cannot import conftest in importlib mode)."""
    return blobs


@pytest.fixture(scope="session")
def references() -> dict[str, Any]:
    return {name: blobs(name, c, seed=i) for i, (name, c) in enumerate(DOMAINS.items())}


@pytest.fixture(scope="session")
def planted_tables(references: dict[str, Any]) -> dict[str, pd.DataFrame]:
    prints = {n: fingerprint(ds, seed=0) for n, ds in references.items()}
    sims = similarity_table(prints, method="stats")
    models = pd.DataFrame(
        {
            "model": list(MODELS),
            "architecture": ["mlp"] * len(MODELS),
            "trained_on": list(MODELS.values()),
            "task": "blobs",
            "modality": "tabular",
            "n_params": [1000.0, 1000.0, 1000.0, 1000.0, 500.0],
            "license": ["mit", "mit", "mit", "apache-2.0", "mit"],
        }
    )
    datasets = pd.DataFrame(
        {
            "dataset": list(DOMAINS),
            "task": "blobs",
            "domain": [f"c{c:g}" for c in DOMAINS.values()],
            "modality": "tabular",
            "n_samples": 60.0,
            "n_classes": 2.0,
            "scratch_accuracy": [np.nan, 0.6, 0.6, np.nan, 0.62, 0.58],
        }
    )
    rows = []
    for target in ("tA1", "tA2", "tB1", "tB2"):
        scratch = float(datasets.set_index("dataset").at[target, "scratch_accuracy"])
        for model in MODELS:
            v = _value(model, target)
            rows.append(
                {
                    "model": model,
                    "dataset": target,
                    "value": v,
                    "metric": "accuracy",
                    "method": "finetune",
                    "seed": 0,
                    "scratch": scratch,
                    "gain": v - scratch,
                }
            )
    return {
        "models": models,
        "datasets": datasets,
        "records": pd.DataFrame(rows),
        "similarities": sims,
    }


@pytest.fixture()
def planted_graph(planted_tables: dict[str, pd.DataFrame]) -> ZooGraph:
    graph = ZooGraph()
    graph.add_tables(**planted_tables)
    return graph
