"""Benchmark the source-model recommenders on the public zoos; prints JSON.

    python benchmarks/bench_recommender.py --shared ../shared/benchmarks --out bench_recommender.json

Runs leave-one-target-out on TransferGraph image and text (the paper's 8 targets
and all targets), PARC, TLlib, Model Spider and the SFDA families; writes the
full JSON to --out and a Markdown table beside it (``.md``). Also times the GNN
fit on the image zoo and ``rank`` over 10,000 candidates after fit.

The public path, from plain tables (``benchmarks/plain_tables.py``)::

    python benchmarks/plain_tables.py --shared ../shared/benchmarks --out /tmp/plain
    python benchmarks/bench_recommender.py --plain /tmp/plain --out plain.json

reads each ``/tmp/plain/<zoo>/`` with ``ZooGraph.from_tables(models=..., datasets=...,
records=..., similarities=..., scores=...)`` (no adapter) and evaluates the default
``GNNRecommender`` and every baseline (``--methods``; ``score:*`` = each estimator the
zoo has scores of, a baseline without its inputs is n/a) over all targets, and over
the paper's 8 targets for the TransferGraph zoos (a subset of the same
leave-one-target-out run). Metrics per target and their means: Pearson, weighted τ,
top-1 relative accuracy, top-1 regret (points for accuracies), interval coverage;
``calibration`` per method: the 90 % interval's coverage over all held-out pairs with
its 95 % binomial band, and the negative-transfer probability's Brier score and
reliability table where scratch values are known (else n/a).

Cross-zoo mode (nested leave-one-zoo-out; no setting is chosen on the zoo it is
reported on)::

    python benchmarks/bench_recommender.py --plain /tmp/plain --cross-zoo \
        --candidates default --cache-dir /tmp/crosszoo --out crosszoo.json

``--candidates`` is a preset name (``default``: the plain GNN ``{"stack": false}``,
the stacked default ``{}`` and the stack without the GNN ``{"stack_gnn": false}``)
or a JSON list of ``GNNRecommender`` parameter dicts. Every candidate is evaluated
leave-one-target-out on every zoo (all targets) and once the baselines; each
(candidate, zoo) result is one JSON file in ``--cache-dir``, so an interrupted run
resumes and several processes can share the work (``--zoos`` / ``--candidates``
subsets). Then for each zoo Z the candidate with the best mean rank among the
candidates over the four metrics (Pearson, weighted τ, top-1 relative, top-1
regret) on the OTHER zoos is chosen, and Z is reported with it, next to the best
applicable baseline per metric on Z (``win`` per metric: the chosen GNN is at
least as good). ``--report-only`` skips missing cells instead of computing them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from kgtransfer.kg.tables import ZooTables
from kgtransfer.transfer.recommend import GNNRecommender
from kgtransfer.transfer.recommend._data import truth_table
from kgtransfer.transfer.recommend.benchmarks import (
    BASELINES,
    BENCHMARK_ZOOS,
    PAPER_TARGETS,
    load_benchmark_zoo,
    markdown_table,
    run_benchmark,
    subset_results,
    summary_table,
)

METHODS = ["gnn", *BASELINES]


def _synthetic_zoo(n_models: int, seed: int = 0) -> ZooTables:
    rng = np.random.default_rng(seed)
    models = [f"m{i}" for i in range(n_models)]
    datasets = [f"d{j}" for j in range(12)]
    quality = rng.normal(size=n_models)
    rows = []
    for d in datasets:
        keep = rng.random(n_models) < 0.2
        for m, q in zip(np.array(models)[keep], quality[keep], strict=True):
            rows.append((m, d, float(0.7 + 0.05 * q + rng.normal(0, 0.02))))
    recs = pd.DataFrame(rows, columns=["model", "dataset", "value"])
    meta = pd.DataFrame({"model": models, "n_params": rng.uniform(1e6, 1e9, n_models)})
    return ZooTables(models=meta, records=recs)


def timings(shared: Path, seed: int) -> dict[str, float]:
    image = load_benchmark_zoo("transfergraph-image", shared)
    start = time.perf_counter()
    GNNRecommender(seed=seed).fit(image, exclude_datasets=["dtd"])
    fit_image = time.perf_counter() - start
    big = _synthetic_zoo(10_000, seed)
    rec = GNNRecommender(seed=seed, epochs=20, n_ensemble=5).fit(big, exclude_datasets=["d0"])
    rec.rank("d0", n_evidence=0)  # first call builds the embedding cache
    lat = []
    for _ in range(5):
        start = time.perf_counter()
        rec.rank("d0", n_evidence=5)
        lat.append(time.perf_counter() - start)
    return {
        "fit_seconds_image_zoo": fit_image,
        "rank_ms_10000_candidates": 1000 * float(np.median(lat)),
    }


def plain(folder: Path, zoos: list[str] | None, methods: list[str], seed: int) -> dict:
    """Leave-one-target-out on each ``folder/<zoo>/`` through ``ZooGraph.from_tables``."""
    from kgtransfer.kg import ZooGraph

    names = zoos or sorted(p.name for p in folder.iterdir() if (p / "records.csv").is_file())
    runs: dict[str, object] = {}
    md: list[str] = []
    for zoo in names:
        files = {
            t: str(folder / zoo / f"{t}.csv")
            for t in ("models", "datasets", "records", "similarities", "scores")
            if (folder / zoo / f"{t}.csv").is_file()
        }
        start = time.perf_counter()
        graph = ZooGraph()
        report = graph.add_tables(**files)  # what from_tables does, keeping the report
        res = run_benchmark(graph, methods, params={"gnn": {"seed": seed}})
        seconds = time.perf_counter() - start
        runs[f"{zoo}/all"] = res
        splits = [("all", res)]
        if zoo in PAPER_TARGETS:
            runs[f"{zoo}/paper"] = subset_results(res, PAPER_TARGETS[zoo])
            splits.append(("paper", runs[f"{zoo}/paper"]))
        runs[f"{zoo}/ingest"] = {
            "tables": {k: Path(v).name for k, v in files.items()},
            "suspect_records_flagged": len(report.flagged),
            "rejected_rows": len(report.rejections),
            "seconds_total": seconds,
        }
        print(f"{zoo} done in {seconds:.0f}s", file=sys.stderr)
        for split, r in splits:
            for subset in ("", "logme"):
                table = summary_table(r, subset=subset)
                numeric = table.drop(columns=["method", "targets"]).apply(
                    pd.to_numeric, errors="coerce"
                )
                if table.empty or numeric.isna().all().all():
                    continue
                title = f"{zoo}/{split} (plain tables; " + (
                    "models with a LogME score)" if subset else "all models with a record)"
                )
                md += [f"### {title}", "", markdown_table(table), ""]
        graph.close()
    return {"runs": runs, "markdown": md}


#: Candidate presets of ``--cross-zoo`` (GNNRecommender parameter dicts).
CANDIDATES: dict[str, list[dict]] = {
    "default": [{"stack": False}, {}, {"stack_gnn": False}],
}
_METRICS = ("pearson", "weighted_tau", "top1_relative", "top1_regret_points")
_LOWER_BETTER = {"top1_regret_points"}


def _zoo_graph(folder: Path, zoo: str) -> Any:
    from kgtransfer.kg import ZooGraph

    files = {
        t: str(folder / zoo / f"{t}.csv")
        for t in ("models", "datasets", "records", "similarities", "scores")
        if (folder / zoo / f"{t}.csv").is_file()
    }
    return ZooGraph.from_tables(**files)


def _cell_summary(res: dict, zoo: str) -> dict:
    """Means (all targets, and the paper's 8 where defined) and calibration of one run."""
    out = {
        "all": res.get("mean"),
        "calibration": res.get("calibration"),
        "targets": res.get("targets"),
        "fit_seconds": res.get("fit_seconds"),
    }
    if zoo in PAPER_TARGETS and "targets" in res:
        out["paper"] = subset_results({"m": res}, PAPER_TARGETS[zoo])["m"]["mean"]
    return out


def cross_zoo(
    folder: Path,
    zoos: list[str] | None,
    candidates: list[dict],
    cache: Path,
    seed: int,
    report_only: bool = False,
    skip_baselines: bool = False,
    max_targets: int = 0,
) -> dict:
    """Nested leave-one-zoo-out over ``candidates``; see the module docstring."""
    import hashlib

    from kgtransfer._io import atomic_write_bytes

    all_zoos = sorted(p.name for p in folder.iterdir() if (p / "records.csv").is_file())
    run_zoos = zoos or all_zoos
    cache.mkdir(parents=True, exist_ok=True)

    def cell_path(key: str, zoo: str) -> Path:
        sub = "" if key == "baselines" or not max_targets else f"|max_targets={max_targets}"
        digest = hashlib.sha1((key + sub).encode()).hexdigest()[:10]
        return cache / f"{zoo}__{digest}.json"

    def zoo_targets(graph: Any, zoo: str) -> list[str] | None:
        """All targets, or the first ``max_targets`` (the paper's first where defined)."""
        if not max_targets:
            return None
        truth = truth_table(graph.to_tables(), regime="any")
        counts = truth.values.groupby("dataset").size()
        names = sorted(counts.index[counts >= 3])
        first = [t for t in PAPER_TARGETS.get(zoo, []) if t in names]
        return (first + [t for t in names if t not in first])[:max_targets]

    keys = [json.dumps({"seed": seed, **c}, sort_keys=True) for c in candidates]
    cells: dict[tuple[str, str], dict] = {}
    order = [z for z in run_zoos if z in all_zoos] + [z for z in all_zoos if z not in run_zoos]
    for zoo in order:
        for key in [*keys, *([] if skip_baselines else ["baselines"])]:
            path = cell_path(key, zoo)
            if not path.is_file() and max_targets:  # a cell over all targets serves too
                full = cache / f"{zoo}__{hashlib.sha1(key.encode()).hexdigest()[:10]}.json"
                path = full if full.is_file() else path
            if path.is_file():
                cells[(key, zoo)] = json.loads(path.read_text())["result"]
                continue
            if report_only or zoo not in run_zoos:
                continue
            graph = _zoo_graph(folder, zoo)
            start = time.perf_counter()
            if key == "baselines":
                res = run_benchmark(graph, list(BASELINES))
                result = {m: _cell_summary(r, zoo) for m, r in res.items() if "mean" in r}
            else:
                params = json.loads(key)
                res = run_benchmark(
                    graph, ["gnn"], targets=zoo_targets(graph, zoo), params={"gnn": params}
                )["gnn"]
                result = _cell_summary(res, zoo)
            graph.close()
            print(f"{zoo} {key}: {time.perf_counter() - start:.0f}s", file=sys.stderr)
            payload = {"zoo": zoo, "candidate": key, "result": result}
            atomic_write_bytes(path, json.dumps(payload, indent=1).encode())
            cells[(key, zoo)] = result

    for zoo in all_zoos:  # compare every cell of a zoo over the same targets
        zoo_cells = [(k, z) for (k, z) in cells if z == zoo]
        common = None
        for k, z in zoo_cells:
            parts = cells[(k, z)].values() if k == "baselines" else [cells[(k, z)]]
            for part in parts:
                ts = {r["target"] for r in part.get("targets") or [] if "n/a" not in r}
                if k != "baselines":
                    common = ts if common is None else common & ts
        if common is None:
            continue
        for k, z in zoo_cells:
            parts = cells[(k, z)].values() if k == "baselines" else [cells[(k, z)]]
            for part in parts:
                rows = {"m": {"targets": part.get("targets") or [], "mean": {}}}
                part["all"] = subset_results(rows, sorted(common))["m"]["mean"]
                if zoo in PAPER_TARGETS:
                    paper = [t for t in PAPER_TARGETS[zoo] if t in common]
                    part["paper"] = subset_results(rows, paper)["m"]["mean"]
                part["n_targets"] = len(common)

    def ranks(zoo: str) -> list[float] | None:
        """Mean rank of each candidate over the four metrics on ``zoo`` (all targets)."""
        if not all((k, zoo) in cells for k in keys):
            return None
        per = np.zeros(len(keys))
        for metric in _METRICS:
            vals = np.array([cells[(k, zoo)]["all"][metric] for k in keys], dtype=float)
            if metric not in _LOWER_BETTER:
                vals = -vals
            per += pd.Series(vals).rank(method="average").to_numpy()
        return list(per / len(_METRICS))

    report: dict[str, dict] = {}
    md = [
        "| zoo (split) | chosen on the other zoos | Pearson | wτ | top-1 rel. | regret | "
        "best baseline (P / wτ / top-1 / regret) | wins | coverage |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for zoo in all_zoos:
        others = [z for z in all_zoos if z != zoo and ranks(z) is not None]
        if not others or not all((k, zoo) in cells for k in keys):
            continue
        score = np.mean([ranks(z) for z in others], axis=0)
        chosen = int(np.argmin(score))
        base = cells.get(("baselines", zoo), {})
        for split in ("all", "paper"):
            mine = cells[(keys[chosen], zoo)].get(split)
            if mine is None:
                continue
            best: dict[str, tuple[str, float]] = {}
            for name, r in base.items():
                m = r.get(split) or {}
                for metric in _METRICS:
                    v = m.get(metric)
                    if v is None:
                        continue
                    lower = metric in _LOWER_BETTER
                    if metric not in best or (
                        v < best[metric][1] if lower else v > best[metric][1]
                    ):
                        best[metric] = (name, float(v))
            wins = {
                metric: (
                    mine[metric] <= best[metric][1] + 1e-9
                    if metric in _LOWER_BETTER
                    else mine[metric] >= best[metric][1] - 1e-9
                )
                for metric in _METRICS
                if metric in best and mine.get(metric) is not None
            }
            cal = cells[(keys[chosen], zoo)].get("calibration") or {}
            interval = cal.get("interval", {})
            report[f"{zoo}/{split}"] = {
                "chosen": json.loads(keys[chosen]),
                "selection_mean_rank_on_other_zoos": dict(
                    zip(keys, map(float, score), strict=True)
                ),
                "metrics": mine,
                "best_baseline": best,
                "wins": wins,
                "calibration": cal if split == "all" else None,
            }
            cov = (
                f"{interval.get('coverage', float('nan')):.3f} "
                f"[{interval['band95'][0]:.3f}, {interval['band95'][1]:.3f}]"
                if split == "all" and interval.get("band95")
                else ""
            )
            bb = " / ".join(
                f"{best[m][1]:.3f} ({best[m][0]})" if m in best else "n/a" for m in _METRICS
            )
            md.append(
                f"| {zoo} ({split}) | `{keys[chosen]}` | "
                + " | ".join(f"{mine[m]:.3f}" for m in _METRICS)
                + f" | {bb} | {sum(wins.values())}/{len(wins)} | {cov} |"
            )
    md += [
        "",
        "In-zoo (every candidate and baseline on the same targets; P / wτ / top-1 / regret):",
        "",
    ]
    md += ["| zoo (targets) | method | Pearson | wτ | top-1 rel. | regret | coverage |"]
    md += ["|---|---|---|---|---|---|---|"]
    for zoo in all_zoos:
        rows = [(f"candidate {i}", cells.get((k, zoo))) for i, k in enumerate(keys)]
        rows += sorted((cells.get(("baselines", zoo)) or {}).items())
        for name, part in rows:
            if not part or not part.get("all"):
                continue
            mean = part["all"]
            cov = mean.get("coverage")  # mean over the same targets
            md.append(
                f"| {zoo} ({part.get('n_targets', '')}) | {name} | "
                + " | ".join("–" if mean.get(m) is None else f"{mean[m]:.3f}" for m in _METRICS)
                + f" | {'' if cov is None else f'{cov:.3f}'} |"
            )
    return {"candidates": keys, "report": report, "markdown": md}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared",
        type=Path,
        default=Path(os.environ.get("KGTRANSFER_SHARED_BENCHMARKS", "../shared/benchmarks")),
    )
    parser.add_argument("--out", type=Path, default=Path("bench_recommender.json"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--zoos", default="all", help="comma-separated zoo names or 'all'")
    parser.add_argument(
        "--split",
        choices=["both", "paper", "all"],
        default="both",
        help="targets: the TransferGraph paper's 8 ('paper'), every target ('all') or both",
    )
    parser.add_argument(
        "--methods", default=",".join(METHODS), help="comma-separated recommender names"
    )
    parser.add_argument(
        "--regime",
        default="any",
        help="training regime of the ground truth: 'any' (default: best non-suspect run per "
        "(model, target)), 'own' (each target's own regime) or a label of kgtransfer.kg.regime_of",
    )
    parser.add_argument("--no-timings", action="store_true")
    parser.add_argument(
        "--plain",
        type=Path,
        default=None,
        help="folder of plain tables per zoo (benchmarks/plain_tables.py --out): public path",
    )
    parser.add_argument("--cross-zoo", action="store_true", help="nested leave-one-zoo-out")
    parser.add_argument(
        "--candidates", default="default", help="preset name or JSON list of param dicts"
    )
    parser.add_argument("--cache-dir", type=Path, default=Path("crosszoo_cache"))
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument(
        "--max-targets",
        type=int,
        default=0,
        help="cross-zoo: evaluate the candidates on the first N targets of each zoo (the "
        "paper's first); every cell is then compared over the targets all candidates ran",
    )
    parser.add_argument(
        "--skip-baselines",
        action="store_true",
        help="cross-zoo: leave the baselines to another run",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    methods = args.methods.split(",")
    if args.cross_zoo:
        if args.plain is None:
            parser.error("--cross-zoo needs --plain (the plain tables of every zoo)")
        cands = (
            CANDIDATES[args.candidates]
            if args.candidates in CANDIDATES
            else json.loads(args.candidates)
        )
        res = cross_zoo(
            args.plain,
            None if args.zoos == "all" else args.zoos.split(","),
            cands,
            args.cache_dir,
            args.seed,
            report_only=args.report_only,
            skip_baselines=args.skip_baselines,
            max_targets=args.max_targets,
        )
        args.out.write_text(json.dumps({k: v for k, v in res.items() if k != "markdown"}, indent=2))
        args.out.with_suffix(".md").write_text("\n".join(res["markdown"]))
        print("\n".join(res["markdown"]))
        return
    if args.plain is not None:
        res = plain(
            args.plain, None if args.zoos == "all" else args.zoos.split(","), methods, args.seed
        )
        payload = {"seed": args.seed, "path": "plain tables -> ZooGraph.from_tables", **res}
        md = payload.pop("markdown")
        args.out.write_text(json.dumps(payload, indent=2))
        args.out.with_suffix(".md").write_text("\n".join(md))
        print("\n".join(md))
        return
    zoos = list(BENCHMARK_ZOOS) if args.zoos == "all" else args.zoos.split(",")
    out: dict[str, object] = {"seed": args.seed, "regime": args.regime, "runs": {}}
    md: list[str] = []
    for zoo in zoos:
        tables = load_benchmark_zoo(zoo, args.shared)
        splits = (
            [("paper", PAPER_TARGETS[zoo]), ("all", None)]
            if zoo in PAPER_TARGETS
            else [("all", None)]
        )
        splits = [sp for sp in splits if args.split in ("both", sp[0])]
        for split, targets in splits:
            start = time.perf_counter()
            res = run_benchmark(
                tables,
                methods,
                targets=targets,
                params={"gnn": {"seed": args.seed}},
                regime=None if args.regime == "own" else args.regime,
            )
            key = f"{zoo}/{split}"
            out["runs"][key] = res  # type: ignore[index]
            print(f"{key} done in {time.perf_counter() - start:.0f}s", file=sys.stderr)
            for subset in ("", "logme"):
                table = summary_table(res, subset=subset)
                if table.empty or table.drop(columns=["method", "targets"]).isna().all().all():
                    continue
                title = f"{key}" + (
                    " (models with a LogME score)" if subset else " (all models with a record)"
                )
                md += [f"### {title}", "", markdown_table(table), ""]
    if not args.no_timings:
        out["timings"] = timings(args.shared, args.seed)
        md += ["### timings", "", json.dumps(out["timings"]), ""]
    args.out.write_text(json.dumps(out, indent=2))
    args.out.with_suffix(".md").write_text("\n".join(md))
    print(
        json.dumps(
            {k: v for k, v in out.items() if k != "runs"}
            | {"markdown": str(args.out.with_suffix(".md"))}
        )
    )


if __name__ == "__main__":
    main()
