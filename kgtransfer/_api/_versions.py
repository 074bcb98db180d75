"""Package versions recorded with every result: :func:`kgtransfer._versions.versions`."""

from __future__ import annotations

from kgtransfer._versions import versions

__all__ = ["versions"]
