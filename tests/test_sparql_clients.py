"""Real SPARQL clients against the real server: SPARQLWrapper and rdflib's SPARQLStore."""

from __future__ import annotations

import csv
import io

import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

PREFIX = "PREFIX kk: <https://w3id.org/kouiki/ontology#>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
LEADS = PREFIX + """SELECT ?name WHERE {
  ?i a kk:Initiative ; prov:qualifiedAssociation [ prov:hadRole <https://w3id.org/kouiki/concept/role/lead> ;
     prov:agent/skos:prefLabel ?name ] FILTER (lang(?name) = "ja") } ORDER BY ?name"""
LEAD_NAMES = ["八戸市", "広陵町", "札幌市", "横浜市", "横浜市", "埼玉県", "長野県", "魚津市"]


def wrapper(server, query: str, fmt) -> SPARQLWrapper:
    client = SPARQLWrapper(server.url + "/sparql")
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client


def test_sparqlwrapper_select_json(server):
    result = wrapper(server, LEADS, JSON).queryAndConvert()
    assert sorted(b["name"]["value"] for b in result["results"]["bindings"]) == sorted(LEAD_NAMES)


def test_sparqlwrapper_select_xml(server):
    document = wrapper(server, LEADS, XML).queryAndConvert()  # an xml.dom.minidom document
    names = [node.firstChild.data for node in document.getElementsByTagName("literal")]
    assert sorted(names) == sorted(LEAD_NAMES)


def test_sparqlwrapper_select_csv(server):
    text = wrapper(server, LEADS, CSV).queryAndConvert().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["name"] and sorted(r[0] for r in rows[1:]) == sorted(LEAD_NAMES)


def test_sparqlwrapper_ask_and_post(server):
    client = wrapper(server, PREFIX + "ASK { ?i a kk:Initiative }", JSON)
    assert client.queryAndConvert()["boolean"] is True
    client.setMethod("POST")
    assert client.queryAndConvert()["boolean"] is True


def test_sparqlwrapper_construct_and_describe(server):
    construct = wrapper(server, PREFIX + "CONSTRUCT { ?d a kk:Plan } WHERE { ?d a kk:Plan }", TURTLE)
    graph = construct.queryAndConvert()
    graph = graph if isinstance(graph, rdflib.Graph) else rdflib.Graph().parse(data=graph, format="turtle")
    assert len(graph) == 2
    describe = wrapper(server, "DESCRIBE <https://w3id.org/kouiki/id/lg/141003>", TURTLE)
    graph = describe.queryAndConvert()
    graph = graph if isinstance(graph, rdflib.Graph) else rdflib.Graph().parse(data=graph, format="turtle")
    assert rdflib.Literal("横浜市", lang="ja") in set(graph.objects())


def test_rdflib_sparqlstore(server):
    store = SPARQLStore(server.url + "/sparql", returnFormat="json")
    graph = rdflib.Graph(store=store)
    rows = list(graph.query(LEADS))
    assert sorted(str(r.name) for r in rows) == sorted(LEAD_NAMES)
    assert graph.query(PREFIX + "ASK { ?i a kk:Initiative }").askAnswer is True
    triples = list(graph.triples((rdflib.URIRef("https://w3id.org/kouiki/id/lg/022039"), rdflib.SKOS.prefLabel, None)))
    assert {(str(o), o.language) for _, _, o in triples} == {("八戸市", "ja"), ("Hachinohe City", "en"),
                                                             ("Hachinohe-shi", "ja-latn")}
