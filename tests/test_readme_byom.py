"""The README's "Bring your own models" example runs as written, against the files it names
(created here: tiny random-weight models in the real on-disk formats, a fake offline Hugging
Face cache, a graph with transfer records, a photos.npz). Nothing touches the network.
tests/test_readme.py, which runs the rest of the README, skips this block for this test."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

README = Path(__file__).resolve().parents[1] / "README.md"
TINY_VIT = {"img_size": 16, "patch_size": 8, "depth": 1, "embed_dim": 16, "num_heads": 2}
CARD = (
    "---\nlicense: apache-2.0\npipeline_tag: image-classification\nbase_model: org/vit-base\n---\n"
)


def section_code(title: str) -> str:
    """The first ```python block under the README heading ``## <title>``."""
    text = README.read_text(encoding="utf-8")
    body = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", body, re.S)
    assert match is not None, f"no python block under '## {title}'"
    return match.group(1)


@pytest.mark.slow
def test_bring_your_own_models_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, put_in_hf_cache: Callable[..., str]
) -> None:
    transformers = pytest.importorskip("transformers", reason="optional extra 'hf' missing")
    if importlib.util.find_spec("timm") is None:
        pytest.skip("optional extra 'timm' missing")
    import huggingface_hub.constants as hub_constants
    import timm
    from timm.models import save_for_hf

    from kgtransfer.kg import ZooGraph

    monkeypatch.chdir(tmp_path)
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
    transformers.ViTForImageClassification(config).save_pretrained(tmp_path / "my_vit")
    net = timm.create_model("vit_tiny_patch16_224", num_classes=2, **TINY_VIT)
    save_for_hf(net, str(tmp_path / "my_timm"), model_args=TINY_VIT, safe_serialization=True)
    # a graph with transfer records of these sources on built-in targets
    models = ["org/tiny-vit", "my_vit", "my_timm"]
    targets = ["digits", "digits_blurred", "digits_rotated"]
    rows = [
        {"model": m, "dataset": t, "value": 0.6 + 0.1 * i + 0.02 * j, "method": "finetune"}
        for i, m in enumerate(models)
        for j, t in enumerate(targets)
    ]
    with ZooGraph.open(tmp_path / "my_zoo" / "graph", create=True) as graph:
        graph.add_tables(
            models=pd.DataFrame({"model": models}),
            datasets=pd.DataFrame({"dataset": targets, "modality": "image", "n_classes": 2.0}),
            records=pd.DataFrame(rows),
        )
    rng = np.random.default_rng(0)
    y = np.arange(32) % 2
    x = rng.normal(size=(32, 3, 16, 16)).astype(np.float32) + y[:, None, None, None]
    np.savez(tmp_path / "photos.npz", x=x, y=y)

    import kgtransfer.transfer as kt

    gnn = kt.GNNRecommender  # the example's default recommender, sized for a test
    monkeypatch.setattr(kt, "GNNRecommender", lambda **kw: gnn(epochs=30, n_ensemble=1, **kw))
    namespace: dict[str, Any] = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(section_code("Bring your own models"), "README.md", "exec"), namespace)
    result, rec = namespace["result"], namespace["rec"]
    assert rec.to_frame()["logme"].notna().all()  # re-ranked on the sources' own features
    assert result.source in models and result.target == "photos"
    assert result.provenance["recommendation"]["id"] == rec.id
    assert "org/tiny-vit" in out.getvalue() and "apache-2.0" in out.getvalue()
    with ZooGraph.open(tmp_path / "my_zoo" / "graph", read_only=True) as graph:
        tables = graph.to_tables()
    assert (tables.records["dataset"].astype(str) == "photos").sum() == 1  # written back
    row = tables.models.set_index("model").loc["my_timm"]
    assert row["architecture"] == "timm:vit_tiny_patch16_224" and row["input_height"] == 16
