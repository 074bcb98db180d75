"""A cache of fitted default recommenders, keyed by the graph's state.

``recommend`` and ``select_source`` fit the default ``GNNRecommender`` on the graph's
tables (tens of seconds). The fitted recommender is saved under
``$KGTRANSFER_HOME/cache/recommenders/<key>/`` (safetensors + JSON, the format of
:meth:`GNNRecommender.save`, checked on load), where ``key`` hashes everything the fit
depends on: the content of every table (after a new target joined), the held-out
datasets, the recommender's parameters and the versions of kgtransfer and torch. Any
change to the graph gives a new key, so a stale fit is never reused; a damaged entry is
refitted. ``KGTRANSFER_RECOMMENDER_CACHE=off`` turns the cache off. The newest
:data:`KEEP` entries are kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import fields
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["KEEP", "cache_dir", "cache_key", "cached_fit"]

#: Fitted recommenders kept in the cache (the least recently used go first).
KEEP = 8
_OFF = {"0", "off", "false", "no"}


def cache_dir() -> Path | None:
    """The cache folder, or None when ``KGTRANSFER_RECOMMENDER_CACHE`` turns it off."""
    if os.environ.get("KGTRANSFER_RECOMMENDER_CACHE", "").strip().lower() in _OFF:
        return None
    home = os.environ.get("KGTRANSFER_HOME", "").strip()
    root = Path(home).expanduser() if home else Path.home() / ".cache" / "kgtransfer"
    return root / "cache" / "recommenders"


def _table_digest(frame: pd.DataFrame) -> str:
    frame = frame.reindex(sorted(frame.columns), axis=1)
    text = frame.astype("object").where(frame.notna(), None)
    rows = pd.util.hash_pandas_object(text.astype(str), index=False).to_numpy()
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode("utf-8"))
    digest.update(rows.tobytes())
    return digest.hexdigest()


def cache_key(tables: Any, exclude: list[str], params: dict[str, Any]) -> str:
    """A digest of everything a fit on ``tables`` without ``exclude`` depends on."""
    from kgtransfer._versions import versions

    parts = {
        "tables": {f.name: _table_digest(getattr(tables, f.name)) for f in fields(tables)},
        "exclude": sorted(map(str, exclude)),
        "params": {k: repr(v) for k, v in sorted(params.items()) if k != "progress"},
        "versions": versions(),
    }
    text = json.dumps(parts, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def cached_fit(make: Any, tables: Any, exclude: list[str]) -> tuple[Any, str]:
    """``make()`` fitted on ``tables`` without ``exclude``, from the cache when it holds it.

    Returns:
        ``(fitted recommender, "fitted" | "cached")``.
    """
    fresh = make()
    root = cache_dir()
    if root is None or not hasattr(type(fresh), "load"):
        return fresh.fit(tables, exclude), "fitted"
    key = cache_key(tables, exclude, fresh.get_params())
    entry = root / key
    if entry.is_dir():
        try:
            loaded = type(fresh).load(entry)
        except Exception:  # damaged or from another format: refit and replace it
            shutil.rmtree(entry, ignore_errors=True)
        else:
            os.utime(entry)
            return loaded, "cached"
    fitted = fresh.fit(tables, exclude)
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = root / f".{key}.{os.getpid()}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        fitted.save(staging)
        os.replace(staging, entry)  # whole entries only: a reader never sees half of one
        _evict(root)
    except OSError:  # a read-only home or a full disk: the fit is still good
        shutil.rmtree(root / f".{key}.{os.getpid()}.tmp", ignore_errors=True)
    return fitted, "fitted"


def _evict(root: Path) -> None:
    entries = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in entries[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)
