"""The docstring examples of the transfer methods and evaluation run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "kgtransfer.transfer.methods",
    "kgtransfer.transfer.methods._base",
    "kgtransfer.transfer.methods._registry",
    "kgtransfer.transfer.methods._report",
    "kgtransfer.transfer.methods._train",
    "kgtransfer.transfer.methods.weights",
    "kgtransfer.transfer.methods.features",
    "kgtransfer.transfer.methods.finetune",
    "kgtransfer.transfer.methods.distill",
    "kgtransfer.transfer.methods.fusion",
    "kgtransfer.transfer.evaluate",
    "kgtransfer.transfer.training",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0 or name.endswith("_base")
