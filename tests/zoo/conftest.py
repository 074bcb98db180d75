"""One tiny zoo built per test session, shared by the build and grid tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgtransfer.zoo import TINY_ZOO, ZooBuildResult, build_zoo


@pytest.fixture(scope="session")
def tiny_zoo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ZooBuildResult]:
    """``(home, result)`` of ``build_zoo(home, spec=TINY_ZOO, seed=0)``; tests must not
    modify the checkpoints (copy the home first)."""
    home = tmp_path_factory.mktemp("tiny_zoo_home")
    return home, build_zoo(home, spec=TINY_ZOO, seed=0)
