"""What a SPARQL query's text says before it is evaluated: whether it calls SERVICE, its form,
and the dataset its FROM / FROM NAMED clauses define.

A cheap scan of the tokens, not a parser: strings and comments are skipped, IRIs kept whole.
Where an IRI must be resolved (relative IRIs, prefixed names), Oxigraph's own parser does it,
so the answer is the one the engine would give.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pyoxigraph as ox

from .namespaces import PREFIXES, QUERY_BASE

_TOKEN = re.compile(
    r'(?P<skip>"""(?:[^"\\]|\\.|"(?!""))*"""'  # long strings
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'  # strings
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|#[^\n]*)"  # comments
    r'|(?P<iri><[^<>"{}|^`\\\s]*>)'
    r"""|(?P<word>[?$]?[^\s{}()\[\];,<>"'#?$*/|^!=+&]+)"""  # keywords, prefixed names, variables
    r"|(?P<open>[({\[])|(?P<close>[)}\]])"
    r"|(?P<op>&&|\|\||[-+*/|^]|[!<>]=?|=)",  # operators and property-path separators
)
# Oxigraph's parser and evaluator recurse: on a worker's 8 MB stack, 5,000 nested parentheses or
# braces, 2,000 path steps, or 10,000 terms of one sum or UNION crash the process. Far above any
# real query, far below those.
MAX_NESTING = 128
MAX_OPERATORS = 1000
MAX_UNIONS = 1000


def complexity(query: str) -> dict[str, int]:
    """How deep brackets nest, how many operators (and path separators) and UNIONs a query has."""
    depth = deepest = operators = unions = 0
    for kind, text, _ in _scan(query):
        if kind == "open":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind == "op":
            operators += 1
        elif kind == "word" and text.upper() == "UNION":
            unions += 1
    return {"nesting": deepest, "operators": operators, "unions": unions}


def too_complex(query: str) -> dict | None:
    """The limits a query passes ({limit: (found, allowed)}), or None when it is within them all."""
    found = complexity(query)
    over = {name: (found[name], limit) for name, limit in
            (("nesting", MAX_NESTING), ("operators", MAX_OPERATORS), ("unions", MAX_UNIONS)) if found[name] > limit}
    return over or None
_QUERY_FORMS = {"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"}


@lru_cache(maxsize=64)
def _scan(query: str) -> tuple[tuple[str, str, int], ...]:
    """Every token of a query as (kind, text, offset), once: the checks below all read a query
    that a request has just had scanned (SERVICE, limits, dataset, shape)."""
    return tuple((m.lastgroup, m.group(), m.start()) for m in _TOKEN.finditer(query))


def _tokens(query: str):
    """(kind, text, offset) of each IRI and word, strings, comments and punctuation left out."""
    return (token for token in _scan(query) if token[0] in ("iri", "word"))


def uses_service(query: str) -> bool:
    """Whether a query calls SERVICE (federation), ignoring strings, IRIs and comments."""
    return any(kind == "word" and text.upper() == "SERVICE" for kind, text, _ in _tokens(query))


def query_shape(query: str) -> str:
    """The query without comments, layout and literal values: queries of one shape cost alike
    (`ASK { ?s ?p 1 }` and `ASK { ?s ?p 2 }`), whatever comment a client adds to make it new."""
    parts = []
    for kind, text, _ in _scan(query):
        if kind == "skip":
            parts.append("''" if text[:1] in "\"'" else "")  # a string stays a string; a comment goes
        elif kind == "word" and text[:1] in "0123456789+-.":
            parts.append("0")
        else:
            parts.append(text)
    return " ".join(p for p in parts if p)


def query_form(query: str) -> str | None:
    """SELECT, CONSTRUCT, DESCRIBE or ASK: the first query-form keyword (None if there is none)."""
    return next((text.upper() for kind, text, _ in _tokens(query) if kind == "word" and text.upper() in _QUERY_FORMS),
                None)


def _dataset_spans(query: str) -> tuple[int | None, list[tuple[bool, str, int, int]]] | None:
    """(end of the prologue, [(named?, term, start, end) of each FROM clause]); None when a FROM
    is not followed by a term."""
    tokens = list(_tokens(query))
    prologue_end, spans = None, []
    for i, (kind, text, offset) in enumerate(tokens):
        word = text.upper() if kind == "word" else ""
        if prologue_end is None and word in _QUERY_FORMS:
            prologue_end = offset
        if word != "FROM" or prologue_end is None:
            continue
        rest = tokens[i + 1:i + 3]
        is_named = bool(rest) and rest[0][0] == "word" and rest[0][1].upper() == "NAMED"
        target = rest[1] if is_named and len(rest) > 1 else (rest[0] if rest and not is_named else None)
        if target is None:
            return None
        term = target[1].rstrip(".")
        spans.append((is_named, term, offset, target[2] + len(term)))
    return prologue_end, spans


def without_dataset_clause(query: str) -> str:
    """The query with its FROM / FROM NAMED clauses blanked out (lines and columns kept), for a
    store that is given the dataset as the protocol's parameters: Virtuoso merges the two."""
    found = _dataset_spans(query)
    if not found:
        return query
    for _, _, start, end in found[1]:
        query = query[:start] + " " * (end - start) + query[end:]
    return query


def dataset_clause(query: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The (default graphs, named graphs) that the query's FROM / FROM NAMED clauses name, as
    absolute IRIs, or None when it has no dataset clause (SPARQL 1.1 Query §13.2).

    FROM only ever begins a dataset clause, so any FROM token is one. Relative IRIs resolve
    against the query's BASE, else QUERY_BASE; prefixed names against its PREFIXes and ours.
    A query that does not parse gives None (its evaluation reports the error).
    """
    found = _dataset_spans(query)
    if found is None or found[0] is None or not found[1]:
        return None
    prologue_end, spans = found
    default = [term for is_named, term, _, _ in spans if not is_named]
    named = [term for is_named, term, _, _ in spans if is_named]
    try:
        return _resolve(query[:prologue_end], default), _resolve(query[:prologue_end], named)
    except SyntaxError:
        return None


def _resolve(prologue: str, terms: list[str]) -> tuple[str, ...]:
    """IRIs as Oxigraph reads them after this prologue (its BASE and PREFIX declarations)."""
    if not terms:
        return ()
    rows = ox.Store().query(f"{prologue}\nSELECT ?g WHERE {{ VALUES ?g {{ {' '.join(terms)} }} }}",
                            base_iri=QUERY_BASE, prefixes=PREFIXES)
    graphs = [row["g"] for row in rows]
    if len(graphs) != len(terms) or not all(isinstance(g, ox.NamedNode) for g in graphs):
        raise SyntaxError("not an IRI after FROM")  # the query's own parse says where
    return tuple(g.value for g in graphs)
