"""Registry of transferability estimators, keyed like the CLI's ``--score``."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from kgtransfer.errors import did_you_mean

__all__ = ["ScoreInput", "get_score", "list_scores", "register_score", "score_input"]

#: What a score's first argument is: penultimate features (N, D), source-class
#: probabilities (N, C_s) or hard source labels (N,) / probabilities to argmax.
ScoreInput = Literal["features", "probs", "source_labels"]

_REGISTRY: dict[str, Callable[..., float]] = {}
_INPUTS: dict[str, ScoreInput] = {}
F = TypeVar("F", bound=Callable[..., Any])


def register_score(name: str, *, input: ScoreInput = "features") -> Callable[[F], F]:
    """Function decorator adding a transferability score under ``name``.

    Args:
        name: Registry key (lower case, as used on the command line).
        input: What the score's first argument is (see :data:`ScoreInput`).

    Raises:
        ValueError: ``name`` is already taken by another function.
    """

    def deco(fn: F) -> F:
        old = _REGISTRY.get(name)
        if old is not None and _same_definition(old, fn):
            return fn  # the same module imported again (reload, doctest collection)
        if old is not None and old is not fn:
            raise ValueError(f"Score {name!r} is already registered; pick another name.")
        _REGISTRY[name] = fn
        _INPUTS[name] = input
        return fn

    return deco


def _same_definition(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    """Whether two functions are one definition imported twice (same module tail and name)."""
    tail = (
        getattr(a, "__module__", "").rsplit(".", 1)[-1]
        == getattr(b, "__module__", "").rsplit(".", 1)[-1]
    )
    return a is b or (tail and getattr(a, "__qualname__", None) == getattr(b, "__qualname__", None))


def list_scores(pattern: str | None = None) -> list[str]:
    """Registered score names, optionally filtered by a glob ``pattern``.

    Example:
        >>> from kgtransfer.transfer.scores import list_scores
        >>> list_scores("*hscore")
        ['hscore', 'shrinkage_hscore']
    """
    return sorted(n for n in _REGISTRY if pattern is None or fnmatch.fnmatch(n, pattern))


def get_score(name: str) -> Callable[..., float]:
    """The score function registered as ``name``.

    Raises:
        UnknownNameError: no such score; the message suggests close names.

    Example:
        >>> from kgtransfer.transfer.scores import get_score
        >>> get_score("logme").__name__
        'logme_score'
    """
    if name not in _REGISTRY:
        raise did_you_mean(name, _REGISTRY, what="score", hint="See list_scores().")
    return _REGISTRY[name]


def score_input(name: str) -> ScoreInput:
    """What the first argument of score ``name`` is.

    Example:
        >>> from kgtransfer.transfer.scores import score_input
        >>> score_input("leep")
        'probs'
    """
    if name not in _INPUTS:
        raise did_you_mean(name, _INPUTS, what="score", hint="See list_scores().")
    return _INPUTS[name]
