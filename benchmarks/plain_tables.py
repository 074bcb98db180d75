"""Turn each public benchmark zoo into the plain tables a user would write; writes CSVs.

    python benchmarks/plain_tables.py --shared ../shared/benchmarks --out /tmp/plain

writes ``/tmp/plain/<zoo>/models.csv, datasets.csv, records.csv`` plus
``similarities.csv`` and ``scores.csv`` where the zoo has them, with the canonical
column names of ``kgtransfer.kg.tables.COLUMNS``, ready for
``ZooGraph.from_tables(models=..., datasets=..., records=..., similarities=..., scores=...)``.
No kgtransfer adapter is involved: this is the yardstick of the public path
(``benchmarks/bench_recommender.py --plain /tmp/plain``). The source tables carry
no licence for redistribution: the output is for local use, never for the repo.

Conventions for every zoo: accuracies published in percent are divided by 100
(metric ``accuracy``, a fraction); ``n_classes`` comes from the zoo's own dataset
table where it has one, else from the public class counts of the named datasets
(``kgtransfer.kg.ingest.N_CLASSES``; unknown names stay empty), so the
product can flag chance-level runs from the tables alone; every record gets a
``run`` (the source file and row) so distinct runs of a pair never collide.

Column mapping per zoo (``source column -> plain column``):

====================  ============  ==========================================================
zoo                   table         mapping
====================  ============  ==========================================================
transfergraph-image   models        model_config_dataset.csv: model -> model, architectures
                                    (first of the list) -> architecture, model_type ->
                                    model_type, dataset -> trained_on, number_of_parameters ->
                                    n_params, #labels -> n_labels; modality "image", task
                                    "image-classification"
(image_classification datasets      target_dataset_features.csv: finetune_dataset -> dataset,
 folder)                            size -> n_samples, number_of_classes -> n_classes; datasets
                                    only referenced (records, similarities, trained_on) are
                                    added, with n_classes = the #labels of the models trained
                                    on them when those agree (food101: 101)
                      records       records.csv: model, finetuned_dataset -> dataset,
                                    eval_accuracy -> value (already a fraction), metric
                                    "accuracy", method "finetune", run = file row
                      similarities  corr_domain_similarity_<ref>.csv (distance matrices):
                                    one row per pair, distance, method = <ref>
                      scores        transferability_score_records.csv: model, target_dataset
                                    -> dataset, metric LOG_ME / REG_H_SCORE -> estimator logme /
                                    reg_hscore, score -> value; a pair scored twice keeps the
                                    mean
transfergraph-text    (all)         as image (sequence_classification folder; number_of_labels
                                    -> n_labels, modality "text", task "text-classification");
                                    records: peft_method lora -> method "lora", else
                                    "finetune"; the 4 malformed rows (finetuned_dataset 0.1,
                                    none, lora: shifted columns) and rows without a numeric
                                    eval_accuracy are dropped
parc                  models        all.csv: Architecture.Source Dataset -> model,
                                    Architecture -> architecture, Source Dataset -> trained_on
                      records       Target Dataset -> dataset, Oracle / 100 -> value
                                    (Oracle -1 = missing, dropped)
tllib                 models        model_selection_finetune_and_scores.csv: model ->
                                    model, trained_on "imagenet"
                      records       target_dataset -> dataset, finetuned_acc / 100 -> value
                      scores        HScore, LEEP, LogME, NCE -> estimator hscore, leep, logme,
                                    nce
sfda-<family>         models        <family>_finetune.csv: model -> model
(supervised_cnn,      records       target_dataset -> dataset, value / 100 -> value
 selfsupervised, vit)
model-spider          models        single_source_finetune.csv: model, pretrain_dataset ->
                                    trained_on; multi_source_finetune.csv: model,
                                    architecture, source_dataset -> trained_on
                      records       target_dataset -> dataset, finetune_acc / 100 -> value
                                    (metric "accuracy"); the regression targets dSprites and
                                    UTKFace publish negated errors: value = -finetune_acc
                                    with metric "error" (built in: lower is better)
                      scores        baseline_results.csv: Model -> model, Dataset -> dataset,
                                    each of the 9 score columns -> estimator (lower case;
                                    H-Score -> hscore, PACTranDirichlet -> pactran_dirichlet)
====================  ============  ==========================================================
"""

from __future__ import annotations

import argparse
import ast
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from kgtransfer.kg.ingest import N_CLASSES
from kgtransfer.kg.ingest._benchmarks import (
    _SPIDER_SCORES,  # one table of Model Spider's estimators
)

__all__ = ["PLAIN_ZOOS", "convert", "write_plain"]

Tables = dict[str, pd.DataFrame]


def _csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"expected {path}; is --shared the public benchmarks folder?")
    frame = pd.read_csv(path)
    return frame.drop(columns=[c for c in frame.columns if str(c).startswith("Unnamed: ")])


def _n_classes(name: str) -> float | None:
    n = N_CLASSES.get(str(name).lower())
    return float(n) if n is not None else None


def _datasets(names: list[str], modality: str = "image") -> pd.DataFrame:
    names = list(dict.fromkeys(str(n) for n in names))
    return pd.DataFrame(
        {"dataset": names, "modality": modality, "n_classes": [_n_classes(n) for n in names]}
    )


def _runs(prefix: str, n: int) -> list[str]:
    return [f"{prefix}#{i + 1}" for i in range(n)]


# ---------------------------------------------------------------- TransferGraph
def _architecture(value: object) -> object:
    text = str(value).strip()
    if text.startswith("["):
        try:
            items = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        return str(items[0]) if items else None
    return None if text in ("", "nan") else text


def _transfergraph(shared: Path, zoo: str) -> Tables:
    sub, modality = {
        "image": ("image_classification", "image"),
        "text": ("sequence_classification", "text"),
    }[zoo]
    path = shared / "transfergraph" / sub
    raw = _csv(path / "model_config_dataset.csv")
    labels = "#labels" if "#labels" in raw.columns else "number_of_labels"
    models = pd.DataFrame(
        {
            "model": raw["model"].astype(str),
            "architecture": raw["architectures"].map(_architecture),
            "model_type": raw["model_type"],
            "trained_on": raw["dataset"],
            "task": f"{modality}-classification",
            "modality": modality,
            "n_params": pd.to_numeric(raw["number_of_parameters"], errors="coerce"),
            "n_labels": pd.to_numeric(raw[labels], errors="coerce"),
        }
    ).drop_duplicates("model")
    feats = _csv(path / "target_dataset_features.csv")
    rec = _csv(path / "records.csv")
    value = pd.to_numeric(rec["eval_accuracy"], errors="coerce")
    keep = rec["finetuned_dataset"].isin(set(feats["finetune_dataset"]) | {"food101"})
    keep &= value.notna() & rec["model"].notna()
    records = pd.DataFrame(
        {
            "model": rec["model"].astype(str),
            "dataset": rec["finetuned_dataset"].astype(str),
            "value": value,
            "metric": "accuracy",
            "method": (
                rec["peft_method"].fillna("").str.strip().str.lower().str.startswith("lor")
                .map({True: "lora", False: "finetune"})
                if "peft_method" in rec.columns
                else "finetune"
            ),
            "run": _runs("records.csv", len(rec)),
        }
    )[keep.to_numpy()]  # fmt: skip
    sims = []
    for file in sorted(path.glob("corr_domain_similarity_*.csv")):
        matrix = pd.read_csv(file, index_col=0)
        names = [str(c) for c in matrix.columns]
        for i, a in enumerate(matrix.index.astype(str)):
            for j in range(len(names)):
                if names[j] <= a and names[j] in matrix.index.astype(str):
                    continue  # each unordered pair once
                d = matrix.iat[i, j]
                if pd.notna(d) and a != names[j]:
                    sims.append(
                        (a, names[j], float(d), file.stem.split("corr_domain_similarity_")[1])
                    )
    similarities = pd.DataFrame(sims, columns=["dataset_a", "dataset_b", "distance", "method"])
    similarities = similarities.drop_duplicates(["dataset_a", "dataset_b", "method"])
    sc = _csv(path / "transferability_score_records.csv")
    est = sc["metric"].map(
        {"TransferabilityMethod.LOG_ME": "logme", "TransferabilityMethod.REG_H_SCORE": "reg_hscore"}
    )
    scores = pd.DataFrame(
        {
            "model": sc["model"].astype(str),
            "dataset": sc["target_dataset"].astype(str),
            "estimator": est,
            "value": pd.to_numeric(sc["score"], errors="coerce"),
        }
    ).dropna()
    scores = scores.groupby(["model", "dataset", "estimator"], as_index=False)["value"].mean()
    scores = scores[scores["model"].isin(set(models["model"]))]
    # datasets: the features file, then every other name the tables reference
    datasets = pd.DataFrame(
        {
            "dataset": feats["finetune_dataset"].astype(str),
            "modality": modality,
            "n_samples": pd.to_numeric(feats["size"], errors="coerce"),
            "n_classes": pd.to_numeric(feats["number_of_classes"], errors="coerce"),
        }
    )
    referenced = (
        list(records["dataset"]) + list(scores["dataset"]) + list(similarities["dataset_a"])
        + list(similarities["dataset_b"]) + list(models["trained_on"].dropna().astype(str))
    )  # fmt: skip
    extra = [d for d in dict.fromkeys(referenced) if d not in set(datasets["dataset"])]
    counts = []
    for name in extra:
        n = models.loc[models["trained_on"] == name, "n_labels"].dropna().unique()
        counts.append(float(n[0]) if len(n) == 1 else None)
    datasets = pd.concat(
        [datasets, pd.DataFrame({"dataset": extra, "modality": modality, "n_classes": counts})],
        ignore_index=True,
    )
    return {
        "models": models,
        "datasets": datasets,
        "records": records,
        "similarities": similarities,
        "scores": scores,
    }


# ----------------------------------------------------------- the smaller zoos
def _parc(shared: Path) -> Tables:
    raw = _csv(shared / "parc" / "all.csv")
    raw = raw.assign(
        model=raw["Architecture"].str.strip() + "." + raw["Source Dataset"].str.strip()
    )
    models = pd.DataFrame(
        {
            "model": raw["model"],
            "architecture": raw["Architecture"],
            "trained_on": raw["Source Dataset"],
            "modality": "image",
        }
    ).drop_duplicates("model")
    ok = pd.to_numeric(raw["Oracle"], errors="coerce") >= 0
    records = pd.DataFrame(
        {
            "model": raw["model"],
            "dataset": raw["Target Dataset"],
            "value": pd.to_numeric(raw["Oracle"], errors="coerce") / 100.0,
            "metric": "accuracy",
            "run": _runs("parc/all.csv", len(raw)),
        }
    )[ok.to_numpy()]
    return {"models": models, "datasets": _datasets(records["dataset"]), "records": records}


def _tllib(shared: Path) -> Tables:
    raw = _csv(shared / "tllib" / "model_selection_finetune_and_scores.csv")
    models = pd.DataFrame({"model": raw["model"], "trained_on": "imagenet", "modality": "image"})
    records = pd.DataFrame(
        {
            "model": raw["model"],
            "dataset": raw["target_dataset"],
            "value": pd.to_numeric(raw["finetuned_acc"]) / 100.0,
            "metric": "accuracy",
            "run": _runs("tllib", len(raw)),
        }
    )
    scores = _melt(raw, "model", "target_dataset", {"HScore": "hscore", "LEEP": "leep",
                                                      "LogME": "logme", "NCE": "nce"})  # fmt: skip
    return {
        "models": models.drop_duplicates("model"),
        "datasets": _datasets(records["dataset"]),
        "records": records,
        "scores": scores,
    }


def _melt(raw: pd.DataFrame, model: str, dataset: str, cols: dict[str, str]) -> pd.DataFrame:
    parts = [
        pd.DataFrame(
            {
                "model": raw[model],
                "dataset": raw[dataset],
                "estimator": est,
                "value": pd.to_numeric(raw[col], errors="coerce"),
            }
        )
        for col, est in cols.items()
        if col in raw.columns
    ]
    return pd.concat(parts, ignore_index=True).dropna()


def _sfda(shared: Path, family: str) -> Tables:
    raw = _csv(shared / "sfda" / f"{family}_finetune.csv")
    records = pd.DataFrame(
        {
            "model": raw["model"],
            "dataset": raw["target_dataset"],
            "value": pd.to_numeric(raw["value"]) / 100.0,
            "metric": "accuracy",
            "run": _runs(f"sfda/{family}", len(raw)),
        }
    )
    models = pd.DataFrame({"model": raw["model"].drop_duplicates(), "modality": "image"})
    return {"models": models, "datasets": _datasets(records["dataset"]), "records": records}


_SPIDER_REGRESSION = frozenset({"dSprites", "UTKFace"})


def _model_spider(shared: Path) -> Tables:
    path = shared / "model-spider"
    single = _csv(path / "single_source_finetune.csv")
    multi = _csv(path / "multi_source_finetune.csv")
    models = pd.concat(
        [
            pd.DataFrame({"model": single["model"], "trained_on": single["pretrain_dataset"]}),
            pd.DataFrame(
                {
                    "model": multi["model"],
                    "architecture": multi["architecture"],
                    "trained_on": multi["source_dataset"],
                }
            ),
        ],
        ignore_index=True,
    ).drop_duplicates("model")
    models["modality"] = "image"
    regression = single["target_dataset"].isin(_SPIDER_REGRESSION)
    acc = pd.to_numeric(single["finetune_acc"])
    records = pd.concat(
        [
            pd.DataFrame(
                {
                    "model": single["model"],
                    "dataset": single["target_dataset"],
                    "value": acc.where(~regression, -acc).where(regression, acc / 100.0),
                    "metric": regression.map({True: "error", False: "accuracy"}),
                    "run": _runs("model-spider/single", len(single)),
                }
            ),
            pd.DataFrame(
                {
                    "model": multi["model"],
                    "dataset": multi["target_dataset"],
                    "value": pd.to_numeric(multi["finetune_acc"]) / 100.0,
                    "metric": "accuracy",
                    "run": _runs("model-spider/multi", len(multi)),
                }
            ),
        ],
        ignore_index=True,
    )
    base = _csv(path / "baseline_results.csv")
    scores = _melt(base, "Model", "Dataset", _SPIDER_SCORES)
    return {
        "models": models,
        "datasets": _datasets(list(records["dataset"]) + list(scores["dataset"])),
        "records": records,
        "scores": scores,
    }


#: Plain zoo name -> converter of the shared folder.
PLAIN_ZOOS: dict[str, Callable[[Path], Tables]] = {
    "transfergraph-image": lambda s: _transfergraph(s, "image"),
    "transfergraph-text": lambda s: _transfergraph(s, "text"),
    "parc": _parc,
    "tllib": _tllib,
    "model-spider": _model_spider,
    "sfda-supervised_cnn": lambda s: _sfda(s, "supervised_cnn"),
    "sfda-selfsupervised": lambda s: _sfda(s, "selfsupervised"),
    "sfda-vit": lambda s: _sfda(s, "vit"),
}


def convert(zoo: str, shared: Path) -> Tables:
    """The plain tables of ``zoo`` (a key of :data:`PLAIN_ZOOS`) read from ``shared``."""
    if zoo not in PLAIN_ZOOS:
        raise KeyError(f"unknown zoo {zoo!r}; choose from {sorted(PLAIN_ZOOS)}")
    return PLAIN_ZOOS[zoo](Path(shared))


def write_plain(zoo: str, shared: Path, out: Path) -> dict[str, str]:
    """Write the plain tables of ``zoo`` to ``out/<zoo>/<table>.csv``; returns the paths."""
    folder = Path(out) / zoo
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in convert(zoo, shared).items():
        if len(frame):
            path = folder / f"{name}.csv"
            frame.to_csv(path, index=False)
            paths[name] = str(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--zoos", default="all", help="comma-separated zoo names or 'all'")
    args = parser.parse_args()
    zoos = list(PLAIN_ZOOS) if args.zoos == "all" else args.zoos.split(",")
    print(json.dumps({zoo: write_plain(zoo, args.shared, args.out) for zoo in zoos}, indent=2))


if __name__ == "__main__":
    main()
