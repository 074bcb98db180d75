"""The training regime of a transfer record, and comparing records like with like.

A record's *regime* is how its result was obtained: the transfer ``method``
(finetune, linear_probe, lora, distill_logit, ...), the number of labelled training
examples ``n_train`` (and ``shots`` per class for a few-shot draw), the ``split``
(how the training examples were drawn, with its seeds when known), the training
budget (``epochs``, ``steps``) and whether the backbone was ``frozen``. Results of
different regimes are not comparable: 0.94 after fine-tuning on 1,347 examples and
0.62 after 10 examples per class say nothing about which source is better.

The regime columns are part of a record's identity (two regimes never collapse or
conflict). The ``seed`` is part of the identity too but not of the regime: runs
that differ only in their seed are replicates of one regime.

:func:`regime_of` gives the canonical label of one record, :func:`regime_key` the
labels of a whole records table, :func:`dataset_regime` the regime of a target
dataset (the regime of most of its records) and :func:`select_regime` keeps the
records of one regime per dataset, saying which whenever it had to choose.

Example:
    >>> regime_of({"method": "finetune", "n_train": 100, "shots": 10, "epochs": 3.0})
    'method=finetune;n_train=100;shots=10;split=unknown;epochs=3;steps=unknown;frozen=unknown'
    >>> regime_of({"method": None})
    'unknown'
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from kgtransfer.errors import ArgumentError

__all__ = [
    "ANY_REGIME",
    "REGIME_COLUMNS",
    "UNKNOWN_REGIME",
    "dataset_regime",
    "regime_key",
    "regime_of",
    "select_regime",
]

#: Columns of a records table that make up a regime, in label order.
REGIME_COLUMNS: tuple[str, ...] = (
    "method",
    "n_train",
    "shots",
    "split",
    "epochs",
    "steps",
    "frozen",
)
#: Label of a record none of whose regime parts is known; also the text of an unknown part.
UNKNOWN_REGIME = "unknown"
#: The ``regime`` argument that mixes every regime explicitly.
ANY_REGIME = "any"


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return bool(isinstance(value, str) and not value.strip())


def _part(value: Any) -> str:
    if _missing(value):
        return UNKNOWN_REGIME
    if isinstance(value, (bool, np.bool_)):
        return "true" if bool(value) else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(number)
    return str(value).strip()


def regime_of(row: Mapping[str, Any] | pd.Series) -> str:
    """The canonical regime label of one record (a row or a mapping of its columns).

    Missing parts read ``unknown``; a record none of whose parts is known has the
    label ``"unknown"``. Numbers are written without a trailing ``.0``.

    Example:
        >>> regime_of({"method": "lora", "epochs": 4.0, "frozen": True})
        'method=lora;n_train=unknown;shots=unknown;split=unknown;epochs=4;steps=unknown;frozen=true'
    """
    getter = row.get
    parts = [_part(getter(col)) for col in REGIME_COLUMNS]
    if all(p == UNKNOWN_REGIME for p in parts):
        return UNKNOWN_REGIME
    return ";".join(f"{col}={p}" for col, p in zip(REGIME_COLUMNS, parts, strict=True))


def _cells(values: pd.Series) -> list[Any]:
    """The cells of a column, missing ones as None (so equal rows are equal tuples)."""
    cells = values.astype("object")
    out: list[Any] = cells.where(values.notna().to_numpy(), None).tolist()
    return out


def regime_key(records: pd.DataFrame) -> pd.Series:
    """The regime label of every row of a records table (same index).

    Absent regime columns count as unknown, so a table written before regimes
    existed has the single regime ``"unknown"``.

    Example:
        >>> recs = pd.DataFrame({"method": ["finetune", None], "n_train": [50, None]})
        >>> regime_key(recs).tolist()[1]
        'unknown'
    """
    n = len(records)
    columns = [
        _cells(records[col]) if col in records.columns else [None] * n for col in REGIME_COLUMNS
    ]
    memo: dict[tuple[Any, ...], str] = {}
    labels = []
    for raw in zip(*columns, strict=True):
        try:
            label = memo.get(raw)
        except TypeError:  # an unhashable cell
            label = None
        if label is None:
            label = regime_of(dict(zip(REGIME_COLUMNS, raw, strict=True)))
            with contextlib.suppress(TypeError):
                memo[raw] = label
        labels.append(label)
    return pd.Series(labels, index=records.index, dtype=object)


def _counted_mask(records: pd.DataFrame) -> np.ndarray:
    """Rows that count for a dataset's regime: the non-suspect ones."""
    if "suspect" not in records.columns:
        return np.ones(len(records), dtype=bool)
    suspect: np.ndarray = records["suspect"].astype("object").fillna(False).astype(bool).to_numpy()
    return ~suspect


def dataset_regime(records: pd.DataFrame) -> str | None:
    """The regime of a target dataset: the regime of most of its (non-suspect) records.

    Ties go to the label that sorts first, so the choice is deterministic. ``records``
    holds the records of one dataset; None when it is empty.

    Example:
        >>> recs = pd.DataFrame({"method": ["finetune", "finetune", "lora"]})
        >>> dataset_regime(recs)
        'method=finetune;n_train=unknown;shots=unknown;split=unknown;epochs=unknown;steps=unknown;frozen=unknown'
    """
    if records.empty:
        return None
    return _most_frequent(regime_key(records), _counted_mask(records))


def _most_frequent(labels: pd.Series, counted: np.ndarray) -> str:
    pool = labels[counted] if counted.any() else labels
    counts = pool.value_counts()
    best = int(counts.max())
    return str(min(label for label, n in counts.items() if int(n) == best))


def _label(regime: str | Mapping[str, Any] | None) -> str | None:
    if regime is None:
        return None
    if isinstance(regime, Mapping):
        unknown = sorted(set(regime) - set(REGIME_COLUMNS))
        if unknown:
            raise ArgumentError(
                f"regime has unknown part(s) {unknown}; its parts are {list(REGIME_COLUMNS)}."
            )
        return regime_of(regime)
    if not isinstance(regime, str) or not (
        regime in (ANY_REGIME, UNKNOWN_REGIME) or regime.startswith("method=")
    ):
        raise ArgumentError(
            f"regime must be None, 'any', a regime label (see regime_of, e.g. "
            f"{regime_of({'method': 'finetune', 'shots': 10})!r}) or a mapping of "
            f"{list(REGIME_COLUMNS)}; got {type(regime).__name__} {regime!r}."
        )
    if regime.startswith("method="):
        _check_label(regime)
    return regime


def _check_label(label: str) -> None:
    """Refuse a label string that is not one :func:`regime_of` writes (partial, misspelt)."""
    keys = [part.partition("=")[0] for part in label.split(";")]
    if tuple(keys) == REGIME_COLUMNS and all("=" in part for part in label.split(";")):
        return
    missing = [col for col in REGIME_COLUMNS if col not in keys]
    unknown = [key for key in keys if key not in REGIME_COLUMNS]
    what = []
    if missing:
        what.append(f"missing part(s) {missing}")
    if unknown:
        what.append(f"unknown part(s) {unknown}")
    if not what:
        what.append(f"parts out of order (the order is {list(REGIME_COLUMNS)})")
    raise ArgumentError(
        f"regime label {label!r} is not a full label ({'; '.join(what)}). Pass a label "
        "exactly as regime_of writes it (e.g. from ZooGraph.records()), or a mapping of "
        "the parts you know, e.g. regime={'method': 'finetune', 'shots': 10} (parts "
        "not given read 'unknown')."
    )


def select_regime(
    records: pd.DataFrame,
    regime: str | Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Keep the records of one regime per target dataset, and say which.

    Args:
        records: A records table (``dataset`` column and any regime columns).
        regime: ``None`` keeps, per dataset, the dataset's own regime
            (:func:`dataset_regime`); ``"any"`` keeps every record (mixing regimes
            explicitly); a label (:func:`regime_of`) or a mapping of regime parts keeps
            that regime only.

    Returns:
        ``(kept records, {dataset: regime label used}, notes)``. A note names each
        dataset whose records span several regimes when one was chosen by default, and
        each dataset without a record of the requested regime.

    Raises:
        ArgumentError: ``regime`` is neither None, ``"any"``, a string nor a mapping,
            or a mapping with unknown parts.

    Example:
        >>> recs = pd.DataFrame({"dataset": ["d", "d", "d"], "value": [0.6, 0.5, 0.9],
        ...                      "n_train": [50, 50, 1347]})
        >>> kept, used, notes = select_regime(recs)
        >>> kept["value"].tolist(), used["d"]
        ([0.6, 0.5], 'method=unknown;n_train=50;shots=unknown;split=unknown;epochs=unknown;steps=unknown;frozen=unknown')
        >>> len(notes)
        1
    """
    label = _label(regime)
    if records.empty:
        return records, {}, []
    if label == ANY_REGIME:
        return records, {str(d): ANY_REGIME for d in records["dataset"].dropna().unique()}, []
    labels = regime_key(records)
    counted = pd.Series(_counted_mask(records), index=records.index)
    datasets = records["dataset"].astype("object").astype(str)
    keep = pd.Series(False, index=records.index)
    used: dict[str, str] = {}
    notes: list[str] = []
    present_by = labels.groupby(datasets.to_numpy(), sort=True)
    for dataset, present in present_by:
        dataset = str(dataset)
        if label is None:
            chosen = _most_frequent(present, counted.loc[present.index].to_numpy())
            n_regimes = present.nunique()
            if n_regimes > 1:
                n_kept = int((present == chosen).sum())
                notes.append(
                    f"{dataset}: its {len(present)} records span {n_regimes} regimes; compared "
                    f"within its own regime {chosen!r} ({n_kept} records, the most frequent). "
                    "Pass regime='any' to mix them or regime=<label> to choose one."
                )
        else:
            chosen = label
            if not (present == chosen).any():
                notes.append(
                    f"{dataset}: no record in regime {chosen!r} (its regimes: "
                    f"{sorted(present.unique())})."
                )
        used[dataset] = chosen
        keep.loc[present.index[(present == chosen).to_numpy()]] = True
    return records.loc[keep.to_numpy()], used, notes
