"""Shared fixtures. Tests that need ../shared/benchmarks skip with a reason when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before any test imports timm / transformers: with PyPI's CUDA torchvision beside the CPU
# torch, kgtransfer.models keeps `import torchvision` working (see models/_compat.py).
import kgtransfer.models  # noqa: F401

REPO = Path(__file__).resolve().parents[1]
SHARED_BENCHMARKS = Path(
    os.environ.get("KGTRANSFER_SHARED_BENCHMARKS", REPO.parent / "shared" / "benchmarks")
)


@pytest.fixture(scope="session")
def shared_benchmarks() -> Path:
    """The public benchmark tables beside the checkout (``../shared/benchmarks``)."""
    if not (SHARED_BENCHMARKS / "transfergraph").is_dir():
        pytest.skip(
            f"public benchmark tables not found at {SHARED_BENCHMARKS} "
            "(set KGTRANSFER_SHARED_BENCHMARKS to their folder)"
        )
    return SHARED_BENCHMARKS


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the user's ~/.cache/kgtransfer."""
    monkeypatch.setenv("KGTRANSFER_HOME", str(tmp_path_factory.mktemp("kgtransfer_home")))


@pytest.fixture(scope="session")
def ray_executor():  # type: ignore[no-untyped-def]
    """One local Ray (127.0.0.1, 2 CPUs, no dashboard) for the whole session, shut down after.

    Skips when Ray is not installed (``pip install -e ".[ray]"``).
    """
    pytest.importorskip("ray")
    from kgtransfer.executor import RayExecutor

    executor = RayExecutor(num_cpus=2, max_retries=2)
    try:
        yield executor
    finally:
        executor.close()
