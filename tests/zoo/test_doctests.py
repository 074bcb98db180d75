"""The examples in the zoo's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "kgtransfer.zoo",
    "kgtransfer.zoo._spec",
    "kgtransfer.zoo._datasets",
    "kgtransfer.zoo.build",
    "kgtransfer.zoo.grid",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
