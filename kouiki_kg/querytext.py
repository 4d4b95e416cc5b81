"""What a SPARQL query's text says before it is evaluated: whether it calls SERVICE, its form,
the dataset its FROM / FROM NAMED clauses define, and whether it is light (`is_light`); and
page queries' placeholders filled with RDF terms (`fill`).

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
    r"|(?P<op>&&|\|\||[-+*/|^]|[!<>]=?|=)"  # operators and property-path separators
    r"|(?P<punct>[;,])",
)
# Oxigraph's parser and evaluator recurse: on a worker's 8 MB stack, 5,000 nested parentheses or
# braces, 2,000 path steps, or 10,000 terms of one sum or UNION crash the process. Far above any
# real query, far below those.
MAX_NESTING = 128
MAX_OPERATORS = 1000
MAX_UNIONS = 1000


def fill(sparql: str, terms: dict) -> str:
    """A page query with its `$name$` placeholders filled by RDF terms.

    The terms are pyoxigraph objects (a NamedNode has validated its IRI), written in their
    N-Triples form, so nothing a client sends can change the query's structure. A list of terms
    fills a VALUES block (space-separated).
    """
    for name, value in terms.items():
        items = value if isinstance(value, (list, tuple)) else [value]
        if not all(isinstance(term, (ox.NamedNode, ox.Literal)) for term in items):
            raise TypeError(f"{name}: expected NamedNodes or Literals")
        sparql = sparql.replace(f"${name}$", " ".join(str(term) for term in items))
    return sparql


def in_chunks(query, sparql: str, terms: list, size: int = 1000):
    """The rows of `sparql`, whose `$values$` fills a VALUES block, for every one of `terms`
    (NamedNodes or Literals), asked `size` terms at a time: each answer stays small."""
    for start in range(0, len(terms), size):
        yield from query(fill(sparql, {"values": terms[start:start + size]}))


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


# --- light queries ---------------------------------------------------------------------------------
# A light query's cost is bounded by the neighbourhood of the terms it names, not by the size of
# the store: every triple pattern is reached from a constant subject or a variable already bound
# (forwards, along a resource's own triples), with at most one step backwards in the whole query
# (from a named object, or a bound variable, to the subjects that point at it through a named
# predicate other than rdf:type: classes are the store's largest hubs), and at most two patterns
# bring in new variables — so the answer has at most (largest degree)² rows before filters,
# whatever the patterns (`<s> ?p ?a . <s> ?q ?b . <s> ?r ?c` is a product, and not light).
# Patterns that only check bound terms are free. No property paths, subqueries, UNION, MINUS,
# GRAPH, SERVICE, VALUES, EXISTS, blank-node brackets or lists; OPTIONAL groups (not nested) are
# held to the same rule, seeing only what the group outside them binds. A DESCRIBE of named
# resources only is light; CONSTRUCT is not (its template multiplies). Anything the reading below
# does not recognise makes a query not light.

LIGHT_PATTERNS = 12  # triple patterns at most
LIGHT_EXPANSIONS = 2  # patterns that bring in new variables, at most
_BARRED = {"SERVICE", "GRAPH", "UNION", "MINUS", "VALUES", "EXISTS", "SELECT", "CONSTRUCT", "DESCRIBE", "ASK",
           "OPTIONAL", "FILTER", "BIND", "WHERE", "FROM"}  # inside brackets: a subpattern or a misreading
_TYPE = {"a", "rdf:type", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"}


class _NotLight(Exception):
    """The query is outside what `is_light` can vouch for."""


class _Reader:
    """The query's tokens, one at a time: comments dropped, a statement's final dot split off."""

    def __init__(self, query: str):
        tokens, end = [], 0
        for kind, text, start in _scan(query):
            if query[end:start].strip():  # a character no token covers: a path's ?, a stray symbol
                raise _NotLight
            end = start + len(text)
            if kind == "skip" and text[:1] == "#":
                continue
            if kind == "word" and text.endswith(".") and text.strip("."):
                tokens += [(kind, text.rstrip(".")), ("word", ".")]
            else:
                tokens.append((kind, text))
        if query[end:].strip():
            raise _NotLight
        self.tokens, self.at = tokens, 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def keyword(self) -> str:
        kind, text = self.peek()
        return text.upper() if kind == "word" else ""

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end":
            raise _NotLight
        self.at += 1
        return token

    def skip_brackets(self) -> None:
        """Past one balanced ( … ) (an expression): it may hold no group pattern."""
        if self.take()[1] != "(":
            raise _NotLight
        depth = 1
        while depth:
            kind, text = self.take()
            if text in "{}[]" and kind in ("open", "close") or kind == "word" and text.upper() in _BARRED:
                raise _NotLight
            depth += {"(": 1, ")": -1}.get(text, 0)

    def term(self) -> tuple[str, str]:
        """One RDF term as ("var" | "iri" | "string" | "other", text)."""
        kind, text = self.take()
        if kind == "iri" or kind == "word" and ":" in text and text[:1] not in "?$_@":
            return "iri", text
        if kind == "word" and (text[:1] in "?$" or text.startswith("_:")):
            return "var", text.lstrip("?$")  # a blank node's label joins as a variable does
        if kind == "skip":  # a string: its language tag or datatype follows
            if self.peek()[0] == "word" and self.peek()[1].startswith("@"):
                self.take()
            elif self.peek()[1] == "^":
                self.take(), self.take()
                self.term()
                return "other", text
            return "string", text
        if kind == "word" and text not in (".", "a") and text.upper() not in _BARRED:
            return "other", text  # numbers, true, false
        raise _NotLight


def is_light(query: str) -> bool:
    """Whether evaluating the query touches only a few resources' triples (see above)."""
    try:
        patterns, optionals = _light_query(_Reader(query))
    except _NotLight:
        return False
    if len(patterns) + sum(map(len, optionals)) > LIGHT_PATTERNS:
        return False
    found = _anchored(patterns, frozenset(), 0, 0)
    for optional in optionals:
        if found is None:
            break
        inside = _anchored(optional, *found)
        found = inside and (found[0], inside[1], inside[2])  # what an OPTIONAL binds stays inside it
    return found is not None


def _light_query(reader: _Reader) -> tuple[list, list]:
    while reader.keyword() in ("BASE", "PREFIX"):
        reader.take()
        if reader.keyword() != "" and reader.peek()[1].endswith(":"):
            reader.take()  # the prefix's name
        if reader.take()[0] != "iri":
            raise _NotLight
    form = reader.keyword()
    reader.take()
    described = False
    if form == "SELECT":
        while reader.peek()[1] != "{" and reader.keyword() not in ("WHERE", "FROM"):
            reader.skip_brackets() if reader.peek()[1] == "(" else reader.take()
    elif form == "DESCRIBE":
        while reader.peek()[0] != "end" and reader.peek()[1] != "{" and reader.keyword() not in ("WHERE", "FROM"):
            if reader.term()[0] != "iri":
                raise _NotLight  # DESCRIBE ?x describes what its pattern finds
            described = True
    elif form != "ASK":
        raise _NotLight
    while reader.keyword() == "FROM":
        reader.take()
        if reader.keyword() == "NAMED":
            reader.take()
        if reader.term()[0] != "iri":
            raise _NotLight
    if form == "DESCRIBE":
        if not described or reader.peek()[0] != "end":
            raise _NotLight
        return [], []
    if reader.keyword() == "WHERE":
        reader.take()
    patterns, optionals = _light_group(reader, optionals=[])
    while reader.peek()[0] != "end":  # GROUP BY, HAVING, ORDER BY, LIMIT, OFFSET
        kind, text = reader.peek()
        if text == "(":
            reader.skip_brackets()
        elif kind in ("open", "close") or reader.keyword() in _BARRED:
            raise _NotLight
        else:
            reader.take()
    return patterns, optionals


def _light_group(reader: _Reader, optionals: list | None) -> tuple[list, list]:
    """A group's triple patterns; its OPTIONAL groups' patterns appended to `optionals` (None:
    inside an OPTIONAL, where another is not light)."""
    if reader.take()[1] != "{":
        raise _NotLight
    patterns: list = []
    while True:
        kind, text = reader.peek()
        keyword = reader.keyword()
        if text == "}":
            reader.take()
            return patterns, optionals
        if text == "." or kind == "punct":
            reader.take()
        elif keyword in ("FILTER", "BIND"):
            reader.take()
            if keyword == "FILTER" and reader.peek()[0] == "word":  # FILTER regex(…), not FILTER NOT EXISTS
                if reader.keyword() in _BARRED or reader.keyword() == "NOT":
                    raise _NotLight
                reader.take()
            reader.skip_brackets()
        elif keyword == "OPTIONAL" and optionals is not None:
            reader.take()
            optionals.append(_light_group(reader, None)[0])
        elif kind in ("iri", "word", "skip") and keyword not in _BARRED:
            _light_triples(reader, patterns)
        else:
            raise _NotLight


def _light_triples(reader: _Reader, patterns: list) -> None:
    """One subject with its predicate-object lists (`;` and `,`)."""
    subject = reader.term()
    while True:
        kind, verb = reader.take()
        if kind == "word" and verb[:1] in "?$":
            predicate = ("var", verb[1:])
        elif kind == "iri" or kind == "word" and (verb == "a" or ":" in verb):
            predicate = ("iri", verb)
        else:
            raise _NotLight
        if reader.peek()[0] in ("op", "open"):
            raise _NotLight  # a property path
        patterns.append((subject, predicate, reader.term()))
        while reader.peek()[1] == ",":
            reader.take()
            patterns.append((subject, predicate, reader.term()))
        if reader.peek()[1] != ";":
            return
        while reader.peek()[1] == ";":
            reader.take()
        if reader.peek()[1] in (".", "}") or reader.keyword() in _BARRED:
            return


def _anchored(patterns: list, bound: frozenset, steps_back: int,
              expansions: int) -> tuple[frozenset, int, int] | None:
    """(variables bound, steps backwards, patterns that brought in new variables) once every
    pattern is reached as light queries reach them — forwards whenever possible — or None."""
    bound, left = set(bound), list(patterns)
    while left:
        forward = [p for p in left if p[0][0] == "iri" or p[0][0] == "var" and p[0][1] in bound]
        back = [p for p in left if p[1][0] == "iri" and p[1][1] not in _TYPE
                and (p[2][0] in ("iri", "string") or p[2][0] == "var" and p[2][1] in bound)]
        if forward:
            step = forward[0]
        elif back and steps_back == 0:
            step, steps_back = back[0], 1
        else:
            return None
        left.remove(step)
        new = {term[1] for term in step if term[0] == "var"} - bound
        expansions += bool(new)
        if expansions > LIGHT_EXPANSIONS:
            return None
        bound |= new
    return frozenset(bound), steps_back, expansions
