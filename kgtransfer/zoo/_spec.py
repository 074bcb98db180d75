"""The declarative zoo spec: which source models to train and which few-shot targets to test.

A :class:`ZooSpec` is plain, frozen data. :func:`~kgtransfer.zoo.build_zoo` trains
its sources, :func:`~kgtransfer.zoo.run_grid` transfers every source to every
target. Each source entry has a content hash (:meth:`ZooSpec.entry_hash`) that
also covers its base model's entry, so editing a base retrains its fine-tunes and
nothing else.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kgtransfer.errors import did_you_mean
from kgtransfer.transfer.methods import Budget
from kgtransfer.zoo._paths import plain_name

__all__ = [
    "DEFAULT_ZOO",
    "TINY_ZOO",
    "ZOO_FORMAT",
    "ZOO_SPECS",
    "Budget",
    "SourceSpec",
    "TargetSpec",
    "ZooSpec",
    "get_zoo_spec",
    "zoo_sources",
    "zoo_targets",
]

#: Bumped when the meaning of a spec entry changes (invalidates every cache).
#: 2: derived datasets split by their pool of samples (no test image of a target was a
#: training image of a source).
ZOO_FORMAT = 2

#: A source's default training budget (a grid's default is ``Budget()``: 30 epochs of 32).
SOURCE_BUDGET = Budget(epochs=20, batch_size=64)


@dataclass(frozen=True)
class SourceSpec:
    """One source model of the zoo.

    Attributes:
        name: Zoo name ``arch.tag``; ``arch`` is a :func:`~kgtransfer.models.list_models` key.
        dataset: The :func:`~kgtransfer.data.list_datasets` name it is trained on.
        base_model: Name of another source of the same architecture to start from
            (a fine-tune: lineage ``base_model`` with relation ``finetune``), or None.
        budget: Its training budget.
        arch_kwargs: Extra keyword arguments for ``create_model`` (sorted pairs).

    Example:
        >>> SourceSpec("mlp.digits", "digits").arch
        'mlp'
    """

    name: str
    dataset: str
    base_model: str | None = None
    budget: Budget = SOURCE_BUDGET
    arch_kwargs: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        arch, dot, tag = self.name.partition(".")
        if not (arch and dot and tag):
            raise ValueError(
                f"Zoo model name {self.name!r} is not of the form 'arch.tag' "
                "(e.g. 'cnn_small.digits'); rename it."
            )
        plain_name(self.name, what="zoo model name")  # it names a folder under the home

    @property
    def arch(self) -> str:
        """The architecture (registry key), the part before the first dot."""
        return self.name.partition(".")[0]

    @property
    def architecture(self) -> str:
        """``arch``, plus its keyword arguments when any: ``cnn1d(width=16)``.

        The grid trains one scratch baseline per distinct architecture label.
        """
        if not self.arch_kwargs:
            return self.arch
        return f"{self.arch}(" + ",".join(f"{k}={v}" for k, v in self.arch_kwargs) + ")"

    def to_dict(self) -> dict[str, Any]:
        """The entry as a JSON-ready dict (hashed for caching)."""
        return {
            "name": self.name,
            "arch": self.arch,
            "dataset": self.dataset,
            "base_model": self.base_model,
            "budget": self.budget.to_dict(),
            "arch_kwargs": {k: v for k, v in self.arch_kwargs},
        }


@dataclass(frozen=True)
class TargetSpec:
    """One few-shot target of the grid.

    Attributes:
        dataset: The :func:`~kgtransfer.data.list_datasets` name; also the target's id
            in the graph.
        n_per_class: Size of the seeded few-shot training split per class; the test
            split is the dataset's held-out ``"test"`` split.

    Example:
        >>> TargetSpec("digits_blurred").n_per_class
        10
    """

    dataset: str
    n_per_class: int = 10

    def __post_init__(self) -> None:
        plain_name(self.dataset, what="zoo target name")  # it names a file under the home
        if not (isinstance(self.n_per_class, int) and self.n_per_class >= 1):
            raise ValueError(
                f"TargetSpec({self.dataset!r}).n_per_class must be an int >= 1, "
                f"got {self.n_per_class!r}."
            )

    @property
    def name(self) -> str:
        """The target's name (its dataset name)."""
        return self.dataset

    def to_dict(self) -> dict[str, Any]:
        """The entry as a JSON-ready dict."""
        return {"dataset": self.dataset, "n_per_class": self.n_per_class}


_E = TypeVar("_E", SourceSpec, TargetSpec)


def _named(entries: Iterable[_E], name: str, *, what: str, hint: str) -> _E:
    """The entry called ``name``, else ``UnknownNameError`` with close names and ``hint``."""
    entries = list(entries)
    for entry in entries:
        if entry.name == name:
            return entry
    raise did_you_mean(name, [e.name for e in entries], what=what, hint=hint)


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class ZooSpec:
    """A whole zoo: sources (bases before their fine-tunes), targets and the grid budget.

    Attributes:
        name: A label for the spec (recorded in provenance).
        sources: Source models; a fine-tune's base must come earlier in the tuple.
        targets: Few-shot target datasets, none of them a source's training dataset.
        grid_budget: Budget of every transfer and scratch run of the grid.
        methods: Transfer methods run by the grid (names accepted by
            :func:`kgtransfer.transfer.evaluate_transfer`).

    Raises:
        ValueError: Duplicate names, a base defined later or of another architecture,
            or a target that is also a source dataset.

    Example:
        >>> [s.name for s in TINY_ZOO.sources][:2]
        ['mlp.digits', 'mlp.digits_ft_rotated']
    """

    name: str
    sources: tuple[SourceSpec, ...]
    targets: tuple[TargetSpec, ...]
    grid_budget: Budget = field(default_factory=Budget)
    methods: tuple[str, ...] = ("finetune",)

    def __post_init__(self) -> None:
        seen: dict[str, SourceSpec] = {}
        for src in self.sources:
            if src.name in seen:
                raise ValueError(f"Duplicate source {src.name!r} in zoo spec {self.name!r}.")
            if src.base_model is not None:
                base = seen.get(src.base_model)
                if base is None:
                    raise ValueError(
                        f"Source {src.name!r} has base_model {src.base_model!r}, which is not "
                        f"defined before it in zoo spec {self.name!r}; list the base first."
                    )
                if base.arch != src.arch:
                    raise ValueError(
                        f"Source {src.name!r} (arch {src.arch!r}) cannot fine-tune base "
                        f"{base.name!r} of arch {base.arch!r}; use the same architecture."
                    )
            seen[src.name] = src
        source_datasets = {s.dataset for s in self.sources}
        target_names: set[str] = set()
        for tgt in self.targets:
            if tgt.name in target_names:
                raise ValueError(f"Duplicate target {tgt.name!r} in zoo spec {self.name!r}.")
            if tgt.dataset in source_datasets:
                raise ValueError(
                    f"Target {tgt.dataset!r} is also a source dataset in zoo spec "
                    f"{self.name!r}; targets must be unseen datasets."
                )
            target_names.add(tgt.name)
        if not self.methods:
            raise ValueError(f"Zoo spec {self.name!r} has no grid methods.")

    def source(self, name: str) -> SourceSpec:
        """The source entry called ``name``.

        Raises:
            UnknownNameError: No such source (close names suggested).
        """
        return _named(self.sources, name, what="zoo model", hint="See zoo_sources(spec).")

    def target(self, name: str) -> TargetSpec:
        """The target entry called ``name``.

        Raises:
            UnknownNameError: No such target (close names suggested).
        """
        return _named(self.targets, name, what="zoo target", hint="See zoo_targets(spec).")

    def entry_hash(self, name: str, seed: int) -> str:
        """Content hash of source ``name`` trained with ``seed``, chained through its bases.

        Example:
            >>> TINY_ZOO.entry_hash("mlp.digits", 0) == TINY_ZOO.entry_hash("mlp.digits", 0)
            True
        """
        src = self.source(name)
        base_hash = self.entry_hash(src.base_model, seed) if src.base_model else None
        return _digest(
            {"format": ZOO_FORMAT, "entry": src.to_dict(), "seed": seed, "base": base_hash}
        )

    def source_seed(self, name: str, seed: int) -> int:
        """The training seed of source ``name``: derived from ``seed`` and the name only.

        Adding or reordering entries never changes another entry's seed.
        """
        return (seed * 1_000_003 + zlib.crc32(name.encode("utf-8"))) % (2**31 - 1)

    def grid_hash(self, source: str | None, arch: str, target: str, method: str, seed: int) -> str:
        """Content hash of one grid run (a transfer, or a scratch run when ``source`` is None)."""
        return _digest(
            {
                "format": ZOO_FORMAT,
                "source": self.entry_hash(source, seed) if source else None,
                "arch": arch,
                "target": self.target(target).to_dict(),
                "method": method,
                "budget": self.grid_budget.to_dict(),
                "seed": seed,
            }
        )


def zoo_sources(spec: ZooSpec) -> list[str]:
    """Names of the spec's source models, bases before fine-tunes.

    Example:
        >>> zoo_sources(TINY_ZOO)
        ['mlp.digits', 'mlp.digits_ft_rotated', 'cnn_small.digits', 'cnn_small.digits_rotated']
    """
    return [s.name for s in spec.sources]


def zoo_targets(spec: ZooSpec) -> list[str]:
    """Names of the spec's few-shot targets.

    Example:
        >>> zoo_targets(TINY_ZOO)
        ['digits_blurred', 'digits_5to9']
    """
    return [t.name for t in spec.targets]


_TINY_SRC = Budget(epochs=2, lr=3e-3, batch_size=64)

#: Four models (one fine-tune), two source datasets, two architectures, two targets.
#: Builds in a few seconds: used by the tests.
TINY_ZOO = ZooSpec(
    name="tiny",
    sources=(
        SourceSpec("mlp.digits", "digits", budget=_TINY_SRC),
        SourceSpec("mlp.digits_ft_rotated", "digits_rotated", "mlp.digits", _TINY_SRC),
        SourceSpec("cnn_small.digits", "digits", budget=_TINY_SRC),
        SourceSpec("cnn_small.digits_rotated", "digits_rotated", budget=_TINY_SRC),
    ),
    targets=(TargetSpec("digits_blurred", 5), TargetSpec("digits_5to9", 5)),
    grid_budget=Budget(epochs=3, lr=3e-3, batch_size=32),
)

_BASE = Budget(epochs=25, lr=3e-3, batch_size=64)
_FT = Budget(epochs=12, lr=1e-3, batch_size=64)


def _family(
    arch: str, base_dataset: str, finetunes: list[str], scratch: list[str]
) -> list[SourceSpec]:
    base = f"{arch}.{base_dataset}"
    entries = [SourceSpec(base, base_dataset, budget=_BASE)]
    for ds in finetunes:
        tag = ds.removeprefix(base_dataset + "_")
        entries.append(SourceSpec(f"{base}_ft_{tag}", ds, base, _FT))
    entries += [SourceSpec(f"{arch}.{ds}", ds, budget=_BASE) for ds in scratch]
    return entries


#: The built-in zoo: 7 source datasets (6 digits domains/tasks + MNIST-1D signals),
#: 4 architecture families (6 architectures), 27 models of which 10 are fine-tunes of
#: 3 shared bases
#: (siblings of one base make weight averaging meaningful), and 6 few-shot targets
#: (10 examples per class) none of the sources saw.
DEFAULT_ZOO = ZooSpec(
    name="default",
    sources=tuple(
        _family(
            "mlp",
            "digits",
            ["digits_rotated", "digits_noisy", "digits_inverted", "digits_parity"],
            ["digits_parity", "digits_0to4"],
        )
        + _family(
            "cnn_small",
            "digits",
            ["digits_rotated", "digits_noisy", "digits_parity"],
            ["digits_rotated", "digits_inverted", "digits_noisy", "digits_0to4"],
        )
        + _family(
            "resnet_small",
            "digits",
            ["digits_rotated", "digits_inverted", "digits_noisy"],
            ["digits_noisy", "digits_parity"],
        )
        + [
            SourceSpec("mlp_wide.digits", "digits", budget=_BASE),
            SourceSpec("cnn1d.mnist1d", "mnist1d", budget=_BASE),
            SourceSpec("cnn1d.mnist1d_v2", "mnist1d", budget=_BASE),  # a seed sibling
            SourceSpec("cnn1d.mnist1d_w16", "mnist1d", budget=_BASE, arch_kwargs=(("width", 16),)),
            SourceSpec("mlp.mnist1d", "mnist1d", budget=_BASE),
            SourceSpec("mlp_wide.mnist1d", "mnist1d", budget=_BASE),
        ]
    ),
    targets=(
        TargetSpec("digits_blurred"),
        TargetSpec("digits_shifted"),
        TargetSpec("digits_5to9"),
        TargetSpec("digits_gt4"),
        TargetSpec("mnist1d_noisy"),
        TargetSpec("mnist1d_parity"),
    ),
    grid_budget=Budget(epochs=30, lr=3e-3, batch_size=32),
)

#: Built-in specs by name (the CLI's ``--spec``).
ZOO_SPECS: dict[str, ZooSpec] = {"default": DEFAULT_ZOO, "tiny": TINY_ZOO}


def get_zoo_spec(name: str) -> ZooSpec:
    """The built-in zoo spec called ``name`` (``"default"`` or ``"tiny"``).

    Raises:
        UnknownNameError: No such spec (close names suggested).

    Example:
        >>> get_zoo_spec("tiny").name
        'tiny'
    """
    if name not in ZOO_SPECS:
        raise did_you_mean(name, ZOO_SPECS, what="zoo spec", hint="Built-in: default, tiny.")
    return ZOO_SPECS[name]
