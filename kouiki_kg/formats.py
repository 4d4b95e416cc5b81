"""One table of output formats: short name ↔ media type ↔ pyoxigraph format.

Adding a format touches this file only; the CLI (and later the HTTP endpoint) read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    name: str  # short name used in ?format= and --format
    media_type: str
    extension: str
    rdf: ox.RdfFormat | None = None  # for graphs (CONSTRUCT/DESCRIBE, export)
    results: ox.QueryResultsFormat | None = None  # for SELECT/ASK

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"


RESULT_FORMATS = {
    f.name: f for f in (
        Format("json", "application/sparql-results+json", "srj", results=ox.QueryResultsFormat.JSON),
        Format("xml", "application/sparql-results+xml", "srx", results=ox.QueryResultsFormat.XML),
        Format("csv", "text/csv", "csv", results=ox.QueryResultsFormat.CSV),
        Format("tsv", "text/tab-separated-values", "tsv", results=ox.QueryResultsFormat.TSV),
    )
}

GRAPH_FORMATS = {
    f.name: f for f in (
        Format("ttl", "text/turtle", "ttl", rdf=ox.RdfFormat.TURTLE),
        Format("nt", "application/n-triples", "nt", rdf=ox.RdfFormat.N_TRIPLES),
        Format("nq", "application/n-quads", "nq", rdf=ox.RdfFormat.N_QUADS),
        Format("trig", "application/trig", "trig", rdf=ox.RdfFormat.TRIG),
        Format("jsonld", "application/ld+json", "jsonld", rdf=ox.RdfFormat.JSON_LD),
        Format("rdfxml", "application/rdf+xml", "rdf", rdf=ox.RdfFormat.RDF_XML),
    )
}

# Formats that can carry named graphs (a whole-store export keeps each file's graph).
DATASET_FORMATS = ("nq", "trig", "jsonld")

# Other names clients use for the same formats (what SPARQLWrapper, Jena and browsers send).
ALIASES = {
    "application/json": "json", "application/sparql-results+json": "json",
    "application/xml": "xml", "text/xml": "xml", "application/sparql-results+xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
    "text/turtle": "ttl", "application/x-turtle": "ttl", "application/turtle": "ttl",
    "application/n-triples": "nt", "text/plain": "nt", "application/n-quads": "nq", "text/x-nquads": "nq",
    "application/trig": "trig", "application/ld+json": "jsonld", "application/rdf+xml": "rdfxml",
}

# Short names also accepted in ?format= (as Fuseki and Virtuoso clients send them).
FORMAT_PARAM_ALIASES = {"turtle": "ttl", "ntriples": "nt", "n-triples": "nt", "nquads": "nq", "json-ld": "jsonld",
                        "rdf": "rdfxml", "rdf+xml": "rdfxml", "srj": "json", "srx": "xml"}


def parse_accept(header: str | None) -> list[tuple[str, float, int]]:
    """Accept → [(media range, q, position)], best first; malformed parts are skipped."""
    ranges = []
    for position, part in enumerate((header or "").split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media or "/" not in media:
            continue
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append((media, q, position))
    return sorted(ranges, key=lambda r: (-r[1], r[2]))


def _specificity(media_range: str, media_type: str) -> int | None:
    """How precisely a media range matches a type: 2 exact, 1 type/*, 0 */*, None no match."""
    if media_range == media_type:
        return 2
    kind, _, sub = media_range.partition("/")
    if sub == "*" and media_type.startswith(kind + "/"):
        return 1
    if media_range == "*/*":
        return 0
    return None


def negotiate(accept: str | None, offered: dict[str, Format], default: str) -> Format | None:
    """The offered format the client prefers most; `default` when it expresses no preference.

    q-values, wildcards and lists are honoured; q=0 refuses. The most specific matching range
    decides a type's quality (RFC 9110 §12.5.1). None when nothing offered is acceptable.
    """
    ranges = parse_accept(accept)
    if not ranges:
        return offered[default]
    candidates = []
    for name, fmt in offered.items():
        aliases = [m for m, n in ALIASES.items() if n == name and m != fmt.media_type]
        best = None  # (specificity, q, position)
        for media_range, q, position in ranges:
            spec = _specificity(media_range, fmt.media_type)
            if spec is None and media_range in aliases:  # other names count only when named exactly:
                spec = 2  # text/* must not fetch SPARQL XML because it is also known as text/xml
            if spec is not None and (best is None or (spec, -position) > (best[0], -best[2])):
                best = (spec, q, position)
        if best is not None and best[1] > 0:
            # a wildcard match ranks below an explicit one of the same q; the default wins ties among wildcards
            candidates.append((best[1], best[0], name == default, -best[2], name))
    if not candidates:
        return None
    return offered[max(candidates)[4]]


def by_name(name: str, offered: dict[str, Format]) -> Format | None:
    """A ?format= value: a short name, an alias or a media type."""
    key = name.strip().lower()
    key = FORMAT_PARAM_ALIASES.get(key, ALIASES.get(key, key))
    return offered.get(key)


def convert_turtle(turtle: str, fmt: Format) -> bytes:
    """Re-serialise a Turtle document in another RDF format."""
    from .namespaces import PREFIXES

    triples = [q.triple for q in ox.parse(input=turtle.encode("utf-8"), format=ox.RdfFormat.TURTLE)]
    if fmt.rdf in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):  # triples in the default graph are fine there
        quads = [ox.Quad(t.subject, t.predicate, t.object) for t in triples]
        return ox.serialize(quads, format=fmt.rdf, prefixes=PREFIXES if fmt.rdf == ox.RdfFormat.TRIG else None)
    return ox.serialize(triples, format=fmt.rdf, prefixes=PREFIXES if fmt.name in ("ttl", "rdfxml") else None)


# What a steward may upload (/validate, PUT /cases, kouiki-kg validate and ingest):
# short name → (pyoxigraph format, media types, file extensions)
UPLOAD_FORMATS = {
    "ttl": (ox.RdfFormat.TURTLE, ("text/turtle", "application/x-turtle"), (".ttl",)),
    "nt": (ox.RdfFormat.N_TRIPLES, ("application/n-triples",), (".nt",)),
    "jsonld": (ox.RdfFormat.JSON_LD, ("application/ld+json", "application/json"), (".jsonld", ".json")),
    "rdfxml": (ox.RdfFormat.RDF_XML, ("application/rdf+xml", "application/xml", "text/xml"), (".rdf", ".xml", ".owl")),
}
