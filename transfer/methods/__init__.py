"""Transfer methods: weight copy, feature transfer, fine-tuning, distillation, fusion.

Every method is a :class:`TransferMethod`: one ``fit(source, target, data, budget)``
(``target`` a model or an architecture name, ``data`` labelled target data or a
:class:`TargetData`, ``budget`` an optional :class:`Budget`), scikit-learn parameters
(``get_params``/``set_params``; ``sklearn.clone`` works), learned state ending in ``_``,
and a ``report_`` (a :class:`TransferReport`) saying what it did with each tensor.
Methods are registered by name (:func:`list_methods`, :func:`get_method`,
:func:`register_method`), which is how :func:`kgtransfer.transfer.evaluate_transfer`
and ``transfer_from`` find them. All training goes through one seeded loop
(:mod:`kgtransfer.transfer.training`), shared with the scratch baseline.

Example:
    >>> from kgtransfer.models import create_model
    >>> from kgtransfer.transfer.methods import transfer_weights
    >>> src = create_model("cnn_small", n_classes=10, input_shape=(1, 8, 8))
    >>> tgt = create_model("cnn_small", n_classes=5, input_shape=(3, 8, 8))
    >>> report = transfer_weights(src, tgt)
    >>> [t.name for t in report.adapted]
    ['body.0.0.weight']
"""

from kgtransfer.transfer.methods._base import TargetData, TransferMethod
from kgtransfer.transfer.methods._registry import (
    get_method,
    list_methods,
    method_name,
    register_method,
)
from kgtransfer.transfer.methods._report import TensorNote, TransferReport
from kgtransfer.transfer.methods.distill import Distill
from kgtransfer.transfer.methods.features import FeatureTransfer
from kgtransfer.transfer.methods.finetune import FineTune
from kgtransfer.transfer.methods.fusion import TopKEnsemble, average_weights
from kgtransfer.transfer.methods.weights import WeightTransfer, transfer_weights
from kgtransfer.transfer.training import Budget, TrainHistory, train_loop

__all__ = [
    "Budget",
    "Distill",
    "FeatureTransfer",
    "FineTune",
    "TargetData",
    "TensorNote",
    "TopKEnsemble",
    "TrainHistory",
    "TransferMethod",
    "TransferReport",
    "WeightTransfer",
    "average_weights",
    "get_method",
    "list_methods",
    "method_name",
    "register_method",
    "train_loop",
    "transfer_weights",
]
