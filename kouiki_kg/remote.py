"""The store layer's remote half: any SPARQL 1.1 endpoint (Oxigraph server, Fuseki, Virtuoso…)
in place of the embedded store, and the SPARQL 1.1 Graph Store Protocol to load it.

`RemoteStore` offers what `store.GraphStore` offers (SPARQL, triple patterns, existence) and
returns the same pyoxigraph terms, so pages, the SPARQL endpoint and the dataset description
work unchanged on top of it. Two things a remote store cannot do like the embedded one:

- A blank node cannot be named in a later query. A look-up by subject therefore fetches the
  subject's triples *and* the blank nodes under it in one query (the closure our pages show),
  and look-ups on those blank nodes are answered from that answer.
- Queries must see the union of the named graphs as their default graph: configure the
  endpoint so (`oxigraph serve --union-default-graph`, Fuseki's `tdb2:unionDefaultGraph`;
  Virtuoso does it by default). Pattern look-ups here say `GRAPH ?g` and do not depend on it.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import urllib.parse
from collections import OrderedDict
from pathlib import Path

import pyoxigraph as ox

from .failures import RequestFailed
from .namespaces import PREFIXES
from .querytext import fill, query_form, without_dataset_clause

RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
}
GRAPH_TYPES = {"application/n-triples": ox.RdfFormat.N_TRIPLES, "text/turtle": ox.RdfFormat.TURTLE,
               "application/n-quads": ox.RdfFormat.N_QUADS}
# By query form: asked for results first, Virtuoso answers a CONSTRUCT as a table of ?s ?p ?o.
ACCEPT_RESULTS = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
ACCEPT_GRAPH = "application/n-triples, text/turtle;q=0.9, application/n-quads;q=0.5"
EMPTY_GRAPH = "urn:x-kouiki:empty-graph"  # names no graph: an empty half of a dataset
CLOSURE_DEPTH = 3  # blank nodes under a subject, as deep as our data nests them
DESCRIPTION_CACHE = 20_000  # subjects whose fetched descriptions a process keeps per data version


class StoreUnavailable(RequestFailed):
    """The remote store did not answer, or answered with something that is not SPARQL."""


class _Http:
    """One keep-alive connection per thread to one server (page renders make many small requests)."""

    def __init__(self, url: str, timeout: float):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.path = parts.path or "/"
        self.query = parts.query
        self.timeout = timeout
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            kind = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            conn = self._local.conn = kind(self.host, self.port, timeout=self.timeout)
        return conn

    def request(self, method: str, params: dict | list | None = None, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, str, bytes]:
        query = urllib.parse.urlencode(params or [], doseq=True)
        target = self.path + ("?" + "&".join(q for q in (self.query, query) if q) if (self.query or query) else "")
        for attempt in (1, 2):  # a kept-alive connection the server has closed fails once
            conn = self._connection()
            try:
                conn.request(method, target, body=body, headers=headers or {})
                response = conn.getresponse()
                data = response.read()
                return response.status, response.getheader("Content-Type", ""), data
            except (OSError, http.client.HTTPException) as err:
                conn.close()
                self._local.conn = None
                if attempt == 2 or isinstance(err, TimeoutError):
                    raise StoreUnavailable(f"{self.scheme}://{self.host}:{self.port}{self.path}: {err}") from None
        raise AssertionError("unreachable")


def _media(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def _prologue(prefixes: dict[str, str] | None) -> str:
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in (prefixes or {}).items())


def _readable_blank_nodes(body: bytes, media: str) -> bytes:
    """Virtuoso names blank nodes `nodeID://b123` in JSON results, which is no blank-node label:
    such labels are rewritten (one to one) so that the results parse."""
    if b"nodeID://" not in body or media != "application/sparql-results+json":
        return body
    data = json.loads(body)
    for binding in data.get("results", {}).get("bindings", []):
        for value in binding.values():
            if value.get("type") == "bnode":
                value["value"] = re.sub(r"\W", lambda m: f"_{ord(m.group()):x}_", value["value"])
    return json.dumps(data).encode("utf-8")


class RemoteStore:
    """A SPARQL 1.1 endpoint read like the embedded store."""

    def __init__(self, endpoint: str, timeout: float = 30.0):
        self.endpoint = endpoint
        self._http = _Http(endpoint, timeout)
        self._checker = ox.Store()  # empty: parses queries so syntax errors read as they do locally
        self._descriptions: OrderedDict = OrderedDict()  # subject → its quads and its blank nodes'
        self._blank: dict = {}  # blank node → quads with it as subject (from the descriptions)
        self._lock = threading.Lock()

    # --- SPARQL --------------------------------------------------------------------------------

    def query(self, sparql: str, *, prefixes: dict[str, str] | None = PREFIXES, base_iri: str | None = None,
              use_default_graph_as_union: bool = True, union_default_graph: bool | None = None,
              default_graph=None, named_graphs=None, default_graphs=None):
        """Evaluate remotely; same arguments and results as pyoxigraph's Store.query (and StoreView's).

        A query that does not parse raises pyoxigraph's SyntaxError, with its line and column,
        before anything is sent. The dataset goes as the protocol's parameters (a store serving
        a union default graph ignores a query's FROM), the base IRI as a BASE the query's own
        BASE overrides.
        """
        self._checker.query(sparql, prefixes=prefixes, base_iri=base_iri)  # parses only: results are lazy, never read
        dataset: list[tuple[str, str]] = []
        if default_graph is not None or named_graphs is not None:
            # A whole dataset (store.dataset_options gives both halves): as parameters, the query's
            # own clauses taken out (Virtuoso merges the two), and an empty half named by a graph
            # that never exists (Virtuoso reads an absent half as "every graph").
            sparql = without_dataset_clause(sparql)
            for name, graphs in (("default-graph-uri", default_graph), ("named-graph-uri", named_graphs)):
                dataset += [(name, getattr(g, "value", g)) for g in graphs or []] or [(name, EMPTY_GRAPH)]
        elif default_graphs is not None:  # StoreView's: these graphs as the default, every named graph
            dataset = [("default-graph-uri", g) for g in default_graphs]
        params = [("query", (f"BASE <{base_iri}>\n" if base_iri else "") + _prologue(prefixes) + sparql), *dataset]
        status, content_type, body = self._http.request(
            "POST", body=urllib.parse.urlencode(params).encode("utf-8"),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                     "Accept": ACCEPT_GRAPH if query_form(sparql) in ("CONSTRUCT", "DESCRIBE") else ACCEPT_RESULTS})
        media = _media(content_type)
        if status >= 500 or status in (401, 403, 404, 405):
            raise StoreUnavailable(f"the SPARQL store answered {status}: {body[:300].decode('utf-8', 'replace')}")
        if status != 200:  # the store refused what we could parse: an evaluation error
            raise ValueError(f"the SPARQL store refused the query ({status}): {body[:500].decode('utf-8', 'replace')}")
        try:
            if media in RESULT_TYPES:
                return ox.parse_query_results(_readable_blank_nodes(body, media), format=RESULT_TYPES[media])
            if media in GRAPH_TYPES:
                return [q.triple for q in ox.parse(body, format=GRAPH_TYPES[media])]
        except SyntaxError as err:  # e.g. a body cut short by the store's own time limit
            raise StoreUnavailable(f"the SPARQL store sent an unreadable answer: {err}") from None
        raise StoreUnavailable(f"the SPARQL store answered with {content_type or 'no content type'}")

    def query_with(self, sparql: str, **terms):
        return self.query(fill(sparql, terms))

    # --- patterns ------------------------------------------------------------------------------

    def _description(self, subject: ox.NamedNode) -> list[ox.Quad]:
        """The subject's quads and those of the blank nodes under it, fetched in one query."""
        with self._lock:
            if subject in self._descriptions:
                self._descriptions.move_to_end(subject)
                return self._descriptions[subject]
        chain, branches = "", [f"{{ BIND({subject} AS ?s) ?s ?p ?o }}"]
        for level in range(1, CLOSURE_DEPTH + 1):
            chain += f"{subject if level == 1 else f'?b{level - 1}'} ?q{level} ?b{level} . FILTER isBlank(?b{level}) "
            branches.append(f"{{ {chain} ?b{level} ?p ?o BIND(?b{level} AS ?s) }}")
        rows = self.query(f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH ?g {{ {' UNION '.join(branches)} }} }}", prefixes=None)
        quads = list(dict.fromkeys(ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows))
        with self._lock:
            self._descriptions[subject] = quads
            for quad in quads:
                if isinstance(quad.subject, ox.BlankNode):
                    self._blank.setdefault(quad.subject, set()).add(quad)
            while len(self._descriptions) > DESCRIPTION_CACHE:
                _, dropped = self._descriptions.popitem(last=False)
                for quad in dropped:
                    self._blank.pop(quad.subject, None)
        return quads

    def iter_quads(self, subject=None, predicate=None, obj=None, graph=None):
        if isinstance(subject, ox.BlankNode):
            with self._lock:
                found = list(self._blank.get(subject, ()))
            candidates = found
        elif isinstance(subject, ox.NamedNode):
            candidates = [q for q in self._description(subject) if q.subject == subject]
        else:
            pattern = " ".join(str(t) if t is not None else f"?{v}" for t, v in ((subject, "s"), (predicate, "p"), (obj, "o")))
            where = f"GRAPH {graph if graph is not None else '?g'} {{ {pattern} }}"
            quads = []
            for row in self.query(f"SELECT * WHERE {{ {where} }}", prefixes=None):
                quads.append(ox.Quad(row["s"] if subject is None else subject, row["p"] if predicate is None else predicate,
                                     row["o"] if obj is None else obj, row["g"] if graph is None else graph))
            return quads
        return [q for q in candidates if (predicate is None or q.predicate == predicate)
                and (obj is None or q.object == obj) and (graph is None or q.graph_name == graph)]

    def triples(self, subject=None, predicate=None, obj=None) -> list[ox.Triple]:
        return list(dict.fromkeys(q.triple for q in self.iter_quads(subject, predicate, obj)))

    def quads(self):
        return self.iter_quads()

    def has_subject(self, node) -> bool:
        return bool(self.query(f"ASK {{ GRAPH ?g {{ {node} ?p ?o }} }}", prefixes=None))

    def is_graph(self, node) -> bool:
        return bool(self.query(f"ASK {{ GRAPH {node} {{ ?s ?p ?o }} }}", prefixes=None))


class GraphStoreClient:
    """SPARQL 1.1 Graph Store Protocol, indirect graph identification (?graph=IRI)."""

    def __init__(self, endpoint: str, timeout: float = 300.0):
        self.endpoint = endpoint
        self._http = _Http(endpoint, timeout)

    def put(self, graph: str, turtle: bytes) -> None:
        self._check(self._http.request("PUT", {"graph": graph}, turtle, {"Content-Type": "text/turtle; charset=utf-8"}),
                    f"PUT {graph}")

    def put_file(self, graph: str, path: Path) -> None:
        self.put(graph, path.read_bytes())

    def delete(self, graph: str) -> None:
        status, _, body = self._http.request("DELETE", {"graph": graph})
        if status not in (200, 204, 404):  # 404: already gone
            self._check((status, "", body), f"DELETE {graph}")

    @staticmethod
    def _check(answer: tuple[int, str, bytes], what: str) -> None:
        status, _, body = answer
        if status not in (200, 201, 204):
            raise StoreUnavailable(f"{what}: the graph store answered {status}: {body[:300].decode('utf-8', 'replace')}")
