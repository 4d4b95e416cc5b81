"""The SPARQL 1.1 Protocol at /sparql, through a real gunicorn server on 127.0.0.1 (requests)."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pyoxigraph as ox
import pytest
import rdflib
import requests

from kouiki_kg.namespaces import GRAPH

COUNT_INITIATIVES = "SELECT (COUNT(*) AS ?n) WHERE { ?i a kk:Initiative }"
EXPLOSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
PLANS = "CONSTRUCT { ?d dct:title ?t } WHERE { ?d a kk:Plan ; dct:title ?t }"


def get(server, query: str, **kwargs):
    return requests.get(server.url + "/sparql", params={"query": query, **kwargs.pop("params", {})}, timeout=30, **kwargs)


def count_of(response) -> int:
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == code and body["status"] == status
    assert body["message"]["ja"] and body["message"]["en"]
    assert any("\u3040" <= ch <= "\u9fff" for ch in body["message"]["ja"])
    return body


# --- Methods and request forms -------------------------------------------------------------------

def test_get_query(server):
    response = get(server, COUNT_INITIATIVES)
    assert response.status_code == 200 and count_of(response) == 8
    assert response.headers["Content-Type"] == "application/sparql-results+json; charset=utf-8"


def test_post_form_and_direct(server):
    form = requests.post(server.url + "/sparql", data={"query": COUNT_INITIATIVES}, timeout=30)
    assert form.status_code == 200 and count_of(form) == 8
    direct = requests.post(server.url + "/sparql", data=COUNT_INITIATIVES.encode(),
                           headers={"Content-Type": "application/sparql-query; charset=utf-8"}, timeout=30)
    assert direct.status_code == 200 and count_of(direct) == 8


def test_default_and_named_graph_uris(server):
    saitama = GRAPH + "cases/saitama-septic-tanks"
    restricted = get(server, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", params={"default-graph-uri": saitama})
    assert count_of(restricted) == 55
    named = get(server, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                params={"named-graph-uri": [saitama, GRAPH + "cases/koryo-facility-sharing"]})
    assert {b["g"]["value"] for b in named.json()["results"]["bindings"]} == {
        saitama, GRAPH + "cases/koryo-facility-sharing"}
    form = requests.post(server.url + "/sparql", timeout=30,
                         data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "default-graph-uri": saitama})
    assert count_of(form) == 55


def test_head_and_options(server):
    head = requests.head(server.url + "/sparql", params={"query": COUNT_INITIATIVES}, timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Type"].startswith("application/sparql-results+json")
    options = requests.options(server.url + "/sparql", timeout=30,
                               headers={"Origin": "https://portal.example", "Access-Control-Request-Method": "POST"})
    assert options.status_code == 204
    assert set(options.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST", "OPTIONS"}
    assert options.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in options.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in options.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405_with_allow(server, method):
    response = requests.request(method, server.url + "/sparql", timeout=30)
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_updates_are_refused(server):
    insert = "INSERT DATA { <urn:a> <urn:b> <urn:c> }"
    assert_error(requests.get(server.url + "/sparql", params={"update": insert}, timeout=30), 403, "read_only")
    assert_error(requests.post(server.url + "/sparql", data={"update": insert}, timeout=30), 403, "read_only")
    assert_error(requests.post(server.url + "/sparql", data=insert, timeout=30,
                               headers={"Content-Type": "application/sparql-update"}), 403, "read_only")
    # and really nothing changed
    assert not get(server, "ASK { <urn:a> <urn:b> <urn:c> }").json()["boolean"]


def test_cors_on_answers_and_errors(server):
    response = get(server, "ASK {}", headers={"Origin": "https://portal.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    error = get(server, "SELECT WHERE", headers={"Origin": "https://portal.example"})
    assert error.status_code == 400 and error.headers["Access-Control-Allow-Origin"] == "*"


# --- Formats -----------------------------------------------------------------------------------

@pytest.mark.parametrize("accept,content_type", [
    (None, "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/json", "application/sparql-results+json"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("application/sparql-results+json;q=0, text/*;q=0.5", None),  # any text format, never JSON
])
def test_select_formats_by_accept(server, accept, content_type):
    headers = {"Accept": accept} if accept is not None else {}
    if accept is None:
        response = requests.get(server.url + "/sparql", params={"query": COUNT_INITIATIVES}, timeout=30,
                                headers={"Accept": ""})
    else:
        response = get(server, COUNT_INITIATIVES, headers=headers)
    assert response.status_code == 200
    media = response.headers["Content-Type"].split(";")[0]
    if content_type is None:
        assert media.startswith("text/") and media != "application/sparql-results+json"
    else:
        assert media == content_type
    assert "charset=utf-8" in response.headers["Content-Type"]
    assert response.headers["Vary"] == "Accept"


def test_select_bodies_parse_in_every_format(server):
    query = "SELECT ?name WHERE { <https://w3id.org/kouiki/id/lg/022039> skos:prefLabel ?name FILTER(lang(?name)='ja') }"
    for fmt, parser in (("json", ox.QueryResultsFormat.JSON), ("xml", ox.QueryResultsFormat.XML),
                        ("tsv", ox.QueryResultsFormat.TSV)):  # CSV is lossy: read with csv below
        response = get(server, query, params={"format": fmt})
        rows = list(ox.parse_query_results(response.content, format=parser))
        assert [r["name"].value for r in rows] == ["八戸市"], fmt
    assert list(csv.reader(io.StringIO(get(server, query, params={"format": "csv"}).text))) == [["name"], ["八戸市"]]


@pytest.mark.parametrize("accept,fmt", [
    (None, ox.RdfFormat.TURTLE), ("text/turtle", ox.RdfFormat.TURTLE), ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("application/n-quads", ox.RdfFormat.N_QUADS), ("application/trig", ox.RdfFormat.TRIG),
    ("application/ld+json", ox.RdfFormat.JSON_LD), ("application/rdf+xml", ox.RdfFormat.RDF_XML),
])
def test_construct_formats_by_accept(server, accept, fmt):
    response = get(server, PLANS, headers={"Accept": accept or ""})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{fmt.media_type}; charset=utf-8"
    assert len(list(ox.parse(response.content, format=fmt))) == 4


def test_format_parameter_overrides_accept(server):
    response = get(server, COUNT_INITIATIVES, params={"format": "csv"}, headers={"Accept": "application/json"})
    assert response.headers["Content-Type"].startswith("text/csv")
    graph = get(server, PLANS, params={"format": "nt"}, headers={"Accept": "text/turtle"})
    assert graph.headers["Content-Type"].startswith("application/n-triples")
    assert_error(get(server, COUNT_INITIATIVES, params={"format": "yaml"}), 400, "unknown_format")


def test_unsatisfiable_accept_is_406_listing_offers(server):
    body = assert_error(get(server, COUNT_INITIATIVES, headers={"Accept": "image/png"}), 406, "not_acceptable")
    assert "application/sparql-results+json" in body["offered"] and "text/csv" in body["offered"]
    graph = assert_error(get(server, PLANS, headers={"Accept": "text/csv"}), 406, "not_acceptable")
    assert "text/turtle" in graph["offered"]


def test_describe_and_ask(server):
    describe = get(server, "DESCRIBE <https://w3id.org/kouiki/id/lg/022039>", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=describe.text, format="turtle")
    assert (rdflib.URIRef("https://w3id.org/kouiki/id/lg/022039"), rdflib.SKOS.prefLabel,
            rdflib.Literal("八戸市", lang="ja")) in graph
    assert get(server, "ASK { ?i a kk:Initiative }").json() == {"head": {}, "boolean": True}


# --- Service description and query UI -----------------------------------------------------------

def test_service_description(server):
    for accept in ("text/turtle", None):
        response = requests.get(server.url + "/sparql", headers={"Accept": accept or ""}, timeout=30)
        assert response.headers["Content-Type"].startswith("text/turtle")
        g = rdflib.Graph().parse(data=response.text, format="turtle")
        SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
        service = rdflib.URIRef("https://w3id.org/kouiki/sparql")
        assert (service, SD.endpoint, service) in g
        assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
        assert (service, SD.resultFormat, rdflib.URIRef("http://www.w3.org/ns/formats/SPARQL_Results_CSV")) in g
        triples = [int(o) for o in g.objects(None, rdflib.VOID.triples)]
        assert max(triples) > 20000
    jsonld = requests.get(server.url + "/sparql", headers={"Accept": "application/ld+json"}, timeout=30)
    assert jsonld.headers["Content-Type"].startswith("application/ld+json") and json.loads(jsonld.text)


def test_query_ui_for_browsers(server):
    response = requests.get(server.url + "/sparql", headers={"Accept": "text/html,application/xhtml+xml;q=0.9"},
                            timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert '<html lang="ja">' in response.text and "yasgui.min.js" in response.text
    assert "//cdn" not in response.text and "https://unpkg" not in response.text  # everything local
    english = requests.get(server.url + "/sparql", params={"lang": "en"}, headers={"Accept": "text/html"}, timeout=30)
    assert '<html lang="en">' in english.text and "Example queries" in english.text
    by_header = requests.get(server.url + "/sparql", headers={"Accept": "text/html", "Accept-Language": "en-GB,en"},
                             timeout=30)
    assert '<html lang="en">' in by_header.text
    prefixes = requests.get(server.url + "/sparql/prefixes", timeout=30).json()
    assert prefixes["kk"] == "https://w3id.org/kouiki/ontology#"


# --- Errors --------------------------------------------------------------------------------------

def test_syntax_error_has_line_and_column(server):
    body = assert_error(get(server, "SELECT ?s WHERE {\n  ?s ?p \n}}"), 400, "query_syntax")
    assert body["line"] == 3 and body["column"] >= 1 and body["detail"]
    assert "3行" in body["message"]["ja"] and "line 3" in body["message"]["en"]


@pytest.mark.parametrize("params,code", [
    ({"query": ""}, "missing_query"),
    ({"query": "ASK {}", "timeout": "-1"}, "bad_timeout"),
    ({"query": "ASK {}", "timeout": "soon"}, "bad_timeout"),
    ({"query": ["ASK {}", "ASK {}"]}, "duplicate_parameter"),
])
def test_bad_parameters_are_400(server, params, code):
    assert_error(requests.get(server.url + "/sparql", params=params, timeout=30), 400, code)


def test_bad_post_bodies(server):
    assert_error(requests.post(server.url + "/sparql", data="ASK {}", headers={"Content-Type": "text/plain"},
                               timeout=30), 415, "unsupported_media_type")
    assert_error(requests.post(server.url + "/sparql", data=b"ASK { \xff }",
                               headers={"Content-Type": "application/sparql-query"}, timeout=30), 400, "bad_encoding")
    assert_error(requests.post(server.url + "/sparql", data={"format": "json"}, timeout=30), 400, "missing_query")


def test_service_is_refused(server):
    body = assert_error(get(server, "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }"),
                        403, "service_not_allowed")
    assert "SERVICE" in body["message"]["en"]
    # the word inside a string or as a variable is fine
    assert get(server, 'SELECT ?service WHERE { BIND ("SERVICE" AS ?service) }').status_code == 200


# --- Row cap, ETags ------------------------------------------------------------------------------

def test_row_cap_is_signalled(server):
    response = get(server, "SELECT ?lg WHERE { ?lg kk:localGovernmentCode ?c }")
    assert len(response.json()["results"]["bindings"]) == 1000  # the test server's cap
    assert response.headers["X-Kouiki-Truncated"] == "true" and response.headers["X-Kouiki-Row-Limit"] == "1000"
    small = get(server, COUNT_INITIATIVES)
    assert small.headers["X-Kouiki-Truncated"] == "false" and small.headers["X-Kouiki-Rows"] == "1"


def test_etag_and_if_none_match(server):
    first = get(server, COUNT_INITIATIVES)
    etag = first.headers["ETag"]
    again = get(server, COUNT_INITIATIVES, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == etag
    other_format = get(server, COUNT_INITIATIVES, params={"format": "csv"})
    assert other_format.headers["ETag"] != etag
    assert get(server, COUNT_INITIATIVES, headers={"If-None-Match": '"stale"'}).status_code == 200


# --- Timeouts that really cancel -----------------------------------------------------------------

def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except FileNotFoundError:
            pass
    return total


def test_timeout_cancels_frees_the_cpu_and_keeps_serving(server):
    get(server, "ASK {}")  # the pool is running
    before = requests.get(server.url + "/health", timeout=30).json()["query_workers"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        started = time.monotonic()
        explosive = pool.submit(get, server, EXPLOSIVE)
        time.sleep(0.5)
        # meanwhile, other clients are answered promptly by the other worker
        cheap_started = time.monotonic()
        cheap = get(server, COUNT_INITIATIVES, params={"timeout": "2"})
        assert cheap.status_code == 200 and time.monotonic() - cheap_started < 1.5
        response = explosive.result()
        elapsed = time.monotonic() - started
    body = assert_error(response, 503, "query_timeout")
    assert body["limit_seconds"] == 3 and 2.9 < elapsed < 6
    after = requests.get(server.url + "/health", timeout=30).json()["query_workers"]
    assert after["killed_for_timeout"] == before["killed_for_timeout"] + 1
    killed = set(before["pids"]) - set(after["pids"])
    assert len(killed) == 1 and len(after["pids"]) == 2
    pid = killed.pop()
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    time.sleep(2)  # let the replacement worker finish starting up
    spent = cpu_seconds(after["pids"])
    time.sleep(1)
    assert cpu_seconds(after["pids"]) - spent < 0.2  # nobody is still burning CPU on it


def test_client_timeout_only_lowers_the_limit(server):
    started = time.monotonic()
    body = assert_error(get(server, EXPLOSIVE, params={"timeout": "1"}), 503, "query_timeout")
    assert body["limit_seconds"] == 1 and time.monotonic() - started < 2.5
    started = time.monotonic()
    body = assert_error(get(server, EXPLOSIVE, params={"timeout": "100"}), 503, "query_timeout")
    assert body["limit_seconds"] == 3 and time.monotonic() - started < 6


def test_repeated_queries_are_answered_from_the_cache(server):
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s a kk:LocalGovernment . ?s kk:prefecture ?p }"
    first = get(server, query, params={"format": "csv"})
    again = get(server, query, params={"format": "csv"})
    assert first.headers["X-Kouiki-Cache"] == "miss" and again.headers["X-Kouiki-Cache"] == "hit"
    assert again.content == first.content and again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["X-Kouiki-Truncated"] == first.headers["X-Kouiki-Truncated"]
    stats = requests.get(server.url + "/health", timeout=30).json()["answer_cache"]
    assert stats["hits"] >= 1 and stats["entries"] >= 1
