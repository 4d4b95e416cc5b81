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
