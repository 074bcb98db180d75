"""Source-model recommendation: a heterogeneous GNN, baselines and their evaluation."""

from ._hetero import build_hetero_data
from ._metrics import (
    interval_coverage,
    pearson_r,
    ranking_metrics,
    top1_regret,
    top1_relative,
    weighted_tau,
)
from ._registry import get_recommender, list_recommenders, register_recommender
from ._threads import get_recommender_threads, recommender_threads, set_recommender_threads
from .baselines import (
    SCORE_ESTIMATORS,
    LineageRecommender,
    PopularityRecommender,
    ScoreRecommender,
    SimilarityRecommender,
    SizeRecommender,
    TaskDomainRecommender,
    lineage_roots,
)
from .evaluate import evaluate_recommender
from .gnn import GNNRecommender

__all__ = [
    "SCORE_ESTIMATORS",
    "GNNRecommender",
    "LineageRecommender",
    "PopularityRecommender",
    "ScoreRecommender",
    "SimilarityRecommender",
    "SizeRecommender",
    "TaskDomainRecommender",
    "build_hetero_data",
    "evaluate_recommender",
    "get_recommender",
    "get_recommender_threads",
    "interval_coverage",
    "lineage_roots",
    "list_recommenders",
    "pearson_r",
    "ranking_metrics",
    "recommender_threads",
    "register_recommender",
    "set_recommender_threads",
    "top1_regret",
    "top1_relative",
    "weighted_tau",
]
