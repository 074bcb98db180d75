"""Hugging Face-style model cards: a README.md with YAML front matter."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from kgtransfer._io import atomic_write_bytes
from kgtransfer.errors import CardParseError

__all__ = ["read_card", "write_card"]


def write_card(path: str | os.PathLike[str], meta: dict[str, Any], body: str = "") -> Path:
    """Write ``meta`` as YAML front matter plus a Markdown ``body`` to ``path`` atomically.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "README.md"
        >>> _ = write_card(p, {"base_model": "mlp.digits", "datasets": ["digits_rotated"]})
        >>> read_card(p)["base_model"]
        'mlp.digits'
    """
    path = Path(path)
    text = "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n" + body
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


def read_card(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The YAML front matter of a model card as a dict (no network).

    Read by huggingface_hub's ``metadata_load`` (the front-matter pattern of
    ``ModelCard`` and ``yaml.safe_load``); a missing or unclosed front matter, which it
    reads as "no metadata", is an error here.

    Raises:
        CardParseError: No front matter, malformed YAML (file and line named), or not a mapping.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "README.md"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CardParseError(f"Cannot read model card {str(path)!r}: {exc}") from exc
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise CardParseError(
            f"Model card {str(path)!r} has no YAML front matter: the first line must be '---'."
        )
    try:
        end = next(i for i, line in enumerate(lines[1:], 1) if line.strip() == "---")
    except StopIteration:
        raise CardParseError(
            f"Model card {str(path)!r}: the YAML front matter opened on line 1 is never "
            "closed by a '---' line."
        ) from None
    from huggingface_hub import metadata_load  # the front matter as ModelCard reads it

    try:
        meta = metadata_load(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 2}" if mark is not None else ""
        raise CardParseError(f"Malformed YAML in model card {str(path)!r}{where}: {exc}") from exc
    except ValueError:  # huggingface_hub: "repo card metadata block should be a dict"
        got = type(yaml.safe_load("\n".join(lines[1:end]))).__name__
        raise CardParseError(
            f"Model card {str(path)!r}: front matter must be a mapping, got {got}."
        ) from None
    return dict(meta) if meta else {}
