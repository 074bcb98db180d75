"""Every registry follows the rules of :class:`kgtransfer.registry.Registry`.

Models, datasets, scores, recommenders, transfer methods and ingest adapters: an unknown name suggests close
ones, a taken name raises unless ``overwrite=True``, ``list_*(pattern)`` filters with shell
patterns, and a name must be a non-empty string.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from kgtransfer.errors import ArgumentError, UnknownNameError
from kgtransfer.registry import Registry


@dataclass(frozen=True)
class Room:
    registry: Registry[Any]
    register: Callable[..., Callable[[Any], Any]]  # register_*(name, overwrite=...)
    get: Callable[[str], Any]  # the public getter, for unknown names
    list: Callable[..., list[str]]  # list_*(pattern)
    entry: Callable[[Any], Any] = lambda e: e  # registry entry -> the registered object


def _models() -> Room:
    from kgtransfer.models import get_model_config, list_models
    from kgtransfer.models import registry as m

    def register(name: str, **kw: Any) -> Callable[[Any], Any]:
        return m.register_model(name, family="mlp", modality="any", default_input_shape=(4,), **kw)

    return Room(m._REGISTRY, register, get_model_config, list_models, lambda e: e[1])


def _datasets() -> Room:
    from kgtransfer.data import list_datasets, load_dataset, register_dataset
    from kgtransfer.data import registry as d

    return Room(d._LOADERS, register_dataset, load_dataset, list_datasets)


def _scores() -> Room:
    from kgtransfer.transfer.scores import _registry as s
    from kgtransfer.transfer.scores import get_score, list_scores, register_score

    return Room(s._REGISTRY, register_score, get_score, list_scores)


def _recommenders() -> Room:
    from kgtransfer.transfer.recommend import _registry as r
    from kgtransfer.transfer.recommend import (
        get_recommender,
        list_recommenders,
        register_recommender,
    )

    return Room(r._REGISTRY, register_recommender, get_recommender, list_recommenders)


def _benchmarks() -> Room:
    from kgtransfer.kg.ingest import _registry as b
    from kgtransfer.kg.ingest import list_benchmarks, read_benchmark, register_benchmark

    return Room(b._READERS, register_benchmark, lambda n: read_benchmark(n, "."), list_benchmarks)


def _methods() -> Room:
    from kgtransfer.transfer.methods import _registry as t
    from kgtransfer.transfer.methods import get_method, list_methods, register_method

    return Room(t._REGISTRY, register_method, get_method, list_methods, lambda e: e[0])


ROOMS = {
    "methods": _methods,
    "models": _models,
    "datasets": _datasets,
    "scores": _scores,
    "recommenders": _recommenders,
    "benchmarks": _benchmarks,
}


@pytest.fixture(params=sorted(ROOMS))
def room(request: pytest.FixtureRequest) -> Iterator[Room]:
    room = ROOMS[request.param]()
    before = set(room.registry.list())
    yield room
    for name in set(room.registry.list()) - before:
        room.registry.remove(name)


def _one() -> int:
    return 1


def _two() -> int:
    return 2


def test_every_registry_is_the_core_registry(room: Room) -> None:
    assert isinstance(room.registry, Registry)
    assert room.list() == room.registry.list() and room.list()


def test_unknown_name_suggests_close_names(room: Room) -> None:
    known = room.list()[0]
    with pytest.raises(UnknownNameError, match=rf"Did you mean .*'{known}'.* See list_\w+\(\)\."):
        room.get(known + "q")
    with pytest.raises(KeyError):  # UnknownNameError stays a KeyError
        room.get("no-such-entry")


def test_taken_name_raises_unless_overwrite(room: Room) -> None:
    room.register("zz_conf")(_one)
    with pytest.raises(ArgumentError, match=r"'zz_conf' is already registered.*overwrite=True"):
        room.register("zz_conf")(_two)
    with pytest.raises(ValueError):  # ArgumentError stays a ValueError
        room.register("zz_conf")(_one)  # the same object again is still a second registration
    assert room.entry(room.registry.get("zz_conf")) is _one
    room.register("zz_conf", overwrite=True)(_two)
    assert room.entry(room.registry.get("zz_conf")) is _two


def test_list_filters_with_shell_patterns(room: Room) -> None:
    for name in ("zz_conf_a", "zz_conf_b", "zz_conf_ab"):
        room.register(name)(_one)
    assert room.list("zz_conf_*") == ["zz_conf_a", "zz_conf_ab", "zz_conf_b"]
    assert room.list("zz_conf_?") == ["zz_conf_a", "zz_conf_b"]
    assert room.list("ZZ_CONF_*") == []  # case-sensitive on every platform
    assert room.list() == sorted(room.list())
    assert {"zz_conf_a", "zz_conf_b"} <= set(room.list("*"))


@pytest.mark.parametrize("bad", ["", "  ", None, 3])
def test_a_name_is_a_non_empty_string(room: Room, bad: Any) -> None:
    with pytest.raises(ArgumentError, match="non-empty string"):
        room.register(bad)(_one)


def test_each_recommender_is_named_by_its_key() -> None:
    from kgtransfer.protocols import RecommenderLike
    from kgtransfer.transfer.recommend import get_recommender, list_recommenders

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the deprecated alias "logme"
        made = {name: get_recommender(name) for name in list_recommenders()}
    wrong = {key: rec.name for key, rec in made.items() if rec.name != key}
    assert wrong == {"logme": "score:logme"}  # the alias builds score:logme, not a "logme"
    assert all(isinstance(rec, RecommenderLike) for rec in made.values())
    assert made["score:hscore"].name == "score:hscore"
