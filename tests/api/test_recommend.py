"""recommend(): known targets, new datasets joined by similarity, gain and risk, re-ranking."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from kgtransfer.api import Recommendation, join_dataset, recommend
from kgtransfer.errors import UnknownNameError
from kgtransfer.kg import ZooGraph
from kgtransfer.transfer import GNNRecommender, SimilarityRecommender

torch.set_num_threads(1)


def _gnn(epochs: int = 40) -> GNNRecommender:
    return GNNRecommender(epochs=epochs, n_ensemble=1, seed=0)


def test_known_target_ranking_gain_and_truth(planted_graph: ZooGraph) -> None:
    rec = recommend(planted_graph, "tB1", k=3, recommender=SimilarityRecommender())
    assert isinstance(rec, Recommendation)
    assert rec.kind == "known" and rec.target == "tB1"
    frame = rec.to_frame()
    assert frame["target"].eq("tB1").all() and len(frame) == 3
    assert frame["rank"].tolist() == [1, 2, 3]
    assert set(frame["model"][:2]) == {"mB1", "mB2"}
    assert rec.scratch == pytest.approx(0.62) and rec.scratch_source == "measured"
    row = frame.set_index("model").loc["mB1"]
    assert row["actual"] == pytest.approx(0.9)
    assert row["actual_gain"] == pytest.approx(0.28)
    assert row["predicted_gain"] == pytest.approx(row["predicted"] - 0.62)
    assert 0.0 <= row["risk"] <= 1.0
    # mB1 gained on tA1, tA2 (0.62 > 0.6) and tB2: 0 negatives of 3 other targets
    assert row["negative_rate"] == pytest.approx((0 + 1) / (3 + 2))
    assert rec.metadata["seed"] == 0 and "torch" in rec.metadata["versions"]


def test_exclude_target_records_is_cold_start(planted_graph: ZooGraph) -> None:
    gnn = _gnn(20)
    rec = recommend(planted_graph, "tA1", k=None, recommender=gnn, exclude_target_records=True)
    assert rec.metadata["excluded_datasets"] == ["tA1"]
    assert rec.metadata["recommender_status"] == "refitted"  # unfitted -> fitted fresh
    assert len(rec.frame) == 5
    # predictions are not the measured values any more, but truth fills `actual`
    assert rec.frame["actual"].notna().all()
    assert (rec.frame["high"] > rec.frame["low"]).all()


class _Fixed:
    """A recommender with hand-set predictions (the duck-typed fit/rank interface)."""

    def __init__(self) -> None:
        pass

    def get_params(self) -> dict[str, Any]:
        return {}

    def fit(self, graph: Any, exclude_datasets: Any = ()) -> _Fixed:
        self.truth_ = True
        self.excluded_datasets_ = sorted(exclude_datasets)
        return self

    def rank(self, dataset: str, **filters: Any) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "model": ["mA1", "mB2", "mC"],
                "score": [1.0, -1.0, -2.0],
                "predicted": [0.8, 0.55, 0.97],
                "low": [0.8 - 1.6448536269514722 * 0.1, 0.45, 0.9],
                "high": [0.8 + 1.6448536269514722 * 0.1, 0.65, 1.04],
                "rank": [1, 2, 3],
                "evidence": ["", "", ""],
            }
        )


def test_gain_and_risk_hand_computed(planted_graph: ZooGraph) -> None:
    rec = recommend(planted_graph, "tA2", k=None, recommender=_Fixed())
    f = rec.frame.set_index("model")
    assert rec.scratch == pytest.approx(0.6)
    # mA1: gain 0.2, sd 0.1 -> P(gain < 0) = Phi(-2) = 0.02275
    assert f.at["mA1", "predicted_gain"] == pytest.approx(0.2)
    assert f.at["mA1", "risk"] == pytest.approx(0.0227501, abs=1e-6)
    assert f.at["mA1", "gain_low"] == pytest.approx(0.2 - 1.6448536 * 0.1)
    # mB2: gain -0.05, sd 0.1/1.645 -> Phi(0.8224) = 0.7946
    assert f.at["mB2", "risk"] == pytest.approx(0.79456, abs=1e-4)
    # track record on the other targets: mB2 lost on tA1 (0.59 < 0.6): (1+1)/(3+2)
    assert f.at["mB2", "negative_rate"] == pytest.approx(0.4)
    # accuracy intervals are clipped to [0, 1]; the risk uses the unclipped spread
    assert f.at["mC", "high"] == 1.0 and f.at["mC", "low"] == pytest.approx(0.9)
    assert f.at["mC", "gain_high"] == pytest.approx(0.37 + 0.07)


def test_new_array_dataset_joins_by_similarity(
    make_blobs: Any, planted_graph: ZooGraph, references: dict[str, Any]
) -> None:
    x = make_blobs("mine", 6.05, seed=42)
    rec = recommend(
        planted_graph, (x.x, x.y), k=5, name="mine", references=references, recommender=_gnn()
    )
    assert rec.kind == "new" and rec.target == "mine"
    # nearest known datasets are the B domain
    assert set(rec.neighbours["dataset"][:3]) == {"srcB", "tB1", "tB2"}
    assert rec.neighbours["similarity"].is_monotonic_decreasing
    # ranking favours the sources trained on the nearest domain
    assert set(rec.frame["model"][:2]) == {"mB1", "mB2"}
    assert rec.scratch_source == "predicted from neighbours"
    assert 0.58 <= rec.scratch <= 0.62
    assert rec.frame["actual"].isna().all()
    assert rec.context["trained_on"]["mB1"] == "srcB"
    assert "mine" not in planted_graph.ids("dataset")  # the user's graph is untouched


def test_joined_dataset_writes_into_the_graph(
    make_blobs: Any, planted_graph: ZooGraph, references: dict[str, Any]
) -> None:
    joined = join_dataset(
        planted_graph.to_tables(),
        make_blobs("mine", 0.05, seed=7),
        name="mine",
        n_neighbours=3,
        references=references,
    )
    planted_graph.add_tables(datasets=joined.datasets, similarities=joined.similarities)
    near = planted_graph.similar_datasets("mine")
    assert len(near) == 3
    assert set(joined.neighbours["dataset"]) == {"srcA", "tA1", "tA2"}
    with pytest.raises(ValueError, match="already has a dataset 'mine'"):
        join_dataset(
            planted_graph.to_tables(), make_blobs("m", 0.0), name="mine", references=references
        )


def test_new_csv_target(
    make_blobs: Any, planted_graph: ZooGraph, references: dict[str, Any], tmp_path: Path
) -> None:
    ds = make_blobs("x", 0.0, seed=3)
    frame = pd.DataFrame(ds.x, columns=[f"f{i}" for i in range(8)]).assign(label=ds.y)
    path = tmp_path / "my_data.csv"
    frame.to_csv(path, index=False)
    rec = recommend(
        planted_graph,
        str(path),
        label_column="label",
        references=references,
        recommender=SimilarityRecommender(),
    )
    assert rec.target == "my_data" and rec.kind == "new"
    assert set(rec.frame["model"][:2]) == {"mA1", "mA2"}
    with pytest.raises(ValueError, match="label_column"):
        recommend(planted_graph, str(path), references=references)


def test_filters_and_errors(make_blobs: Any, planted_graph: ZooGraph) -> None:
    rec = recommend(
        planted_graph, "tA1", k=None, recommender=SimilarityRecommender(), license="mit"
    )
    assert "mB2" not in set(rec.frame["model"])  # apache-2.0
    with pytest.raises(UnknownNameError, match=r"Unknown target dataset 'tA3'.*Did you mean"):
        recommend(planted_graph, "tA3")
    with pytest.raises(ValueError, match="k must be a positive integer"):
        recommend(planted_graph, "tA1", k=0)
    with pytest.raises(ValueError, match="Cannot use a 'int' as a dataset"):
        recommend(planted_graph, 42)
    with pytest.raises(ValueError, match="needs the candidates' weights"):
        recommend(
            planted_graph,
            "tA1",
            recommender=SimilarityRecommender(),
            rerank=2,
            data=make_blobs("tA1", 0.1),
        )


class _Linear(torch.nn.Module):
    """A fixed feature map: the informative feature (0) or pure noise."""

    def __init__(self, informative: bool) -> None:
        super().__init__()
        self.informative = informative

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        if self.informative:
            return x[:, :2]
        g = torch.Generator().manual_seed(0)
        return torch.randn(len(x), 2, generator=g)


def test_rerank_with_logme_reorders_top_n(make_blobs: Any, planted_graph: ZooGraph) -> None:
    base = recommend(planted_graph, "tA1", k=None, recommender=SimilarityRecommender())
    first, second = base.frame["model"][:2]
    # only the runner-up has informative features: LogME must promote it
    models = {m: _Linear(m == second) for m in base.frame["model"]}
    rec = recommend(
        planted_graph,
        "tA1",
        k=None,
        recommender=SimilarityRecommender(),
        rerank=2,
        data=make_blobs("tA1", 0.1, seed=1),
        checkpoints=models,
        sample=40,
    )
    assert rec.frame["model"].tolist()[:2] == [second, first]
    assert rec.frame["logme"].notna().sum() == 2
    assert rec.frame["model"].tolist()[2:] == base.frame["model"].tolist()[2:]
    assert any("re-ranked by logme on 40" in n for n in rec.metadata["notes"])
    assert np.isfinite(rec.frame["logme"][:2]).all()


def test_new_torch_dataset_target(
    make_blobs: Any, planted_graph: ZooGraph, references: dict[str, Any]
) -> None:
    from torch.utils.data import TensorDataset

    ds = make_blobs("t", 0.05, seed=11)
    torch_ds = TensorDataset(torch.as_tensor(ds.x), torch.as_tensor(ds.y))
    rec = recommend(
        planted_graph,
        torch_ds,
        name="from_torch",
        references=references,
        recommender=SimilarityRecommender(),
    )
    assert rec.kind == "new" and rec.target == "from_torch"
    assert set(rec.neighbours["dataset"][:3]) == {"srcA", "tA1", "tA2"}
    assert rec.summary()["neighbours"].startswith(rec.neighbours["dataset"][0])
    assert rec.metadata["notes"][0].startswith("joined through 5 similarity edge(s)")


def test_as_dataset_guesses_modality() -> None:
    from kgtransfer.api import as_dataset

    y = np.arange(6) % 2
    assert as_dataset((np.zeros((6, 1, 8, 8), np.float32), y)).modality == "image"
    assert as_dataset((np.zeros((6, 1, 40), np.float32), y)).modality == "signal"
    assert as_dataset((np.zeros((6, 5), np.float32), y), name="t").modality == "tabular"


def test_candidates_default_to_the_target_modality(planted_tables: dict[str, Any]) -> None:
    tables = {k: v.copy() for k, v in planted_tables.items()}
    tables["models"].loc[tables["models"]["model"] == "mA1", "modality"] = "image"
    graph = ZooGraph()
    graph.add_tables(**tables)
    rec = recommend(graph, "tA1", k=None, recommender=SimilarityRecommender())
    assert "mA1" not in set(rec.frame["model"])  # an image model cannot read tabular inputs
    assert rec.metadata["filters"] == {"modality": "tabular"}
    everything = recommend(graph, "tA1", k=None, recommender=SimilarityRecommender(), modality=None)
    assert "mA1" in set(everything.frame["model"])
