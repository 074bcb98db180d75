"""Find pretrained weights on this machine: a local folder or the local Hugging Face cache.

Nothing here touches the network: a hub id is looked up in the cache only
(``huggingface_hub.try_to_load_from_cache``), and an id that is not there raises
with the command that downloads it.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import Any

from kgtransfer.errors import UnknownNameError

__all__ = ["cached_snapshot", "is_hub_id", "list_cached_models", "resolve_pretrained"]

HF_PREFIX = "hf-hub:"


def is_hub_id(text: str) -> bool:
    """Whether ``text`` reads as a Hugging Face hub id (``name`` or ``org/name``).

    Example:
        >>> is_hub_id("google/vit-base-patch16-224"), is_hub_id("a/b/c"), is_hub_id("./x")
        (True, False, False)
    """
    text = text.removeprefix(HF_PREFIX)
    parts = text.split("/")
    return (
        0 < len(parts) <= 2
        and all(p and not p.startswith(".") for p in parts)
        and not any(c in text for c in " \\:")
    )


def cached_snapshot(
    repo_id: str, *, cache_dir: str | os.PathLike[str] | None = None, revision: str | None = None
) -> Path | None:
    """The cached snapshot folder of ``repo_id`` (with a ``config.json``), or None.

    Args:
        repo_id: ``org/name`` (an ``hf-hub:`` prefix is dropped).
        cache_dir: The hub cache (default: huggingface_hub's, from ``HF_HOME`` /
            ``HF_HUB_CACHE``).
        revision: Branch, tag or commit (default ``main``, via ``refs/main``).
    """
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - transformers depends on it
        return None
    try:
        found: Any = try_to_load_from_cache(
            repo_id.removeprefix(HF_PREFIX),
            "config.json",
            cache_dir=None if cache_dir is None else str(cache_dir),
            revision=revision,
        )
    except ValueError:  # huggingface_hub's HFValidationError: not a valid repo id
        return None
    if isinstance(found, str) and Path(found).is_file():
        return Path(found).parent
    return None


def list_cached_models(
    pattern: str = "*", *, cache_dir: str | os.PathLike[str] | None = None
) -> list[str]:
    """Hub ids of the models in the local Hugging Face cache that can be loaded, sorted.

    A model counts when its ``main`` revision (``refs/main``) has a ``config.json``
    (``huggingface_hub.scan_cache_dir`` lists the repos; datasets and spaces are left out).

    Args:
        pattern: Shell-style filter on the id, e.g. ``"timm/*"``.
        cache_dir: The hub cache (default: huggingface_hub's, from ``HF_HOME`` /
            ``HF_HUB_CACHE``).

    Example:
        >>> import tempfile
        >>> list_cached_models(cache_dir=tempfile.mkdtemp())
        []
    """
    try:
        from huggingface_hub import CacheNotFound, scan_cache_dir
    except ImportError:  # pragma: no cover - transformers depends on it
        return []
    try:
        info = scan_cache_dir(None if cache_dir is None else str(cache_dir))
    except CacheNotFound:
        return []
    ids = {
        repo.repo_id
        for repo in info.repos
        if repo.repo_type == "model" and fnmatch.fnmatchcase(repo.repo_id, pattern)
    }
    return sorted(i for i in ids if cached_snapshot(i, cache_dir=cache_dir) is not None)


def resolve_pretrained(
    source: str | os.PathLike[str],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    revision: str | None = None,
) -> Path:
    """A local folder holding ``source``: the folder itself or its cached snapshot.

    Raises:
        UnknownNameError: A hub id that is not in the local cache (the download
            command named), or neither a folder nor a hub id.
    """
    path = Path(source)
    if path.is_dir():
        return path
    text = str(source)
    if is_hub_id(text):
        snap = cached_snapshot(text, cache_dir=cache_dir, revision=revision)
        if snap is not None:
            return snap
        repo = text.removeprefix(HF_PREFIX)
        where = f" under {os.fspath(cache_dir)!r}" if cache_dir is not None else ""
        folder = f" There is no folder {text!r} here either." if "/" in repo else ""
        raise UnknownNameError(
            f"{repo!r} is not in the local Hugging Face cache{where} and kgtransfer never "
            f"downloads: download it first with `huggingface-cli download {repo}` (or "
            f"save_pretrained() it to a folder and pass the folder).{folder}"
        )
    raise UnknownNameError(
        f"{text!r} is neither a local folder nor a Hugging Face hub id (org/name); pass a "
        "folder written by save_pretrained() or a cached hub id."
    )
