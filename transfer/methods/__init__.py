"""Transfer methods: weight copy, feature transfer, fine-tuning, distillation, fusion.

Every method follows the estimator contract (``__init__`` stores settings, ``fit``
does the work and returns ``self``, learned state ends in ``_``) and says what it did
with each tensor in ``report_`` (a :class:`TransferReport`). All training goes through
one seeded loop, shared with the scratch baseline of
:func:`kgtransfer.transfer.evaluate_transfer`.

Example:
    >>> from kgtransfer.models import create_model
    >>> from kgtransfer.transfer.methods import transfer_weights
    >>> src = create_model("cnn_small", n_classes=10, input_shape=(1, 8, 8))
    >>> tgt = create_model("cnn_small", n_classes=5, input_shape=(3, 8, 8))
    >>> report = transfer_weights(src, tgt)
    >>> [t.name for t in report.adapted]
    ['body.0.0.weight']
"""

from kgtransfer.transfer.methods._report import TensorNote, TransferReport
from kgtransfer.transfer.methods._train import Budget, TrainHistory, train_loop
from kgtransfer.transfer.methods.distill import Distill
from kgtransfer.transfer.methods.features import FeatureTransfer
from kgtransfer.transfer.methods.finetune import FineTune
from kgtransfer.transfer.methods.fusion import TopKEnsemble, average_weights
from kgtransfer.transfer.methods.weights import WeightTransfer, transfer_weights

__all__ = [
    "Budget",
    "Distill",
    "FeatureTransfer",
    "FineTune",
    "TensorNote",
    "TopKEnsemble",
    "TrainHistory",
    "TransferReport",
    "WeightTransfer",
    "average_weights",
    "train_loop",
    "transfer_weights",
]
