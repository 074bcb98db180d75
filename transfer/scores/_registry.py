"""Registry of transferability estimators, keyed like the CLI's ``--score``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from kgtransfer.registry import Registry

__all__ = ["ScoreInput", "get_score", "list_scores", "register_score", "score_input"]

#: What a score's first argument is: penultimate features (N, D), source-class
#: probabilities (N, C_s) or hard source labels (N,) / probabilities to argmax.
ScoreInput = Literal["features", "probs", "source_labels"]

_REGISTRY: Registry[Callable[..., float]] = Registry("score")
_INPUTS: dict[str, ScoreInput] = {}
F = TypeVar("F", bound=Callable[..., Any])


def register_score(
    name: str, *, input: ScoreInput = "features", overwrite: bool = False
) -> Callable[[F], F]:
    """Function decorator adding a transferability score under ``name``.

    Args:
        name: Registry key (lower case, as used on the command line).
        input: What the score's first argument is (see :data:`ScoreInput`).
        overwrite: Replace a score already registered as ``name``.

    Raises:
        ArgumentError: ``name`` is taken and ``overwrite`` is False.
    """
    _REGISTRY.check_name(name)

    def deco(fn: F) -> F:
        _REGISTRY.add(name, fn, overwrite=overwrite)
        _INPUTS[name] = input
        return fn

    return deco


def list_scores(pattern: str | None = "*") -> list[str]:
    """Registered score names, optionally filtered by a glob ``pattern``.

    Example:
        >>> from kgtransfer.transfer.scores import list_scores
        >>> list_scores("*hscore")
        ['hscore', 'shrinkage_hscore']
    """
    return _REGISTRY.list(pattern)


def get_score(name: str) -> Callable[..., float]:
    """The score function registered as ``name``.

    Raises:
        UnknownNameError: no such score; the message suggests close names.

    Example:
        >>> from kgtransfer.transfer.scores import get_score
        >>> get_score("logme").__name__
        'logme_score'
    """
    return _REGISTRY.get(name)


def score_input(name: str) -> ScoreInput:
    """What the first argument of score ``name`` is.

    Example:
        >>> from kgtransfer.transfer.scores import score_input
        >>> score_input("leep")
        'probs'
    """
    _REGISTRY.get(name)  # an unknown name raises with close names
    return _INPUTS[name]
