"""Property-based fuzzing of every HTTP surface (hypothesis, through the app in-process): no input
gives a 500, and every error has our one shape."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kouiki_kg.app import create_app
from kouiki_kg.config import Config

from .conftest import ROOT

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))

media_types = st.sampled_from(["text/html", "text/turtle", "application/ld+json", "application/json", "*/*", "text/*",
                               "application/*", "image/png", "application/sparql-results+json", "text/csv",
                               "application/rdf+xml", "application/n-triples", "x/y", "", "garbage", ";;;", "*"])
q_values = st.sampled_from(["", ";q=0", ";q=0.5", ";q=1", ";q=1.5", ";q=-1", ";q=abc", ";level=1", ";q=0.001"])
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=120)  # what HTTP carries
accept_headers = st.lists(st.tuples(media_types, q_values).map("".join), max_size=6).map(", ".join) | header_text
language_headers = st.lists(st.sampled_from(["ja", "en", "en-US", "fr", "*", "ja-JP;q=0.1", "en;q=0", "zz;q=x", ""]),
                            max_size=5).map(",".join) | header_text


@pytest.fixture(scope="module")
def client(store_dir):
    app = create_app(Config.from_env(root=ROOT, store_dir=store_dir, query_workers=2))
    return app.test_client()


def assert_sound(response):
    assert response.status_code < 500, response.data[:500]
    if response.status_code >= 400 and response.mimetype == "application/json":
        body = response.get_json()
        assert body["error"] and body["message"]["ja"] and body["message"]["en"]


@FUZZ
@given(accept=accept_headers, language=language_headers,
       path=st.sampled_from(["/", "/id/lg/022039", "/id/initiative/hachinohe-bus-network", "/concept/theme",
                             "/ontology", "/shapes", "/dataset", "/sparql", "/validate", "/search?q=バス"]))
def test_any_accept_and_language(client, accept, language, path):
    response = client.get(path, headers={"Accept": accept, "Accept-Language": language})
    assert_sound(response)
    if response.status_code == 200 and response.mimetype == "text/html":
        assert response.headers["Content-Language"] in ("ja", "en")


@FUZZ
@given(query=st.text(max_size=300) | st.lists(st.sampled_from(
    ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "*", "?s", "?p", "?o", "WHERE", "{", "}", "(", ")", ".", ";", "FILTER",
     "OPTIONAL", "UNION", "GRAPH", "<urn:x>", '"x"@ja', "LIMIT 5", "ORDER BY", "GROUP BY", "COUNT(*)", "AS", "kk:Initiative",
     "a", "VALUES", "BIND", "SERVICE", "INSERT DATA", "LOAD", "#", "\n", "PREFIX x: <urn:>"]), max_size=30).map(" ".join),
    fmt=st.sampled_from([None, "json", "xml", "csv", "tsv", "ttl", "nt", "jsonld", "rdfxml", "bogus"]))
def test_any_sparql_query(client, query, fmt):
    params = {"query": query, "timeout": "2"}
    if fmt:
        params["format"] = fmt
    assert_sound(client.get("/sparql", query_string=params))
    assert_sound(client.post("/sparql", data=query.encode("utf-8", "surrogatepass"),
                             headers={"Content-Type": "application/sparql-query"}))


@FUZZ
@given(segments=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=5),
       prefix=st.sampled_from(["id", "id/lg", "id/initiative", "concept", "concept/theme", "source", "graph", "ontology",
                               "dumps", "cases", "static", "shapes", "x"]),
       suffix=st.sampled_from(["", ".ttl", ".html", ".jsonld", "?format=nt", "?incoming=-3", "?lang=xx", "#frag"]))
def test_any_path(client, segments, prefix, suffix):
    from urllib.parse import quote

    path = "/" + prefix + "/" + "/".join(quote(s, safe="") for s in segments) + suffix
    assert_sound(client.get(path, headers={"Accept": "text/html"}))
    assert_sound(client.get(path, headers={"Accept": "application/json"}))


TEMPLATE = (ROOT / "data" / "templates" / "case-template.ttl").read_bytes()
TEMPLATE_TRIPLES = [q.triple for q in ox.parse(TEMPLATE, format=ox.RdfFormat.TURTLE)]
CONTENT_TYPES = {"ttl": "text/turtle", "nt": "application/n-triples", "jsonld": "application/ld+json",
                 "rdfxml": "application/rdf+xml"}
RDF_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
               "rdfxml": ox.RdfFormat.RDF_XML}


@settings(FUZZ, max_examples=50)  # each example is two checks (~70 ms each): the suite's time
@given(fmt=st.sampled_from(list(CONTENT_TYPES)), cut=st.integers(min_value=0, max_value=4000),
       noise=st.binary(max_size=200), drop=st.sets(st.integers(min_value=0, max_value=len(TEMPLATE_TRIPLES) - 1)))
def test_any_upload_body(client, fmt, cut, noise, drop):
    """Well-formed documents with triples missing, and broken ones (cut short, with noise)."""
    kept = [t for i, t in enumerate(TEMPLATE_TRIPLES) if i not in drop]
    document = ox.serialize(kept, format=RDF_FORMATS[fmt])
    for body in (document, document[:cut] + noise):
        if not body.strip():
            continue
        response = client.post("/validate", data=body, headers={"Content-Type": CONTENT_TYPES[fmt],
                                                                  "Accept": "application/json"})
        assert_sound(response)
        assert response.status_code in (200, 400)


@FUZZ
@given(value=header_text)
def test_any_authorization_header(client, value):
    response = client.put("/cases/example-case", data=b"@prefix x: <urn:> .", headers={"Authorization": value})
    assert response.status_code in (401, 403)
