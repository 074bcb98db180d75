"""Content-based transferability estimators (higher is better).

Each score is a pure function of target features (or source-model outputs) and target
labels, registered by name:

>>> from kgtransfer.transfer.scores import list_scores
>>> list_scores()
['hscore', 'knn', 'leep', 'linear_probe', 'logme', 'nce', 'shrinkage_hscore']
"""

from kgtransfer.transfer.scores._checks import ScoreInputError
from kgtransfer.transfer.scores._registry import (
    ScoreInput,
    get_score,
    list_scores,
    register_score,
    score_input,
)
from kgtransfer.transfer.scores.hscore import hscore, shrinkage_hscore
from kgtransfer.transfer.scores.leep import leep_score
from kgtransfer.transfer.scores.logme import logme_score
from kgtransfer.transfer.scores.nce import nce_score
from kgtransfer.transfer.scores.proxies import knn_score, linear_probe_score

__all__ = [
    "ScoreInput",
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
    "score_input",
    "shrinkage_hscore",
]
