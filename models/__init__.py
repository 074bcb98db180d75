"""kgtransfer.models: a registry of small architectures with one feature interface,
safetensors checkpoints with model cards, wrapping of users' own modules, and
feature extraction.

Example:
    >>> from kgtransfer.models import create_model, list_models
    >>> list_models("cnn*")
    ['cnn1d', 'cnn_small']
"""

# first: with a CUDA torchvision beside CPU torch, keeps timm / transformers importable
from kgtransfer.models import _compat  # noqa: F401
from kgtransfer.models import architectures as _architectures  # registers the built-ins
from kgtransfer.models._device import DEVICE_NAMES, Device, resolve_device
from kgtransfer.models.base import BlockModel, ZooModel
from kgtransfer.models.card import read_card, write_card
from kgtransfer.models.checkpoint import load_checkpoint, load_state_dict_file, save_checkpoint
from kgtransfer.models.features import extract_features, predict_proba
from kgtransfer.models.hf import TextEncoderModel, load_sentence_transformer, load_transformers
from kgtransfer.models.hf_models import HFModel, load_hf
from kgtransfer.models.hub import (
    cached_snapshot,
    is_hub_id,
    list_cached_models,
    resolve_pretrained,
)
from kgtransfer.models.pretrained import INPUT_CONTRACT_FIELDS, load_pretrained, source_metadata
from kgtransfer.models.registry import (
    ModelConfig,
    create_model,
    get_model_config,
    list_models,
    model_options,
    register_model,
)
from kgtransfer.models.timm_models import TimmModel, load_timm
from kgtransfer.models.wrap import WrappedModel, output_features, wrap_module

del _architectures

__all__ = [
    "DEVICE_NAMES",
    "INPUT_CONTRACT_FIELDS",
    "BlockModel",
    "Device",
    "HFModel",
    "ModelConfig",
    "TextEncoderModel",
    "TimmModel",
    "WrappedModel",
    "ZooModel",
    "cached_snapshot",
    "create_model",
    "extract_features",
    "get_model_config",
    "is_hub_id",
    "list_cached_models",
    "list_models",
    "load_checkpoint",
    "load_hf",
    "load_pretrained",
    "load_sentence_transformer",
    "load_state_dict_file",
    "load_timm",
    "load_transformers",
    "model_options",
    "output_features",
    "predict_proba",
    "read_card",
    "register_model",
    "resolve_device",
    "resolve_pretrained",
    "save_checkpoint",
    "source_metadata",
    "wrap_module",
    "write_card",
]
