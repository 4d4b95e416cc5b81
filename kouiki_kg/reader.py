"""What a resource page or an RDF description shows, read from the store.

The same reading feeds every format: `describe()` gives the triples for Turtle, JSON-LD…;
`page()` gives the HTML templates their data. Lookups are bounded by the resource (its own
triples, the closure over its blank nodes, labels of what it points to); incoming links are
counted up to a cap and paged, so a page never walks the whole store.
"""

from __future__ import annotations

import pyoxigraph as ox
from markupsafe import Markup

from .listings import INCOMING, INCOMING_LISTED, LABEL_PROPERTIES as LABEL_IRIS, Listings, link_order, with_holders
from .markup import escaped
from .namespaces import BASE, GRAPH, KK, ONTOLOGY, PREFIXES, SHAPES, compact
from .store import GraphStore, term_order

# IRIs that name whole documents: they describe as their graph (their hash IRIs live inside).
DOCUMENT_GRAPHS = {
    ONTOLOGY: GRAPH + "ontology/kouiki",
    ONTOLOGY + "/0.2.0": GRAPH + "ontology/kouiki",  # the version IRI: this version is the current one
    ONTOLOGY + "/alignments": GRAPH + "ontology/alignments",
    SHAPES: GRAPH + "shapes/kouiki-shapes",
}

RDF_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")
# Properties a page lists first, in this order (what a thing is, its name, what it says, where it
# is); the others follow by name. Alphabetically, 終了行 (endLine) came before 開始行 (startLine).
FIRST_PROPERTIES = {iri: i for i, iri in enumerate([
    PREFIXES["rdf"] + "type", PREFIXES["skos"] + "prefLabel", PREFIXES["dct"] + "title", PREFIXES["rdfs"] + "label",
    PREFIXES["dct"] + "description", PREFIXES["dct"] + "isPartOf", KK + "startLine", KK + "endLine",
    PREFIXES["prov"] + "value"])}
LABEL_PROPERTIES = [ox.NamedNode(iri) for iri in LABEL_IRIS]
# Incoming links asked for at page time at most (more shows as "1,000+" with a SPARQL query for
# all of them): only a remote store whose data changed under its listings has so many here.
INCOMING_CAP = INCOMING_LISTED
PER_PAGE = 50


def page_of(items: int, page: int, per_page: int = PER_PAGE) -> tuple[int, int]:
    """(how many pages, the asked page brought into range) for `items` shown `per_page` a page."""
    pages = max(1, -(-items // per_page))
    return pages, min(max(page, 1), pages)


def local_path(iri: str) -> str | None:
    """Our IRIs as paths on this server; None for anything outside the canonical base, and for
    an IRI whose path would begin "//" (`{BASE}/evil.example/…` would be a link to another host)."""
    if not iri.startswith(BASE) or iri[len(BASE):].startswith("/"):
        return None
    return "/" + iri[len(BASE):]


class Text(str):
    """A text with the language it is written in (`lang`: its tag, "" if untagged), so that a
    Japanese name shown on an English page is marked lang="ja"."""

    __slots__ = ("lang",)

    def __new__(cls, value: str, lang: str = ""):
        text = super().__new__(cls, value)
        text.lang = lang
        return text


_NOT_YET = object()  # a Node's link target before it is first asked


class Node:
    """One RDF term, ready to show: its label and where a link to it should go.

    A plain class with slots: a page makes hundreds, and a dataclass's generated __init__ and a
    cached_property's lock cost a twentieth of a first render."""

    __slots__ = ("term", "label", "children", "holder", "via", "_href")

    def __init__(self, term, label: str | None = None, children: list | None = None,
                 holder: "Node | None" = None, via: "Node | None" = None):
        self.term, self.label = term, label
        self.children = [] if children is None else children  # for a blank node: its own (property, values) rows
        self.holder, self.via = holder, via  # for a blank node linking to a page: the IRI stating it, by which property
        self._href = _NOT_YET

    def __repr__(self) -> str:
        return f"Node({self.term!r}, {self.label!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Node) and (self.term, self.label, self.children, self.holder, self.via) == (
            other.term, other.label, other.children, other.holder, other.via)

    __hash__ = None  # equal by what they hold, which changes (children)

    @property
    def is_literal(self) -> bool:
        return isinstance(self.term, ox.Literal)

    @property
    def is_blank(self) -> bool:
        return isinstance(self.term, ox.BlankNode)

    @property
    def value(self) -> str:
        return self.term.value

    @property
    def lang(self) -> str | None:
        """The literal's language tag, in its usual case (the store keeps tags in lower case: ja-latn → ja-Latn)."""
        if not self.is_literal or not self.term.language:
            return None
        return "-".join(part.title() if i and len(part) == 4 else part.upper() if i and len(part) == 2 else part
                        for i, part in enumerate(self.term.language.split("-")))

    @property
    def datatype(self) -> str | None:
        if self.is_literal and not self.term.language:
            dt = self.term.datatype.value
            return None if dt == PREFIXES["xsd"] + "string" else compact(dt)
        return None

    @property
    def href(self) -> str | None:
        """Our IRIs link to this server (a hash IRI to its document and anchor); others as they are."""
        href = self._href
        if href is _NOT_YET:  # asked several times a link, hundreds of links a page: worked out once
            href = self._href = _href(self.term)
        return href

    @property
    def text(self) -> str:
        if self.is_literal:
            return Text(self.term.value, self.term.language or "")
        if self.label:
            return self.label
        return compact(self.term.value) if not self.is_blank else "…"

    @property
    def iri(self) -> str | None:
        return self.term.value if isinstance(self.term, ox.NamedNode) else None


def _href(term) -> str | None:
    if not isinstance(term, ox.NamedNode):
        return None
    local = local_path(term.value)
    if local is not None:
        return local
    return term.value if term.value.startswith(("http://", "https://")) else None


def link(node: Node) -> Markup:
    """A node as HTML: a link for IRIs, the text with its language or datatype for literals.
    Called by templates 100–200 times on a page; as a Jinja macro it cost a tenth of the render."""
    href = node.href
    if href:
        iri, label = node.term.value, node.label
        lang = getattr(label, "lang", "")
        lang = f' lang="{escaped(lang)}"' if lang else ""
        return Markup(f'<a href="{escaped(href)}" title="{escaped(iri)}"{lang}>{escaped(label or compact(iri))}</a>')
    if node.is_literal:
        lang, datatype = node.lang, node.datatype
        opening = f'<span class="literal" lang="{escaped(lang)}">' if lang else '<span class="literal">'
        html = f"{opening}{escaped(node.term.value)}</span>"
        if lang:
            html += f'<span class="tag">@{escaped(lang)}</span>'
        if datatype:
            html += f'<span class="tag">{escaped(datatype)}</span>'
        return Markup(html)
    if node.holder is not None:  # a blank node by where it is stated: "Initiative X › prov:qualifiedAssociation"
        return Markup(f'<span class="held">{link(node.holder)} <span aria-hidden="true">›</span> {link(node.via)}</span>')
    return Markup(f"<span>{escaped(node.text)}</span>")


_UNKNOWN = object()  # not looked up yet (None: looked up, no label)


def pick(values: dict[str, str], lang: str) -> Text | None:
    """The best text for a language: asked, then ja, then en, then untagged, then any."""
    for candidate in (lang, "ja", "en", ""):
        if candidate in values:
            return Text(values[candidate], candidate)
    return next((Text(value, tag) for tag, value in values.items()), None)


class Reader:
    """Resource-level reading of one build."""

    def __init__(self, store: GraphStore, listings: Listings):
        self.store = store
        self.listings = listings  # what the build answered once for browsing pages
        self._label_cache: dict[tuple[str, str], str | None] = {}
        self._place_cache: dict[str, list] = {}
        self._per_build: dict = {}

    def once(self, key, make):
        """What every page of a kind shows alike in a build (the prefectures on the map): made once."""
        if key not in self._per_build:
            self._per_build[key] = make()
        return self._per_build[key]

    # --- labels --------------------------------------------------------------------------------

    def labels(self, terms, lang: str) -> dict[str, str]:
        """Labels for IRIs in the best language available (from the build's listings, cached)."""
        known: dict[str, str | None] = {}
        missing = []
        for iri in dict.fromkeys(t.value for t in terms if isinstance(t, ox.NamedNode)):
            label = self._label_cache.get((iri, lang), _UNKNOWN)
            if label is _UNKNOWN:
                missing.append(iri)
            else:
                known[iri] = label
        if missing:
            found = self.listings.labels(missing)
            if len(self._label_cache) > 100_000:
                self._label_cache.clear()
            for iri in missing:
                known[iri] = self._label_cache[(iri, lang)] = pick(found[iri], lang) if iri in found else None
        return {iri: label for iri, label in known.items() if label is not None}

    def places(self, bodies: list[str]) -> dict[str, list[tuple[str, float, float]]]:
        """Where bodies (N-Triples) are on the map (see Listings.places), cached: a local
        government's map places a hundred or more bodies, and the same bodies recur page after page."""
        keys = list(dict.fromkeys(bodies))
        missing = [key for key in keys if key not in self._place_cache]
        if missing:
            if len(self._place_cache) > 100_000:
                self._place_cache.clear()
            found = self.listings.places(missing)
            for key in missing:
                self._place_cache[key] = found.get(key, [])
        return {key: self._place_cache[key] for key in keys if self._place_cache[key]}

    def node(self, term, lang: str) -> Node:
        return Node(term, self.labels([term], lang).get(getattr(term, "value", None)))

    def nodes(self, terms, lang: str) -> list[Node]:
        labels = self.labels(terms, lang)
        return [Node(t, labels.get(t.value) if isinstance(t, ox.NamedNode) else None) for t in terms]

    # --- existence and kind --------------------------------------------------------------------

    def exists(self, iri: str) -> bool:
        node = ox.NamedNode(iri)
        return iri in DOCUMENT_GRAPHS or self.store.has_subject(node) or self.store.is_graph(node)

    def types(self, iri: str) -> list[str]:
        return [t.object.value for t in self.store.triples(ox.NamedNode(iri), RDF_TYPE, None)]

    def _superclasses(self, cls: str) -> frozenset[str]:
        """A class and every class above it (rdfs:subClassOf*), asked once per build: the
        ontology's classes are few and every page asks its resource's."""
        return self.once(("superclasses", cls), lambda: frozenset(
            row["c"].value for row in self.store.query_with(
                "SELECT DISTINCT ?c WHERE { $t$ rdfs:subClassOf* ?c }", t=ox.NamedNode(cls))))

    def kind(self, iri: str) -> str:
        """Which page template shows this resource."""
        if DOCUMENT_GRAPHS.get(iri) == DOCUMENT_GRAPHS[ONTOLOGY]:
            return "ontology"
        if iri == SHAPES:
            return "shapes"
        classes = {c for t in self.store.triples(ox.NamedNode(iri), RDF_TYPE, None) if isinstance(t.object, ox.NamedNode)
                   for c in self._superclasses(t.object.value)}
        for cls, kind in (
            (KK + "Initiative", "initiative"), (KK + "LocalGovernment", "local_government"),
            (KK + "SourceDocument", "source"), (PREFIXES["skos"] + "ConceptScheme", "scheme"),
            (PREFIXES["skos"] + "Concept", "concept"), (KK + "BodyGrouping", "organisation"),
            (KK + "ExpertGroup", "organisation"), (PREFIXES["org"] + "Organization", "organisation"),
            (KK + "NationalGovernmentBody", "organisation"), (PREFIXES["org"] + "OrganizationalUnit", "organisation"),
        ):
            if cls in classes:
                return kind
        if not self.store.has_subject(ox.NamedNode(iri)) and self.store.is_graph(ox.NamedNode(iri)):
            return "graph"
        return "resource"

    # --- RDF descriptions ----------------------------------------------------------------------

    def describe(self, iri: str) -> list[ox.Triple]:
        """The resource's triples, the closure over its blank nodes, and labels of what it points to.

        The ontology and shapes IRIs name whole documents (hash IRIs), so they describe as their
        graph; a named graph's IRI describes as the graph's triples.
        """
        node = ox.NamedNode(iri)
        triples: dict[ox.Triple, None] = {}
        if iri in DOCUMENT_GRAPHS or (not self.store.has_subject(node) and self.store.is_graph(node)):
            graph = ox.NamedNode(DOCUMENT_GRAPHS.get(iri, iri))
            triples.update(dict.fromkeys(q.triple for q in self.store.iter_quads(graph=graph)))
        pending, seen = [node], set()
        while pending:  # the subject and every blank node reachable from it
            subject = pending.pop()
            if subject in seen:
                continue
            seen.add(subject)
            for triple in self.store.triples(subject):
                triples.setdefault(triple, None)
                if isinstance(triple.object, ox.BlankNode):
                    pending.append(triple.object)
        pointed = {t.object for t in triples if isinstance(t.object, ox.NamedNode)} | {
            t.predicate for t in triples}
        for target in pointed:  # labels of everything it points to
            for prop in LABEL_PROPERTIES:
                for triple in self.store.triples(target, prop):
                    triples.setdefault(triple, None)
        return list(triples)

    # --- what HTML pages show ------------------------------------------------------------------

    def properties(self, subject, lang: str, depth: int = 0) -> list[tuple[Node, list[Node]]]:
        """(property, values) rows of a subject; blank-node values carry their own rows."""
        grouped: dict[ox.NamedNode, list] = {}
        for triple in self.store.triples(subject):
            grouped.setdefault(triple.predicate, []).append(triple.object)
        rows = []
        predicate_labels = self.labels(grouped, lang)
        for predicate in sorted(grouped, key=lambda p: (FIRST_PROPERTIES.get(p.value, len(FIRST_PROPERTIES)), compact(p.value))):
            # the page's language first among literals (a Japanese page showed the English description first)
            values = self.nodes(sorted(grouped[predicate], key=lambda t: (getattr(t, "language", None) not in (lang, None),
                                                                          self._stable_key(t))), lang)
            for value in values:
                if value.is_blank and depth < 4:
                    value.children = self.properties(value.term, lang, depth + 1)
            rows.append((Node(predicate, predicate_labels.get(predicate.value)), values))
        return rows

    def _stable_key(self, term) -> tuple:
        """Sort order of values; blank nodes by what they say, since their labels change with every
        build (and differ between stores), so a page reads the same wherever it is made."""
        if isinstance(term, ox.BlankNode):
            return (2, "", tuple(sorted((t.predicate.value, str(t.object)) for t in self.store.triples(term)
                                        if not isinstance(t.object, ox.BlankNode))))
        return term_order(term)

    def incoming(self, iri: str, lang: str, page: int = 1, per_page: int = PER_PAGE) -> dict:
        """Incoming links grouped by property with counts, and one page of them.

        A busy object's (a concept's, a class's) were counted and listed at build time (see
        listings.py); any other's are fewer than BUSY, asked in one query bounded all the same: a
        remote store whose data changes under its listings sends at most the cap.
        """
        counts = self.listings.incoming_counts(iri)
        if counts:
            total = sum(counts.values())
            listed, exact = min(total, INCOMING_LISTED), True
            pages, page = page_of(listed, page, per_page)
            shown = self.listings.incoming(iri, (page - 1) * per_page, per_page)
        else:
            by_predicate, exact = self._incoming_now(iri)
            counts = {p: len(subjects) for p, subjects in by_predicate.items()}
            total = listed = sum(counts.values())
            # by property, then subject: the property names are compacted once each, not per link
            links = [(p, s, by_predicate[p][s]) for p in sorted(by_predicate, key=lambda p: compact(p.value))
                     for s in sorted(by_predicate[p], key=lambda s: link_order(s, by_predicate[p][s]))]
            pages, page = page_of(listed, page, per_page)
            shown = links[(page - 1) * per_page: page * per_page]
        labels = self.labels([t for _, s, held in shown for t in (s, *(held or ()))] + list(counts), lang)

        def subject(s, held) -> Node:
            if held is None:
                return Node(s, labels.get(getattr(s, "value", "")))
            holder, via = held
            return Node(s, holder=Node(holder, labels.get(holder.value)), via=Node(via, labels.get(via.value)))

        return {
            "groups": [(Node(p, labels.get(p.value)), n) for p, n in sorted(counts.items(), key=lambda c: (-c[1], compact(c[0].value)))],
            "links": [(Node(p, labels.get(p.value)), subject(s, held)) for p, s, held in shown],
            "total": total, "listed": listed, "exact": exact, "capped": listed < total or not exact,
            "page": page, "pages": pages,
            "query": f"SELECT ?subject ?property WHERE {{\n  ?subject ?property <{iri}>\n}} ORDER BY ?property ?subject",
        }

    def _incoming_now(self, iri: str) -> tuple[dict[ox.NamedNode, dict], bool]:
        """Subjects linking to `iri` by property, each with its holder (listings.with_holders), up
        to INCOMING_CAP in all, and whether that is all of them."""
        rows = list(self.store.query_with(f"{INCOMING} LIMIT {INCOMING_CAP + 1}", o=ox.NamedNode(iri)))
        links = with_holders(rows)
        by_predicate: dict[ox.NamedNode, dict] = {}
        for p, s in list(links)[:INCOMING_CAP]:
            by_predicate.setdefault(p, {})[s] = links[p, s]
        # a row more than the cap: more links than listed (a blank node stated twice is one link in two rows)
        return by_predicate, len(rows) <= INCOMING_CAP

    def select(self, sparql: str, lang: str, **terms) -> list[dict[str, Node]]:
        """Rows of a page query, every term wrapped as a labelled Node."""
        solutions = self.store.query_with(sparql, **terms)
        variables = [v.value for v in solutions.variables]
        rows = [{v: row[v] for v in variables if row[v] is not None} for row in solutions]
        labels = self.labels({t for row in rows for t in row.values() if isinstance(t, ox.NamedNode)}, lang)
        return [{v: Node(t, labels.get(t.value) if isinstance(t, ox.NamedNode) else None) for v, t in row.items()}
                for row in rows]

