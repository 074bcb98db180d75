"""The one registry type behind every ``register_*`` / ``get_*`` / ``list_*`` of kgtransfer.

Models, datasets, transferability scores, recommenders, transfer methods and ingest
adapters are each a :class:`Registry`, so they follow the same rules:

- a name is a non-empty string;
- registering a name that is taken raises :class:`~kgtransfer.errors.ArgumentError`
  unless ``overwrite=True`` (then the new entry replaces the old one);
- :meth:`Registry.list` returns the sorted names matching a shell pattern
  (:func:`fnmatch.fnmatchcase`: ``*``, ``?``, ``[seq]``; case-sensitive);
- an unknown name raises :class:`~kgtransfer.errors.UnknownNameError` (a ``KeyError``)
  that suggests close names and says where to look.

This module is part of the leaf core: it imports only the standard library and
:mod:`kgtransfer.errors`.
"""

from __future__ import annotations

import builtins
import fnmatch
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, overload

from kgtransfer.errors import ArgumentError, did_you_mean

__all__ = ["Registry"]

T = TypeVar("T")
V = TypeVar("V")


class Registry(Generic[T]):
    """Named entries of one kind, with the same rules for every kind.

    Args:
        what: What an entry is, for messages (``"model"``, ``"dataset"``, ...).
        hint: The last sentence of an unknown-name message; default
            ``"See list_<what>s()."``.

    Example:
        >>> colours: Registry[int] = Registry("colour")
        >>> @colours.register("red")
        ... def red() -> int:
        ...     return 1
        >>> colours.add("green", lambda: 2)  # doctest: +ELLIPSIS
        <function <lambda> at ...>
        >>> colours.list("r*"), colours.get("red")()
        (['red'], 1)
        >>> colours.get("rde")
        Traceback (most recent call last):
        kgtransfer.errors.UnknownNameError: Unknown colour 'rde'. Did you mean 'red'? See list_colours().
        >>> colours.add("red", lambda: 3)
        Traceback (most recent call last):
        kgtransfer.errors.ArgumentError: Colour 'red' is already registered; pick another name or pass overwrite=True.
    """

    def __init__(self, what: str, *, hint: str | None = None) -> None:
        self.what = what
        self.hint = hint or f"See list_{what.replace(' ', '_')}s()."
        self._entries: dict[str, T] = {}

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {len(self._entries)} entries)"

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def check_name(self, name: object) -> str:
        """Return ``name`` if it can be registered (a non-empty string), else raise.

        Raises:
            ArgumentError: ``name`` is not a non-empty string.
        """
        if not isinstance(name, str) or not name.strip():
            raise ArgumentError(
                f"A {self.what} name must be a non-empty string, got {name!r}; pass e.g. 'my_{self.what.replace(' ', '_')}'."
            )
        return name

    def add(self, name: str, obj: V, *, overwrite: bool = False) -> V:
        """Register ``obj`` under ``name`` and return it.

        Raises:
            ArgumentError: ``name`` is not a non-empty string, or it is taken and
                ``overwrite`` is False.
        """
        name = self.check_name(name)
        if name in self._entries and not overwrite:
            raise ArgumentError(
                f"{self.what[:1].upper()}{self.what[1:]} {name!r} is already registered; "
                "pick another name or pass overwrite=True."
            )
        self._entries[name] = obj  # type: ignore[assignment]
        return obj

    @overload
    def register(self, name: str, *, overwrite: bool = ...) -> Callable[[V], V]: ...

    @overload
    def register(self, name: str, obj: V, *, overwrite: bool = ...) -> V: ...

    def register(self, name: str, obj: object = None, *, overwrite: bool = False) -> object:
        """Register ``obj`` under ``name``; without ``obj``, a decorator that does.

        The name is checked at once, so a bad name fails where the decorator is written.
        """
        self.check_name(name)
        if obj is not None:
            return self.add(name, obj, overwrite=overwrite)

        def decorate(fn: V) -> V:
            return self.add(name, fn, overwrite=overwrite)

        return decorate

    def get(self, name: str) -> T:
        """The entry registered as ``name``.

        Raises:
            UnknownNameError: No such entry; the message suggests close names.
        """
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise did_you_mean(str(name), self._entries, what=self.what, hint=self.hint) from None

    def list(self, pattern: str | None = "*") -> builtins.list[str]:
        """Sorted names matching the shell pattern ``pattern`` (``None`` means all).

        Raises:
            ArgumentError: ``pattern`` is not a string.
        """
        if pattern is None:
            pattern = "*"
        if not isinstance(pattern, str):
            raise ArgumentError(
                f"pattern must be a shell pattern string such as '*' or 'cnn*', got {pattern!r}."
            )
        return sorted(n for n in self._entries if fnmatch.fnmatchcase(n, pattern))

    def remove(self, name: str) -> T:
        """Unregister ``name`` and return its entry (e.g. to undo a test's registration).

        Raises:
            UnknownNameError: No such entry.
        """
        entry = self.get(name)
        del self._entries[name]
        return entry

    def items(self) -> builtins.list[tuple[str, T]]:
        """``(name, entry)`` pairs, sorted by name."""
        return sorted(self._entries.items(), key=lambda kv: kv[0])
