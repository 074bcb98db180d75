"""kgtransfer.transfer: transferability estimators, the GNN recommender and its
baselines, transfer methods and their evaluation against training from scratch."""

from kgtransfer.transfer.evaluate import (
    TransferResult,
    evaluate_transfer,
    list_transfer_methods,
)
from kgtransfer.transfer.methods import (
    Budget,
    Distill,
    FeatureTransfer,
    FineTune,
    TopKEnsemble,
    TransferReport,
    WeightTransfer,
    average_weights,
    transfer_weights,
)
from kgtransfer.transfer.recommend import (
    GNNRecommender,
    PopularityRecommender,
    ScoreRecommender,
    SimilarityRecommender,
    evaluate_recommender,
    get_recommender,
    list_recommenders,
)
from kgtransfer.transfer.scores import (
    ScoreInputError,
    get_score,
    hscore,
    knn_score,
    leep_score,
    linear_probe_score,
    list_scores,
    logme_score,
    nce_score,
    register_score,
    shrinkage_hscore,
)

__all__ = [
    "Budget",
    "Distill",
    "FeatureTransfer",
    "FineTune",
    "GNNRecommender",
    "PopularityRecommender",
    "ScoreInputError",
    "ScoreRecommender",
    "SimilarityRecommender",
    "TopKEnsemble",
    "TransferReport",
    "TransferResult",
    "WeightTransfer",
    "average_weights",
    "evaluate_recommender",
    "evaluate_transfer",
    "get_recommender",
    "get_score",
    "hscore",
    "knn_score",
    "leep_score",
    "linear_probe_score",
    "list_recommenders",
    "list_scores",
    "list_transfer_methods",
    "logme_score",
    "nce_score",
    "register_score",
    "shrinkage_hscore",
    "transfer_weights",
]
