"""Recommender fit/rank run on a deliberate thread count and restore the process's settings."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from threadpoolctl import ThreadpoolController

from kgtransfer.errors import ArgumentError
from kgtransfer.kg.tables import ZooTables
from kgtransfer.transfer.recommend import (
    PopularityRecommender,
    get_recommender_threads,
    recommender_threads,
    set_recommender_threads,
)


def _blas_threads() -> set[int]:
    return {i["num_threads"] for i in ThreadpoolController().select(user_api="blas").info()}


class _Spy(PopularityRecommender):
    """Records the torch and BLAS thread counts seen inside fit and rank."""

    seen: list[tuple[str, int, set[int]]]

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.seen = []

    def _fit(self, tables: ZooTables) -> None:
        self.seen.append(("fit", torch.get_num_threads(), _blas_threads()))
        if self.fail:
            raise RuntimeError("boom")
        super()._fit(tables)

    def _predict_z(self, dataset, models):
        self.seen.append(("rank", torch.get_num_threads(), _blas_threads()))
        return super()._predict_z(dataset, models)


@pytest.fixture
def zoo() -> ZooTables:
    recs = pd.DataFrame(
        {
            "model": list("abcabc"),
            "dataset": list("xxxyyy"),
            "value": [0.9, 0.5, 0.7, 0.8, 0.6, 0.7],
        }
    )
    return ZooTables(records=recs)


@pytest.fixture
def outer_threads():
    """The process runs 3 torch threads and 2 BLAS threads outside the recommenders."""
    old = torch.get_num_threads()
    torch.set_num_threads(3)
    blas = ThreadpoolController().limit(limits=2, user_api="blas")
    outer_blas = _blas_threads()
    yield outer_blas
    blas.restore_original_limits()
    torch.set_num_threads(old)


def test_fit_and_rank_use_one_thread_by_default_then_restore(zoo, outer_threads):
    assert get_recommender_threads() == 1
    rec = _Spy().fit(zoo)
    rec.rank("y")
    assert [s[:2] for s in rec.seen] == [("fit", 1), ("rank", 1)]
    assert all(s[2] <= {1} for s in rec.seen)
    assert torch.get_num_threads() == 3
    assert _blas_threads() == outer_threads


def test_context_manager_and_setter_change_the_count(zoo, outer_threads):
    with recommender_threads(2):
        rec = _Spy().fit(zoo)
    assert get_recommender_threads() == 1
    set_recommender_threads(None)  # leave the process's settings alone
    try:
        _Spy().fit(zoo)  # warm-up: nothing to check
        untouched = _Spy().fit(zoo)
    finally:
        set_recommender_threads(1)
    assert rec.seen[0][:2] == ("fit", 2)
    assert untouched.seen[0][:2] == ("fit", 3)
    assert untouched.seen[0][2] == outer_threads


def test_settings_restored_when_fit_raises(zoo, outer_threads):
    with pytest.raises(RuntimeError, match="boom"):
        _Spy(fail=True).fit(zoo)
    assert torch.get_num_threads() == 3
    assert _blas_threads() == outer_threads


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_thread_count_is_refused(bad):
    with pytest.raises(ArgumentError, match="positive integer"):
        set_recommender_threads(bad)
    assert get_recommender_threads() == 1


def test_cli_threads_option_sets_the_recommender_threads():
    from kgtransfer.cli.product import ThreadsOption, _threads

    old = torch.get_num_threads()
    try:
        _threads(2)
        assert get_recommender_threads() == 2
        assert torch.get_num_threads() == 2
    finally:
        set_recommender_threads(1)
        torch.set_num_threads(old)
    option = ThreadsOption.__metadata__[0]
    assert option.envvar == "KGTRANSFER_THREADS"
