"""The grid's scratch baseline is one training, with the numbers evaluate_transfer's gives."""

from __future__ import annotations

import pytest
import torch

from kgtransfer.transfer import evaluate_transfer
from kgtransfer.zoo import TINY_ZOO, load_target
from kgtransfer.zoo._runs import _fresh_target, run_scratch


class _CountingAdam(torch.optim.Adam):
    made = 0

    def __init__(self, *args, **kwargs) -> None:
        type(self).made += 1
        super().__init__(*args, **kwargs)


@pytest.mark.parametrize("arch", ["mlp", "cnn_small"])
def test_scratch_run_trains_once_and_matches_the_baseline(
    arch: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, test = load_target(TINY_ZOO, "digits_5to9", seed=0)
    budget = TINY_ZOO.grid_budget
    monkeypatch.setattr(torch.optim, "Adam", _CountingAdam)
    _CountingAdam.made = 0
    outcome = run_scratch(arch, train, test, budget=budget, seed=0)
    assert _CountingAdam.made == 1  # one training (was a throwaway fine-tune + the baseline)
    assert outcome.status == "ok" and outcome.hparams["method"] == "scratch"
    # the same number as evaluate_transfer's scratch baseline from the same fresh model
    fresh = _fresh_target(arch, train, 0)
    ref = evaluate_transfer("finetune", fresh, fresh, train, test, budget=budget, seed=0)
    assert outcome.accuracy == ref.scratch_accuracy
    assert outcome.split == ref.provenance["split"]
