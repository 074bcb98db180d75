"""``kgtransfer ingest --source``: your own timm / Hugging Face models into the graph, offline."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from kgtransfer.cli import app
from kgtransfer.kg import ZooGraph

transformers = pytest.importorskip("transformers", reason="optional extra 'hf' missing")
runner = CliRunner()


def test_ingest_source_folder_and_uncached_hub_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.constants as hub_constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub_constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    torch.manual_seed(0)
    config = transformers.ViTConfig(
        image_size=16, patch_size=8, hidden_size=8, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=16, num_labels=3,
    )  # fmt: skip
    transformers.ViTForImageClassification(config).save_pretrained(tmp_path / "my_vit")
    (tmp_path / "my_vit" / "README.md").write_text("---\nlicense: mit\n---\n# mine\n")
    store = tmp_path / "store"
    out = runner.invoke(
        app, ["ingest", "--store", str(store), "--quiet", "--source", str(tmp_path / "my_vit")]
    )
    assert out.exit_code == 0, out.output
    assert "models=1" in out.output
    with ZooGraph.open(store) as graph:
        row = graph.to_tables().models.set_index("model").loc["my_vit"]
    assert row["architecture"] == "transformers:ViTForImageClassification"
    assert row["license"] == "mit" and row["input_height"] == 16

    missing = runner.invoke(app, ["ingest", "--store", str(store), "--source", "org/absent"])
    assert missing.exit_code != 0
    assert "huggingface-cli download org/absent" in missing.output
