"""The remote backend: a real `oxigraph serve` on 127.0.0.1 holds the data, loaded by `build` through
the Graph Store Protocol; a server reading it answers as the embedded server does."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib.compare import isomorphic

from kouiki_kg.build import build
from kouiki_kg.config import Config
from kouiki_kg.ingest import hash_token
from kouiki_kg.store import current_build

from .conftest import ROOT, RunningServer, free_port, quiet, copy_project
from .test_sparql_dataset import check_matrix

TOKEN = "remote-test-token"
QUERIES = sorted((ROOT / "queries").glob("*.rq"))


class OxigraphServer:
    """The engine's own server (`oxigraph serve`, from the `oxigraph` package), read-write."""

    def __init__(self, location: Path):
        self.port = free_port()
        self.query_url = f"http://127.0.0.1:{self.port}/query"
        self.store_url = f"http://127.0.0.1:{self.port}/store"
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("oxigraph")), "serve", "--location", str(location),
             "--bind", f"127.0.0.1:{self.port}", "--union-default-graph"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.query_url, params={"query": "ASK {}"}, timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("oxigraph serve did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("remote") / "project")
    return root


@pytest.fixture(scope="module")
def oxigraph(project):
    running = OxigraphServer(project.parent / "oxigraph")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def remote_server(project, oxigraph):
    """Our server on the remote store, also its writer (graph store endpoint and a steward token)."""
    config = Config(root=project, store_dir=project.parent / "builder", sparql_endpoint=oxigraph.query_url,
                    graph_store_endpoint=oxigraph.store_url)
    build(config, log=quiet)  # validate locally, load into oxigraph serve
    running = RunningServer(project.parent / "web", KOUIKI_ROOT=str(project), KOUIKI_SPARQL_ENDPOINT=oxigraph.query_url,
                            KOUIKI_GRAPH_STORE_ENDPOINT=oxigraph.store_url, KOUIKI_REMOTE_REFRESH="0.5",
                            KOUIKI_QUERY_TIMEOUT="3", KOUIKI_ROW_LIMIT="1000", KOUIKI_QUERY_WORKERS="2",
                            KOUIKI_TOKENS=f"alice:{hash_token(TOKEN)}")
    yield running
    running.stop()


def rows(response: requests.Response) -> list:
    """SPARQL JSON results as comparable rows: blank node labels differ between stores, and so
    may the order GROUP_CONCAT joins values in (SPARQL leaves it undefined; ours join with 、)."""
    assert response.status_code == 200, response.text

    def value(v):
        if v["type"] == "bnode":
            return "_:"
        return "、".join(sorted(v["value"].split("、")))

    out = []
    for binding in response.json()["results"]["bindings"]:
        out.append(sorted((k, v["type"], value(v), v.get("datatype"), v.get("xml:lang")) for k, v in binding.items()))
    return sorted(out)


def sparql(server, query: str, accept: str = "application/sparql-results+json") -> requests.Response:
    return requests.post(server.url + "/sparql", data={"query": query}, headers={"Accept": accept}, timeout=30)


def triples(response: requests.Response) -> set:
    """A graph answer (CONSTRUCT, DESCRIBE) as comparable triples (none of the examples makes blank nodes)."""
    assert response.status_code == 200, response.text
    return {str(q) for q in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)}


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_every_example_query_answers_as_on_the_embedded_store(path, server, remote_server):
    query = path.read_text(encoding="utf-8")
    if re.search(r"^\s*(CONSTRUCT|DESCRIBE)\b", query, re.M):
        remote, local = (triples(sparql(s, query, "application/n-triples")) for s in (remote_server, server))
        assert remote == local and local
    else:
        assert rows(sparql(remote_server, query)) == rows(sparql(server, query))


def test_the_dataset_matrix_holds_through_the_remote_mode(remote_server, store_dir):
    """FROM / FROM NAMED and the protocol's dataset parameters reach a store that serves a union
    default graph (which ignores a query's FROM), and relative IRIs resolve against our base.
    Runs before the ingest below changes a graph the matrix counts."""
    check_matrix(remote_server.url + "/sparql", ox.Store.read_only(str(current_build(store_dir) / "oxigraph")))
    bound = sparql(remote_server, "SELECT ?x WHERE { BIND (<id/lg/022039> AS ?x) }").json()
    assert bound["results"]["bindings"][0]["x"]["value"] == "https://w3id.org/kouiki/id/lg/022039"


def turtle(server, path: str) -> rdflib.Graph:
    response = requests.get(server.url + path, headers={"Accept": "text/turtle"}, timeout=30)
    assert response.status_code == 200, (path, response.text[:300])
    return rdflib.Graph().parse(data=response.text, format="turtle")


def test_resource_descriptions_and_pages_are_the_same(server, remote_server):
    resources = [b["s"]["value"] for b in sparql(server, """SELECT DISTINCT ?s WHERE {
        { ?s a kk:Initiative } UNION { ?s a kk:ComponentActivity } UNION { ?s a kk:SourceDocument }
        UNION { VALUES ?s { <https://w3id.org/kouiki/id/lg/022039> <https://w3id.org/kouiki/id/lg/010006>
                            <https://w3id.org/kouiki/concept/theme> <https://w3id.org/kouiki/concept/role/lead>
                            <https://w3id.org/kouiki/ontology> <https://w3id.org/kouiki/shapes> } } }""").json()["results"]["bindings"]]
    assert len(resources) > 25
    for iri in resources:
        path = iri.removeprefix("https://w3id.org/kouiki")
        assert isomorphic(turtle(remote_server, path), turtle(server, path)), path
        html = [requests.get(s.url + path, headers={"Accept": "text/html"}, timeout=30) for s in (remote_server, server)]
        assert html[0].status_code == 200
        assert html[0].text.replace(remote_server.url, "") == html[1].text.replace(server.url, ""), path


def test_dataset_description_search_and_dumps_come_from_the_remote_store(server, remote_server, project):
    built = rdflib.Graph().parse(project.parent / "builder" / "current" / "dataset.ttl", format="turtle")
    assert isomorphic(turtle(remote_server, "/dataset"), built)
    found = [requests.get(s.url + "/search", params={"q": "八戸"}, headers={"Accept": "text/html"}, timeout=30).text
             for s in (remote_server, server)]
    assert "八戸" in found[0] and found[0] == found[1]
    dumps = [gzip.decompress(requests.get(s.url + "/dumps/kouiki.nq.gz", timeout=60).content) for s in (remote_server, server)]
    quads = [list(ox.parse(d, format=ox.RdfFormat.N_QUADS)) for d in dumps]
    assert len(quads[0]) == len(quads[1]) > 20_000

    def comparable(dump):  # blank node labels differ; the description says when each was built
        return {q for q in dump if not q.graph_name.value.endswith("/graph/dataset")
                and not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode)}
    assert comparable(quads[0]) == comparable(quads[1])


def test_a_syntax_error_reads_as_it_does_locally(server, remote_server):
    answers = [sparql(s, "SELECT * WHERE { ?s ?p ?o ") for s in (remote_server, server)]
    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()


def test_an_ingest_loads_the_remote_store_and_servers_see_the_new_version(remote_server, project, oxigraph):
    case = project / "data" / "ttl" / "cases" / "hachinohe-bus-network.ttl"
    before = requests.get(remote_server.url + "/health", timeout=10).json()["store"]["hash"]
    page = "/id/initiative/hachinohe-bus-network"
    etag = requests.get(remote_server.url + page, headers={"Accept": "text/turtle"}, timeout=30).headers["ETag"]
    body = case.read_bytes().replace('"八戸圏域（1市6町1村）"@ja'.encode(), '"八戸圏域（改訂）"@ja'.encode())
    assert body != case.read_bytes()
    response = requests.put(f"{remote_server.url}/cases/hachinohe-bus-network", data=body, timeout=120,
                            headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    # the remote store has the change, and the server's version follows it
    ask = requests.get(oxigraph.query_url, params={"query": 'ASK { ?s ?p ?o FILTER CONTAINS(STR(?o), "八戸圏域（改訂）") }'},
                       headers={"Accept": "application/sparql-results+json"}, timeout=10).json()
    assert ask["boolean"] is True
    time.sleep(1)  # KOUIKI_REMOTE_REFRESH=0.5
    assert requests.get(remote_server.url + "/health", timeout=10).json()["store"]["hash"] != before
    changed = requests.get(remote_server.url + page, headers={"Accept": "text/turtle"}, timeout=30)
    assert changed.headers["ETag"] != etag and "八戸圏域（改訂）" in changed.text


def test_an_unreachable_store_is_a_502_in_both_languages(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/query"
    port = free_port()
    env = {"KOUIKI_SPARQL_ENDPOINT": dead, "KOUIKI_STORE": str(tmp_path / "web"), "KOUIKI_QUERY_WORKERS": "2"}
    process = subprocess.Popen([str(Path(sys.executable).with_name("kouiki-kg")), "serve", "--port", str(port)],
                               env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/id/initiative/x", timeout=10)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert response.status_code == 502
        assert response.json()["error"] == "store_unavailable"
        assert set(response.json()["message"]) == {"ja", "en"}
        query = requests.get(f"http://127.0.0.1:{port}/sparql", params={"query": "ASK {}"}, timeout=10)
        assert query.status_code == 502 and query.json()["error"] == "store_unavailable"
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_a_build_the_remote_store_already_holds_is_not_pushed_again(remote_server, project, oxigraph):
    messages: list[str] = []
    config = Config(root=project, store_dir=project.parent / "web", sparql_endpoint=oxigraph.query_url,
                    graph_store_endpoint=oxigraph.store_url)
    build(config, log=messages.append)
    assert any("holds this build already" in m for m in messages), messages
    assert not any("graphs into" in m for m in messages)
