"""One loop: recommend -> transfer_from -> evaluate, linked by the recommendation's id;
re-ranking scores written back through the validated writer."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import torch

from kgtransfer.api import evaluate, recommend, transfer_from
from kgtransfer.errors import ArgumentError
from kgtransfer.kg import ZooGraph
from kgtransfer.models import create_model, save_checkpoint
from kgtransfer.transfer import SimilarityRecommender

torch.set_num_threads(1)
FAST = {"epochs": 2, "batch_size": 16}


def test_transfer_from_a_recommendation_keeps_its_name_and_links_evaluate(
    make_blobs: Any, planted_graph: ZooGraph, references: dict[str, Any], tmp_path: Path
) -> None:
    data = make_blobs("blobs_raw", 0.05, seed=7)
    rec = recommend(
        planted_graph,
        (data.x, data.y),
        k=None,
        name="mine",
        references=references,
        recommender=SimilarityRecommender(),
    )
    assert rec.target == "mine" and rec.id.startswith("rec-") and rec.id == rec.metadata["id"]
    best = rec.best
    save_checkpoint(
        create_model("mlp", n_classes=2, input_shape=(8,)),
        tmp_path / "zoo" / "models" / best,
        name=best,
    )
    result = transfer_from(rec, None, data, home=tmp_path, graph=planted_graph, budget=FAST)
    # written under the name given to recommend, not the dataset's own name
    assert (result.source, result.target) == (best, "mine")
    records = planted_graph.to_tables().records
    assert ((records["dataset"] == "mine") & (records["model"] == best)).sum() == 1
    assert not (records["dataset"] == "blobs_raw").any()
    link = result.provenance["recommendation"]
    assert link["id"] == rec.id and link["rank"] == 1 and link["model"] == best
    # evaluate finds the recommendation through the result (no recommendation= needed)
    ev = evaluate(result, planted_graph)
    row = rec.frame.set_index("model").loc[best]
    assert ev.predicted == pytest.approx(float(row["predicted"]))
    assert ev.risk == pytest.approx(float(row["risk"]))
    assert ev.recommendation_id == rec.id
    # the link is stored with the record's provenance in the graph
    stored = planted_graph.query(
        "SELECT ?p WHERE { ?r prov:wasGeneratedBy ?run . ?run kgt:provenance ?p }"
    )
    assert sum(rec.id in str(p) for p in stored["p"]) == 1
    with pytest.raises(ArgumentError, match="once"):
        transfer_from(rec, None, data, recommendation=copy.copy(rec), home=tmp_path)
    with pytest.raises(ArgumentError, match="must be a Recommendation"):
        transfer_from(best, None, data, recommendation="rec", home=tmp_path)


class _Linear(torch.nn.Module):
    """A stand-in source whose features are the inputs' first columns."""

    n_classes = 2

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :3]


def test_rerank_scores_are_written_back_when_asked(
    make_blobs: Any, planted_graph: ZooGraph
) -> None:
    before = len(planted_graph.to_tables().scores)
    common = {
        "k": None,
        "recommender": SimilarityRecommender(),
        "rerank": 2,
        "data": make_blobs("tA1", 0.1, seed=1),
        "checkpoints": {m: _Linear() for m in ["mA1", "mA2", "mB1", "mB2", "mC"]},
        "sample": 40,
    }
    rec = recommend(planted_graph, "tA1", **common)
    assert len(planted_graph.to_tables().scores) == before  # nothing written unless asked
    assert rec.metadata["score_batch"] is None
    rec = recommend(planted_graph, "tA1", write=True, **common)
    scores = planted_graph.to_tables().scores
    assert len(scores) == before + 2
    written = scores[scores["dataset"] == "tA1"].set_index("model")["value"]
    top = rec.frame.head(2).set_index("model")["logme"]
    assert written.sort_index().tolist() == pytest.approx(top.sort_index().tolist())
    assert rec.metadata["score_batch"] in set(planted_graph.batches()["batch"])
    with pytest.raises(ArgumentError, match="needs rerank=N"):
        recommend(planted_graph, "tA1", write=True, recommender=SimilarityRecommender())
