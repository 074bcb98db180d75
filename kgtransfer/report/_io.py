"""Atomic file writes for the report writers (see :mod:`kgtransfer._io`)."""

from __future__ import annotations

from kgtransfer._io import atomic_write_bytes as write_bytes_atomic
from kgtransfer._io import atomic_write_text as write_text_atomic

__all__ = ["write_bytes_atomic", "write_text_atomic"]
