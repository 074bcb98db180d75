"""kgtransfer.models: a registry of small architectures with one feature interface,
safetensors checkpoints with model cards, wrapping of users' own modules, and
feature extraction.

Example:
    >>> from kgtransfer.models import create_model, list_models
    >>> list_models("cnn*")
    ['cnn1d', 'cnn_small']
"""

from kgtransfer.models import architectures as _architectures  # registers the built-ins
from kgtransfer.models.base import BlockModel, ZooModel
from kgtransfer.models.card import read_card, write_card
from kgtransfer.models.checkpoint import load_checkpoint, load_state_dict_file, save_checkpoint
from kgtransfer.models.features import extract_features, predict_proba
from kgtransfer.models.hf import TextEncoderModel, load_sentence_transformer, load_transformers
from kgtransfer.models.registry import (
    ModelConfig,
    create_model,
    get_model_config,
    list_models,
    model_options,
    register_model,
)
from kgtransfer.models.wrap import WrappedModel, wrap_module

del _architectures

__all__ = [
    "BlockModel",
    "ModelConfig",
    "TextEncoderModel",
    "WrappedModel",
    "ZooModel",
    "create_model",
    "extract_features",
    "get_model_config",
    "list_models",
    "load_checkpoint",
    "load_sentence_transformer",
    "load_state_dict_file",
    "load_transformers",
    "model_options",
    "predict_proba",
    "read_card",
    "register_model",
    "save_checkpoint",
    "wrap_module",
    "write_card",
]
