"""read_model_cards on cards written to tmp_path."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd
import pytest

from kgtransfer.errors import CardParseError, IngestError
from kgtransfer.kg.ingest import read_model_cards

CARD = """---
license: apache-2.0
library_name: transformers
pipeline_tag: text-classification
base_model: {base}
base_model_relation: finetune
datasets:
  - glue
tags: [generated_from_trainer]
language: en
n_params: 66955010
architecture: DistilBertForSequenceClassification
model-index:
- name: distil-sst2
  results:
  - task:
      type: text-classification
    dataset:
      type: glue
      config: sst2
      split: validation
    metrics:
    - type: accuracy
      value: {acc}
    - type: f1
      value: 0.91
---
# distil-sst2

Some prose.
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_card_with_str_base_model_and_model_index(tmp_path: Path) -> None:
    card = _write(
        tmp_path / "distil-sst2" / "README.md",
        CARD.format(base="distilbert-base-uncased", acc=0.9105),
    )
    tables, report = read_model_cards(card)
    m = tables.models.iloc[0]
    assert m["model"] == "distil-sst2"  # model-index[0].name
    assert m["task"] == "text-classification"
    assert m["trained_on"] == "glue"
    assert m["license"] == "apache-2.0" and m["library_name"] == "transformers"
    assert m["n_params"] == 66955010
    assert m["architecture"] == "DistilBertForSequenceClassification"
    assert tables.lineage.values.tolist() == [
        ["distil-sst2", "distilbert-base-uncased", "finetune"]
    ]
    recs = tables.records.sort_values("metric")
    assert recs["metric"].tolist() == ["accuracy", "f1"]
    assert recs["value"].tolist() == [0.9105, 0.91]
    assert set(recs["dataset"]) == {"glue/sst2"} and set(recs["run"]) == {"validation"}
    assert set(tables.datasets["dataset"]) == {"glue", "glue/sst2"}
    assert any("tags" in n and "language" in n for n in report.notes)  # not silent


def test_list_base_model_and_percent_card(tmp_path: Path) -> None:
    card = _write(tmp_path / "merged.md", CARD.format(base="[org/a, org/b]", acc=91.05))
    tables, _ = read_model_cards(card)
    assert sorted(tables.lineage["base_model"]) == ["org/a", "org/b"]
    assert tables.records.set_index("metric").loc["accuracy", "value"] == pytest.approx(0.9105)


def test_hf_cache_layout(tmp_path: Path) -> None:
    cache = tmp_path / "hub" / "models--google--vit-base-patch16-224"
    _write(cache / "snapshots" / "aaa" / "README.md", "---\nlicense: mit\n---\nold\n")
    _write(
        cache / "snapshots" / "bbb" / "README.md",
        "---\nlicense: apache-2.0\npipeline_tag: image-classification\n---\n",
    )
    _write(cache / "refs" / "main", "bbb")
    _write(tmp_path / "hub" / "notes" / "plain.md", "no front matter here\n")
    tables, report = read_model_cards(tmp_path / "hub")
    assert tables.models["model"].tolist() == ["google/vit-base-patch16-224"]
    assert tables.models["license"].tolist() == ["apache-2.0"]
    assert any("refs/main" in n for n in report.notes)
    assert any("no YAML front matter" in n for n in report.notes)


def test_plain_folder_uses_model_name_or_folder(tmp_path: Path) -> None:
    _write(tmp_path / "cards" / "a" / "README.md", "---\nmodel_name: org/alpha\n---\n")
    _write(tmp_path / "cards" / "b" / "README.md", "---\nlicense: mit\nn_layers: 12\n---\n")
    tables, _ = read_model_cards(tmp_path / "cards")
    assert sorted(tables.models["model"]) == ["b", "org/alpha"]
    assert tables.models.set_index("model").loc["b", "n_layers"] == 12  # numeric extra kept


MALFORMED = "---\nlicense: mit\ntags: [a, b\nbase_model: x\n---\n"


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    card = _write(tmp_path / "bad" / "README.md", MALFORMED)
    with pytest.raises(CardParseError, match=r"bad[/\\]README\.md, line \d+: malformed YAML"):
        read_model_cards(card)


def test_malformed_card_skipped_in_warn_and_collect(tmp_path: Path) -> None:
    _write(tmp_path / "bad" / "README.md", MALFORMED)
    _write(tmp_path / "good" / "README.md", "---\nmodel_name: good\n---\n")
    with pytest.warns(UserWarning, match="malformed YAML"):
        tables, report = read_model_cards(tmp_path, errors="warn")
    assert tables.models["model"].tolist() == ["good"]
    assert report.n_rejected == 1 and report.rejections[0].source.endswith("README.md")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tables, report = read_model_cards(tmp_path, errors="collect")
    assert report.n_rejected == 1 and report.rejections[0].row is not None


def test_bad_fields(tmp_path: Path) -> None:
    card = _write(tmp_path / "x" / "README.md", "---\nbase_model: {a: 1}\n---\n")
    with pytest.raises(CardParseError, match=r"line 2: field 'base_model' must be a string"):
        read_model_cards(card)
    card = _write(tmp_path / "y" / "README.md", "---\nn_params: lots\n---\n")
    with pytest.raises(CardParseError, match=r"column 'n_params': value 'lots'"):
        read_model_cards(card)
    card = _write(tmp_path / "z" / "README.md", "---\nlicense: mit\n")
    with pytest.raises(CardParseError, match="never closed"):
        read_model_cards(card)
    card = _write(tmp_path / "w" / "README.md", "# no front matter\n")
    with pytest.raises(CardParseError, match="no YAML front matter"):
        read_model_cards(card)
    with pytest.raises(IngestError, match="no model card"):
        read_model_cards(tmp_path / "missing")


def test_conflicting_cards_for_one_model(tmp_path: Path) -> None:
    _write(tmp_path / "a.md", "---\nmodel_name: org/m\nlicense: mit\n---\n")
    _write(tmp_path / "b.md", "---\nmodel_name: org/m\nlicense: gpl\n---\n")
    with pytest.raises(IngestError, match="already described by"):
        read_model_cards(tmp_path)
    tables, report = read_model_cards(tmp_path, errors="collect")
    assert tables.models["license"].tolist() == ["mit"]
    assert report.rejections[0].value == "org/m"


def test_hf_cache_without_refs_takes_newest_snapshot(tmp_path: Path) -> None:
    cache = tmp_path / "models--org--m"
    old = _write(cache / "snapshots" / "r1" / "README.md", "---\nlicense: mit\n---\n")
    _write(cache / "snapshots" / "r2" / "README.md", "---\nlicense: apache-2.0\n---\n")
    os.utime(old.parent, (1_000_000, 1_000_000))
    tables, report = read_model_cards(tmp_path)
    assert tables.models[["model", "license"]].values.tolist() == [["org/m", "apache-2.0"]]
    assert any("r1" in n and "skipped" in n for n in report.notes)


def test_model_index_datasets_take_the_ids_of_the_datasets_list(tmp_path: Path) -> None:
    card = _write(
        tmp_path / "m" / "README.md",
        "---\nmodel_name: org/m\ndatasets:\n  - ' uoft-cs/CIFAR10 '\n  - mnist\nmodel-index:\n"
        "- name: org/m\n  results:\n"
        "  - dataset: {type: cifar10, config: plain_text, split: test}\n"
        "    metrics: [{type: accuracy, value: 0.9}]\n"
        "  - dataset: {type: MNIST, config: mnist}\n"
        "    metrics: [{type: accuracy, value: 0.99}]\n"
        "  - dataset: {type: glue, config: sst2}\n"
        "    metrics: [{type: accuracy, value: 0.8}]\n---\n",
    )
    tables, _ = read_model_cards(card)
    assert tables.models["trained_on"].tolist() == ["uoft-cs/CIFAR10"]
    assert tables.records["dataset"].tolist() == ["uoft-cs/CIFAR10", "mnist", "glue/sst2"]
    assert sorted(tables.datasets["dataset"]) == ["glue/sst2", "mnist", "uoft-cs/CIFAR10"]


def test_model_index_is_read_by_huggingface_hub(tmp_path: Path, monkeypatch) -> None:
    import huggingface_hub.repocard_data as hub_data

    calls: list[int] = []
    real = hub_data.model_index_to_eval_results

    def spy(index):  # type: ignore[no-untyped-def]
        calls.append(len(index))
        return real(index)

    monkeypatch.setattr(hub_data, "model_index_to_eval_results", spy)
    card = _write(
        tmp_path / "m" / "README.md",
        "---\nmodel_name: org/mine\nmodel-index:\n- name: another-name\n  results:\n"
        "  - task: {type: image-classification, name: Image Classification}\n"
        "    dataset: {type: beans, name: Beans, split: test}\n"
        "    metrics: [{type: accuracy, value: 0.75, verified: false}]\n"
        "  - dataset: {type: cifar10}\n"  # no task, no dataset name: filled in
        "    metrics: [{type: accuracy, value: 0.5}]\n---\n",
    )
    tables, _ = read_model_cards(card)
    assert calls == [1]  # one model-index, parsed by huggingface_hub
    assert tables.models["model"].tolist() == ["org/mine"]  # the card's own model_name
    assert tables.records[["dataset", "value"]].values.tolist() == [
        ["beans", 0.75],
        ["cifar10", 0.5],
    ]
    assert tables.records["run"].iloc[0] == "test" and pd.isna(tables.records["run"].iloc[1])
    tasks = dict(zip(tables.datasets["dataset"], tables.datasets["task"], strict=True))
    assert tasks["beans"] == "image-classification" and pd.isna(tasks["cifar10"])


def test_card_line_numbers_survive_huggingface_hub(tmp_path: Path) -> None:
    card = _write(
        tmp_path / "README.md",
        "---\nmodel_name: org/m\nmodel-index:\n- name: org/m\n  results:\n"
        "  - dataset: {type: beans}\n    metrics:\n    - {type: accuracy, value: 0.5}\n"
        "    - {value: 0.7}\n---\n",
    )
    with pytest.raises(CardParseError, match=r"README\.md, line 9: each metric needs a 'type'"):
        read_model_cards(card)
