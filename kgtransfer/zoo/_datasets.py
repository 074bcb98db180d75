"""The zoo's datasets: source splits, seeded few-shot target splits, metadata and similarity."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pandas as pd

from kgtransfer.data import (
    few_shot,
    fingerprint,
    list_datasets,
    load_dataset,
    similarity_table,
)
from kgtransfer.errors import did_you_mean
from kgtransfer.zoo._io import write_json_atomic
from kgtransfer.zoo._spec import ZooSpec

__all__ = [
    "SIMILARITY_METHOD",
    "SplitData",
    "dataset_rows",
    "load_source_data",
    "load_target",
    "similarity_rows",
    "validate_datasets",
]

#: Fingerprint comparison used for the graph's dataset similarity edges.
SIMILARITY_METHOD: Final = "stats"


@dataclass
class SplitData:
    """A dataset's training and test splits plus a description of how they were drawn."""

    name: str
    train: Any  # kgtransfer.data.ArrayDataset
    test: Any
    split: str
    role: str  # "source" | "target"

    @property
    def modality(self) -> str:
        return str(self.train.modality)

    @property
    def task(self) -> str:
        return str(self.train.task)

    @property
    def domain(self) -> str:
        return str(self.train.domain)

    @property
    def n_classes(self) -> int:
        return int(self.train.n_classes)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.train.input_shape)


def validate_datasets(names: list[str]) -> None:
    """Raise :class:`UnknownNameError` for the first name not in ``list_datasets()``."""
    known = set(list_datasets())
    for name in names:
        if name not in known:
            raise did_you_mean(name, known, what="dataset", hint="See list_datasets().")


def load_source_data(name: str, seed: int) -> SplitData:
    """A source dataset's full seeded train split and its held-out test split."""
    return SplitData(
        name=name,
        train=load_dataset(name, split="train", seed=seed),
        test=load_dataset(name, split="test", seed=seed),
        split=f"load_dataset({name!r}, split='train'|'test', seed={seed})",
        role="source",
    )


def _target_data(spec: ZooSpec, name: str, seed: int) -> SplitData:
    tgt = spec.target(name)
    full = load_dataset(tgt.dataset, split="train", seed=seed)
    return SplitData(
        name=name,
        train=few_shot(full, tgt.n_per_class, seed=seed),
        test=load_dataset(tgt.dataset, split="test", seed=seed),
        split=(
            f"few_shot(load_dataset({tgt.dataset!r}, split='train', seed={seed}), "
            f"{tgt.n_per_class}, seed={seed}); test: split='test'"
        ),
        role="target",
    )


def load_target(spec: ZooSpec, name: str, seed: int = 0) -> tuple[Any, Any]:
    """The fixed few-shot training split and the held-out test split of target ``name``.

    The training split is ``few_shot(train split, n_per_class, seed)``; the same
    ``(spec, name, seed)`` always gives the same examples.

    Args:
        spec: The zoo spec holding the target.
        name: Target name (see :func:`zoo_targets`).
        seed: Seed of the dataset's train/test split and of the few-shot draw.

    Returns:
        ``(train, test)`` as :class:`kgtransfer.data.ArrayDataset`.

    Raises:
        UnknownNameError: ``name`` is not a target of ``spec``.

    Example:
        >>> from kgtransfer.zoo import TINY_ZOO, load_target
        >>> train, test = load_target(TINY_ZOO, "digits_blurred", seed=0)
        >>> len(train)
        50
    """
    data = _target_data(spec, name, seed)
    return data.train, data.test


def _all_data(spec: ZooSpec, seed: int, cache: dict[str, Any]) -> list[SplitData]:
    out: list[SplitData] = []
    for name in dict.fromkeys(s.dataset for s in spec.sources):
        if name not in cache:
            cache[name] = load_source_data(name, seed)
        out.append(cache[name])
    for tgt in spec.targets:
        key = f"target:{tgt.name}"
        if key not in cache:
            cache[key] = _target_data(spec, tgt.name, seed)
        out.append(cache[key])
    return out


def dataset_rows(
    spec: ZooSpec, seed: int, *, cache: dict[str, Any], out_dir: Path | None = None
) -> pd.DataFrame:
    """The graph's ``datasets`` table for every source and target of ``spec``.

    ``n_samples`` is the number of training examples the zoo used (the few-shot split
    for a target); ``n_test`` (extra numeric column) the held-out test size. When
    ``out_dir`` is given, each dataset's metadata is also written to
    ``out_dir/<name>.json``.
    """
    rows = []
    for data in _all_data(spec, seed, cache):
        row: dict[str, Any] = {
            "dataset": data.name,
            "task": data.task,
            "domain": data.domain,
            "modality": data.modality,
            "n_samples": float(len(data.train)),
            "n_classes": float(data.n_classes),
            "n_test": float(len(data.test)),
        }
        rows.append(row)
        if out_dir is not None:
            write_json_atomic(
                Path(out_dir) / f"{data.name}.json",
                {
                    **row,
                    "role": data.role,
                    "input_shape": list(data.input_shape),
                    "split": data.split,
                    "seed": seed,
                    "spec": spec.name,
                },
            )
    return pd.DataFrame(rows)


def similarity_rows(spec: ZooSpec, seed: int, *, cache: dict[str, Any]) -> pd.DataFrame:
    """Pairwise dataset similarities (fingerprints of the training splits, ``stats`` method)."""
    data = _all_data(spec, seed, cache)
    prints = {d.name: fingerprint(d.train, seed=seed) for d in data}
    return similarity_table(prints, method=SIMILARITY_METHOD)
