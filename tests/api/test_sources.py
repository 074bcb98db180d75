"""Bring your own models: timm and Hugging Face sources through ingest -> recommend ->
transfer -> evaluate, with every transfer method. Tiny random-weight models saved in the
real on-disk formats; a fake HF cache under a tmp HF_HOME; nothing touches the network."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from kgtransfer.api import (
    add_sources,
    evaluate,
    load_source,
    recommend,
    source_loader,
    transfer_from,
)
from kgtransfer.data import fingerprint, from_arrays, similarity_table
from kgtransfer.errors import UnknownNameError
from kgtransfer.kg import ZooGraph
from kgtransfer.transfer import GNNRecommender, evaluate_transfer, list_transfer_methods

transformers = pytest.importorskip("transformers", reason="optional extra 'hf' missing")
HAS_TIMM = importlib.util.find_spec("timm") is not None
torch.set_num_threads(1)

TINY_VIT = {"img_size": 16, "patch_size": 8, "depth": 1, "embed_dim": 16, "num_heads": 2}
CARD = (
    "---\nlicense: apache-2.0\npipeline_tag: image-classification\ndatasets: [org/photos]\n"
    "base_model: org/vit-base\nbase_model_relation: finetune\n---\n# tiny vit\n"
)


def images(name: str, shift: float, n: int = 40, seed: int = 0) -> Any:
    """Two classes of 3x16x16 images told apart by brightness, around ``shift``."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.normal(shift, 1.0, size=(n, 3, 16, 16)).astype(np.float32) + y[:, None, None, None]
    return from_arrays(x, y, name=name, modality="image", task="brightness")


@pytest.fixture()
def zoo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_in_hf_cache) -> dict[str, Any]:
    """An HF ViT in the (fake, offline) HF cache, an HF ViT folder and a timm folder."""
    import huggingface_hub.constants as hub_constants

    cache = tmp_path / "hf_home" / "hub"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", True)
    torch.manual_seed(0)
    config = transformers.ViTConfig(
        image_size=16, patch_size=8, hidden_size=16, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=32, num_labels=2,
    )  # fmt: skip
    transformers.ViTForImageClassification(config).save_pretrained(tmp_path / "saved")
    put_in_hf_cache(tmp_path / "saved", cache, "org/tiny-vit", card=CARD)
    transformers.ViTForImageClassification(config).save_pretrained(tmp_path / "vit-folder")
    sources = {"hub": "org/tiny-vit", "folder": str(tmp_path / "vit-folder")}
    if HAS_TIMM:
        import timm
        from timm.models import save_for_hf

        net = timm.create_model("vit_tiny_patch16_224", num_classes=2, **TINY_VIT)
        save_for_hf(net, str(tmp_path / "timm-vit"), model_args=TINY_VIT, safe_serialization=True)
        sources["timm"] = str(tmp_path / "timm-vit")
    return sources


def test_add_sources_writes_metadata_through_the_validated_writer(zoo: dict[str, Any]) -> None:
    graph = ZooGraph()
    report = add_sources(graph, list(zoo.values()))
    ids = set(graph.ids("model"))
    assert {"org/tiny-vit", "vit-folder"} <= ids
    models = graph.to_tables().models.set_index("model")
    hub = models.loc["org/tiny-vit"]
    assert hub["architecture"] == "transformers:ViTForImageClassification"
    assert hub["model_type"] == "vit" and hub["library_name"] == "transformers"
    assert hub["license"] == "apache-2.0" and hub["modality"] == "image"
    assert hub["trained_on"] == "org/photos" and hub["task"] == "image-classification"
    assert hub["n_labels"] == 2 and hub["n_params"] > 0
    assert (hub["input_channels"], hub["input_height"], hub["input_width"]) == (3, 16, 16)
    lineage = graph.to_tables().lineage
    assert lineage[["model", "base_model", "relation"]].values.tolist() == [
        ["org/tiny-vit", "org/vit-base", "finetune"]
    ]
    assert "org/photos" in graph.ids("dataset")
    if HAS_TIMM:
        timm_row = models.loc["timm-vit"]
        assert timm_row["architecture"] == "timm:vit_tiny_patch16_224"
        assert timm_row["library_name"] == "timm" and timm_row["input_height"] == 16
    graph.remove_batch(report.batch)  # one batch, undone as one
    assert "org/tiny-vit" not in graph.ids("model")


def test_add_sources_names_a_loaded_folder_model_by_its_folder(zoo: dict[str, Any]) -> None:
    from kgtransfer.models import load_pretrained

    graph = ZooGraph()
    add_sources(graph, [load_pretrained(zoo["folder"]), load_pretrained(zoo["hub"])])
    assert graph.ids("model") == ["org/tiny-vit", "vit-folder"]
    assert load_source(load_pretrained(zoo["hub"]))[1] == "org/tiny-vit"


def test_add_sources_errors_are_reported_not_dropped(zoo: dict[str, Any]) -> None:
    graph = ZooGraph()
    with pytest.raises(UnknownNameError, match="huggingface-cli download org/absent"):
        add_sources(graph, ["org/absent"])
    with pytest.warns(UserWarning, match="org/absent"):
        report = add_sources(graph, ["org/absent", zoo["hub"]], errors="warn")
    assert graph.ids("model") == ["org/tiny-vit"]
    assert any("org/absent" in note for note in report.notes)


def test_load_source_reads_hub_ids_folders_and_names(zoo: dict[str, Any], tmp_path: Path) -> None:
    model, name = load_source("org/tiny-vit")  # was: rejected as an unknown zoo model
    assert name == "org/tiny-vit" and model.n_classes == 2
    model, name = load_source(zoo["folder"])
    assert name == "vit-folder" and model.arch == "transformers:ViTForImageClassification"
    with pytest.raises(UnknownNameError, match="not in the local Hugging Face cache"):
        load_source("org/absent")
    with pytest.raises(ValueError, match="pass home="):
        load_source("mlp.digits")  # a zoo name without home, and not a cached hub id
    home = tmp_path / "home"
    (home / "zoo" / "models").mkdir(parents=True)
    with pytest.raises(UnknownNameError, match="Nor is it a cached hub id"):
        load_source("mlp.digits", home=home)


def _image_graph(zoo: dict[str, Any], refs: dict[str, Any]) -> ZooGraph:
    """The sources plus planted ground truth on three known image targets."""
    graph = ZooGraph()
    ids = {"hub": "org/tiny-vit", "folder": "vit-folder", "timm": "timm-vit"}
    add_sources(graph, {ids[k]: v for k, v in zoo.items()})
    sims = similarity_table({n: fingerprint(d, seed=0) for n, d in refs.items()}, method="stats")
    good = {"imgA": "org/tiny-vit", "imgB": "vit-folder", "imgC": "org/tiny-vit"}
    rows = [
        {"model": ids[k], "dataset": t, "value": 0.9 if good[t] == ids[k] else 0.6,
         "method": "finetune", "seed": 0}
        for t in refs for k in zoo
    ]  # fmt: skip
    datasets = pd.DataFrame(
        {"dataset": list(refs), "modality": "image", "task": "brightness", "n_classes": 2.0,
         "scratch_accuracy": 0.55}
    )  # fmt: skip
    graph.add_tables(datasets=datasets, records=pd.DataFrame(rows), similarities=sims)
    return graph


def test_ingest_recommend_transfer_evaluate(zoo: dict[str, Any]) -> None:
    refs = {
        n: images(n, s, seed=i)
        for i, (n, s) in enumerate({"imgA": 0, "imgB": 3, "imgC": 0.2}.items())
    }
    graph = _image_graph(zoo, refs)
    target = images("new_photos", 0.1, n=48, seed=7)
    # graph ids of local folders map to their folders; hub ids load from the cache
    local = {"vit-folder": zoo["folder"], "timm-vit": zoo.get("timm")}
    rec = recommend(
        graph, target, k=2, references=refs, seed=0,
        recommender=GNNRecommender(epochs=20, n_ensemble=1, seed=0),
        rerank=2, rerank_estimator="logme", data=target, checkpoints=source_loader(local),
    )  # fmt: skip
    frame = rec.to_frame()
    assert len(frame) == 2 and frame["logme"].notna().all()  # features from the real layer
    assert set(frame["model"]) <= {"org/tiny-vit", "vit-folder", "timm-vit"}
    best = rec.best
    budget = {"epochs": 1, "batch_size": 16, "lr": 1e-3}
    result = transfer_from(
        local.get(best, best),
        None,
        target,
        graph=graph,
        budget=budget,
        target_name="new_photos",
        source_name=best,
    )
    assert (
        result.method == "finetune" and "same architecture" in result.provenance["choice"]["reason"]
    )
    assert result.record_id and 0.0 <= result.accuracy <= 1.0
    records = graph.records(dataset="new_photos", limit=None)
    assert records["model"].tolist() == [best]
    ev = evaluate(result, graph, recommendation=rec)
    assert ev.source == best and ev.predicted is not None and ev.scratch_accuracy is not None


@pytest.mark.parametrize("kind", ["hub", "timm"])
def test_every_transfer_method_takes_a_real_source(zoo: dict[str, Any], kind: str) -> None:
    if kind not in zoo:
        pytest.skip("optional extra 'timm' missing")
    from kgtransfer.models import create_model

    source, _ = load_source(zoo[kind])
    train, test = images("t", 0.0, n=32, seed=1), images("t", 0.0, n=16, seed=2)
    budget = {"epochs": 1, "batch_size": 16, "lr": 1e-3}
    for method in list_transfer_methods():
        if method.startswith("distill"):
            target = create_model("cnn_small", n_classes=2, input_shape=(3, 16, 16))
        else:
            target = source.new_like(2)
        result = evaluate_transfer(
            method, source, target, train, test, budget=budget, seed=0, scratch=False,
            source_name=zoo[kind], target_name="t",
        )  # fmt: skip
        assert 0.0 <= result.accuracy <= 1.0, method


def test_transfer_from_writes_a_new_hub_source_with_its_metadata(zoo: dict[str, Any]) -> None:
    graph = ZooGraph()
    x = images("t", 0.0, n=32, seed=3)
    result = transfer_from(
        "org/tiny-vit", None, (x.x, x.y), graph=graph, method="linear_probe",
        budget={"epochs": 1, "batch_size": 16}, target_name="photos", scratch=False,
    )  # fmt: skip
    assert result.source == "org/tiny-vit"
    row = graph.to_tables().models.set_index("model").loc["org/tiny-vit"]
    assert row["architecture"] == "transformers:ViTForImageClassification"
    assert row["modality"] == "image" and row["input_height"] == 16


def test_text_source_transfers_token_ids(tmp_path: Path) -> None:
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=40, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, num_labels=4, pad_token_id=0, max_position_embeddings=16,
    )  # fmt: skip
    transformers.BertForSequenceClassification(config).save_pretrained(tmp_path / "bert")
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    ids = rng.integers(1, 40, size=(40, 8))
    ids[y == 1, 0] = 5
    graph = ZooGraph()
    add_sources(graph, [str(tmp_path / "bert")])
    result = transfer_from(
        str(tmp_path / "bert"), None, (ids, y), graph=graph,
        budget={"epochs": 1, "batch_size": 8}, target_name="toy_text",
    )  # fmt: skip
    assert result.method == "finetune" and result.source == "bert"
    row = graph.to_tables().models.set_index("model").loc["bert"]
    assert row["modality"] == "text" and row["vocab_size"] == 40 and row["input_length"] == 16
    ev = evaluate(result, graph)
    assert ev.source == "bert" and ev.gain == pytest.approx(result.gain)


def _text_source(folder: Path) -> None:
    """A tiny BERT with a word-level tokenizer saved beside it (the real folder format)."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = ["good", "bad", "wine", "red", "white", "dry", "sweet", "old"]
    vocab = {"[PAD]": 0, "[UNK]": 1, **{w: i + 2 for i, w in enumerate(words)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, num_labels=3, pad_token_id=0, max_position_embeddings=16,
    )  # fmt: skip
    transformers.BertForSequenceClassification(config).save_pretrained(folder)
    transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]"
    ).save_pretrained(folder)


def _texts(n: int = 40) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(0)
    words = ["wine", "red", "white", "dry", "sweet", "old"]
    y = np.arange(n) % 2
    texts = [
        " ".join([("good" if label else "bad"), *rng.choice(words, size=1 + i % 4)])
        for i, label in enumerate(y)
    ]
    return texts, y


def test_text_source_takes_plain_strings(tmp_path: Path) -> None:
    _text_source(tmp_path / "bert")
    texts, y = _texts()
    kw: dict[str, Any] = {"budget": {"epochs": 1, "batch_size": 8}, "target_name": "reviews"}
    result = transfer_from(str(tmp_path / "bert"), None, (texts, y), **kw)
    assert result.method == "finetune" and result.target == "reviews"
    tok = result.provenance["preprocessing"]["tokenized"]
    assert tok["n_texts"] == 40 and tok["length"] == 5  # padded to the longest text
    # the same as token ids made by the source's own tokenizer
    ids = load_source(str(tmp_path / "bert"))[0].tokenize(texts).numpy()
    by_ids = transfer_from(str(tmp_path / "bert"), None, (ids, y), **kw)
    assert (result.accuracy, result.scratch_accuracy) == (by_ids.accuracy, by_ids.scratch_accuracy)
    # a held-out set of texts is tokenised alike
    split = transfer_from(
        str(tmp_path / "bert"), None, (texts[:30], y[:30]), test=(texts[30:], y[30:]), **kw
    )
    assert split.provenance["n_test"] == 10


def test_texts_need_a_source_with_a_tokenizer(tmp_path: Path) -> None:
    from kgtransfer.errors import TransferError
    from kgtransfer.models import create_model

    texts, y = _texts(10)
    src = create_model("mlp", n_classes=2, input_shape=(4,))
    with pytest.raises(TransferError, match="no tokenizer to read them"):
        transfer_from(src, None, (texts, y), budget={"epochs": 1})


def test_recommend_says_how_texts_become_numbers() -> None:
    from kgtransfer.errors import ArgumentError
    from kgtransfer.kg import ZooTables

    recs = pd.DataFrame({"model": ["a", "b"], "dataset": ["x", "x"], "value": [0.9, 0.5]})
    with pytest.raises(ArgumentError, match=r"40 texts.*transfer_from\(source, None"):
        recommend(ZooTables(records=recs), _texts(), name="reviews")
