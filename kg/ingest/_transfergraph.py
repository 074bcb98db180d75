"""Reader of the TransferGraph benchmark tables (Li et al., ICDE 2024).

Layout (``image_classification/`` or ``sequence_classification/``): ``records.csv``
(fine-tuning runs), ``model_config_dataset.csv`` (model metadata),
``target_dataset_features.csv`` (dataset size and classes),
``corr_domain_similarity_<reference model>.csv`` (dataset distance matrices) and
``transferability_score_records.csv`` (LogME / regularised H-score).
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from kgtransfer.errors import ErrorMode, check_error_mode
from kgtransfer.kg.tables import ZooTables

from ._cells import CellError, as_float, is_missing
from ._registry import register_benchmark, resolve_folder
from ._report import IngestReport, Rejection
from ._tables import ROW_COLUMN, normalize_tables

__all__ = ["read_transfergraph"]

_ZOOS = {
    "image": ("image_classification", "image", "image-classification"),
    "text": ("sequence_classification", "text", "text-classification"),
}
_ESTIMATORS = {
    "TransferabilityMethod.LOG_ME": "logme",
    "TransferabilityMethod.REG_H_SCORE": "reg_hscore",
}


@register_benchmark("transfergraph")
def read_transfergraph(
    folder: str | os.PathLike[str],
    zoo: Literal["image", "text"] = "image",
    *,
    errors: ErrorMode = "warn",
) -> tuple[ZooTables, IngestReport]:
    """Read one TransferGraph zoo into normalised tables.

    Models come from ``model_config_dataset.csv`` (``architectures`` ->
    ``architecture``, ``dataset`` -> ``trained_on``, ``#labels`` -> ``n_labels``,
    ``number_of_parameters`` -> ``n_params``; memory and shapes kept as numeric
    attributes). Records are the runs of ``records.csv`` with metric accuracy:
    image runs have ``method="finetune"``; text runs get ``method`` ``"finetune"``
    or ``"lora"`` (from ``peft_method``) and ``run`` ``"epochs=..,lr=..,bs=.."``
    plus ``"#k"`` for the k-th different result of the same configuration, so
    every run is a distinct key. The regime is what the table states: the method,
    ``epochs`` and, for full fine-tuning (the image runs and text runs without a
    PEFT method), ``frozen=False``; the rest of it is unknown. Rows whose columns are shifted (the text zoo
    has 4, with ``finetuned_dataset`` ``0.1``, ``none`` or ``lora``) are
    rejected with that reason. Datasets are the targets of
    ``target_dataset_features.csv`` plus every dataset referenced by records,
    scores or similarities (``n_classes`` of a dataset missing from the features
    file is taken from the ``#labels`` of models trained on it when they agree).
    Similarities are the distance matrices (``method`` = reference model).
    Scores are LogME (``logme``) and regularised H-score (``reg_hscore``);
    a score computed twice with different values keeps the mean (warned).

    Args:
        folder: The zoo folder, the ``transfergraph`` folder or the folder above it.
        zoo: ``"image"`` or ``"text"``.
        errors: As in :func:`normalize_tables`. Defaults to ``"warn"``: the public
            text table has known malformed rows, which are rejected and reported.

    Returns:
        ``(ZooTables, IngestReport)``.

    Raises:
        IngestError: If the folder is not a TransferGraph zoo, or with
            ``errors="raise"`` at the first bad row.

    Example:
        >>> import tempfile
        >>> read_transfergraph(tempfile.mkdtemp(), "image")
        Traceback (most recent call last):
        ...
        kgtransfer.errors.IngestError: '...' is not a image_classification benchmark folder: ...
        >>> tables, report = read_transfergraph(
        ...     "../shared/benchmarks/transfergraph", "image")  # doctest: +SKIP
        >>> tables.records["model"].nunique()  # doctest: +SKIP
        180
    """
    check_error_mode(errors)
    if zoo not in _ZOOS:
        raise ValueError(f"zoo={zoo!r} is not a TransferGraph zoo; use 'image' or 'text'.")
    subdir, modality, task = _ZOOS[zoo]
    root = Path(folder)
    if (root / "transfergraph").is_dir():
        root = root / "transfergraph"
    path = resolve_folder(root, subdir, "records.csv")
    report = IngestReport()

    models = _models(path / "model_config_dataset.csv", modality, task)
    features = _read(path / "target_dataset_features.csv")
    trained_on = set(models["trained_on"].dropna())
    known_names = set(features["finetune_dataset"].dropna()) | trained_on
    records = _records(path / "records.csv", zoo, known_names, report, errors)
    sims = _similarities(path)
    scores = _scores(path / "transferability_score_records.csv", report, errors)
    datasets = _datasets(features, models, records, sims, scores, modality, report)

    tables, norm = normalize_tables(
        models=models,
        datasets=datasets,
        records=records,
        similarities=sims,
        scores=scores,
        errors=errors,
        source={
            "models": os.fspath(path / "model_config_dataset.csv"),
            "datasets": os.fspath(path / "target_dataset_features.csv"),
            "records": os.fspath(path / "records.csv"),
            "similarities": os.fspath(path / "corr_domain_similarity_*.csv"),
            "scores": os.fspath(path / "transferability_score_records.csv"),
        },
    )
    return tables, report.merge(norm)


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str)
    frame.insert(0, ROW_COLUMN, range(1, len(frame) + 1))
    return frame.drop(columns=[c for c in frame.columns if c.startswith("Unnamed: ")])


def _architecture(value: Any) -> Any:
    """``"['ViTForImageClassification']"`` -> ``"ViTForImageClassification"``."""
    if is_missing(value):
        return None
    text = str(value).strip()
    if text.startswith("["):
        try:
            items = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        return ",".join(str(i) for i in items) or None
    return text


def _models(path: Path, modality: str, task: str) -> pd.DataFrame:
    raw = _read(path)
    labels = "#labels" if "#labels" in raw.columns else "number_of_labels"
    out = pd.DataFrame(
        {
            ROW_COLUMN: raw[ROW_COLUMN],
            "model": raw["model"],
            "architecture": raw["architectures"].map(_architecture),
            "model_type": raw["model_type"],
            "trained_on": raw["dataset"],
            "task": task,
            "modality": modality,
            "n_params": raw["number_of_parameters"],
            "n_labels": raw[labels],
            "memory_consumption": raw["memory_consumption"],
            "reported_accuracy": raw["accuracy"],
        }
    )
    for col in ("input_shape", "output_shape"):
        if col in raw.columns:
            out[col] = raw[col]
    return out


def _records(
    path: Path, zoo: str, known: set[str], report: IngestReport, errors: ErrorMode
) -> pd.DataFrame:
    raw = _read(path)
    source = os.fspath(path)
    ok = []
    for row, dataset in zip(raw[ROW_COLUMN], raw["finetuned_dataset"], strict=True):
        good = not is_missing(dataset) and str(dataset) in known
        if not good:
            report.reject(
                Rejection(
                    source,
                    int(row),
                    "finetuned_dataset",
                    dataset,
                    "malformed row (its columns are shifted): finetuned_dataset is not a dataset "
                    "of this zoo; the row is skipped. Fix the row in the file to keep it.",
                ),
                errors=errors,
            )
        ok.append(good)
    n_malformed = len(ok) - sum(ok)
    raw = raw[ok]
    out = pd.DataFrame(
        {
            ROW_COLUMN: raw[ROW_COLUMN],
            "model": raw["model"],
            "dataset": raw["finetuned_dataset"],
            "value": raw["eval_accuracy"],
            "metric": "accuracy",
        }
    )
    if zoo == "image":
        out["method"] = "finetune"
        out["frozen"] = False  # full fine-tuning (the benchmark's protocol)
        out["epochs"] = raw["epochs"]
        out["batch_size"] = raw["batch_size"]
        out["learning_rate"] = raw["lr"]
    else:
        peft = raw["peft_method"].fillna("").str.strip().str.lower()
        typos = int((peft == "lor").sum())
        if typos:
            report.notes.append(f"{source}: peft_method 'lor' read as 'lora' ({typos} row(s))")
        out["method"] = peft.map(
            lambda p: "lora" if p in ("lora", "lor") else ("finetune" if p == "" else p)
        )
        out["frozen"] = out["method"].map(lambda m: False if m == "finetune" else None)
        out["seed"] = raw["seed"]
        out["epochs"] = raw["num_train_epochs"]
        out["batch_size"] = raw["batch_size"]
        out["learning_rate"] = raw["learning_rate"]
        out["run"] = _run_labels(out)
    out = out.reset_index(drop=True)
    report.count(source, read=n_malformed)  # the rest are counted by normalize_tables
    return out


def _num(value: Any) -> str:
    try:
        return f"{as_float(value):g}"
    except CellError:
        return str(value)


def _run_labels(out: pd.DataFrame) -> list[str | None]:
    """Configuration label per run, plus ``#k`` for the k-th distinct result of it."""
    labels: list[str | None] = []
    seen: dict[tuple[Any, ...], list[Any]] = {}
    for rec in out.to_dict("records"):
        if any(is_missing(rec[c]) for c in ("epochs", "learning_rate", "batch_size")):
            labels.append(None)
            continue
        config = (
            f"epochs={_num(rec['epochs'])},lr={_num(rec['learning_rate'])},"
            f"bs={_num(rec['batch_size'])}"
        )
        key = (rec["model"], rec["dataset"], rec["method"], rec["seed"], config)
        values = seen.setdefault(key, [])
        value = None if is_missing(rec["value"]) else _num(rec["value"])
        if value not in values:
            values.append(value)
        k = values.index(value) + 1
        labels.append(config if k == 1 else f"{config}#{k}")
    return labels


def _similarities(path: Path) -> pd.DataFrame | None:
    frames = []
    for file in sorted(path.glob("corr_domain_similarity_*.csv")):
        method = file.stem.removeprefix("corr_domain_similarity_")
        matrix = pd.read_csv(file, index_col=0, dtype=str)
        names = [str(c) for c in matrix.columns]
        for i, name_a in enumerate(matrix.index):
            for j in range(i + 1, len(names)):
                frames.append(
                    {
                        ROW_COLUMN: i + 1,
                        "dataset_a": str(name_a),
                        "dataset_b": names[j],
                        "distance": matrix.iat[i, j],
                        "method": method,
                    }
                )
    return pd.DataFrame(frames) if frames else None


def _scores(path: Path, report: IngestReport, errors: ErrorMode) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    raw = _read(path)
    source = os.fspath(path)
    malformed = ~raw["metric"].isin(list(_ESTIMATORS))
    for row, metric in zip(
        raw.loc[malformed, ROW_COLUMN], raw.loc[malformed, "metric"], strict=True
    ):
        report.reject(
            Rejection(
                source,
                int(row),
                "metric",
                metric,
                "malformed row (the line is truncated or its columns are shifted): "
                f"metric is not one of {sorted(_ESTIMATORS)}; the row is skipped.",
            ),
            errors=errors,
        )
    report.count(source, read=int(malformed.sum()))  # the rest are counted by normalize_tables
    raw = raw[~malformed]
    out = pd.DataFrame(
        {
            ROW_COLUMN: raw[ROW_COLUMN],
            "model": raw["model"],
            "dataset": raw["target_dataset"],
            "estimator": raw["metric"].map(lambda m: _ESTIMATORS.get(m, m)),
            "value": raw["score"],
        }
    )
    numeric = pd.to_numeric(out["value"], errors="coerce")
    keys = ["model", "dataset", "estimator"]
    valid = out[keys].notna().all(axis=1) & numeric.notna()
    stats = (
        out[valid].assign(value=numeric[valid]).groupby(keys)["value"].agg(["min", "max", "mean"])
    )
    conflicting = stats[stats["max"] > stats["min"]]
    if len(conflicting):
        means = {tuple(k): float(m) for k, m in conflicting["mean"].items()}
        in_conflict = valid & pd.Series(
            [tuple(k) in means for k in out[keys].itertuples(index=False)], index=out.index
        )
        later = in_conflict & out[keys].duplicated()
        for i in out.index[in_conflict & ~later]:
            out.loc[i, "value"] = repr(means[tuple(out.loc[i, keys])])
        out = out[~later]
        report.count(source, read=int(later.sum()), accepted=int(later.sum()))  # merged
        spread = float((conflicting["max"] - conflicting["min"]).max())
        report.warnings.append(
            f"{os.fspath(path)}: {len(conflicting)} (model, dataset, estimator) scores were "
            f"computed more than once with different values (largest spread {spread:.3g}); "
            f"kept their mean and dropped {int(later.sum())} repeated row(s)."
        )
    return out.reset_index(drop=True)


def _datasets(
    features: pd.DataFrame,
    models: pd.DataFrame,
    records: pd.DataFrame,
    sims: pd.DataFrame | None,
    scores: pd.DataFrame | None,
    modality: str,
    report: IngestReport,
) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            ROW_COLUMN: features[ROW_COLUMN],
            "dataset": features["finetune_dataset"],
            "modality": modality,
            "n_samples": features["size"],
            "n_classes": features["number_of_classes"],
        }
    )
    listed = set(out["dataset"].dropna())
    referenced: list[str] = list(records["dataset"].dropna())
    if scores is not None:
        referenced += list(scores["dataset"].dropna())
    if sims is not None:
        referenced += list(sims["dataset_a"]) + list(sims["dataset_b"])
    extra = [d for d in dict.fromkeys(referenced) if d not in listed]
    rows = []
    for name in extra:
        labels = models.loc[models["trained_on"] == name, "n_labels"].dropna().unique()
        n_classes = labels[0] if len(labels) == 1 else None
        if n_classes is not None:
            report.notes.append(
                f"dataset {name!r} is not in target_dataset_features.csv; n_classes="
                f"{n_classes} taken from the #labels of models trained on it"
            )
        rows.append({ROW_COLUMN: 0, "dataset": name, "modality": modality, "n_classes": n_classes})
    if extra:
        report.notes.append(
            f"{len(extra)} dataset(s) referenced by records, scores or similarities but "
            "absent from target_dataset_features.csv were added with what is known "
            "(row 0 in this report means 'not from a file row')"
        )
    return pd.concat([out, pd.DataFrame(rows)], ignore_index=True) if rows else out
