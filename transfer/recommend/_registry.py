"""Registry of recommenders, keyed like the CLI's ``--methods``."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any, TypeVar

from kgtransfer.errors import did_you_mean

__all__ = ["get_recommender", "list_recommenders", "register_recommender"]

_REGISTRY: dict[str, Callable[..., Any]] = {}
T = TypeVar("T", bound=Callable[..., Any])


def register_recommender(name: str) -> Callable[[T], T]:
    """Class decorator adding a recommender under ``name``."""

    def deco(cls: T) -> T:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"Recommender {name!r} is already registered; pick another name.")
        _REGISTRY[name] = cls
        return cls

    return deco


def list_recommenders(pattern: str = "*") -> list[str]:
    """Registered recommender names matching a glob ``pattern``.

    Example:
        >>> from kgtransfer.transfer.recommend import list_recommenders
        >>> list_recommenders("score:*")[:3]
        ['score:gbc', 'score:hscore', 'score:knn']
        >>> [n for n in list_recommenders() if not n.startswith("score:")]
        ['gnn', 'lineage', 'logme', 'popularity', 'similarity', 'size', 'task_domain']
    """
    return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


def get_recommender(name: str, **params: Any) -> Any:
    """A new, unfitted recommender ``name`` built with ``params``.

    Example:
        >>> from kgtransfer.transfer.recommend import get_recommender
        >>> get_recommender("popularity")
        PopularityRecommender()
    """
    if name not in _REGISTRY:
        raise did_you_mean(name, _REGISTRY, what="recommender", hint="See list_recommenders().")
    return _REGISTRY[name](**params)
