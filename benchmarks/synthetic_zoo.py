"""A seeded synthetic zoo of fine-tuned checkpoints with lineage and task/domain; writes CSVs.

    python benchmarks/synthetic_zoo.py --seed 0 --out /tmp/plain/synthetic
    python benchmarks/bench_recommender.py --plain /tmp/plain --zoos synthetic --out synth.json

    # the built-in zoo, as the same plain tables (built by kgtransfer zoo build + zoo grid)
    python benchmarks/synthetic_zoo.py --from-graph ~/.cache/kgtransfer/graph --out /tmp/plain/builtin

writes ``models.csv, datasets.csv, records.csv`` (and ``similarities.csv`` with
``--similarities``) in the plain-tables layout of ``benchmarks/plain_tables.py``, with
the canonical column names of ``kgtransfer.kg.tables.COLUMNS`` (plus the input-only
``base_model`` / ``base_model_relation`` of the models table), ready for
``ZooGraph.from_tables(models=..., datasets=..., records=...)``.

It stands for the common case the public zoos lack: a hub of fine-tuned checkpoints
whose value on a target comes from their lineage and from what they were trained on.
A **mechanism check, not a tuning set**: nothing in the recommender may be chosen on it.

The zoo (all draws from one ``numpy.random.default_rng(seed)``):

- **Families**: ``--n-families`` base-model families (architecture + model type), each
  with 1-3 pretrained bases of different sizes (``n_params`` log-uniform in
  [1e7, 3e9]); family quality ``q_f ~ N(0, 1)``.
- **Descendants**: the other models derive from an existing model (``base_model``), the
  parent drawn with weight ``(1 + children)^1.2 * 0.6^depth`` (preferential attachment:
  heavy-tailed fan-out, mostly shallow, some deep chains), relation ``finetune`` (60 %),
  ``adapter`` (20 %), ``quantized`` (10 %) or ``merge`` (10 %: two parents of one family,
  ``"a; b"``). A descendant inherits its parent's offset plus ``N(0, 0.3)`` (adapter
  -0.1, quantized -0.3, merge +0.1) and its size (a quantized model keeps ``n_params``).
  Fine-tunes, adapters and merges are trained on a source dataset (``trained_on``).
- **Datasets**: ``--n-datasets`` targets and half as many source datasets (trained on,
  never evaluated), each with a task family (6) and a domain (6), ``n_classes`` and
  ``n_samples``.
- **True value** of model ``m`` on target ``t``::

      z = q_family + 0.35 * size_z + offset_m
          + 0.9 * [task(m) = task(t)] + 0.5 * [domain(m) = domain(t)] + N(0, 0.25)
      value = chance_t + (1 - chance_t) * sigmoid(level_t + 0.7 * z)

  where ``task(m)``/``domain(m)`` are those of the dataset ``m`` (or its nearest
  fine-tuned ancestor) was trained on (a pretrained base has none) and ``chance_t =
  1 / n_classes``.
- **Records**: a sparse subset, about ``--density`` of the (model, target) pairs, with a
  log-normal per-model popularity (some models evaluated everywhere, most rarely); every
  target keeps at least 5 models.
- **Similarities** (``--similarities``): ``0.5 [same task] + 0.3 [same domain] +
  U(0, 0.2)`` between every two datasets; off by default (the real hub has none).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kgtransfer.kg.tables import COLUMNS

__all__ = [
    "DOMAINS",
    "RELATION_SHARES",
    "TASKS",
    "export_graph",
    "generate",
    "lineage_depths",
    "write_zoo",
]

TASKS = ("sentiment", "topic", "nli", "toxicity", "emotion", "intent")
DOMAINS = ("news", "social", "reviews", "biomedical", "legal", "finance")
#: Lineage relation of a descendant and its probability.
RELATION_SHARES = {"finetune": 0.6, "adapter": 0.2, "quantized": 0.1, "merge": 0.1}
_RELATION_OFFSET = {"finetune": 0.0, "adapter": -0.1, "quantized": -0.3, "merge": 0.1}
_SIZES = ("small", "base", "large")
_MIN_PER_TARGET = 5


def _datasets(rng: np.random.Generator, n: int, prefix: str) -> pd.DataFrame:
    tasks = rng.choice(TASKS, size=n)
    domains = rng.choice(DOMAINS, size=n)
    return pd.DataFrame(
        {
            "dataset": [
                f"{prefix}{j:03d}-{t}-{d}"
                for j, (t, d) in enumerate(zip(tasks, domains, strict=True))
            ],
            "task": tasks,
            "domain": domains,
            "modality": "text",
            "n_classes": rng.choice([2, 3, 4, 5, 6, 10, 20], size=n).astype(float),
            "n_samples": np.round(10 ** rng.uniform(3, 5.5, size=n)),
        }
    )


def _bases(rng: np.random.Generator, n_families: int) -> list[dict[str, Any]]:
    rows = []
    for f in range(n_families):
        n_sizes = int(rng.integers(1, 4))
        sizes = np.sort(10 ** rng.uniform(7, np.log10(3e9), size=n_sizes))
        quality = float(rng.normal())
        for size_name, n_params in zip(_SIZES[3 - n_sizes :], sizes, strict=True):
            rows.append(
                {
                    "model": f"fam{f}/fam{f}-{size_name}",
                    "architecture": f"Fam{f}ForSequenceClassification",
                    "model_type": f"fam{f}",
                    "n_params": float(np.round(n_params)),
                    "family": f,
                    "family_quality": quality,
                    "offset": 0.0,
                    "depth": 0,
                    "parents": [],
                    "relation": None,
                    "trained_on": None,
                }
            )
    return rows


def _descendants(
    rng: np.random.Generator, models: list[dict[str, Any]], n_models: int, sources: pd.DataFrame
) -> None:
    children = np.zeros(n_models)
    depth = np.zeros(n_models)
    kinds = list(RELATION_SHARES)
    shares = np.array([RELATION_SHARES[k] for k in kinds])
    while len(models) < n_models:
        n = len(models)
        w = (1.0 + children[:n]) ** 1.2 * 0.6 ** depth[:n]
        parent = int(rng.choice(n, p=w / w.sum()))
        relation = str(rng.choice(kinds, p=shares))
        parents = [parent]
        if relation == "merge":
            same = [i for i, m in enumerate(models) if m["family"] == models[parent]["family"]]
            others = [i for i in same if i != parent]
            if not others:
                relation = "finetune"
            else:
                parents.append(int(rng.choice(others)))
        p = models[parent]
        trained_on = p["trained_on"]
        if relation in ("finetune", "adapter", "merge"):
            trained_on = str(rng.choice(sources["dataset"]))
        for i in parents:
            children[i] += 1
        idx = len(models)
        depth[idx] = max(models[i]["depth"] for i in parents) + 1
        offset = np.mean([models[i]["offset"] for i in parents])
        models.append(
            {
                "model": f"user{rng.integers(0, 200):03d}/{p['model'].split('/')[1]}"
                f"-{relation[:2]}{idx:05d}",
                "architecture": p["architecture"],
                "model_type": p["model_type"],
                "n_params": p["n_params"],
                "family": p["family"],
                "family_quality": p["family_quality"],
                "offset": float(offset + rng.normal(0, 0.3) + _RELATION_OFFSET[relation]),
                "depth": int(depth[idx]),
                "parents": [models[i]["model"] for i in parents],
                "relation": relation,
                "trained_on": trained_on,
            }
        )


def generate(
    seed: int = 0,
    n_models: int = 400,
    n_datasets: int = 24,
    density: float = 0.15,
    *,
    n_families: int = 6,
    similarities: bool = False,
) -> dict[str, pd.DataFrame]:
    """The synthetic zoo's plain tables (``models``, ``datasets``, ``records`` and
    optionally ``similarities``) plus ``truth``: the latent value of every
    (model, target) pair (for checks; never written as a table the recommender reads).

    Same arguments, same tables (one seeded generator, no global state).
    """
    if n_datasets < 2 or n_models < n_families * 3 or not 0 < density <= 1:
        raise ValueError(
            f"need n_datasets >= 2, n_models >= 3 * n_families and 0 < density <= 1; got "
            f"n_datasets={n_datasets}, n_models={n_models}, density={density}"
        )
    rng = np.random.default_rng(seed)
    targets = _datasets(rng, n_datasets, "t")
    sources = _datasets(rng, max(2, n_datasets // 2), "s")
    rows = _bases(rng, n_families)
    _descendants(rng, rows, n_models, sources)
    meta = pd.DataFrame(rows)
    logp = np.log10(meta["n_params"].to_numpy(dtype=float))
    size_z = (logp - logp.mean()) / (logp.std() or 1.0)
    attrs = pd.concat([targets, sources]).set_index("dataset")
    m_task = meta["trained_on"].map(attrs["task"]).to_numpy(dtype=object)
    m_domain = meta["trained_on"].map(attrs["domain"]).to_numpy(dtype=object)
    prior = (meta["family_quality"] + 0.35 * size_z + meta["offset"]).to_numpy(dtype=float)
    level = rng.normal(0.5, 0.7, size=n_datasets)
    truth_rows = []
    for j, t in enumerate(targets.itertuples(index=False)):
        match = 0.9 * (m_task == t.task) + 0.5 * (m_domain == t.domain)
        z = prior + match.astype(float) + rng.normal(0, 0.25, size=len(meta))
        chance = 1.0 / t.n_classes
        value = chance + (1 - chance) / (1 + np.exp(-(level[j] + 0.7 * z)))
        truth_rows.append(
            pd.DataFrame({"model": meta["model"], "dataset": t.dataset, "value": value})
        )
    truth = pd.concat(truth_rows, ignore_index=True)
    popularity = rng.lognormal(0.0, 1.0, size=len(meta))
    p_pair = np.clip(density * popularity / popularity.mean(), 0.0, 1.0)
    keep = rng.random((n_datasets, len(meta))) < p_pair[None, :]
    for j in range(n_datasets):  # every target keeps enough models to rank
        if keep[j].sum() < _MIN_PER_TARGET:
            keep[j, rng.choice(len(meta), size=_MIN_PER_TARGET, replace=False)] = True
    records = truth.loc[keep.reshape(-1)].copy()
    records["value"] = records["value"].round(4)
    records["metric"] = "accuracy"
    records["method"] = "finetune"
    records["run"] = [f"synthetic#{i + 1}" for i in range(len(records))]
    models = pd.DataFrame(
        {
            "model": meta["model"],
            "architecture": meta["architecture"],
            "model_type": meta["model_type"],
            "trained_on": meta["trained_on"],
            "task": "text-classification",
            "modality": "text",
            "n_params": meta["n_params"],
            "base_model": ["; ".join(p) if p else None for p in meta["parents"]],
            "base_model_relation": meta["relation"],
        }
    )
    out = {
        "models": models,
        "datasets": pd.concat([targets, sources], ignore_index=True),
        "records": records.reset_index(drop=True),
        "truth": truth,
    }
    if similarities:
        names = out["datasets"]
        a, b = np.triu_indices(len(names), k=1)
        same_task = names["task"].to_numpy()[a] == names["task"].to_numpy()[b]
        same_domain = names["domain"].to_numpy()[a] == names["domain"].to_numpy()[b]
        out["similarities"] = pd.DataFrame(
            {
                "dataset_a": names["dataset"].to_numpy()[a],
                "dataset_b": names["dataset"].to_numpy()[b],
                "similarity": 0.5 * same_task + 0.3 * same_domain + rng.uniform(0, 0.2, len(a)),
                "method": "synthetic",
            }
        )
    return out


def lineage_depths(models: pd.DataFrame) -> pd.Series:
    """Depth of each model in the ``base_model`` forest (a base is 0), from the models table."""
    parents = {
        str(m): [p.strip() for p in str(b).split(";")]
        for m, b in zip(models["model"], models["base_model"], strict=True)
        if isinstance(b, str) and b.strip()
    }
    depth: dict[str, int] = {}

    def of(m: str) -> int:
        if m not in depth:
            depth[m] = 1 + max(of(p) for p in parents[m]) if m in parents else 0
        return depth[m]

    return pd.Series({str(m): of(str(m)) for m in models["model"]})


def write_zoo(out: Path, **kwargs: Any) -> dict[str, str]:
    """Write the zoo's tables (not ``truth``) as CSVs into ``out``; returns ``{table: path}``."""
    out.mkdir(parents=True, exist_ok=True)
    tables = generate(**kwargs)
    paths = {}
    for name, frame in tables.items():
        if name == "truth":
            continue
        path = out / f"{name}.csv"
        frame.to_csv(path, index=False)
        paths[name] = str(path)
    return paths


def export_graph(path: Path, out: Path) -> dict[str, str]:
    """Write the kgtransfer graph at ``path`` (e.g. the built-in zoo's ``HOME/graph`` after
    ``kgtransfer zoo build`` and ``kgtransfer zoo grid``) as plain tables into ``out``.

    Lineage goes back into the models table (``base_model``, ``base_model_relation``);
    records keep their canonical columns only (numeric extras such as ``gain`` are
    derived from the values); similarities and scores are written when the graph has
    them. Returns ``{table: path}``.
    """
    from kgtransfer.kg import ZooGraph

    graph = ZooGraph.open(path)
    try:
        tables = graph.to_tables()
    finally:
        graph.close()
    lineage = tables.lineage.dropna(subset=["model", "base_model"])
    bases = lineage.groupby("model")["base_model"].agg(lambda b: "; ".join(sorted(b)))
    relation = lineage.groupby("model")["relation"].first()
    models = tables.models.copy()
    models["base_model"] = models["model"].map(bases)
    models["base_model_relation"] = models["model"].map(relation)
    frames = {
        "models": models,
        "datasets": tables.datasets,
        "records": tables.records[list(COLUMNS["records"])],
        "similarities": tables.similarities,
        "scores": tables.scores,
    }
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, frame in frames.items():
        if len(frame):
            frame.to_csv(out / f"{name}.csv", index=False)
            paths[name] = str(out / f"{name}.csv")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-models", type=int, default=400)
    parser.add_argument("--n-datasets", type=int, default=24, help="target datasets")
    parser.add_argument("--n-families", type=int, default=6)
    parser.add_argument("--density", type=float, default=0.15, help="share of pairs with a record")
    parser.add_argument("--similarities", action="store_true", help="also write similarities.csv")
    parser.add_argument("--out", type=Path, default=Path("/tmp/plain/synthetic"))
    parser.add_argument(
        "--from-graph",
        type=Path,
        default=None,
        help="instead of generating, export this kgtransfer graph folder (e.g. the built-in "
        "zoo's HOME/graph) as plain tables into --out",
    )
    args = parser.parse_args()
    if args.from_graph is not None:
        print(json.dumps({"tables": export_graph(args.from_graph, args.out)}, indent=2))
        return
    paths = write_zoo(
        args.out,
        seed=args.seed,
        n_models=args.n_models,
        n_datasets=args.n_datasets,
        density=args.density,
        n_families=args.n_families,
        similarities=args.similarities,
    )
    models = pd.read_csv(paths["models"])
    records = pd.read_csv(paths["records"])
    depths = lineage_depths(models)
    print(
        json.dumps(
            {
                "tables": paths,
                "n_models": len(models),
                "n_records": len(records),
                "n_targets": int(records["dataset"].nunique()),
                "max_lineage_depth": int(depths.max()),
                "relations": models["base_model_relation"].value_counts().to_dict(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
