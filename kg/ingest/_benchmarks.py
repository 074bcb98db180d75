"""Readers of the smaller public model-selection tables: PARC, TLlib, Model Spider, SFDA.

Each takes the benchmark's folder (or the folder holding it) and returns
``(ZooTables, IngestReport)``. Accuracies are published in percent and become
fractions (noted in the report). Records carry ``method="finetune"`` and
``run`` = the benchmark table they come from, so the same model name in two
benchmarks (whose numbers differ) never collides.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import pandas as pd

from kgtransfer.errors import ErrorMode, IngestError, check_error_mode
from kgtransfer.kg.tables import ZooTables

from ._cells import CellError, as_float
from ._registry import register_benchmark, resolve_folder
from ._report import IngestReport
from ._tables import ROW_COLUMN, normalize_tables

__all__ = ["read_model_spider", "read_parc", "read_sfda", "read_tllib"]

#: Number of classes of well-known targets (public facts), keyed by lower-case name.
#: Used to fill ``n_classes`` of benchmark datasets, and so to flag chance-level runs.
N_CLASSES: dict[str, int] = {
    "aircraft": 100,
    "cars": 196,
    "stanfordcars": 196,
    "cifar10": 10,
    "cifar100": 100,
    "dtd": 47,
    "flowers": 102,
    "food": 101,
    "food101": 101,
    "pets": 37,
    "pet": 37,
    "oxford_pets": 37,
    "oxfordiiitpets": 37,
    "sun397": 397,
    "cub200": 200,
    "cub2011": 200,
    "stanford_dogs": 120,
    "dogs": 120,
    "stl10": 10,
}


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise IngestError(f"expected the benchmark table {os.fspath(path)!r}; it does not exist.")
    frame = pd.read_csv(path, dtype=str)
    frame.insert(0, ROW_COLUMN, range(1, len(frame) + 1))
    return frame


def _datasets(names: Iterable[str], modality: str = "image") -> pd.DataFrame:
    names = list(dict.fromkeys(names))
    return pd.DataFrame(
        {
            "dataset": names,
            "modality": modality,
            "n_classes": [N_CLASSES.get(n.lower()) for n in names],
        }
    )


def _finish(
    parts: list[tuple[str, pd.DataFrame, pd.DataFrame, pd.DataFrame | None]],
    errors: ErrorMode,
    report: IngestReport,
) -> tuple[ZooTables, IngestReport]:
    """Normalise each (source, models, records, scores) part and stack the results."""
    out: list[ZooTables] = []
    for source, models, records, scores in parts:
        names = list(records["dataset"].dropna())
        if scores is not None:
            names += list(scores["dataset"].dropna())
        tables, rep = normalize_tables(
            models=models.drop_duplicates("model"),
            datasets=_datasets(names),
            records=records,
            scores=scores,
            errors=errors,
            source={
                "models": f"{source} (models)",
                "datasets": f"{source} (datasets)",
                "records": source,
                "scores": f"{source} (scores)",
            },
        )
        report.merge(rep)
        out.append(tables)
    stacked = ZooTables()
    for name, _ in stacked:
        frames = [getattr(t, name) for t in out if len(getattr(t, name))]
        if frames:
            table = pd.concat(frames, ignore_index=True)
            key = {"models": "model", "datasets": "dataset", "metrics": "metric"}.get(name)
            if key:
                table = table.drop_duplicates(key, ignore_index=True)
            setattr(stacked, name, table)
    return stacked, report


def _skip_missing(
    frame: pd.DataFrame, column: str, marker: float, source: str, report: IngestReport
) -> pd.DataFrame:
    def is_marker(v: object) -> bool:
        try:
            return as_float(v) == marker
        except CellError:
            return False

    mask = frame[column].map(is_marker).astype(bool)
    if mask.any():
        rows = frame.loc[mask, ROW_COLUMN].tolist()
        report.notes.append(
            f"{source}: {int(mask.sum())} row(s) with {column} = {marker:g} mark a missing "
            f"result and were not read (rows {', '.join(map(str, rows))})"
        )
        report.count(source, read=int(mask.sum()), accepted=0)
    return frame[~mask]


# ---------------------------------------------------------------------------- PARC
@register_benchmark("parc")
def read_parc(
    folder: str | os.PathLike[str],
    table: Literal["all", "controlled"] = "all",
    *,
    errors: ErrorMode = "raise",
) -> tuple[ZooTables, IngestReport]:
    """Read the PARC tables (Bolya et al., NeurIPS 2021).

    Each row is an (architecture, source dataset) model fine-tuned on a target;
    the model id is ``"<architecture>.<source>"`` (zoo naming), ``Oracle`` is the
    target accuracy in percent (-> fraction) and ``-1`` marks a missing result
    (not read, noted). ``all.csv`` (71 models) contains every row of
    ``controlled.csv`` (28 models, sources are datasets and become ``trained_on``).

    Args:
        folder: The ``parc`` folder or the folder holding it.
        table: ``"all"`` or ``"controlled"``.
        errors: As in :func:`normalize_tables`.

    Returns:
        ``(ZooTables, IngestReport)``.

    Example:
        >>> import pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp()) / "parc"
        >>> folder.mkdir()
        >>> _ = (folder / "all.csv").write_text(
        ...     "Architecture,Source Dataset,Target Dataset,Oracle\\n"
        ...     "resnet50,imagenet,cifar10,91.5\\n"
        ...     "resnet50,imagenet,pets,88\\n"
        ...     "resnet18,imagenet,pets,-1\\n")
        >>> tables, report = read_parc(folder.parent)
        >>> tables.records[["model", "dataset", "value"]].values.tolist()
        [['resnet50.imagenet', 'cifar10', 0.915], ['resnet50.imagenet', 'pets', 0.88]]
        >>> sorted(tables.models["model"])  # a model whose results are all missing exists
        ['resnet18.imagenet', 'resnet50.imagenet']
        >>> tables, _ = read_parc("../shared/benchmarks")  # doctest: +SKIP
        >>> tables.records["model"].nunique()  # doctest: +SKIP
        71
    """
    check_error_mode(errors)
    if table not in ("all", "controlled"):
        raise ValueError(f"table={table!r}; use 'all' or 'controlled'.")
    path = resolve_folder(folder, "parc", f"{table}.csv")
    source = os.fspath(path / f"{table}.csv")
    report = IngestReport()
    full = _read(path / f"{table}.csv")
    raw = _skip_missing(full, "Oracle", -1.0, source, report)
    controlled = (
        set(_read(path / "controlled.csv")["Source Dataset"])
        if (path / "controlled.csv").is_file()
        else set()
    )

    def model_id(frame: pd.DataFrame) -> pd.Series:
        return frame["Architecture"].str.strip() + "." + frame["Source Dataset"].str.strip()

    ids = model_id(raw)
    # Models come from every row: a model whose results are all missing still exists.
    models = pd.DataFrame(
        {
            ROW_COLUMN: full[ROW_COLUMN],
            "model": model_id(full),
            "architecture": full["Architecture"],
            "trained_on": full["Source Dataset"].where(full["Source Dataset"].isin(controlled)),
            "modality": "image",
            "task": "image-classification",
        }
    )
    records = pd.DataFrame(
        {
            ROW_COLUMN: raw[ROW_COLUMN],
            "model": ids,
            "dataset": raw["Target Dataset"],
            "value": raw["Oracle"],
            "metric": "accuracy",
            "method": "finetune",
            "run": f"parc/{table}",
        }
    )
    return _finish([(source, models, records, None)], errors, report)


# ---------------------------------------------------------------------------- TLlib
_TLLIB_SCORES = {"HScore": "hscore", "LEEP": "leep", "LogME": "logme", "NCE": "nce"}


@register_benchmark("tllib")
def read_tllib(
    folder: str | os.PathLike[str], *, errors: ErrorMode = "raise"
) -> tuple[ZooTables, IngestReport]:
    """Read the Transfer-Learning-Library model-selection table (10 ImageNet models x 8 targets).

    ``finetuned_acc`` (percent) -> records; ``HScore``, ``LEEP``, ``LogME``,
    ``NCE`` -> scores (estimators ``hscore``, ``leep``, ``logme``, ``nce``).
    The published correlations file is not zoo data and is not read.

    Args:
        folder: The ``tllib`` folder or the folder holding it.
        errors: As in :func:`normalize_tables`.

    Returns:
        ``(ZooTables, IngestReport)``.
    """
    check_error_mode(errors)
    name = "model_selection_finetune_and_scores.csv"
    path = resolve_folder(folder, "tllib", name)
    raw = _read(path / name)
    source = os.fspath(path / name)
    models = pd.DataFrame(
        {
            ROW_COLUMN: raw[ROW_COLUMN],
            "model": raw["model"],
            "modality": "image",
            "trained_on": "imagenet",
        }
    )
    records = pd.DataFrame(
        {
            ROW_COLUMN: raw[ROW_COLUMN],
            "model": raw["model"],
            "dataset": raw["target_dataset"],
            "value": raw["finetuned_acc"],
            "metric": "accuracy",
            "method": "finetune",
            "run": "tllib",
        }
    )
    scores = _melt_scores(raw, "model", "target_dataset", _TLLIB_SCORES)
    return _finish([(source, models, records, scores)], errors, IngestReport())


def _melt_scores(
    raw: pd.DataFrame, model: str, dataset: str, estimators: dict[str, str]
) -> pd.DataFrame:
    frames = [
        pd.DataFrame(
            {
                ROW_COLUMN: raw[ROW_COLUMN],
                "model": raw[model],
                "dataset": raw[dataset],
                "estimator": est,
                "value": raw[col],
            }
        )
        for col, est in estimators.items()
        if col in raw.columns
    ]
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------- Model Spider
_SPIDER_SCORES = {
    "H-Score": "hscore",
    "LEEP": "leep",
    "LogME": "logme",
    "NCE": "nce",
    "NLEEP": "nleep",
    "OTCE": "otce",
    "PACTranDirichlet": "pactran_dirichlet",
    "GBC": "gbc",
    "LFC": "lfc",
}
#: Model Spider's regression targets: their values are negated errors (higher is better).
_REGRESSION = frozenset({"dSprites", "UTKFace"})


@register_benchmark("model_spider")
def read_model_spider(
    folder: str | os.PathLike[str],
    tables: Iterable[Literal["single", "multi"]] = ("single", "multi"),
    *,
    errors: ErrorMode = "raise",
) -> tuple[ZooTables, IngestReport]:
    """Read the Model Spider tables (Zhang et al., NeurIPS 2023).

    ``single``: 10 ImageNet models x 10 targets (``finetune_acc`` in percent;
    the regression targets dSprites and UTKFace hold negated errors and get
    ``metric="neg_error"``, higher is better), plus the 9 transferability
    baselines of ``baseline_results.csv`` as scores. ``multi``: 66 models
    (architecture x 22 source datasets, ``trained_on`` = source) x 7 targets.
    ``ft_rank`` is derived from the accuracies and is not read.

    Args:
        folder: The ``model-spider`` folder or the folder holding it.
        tables: Which of ``"single"`` and ``"multi"`` to read.
        errors: As in :func:`normalize_tables`.

    Returns:
        ``(ZooTables, IngestReport)``.
    """
    check_error_mode(errors)
    tables = list(tables)
    bad = [t for t in tables if t not in ("single", "multi")]
    if bad or not tables:
        raise ValueError(f"tables={tables!r}; use a subset of ('single', 'multi').")
    path = resolve_folder(folder, "model-spider", f"{tables[0]}_source_finetune.csv")
    parts = []
    if "single" in tables:
        src = os.fspath(path / "single_source_finetune.csv")
        raw = _read(path / "single_source_finetune.csv")
        models = pd.DataFrame(
            {
                ROW_COLUMN: raw[ROW_COLUMN],
                "model": raw["model"],
                "trained_on": raw["pretrain_dataset"],
                "modality": "image",
            }
        )
        regression = raw["target_dataset"].isin(_REGRESSION)
        records = pd.DataFrame(
            {
                ROW_COLUMN: raw[ROW_COLUMN],
                "model": raw["model"],
                "dataset": raw["target_dataset"],
                "value": raw["finetune_acc"],
                "metric": regression.map({True: "neg_error", False: "accuracy"}),
                "method": "finetune",
                "run": "model-spider/single",
            }
        )
        scores = None
        if (path / "baseline_results.csv").is_file():
            base = _read(path / "baseline_results.csv")
            scores = _melt_scores(base, "Model", "Dataset", _SPIDER_SCORES)
        parts.append((src, models, records, scores))
    if "multi" in tables:
        src = os.fspath(path / "multi_source_finetune.csv")
        raw = _read(path / "multi_source_finetune.csv")
        models = pd.DataFrame(
            {
                ROW_COLUMN: raw[ROW_COLUMN],
                "model": raw["model"],
                "architecture": raw["architecture"],
                "trained_on": raw["source_dataset"],
                "modality": "image",
            }
        )
        records = pd.DataFrame(
            {
                ROW_COLUMN: raw[ROW_COLUMN],
                "model": raw["model"],
                "dataset": raw["target_dataset"],
                "value": raw["finetune_acc"],
                "metric": "accuracy",
                "method": "finetune",
                "run": "model-spider/multi",
            }
        )
        parts.append((src, models, records, None))
    return _finish(parts, errors, IngestReport())


# ---------------------------------------------------------------------------- SFDA
_SFDA = {
    "supervised_cnn": "supervised_cnn_finetune.csv",
    "selfsupervised": "selfsupervised_finetune.csv",
    "vit": "vit_finetune.csv",
}


@register_benchmark("sfda")
def read_sfda(
    folder: str | os.PathLike[str],
    family: Literal["supervised_cnn", "selfsupervised", "vit"] = "supervised_cnn",
    *,
    errors: ErrorMode = "raise",
) -> tuple[ZooTables, IngestReport]:
    """Read one SFDA / ETran / EMMS ground-truth table (11 targets, accuracy in percent).

    The same model names have other accuracies in TLlib and Model Spider; the
    records' ``run`` (``"sfda/<family>"``) keeps them apart. Do not evaluate a
    recommender on a mix of the two.

    Args:
        folder: The ``sfda`` folder or the folder holding it.
        family: ``"supervised_cnn"`` (11 CNNs), ``"selfsupervised"`` (12
            ResNet-50s) or ``"vit"`` (13 ViT-family models).
        errors: As in :func:`normalize_tables`.

    Returns:
        ``(ZooTables, IngestReport)``.
    """
    check_error_mode(errors)
    if family not in _SFDA:
        raise ValueError(f"family={family!r}; use one of {sorted(_SFDA)}.")
    path = resolve_folder(folder, "sfda", _SFDA[family])
    raw = _read(path / _SFDA[family])
    source = os.fspath(path / _SFDA[family])
    models = pd.DataFrame({ROW_COLUMN: raw[ROW_COLUMN], "model": raw["model"], "modality": "image"})
    records = pd.DataFrame(
        {
            ROW_COLUMN: raw[ROW_COLUMN],
            "model": raw["model"],
            "dataset": raw["target_dataset"],
            "value": raw["value"],
            "metric": "accuracy",
            "method": "finetune",
            "run": f"sfda/{family}",
        }
    )
    return _finish([(source, models, records, None)], errors, IngestReport())
