"""Atomic file writes and small readers for the zoo's cache files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from kgtransfer._io import atomic_write_text

__all__ = ["atomic_write_text", "read_json", "write_csv_atomic", "write_json_atomic"]


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Atomically write ``obj`` as indented, key-sorted JSON."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: str | Path) -> Any:
    """Read a JSON file; a missing or corrupt file gives None (treated as a cache miss)."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_csv_atomic(path: str | Path, frame: pd.DataFrame) -> None:
    """Atomically write ``frame`` as CSV without the index column."""
    atomic_write_text(path, frame.to_csv(index=False))
