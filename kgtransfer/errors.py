"""Exceptions raised by kgtransfer.

Each subclasses a built-in, so ``except KeyError`` and friends keep working, and
each message says what was wrong, the value received and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Literal

__all__ = [
    "ERROR_MODES",
    "ArgumentError",
    "BaselineInputsMissing",
    "CardParseError",
    "CheckpointError",
    "ErrorMode",
    "ExecutorError",
    "IngestError",
    "KGTransferError",
    "NotFittedError",
    "QueryRefusedError",
    "QueryTimeoutError",
    "ScoreInputError",
    "StoreError",
    "StoreLockedError",
    "StoreVersionError",
    "TransferError",
    "UnknownNameError",
    "check_error_mode",
    "did_you_mean",
]

#: How batch work (ingestion, cleaning, zoo builds, reports) treats a bad item: ``"raise"``
#: stops at the first one, ``"warn"`` skips it with a ``UserWarning``, ``"collect"`` skips
#: it silently; every skipped item is listed in the work's report either way.
ErrorMode = Literal["raise", "warn", "collect"]

#: The values of :data:`ErrorMode`, in that order.
ERROR_MODES: tuple[ErrorMode, ...] = ("raise", "warn", "collect")


class KGTransferError(Exception):
    """Base class of every kgtransfer error."""


class UnknownNameError(KGTransferError, KeyError):
    """A registry, graph or table has no entry of that name."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class NotFittedError(KGTransferError, ValueError, AttributeError):
    """An estimator or transfer method was used before ``fit``."""


class CardParseError(KGTransferError, ValueError):
    """A model card's YAML front matter is malformed or has a bad field."""


class CheckpointError(KGTransferError, ValueError):
    """A checkpoint is missing, corrupt, a refused format (pickle) or does not match its model."""


class IngestError(KGTransferError, ValueError):
    """A table, card or file could not be ingested (file, row and value named)."""


class ScoreInputError(KGTransferError, ValueError):
    """Features, probabilities or labels given to a transferability score are unusable."""


class ArgumentError(KGTransferError, ValueError, TypeError):
    """An argument of a public function has a bad type or value (the argument is named)."""


class BaselineInputsMissing(ArgumentError):
    """A baseline recommender needs a kind of zoo data (sizes, lineage, scores, ...) it lacks.

    Benchmarks report such a baseline as n/a instead of a meaningless ranking.
    """


class QueryRefusedError(KGTransferError, PermissionError):
    """A SPARQL query or update was refused: remote access (SERVICE, LOAD), an update where
    only reading is allowed, or text the SPARQL parser cannot read."""


class QueryTimeoutError(KGTransferError, TimeoutError):
    """A SPARQL query ran longer than its timeout and was stopped."""


class StoreError(KGTransferError, OSError):
    """The graph store cannot be used: not a store, corrupt, or unreadable."""


class StoreLockedError(StoreError):
    """The on-disk graph store is open in another process."""


class StoreVersionError(KGTransferError, RuntimeError):
    """The on-disk graph store was written by an incompatible format version."""


class ExecutorError(KGTransferError, RuntimeError):
    """A distributed executor cannot start or reach its cluster, or lost a task (its worker
    died more often than its retries allow)."""


class TransferError(KGTransferError, ValueError):
    """Weights or features could not be transferred between two models."""


def did_you_mean(name: str, choices: Iterable[str], *, what: str, hint: str) -> UnknownNameError:
    """Build an :class:`UnknownNameError` that suggests close names.

    Example:
        >>> str(did_you_mean("resnet5", ["resnet50"], what="model", hint="See list_models()."))
        "Unknown model 'resnet5'. Did you mean 'resnet50'? See list_models()."
    """
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    suggestion = ""
    if close:
        suggestion = " Did you mean " + " or ".join(repr(c) for c in close) + "?"
    return UnknownNameError(f"Unknown {what} {name!r}.{suggestion} {hint}")


def check_error_mode(errors: object) -> ErrorMode:
    """Return ``errors`` if it is an :data:`ErrorMode`, else raise naming the value.

    Raises:
        ArgumentError: ``errors`` is not ``"raise"``, ``"warn"`` or ``"collect"``.

    Example:
        >>> check_error_mode("warn")
        'warn'
        >>> check_error_mode("ignore")
        Traceback (most recent call last):
        kgtransfer.errors.ArgumentError: errors must be 'raise', 'warn' or 'collect', got 'ignore'.
    """
    if not isinstance(errors, str) or errors not in ERROR_MODES:
        raise ArgumentError(f"errors must be 'raise', 'warn' or 'collect', got {errors!r}.")
    return errors
