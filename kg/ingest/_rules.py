"""The value rules of the validator: ranges of columns, lineage cycles, declared metrics.

Used by :func:`~kgtransfer.kg.ingest.normalize_tables` (and so by every path into
the graph). Each check returns the reason a value is refused (what is wrong and
how to fix it), or ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from ._metrics import KNOWN_METRICS, METRIC_RANGES, MetricSpec, parse_metric_declaration

__all__ = [
    "COLUMN_RULES",
    "LineageGraph",
    "LineageLookup",
    "column_problem",
    "declared_metrics",
    "extra_problem",
]

_INF = math.inf

#: ``(table, column) -> (low, high, integral)``: inclusive range of numeric
#: columns. Counts are whole numbers >= 0. A similarity is in [-1, 1] (cosine,
#: correlation; measures in [0, 1] fit too) and higher means closer; a distance
#: is >= 0 and lower means closer.
COLUMN_RULES: dict[tuple[str, str], tuple[float, float, bool]] = {
    ("models", "n_params"): (0.0, _INF, True),
    ("models", "n_labels"): (0.0, _INF, True),
    ("datasets", "n_samples"): (0.0, _INF, True),
    ("datasets", "n_classes"): (0.0, _INF, True),
    ("similarities", "similarity"): (-1.0, 1.0, False),
    ("similarities", "distance"): (0.0, _INF, False),
    ("records", "seed"): (-(2**63), 2**63 - 1, True),  # fits a 64-bit integer
    # Regime counts, checked once they are records columns (kg.tables.COLUMNS).
    ("records", "n_train"): (0.0, _INF, True),
    ("records", "shots"): (0.0, _INF, True),
    ("records", "steps"): (0.0, _INF, True),
    ("records", "epochs"): (0.0, _INF, False),
    ("records", "n_test"): (0.0, _INF, True),
}


def column_problem(table: str, column: str, value: Any) -> str | None:
    """Why ``value`` (already converted) is not valid in ``table.column``, or ``None``.

    Example:
        >>> print(column_problem("models", "n_params", -5.0))
        n_params must be a whole number >= 0 (a count); got -5.0. Fix the value or leave the cell empty (unknown).
        >>> column_problem("similarities", "similarity", 0.5) is None
        True
    """
    if isinstance(value, float) and not math.isfinite(value):
        return f"{column} must be a finite number, got {value!r}; give a number or leave it empty."
    rule = COLUMN_RULES.get((table, column))
    if rule is None or value is None:
        return None
    low, high, integral = rule
    number = value if isinstance(value, int) else float(value)  # ints compared exactly
    whole = isinstance(number, int) or float(number).is_integer()
    ok = low <= number <= high and (not integral or whole)
    if ok:
        return None
    if column == "seed":
        want = "a whole number that fits in 64 bits"
    elif integral:
        want = f"a whole number >= {low:g} (a count)"
    elif math.isinf(high):
        want = f"a number >= {low:g}"
    else:
        want = f"a number in [{low:g}, {high:g}]"
    hint = ""
    if column == "similarity":
        hint = " A similarity is in [-1, 1], higher = closer; put other measures in 'distance'."
    elif column == "distance":
        hint = " A distance is >= 0, lower = closer; put signed measures in 'similarity'."
    return (
        f"{column} must be {want}; got {value!r}.{hint} Fix the value or leave the cell "
        "empty (unknown)."
    )


def extra_problem(column: str, value: float) -> str | None:
    """Why a value of an extra numeric column is refused (only non-finite ones are)."""
    if math.isfinite(value):
        return None
    return (
        f"extra numeric column {column!r} holds {value!r}, not a finite number; give a "
        "number or leave the cell empty (unknown)."
    )


def declared_metrics(
    metric_directions: Mapping[str, object] | None,
    rows: Iterable[tuple[str, object]] = (),
    known: Mapping[str, object] | None = None,
) -> dict[str, MetricSpec]:
    """Merge metric declarations into ``name -> MetricSpec`` (names lower-cased).

    Later sources win: metrics known elsewhere (e.g. the graph's metrics table,
    direction only) < metrics-table rows < ``metric_directions``. A bare
    direction keeps a built-in metric's range; otherwise a declared range is
    used as given (none: any finite number).

    Raises:
        ValueError: A declaration cannot be read (message names the metric).
    """
    out: dict[str, MetricSpec] = {}
    sources: list[tuple[str, object]] = [
        (str(k), v if isinstance(v, Mapping) else bool(v)) for k, v in (known or {}).items()
    ]
    sources += list(rows)
    sources += [(str(k), v) for k, v in (metric_directions or {}).items()]
    for key, value in sources:
        name = key.strip().lower()
        spec = parse_metric_declaration(key, value)
        bare = not isinstance(value, (Mapping, tuple, list))
        if bare and name in KNOWN_METRICS:
            low, high = METRIC_RANGES.get(name, (-_INF, _INF))
            spec = MetricSpec(spec.higher_is_better, low, high)
        out[name] = spec
    return out


@runtime_checkable
class LineageLookup(Protocol):
    """Lineage known elsewhere (e.g. a graph store), asked one model at a time."""

    def bases(self, model: str) -> Iterable[str]:
        """The base models ``model`` derives from."""

    def is_base(self, model: str) -> bool:
        """Whether some model derives from ``model`` (``True`` when unsure)."""


class LineageGraph:
    """``model -> base models`` edges, refusing any edge that closes a cycle.

    ``known`` (optional) is lineage known elsewhere (e.g. in the graph store), asked
    only about the models of the new edges and, when a model already has descendants,
    about the ancestors the cycle search reaches (an edge from a model nothing derives
    from cannot close a cycle).

    Example:
        >>> g = LineageGraph([("b", "a")])
        >>> g.cycle("a", "b")
        ['a', 'b', 'a']
        >>> g.cycle("c", "a") is None
        True
    """

    def __init__(
        self,
        edges: Iterable[tuple[str, str]] = (),
        *,
        known: LineageLookup | None = None,
    ) -> None:
        self._bases: dict[str, set[str]] = {}
        self._is_base: set[str] = set()
        self._known = known
        self._looked_up: set[str] = set()
        for model, base in edges:
            self.add(str(model), str(base))

    def _next(self, node: str) -> set[str]:
        if self._known is not None and node not in self._looked_up:
            self._looked_up.add(node)
            known = {str(b) for b in self._known.bases(node)}
            if known:
                self._bases.setdefault(node, set()).update(known)
        return self._bases.get(node, set())

    def add(self, model: str, base: str) -> None:
        """Record that ``model`` derives from ``base``."""
        self._bases.setdefault(model, set()).add(base)
        self._is_base.add(base)

    def cycle(self, model: str, base: str) -> list[str] | None:
        """The cycle ``model -> base -> ... -> model`` the edge would close, or ``None``."""
        if model == base:
            return [model, model]
        if model not in self._is_base and (self._known is None or not self._known.is_base(model)):
            return None  # nothing derives from model: no path leads back to it
        # Depth-first search from base along "derives from" edges, looking for model.
        parent: dict[str, str] = {base: model}
        stack = [base]
        while stack:
            node = stack.pop()
            for nxt in self._next(node):
                if nxt in parent:
                    continue
                parent[nxt] = node
                if nxt == model:
                    path = [model]
                    cur = node
                    while cur != model:
                        path.append(cur)
                        cur = parent[cur]
                    return [model, *reversed(path[1:]), model]
                stack.append(nxt)
        return None
