"""Reading a saved recommender folder (``config.json``, ``tables.json``, safetensors weights).

A saved folder is an artefact that may have been edited or damaged, so every file
and field is checked before it is used; each problem is one
:class:`~kgtransfer.errors.CheckpointError` naming the file and the field.
"""

from __future__ import annotations

import inspect
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeGuard

import pandas as pd
import torch

from kgtransfer.errors import CheckpointError
from kgtransfer.kg.tables import COLUMNS, ZooTables

__all__ = ["SavedRecommender", "check_member_state", "read_saved"]

#: Bounds of the integer parameters of a saved recommender (sizes that allocate memory).
INT_BOUNDS: dict[str, tuple[int, int]] = {
    "hidden": (1, 4096),
    "n_layers": (1, 64),
    "n_ensemble": (1, 256),
    "epochs": (0, 10**7),
    "top_k_similar": (0, 10**6),
    "stack_folds": (2, 10**4),
}


@dataclass
class SavedRecommender:
    """The checked contents of a saved folder."""

    params: dict[str, Any]
    excluded_datasets: list[str]
    residual_q90: float
    tables: ZooTables
    weights: dict[str, torch.Tensor]
    config: dict[str, Any] = field(default_factory=dict)


def _json(path: Path) -> Any:
    if not path.is_file():
        raise CheckpointError(
            f"No {path.name} in {str(path.parent)!r}; pass the folder written by "
            "GNNRecommender.save()."
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"Unreadable {str(path)!r}: {exc}") from exc


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_params(raw: Any, cls: type, where: str) -> dict[str, Any]:
    """Constructor parameters of ``cls`` from ``raw``, each of its default's type."""
    if not isinstance(raw, dict):
        raise CheckpointError(f"{where}: 'params' must be a JSON object, got {raw!r}.")
    sig = inspect.signature(cls.__init__).parameters  # type: ignore[misc]
    accepted = {k: p for k, p in sig.items() if k != "self" and p.kind is p.KEYWORD_ONLY}
    unknown = sorted(set(raw) - set(accepted))
    if unknown:
        raise CheckpointError(
            f"{where}: unknown params {unknown}; {cls.__name__} takes {sorted(accepted)}."
        )
    for key, value in raw.items():
        default = accepted[key].default
        if isinstance(default, bool):
            ok, expected = isinstance(value, bool), "true or false"
        elif _is_int(default):
            lo, hi = INT_BOUNDS.get(key, (-(2**63), 2**63 - 1))
            ok, expected = _is_int(value) and lo <= value <= hi, f"an int in [{lo}, {hi}]"
        elif isinstance(default, float):
            ok = (_is_int(value) or isinstance(value, float)) and math.isfinite(value)
            expected = "a finite number"
        else:
            ok, expected = value is None or isinstance(value, (str, bool, int, float)), "a scalar"
        if not ok:
            raise CheckpointError(f"{where}: params[{key!r}] must be {expected}, got {value!r}.")
    return dict(raw)


def _check_tables(raw: Any, path: Path) -> ZooTables:
    if not isinstance(raw, dict):
        raise CheckpointError(f"{str(path)!r} must hold a JSON object of tables.")
    names = {f.name for f in fields(ZooTables)}
    parts = {}
    for name, split in raw.items():
        if name not in names:
            raise CheckpointError(
                f"{str(path)!r}: unknown table {name!r}; expected some of {sorted(names)}."
            )
        if (
            not isinstance(split, dict)
            or not isinstance(split.get("columns"), list)
            or not all(isinstance(c, str) for c in split["columns"])
            or not isinstance(split.get("data"), list)
            or not all(
                isinstance(row, list) and len(row) == len(split["columns"]) for row in split["data"]
            )
        ):
            raise CheckpointError(
                f"{str(path)!r}: table {name!r} must be {{'columns': [names], 'data': "
                "[[one value per column], ...]}."
            )
        frame = pd.DataFrame(split["data"], columns=split["columns"])
        dtypes = {c: t for c, t in COLUMNS.get(name, {}).items() if c in frame}
        try:
            parts[name] = frame.astype(dtypes)
        except (ValueError, TypeError) as exc:
            raise CheckpointError(
                f"{str(path)!r}: table {name!r} has a value of the wrong type: {exc}"
            ) from exc
    try:
        return ZooTables(**parts)
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(f"{str(path)!r} holds no valid zoo tables: {exc}") from exc


def _read_weights(path: Path, n_ensemble: int, *, allow_nonfinite: bool) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError, safe_open

    if not path.is_file():
        raise CheckpointError(
            f"No {path.name} in {str(path.parent)!r}; pass the folder written by "
            "GNNRecommender.save()."
        )
    try:
        with safe_open(str(path), framework="pt") as handle:
            keys = list(handle.keys())
            members = {k.partition(".")[0] for k in keys}
            want = {str(i) for i in range(n_ensemble)}
            if members != want:
                raise CheckpointError(
                    f"{str(path)!r} holds ensemble members {sorted(members)[:10]}, but "
                    f"config.json says n_ensemble={n_ensemble}; the folder was edited or "
                    "mixed with another save."
                )
            weights = {k: handle.get_tensor(k) for k in keys}
    except (SafetensorError, OSError, ValueError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"Corrupt safetensors file {str(path)!r}: {exc}") from exc
    if not allow_nonfinite:
        bad = sorted(
            k for k, v in weights.items() if v.is_floating_point() and not torch.isfinite(v).all()
        )
        if bad:
            raise CheckpointError(
                f"{str(path)!r} holds non-finite weights (NaN or inf) in {bad[:5]}; pass "
                "allow_nonfinite=True to GNNRecommender.load() to load them anyway."
            )
    return weights


def read_saved(folder: Path, cls: type, fmt: str, *, allow_nonfinite: bool) -> SavedRecommender:
    """Read and check every file of a folder written by ``cls.save``.

    Raises:
        CheckpointError: A missing or unreadable file, or a field of the wrong type or
            out of range (file and field named).
    """
    config_path = folder / "config.json"
    config = _json(config_path)
    where = repr(str(config_path))
    if not isinstance(config, dict):
        raise CheckpointError(f"{where} must hold a JSON object, got {type(config).__name__}.")
    if config.get("format") != fmt:
        raise CheckpointError(
            f"{where} has format {config.get('format')!r}, expected {fmt!r}; re-save it with "
            "this version of kgtransfer."
        )
    params = _check_params(config.get("params"), cls, where)
    excluded = config.get("excluded_datasets", [])
    if not isinstance(excluded, list) or not all(isinstance(d, str) for d in excluded):
        raise CheckpointError(
            f"{where}: 'excluded_datasets' must be a list of dataset ids, got {excluded!r}."
        )
    q90 = config.get("residual_q90")
    if not (_is_int(q90) or isinstance(q90, float)) or not math.isfinite(q90) or q90 < 0:
        raise CheckpointError(
            f"{where}: 'residual_q90' must be a finite number >= 0 (a residual quantile), "
            f"got {q90!r}."
        )
    tables = _check_tables(_json(folder / "tables.json"), folder / "tables.json")
    n_ensemble = params.get("n_ensemble", inspect.signature(cls).parameters["n_ensemble"].default)
    defaults = inspect.signature(cls).parameters
    stack = params.get("stack", defaults["stack"].default if "stack" in defaults else False)
    if stack and params.get("stack_gnn", True) is False:
        n_ensemble = 0  # a stack of the closed-form scorers only holds no network
    weights = _read_weights(
        folder / "weights.safetensors", n_ensemble, allow_nonfinite=allow_nonfinite
    )
    return SavedRecommender(params, list(excluded), float(q90), tables, weights, config)


def check_member_state(
    path: Path, member: int, state: dict[str, torch.Tensor], own: dict[str, torch.Tensor]
) -> None:
    """Refuse ensemble member ``member``'s tensors unless they match the network ``own``."""
    from kgtransfer.models.checkpoint import state_differences

    missing, unexpected, shapes = state_differences(
        {k: tuple(v.shape) for k, v in state.items()}, own, prefix=f"{member}.", against="network"
    )
    if missing or unexpected or shapes:
        raise CheckpointError(
            f"{str(path)!r} does not match the network its config.json describes (member "
            f"{member}): missing {missing[:5]}, unexpected {unexpected[:5]}, shape "
            f"mismatches {shapes[:5]}; the folder was edited or mixed with another save."
        )
