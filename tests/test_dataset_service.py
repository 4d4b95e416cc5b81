"""/dataset, /.well-known/void, /dumps and /openapi.json through the real server."""

from __future__ import annotations

import gzip
import json

import pyoxigraph as ox
import pytest
import rdflib
import requests
from pyshacl import validate

from kouiki_kg.app import create_app
from kouiki_kg.config import Config

from .conftest import ROOT

DCAT_AP = ROOT.parent / "shared" / "data" / "dcat-ap-3.0.1"
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")


@pytest.fixture(scope="module")
def description(server) -> rdflib.Graph:
    response = requests.get(server.url + "/dataset", headers={"Accept": "text/turtle"}, timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/turtle")
    return rdflib.Graph().parse(data=response.text, format="turtle")


def test_description_conforms_to_dcat_ap_3(description):
    shapes = rdflib.Graph()
    for name in ("shapes.ttl", "shapes_recommended.ttl", "range.ttl"):
        shapes.parse(DCAT_AP / name, format="turtle")
    conforms, _, text = validate(description, shacl_graph=shapes, inference="none", allow_warnings=False)
    assert conforms, text


def test_description_has_what_harvesters_look_for(description):
    dataset = rdflib.URIRef("https://w3id.org/kouiki/dataset")
    catalog = rdflib.URIRef("https://w3id.org/kouiki/dataset#catalog")
    assert (catalog, DCAT.dataset, dataset) in description
    assert {t.language for t in description.objects(dataset, rdflib.DCTERMS.title)} == {"ja", "en"}
    assert (dataset, rdflib.DCTERMS.license, rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/")) in description
    public_data = rdflib.URIRef("https://www.digital.go.jp/resources/open_data/public_data_license_v1.0")
    assert (rdflib.URIRef("https://w3id.org/kouiki/source/000_05f34e0fc86adcb0"), rdflib.DCTERMS.license,
            public_data) in description
    VOID = rdflib.VOID
    assert int(description.value(dataset, VOID.triples)) > 20000
    assert description.value(dataset, VOID.sparqlEndpoint) == rdflib.URIRef("https://w3id.org/kouiki/sparql")
    assert len(list(description.objects(dataset, VOID.dataDump))) == 3
    assert len(list(description.objects(dataset, VOID.classPartition))) > 20
    linkset = description.value(dataset, VOID.subset)
    assert int(description.value(linkset, VOID.triples)) == 1963
    service = rdflib.URIRef("https://w3id.org/kouiki/dataset#sparql-service")
    assert (service, DCAT.endpointURL, rdflib.URIRef("https://w3id.org/kouiki/sparql")) in description


def test_description_formats_and_well_known(server):
    jsonld = requests.get(server.url + "/.well-known/void", headers={"Accept": "application/ld+json"}, timeout=30)
    assert jsonld.status_code == 200 and jsonld.headers["Content-Type"].startswith("application/ld+json")
    assert len(list(ox.parse(jsonld.content, format=ox.RdfFormat.JSON_LD))) > 100
    html = requests.get(server.url + "/dataset", headers={"Accept": "text/html"}, timeout=30)
    assert html.headers["Content-Type"].startswith("text/html") and "広域連携ナレッジグラフ" in html.text
    assert "/dumps/kouiki.nq.gz" in html.text
    english = requests.get(server.url + "/dataset?lang=en", headers={"Accept": "text/html"}, timeout=30)
    assert '<html lang="en">' in english.text and "Distributions" in english.text
    assert requests.get(server.url + "/dataset", headers={"Accept": "image/png"}, timeout=30).status_code == 406
    etag = jsonld.headers["ETag"]
    assert requests.get(server.url + "/.well-known/void", timeout=30, headers={
        "Accept": "application/ld+json", "If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize("name,fmt", [("kouiki.nq.gz", ox.RdfFormat.N_QUADS), ("kouiki.ttl.gz", ox.RdfFormat.TURTLE),
                                      ("kouiki.jsonld.gz", ox.RdfFormat.JSON_LD)])
def test_dumps(server, store, name, fmt):
    response = requests.get(server.url + "/dumps/" + name, timeout=60)
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/gzip"
    assert int(response.headers["Content-Length"]) == len(response.content)
    quads = list(ox.parse(gzip.decompress(response.content), format=fmt))
    total = len(list(store.quads()))
    assert len(quads) == total if fmt != ox.RdfFormat.TURTLE else 0 < len(quads) <= total
    again = requests.get(server.url + "/dumps/" + name, headers={"If-None-Match": response.headers["ETag"]}, timeout=30)
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/dumps/build.json", "/dumps/..%2Fbuild.json", "/dumps/../build.json",
                                  "/dumps/%2e%2e%2fbuild.json"])
def test_dump_names_are_a_fixed_list(server, path):
    response = requests.get(server.url + path, timeout=30)
    assert response.status_code == 404
    assert response.json()["error"] in ("no_such_dump", "not_found")


def test_openapi_describes_every_route():
    app = create_app(Config.from_env(root=ROOT))
    document = app.test_client().get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule.replace("<string:", "{").replace("<path:", "{").replace("<int:", "{").replace("<", "{").replace(">", "}")
        routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD"})
    documented = {path: {m for m in ops} for path, ops in document["paths"].items()}
    assert set(routes) == set(documented)
    for path, methods in routes.items():
        # Flask adds OPTIONS everywhere by itself; we document it where we answer it (CORS preflight).
        assert methods - {"options"} == documented[path] - {"options"}, path
    # every error response refers to the one error schema
    for ops in document["paths"].values():
        for op in ops.values():
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_openapi_over_http(server):
    response = requests.get(server.url + "/openapi.json", timeout=30)
    assert response.status_code == 200 and json.loads(response.text)["info"]["title"] == "Kouiki KG API"
