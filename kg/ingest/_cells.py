"""Cell parsing shared by the table and card readers: one place decides what
counts as missing, a number, an integer or a flag."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CellError", "as_bool", "as_float", "as_int", "as_str", "is_missing"]


class CellError(ValueError):
    """A present cell has the wrong type (message says what was expected)."""


def is_missing(value: Any) -> bool:
    """``None``, NaN/``<NA>`` or a blank string: the value is unknown."""
    if type(value) is str:  # the common case, first
        return value.strip() == ""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    return False


def as_str(value: Any) -> str:
    """A present cell as a stripped string.

    Ids are text: a number given where text is expected keeps its written form
    without a float round trip, so ``1``, ``np.int64(1)`` and ``1.0`` (a pandas
    integer column that held a NaN became float) all give ``"1"``. Text is never
    reinterpreted: ``"1.0"`` stays ``"1.0"``.

    Example:
        >>> as_str(1), as_str(1.0), as_str(np.float64(2.5)), as_str(" 01 ")
        ('1', '1', '2.5', '01')
    """
    if type(value) is str:  # the common case, first
        return _unicode(value.strip())
    if isinstance(value, (list, tuple, dict)):
        raise CellError(f"expected a single text value, got a {type(value).__name__}")
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            raise CellError(f"expected a text id, got the number {number!r}")
        return str(int(number)) if number.is_integer() else str(value)
    return _unicode(str(value).strip())


def _unicode(text: str) -> str:
    """``text`` if it can be written as UTF-8 (stored, exported, put in an IRI)."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate, e.g. from a bad decode
            raise CellError(
                f"expected text, got a lone surrogate {text[exc.start]!r} at position "
                f"{exc.start}, which is not Unicode text (decode the source as UTF-8)"
            ) from None
    return text


def as_float(value: Any) -> float:
    """A present cell as a finite float."""
    if isinstance(value, (bool, np.bool_)):
        raise CellError("expected a number, got a boolean")
    if isinstance(value, (int, float, np.integer, np.floating)):
        try:
            out = float(value)
        except OverflowError:
            raise CellError("expected a finite number (too large)") from None
    elif isinstance(value, str):
        try:
            out = float(value.strip().replace("_", ""))
        except ValueError:
            raise CellError("expected a number") from None
    else:
        raise CellError(f"expected a number, got a {type(value).__name__}")
    if not math.isfinite(out):
        raise CellError("expected a finite number")
    return out


def as_int(value: Any) -> int:
    """A present cell as an integer (``3.0`` is fine, ``3.5`` is not).

    Integers and integer text are read exactly (no float round trip, so a seed
    such as ``12345678901234567`` keeps every digit).
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d[\d_]*", value.strip()):
        return int(value.strip())
    out = as_float(value)
    if not out.is_integer():
        raise CellError("expected a whole number")
    return int(out)


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def as_bool(value: Any) -> bool:
    """A present cell as a boolean (true/false, yes/no, 1/0)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text.endswith(".0"):
        text = text[:-2]
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError("expected true/false")
