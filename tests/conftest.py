"""Shared fixtures. Tests that need ../shared/benchmarks skip with a reason when it is absent."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
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


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Every entry under ``folder`` (the folder itself included) with its mtime and size."""
    out = {".": (folder.stat().st_mtime_ns, 0)}
    for entry in sorted(folder.rglob("*")):
        info = entry.stat()
        out[str(entry.relative_to(folder))] = (info.st_mtime_ns, info.st_size)
    return out


@pytest.fixture
def listing() -> Callable[[Path], dict[str, tuple[int, int]]]:
    """``listing(folder)``: every entry with its mtime and size (compare before / after)."""
    return _listing


def _put_in_hf_cache(folder: Path, cache: Path, repo_id: str, card: str | None = None) -> str:
    """Lay ``folder`` out as the HF cache does: blobs, a snapshot of symlinks, refs/main.

    Returns the snapshot's commit hash.
    """
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    if card is not None:
        files["README.md"] = card.encode()
    commit = hashlib.sha1(b"".join(sorted(files.values()))).hexdigest()
    snap = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True)
    snap.mkdir(parents=True)
    for name, data in files.items():
        blob = hashlib.sha256(data).hexdigest()
        (repo / "blobs" / blob).write_bytes(data)
        (snap / name).symlink_to(Path("..") / ".." / "blobs" / blob)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return commit


@pytest.fixture(scope="session")
def put_in_hf_cache() -> Callable[..., str]:
    """``put_in_hf_cache(folder, cache, repo_id, card=None) -> commit``: a local HF cache entry."""
    return _put_in_hf_cache


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
