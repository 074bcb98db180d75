"""Argument checks shared by every recommender's ``fit``/``rank`` and by ``recommend()``.

Each check returns the value (normalised where useful) or raises
:class:`~kgtransfer.errors.ArgumentError` naming the argument, the value received
and the fix; unknown names raise :class:`~kgtransfer.errors.UnknownNameError` with
close matches. Checks run before any work, so a bad argument never costs a fit.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Iterable, Mapping
from typing import Any, cast

import numpy as np

from kgtransfer.errors import ArgumentError, UnknownNameError, did_you_mean

__all__ = [
    "FILTERS",
    "NUMBER_FILTERS",
    "check_bool",
    "check_dataset",
    "check_filters",
    "check_float",
    "check_has_records",
    "check_int",
    "check_k",
    "check_names",
    "check_seed",
    "check_text",
]

#: Keyword filters of ``rank()`` / ``recommend()`` and what they compare.
FILTERS: dict[str, str] = {
    "license": "models.license equals the value (or is one of a list)",
    "task": "models.task equals the value (or is one of a list)",
    "modality": "models.modality equals the value (or is one of a list)",
    "model_type": "models.model_type equals the value (or is one of a list)",
    "architecture": "models.architecture equals the value (or is one of a list)",
    "trained_on": "models.trained_on equals the value (or is one of a list)",
    "max_params": "models.n_params <= value (unknown sizes are excluded)",
    "min_params": "models.n_params >= value (unknown sizes are excluded)",
}
#: Filters taking a number (a parameter count); the others take text or a list of text.
NUMBER_FILTERS = frozenset({"max_params", "min_params"})
_MAX_SEED = 2**63 - 1


def _got(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def check_int(
    value: Any,
    name: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    allow_none: bool = False,
    fix: str = "",
) -> int | None:
    """An integer (``bool`` and floats such as 2.5 or 3.0 refused) within bounds.

    Example:
        >>> check_int(3, "k", minimum=1)
        3
    """
    if value is None and allow_none:
        return None
    none = " or None" if allow_none else ""
    if minimum == 1:
        want = "a positive integer"
    elif minimum == 0:
        want = "a non-negative integer"
    else:
        want = "an integer"
    if maximum is not None:
        want += f" <= {maximum}"
    hint = f"; {fix}" if fix else ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ArgumentError(f"{name} must be {want}{none}, got {_got(value)}{hint}.")
    out = int(value)
    if (minimum is not None and out < minimum) or (maximum is not None and out > maximum):
        raise ArgumentError(f"{name} must be {want}{none}, got {out!r}{hint}.")
    return out


def check_float(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
    allow_none: bool = False,
    fix: str = "",
) -> float | None:
    """A finite real number (``bool``, text, NaN and ±inf refused) within bounds.

    Example:
        >>> check_float(1e8, "max_params", minimum=0, min_inclusive=False)
        100000000.0
    """
    if value is None and allow_none:
        return None
    parts = []
    if minimum is not None:
        parts.append(f"{'>=' if min_inclusive else '>'} {minimum:g}")
    if maximum is not None:
        parts.append(f"{'<=' if max_inclusive else '<'} {maximum:g}")
    want = "a finite number" + (" " + " and ".join(parts) if parts else "")
    want += " or None" if allow_none else ""
    hint = f"; {fix}" if fix else ""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ArgumentError(f"{name} must be {want}, got {_got(value)}{hint}.")
    out = float(value)
    bad = not math.isfinite(out)
    if minimum is not None and not bad:
        bad = out < minimum if min_inclusive else out <= minimum
    if maximum is not None and not bad:
        bad = out > maximum if max_inclusive else out >= maximum
    if bad:
        raise ArgumentError(f"{name} must be {want}, got {out!r}{hint}.")
    return out


def check_bool(value: Any, name: str) -> bool:
    """``True`` or ``False`` (numpy booleans too); ``0``, ``"yes"`` and None refused."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ArgumentError(f"{name} must be True or False, got {_got(value)}.")


def check_text(value: Any, name: str, *, allow_none: bool = False, fix: str = "") -> str | None:
    """Non-empty text (not only whitespace).

    Example:
        >>> check_text("cifar10", "dataset")
        'cifar10'
    """
    if value is None and allow_none:
        return None
    hint = f"; {fix}" if fix else ""
    none = " or None" if allow_none else ""
    if not isinstance(value, str):
        raise ArgumentError(f"{name} must be text{none}, got {_got(value)}{hint}.")
    if not value.strip():
        raise ArgumentError(f"{name} must be non-empty text, got {value!r}{hint}.")
    return value


def check_names(value: Any, name: str, *, allow_none: bool = True) -> list[str] | None:
    """A list (or other collection) of ids; a bare string is refused (it is not a list).

    Example:
        >>> check_names(("a", "b"), "candidates")
        ['a', 'b']
    """
    if value is None and allow_none:
        return None
    if isinstance(value, (str, bytes)):
        raise ArgumentError(
            f"{name} must be a list of ids, got the text {value!r}; pass {name}=[{value!r}]."
        )
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise ArgumentError(f"{name} must be a list of ids, got {_got(value)}.")
    out = list(value)
    for item in out:
        check_text(item, f"each of {name}")
    return [str(item) for item in out]


def check_k(k: Any) -> int | None:
    """``k``: rows kept, a positive integer, or None for every row."""
    return check_int(k, "k", minimum=1, allow_none=True, fix="pass e.g. k=5, or k=None for all")


def check_seed(seed: Any, name: str = "seed") -> int:
    """A seed: an integer in ``[0, 2**63 - 1]``."""
    return cast(int, check_int(seed, name, minimum=0, maximum=_MAX_SEED, fix="pass e.g. seed=0"))


def check_filters(
    filters: Mapping[str, Any],
    *,
    where: str = "rank()",
    strict: bool = True,
    other_names: Iterable[str] = (),
) -> dict[str, Any]:
    """Check candidate filters by name, type and range; return them normalised.

    Text filters take non-empty text or a non-empty list of it; ``max_params`` and
    ``min_params`` take a finite number > 0 (resp. >= 0). ``None`` means "no
    filter". With ``strict=False`` names outside :data:`FILTERS` pass unchecked
    (a custom recommender may know more).

    Raises:
        ArgumentError: An unknown filter name (close names suggested, also among
            ``other_names``, e.g. the function's own parameters), a wrong type or
            a value out of range.

    Example:
        >>> check_filters({"license": "mit", "max_params": 1e8})
        {'license': 'mit', 'max_params': 100000000.0}
    """
    out: dict[str, Any] = {}
    for key, value in filters.items():
        if key not in FILTERS:
            if not strict:
                out[key] = value
                continue
            hint = f"Valid filters are {sorted(FILTERS)}."
            message = str(
                did_you_mean(str(key), [*FILTERS, *other_names], what=f"{where} filter", hint=hint)
            )
            raise ArgumentError(message)
        if value is None:
            out[key] = None
        elif key in NUMBER_FILTERS:
            out[key] = check_float(
                value,
                key,
                minimum=0.0,
                min_inclusive=key == "min_params",
                fix=f"a parameter count such as {key}=1e8, or {key}=None for no limit",
            )
        elif isinstance(value, str):
            out[key] = check_text(value, key, fix=f"pass e.g. {key}='...', or {key}=None")
        elif isinstance(value, Collection) and not isinstance(value, (bytes, Mapping)):
            if len(value) == 0:
                raise ArgumentError(
                    f"{key} is an empty list, which keeps no model; give at least one "
                    f"value or {key}=None for no filter."
                )
            out[key] = [check_text(v, f"each value of {key}") for v in value]
        else:
            raise ArgumentError(
                f"{key} must be text or a list of text (or None), got {_got(value)}; "
                f"pass e.g. {key}='...' or {key}=['...', '...']."
            )
    low, high = out.get("min_params"), out.get("max_params")
    if low is not None and high is not None and low > high:
        raise ArgumentError(
            f"min_params={low:g} is above max_params={high:g}, which keeps no model; "
            "swap or widen them."
        )
    return out


def check_dataset(
    dataset: Any, known: Collection[str], *, cold_start: bool = False, name: str = "dataset"
) -> str:
    """A target dataset id: non-empty text, known to the graph unless ``cold_start``.

    Raises:
        ArgumentError: Not text, or empty.
        UnknownNameError: Not a dataset of the graph and ``cold_start`` is False
            (close ids are suggested).
    """
    text = cast(str, check_text(dataset, name, fix="give a dataset id of the graph"))
    if cold_start or text in known:
        return text
    err: UnknownNameError = did_you_mean(
        text,
        sorted(known),
        what="target dataset",
        hint=(
            "It is not a dataset of the fitted graph. Add it to the graph (a datasets row "
            "with its similarity edges) and refit, use kgtransfer.recommend(graph, data) to "
            "join new data, or pass cold_start=True to rank it from the graph as a whole."
        ),
    )
    raise err


def check_has_records(tables: Any) -> None:
    """Refuse a graph (``ZooTables``) without any transfer record: nothing to learn from.

    Raises:
        ArgumentError: ``tables.records`` is empty; the message says how to ingest some.
    """
    if len(tables.records) == 0:
        raise ArgumentError(
            "The graph has no transfer records (model -> dataset results), so a recommender "
            "has nothing to learn from; ingest some with `kgtransfer ingest --records FILE.csv` "
            "or ZooGraph.add_tables(records=...), or build the zoo with `kgtransfer zoo build`."
        )
