"""Cleaning with a report of every change: duplicates, NaN/inf, constant features, labels."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from kgtransfer.data.dataset import ArrayDataset
from kgtransfer.errors import ErrorMode, check_error_mode

__all__ = ["CleaningReport", "clean", "standardize"]

_NAN = ("drop", "impute")


@dataclass
class CleaningReport:
    """What :func:`clean` changed and what it found.

    Attributes:
        n_before: Rows received.
        n_after: Rows returned.
        dropped_duplicates: Original row indices dropped as exact duplicates of an earlier row.
        dropped_nonfinite: Original row indices dropped because they held NaN/inf.
        imputed: Number of NaN/inf values replaced by their feature's median.
        dropped_features: Flat indices of constant features removed (tabular only).
        constant_features: Flat indices of constant features found (any modality).
        conflicting_duplicates: Original row indices whose inputs repeat an earlier row
            with a *different* label (kept; reported as an issue).
        class_counts: Samples per class after cleaning.
        imbalance_ratio: Largest over smallest non-empty class count.
        issues: Problems found (collected when ``errors="collect"``).
    """

    n_before: int
    n_after: int = 0
    dropped_duplicates: list[int] = field(default_factory=list)
    dropped_nonfinite: list[int] = field(default_factory=list)
    imputed: int = 0
    dropped_features: list[int] = field(default_factory=list)
    constant_features: list[int] = field(default_factory=list)
    conflicting_duplicates: list[int] = field(default_factory=list)
    class_counts: dict[str, int] = field(default_factory=dict)
    imbalance_ratio: float = 1.0
    issues: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when rows or features were removed or values imputed."""
        return bool(
            self.dropped_duplicates
            or self.dropped_nonfinite
            or self.imputed
            or self.dropped_features
        )

    def summary(self) -> str:
        """One line per change or issue."""
        lines = [f"rows: {self.n_before} -> {self.n_after}"]
        if self.dropped_duplicates:
            lines.append(f"dropped {len(self.dropped_duplicates)} exact duplicate rows")
        if self.dropped_nonfinite:
            lines.append(f"dropped {len(self.dropped_nonfinite)} rows with NaN/inf")
        if self.imputed:
            lines.append(f"imputed {self.imputed} NaN/inf values with feature medians")
        if self.dropped_features:
            lines.append(f"dropped {len(self.dropped_features)} constant features")
        lines.extend(f"issue: {msg}" for msg in self.issues)
        return "\n".join(lines)


def _first_occurrence(rows: np.ndarray) -> np.ndarray:
    """Boolean mask of rows that are the first of their exact-duplicate group."""
    if len(rows) == 0:
        return np.zeros(0, dtype=bool)
    _, first = np.unique(rows, axis=0, return_index=True)
    mask = np.zeros(len(rows), dtype=bool)
    mask[first] = True
    return mask


def clean(
    ds: ArrayDataset,
    *,
    nonfinite: Literal["drop", "impute"] = "drop",
    drop_duplicates: bool = True,
    drop_constant: bool = True,
    max_imbalance: float = 10.0,
    min_per_class: int = 2,
    errors: ErrorMode = "raise",
) -> tuple[ArrayDataset, CleaningReport]:
    """Clean a dataset and report every change; nothing is removed silently.

    Steps, in order: rows with NaN/inf are dropped (or their values imputed with the
    feature median); exact duplicate rows (same inputs *and* label) are dropped;
    constant features are dropped for tabular data (image/signal inputs keep their
    shape, constant pixels are only reported). Then labels are checked: classes with
    fewer than ``min_per_class`` samples, an imbalance ratio above ``max_imbalance``
    and identical inputs carrying different labels are *issues*.

    Args:
        ds: The dataset (not modified).
        nonfinite: ``"drop"`` rows with NaN/inf or ``"impute"`` the feature median.
        drop_duplicates: Drop exact duplicate rows.
        drop_constant: Drop constant features (tabular only).
        max_imbalance: Largest tolerated ratio of largest to smallest class.
        min_per_class: Fewest samples a class may have.
        errors: On issues, ``"raise"`` a ValueError, ``"warn"`` (UserWarning) or
            ``"collect"`` them in the report only.

    Returns:
        ``(cleaned, report)``.

    Raises:
        ValueError: bad option values, or issues found with ``errors="raise"``.

    Example:
        >>> import numpy as np
        >>> from kgtransfer.data import from_arrays
        >>> ds = from_arrays([[1.0, 5], [1.0, 5], [2.0, 5], [np.nan, 5]], [0, 0, 1, 1], name="t")
        >>> out, rep = clean(ds, errors="collect", min_per_class=1)
        >>> rep.dropped_duplicates, rep.dropped_nonfinite, rep.dropped_features, out.x.tolist()
        ([1], [3], [1], [[1.0], [2.0]])
    """
    check_error_mode(errors)
    if nonfinite not in _NAN:
        raise ValueError(f"nonfinite must be one of {_NAN}, got {nonfinite!r}.")
    report = CleaningReport(n_before=len(ds))
    flat = ds.x.reshape(len(ds), -1).copy()
    keep = np.arange(len(ds))

    bad = ~np.isfinite(flat)
    if bad.any():
        if nonfinite == "drop":
            rows = bad.any(axis=1)
            report.dropped_nonfinite = keep[rows].tolist()
            flat, keep = flat[~rows], keep[~rows]
        else:
            clean_vals = np.where(bad, np.nan, flat)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
                medians = np.nanmedian(clean_vals, axis=0)
            medians = np.where(np.isnan(medians), 0.0, medians)
            report.imputed = int(bad.sum())
            flat = np.where(bad, medians[None, :], flat).astype(np.float32)

    y = ds.y[keep]
    if drop_duplicates and len(flat):
        with_label = np.concatenate([flat, y[:, None].astype(np.float32)], axis=1)
        first = _first_occurrence(with_label)
        report.dropped_duplicates = keep[~first].tolist()
        flat, keep, y = flat[first], keep[first], y[first]
    if len(flat):
        conflict = ~_first_occurrence(flat)
        report.conflicting_duplicates = keep[conflict].tolist()

    const = np.flatnonzero(np.ptp(flat, axis=0) == 0) if len(flat) else np.zeros(0, int)
    report.constant_features = const.tolist()
    x = flat.reshape(len(flat), *ds.input_shape)
    if drop_constant and ds.modality == "tabular" and len(const):
        if len(const) == flat.shape[1]:
            report.issues.append("every feature is constant; none were dropped")
        else:
            report.dropped_features = const.tolist()
            x = np.delete(flat, const, axis=1)

    out = ds.subset(keep).with_arrays(x, y)
    out.metadata["cleaning"] = {
        "n_before": report.n_before,
        "n_dropped_rows": len(report.dropped_duplicates) + len(report.dropped_nonfinite),
        "imputed": report.imputed,
        "dropped_features": report.dropped_features,
    }
    if "feature_names" in out.metadata and report.dropped_features:
        names = list(out.metadata["feature_names"])
        out.metadata["feature_names"] = [
            n for i, n in enumerate(names) if i not in set(report.dropped_features)
        ]
    report.n_after = len(out)

    counts = out.class_counts()
    report.class_counts = {str(c): int(n) for c, n in zip(out.classes, counts, strict=True)}
    present = counts[counts > 0]
    report.imbalance_ratio = float(present.max() / present.min()) if len(present) else 1.0
    few = {str(c): int(n) for c, n in zip(out.classes, counts, strict=True) if n < min_per_class}
    if few:
        report.issues.append(
            f"classes with fewer than {min_per_class} samples (class: count): {few}"
        )
    if report.imbalance_ratio > max_imbalance:
        report.issues.append(
            f"class imbalance ratio {report.imbalance_ratio:.1f} exceeds max_imbalance={max_imbalance}"
        )
    if report.conflicting_duplicates:
        report.issues.append(
            f"{len(report.conflicting_duplicates)} rows repeat an earlier input with a different "
            f"label (original rows {report.conflicting_duplicates[:5]})"
        )
    if report.issues:
        msg = f"Dataset {ds.name!r}: " + "; ".join(report.issues)
        if errors == "raise":
            raise ValueError(msg + ". Fix the data, relax the check, or pass errors='collect'.")
        if errors == "warn":
            warnings.warn(msg, UserWarning, stacklevel=2)
    return out, report


def standardize(train: ArrayDataset, *others: ArrayDataset) -> tuple[ArrayDataset, ...]:
    """Standardise tabular features with the mean and spread of ``train`` only.

    Each feature of ``train`` and of every dataset in ``others`` (e.g. its test split)
    becomes ``(x - mean) / std`` with ``mean`` and ``std`` of ``train`` (a constant
    feature keeps ``std = 1``), so nothing of the held-out data leaks into the fit.
    Each result's ``metadata["standardised"]`` records how (the provenance of the
    transform): ``{"fit_on": <train name and split>, "n_fit": ..., "mean": [...],
    "std": [...]}``. Inputs are never modified.

    Args:
        train: The split the statistics are fitted on.
        *others: Datasets transformed with ``train``'s statistics.

    Returns:
        ``(train, *others)`` standardised.

    Raises:
        ValueError: A dataset that is not tabular (shape (N, D)) or whose number of
            features differs from ``train``'s.

    Example:
        >>> import numpy as np
        >>> tr = ArrayDataset(np.array([[0.0], [2.0]], np.float32), np.array([0, 1]), [0, 1])
        >>> te = ArrayDataset(np.array([[4.0]], np.float32), np.array([1]), [0, 1])
        >>> a, b = standardize(tr, te)
        >>> a.x.ravel().tolist(), b.x.ravel().tolist(), a.metadata["standardised"]["n_fit"]
        ([-1.0, 1.0], [3.0], 2)
    """
    for ds in (train, *others):
        if ds.x.ndim != 2 or ds.x.shape[1] != train.x.shape[1]:
            raise ValueError(
                f"standardize() takes tabular datasets of shape (N, {train.x.shape[1]}); "
                f"{ds.name!r} has shape {ds.x.shape}."
            )
    x = train.x.astype(np.float64)
    mean = np.nanmean(x, axis=0) if len(x) else np.zeros(x.shape[1])
    std = np.nanstd(x, axis=0) if len(x) else np.ones(x.shape[1])
    std = np.where(np.isfinite(std) & (std > 0), std, 1.0)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    split = train.metadata.get("split")
    info = {
        "fit_on": f"{train.name or 'data'}" + (f" ({split} split)" if split else ""),
        "n_fit": len(train),
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
    }
    return tuple(
        ds.with_arrays(
            ((ds.x - mean) / std).astype(np.float32),
            metadata={**ds.metadata, "standardised": info},
        )
        for ds in (train, *others)
    )
