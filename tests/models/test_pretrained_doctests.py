"""The examples in the docstrings of the pretrained-source modules run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "kgtransfer.models.hub",
    "kgtransfer.models.wrap",
    "kgtransfer.models.pretrained",
    "kgtransfer.models.hf_models",
    "kgtransfer.models.timm_models",
    "kgtransfer._api._sources",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    if name.endswith("hf_models"):
        pytest.importorskip("transformers", reason="optional extra 'hf' missing")
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
