"""kgtransfer.transfer"""

from kgtransfer.transfer.recommend import (
    GNNRecommender,
    PopularityRecommender,
    ScoreRecommender,
    SimilarityRecommender,
    evaluate_recommender,
    get_recommender,
    list_recommenders,
)

__all__ = [
    *globals().get("__all__", []),
    "GNNRecommender",
    "PopularityRecommender",
    "ScoreRecommender",
    "SimilarityRecommender",
    "evaluate_recommender",
    "get_recommender",
    "list_recommenders",
]
