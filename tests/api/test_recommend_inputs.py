"""recommend(): every argument checked before any fit, errors that name it."""

from __future__ import annotations

import math
from typing import Any

import pytest

from kgtransfer.api import recommend
from kgtransfer.errors import ArgumentError, UnknownNameError
from kgtransfer.kg import ZooGraph
from kgtransfer.transfer import PopularityRecommender, SimilarityRecommender


class _NoFit(SimilarityRecommender):
    """Fails the test if anything is fitted: arguments must be refused before."""

    def fit(self, graph: Any, exclude_datasets: Any = ()) -> Any:
        raise AssertionError("fit() ran before the arguments were checked")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 2.5}, r"^k must be a positive integer or None, got 2\.5 \(float\)"),
        ({"k": True}, r"^k must be .* got True \(bool\)"),
        ({"k": 0}, r"^k must be a positive integer or None, got 0"),
        ({"k": -1}, r"^k must be a positive integer or None, got -1"),
        ({"rerank": -1}, r"^rerank must be a non-negative integer, got -1"),
        ({"rerank": 1.5}, r"^rerank must be"),
        ({"rerank": 2, "rerank_estimator": "logmee"}, r"Unknown score 'logmee'"),
        ({"sample": 0}, r"^sample must be a positive integer"),
        ({"seed": -1}, r"^seed must be a non-negative integer"),
        ({"seed": 0.5}, r"^seed must be"),
        ({"n_neighbours": 0}, r"^n_neighbours must be a positive integer"),
        ({"exclude_target_records": "yes"}, r"^exclude_target_records must be True or False"),
        ({"progress": 1}, r"^progress must be True or False"),
        ({"name": ""}, r"^name must be non-empty text"),
        ({"label_column": " "}, r"^label_column must be non-empty text"),
        ({"references": ["tA1"]}, r"^references must be a mapping"),
        ({"max_params": math.nan}, r"^max_params must be a finite number > 0, got nan"),
        ({"max_params": -1}, r"^max_params must be a finite number > 0, got -1"),
        ({"max_params": "1e8"}, r"^max_params .* got '1e8' \(str\)"),
        ({"license": 3}, r"^license must be text or a list of text"),
        ({"modality": ""}, r"^modality must be non-empty text"),
        ({"licence": "mit"}, r"filter 'licence'\. Did you mean 'license'"),
        ({"kk": 3}, r"filter 'kk'\. Did you mean 'k'"),
    ],
)
def test_bad_arguments_are_named_before_any_fit(
    planted_graph: ZooGraph, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises((ArgumentError, UnknownNameError), match=match):
        recommend(planted_graph, "tA1", recommender=_NoFit(), **kwargs)


@pytest.mark.parametrize("target", ["", "   ", None])
def test_empty_target(planted_graph: ZooGraph, target: Any) -> None:
    with pytest.raises(ArgumentError, match=r"^target (must be non-empty text|is None)"):
        recommend(planted_graph, target, recommender=_NoFit())


def test_unknown_target_suggests_graph_ids(planted_graph: ZooGraph) -> None:
    with pytest.raises(UnknownNameError, match=r"Unknown target dataset 'tB3'.*Did you mean"):
        recommend(planted_graph, "tB3", recommender=_NoFit())


def test_a_folder_name_is_no_target(planted_graph: ZooGraph, tmp_path: Any) -> None:
    (tmp_path / "tA1x").mkdir()
    with pytest.raises(UnknownNameError, match=r"Unknown target dataset .*tA1x"):
        recommend(planted_graph, str(tmp_path / "tA1x"), recommender=_NoFit())


def test_recommender_must_fit_and_rank(planted_graph: ZooGraph) -> None:
    with pytest.raises(ArgumentError, match=r"recommender must have fit\(\) and rank\(\)"):
        recommend(planted_graph, "tA1", recommender="gnn")
    with pytest.raises(ArgumentError, match="needs a ZooGraph or ZooTables as graph"):
        recommend("graph.ttl", "tA1", recommender=_NoFit())


def test_new_dataset_with_data_still_works(
    make_blobs: Any, planted_graph: ZooGraph, references: dict[str, Any]
) -> None:
    mine = make_blobs("mine", 6.05, seed=11)
    rec = recommend(
        planted_graph,
        (mine.x, mine.y),
        k=2,
        name="mine",
        references=references,
        recommender=SimilarityRecommender(),
        license=["mit"],
        max_params=1e4,
    )
    assert rec.kind == "new" and rec.target == "mine" and len(rec.frame) == 2
    assert rec.best == "mB1" and "mB2" not in set(rec.frame["model"])  # mB2: apache-2.0
    assert rec.metadata["filters"]["license"] == ["mit"]


def test_a_fitted_recommender_of_another_graph_is_refitted(
    planted_tables: dict[str, Any],
) -> None:
    """Given a recommender fitted without the target, the target is not silently cold."""
    t = planted_tables
    sims = t["similarities"]
    small = ZooGraph()
    small.add_tables(
        models=t["models"],
        datasets=t["datasets"][t["datasets"]["dataset"] != "tB2"],
        records=t["records"][t["records"]["dataset"] != "tB2"],
        similarities=sims[(sims["dataset_a"] != "tB2") & (sims["dataset_b"] != "tB2")],
    )
    fitted = PopularityRecommender().fit(small)
    with pytest.raises(UnknownNameError, match="'tB2'"):
        fitted.rank("tB2")
    full = ZooGraph()
    full.add_tables(**planted_tables)
    rec = recommend(full, "tB2", recommender=fitted)
    assert rec.metadata["recommender_status"].startswith("refitted: the given recommender")


def test_graph_without_records_is_a_clear_error(planted_tables: dict[str, Any]) -> None:
    graph = ZooGraph()
    graph.add_tables(models=planted_tables["models"], datasets=planted_tables["datasets"])
    with pytest.raises(ArgumentError, match=r"no transfer records.*ingest"):
        recommend(graph, "tA1", recommender=SimilarityRecommender())
    with pytest.raises(ArgumentError, match=r"no transfer records.*ingest"):
        recommend(ZooGraph(), "tA1")  # said before the target is looked up
