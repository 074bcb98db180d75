"""scikit-learn parameters (``get_params`` / ``set_params``) shared by methods and recommenders.

A class's parameters are the named arguments of its ``__init__``, stored as they are
(``self.x = x``), so ``sklearn.clone`` rebuilds an equal, unfitted copy.
"""

from __future__ import annotations

import inspect
from typing import TypeVar

from kgtransfer.errors import ArgumentError

_P = TypeVar("_P", bound="ParamsMixin")


class ParamsMixin:
    """``get_params`` / ``set_params`` from the constructor's named arguments."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self, deep: bool = True) -> dict[str, object]:
        """Constructor parameters (scikit-learn convention; ``sklearn.clone`` works).

        With ``deep``, a parameter that has parameters itself adds them as ``name__key``.
        """
        out = {name: getattr(self, name) for name in self._param_names()}
        if deep:
            for name, value in list(out.items()):
                if hasattr(value, "get_params") and not isinstance(value, type):
                    out.update({f"{name}__{k}": v for k, v in value.get_params().items()})
        return out

    def set_params(self: _P, **params: object) -> _P:
        """Set constructor parameters (scikit-learn convention); returns self.

        Raises:
            ArgumentError: a name that is not a constructor parameter.
        """
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ArgumentError(
                    f"Invalid parameter {key!r} for {type(self).__name__}; valid: {sorted(valid)}."
                )
            setattr(self, key, value)
        return self
