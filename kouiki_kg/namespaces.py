"""The canonical IRI base and the namespaces built on it — the one place they are set.

Data files are written against ``BASE``; the server (later) maps request paths onto it.
"""

BASE = "https://w3id.org/kouiki/"

ONTOLOGY = BASE + "ontology"
KK = ONTOLOGY + "#"
SHAPES = BASE + "shapes"
DATASET = BASE + "dataset"
# The SPARQL endpoint's public IRI. Relative IRIs in a query resolve against it (a query's own
# BASE wins), so `<id/lg/022039>` names https://w3id.org/kouiki/id/lg/022039 wherever we are served.
ENDPOINT = BASE + "sparql"
QUERY_BASE = ENDPOINT
LG = BASE + "id/lg/"
ORG = BASE + "id/org/"
INITIATIVE = BASE + "id/initiative/"
CONCEPT = BASE + "concept/"
SOURCE = BASE + "source/"
GRAPH = BASE + "graph/"

# Standard vocabularies we reuse, by prefix. Used for SPARQL prologues and for the check
# that every term in the data is defined somewhere.
PREFIXES = {
    "kk": KK,
    "ks": SHAPES + "#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dct": "http://purl.org/dc/terms/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "org": "http://www.w3.org/ns/org#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "schema": "https://schema.org/",
    "geo": "http://www.w3.org/2003/01/geo/wgs84_pos#",
    "sh": "http://www.w3.org/ns/shacl#",
    "vann": "http://purl.org/vocab/vann/",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
}


def compact(iri: str) -> str:
    """An IRI as prefix:name where one of our prefixes fits (for people to read), else as it is."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def sparql_prologue(*names: str) -> str:
    """PREFIX lines for the given prefixes (all of them when none are named)."""
    chosen = names or tuple(PREFIXES)
    return "".join(f"PREFIX {n}: <{PREFIXES[n]}>\n" for n in chosen)
