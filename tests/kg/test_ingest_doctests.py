"""The Examples in the ingestion docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "__init__",
    "_report",
    "_tables",
    "_metrics",
    "_cards",
    "_registry",
    "_transfergraph",
    "_benchmarks",
    "_cells",
    "_csv",
    "_rules",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    suffix = "" if name == "__init__" else f".{name}"
    module = importlib.import_module(f"kgtransfer.kg.ingest{suffix}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
