"""The SPARQL dataset (Query §13, Protocol §2.1.4) and base IRIs, over HTTP on a real server.

The reference is what pyoxigraph answers on the same store when told the dataset the specs
define: the protocol's parameters if any (an absent half empty), else the query's FROM /
FROM NAMED (the engine reads them itself), else our union default graph. test_remote.py runs
the same matrix through the remote mode against `oxigraph serve`.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests
from SPARQLWrapper import JSON, SPARQLWrapper

from kouiki_kg.namespaces import GRAPH, PREFIXES, QUERY_BASE
from kouiki_kg.store import current_build

from .conftest import ROOT

KORYO = GRAPH + "cases/koryo-facility-sharing"
HACHINOHE = GRAPH + "cases/hachinohe-bus-network"
NOPE = "http://example.org/nope"

# {dataset} is replaced by each clause below
QUERIES = {
    "count": "SELECT (COUNT(*) AS ?n) {dataset} WHERE { ?s ?p ?o }",
    "graphs": "SELECT ?g (COUNT(*) AS ?n) {dataset} WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "ask": "ASK {dataset} { ?s ?p ?o }",
}
CLAUSES = {
    "none": "",
    "from": f"FROM <{KORYO}>",
    "from-two": f"FROM <{KORYO}> FROM <{HACHINOHE}>",
    "from-named": f"FROM NAMED <{KORYO}>",
    "from-and-named": f"FROM <{KORYO}> FROM NAMED <{HACHINOHE}>",
    "from-missing": f"FROM <{NOPE}>",
    "named-missing": f"FROM NAMED <{NOPE}>",
    "from-relative": "FROM <graph/cases/koryo-facility-sharing>",
    "from-prefixed": "FROM g:koryo-facility-sharing FROM NAMED kk:nothing",
}
PROLOGUE = {"from-prefixed": f"PREFIX g: <{GRAPH}cases/>\n"}
PARAMETERS = {  # (default-graph-uri, named-graph-uri)
    "no-parameters": ((), ()),
    "default": ((HACHINOHE,), ()),
    "named": ((), (KORYO,)),
    "both": ((KORYO,), (HACHINOHE,)),
    "default-missing": ((NOPE,), ()),
}
METHODS = ("get", "post-form", "post-direct")
MATRIX = [(q, c, p, METHODS[i % 3]) for i, (q, c, p) in enumerate(itertools.product(QUERIES, CLAUSES, PARAMETERS))]


def query_text(query: str, clause: str) -> str:
    return PROLOGUE.get(clause, "") + QUERIES[query].replace("{dataset}", CLAUSES[clause])


def expected(raw: ox.Store, query: str, parameters: str):
    """What the specs say, from pyoxigraph directly."""
    default, named = PARAMETERS[parameters]
    options = {"prefixes": PREFIXES, "base_iri": QUERY_BASE}
    if default or named:
        options.update(default_graph=[ox.NamedNode(g) for g in default], named_graphs=[ox.NamedNode(g) for g in named])
    elif " FROM " not in f" {query} ":
        options["use_default_graph_as_union"] = True
    result = raw.query(query, **options)
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    return sorted(tuple(sorted((v.value, row[v].value) for v in result.variables if row[v] is not None)) for row in result)


def answered(url: str, query: str, parameters: str, method: str):
    default, named = PARAMETERS[parameters]
    dataset = [("default-graph-uri", g) for g in default] + [("named-graph-uri", g) for g in named]
    accept = {"Accept": "application/sparql-results+json"}
    if method == "get":
        response = requests.get(url, params=[("query", query), *dataset], headers=accept, timeout=30)
    elif method == "post-form":
        response = requests.post(url, data=[("query", query), *dataset], headers=accept, timeout=30)
    else:
        response = requests.post(url, params=dataset, data=query.encode("utf-8"), timeout=30,
                                 headers={**accept, "Content-Type": "application/sparql-query"})
    assert response.status_code == 200, (query, parameters, response.text)
    body = response.json()
    if "boolean" in body:
        return body["boolean"]
    return sorted(tuple(sorted((k, v["value"]) for k, v in b.items())) for b in body["results"]["bindings"])


def check_matrix(url: str, raw: ox.Store, skip: set = frozenset()) -> None:
    """Every cell of the matrix, but those `skip` names as (query, clause, parameters)."""
    mismatches = []
    for query, clause, parameters, method in MATRIX:
        if (query, clause, parameters) in skip:
            continue
        text = query_text(query, clause)
        want, got = expected(raw, text, parameters), answered(url, text, parameters, method)
        if want != got:
            mismatches.append((query, clause, parameters, method, want, got))
    assert not mismatches, "\n".join(map(str, mismatches))


@pytest.fixture(scope="module")
def raw(store_dir):
    return ox.Store.read_only(str(current_build(store_dir) / "oxigraph"))


def test_the_dataset_matrix_matches_the_specs(server, raw):
    check_matrix(server.url + "/sparql", raw)


def test_the_reference_itself_tells_the_datasets_apart(raw):
    """The matrix would catch a server that ignores FROM: the reference gives different answers."""
    counts = {c: expected(raw, query_text("count", c), "no-parameters") for c in ("none", "from", "from-named")}
    koryo = counts["from"][0][0][1]
    assert int(koryo) < int(counts["none"][0][0][1])
    assert counts["from-named"] == [(("n", "0"),)]
    assert expected(raw, query_text("ask", "from-missing"), "no-parameters") is False


def test_from_restricts_the_default_graph_as_the_issue_reported(server):
    """The report: FROM was ignored (the whole store counted) and ASK FROM <nope> was true."""
    count = answered(server.url + "/sparql", query_text("count", "from"), "no-parameters", "get")
    triples = requests.get(server.url + "/health", timeout=10).json()
    assert 10 < int(count[0][0][1]) < 200, (count, triples)
    assert answered(server.url + "/sparql", query_text("ask", "from-missing"), "no-parameters", "get") is False
    graphs = answered(server.url + "/sparql", query_text("graphs", "from-named"), "no-parameters", "post-form")
    assert [dict(row)["g"] for row in graphs] == [KORYO]


def test_sparqlwrapper_with_a_from_clause(server):
    client = SPARQLWrapper(server.url + "/sparql")
    client.setQuery(f"SELECT (COUNT(*) AS ?n) FROM <{KORYO}> WHERE {{ ?s a kk:Initiative }}")
    client.setReturnFormat(JSON)
    assert client.queryAndConvert()["results"]["bindings"][0]["n"]["value"] == "1"


# --- base IRIs ---------------------------------------------------------------------------------

def test_relative_iris_resolve_against_the_endpoint_iri(server):
    url = server.url + "/sparql"
    empty = requests.get(url, params={"query": "SELECT * WHERE { <s> ?p ?o }"}, timeout=30)
    assert empty.status_code == 200 and empty.json()["results"]["bindings"] == []
    lg = requests.get(url, params={"query": "SELECT ?name WHERE { <id/lg/022039> skos:prefLabel ?name FILTER (lang(?name) = 'ja') }"},
                      timeout=30)
    assert [b["name"]["value"] for b in lg.json()["results"]["bindings"]] == ["八戸市"]
    bound = requests.get(url, params={"query": "SELECT ?x WHERE { BIND (<s> AS ?x) }"}, timeout=30).json()
    assert bound["results"]["bindings"][0]["x"]["value"] == "https://w3id.org/kouiki/s"


def test_a_base_in_the_query_wins(server):
    answer = requests.get(server.url + "/sparql", timeout=30,
                          params={"query": "BASE <http://example.org/a/> SELECT ?x WHERE { BIND (<s> AS ?x) }"}).json()
    assert answer["results"]["bindings"][0]["x"]["value"] == "http://example.org/a/s"


def test_w3c_protocol_query_content_type_construct(server):
    """Our version of the W3C SPARQL 1.1 protocol test `query_content_type_construct`: a CONSTRUCT
    with relative IRIs POSTed directly answers an RDF graph."""
    response = requests.post(server.url + "/sparql", data=b"CONSTRUCT { <s> <p> 1 } WHERE {}", timeout=30,
                             headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].split(";")[0] in (
        "text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json")
    graph = rdflib.Graph().parse(data=response.text, format=response.headers["Content-Type"].split(";")[0])
    assert set(graph) == {(rdflib.URIRef("https://w3id.org/kouiki/s"), rdflib.URIRef("https://w3id.org/kouiki/p"),
                           rdflib.Literal(1))}


def test_describe_with_a_relative_iri_is_the_resource(server):
    response = requests.get(server.url + "/sparql", params={"query": "DESCRIBE <id/lg/022039>"},
                            headers={"Accept": "text/turtle"}, timeout=30)
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    assert (rdflib.URIRef("https://w3id.org/kouiki/id/lg/022039"), None, None) in graph


def test_the_cli_query_has_the_endpoints_dataset_and_base(store_dir):
    def run(query):
        out = subprocess.run([str(Path(sys.executable).with_name("kouiki-kg")), "query", query, "--format", "csv"],
                             env={**os.environ, "KOUIKI_ROOT": str(ROOT), "KOUIKI_STORE": str(store_dir)},
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.split()
    assert run(f"ASK FROM <{NOPE}> {{ ?s ?p ?o }}") == ["false"]
    assert run("SELECT ?x WHERE { BIND (<id/lg/022039> AS ?x) }") == ["x", "https://w3id.org/kouiki/id/lg/022039"]


# --- the service description ------------------------------------------------------------------

@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples"])
def test_the_service_description_has_stable_bytes_for_its_strong_etag(server, accept):
    answers = [requests.get(server.url + "/sparql", headers={"Accept": accept}, timeout=30) for _ in range(3)]
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert len({a.headers["ETag"] for a in answers}) == 1 and not answers[0].headers["ETag"].startswith("W/")
    graph = rdflib.Graph().parse(data=answers[0].content, format=accept)
    assert not any(isinstance(term, rdflib.BNode) for triple in graph for term in triple)


def test_the_service_description_states_the_union_default_graph_and_the_base(server):
    text = requests.get(server.url + "/sparql", headers={"Accept": "text/turtle"}, timeout=30).text
    graph = rdflib.Graph().parse(data=text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    endpoint = rdflib.URIRef(QUERY_BASE)
    assert (endpoint, sd.feature, sd.UnionDefaultGraph) in graph
    descriptions = {d.language: str(d) for d in graph.objects(endpoint, rdflib.namespace.DCTERMS.description)}
    assert QUERY_BASE in descriptions["en"] and QUERY_BASE in descriptions["ja"]
    assert "FROM" in descriptions["en"]
    named = set(graph.objects(None, sd.name))
    assert rdflib.URIRef(KORYO) in named


@pytest.mark.parametrize("name", ["default-graph-uri", "named-graph-uri"])
@pytest.mark.parametrize("value", ["not an iri", "relative/graph", ""])
def test_a_dataset_parameter_that_is_not_an_iri_is_a_clear_400(server, name, value):
    response = requests.get(server.url + "/sparql", params={"query": "ASK {}", name: value}, timeout=30)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bad_graph_uri" and name in body["message"]["en"] and name in body["message"]["ja"]


def test_a_from_that_names_no_iri_is_a_syntax_error_with_its_position(server):
    response = requests.get(server.url + "/sparql", params={"query": "SELECT *\nFROM 5 WHERE { ?s ?p ?o }"}, timeout=30)
    assert response.status_code == 400
    assert response.json()["error"] == "query_syntax" and response.json()["line"] == 2
