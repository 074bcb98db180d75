"""The Examples in the data docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "",
    ".dataset",
    ".registry",
    ".split",
    ".convert",
    ".preprocess",
    ".augment",
    ".fingerprint",
]


@pytest.mark.parametrize("suffix", MODULES)
def test_docstring_examples(suffix: str) -> None:
    module = importlib.import_module(f"kgtransfer.data{suffix}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
