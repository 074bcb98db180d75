"""A batch report from the graph: rank sources for many targets (one task per target), write
the report.

Each target's ranking is independent (with ``holdout=True`` the recommender is fitted
without that target's records, one fit per target), so the targets run through an
executor (:mod:`kgtransfer.executor`): in this process one after another, or in
parallel on Ray. The rankings come back to this process, which writes the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgtransfer.errors import ArgumentError
from kgtransfer.executor import Executor, executor_scope
from kgtransfer.kg.tables import as_tables
from kgtransfer.protocols import GraphLike, TablesLike
from kgtransfer.report.writer import write_report

if TYPE_CHECKING:
    from kgtransfer._api._recommend import Recommendation

__all__ = ["BatchReport", "report_targets"]


@dataclass
class BatchReport:
    """What :func:`report_targets` ranked and wrote.

    Attributes:
        recommendations: One ``Recommendation`` per target, in the order given.
        paths: ``{format: path}`` of the report files.
    """

    recommendations: list[Recommendation]
    paths: dict[str, Path]


def _rank_one(
    tables: Any, target: str, recommender: Any, params: Mapping[str, Any], holdout: bool, seed: int
) -> Any:
    """One target's ranking, wherever it runs (a fresh GNN per target unless one is given)."""
    from kgtransfer._api._recommend import recommend

    if recommender is None:
        from kgtransfer.transfer import GNNRecommender

        recommender = GNNRecommender(**params)
    return recommend(
        tables,
        target,
        k=None,
        recommender=recommender,
        exclude_target_records=holdout,
        seed=seed,
    )


def report_targets(
    graph: GraphLike | TablesLike,
    targets: Sequence[str],
    out_dir: str | Path,
    *,
    recommender_params: Mapping[str, object] | None = None,
    holdout: bool = True,
    seed: int = 0,
    k: int = 10,
    formats: Sequence[str] = ("html", "csv", "json", "md"),
    title: str = "kgtransfer recommendations",
    meta: Mapping[str, object] | None = None,
    executor: str | Executor | None = None,
    progress: bool = False,
) -> BatchReport:
    """Rank sources for each of ``targets`` with a GNN recommender and write one report.

    Args:
        graph: A ``ZooGraph`` or ``ZooTables``.
        targets: Dataset ids of the graph.
        out_dir: Folder of the report.
        recommender_params: ``GNNRecommender`` parameters (``seed`` defaults to ``seed``).
        holdout: Rank each target without its own records (one fit per target, each a
            task); False fits once on everything and ranks every target with it.
        seed: Seed of the recommenders.
        k: Candidates shown per target (see :func:`write_report`).
        formats: Report formats.
        title: Page title.
        meta: Facts shown under the title (seed and holdout are added).
        executor: Where the per-target rankings run: ``"serial"`` (default),
            ``"ray"`` or an :class:`~kgtransfer.executor.Executor`. Each task runs with
            this process's torch and recommender threads, so the report is the same.
        progress: A progress bar over the targets on stderr.

    Returns:
        A :class:`BatchReport`.

    Raises:
        ArgumentError: No targets.
        UnknownNameError: A target is not a dataset of the graph.

    Example:
        >>> report_targets(None, [], "out")
        Traceback (most recent call last):
        kgtransfer.errors.ArgumentError: targets is empty; pass dataset ids of the graph.
    """
    names = [str(t) for t in targets]
    if not names:
        raise ArgumentError("targets is empty; pass dataset ids of the graph.")
    tables = as_tables(graph)
    params: dict[str, Any] = {"seed": seed, **dict(recommender_params or {})}
    shared = None
    if not holdout:
        from kgtransfer.transfer import GNNRecommender

        shared = GNNRecommender(**params).fit(tables)
    tasks = [partial(_rank_one, tables, name, shared, params, holdout, seed) for name in names]
    recs: list[Any] = [None] * len(names)
    from tqdm.auto import tqdm

    with (
        executor_scope(executor) as ex,
        tqdm(total=len(names), desc="report targets", disable=not progress) as bar,
    ):
        for result in ex.map(tasks):
            recs[result.index] = result.get()
            bar.update()
    paths = write_report(
        recs,
        out_dir,
        formats=tuple(formats),
        title=title,
        k=k,
        meta={"seed": seed, "holdout": holdout, **dict(meta or {})},
    )
    return BatchReport(recommendations=recs, paths=paths)
