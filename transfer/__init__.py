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

__all__ += [
    "Budget",
    "Distill",
    "FeatureTransfer",
    "FineTune",
    "TopKEnsemble",
    "TransferReport",
    "TransferResult",
    "WeightTransfer",
    "average_weights",
    "evaluate_transfer",
    "list_transfer_methods",
    "transfer_weights",
]

from kgtransfer.transfer.scores import (  # noqa: E402
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

__all__ += [
    "ScoreInputError",
    "get_score",
    "hscore",
    "knn_score",
    "leep_score",
    "linear_probe_score",
    "list_scores",
    "logme_score",
    "nce_score",
    "register_score",
    "shrinkage_hscore",
]
