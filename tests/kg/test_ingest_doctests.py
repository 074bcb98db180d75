"""The Examples in the ingestion docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["_report", "_tables", "_metrics", "_cards", "_registry", "_transfergraph", "_benchmarks"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(f"kgtransfer.kg.ingest.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
