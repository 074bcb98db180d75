"""The demo: the whole job on the built-in zoo, from an empty home to a batch report."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from kgtransfer._api._recommend import Recommendation, recommend
from kgtransfer._api._transfer import Evaluation, evaluate, transfer_from
from kgtransfer._api._versions import versions
from kgtransfer.errors import TransferError
from kgtransfer.executor import Executor, executor_scope
from kgtransfer.zoo import ZooSpec

__all__ = ["DemoResult", "run_demo"]


@dataclass
class DemoResult:
    """What :func:`run_demo` did.

    Attributes:
        recommendations: One :class:`Recommendation` per held-out target.
        evaluations: The transfer of each target's top source, judged against scratch
            and the best source in hindsight.
        summary: One row per target (recommended source, predicted value and gain,
            risk, transferred accuracy, scratch, gain, best in hindsight, regret).
        report: ``{format: path}`` of the written report.
        seconds: Wall time per stage (``build``, ``grid``, ``recommend``, ``transfer``,
            ``report``).
    """

    recommendations: list[Recommendation]
    evaluations: list[Evaluation]
    summary: pd.DataFrame
    report: dict[str, Path]
    seconds: dict[str, float] = field(default_factory=dict)


def _summary_row(rec: Recommendation, ev: Evaluation) -> dict[str, Any]:
    top = rec.frame.iloc[0]
    return {
        "target": rec.target,
        "recommended": rec.best,
        "predicted": float(top["predicted"]),
        "predicted_gain": None if pd.isna(top["predicted_gain"]) else float(top["predicted_gain"]),
        "risk": None if pd.isna(top["risk"]) else float(top["risk"]),
        "transferred": ev.accuracy,
        "scratch": ev.scratch_accuracy,
        "gain": ev.gain,
        "best_in_hindsight": ev.best_in_hindsight,
        "best_value": ev.best_value,
        "regret": ev.regret,
        "source_rank": ev.source_rank,
    }


def run_demo(
    home: str | Path,
    out_dir: str | Path,
    *,
    spec: ZooSpec | None = None,
    seed: int = 0,
    k: int = 5,
    gnn_params: Mapping[str, object] | None = None,
    progress: bool = False,
    executor: str | Executor | None = None,
) -> DemoResult:
    """Build (or reuse) the built-in zoo and graph, run the grid, and for each target:
    recommend sources with a GNN fitted without that target's records
    (leave-one-target-out), fine-tune the top source with the grid's budget, judge it
    against scratch and the best source in hindsight, and write the batch report.

    Args:
        home: kgtransfer home (zoo checkpoints, grid, graph); created if missing.
        out_dir: Folder of the report.
        spec: A :class:`kgtransfer.zoo.ZooSpec` (default ``DEFAULT_ZOO``).
        seed: Seed of the zoo, grid, recommender and transfers.
        k: Candidates shown per target.
        gnn_params: ``GNNRecommender`` parameters (default its own).
        progress: Progress bars on stderr.
        executor: Where the grid's runs and the per-target jobs (recommend, then
            fine-tune) execute: ``"serial"`` (default), ``"ray"`` or an
            :class:`~kgtransfer.executor.Executor`. The results come back to this
            process, which alone writes the graph and the report; a target's job reads
            the checkpoints under ``home`` (on a remote cluster, a shared folder).

    Returns:
        A :class:`DemoResult`.

    Example:
        >>> from kgtransfer.zoo import TINY_ZOO
        >>> result = run_demo(home, "reports", spec=TINY_ZOO)  # doctest: +SKIP
        >>> result.summary[["target", "recommended", "gain", "regret"]]  # doctest: +SKIP
    """
    from kgtransfer.kg import ZooGraph
    from kgtransfer.zoo import DEFAULT_ZOO, build_zoo, run_grid, zoo_targets

    spec = DEFAULT_ZOO if spec is None else spec
    seconds: dict[str, float] = {}
    with executor_scope(executor) as ex:
        t0 = time.perf_counter()
        built = build_zoo(home, spec=spec, seed=seed, progress=progress)
        seconds["build"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_grid(home, spec=spec, seed=seed, progress=progress, executor=ex)
        seconds["grid"] = time.perf_counter() - t0
        with ZooGraph.open(built.graph_path, read_only=True) as graph:
            tables = graph.to_tables()
        targets = zoo_targets(spec)
        params: dict[str, Any] = {"seed": seed, **(gnn_params or {})}
        tasks = [
            partial(_demo_target, tables, target, home=home, spec=spec, seed=seed, params=params)
            for target in targets
        ]
        outcomes: list[Any] = [None] * len(targets)
        bar = tqdm(total=len(targets), desc="demo targets", disable=not progress)
        for done in ex.map(tasks):
            outcomes[done.index] = done.get()
            bar.update()
        bar.close()
    recs: list[Recommendation] = []
    evals: list[Evaluation] = []
    seconds["recommend"] = seconds["transfer"] = 0.0
    for rec, result, skipped, timing in outcomes:
        if skipped:
            rec.metadata["notes"].append(
                f"{len(skipped)} higher-ranked source(s) could not be fine-tuned: "
                + "; ".join(skipped)
            )
        t0 = time.perf_counter()
        evals.append(evaluate(result, tables, recommendation=rec))
        seconds["recommend"] += timing["recommend"]
        seconds["transfer"] += timing["transfer"] + time.perf_counter() - t0
        recs.append(rec)
    t0 = time.perf_counter()
    summary = pd.DataFrame([_summary_row(r, e) for r, e in zip(recs, evals, strict=True)])
    report = _write(recs, evals, out_dir, spec=spec, seed=seed, k=k, home=home, params=params)
    seconds["report"] = time.perf_counter() - t0
    return DemoResult(
        recommendations=recs, evaluations=evals, summary=summary, report=report, seconds=seconds
    )


def _demo_target(
    tables: Any, target: str, *, home: str | Path, spec: Any, seed: int, params: dict[str, Any]
) -> tuple[Recommendation, Any, list[str], dict[str, float]]:
    """One target of the demo, wherever it runs: recommend with a GNN fitted without the
    target's records, then fine-tune the best source that can take the target (loaded
    from ``home``). Nothing is written; the caller evaluates and reports."""
    from kgtransfer.transfer import GNNRecommender
    from kgtransfer.zoo import load_target, load_zoo_model

    t0 = time.perf_counter()
    rec = recommend(
        tables,
        target,
        k=None,
        recommender=GNNRecommender(**params),
        exclude_target_records=True,
        seed=seed,
    )
    t1 = time.perf_counter()
    train, test = load_target(spec, target, seed)
    result, skipped = None, []
    for source in rec.frame["model"].astype(str):  # the best that can take the target
        try:
            result = transfer_from(
                load_zoo_model(home, source),
                None,
                (train, test),
                method="finetune",
                budget=spec.grid_budget,
                seed=seed,
                source_name=source,
                target_name=target,
            )
            break
        except (TransferError, ValueError, RuntimeError) as exc:
            skipped.append(f"{source}: {str(exc).splitlines()[0] if str(exc) else exc!r}")
    if result is None:
        raise TransferError(
            f"No recommended source could be fine-tuned on {target!r}: {skipped[0]}"
        )
    timing = {"recommend": t1 - t0, "transfer": time.perf_counter() - t1}
    return rec, result, skipped, timing


def _write(
    recs: list[Recommendation],
    evals: list[Evaluation],
    out_dir: str | Path,
    *,
    spec: Any,
    seed: int,
    k: int,
    home: str | Path,
    params: dict[str, Any],
) -> dict[str, Path]:
    from kgtransfer.report import write_report

    regrets = [e.regret for e in evals if e.regret is not None]
    gains = [e.gain for e in evals if e.gain is not None]
    meta = {
        "zoo": spec.name,
        "seed": seed,
        "protocol": "leave-one-target-out: each target's records hidden from the recommender",
        "transfer": f"fine-tune the top source, grid budget {spec.grid_budget.to_dict()}",
        "mean_regret": round(sum(regrets) / len(regrets), 4) if regrets else None,
        "mean_gain_over_scratch": round(sum(gains) / len(gains), 4) if gains else None,
        "recommender": f"GNNRecommender({params})",
        "home": str(home),
        "versions": ", ".join(f"{a} {b}" for a, b in versions().items()),
    }
    return write_report(
        recs,
        out_dir,
        title=f"kgtransfer demo: {spec.name} zoo",
        summaries=[e.summary() for e in evals],
        k=k,
        meta=meta,
    )
