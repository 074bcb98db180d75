"""What a SPARQL text may do, decided from its parse, before pyoxigraph runs it.

pyoxigraph evaluates ``SERVICE`` (a federated query: an HTTP request to any endpoint)
and ``LOAD`` (an HTTP or file fetch) and exposes no parser to look at a query first, so
:func:`check_sparql` reads the text with rdflib's SPARQL 1.1 parser
(``rdflib.plugins.sparql.parser.parseQuery`` / ``parseUpdate``), translates it to the
SPARQL algebra (``translateQuery`` / ``translateUpdate``, with kgtransfer's predeclared
prefixes) and walks both trees, so a construct is found wherever it is nested: groups,
``OPTIONAL``, ``UNION``, ``MINUS``, subqueries, ``EXISTS`` filters, an update's ``WHERE``.

Refused, with :class:`~kgtransfer.errors.QueryRefusedError`:

* ``SERVICE`` (with an IRI or a variable endpoint, ``SILENT`` or not), in queries and updates;
* ``LOAD`` (``SILENT`` or not, alone or in a multi-operation update);
* a dataset naming a graph outside the store: ``FROM``, ``FROM NAMED``, ``USING``,
  ``USING NAMED`` and ``WITH`` are accepted only with kgtransfer graph IRIs (under
  ``https://w3id.org/kgtransfer/id/``); other engines dereference such IRIs;
* an update, unless the caller allows updates;
* text the parser cannot read. The dialect accepted is SPARQL 1.1 Query and Update as
  parsed by rdflib (``\\uXXXX`` escapes expanded first, as the SPARQL grammar says);
  pyoxigraph extensions rdflib does not read (RDF-star ``<< >>``, ``LATERAL``, ...) are
  refused.

As a second, independent check, a small lexer reads the text the way pyoxigraph's
tokenizer does (comments, short and long strings, IRIs) and refuses a bare ``SERVICE``
or ``LOAD`` keyword even if rdflib read the text differently; the two parsers must
agree that there is none. Parse results are cached by text (named queries repeat).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from kgtransfer.errors import QueryRefusedError
from kgtransfer.kg.iri import ID_BASE
from kgtransfer.kg.vocab import PREFIXES

__all__ = ["DIALECT", "CheckedSparql", "check_sparql"]

#: The SPARQL dialect :func:`check_sparql` accepts, as named in its error messages.
DIALECT = "SPARQL 1.1 Query/Update as read by rdflib's parser"

_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})")
_IRIREF = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_WORD_BREAK = re.compile(r"[\s{}()\[\];,=!|&*/+^<>'\"#@]")
_REMOTE_WORDS = {"SERVICE": "SERVICE", "LOAD": "LOAD"}


@dataclass(frozen=True)
class CheckedSparql:
    """What :func:`check_sparql` found in an accepted text."""

    kind: Literal["query", "update"]
    #: ``SelectQuery``, ``AskQuery``, ``ConstructQuery``, ``DescribeQuery`` or ``Update``.
    form: str


@dataclass(frozen=True)
class _Analysis:
    kind: Literal["query", "update"] | None
    form: str
    refusals: tuple[str, ...]
    parse_error: str | None = None


def check_sparql(text: str, *, allow_update: bool = False) -> CheckedSparql:
    """Parse ``text`` and refuse remote access, updates (unless allowed) and unreadable text.

    Args:
        text: A SPARQL 1.1 query or update; the prefixes kgt, mls, prov, dcat, dcterms,
            dqv, skos, rdf, rdfs and xsd are predeclared.
        allow_update: Accept an update (``LOAD`` is refused all the same).

    Returns:
        The kind (``query`` or ``update``) and form of the text.

    Raises:
        ArgumentError: ``text`` is not a string.
        QueryRefusedError: ``SERVICE``, ``LOAD``, a dataset (``FROM``/``USING``/``WITH``)
            outside the store, an update without ``allow_update``, or text rdflib's
            SPARQL 1.1 parser cannot read.

    Example:
        >>> check_sparql("SELECT ?m WHERE { ?m a mls:Model }").form
        'SelectQuery'
        >>> check_sparql("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
        Traceback (most recent call last):
        ...
        kgtransfer.errors.QueryRefusedError: SPARQL SERVICE is refused: ...
    """
    if not isinstance(text, str):
        from kgtransfer.errors import ArgumentError

        raise ArgumentError(f"sparql must be a str, got {type(text).__name__}.")
    if not text.strip():
        raise QueryRefusedError("SPARQL refused: the text is empty; give a query.")
    _check_size(text)
    found = _analyse(text)
    if found.parse_error is not None:
        raise QueryRefusedError(
            f"SPARQL refused: it is not {DIALECT} ({found.parse_error}). kgtransfer runs only "
            "text this parser reads, so it can check what the query does; rewrite it in "
            "standard SPARQL 1.1."
        )
    if found.refusals:
        raise QueryRefusedError(found.refusals[0])
    if found.kind == "update" and not allow_update:
        raise QueryRefusedError(
            "SPARQL UPDATE is refused by query(); pass allow_update=True to modify the graph."
        )
    assert found.kind is not None
    return CheckedSparql(found.kind, found.form)


#: Longest SPARQL text the check reads. rdflib's parser is pure Python and slow on long
#: expressions (a 12 KB ``FILTER`` chain takes seconds, 64 KB over half a minute on this
#: project's 2-core machine) and runs before the query's timeout can apply.
MAX_CHARS = 20_000
#: Deepest nesting of ``( [ {`` the check reads (rdflib's recursive parser fails near 30).
MAX_DEPTH = 24
_RECURSION_ROOM = 5000


def _check_size(text: str) -> None:
    """Refuse text too long or too deeply nested to parse in bounded time."""
    if len(text) > MAX_CHARS:
        raise QueryRefusedError(
            f"SPARQL refused: the text is {len(text):,} characters, more than the "
            f"{MAX_CHARS:,} the check reads. Pass long lists of values as bindings (a "
            "VALUES block, or query(..., bindings=...)) instead of spelling them out, or "
            "split the query."
        )
    depth, deepest, i, n = 0, 0, 0, len(text)
    while i < n:
        char = text[i]
        if char == "#":
            end = min((p for p in (text.find("\n", i), text.find("\r", i)) if p >= 0), default=n)
            i = end
            continue
        if char in "'\"":
            i = _string_end(text, i)
            continue
        if char == "<":
            match = _IRIREF.match(text, i)
            if match:
                i = match.end()
                continue
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
        i += 1
    if deepest > MAX_DEPTH:
        raise QueryRefusedError(
            f"SPARQL refused: brackets nest {deepest} levels deep, more than the {MAX_DEPTH} "
            "the check reads. Flatten the expression (e.g. `a || b || c` needs no brackets "
            "around each term) or split the query."
        )


@lru_cache(maxsize=512)
def _analyse(text: str) -> _Analysis:
    refusals = list(_lexical_refusals(text))
    parsed, kind, error = _parse(text)
    if parsed is None:
        return _Analysis(None, "", tuple(refusals), error)
    trees: list[Any] = [parsed]
    try:
        trees.append(_translate(parsed, kind))
    except Exception as exc:  # unknown prefix, bad variable scope, ...
        return _Analysis(None, "", tuple(refusals), _short(exc))
    structural = [r for tree in trees for r in _tree_refusals(tree)]
    # the parse tree's finding comes first: it names the construct the way rdflib read it
    ordered = list(dict.fromkeys(structural + refusals))
    form = "Update" if kind == "update" else _form(parsed)
    return _Analysis(kind, form, tuple(ordered))


def _parse(text: str) -> tuple[Any, Literal["query", "update"], str | None]:
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    errors: list[tuple[int, str]] = []
    # rdflib's parser recurses ~30 frames per bracket level: give text within MAX_DEPTH
    # room wherever the caller's stack stands (a deep caller otherwise fails at ~20 levels)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, _RECURSION_ROOM))
    try:
        for kind, parse in (("query", parseQuery), ("update", parseUpdate)):
            try:
                return parse(text), kind, None  # type: ignore[return-value]
            except Exception as exc:  # pyparsing errors, RecursionError, bad escapes
                errors.append((int(getattr(exc, "loc", -1)), _short(exc)))
    finally:
        sys.setrecursionlimit(limit)
    # report the reading that got further into the text
    return None, "query", max(errors, key=lambda e: e[0])[1]


def _translate(parsed: Any, kind: str) -> Any:
    from rdflib.plugins.sparql import algebra

    if kind == "update":
        return algebra.translateUpdate(parsed, initNs=PREFIXES)
    return algebra.translateQuery(parsed, initNs=PREFIXES)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _form(parsed: Any) -> str:
    for part in parsed:
        name = getattr(part, "name", None)
        if name:
            return str(name)
    return "Query"


def _iter_nodes(tree: Any) -> Any:
    """Every node of a parse or algebra tree (iterative, so deep nesting cannot overflow)."""
    from pyparsing import ParseResults

    stack = [tree]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, ParseResults):
            stack.extend(node)
            stack.extend(node[key] for key in node.keys())  # noqa: SIM118 (named results)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, (list, tuple, set, frozenset)):
            stack.extend(node)
        elif hasattr(node, "algebra"):  # rdflib Query / Update wrappers
            stack.append(node.algebra)


def _tree_refusals(tree: Any) -> list[str]:
    out: list[str] = []
    for node in _iter_nodes(tree):
        name = getattr(node, "name", None)
        if not isinstance(name, str) or not isinstance(node, dict):
            continue
        if name == "ServiceGraphPattern":
            out.append(_remote("SERVICE", "federated queries send requests to other endpoints"))
        elif name == "Load":
            out.append(_remote("LOAD", "it fetches a document from a URL or file"))
        elif name in ("DatasetClause", "UsingClause"):
            for key in ("default", "named"):
                if key in node:  # CompValue.get(key) returns the key when it is missing
                    out.extend(_dataset_refusal(dict.__getitem__(node, key), "FROM/USING"))
        if "withClause" in node:
            out.extend(_dataset_refusal(dict.__getitem__(node, "withClause"), "WITH"))
    return out


def _dataset_refusal(iri: Any, clause: str) -> list[str]:
    if iri is None:
        return []
    value = str(iri)
    if value.startswith(ID_BASE):
        return []
    return [
        f"SPARQL {clause} <{value}> is refused: kgtransfer's graphs are named {ID_BASE}...; "
        "a dataset naming another IRI asks for remote data, which kgtransfer never fetches. "
        "Drop the clause (the default graph is the union of all graphs) or use GRAPH."
    ]


def _remote(keyword: str, why: str) -> str:
    return (
        f"SPARQL {keyword} is refused: {why}, and kgtransfer never reaches outside its graph. "
        "Load the data into the graph first (ZooGraph.load_rdf)."
    )


def _lexical_refusals(text: str) -> list[str]:
    """A bare SERVICE or LOAD keyword, read by a tokenizer independent of rdflib.

    The text is read both as given and with ``\\u`` escapes expanded, and a keyword in
    either reading counts: this check only ever adds refusals.
    """
    expanded = _UNICODE_ESCAPE.sub(_unescape, text)
    out = []
    for word in {*_words(text), *_words(expanded)}:
        keyword = _REMOTE_WORDS.get(word.strip(".").upper())
        if keyword:
            out.append(
                _remote(keyword, "the text has the keyword outside strings, IRIs and comments")
            )
    return sorted(set(out))


def _unescape(match: re.Match[str]) -> str:
    try:
        return chr(int(match.group(1) or match.group(2), 16))
    except (ValueError, OverflowError):
        return match.group(0)


def _words(text: str) -> list[str]:
    """Bare words of ``text``, skipping comments, strings and IRIs as SPARQL's lexer does."""
    words: list[str] = []
    i, n = 0, len(text)
    start = -1
    while i < n:
        char = text[i]
        skip_to = -1
        if char == "#":
            end = min((p for p in (text.find("\n", i), text.find("\r", i)) if p >= 0), default=n)
            skip_to = end
        elif char in "'\"":
            skip_to = _string_end(text, i)
        elif char == "<":
            match = _IRIREF.match(text, i)
            if match:
                skip_to = match.end()
        if skip_to >= 0 or _WORD_BREAK.match(char):
            if start >= 0:
                words.append(text[start:i])
                start = -1
            i = max(skip_to, i + 1)
            continue
        if start < 0:
            start = i
        i += 1
    if start >= 0:
        words.append(text[start:])
    return words


def _string_end(text: str, i: int) -> int:
    quote = text[i]
    long_quote = quote * 3
    if text.startswith(long_quote, i):
        j = i + 3
        while j < len(text):
            if text[j] == "\\":
                j += 2
            elif text.startswith(long_quote, j):
                return j + 3
            else:
                j += 1
        return len(text)
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
        elif text[j] == quote or text[j] in "\n\r":
            return j + 1
        else:
            j += 1
    return len(text)
