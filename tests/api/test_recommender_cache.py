"""The default recommender is fitted once per graph state and reused from the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kgtransfer import recommend
from kgtransfer._api import _cache
from kgtransfer._api._cache import cache_dir, cached_fit
from kgtransfer.kg.tables import ZooTables
from kgtransfer.transfer import GNNRecommender


def _tables(shift: float = 0.0) -> ZooTables:
    rng = np.random.default_rng(0)
    rows = [(f"m{i}", f"d{j}", float(rng.uniform(0.3, 0.9))) for i in range(12) for j in range(5)]
    recs = pd.DataFrame(rows, columns=["model", "dataset", "value"])
    recs.loc[0, "value"] += shift
    return ZooTables(records=recs)


def _small() -> GNNRecommender:
    return GNNRecommender(epochs=3, n_ensemble=1, stack_folds=2, seed=0)


def test_second_fit_on_the_same_graph_comes_from_the_cache() -> None:
    first, how1 = cached_fit(_small, _tables(), ["d0"])
    second, how2 = cached_fit(_small, _tables(), ["d0"])
    assert (how1, how2) == ("fitted", "cached")
    pd.testing.assert_frame_equal(first.rank("d0"), second.rank("d0"))


def test_any_change_to_the_graph_or_the_held_out_datasets_refits() -> None:
    cached_fit(_small, _tables(), ["d0"])
    assert cached_fit(_small, _tables(shift=0.01), ["d0"])[1] == "fitted"
    assert cached_fit(_small, _tables(), ["d1"])[1] == "fitted"
    other = lambda: GNNRecommender(epochs=4, n_ensemble=1, stack_folds=2, seed=0)  # noqa: E731
    assert cached_fit(other, _tables(), ["d0"])[1] == "fitted"


def test_a_damaged_entry_is_refitted_and_replaced() -> None:
    cached_fit(_small, _tables(), ["d0"])
    root = cache_dir()
    assert root is not None
    (entry,) = [p for p in root.iterdir() if p.is_dir()]
    (entry / "config.json").write_text("{ not json", encoding="utf-8")
    assert cached_fit(_small, _tables(), ["d0"])[1] == "fitted"
    assert cached_fit(_small, _tables(), ["d0"])[1] == "cached"


def test_the_cache_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KGTRANSFER_RECOMMENDER_CACHE", "off")
    assert cache_dir() is None
    assert cached_fit(_small, _tables(), ["d0"])[1] == "fitted"
    assert cached_fit(_small, _tables(), ["d0"])[1] == "fitted"


def test_only_the_newest_entries_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cache, "KEEP", 2)
    for shift in (0.0, 0.01, 0.02):
        cached_fit(_small, _tables(shift), ["d0"])
    root = cache_dir()
    assert root is not None
    assert len([p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]) == 2
    assert cached_fit(_small, _tables(0.02), ["d0"])[1] == "cached"
    assert cached_fit(_small, _tables(0.0), ["d0"])[1] == "fitted"  # the oldest went


def test_recommend_reuses_the_fit_and_says_so(tmp_path: Path) -> None:
    first = recommend(_tables(), "d0", k=3)
    second = recommend(_tables(), "d0", k=3)
    assert first.metadata["recommender_status"] == "fitted"
    assert second.metadata["recommender_status"] == "cached"
    pd.testing.assert_frame_equal(first.frame, second.frame)
