"""Resolve what the user calls a target: a dataset the graph knows, or a new one to join.

A new dataset (an ``ArrayDataset``, ``(x, y)`` arrays, a CSV path, a torch dataset,
or a registered dataset name the graph has no node for) is fingerprinted and joined
to the graph through similarity edges to its nearest known datasets, plus its
task/domain/modality metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from kgtransfer.data import ArrayDataset
from kgtransfer.errors import did_you_mean
from kgtransfer.kg.tables import COLUMNS, ZooTables
from kgtransfer.protocols import DataInput, DatasetLike

__all__ = ["ResolvedTarget", "as_dataset", "join_dataset", "resolve_target", "user_tabular"]

#: Fingerprint comparison used for a new dataset's similarity edges (as the zoo's).
SIMILARITY_METHOD: Final = "stats"


@dataclass
class ResolvedTarget:
    """A target, known to the graph or joined to it.

    Attributes:
        name: The target's dataset id.
        kind: ``"known"`` (a dataset node of the graph) or ``"new"``.
        dataset: The target's data when it was given or could be loaded, else None.
        datasets: The ``datasets`` row added for a new target (empty when known).
        similarities: Its new similarity edges (empty when known).
        neighbours: ``dataset, similarity`` of its nearest known datasets, closest first.
        notes: What was done (e.g. which datasets could not be fingerprinted).
    """

    name: str
    kind: str
    dataset: Any = None
    datasets: pd.DataFrame = field(default_factory=pd.DataFrame)
    similarities: pd.DataFrame = field(default_factory=pd.DataFrame)
    neighbours: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"dataset": [], "similarity": []})
    )
    notes: list[str] = field(default_factory=list)

    def augment(self, tables: ZooTables) -> ZooTables:
        """``tables`` plus this target's dataset row and similarity edges."""
        if self.kind == "known":
            return tables
        datasets = pd.concat([tables.datasets, self.datasets], ignore_index=True)
        sims = pd.concat([tables.similarities, self.similarities], ignore_index=True)
        return ZooTables(
            models=tables.models,
            lineage=tables.lineage,
            datasets=datasets,
            records=tables.records,
            similarities=sims,
            scores=tables.scores,
            metrics=tables.metrics,
        )


def _guess_modality(sample_ndim: int) -> str:
    """Modality from the rank of one sample: (C, H, W) image, (C, L) signal, else tabular."""
    return {3: "image", 2: "signal"}.get(sample_ndim, "tabular")


def as_dataset(
    data: DataInput,
    *,
    name: str | None = None,
    label_column: str | None = None,
    modality: str | None = None,
    seed: int = 0,
    column_map: Mapping[str, str] | None = None,
) -> ArrayDataset:
    """Turn user data into a :class:`kgtransfer.data.ArrayDataset`.

    Accepts an ``ArrayDataset``, a pair ``(x, y)`` of arrays, a CSV path (needs
    ``label_column``; ``column_map`` ``{old: new}`` renames its columns first), a
    registered dataset name (its seeded train split) or a map-style torch dataset
    of ``(input, label)`` pairs.

    Raises:
        ValueError: A CSV path without ``label_column``, or data of another kind.
        FileNotFoundError: A path that does not exist.

    Example:
        >>> import numpy as np
        >>> ds = as_dataset((np.eye(4, dtype="float32"), [0, 1, 0, 1]), name="toy")
        >>> ds.name, ds.n_classes, ds.modality
        ('toy', 2, 'tabular')
    """
    from torch.utils.data import Dataset

    from kgtransfer.data import ArrayDataset, from_arrays, from_csv, from_torch, load_dataset

    if column_map and not (isinstance(data, (str, Path)) and Path(data).is_file()):
        from kgtransfer.errors import ArgumentError

        raise ArgumentError(
            f"column_map renames the columns of a CSV file, but the data is a "
            f"{type(data).__name__}: pass a CSV path, or drop column_map."
        )
    if isinstance(data, ArrayDataset):
        return data
    if isinstance(data, tuple) and len(data) == 2:
        x = np.asarray(data[0])
        if x.dtype.kind in "UO" and x.ndim == 1 and all(isinstance(t, str) for t in x.tolist()):
            from kgtransfer.errors import ArgumentError

            raise ArgumentError(
                f"The target's inputs are {len(x)} texts: texts become numbers only through "
                "a source's tokenizer. transfer_from(source, None, (texts, labels)) tokenises "
                "them with the source's; to rank sources, pass token ids (N, L), e.g. "
                "load_source(<hf folder>)[0].tokenize(texts)."
            )
        return from_arrays(
            x,
            np.asarray(data[1]),
            name=name or "new_dataset",
            modality=modality or _guess_modality(x.ndim - 1),
        )
    if isinstance(data, (str, Path)):
        path = Path(data)
        if path.suffix.lower() == ".csv" or path.exists():
            if label_column is None:
                raise ValueError(
                    f"{str(path)!r} is a CSV file: say which column holds the labels "
                    "with label_column=... (CLI: --label-column)."
                )
            return from_csv(
                path, label_column=label_column, name=name or path.stem, column_map=column_map
            )
        return load_dataset(str(data), split="train", seed=seed)
    if isinstance(data, Dataset):
        first = data[0]
        ndim = np.asarray(first[0]).ndim if isinstance(first, (tuple, list)) else 3
        return from_torch(
            data, name=name or "new_dataset", modality=modality or _guess_modality(ndim)
        )
    raise ValueError(
        f"Cannot use a {type(data).__name__!r} as a dataset: pass a dataset id of the graph, "
        "an ArrayDataset, (x, y) arrays, a CSV path with label_column=..., or a torch Dataset."
    )


def user_tabular(data: Any, ds: Any) -> bool:
    """True for tabular features the user brought raw: a CSV file or ``(x, y)`` arrays
    of floats (an ``ArrayDataset`` read from a CSV file too; integer arrays may be
    token ids or category codes and are left alone). Built-in datasets keep their own
    preprocessing, so the zoo's ground truth does not shift."""
    if getattr(ds, "modality", None) != "tabular" or np.asarray(ds.x).ndim != 2:
        return False
    if "standardised" in getattr(ds, "metadata", {}):
        return False
    if isinstance(data, (str, Path)):
        return Path(data).is_file()
    if isinstance(data, tuple) and len(data) == 2:  # integer arrays may be ids or codes
        return bool(np.issubdtype(np.asarray(data[0]).dtype, np.floating))
    return str(ds.metadata.get("source", "")).lower().endswith(".csv")


def _reference_datasets(
    known: list[str], references: Mapping[str, Any] | None, seed: int
) -> tuple[dict[str, Any], list[str]]:
    """Data of the graph's datasets to fingerprint: given ones, else registered ones."""
    from kgtransfer.data import list_datasets, load_dataset

    if references is not None:
        return {str(k): v for k, v in references.items() if str(k) in known}, []
    registered = set(list_datasets())
    out: dict[str, Any] = {}
    skipped: list[str] = []
    for name in known:
        if name in registered:
            out[name] = load_dataset(name, split="train", seed=seed)
        else:
            skipped.append(name)
    return out, skipped


def join_dataset(
    tables: ZooTables,
    data: DataInput,
    *,
    name: str,
    n_neighbours: int = 5,
    references: Mapping[str, DatasetLike] | None = None,
    seed: int = 0,
) -> ResolvedTarget:
    """Fingerprint a new dataset and link it to its ``n_neighbours`` nearest known datasets.

    Args:
        tables: The zoo (its ``datasets`` are the candidates for similarity edges).
        data: The new dataset (anything :func:`as_dataset` accepts).
        name: Its id in the graph; must not be a dataset the graph already has.
        n_neighbours: Similarity edges kept (the closest datasets).
        references: ``{dataset id: ArrayDataset}`` to fingerprint the known datasets
            with; default every graph dataset that ``kgtransfer.data.load_dataset``
            knows (its seeded train split).
        seed: Seed of fingerprint subsampling and of loading references.

    Returns:
        A :class:`ResolvedTarget` with ``kind="new"``.

    Raises:
        ValueError: ``name`` is already a dataset of the graph, or no known dataset
            could be fingerprinted (pass ``references=``).

    Example:
        >>> import numpy as np, pandas as pd
        >>> from kgtransfer.data import from_arrays
        >>> from kgtransfer.kg import ZooTables
        >>> rng = np.random.default_rng(0)
        >>> def blob(name, c):
        ...     x = rng.normal(c, 1.0, (40, 3)).astype("float32")
        ...     return from_arrays(x, np.arange(40) % 2, name=name)
        >>> refs = {"near": blob("near", 5.0), "far": blob("far", -5.0)}
        >>> tables = ZooTables(datasets=pd.DataFrame({"dataset": ["near", "far"]}))
        >>> joined = join_dataset(tables, blob("mine", 5.1), name="mine", references=refs)
        >>> joined.neighbours["dataset"].tolist()
        ['near', 'far']
        >>> joined.similarities[["dataset_a", "dataset_b"]].values.tolist()[0]
        ['mine', 'near']
    """
    from kgtransfer.data import dataset_metadata_table, dataset_similarity, fingerprint

    known = sorted(set(tables.datasets["dataset"].dropna().astype(str)))
    if name in known:
        raise ValueError(
            f"The graph already has a dataset {name!r}; pass it by id to use its node, or "
            "give the new data another name (name=...)."
        )
    if n_neighbours < 1:
        raise ValueError(f"n_neighbours must be >= 1, got {n_neighbours!r}.")
    ds = as_dataset(data, name=name, seed=seed)
    refs, skipped = _reference_datasets(known, references, seed)
    if not refs:
        raise ValueError(
            f"None of the graph's {len(known)} datasets could be fingerprinted to join "
            f"{name!r} to them; pass references={{dataset_id: ArrayDataset, ...}}."
        )
    fp_new = fingerprint(ds, seed=seed)
    sims = []
    for ref_name, ref in refs.items():
        s = dataset_similarity(fp_new, fingerprint(ref, seed=seed), method=SIMILARITY_METHOD)
        sims.append((ref_name, float(s)))
    sims.sort(key=lambda pair: (-pair[1], pair[0]))
    near = sims[:n_neighbours]
    similarities = pd.DataFrame(
        {
            "dataset_a": [name] * len(near),
            "dataset_b": [d for d, _ in near],
            "similarity": [s for _, s in near],
            "distance": [float(-np.log(max(s, 1e-12))) for _, s in near],
            "method": SIMILARITY_METHOD,
        }
    ).astype(COLUMNS["similarities"])
    notes = [f"joined through {len(near)} similarity edge(s) ({SIMILARITY_METHOD} fingerprints)"]
    if skipped:
        notes.append(
            f"{len(skipped)} graph dataset(s) could not be fingerprinted (no data), e.g. "
            f"{skipped[0]!r}"
        )
    return ResolvedTarget(
        name=name,
        kind="new",
        dataset=ds,
        datasets=dataset_metadata_table({name: ds}),
        similarities=similarities,
        neighbours=pd.DataFrame(
            {"dataset": [d for d, _ in near], "similarity": [s for _, s in near]}
        ),
        notes=notes,
    )


def _known_neighbours(tables: ZooTables, name: str, n: int) -> pd.DataFrame:
    sims = tables.similarities
    a = sims[sims["dataset_a"] == name][["dataset_b", "similarity"]]
    b = sims[sims["dataset_b"] == name][["dataset_a", "similarity"]]
    both = pd.concat(
        [
            a.set_axis(["dataset", "similarity"], axis=1),
            b.set_axis(["dataset", "similarity"], axis=1),
        ]
    )
    both = both.dropna().astype({"dataset": str, "similarity": float})
    both = both.groupby("dataset", as_index=False)["similarity"].max()
    return both.sort_values(["similarity", "dataset"], ascending=[False, True]).head(n)


def resolve_target(
    tables: ZooTables,
    target: Any,
    *,
    name: str | None = None,
    label_column: str | None = None,
    n_neighbours: int = 5,
    references: Mapping[str, Any] | None = None,
    seed: int = 0,
    column_map: Mapping[str, str] | None = None,
) -> ResolvedTarget:
    """A dataset id of the graph (``kind="known"``), else new data joined by similarity
    (a CSV file's columns renamed by ``column_map`` first).

    Raises:
        UnknownNameError: A string that is no graph dataset, no file and no registered
            dataset (close graph dataset ids are suggested).
    """
    known = set(tables.datasets["dataset"].dropna().astype(str))
    known |= set(tables.records["dataset"].dropna().astype(str))
    if isinstance(target, str) and target in known:
        data = None
        try:
            from kgtransfer.data import list_datasets, load_dataset

            if target in list_datasets():
                data = load_dataset(target, split="train", seed=seed)
        except (KeyError, ValueError):  # pragma: no cover - registry quirk: no data then
            data = None
        return ResolvedTarget(
            name=target,
            kind="known",
            dataset=data,
            neighbours=_known_neighbours(tables, target, n_neighbours),
        )
    # a name that is no file is looked up (a folder of that name is no dataset either)
    if isinstance(target, str) and not Path(target).is_file():
        from kgtransfer.data import list_datasets

        if target not in list_datasets():
            raise did_you_mean(
                target,
                sorted(known),
                what="target dataset",
                hint=(
                    "Give a dataset id of the graph, a registered dataset name "
                    "(list_datasets()), a CSV path with label_column=..., or arrays (x, y)."
                ),
            )
    default = name
    if default is None:
        default = Path(target).stem if isinstance(target, (str, Path)) else None
    if default is None:
        default = getattr(target, "name", None) or "new_dataset"
    data = as_dataset(
        target, name=default, label_column=label_column, seed=seed, column_map=column_map
    )
    # no standardisation here: fingerprints compare raw statistics with the references'
    return join_dataset(
        tables,
        data,
        name=str(default),
        n_neighbours=n_neighbours,
        references=references,
        seed=seed,
    )
