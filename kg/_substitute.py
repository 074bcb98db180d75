"""Pre-bound variables for a SPARQL server: pyoxigraph's ``substitutions``, in the text.

pyoxigraph binds a substituted variable *before* evaluation, everywhere in the query
(nested groups, FILTERs, OPTIONALs, subqueries). The SPARQL 1.1 Protocol has no such
parameter, and a ``VALUES`` join is not the same (a FILTER in a nested group, or an
OPTIONAL that binds the variable, would not see it). :func:`substitute` therefore replaces
each occurrence of the variable by its term, serialised by pyoxigraph (never formatted by
us), and keeps the query valid: a projected ``?v`` becomes ``(term AS ?v)``, ``BOUND(?v)``
becomes ``true``, ``GROUP BY``/``ORDER BY ?v`` become ``(term)``, ``... AS ?v`` is kept,
and ``SELECT *`` gets a trailing ``VALUES`` clause so the variable is still a column.
Strings, IRIs and comments are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pyoxigraph as ox

from kgtransfer.errors import ArgumentError

__all__ = ["substitute"]

_TOKEN = re.compile(
    r"""(?P<comment>\#[^\n]*)
      | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
                   |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
      | (?P<iri><[^<>"{}|^`\\\s]*>)
      | (?P<var>[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<space>\s+)
      | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
_CLAUSE_END = {"WHERE", "FROM"}


def substitute(sparql: str, substitutions: Mapping[Any, Any]) -> str:
    """``sparql`` with each variable of ``substitutions`` bound to its term.

    Args:
        sparql: The query text.
        substitutions: Variable (name or ``pyoxigraph.Variable``) -> IRI or literal.

    Raises:
        ArgumentError: A blank node or another non-term value.

    Example:
        >>> import pyoxigraph as ox
        >>> substitute("SELECT ?m ?n WHERE { ?m <p> ?n FILTER(BOUND(?m)) }",
        ...            {"m": ox.NamedNode("http://x/m")})
        'SELECT (<http://x/m> AS ?m) ?n WHERE { <http://x/m> <p> ?n FILTER(true) }'
    """
    terms: dict[str, str] = {}
    for key, value in substitutions.items():
        name = key.value if isinstance(key, ox.Variable) else str(key)
        if not isinstance(value, ox.NamedNode | ox.Literal):
            raise ArgumentError(
                f"The value bound to ?{name} must be an IRI or a literal, got {value!r} (a "
                "blank node cannot be named in a request to a SPARQL server)."
            )
        terms[name] = str(value)
    if not terms:
        return sparql
    tokens = [(m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(sparql)]
    nested, grouped = _nested_projections(tokens, terms)
    n_selects = 0
    out: list[str] = []
    previous: list[str] = []  # significant tokens so far (upper-cased words)
    projection = False  # inside a SELECT's projection list
    star = False
    depth = 0  # parentheses
    skip_close = False
    for kind, text in tokens:
        if kind in ("space", "comment", "string", "iri"):
            out.append(text)
            if kind in ("string", "iri"):
                previous.append(text)
            continue
        upper = text.upper() if kind == "word" else text
        if skip_close and kind == "other" and text == ")":
            skip_close, depth = False, depth - 1
            continue
        if kind == "word" and upper == "SELECT":
            projection, depth = True, 0
            n_selects += 1
        elif projection and depth == 0 and (upper in _CLAUSE_END or text == "{"):
            projection = False
        if kind == "other" and text == "*" and projection and depth == 0:
            star = True
        if kind == "other" and text in "()":
            depth += 1 if text == "(" else -1
        if kind == "var" and text[1:] in terms:
            term = terms[text[1:]]
            last = previous[-1] if previous else ""
            if last == "AS":
                out.append(text)
            elif last == "(" and len(previous) > 1 and previous[-2] == "BOUND":
                # BOUND ( ?v ) -> true: drop "BOUND (" already written, and the ")"
                _drop_back(out, 2)
                out.append("true")
                skip_close = True
            elif projection and depth == 0:
                # kept when a subquery or the GROUP BY already binds it to the term
                keep = (n_selects == 1 and text[1:] in nested) or text[1:] in grouped
                out.append(text if keep else f"({term} AS {text})")
            elif depth == 0 and _in_modifier(previous) == "GROUP":
                out.append(text if text[1:] in nested else f"({term} AS {text})")
            elif depth == 0 and _in_modifier(previous) == "ORDER":
                out.append(f"({term})")
            else:
                out.append(term)
            previous.append(text)
            continue
        out.append(text)
        previous.append(upper)
    text = "".join(out)
    if star:
        names = " ".join(f"?{name}" for name in terms)
        text += f"\nVALUES ({names}) {{ ({' '.join(terms.values())}) }}"
    return text


def _nested_projections(
    tokens: list[tuple[str, str]], terms: Mapping[str, str]
) -> tuple[set[str], set[str]]:
    """Substituted variables that a subquery (a SELECT after the first) projects, and
    those some GROUP BY (not already bound by a subquery) names."""
    found: set[str] = set()
    grouped: set[str] = set()
    n_selects, projection, depth = 0, False, 0
    previous: list[str] = []
    for kind, text in tokens:
        if kind in ("space", "comment"):
            continue
        if kind == "var" and depth == 0 and text[1:] in terms and _in_modifier(previous) == "GROUP":
            grouped.add(text[1:])
        previous.append(text.upper() if kind == "word" else text)
        upper = text.upper() if kind == "word" else text
        if kind == "word" and upper == "SELECT":
            n_selects, projection, depth = n_selects + 1, True, 0
        elif projection and depth == 0 and (upper in _CLAUSE_END or text == "{"):
            projection = False
        if kind == "other" and text in "()":
            depth += 1 if text == "(" else -1
        if kind == "var" and projection and depth == 0 and n_selects > 1 and text[1:] in terms:
            found.add(text[1:])
    return found, grouped - found


def _in_modifier(previous: list[str]) -> str | None:
    """``GROUP`` or ``ORDER`` when the last clause opened is a GROUP BY or ORDER BY list."""
    for i in range(len(previous) - 1, -1, -1):
        token = previous[i]
        if token == "BY" and i:
            return previous[i - 1] if previous[i - 1] in ("GROUP", "ORDER") else None
        if token in ("{", "}", "WHERE", "HAVING", "LIMIT", "OFFSET", "VALUES", "SELECT"):
            return None
    return None


def _drop_back(out: list[str], n_tokens: int) -> None:
    """Remove the last ``n_tokens`` significant pieces written to ``out`` (and spaces)."""
    while n_tokens and out:
        piece = out.pop()
        if piece.strip():
            n_tokens -= 1
