"""The declarative zoo spec: validation, hashes, seeds and the built-in specs' shape."""

from __future__ import annotations

import pytest

from kgtransfer.errors import UnknownNameError
from kgtransfer.zoo import (
    DEFAULT_ZOO,
    TINY_ZOO,
    Budget,
    SourceSpec,
    TargetSpec,
    ZooSpec,
    get_zoo_spec,
    zoo_sources,
    zoo_targets,
)


def test_default_zoo_meets_the_brief() -> None:
    sources = DEFAULT_ZOO.sources
    assert len(sources) >= 24
    assert len({s.dataset for s in sources}) >= 6
    assert len({s.arch.split("_w")[0] for s in sources}) >= 3
    finetunes = [s for s in sources if s.base_model]
    assert len(finetunes) >= 4
    # siblings: two fine-tunes of one base (weight averaging is meaningful)
    bases = [s.base_model for s in finetunes]
    assert any(bases.count(b) >= 2 for b in bases)
    assert len(DEFAULT_ZOO.targets) >= 6
    assert not {t.dataset for t in DEFAULT_ZOO.targets} & {s.dataset for s in sources}
    assert all(s.name.count(".") == 1 for s in sources)


def test_tiny_zoo_shape() -> None:
    assert zoo_sources(TINY_ZOO) == [
        "mlp.digits",
        "mlp.digits_ft_rotated",
        "cnn_small.digits",
        "cnn_small.digits_rotated",
    ]
    assert zoo_targets(TINY_ZOO) == ["digits_blurred", "digits_5to9"]
    assert TINY_ZOO.source("mlp.digits_ft_rotated").base_model == "mlp.digits"


def test_name_must_be_arch_dot_tag() -> None:
    with pytest.raises(ValueError, match=r"'mlpdigits' is not of the form 'arch.tag'"):
        SourceSpec("mlpdigits", "digits")


def test_base_must_come_first_and_share_the_architecture() -> None:
    ft = SourceSpec("mlp.ft", "digits_rotated", base_model="mlp.base")
    with pytest.raises(ValueError, match=r"base_model 'mlp.base', which is not defined before"):
        ZooSpec("x", (ft, SourceSpec("mlp.base", "digits")), ())
    with pytest.raises(ValueError, match=r"arch 'cnn_small'.*use the same architecture"):
        ZooSpec(
            "x",
            (
                SourceSpec("mlp.base", "digits"),
                SourceSpec("cnn_small.ft", "digits_rotated", "mlp.base"),
            ),
            (),
        )


def test_duplicates_and_seen_targets_are_refused() -> None:
    src = SourceSpec("mlp.a", "digits")
    with pytest.raises(ValueError, match=r"Duplicate source 'mlp\.a'"):
        ZooSpec("x", (src, src), ())
    with pytest.raises(ValueError, match="Target 'digits' is also a source dataset"):
        ZooSpec("x", (src,), (TargetSpec("digits"),))
    with pytest.raises(ValueError, match="Duplicate target 'wine'"):
        ZooSpec("x", (src,), (TargetSpec("wine"), TargetSpec("wine")))


def test_bad_budget_and_target_values() -> None:
    with pytest.raises(ValueError, match="epochs must be an int >= 1, got 0"):
        Budget(epochs=0)
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got -1"):
        Budget(lr=-1)
    with pytest.raises(ValueError, match="n_per_class must be an int >= 1, got 0"):
        TargetSpec("wine", n_per_class=0)


def test_unknown_names_suggest_close_ones() -> None:
    with pytest.raises(UnknownNameError, match=r"Did you mean 'mlp.digits'"):
        TINY_ZOO.source("mlp.digit")
    with pytest.raises(UnknownNameError, match=r"Did you mean 'digits_5to9'"):
        TINY_ZOO.target("digits_5to8")
    with pytest.raises(UnknownNameError, match=r"Unknown zoo spec 'tinny'.*'tiny'"):
        get_zoo_spec("tinny")


def test_entry_hash_chains_through_the_base() -> None:
    h = TINY_ZOO.entry_hash
    assert h("mlp.digits", 0) == h("mlp.digits", 0)
    assert h("mlp.digits", 0) != h("mlp.digits", 1)
    changed = ZooSpec(
        "tiny",
        (SourceSpec("mlp.digits", "digits", budget=Budget(epochs=99)), *TINY_ZOO.sources[1:]),
        TINY_ZOO.targets,
        TINY_ZOO.grid_budget,
    )
    # editing the base changes its fine-tune's hash, and nothing else's
    assert changed.entry_hash("mlp.digits_ft_rotated", 0) != h("mlp.digits_ft_rotated", 0)
    assert changed.entry_hash("cnn_small.digits", 0) == h("cnn_small.digits", 0)


def test_source_seed_depends_only_on_seed_and_name() -> None:
    reordered = ZooSpec(
        "r", tuple(reversed(TINY_ZOO.sources[2:])) + TINY_ZOO.sources[:2], TINY_ZOO.targets
    )
    for name in zoo_sources(TINY_ZOO):
        assert reordered.source_seed(name, 3) == TINY_ZOO.source_seed(name, 3)
    assert TINY_ZOO.source_seed("mlp.digits", 0) != TINY_ZOO.source_seed("mlp.digits", 1)
    assert TINY_ZOO.source_seed("mlp.digits", 0) != TINY_ZOO.source_seed("cnn_small.digits", 0)
