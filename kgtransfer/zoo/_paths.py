"""Where the built-in zoo lives under a kgtransfer home folder."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "datasets_dir",
    "graph_path",
    "grid_path",
    "model_dir",
    "models_dir",
    "state_path",
    "zoo_dir",
]


def zoo_dir(home: str | Path) -> Path:
    """``home/zoo``: checkpoints, dataset metadata, the grid results."""
    return Path(home) / "zoo"


def models_dir(home: str | Path) -> Path:
    """``home/zoo/models``: one folder per source model (checkpoint + model card)."""
    return zoo_dir(home) / "models"


def model_dir(home: str | Path, name: str) -> Path:
    """``home/zoo/models/<name>``."""
    return models_dir(home) / name


def datasets_dir(home: str | Path) -> Path:
    """``home/zoo/datasets``: one JSON metadata file per dataset."""
    return zoo_dir(home) / "datasets"


def grid_path(home: str | Path) -> Path:
    """``home/zoo/grid.csv``: one row per grid run, rewritten atomically after each."""
    return zoo_dir(home) / "grid.csv"


def state_path(home: str | Path) -> Path:
    """``home/zoo/state.json``: what was last written into the graph (batch ids, hashes)."""
    return zoo_dir(home) / "state.json"


def graph_path(home: str | Path) -> Path:
    """``home/graph``: the on-disk knowledge graph store."""
    return Path(home) / "graph"
