"""Registry of recommenders, keyed like the CLI's ``--methods``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from kgtransfer.registry import Registry

__all__ = ["get_recommender", "list_recommenders", "register_recommender"]

_REGISTRY: Registry[Callable[..., Any]] = Registry("recommender")
T = TypeVar("T", bound=Callable[..., Any])


def register_recommender(name: str, *, overwrite: bool = False) -> Callable[[T], T]:
    """Class (or factory) decorator adding a recommender under ``name``.

    Raises:
        ArgumentError: ``name`` is taken and ``overwrite`` is False.
    """
    return _REGISTRY.register(name, overwrite=overwrite)


def list_recommenders(pattern: str = "*") -> list[str]:
    """Registered recommender names matching a glob ``pattern``.

    Example:
        >>> from kgtransfer.transfer.recommend import list_recommenders
        >>> list_recommenders("score:*")[:3]
        ['score:gbc', 'score:hscore', 'score:knn']
        >>> [n for n in list_recommenders() if not n.startswith("score:")]
        ['gnn', 'lineage', 'logme', 'popularity', 'similarity', 'size', 'task_domain']
    """
    return _REGISTRY.list(pattern)


def get_recommender(name: str, **params: Any) -> Any:
    """A new, unfitted recommender ``name`` built with ``params``.

    Example:
        >>> from kgtransfer.transfer.recommend import get_recommender
        >>> get_recommender("popularity")
        PopularityRecommender()
    """
    return _REGISTRY.get(name)(**params)
