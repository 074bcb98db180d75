"""Bindings of variables a SELECT does not project.

pyoxigraph substitutes projected variables only: ``SELECT ?arch WHERE { ?m kgt:architecture
?arch }`` with ``m`` bound fails. :func:`inline_unprojected` moves such bindings into an inline
``VALUES`` block at the start of the query's outer WHERE group, where they constrain the match
exactly like a substitution would (the values join the group's first pattern).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["inline_unprojected", "projected_variables"]


@lru_cache(maxsize=512)
def projected_variables(sparql: str) -> frozenset[str] | None:
    """Names a SELECT projects, or ``None`` (``SELECT *``, not a SELECT, or unreadable).

    Example:
        >>> sorted(projected_variables("SELECT ?a (1 AS ?b) WHERE { ?a ?p ?c }"))
        ['a', 'b']
        >>> projected_variables("SELECT * WHERE { ?a ?p ?c }") is None
        True
    """
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        body = parseQuery(sparql)[1]
    except Exception:  # the guard reports unreadable text in its own words
        return None
    if getattr(body, "name", None) != "SelectQuery" or "projection" not in body:
        return None
    names = set()
    for item in body["projection"]:
        for key in ("var", "evar"):
            if key in item:  # CompValue.get(key) returns the key when it is missing
                names.add(str(item[key]))
    return frozenset(names)


def _where_brace(sparql: str) -> int | None:
    """Index of the ``{`` opening the outer WHERE group (skips strings, IRIs, comments)."""
    i, n = 0, len(sparql)
    while i < n:
        ch = sparql[i]
        if ch == "#":
            end = sparql.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if ch in "\"'":
            quote = ch * 3 if sparql.startswith(ch * 3, i) else ch
            i += len(quote)
            while i < n and not sparql.startswith(quote, i):
                i += 2 if sparql[i] == "\\" else 1
            i += len(quote)
            continue
        if ch == "<":
            end = sparql.find(">", i)
            token = sparql[i + 1 : end] if end > 0 else ""
            if end > 0 and not any(c in token for c in ' \t\n{}"<'):
                i = end + 1
                continue
        if ch == "{":
            return i
        i += 1
    return None


def inline_unprojected(sparql: str, substitutions: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Move bindings of unprojected variables into a ``VALUES`` block of the WHERE group.

    Args:
        sparql: The query text.
        substitutions: Variable name -> pyoxigraph term.

    Returns:
        ``(sparql, substitutions)``: unchanged when every bound variable is projected (or
        the query is not a SELECT with an explicit projection); else the text with the
        unprojected ones inlined, and the rest.

    Example:
        >>> import pyoxigraph as ox
        >>> text, rest = inline_unprojected(
        ...     "SELECT ?a WHERE { ?m ?p ?a }", {"m": ox.NamedNode("http://x/m")}
        ... )
        >>> text, rest
        ('SELECT ?a WHERE { VALUES ?m { <http://x/m> } ?m ?p ?a }', {})
    """
    if not substitutions or "select" not in sparql.lower():
        return sparql, substitutions
    projected = projected_variables(sparql)
    if projected is None:
        return sparql, substitutions
    hidden = {k: v for k, v in substitutions.items() if k not in projected}
    brace = _where_brace(sparql) if hidden else None
    if brace is None:
        return sparql, substitutions
    block = "".join(f"VALUES ?{name} {{ {term} }} " for name, term in hidden.items())
    text = f"{sparql[: brace + 1]} {block}{sparql[brace + 1 :].lstrip()}"
    return text, {k: v for k, v in substitutions.items() if k in projected}
