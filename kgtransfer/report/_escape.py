"""Escaping report text: CSV cells against formula injection, Markdown cells and lines.

Ids in a report come from the graph, i.e. from whoever wrote a model card or a
table, so they are treated as hostile text in every output format.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = ["csv_frame", "csv_unescape", "markdown_text"]

# OWASP "CSV injection": a cell a spreadsheet may read as a formula starts with one of
# these (full-width forms too; some spreadsheets fold them), possibly after blanks.
_FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
_QUOTE = "'"


def _csv_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet could run as a formula.

    Text that already starts with ``'`` gets one more, so :func:`csv_unescape` (strip
    one leading ``'``) restores every text exactly. Numbers are returned unchanged.
    """
    if not isinstance(value, str) or not value:
        return value
    stripped = value.lstrip().lstrip("\ufeff\u200b").lstrip()  # any Unicode blank, BOM
    if (
        value[0] in _FORMULA_START
        or value[0] == _QUOTE
        or (stripped and stripped[0] in _FORMULA_START)
    ):
        return _QUOTE + value
    return value


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` safe to open in a spreadsheet: text cells and column names
    that could start a formula (``= + - @``, tab, CR) are prefixed with ``'``.

    Numeric columns are left alone, so ``-0.131`` stays the number -0.131.
    """
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_object_dtype(out[col]) or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_csv_cell)
    out.columns = [_csv_cell(str(c)) for c in out.columns]
    return out


def csv_unescape(value: Any) -> Any:
    """Undo :func:`csv_frame` for one cell or column name (strip one leading ``'``)."""
    if isinstance(value, str) and value.startswith(_QUOTE):
        return value[1:]
    return value


# Characters with a Markdown (CommonMark/GFM) meaning anywhere in a line; ``_`` only
# matters at a word boundary (intraword ``_`` never opens or closes emphasis).
_MD_ANYWHERE = re.compile(r"[\\`*\[\]|~$]|(?<![^\W_])_|_(?![^\W_])")
# Line starts that would make a block (heading, list, quote, setext/thematic break).
_MD_LINE_START = re.compile(r"^(\s*)(?:([-+=>#])|(\d+)([.)]))")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x09\x0e-\x1f\x7f]")


def _escape_line_start(m: re.Match[str]) -> str:
    if m.group(2):  # heading, list bullet, quote or setext underline
        return m.group(1) + "\\" + m.group(2)
    return m.group(1) + m.group(3) + "\\" + m.group(4)  # "1." / "1)" would start a list


def markdown_text(value: Any) -> str:
    """``value`` as literal Markdown text on one line, safe in a table cell or list item.

    Backslashes and Markdown punctuation are backslash-escaped (a ``|`` cannot end a
    table cell), ``< > &`` become entities (no raw HTML), line breaks and control
    characters (tabs too) become spaces (a newline cannot break a table row), and
    leading and trailing spaces are dropped.

    Example:
        >>> markdown_text("a|b <i>x</i>\\nnext")
        'a\\\\|b &lt;i&gt;x&lt;/i&gt; next'
    """
    text = _LINE_BREAKS.sub(" ", str(value))
    # leading blanks could turn a list item into a code block; Markdown drops them anyway
    text = _CONTROL.sub(" ", text).strip(" ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_ANYWHERE.sub(lambda m: "\\" + m.group(0), text)
    text = _MD_LINE_START.sub(_escape_line_start, text)
    return text
