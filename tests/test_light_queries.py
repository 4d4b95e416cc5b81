"""Light queries run in the web process (issue 25): which queries count as light, and that a
light query gets, there, exactly the answer a worker gives; its time limit holds; a light query
that proves slow is sent to the workers from then on.

A real Oxigraph store (the seed build, and a store with one resource of 6,000 triples), real
worker processes, a real server.
"""

from __future__ import annotations

import json
import threading
import time

import pyoxigraph as ox
import pytest
import requests

from kouiki_kg.formats import GRAPH_FORMATS, RESULT_FORMATS
from kouiki_kg.namespaces import PREFIXES
from kouiki_kg.querypool import QueryPool, QueryTimeout, WorkerLost
from kouiki_kg.querytext import is_light, query_shape
from kouiki_kg.store import QueryFailed, QueryRequest, run_query

PROLOGUE = "".join(f"PREFIX {name}: <{iri}> " for name, iri in PREFIXES.items() if name in ("kk", "skos", "prov", "dct"))

LIGHTNESS = [  # (query, light?) — <B> is a body; PREFIXes come first
    ('SELECT ?l WHERE { <B> skos:prefLabel ?l }', True),
    ('ASK { <B> a kk:City }', True),
    ('SELECT ?p ?o WHERE { <B> ?p ?o } LIMIT 50', True),
    ('SELECT ?i ?t WHERE { ?i prov:wasAssociatedWith <B> ; dct:title ?t }', True),
    ('# 12\n SELECT ?i ?t WHERE { ?i prov:wasAssociatedWith <B> ; dct:title ?t . }', True),
    ('SELECT * WHERE { ?s ?p ?o }', False),
    ('SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }', False),
    ('SELECT ?s WHERE { ?s a kk:City }', False),
    ('SELECT ?s WHERE { ?s skos:prefLabel "横浜市"@ja }', True),
    ('SELECT ?s WHERE { ?s kk:count 3 }', False),
    ('SELECT ?s ?x WHERE { ?s skos:prefLabel "a"@ja . ?y kk:p ?s }', False),
    ('SELECT ?o WHERE { <B> kk:p/kk:q ?o }', False),
    ('SELECT ?o WHERE { <B> kk:p* ?o }', False),
    ('SELECT ?o WHERE { <B> kk:p? ?o }', False),
    ('SELECT ?o WHERE { <B> ^kk:p ?o }', False),
    ('SELECT ?o WHERE { <B> (kk:p) ?o }', False),
    ('SELECT ?o WHERE { <B> !kk:p ?o }', False),
    ('SELECT ?o ?l WHERE { <B> kk:p ?o OPTIONAL { ?o skos:prefLabel ?l } }', True),
    ('SELECT ?o ?l WHERE { <B> kk:p ?o OPTIONAL { ?x skos:prefLabel ?l } }', False),
    ('SELECT ?o ?l WHERE { OPTIONAL { <B> kk:p ?o } ?o kk:q ?l }', False),
    ('SELECT ?o ?l WHERE { <B> kk:p ?o OPTIONAL { ?o kk:q ?l OPTIONAL { ?l kk:r ?m } } }', False),
    ('SELECT ?o WHERE { { <B> kk:p ?o } UNION { ?o ?p ?q } }', False),
    ('SELECT ?o WHERE { <B> kk:p ?o FILTER NOT EXISTS { ?o ?p ?q } }', False),
    ('SELECT ?o WHERE { <B> kk:p ?o FILTER EXISTS { ?o ?p ?q } }', False),
    ('SELECT ?o WHERE { <B> kk:p ?o FILTER(lang(?o) = "ja") }', True),
    ('SELECT ?o WHERE { <B> kk:p ?o . FILTER regex(?o, "x") }', True),
    ('SELECT ?o WHERE { <B> kk:p ?o { SELECT * WHERE { ?a ?b ?c } } }', False),
    ('SELECT ?o WHERE { <B> kk:p ?o . { ?a ?b ?c } }', False),
    ('SELECT ?o WHERE { GRAPH ?g { <B> kk:p ?o } }', False),
    ('DESCRIBE <B>', True),
    ('DESCRIBE <B> <B>', True),
    ('DESCRIBE ?x WHERE { ?x ?p ?o }', False),
    ('DESCRIBE <B> WHERE { ?x ?p ?o }', False),
    ('CONSTRUCT { ?s ?p ?o } WHERE { <B> ?p ?o }', False),
    ('SELECT ?o WHERE { <B> kk:p ?o } ORDER BY ?o LIMIT 5', True),
    ('SELECT ?o WHERE { <B> kk:p ?o } ORDER BY DESC(?o) LIMIT 5 OFFSET 2', True),
    ('SELECT ?o WHERE { <B> kk:p ?o } VALUES ?o { 1 }', False),
    ('SELECT ?o WHERE { VALUES ?s { <B> } ?s kk:p ?o }', False),
    ('SELECT ?o WHERE { <B> kk:p [ kk:q ?o ] }', False),
    ('SELECT ?o FROM <http://g> WHERE { <B> kk:p ?o }', True),
    ('SELECT ?o FROM NAMED <http://g> WHERE { <B> kk:p ?o }', True),
    ('SELECT ?o WHERE { <B> kk:p "1"^^xsd:int , ?o }', True),
    ('SELECT ?o WHERE { ?o kk:p "1"^^xsd:int }', False),
    ('SELECT ?o WHERE { <B> kk:p ?o ; kk:q ?r . ?r kk:s ?t . ?t kk:u ?v }', False),
    ('SELECT ?o WHERE { <B> kk:p ?o BIND(1 AS ?z) }', True),
    ('SELECT ?o WHERE { <B> kk:p ?o BIND(EXISTS { ?a ?b ?c } AS ?z) }', False),
    ('ASK { ?o kk:p <B> . ?x kk:q ?o }', False),
    ('SELECT ?o WHERE { <B> ?p ?o . ?o ?q ?r . ?r ?s ?t }', False),
    ('SELECT ?o WHERE { <B> kk:p ?o }}', False),
    ('SELECT ?o WHERE { <B> kk:p ?o', False),
    ('SELECT ?o WHERE { <B> kk:p ?o . ?o kk:q (1 2) }', False),
    ('SELECT ?o WHERE { ?s ?p <B> }', False),
    ('SELECT ?o WHERE { ?s a <B> }', False),
    ('SELECT ?o WHERE { ?s rdf:type <B> }', False),
    ('SELECT ?o WHERE { <B> kk:p ?o } GROUP BY ?o HAVING (COUNT(?o) > 1)', True),
    ('SELECT (COUNT(*) AS ?n) WHERE { <B> ?p ?o }', True),
    ('SELECT ?o WHERE { <B> kk:p ?o SERVICE <http://x> { ?a ?b ?c } }', False),
    ('ASK {}', True),
    ('SELECT ?o WHERE { <B> kk:p ?o . _:b kk:q ?o }', True),
    ('SELECT ?o WHERE { <B> kk:p _:b . _:b kk:q ?o }', True),
    ('SELECT ?o WHERE { <B> kk:p ?o . ?a kk:b ?c . ?c kk:d ?o }', False),
    ('SELECT ?o WHERE { <B> kk:p ?o . ?a kk:b ?o }', True),
    ('SELECT ?o WHERE { ?a kk:b "x"@en . ?a kk:c ?o . ?d kk:e "y" }', False),
    ('SELECT ?o WHERE { <B> kk:p ?o MINUS { ?o kk:q ?r } }', False),
    ('SELECT ?o WHERE { <B> kk:p ?o } LIMIT 5 #{ comment', True),
    ('SELECT ?o WHERE { <B> kk:p ?o . FILTER(?o IN (1, 2)) }', True),
]


@pytest.mark.parametrize("query,light", LIGHTNESS)
def test_which_queries_are_light(query, light):
    assert is_light(PROLOGUE + query.replace("<B>", "<https://w3id.org/kouiki/id/lg/022039>")) is light


def test_the_example_queries_are_not_light_and_the_benchmark_mix_is():
    """The examples ask about the whole graph (workers); what portals send one by one is light."""
    from pathlib import Path

    examples = sorted((Path(__file__).parent.parent / "queries").glob("*.rq"))
    assert examples and not any(is_light(p.read_text(encoding="utf-8")) for p in examples)
    from bench.light import PROLOGUE as MIX_PROLOGUE, SHAPES

    body = "https://w3id.org/kouiki/id/lg/022039"
    assert all(is_light(f"# 17\n{MIX_PROLOGUE}{shape.format(b=body)}") for shape in SHAPES)


def test_the_light_benchmark_serves_a_store_with_the_project_it_belongs_to(tmp_path):
    """bench/light.py starts `kouiki-kg serve`, which builds the store from its project's data:
    a 1 M store served with this checkout as its project would be rebuilt from the seed."""
    from bench.light import ROOT, project_of

    store = tmp_path / "kouiki-1m" / "var" / "store-new"
    store.mkdir(parents=True)
    assert project_of(store) == (tmp_path / "kouiki-1m").resolve()
    assert project_of(tmp_path / "somewhere") == ROOT  # not in a project's var/: this checkout's


BODY = "<https://w3id.org/kouiki/id/lg/022039>"
SAME = [  # (query, results format, graph format, default graphs, row limit)
    (f"SELECT ?p ?o WHERE {{ {BODY} ?p ?o }} ORDER BY ?p ?o", "json", None, (), 1000),
    (f"SELECT ?p ?o WHERE {{ {BODY} ?p ?o }} ORDER BY ?p ?o", "csv", None, (), 1000),
    (f"SELECT ?p ?o WHERE {{ {BODY} ?p ?o }} ORDER BY ?p ?o", "xml", None, (), 3),  # cut at the row cap
    (f"SELECT ?i ?t WHERE {{ ?i prov:wasAssociatedWith {BODY} ; dct:title ?t }} ORDER BY ?i ?t", "tsv", None, (), 1000),
    (f"ASK {{ {BODY} a kk:City }}", "json", None, (), 1000),
    (f"SELECT ?l FROM <https://w3id.org/kouiki/graph/ontology> WHERE {{ {BODY} skos:prefLabel ?l }}", "json", None, (),
     1000),  # the query's own dataset: nothing of the body in that graph
    (f"SELECT ?l WHERE {{ {BODY} skos:prefLabel ?l }}", "json", None,
     ("https://w3id.org/kouiki/graph/authority/local-governments",), 1000),  # the protocol's dataset
    (f"DESCRIBE {BODY}", None, "ttl", (), 1000),
    (f"SELECT ?o WHERE {{ {BODY} ?p ?o }} LIMIT x", "json", None, (), 1000),  # a syntax error
]


@pytest.fixture(scope="module")
def worker_pool():
    pool = QueryPool(1, here=1)
    yield pool
    pool.close()


@pytest.mark.parametrize("query,results,graph,default,rows", SAME)
def test_a_light_query_answers_here_as_in_a_worker(store_dir, worker_pool, query, results, graph, default, rows):
    build = str((store_dir / "current").resolve())
    request = QueryRequest(build, PROLOGUE + query, results, graph, rows, default_graph_uris=default)
    assert is_light(request.query)
    outcomes = []
    for here in (None, {}):  # a worker; then this process, opening the build as a worker does
        answered = worker_pool.ran_here
        try:
            outcomes.append(worker_pool.run(request, 30, query_shape(request.query), here))
        except QueryFailed as err:
            outcomes.append((err.kind, err.line, err.column, err.message))
        assert worker_pool.ran_here == answered + (here is not None)
    assert outcomes[0] == outcomes[1]


@pytest.fixture(scope="module")
def hub_build(tmp_path_factory):
    """A build folder whose store has one resource with 6,000 values of one property."""
    build = tmp_path_factory.mktemp("hub")
    store = ox.Store(str(build / "oxigraph"))
    hub, p = ox.NamedNode("https://example.org/hub"), ox.NamedNode("https://example.org/p")
    store.extend([ox.Quad(hub, p, ox.Literal(i), ox.NamedNode("https://example.org/g")) for i in range(6000)])
    store.flush()
    del store
    return build


def test_a_light_query_that_proves_slow_meets_its_time_limit_and_goes_to_the_workers_next(hub_build):
    """Two patterns on a 6,000-triple resource: 36 million rows to count (~2 s). Light by its text, slow
    in fact: the client is answered at its limit, and the shape runs in a worker next time (killed
    there at the limit); the thread's place comes back when it ends."""
    query = "SELECT (COUNT(*) AS ?n) WHERE { <https://example.org/hub> <https://example.org/p> ?a, ?b }"
    assert is_light(query)
    request = QueryRequest(str(hub_build), query, "json", None, 10)
    here = {("store", str(hub_build)): ox.Store.read_only(str(hub_build / "oxigraph"))}
    quick = QueryRequest(str(hub_build), "ASK { <https://example.org/hub> ?p 7 }", "json", None, 10)
    pool = QueryPool(2, here=1)  # a shape known heavy leaves one idle worker to others: two of them
    try:
        pool.run(quick, 60)
        deadline = time.monotonic() + 60
        while pool._idle.qsize() < 2 and time.monotonic() < deadline:  # both workers started
            time.sleep(0.05)
        began = time.monotonic()
        with pytest.raises(QueryTimeout):
            pool.run(request, 0.5, query_shape(query), here)
        assert time.monotonic() - began < 1.5 and pool.overran_here == 1 and pool.killed == 0
        with pytest.raises(QueryTimeout):
            pool.run(request, 0.5, query_shape(query), here)  # now in a worker, killed at the limit
        assert pool.killed == 1 and pool.overran_here == 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and pool.ran_here == 0:  # the slow thread still has the place
            pool.run(quick, 5, query_shape(quick.query), here)
            time.sleep(0.1)
        assert pool.ran_here >= 1
    finally:
        pool.close()


def test_a_closed_pools_light_threads_end_and_a_light_query_is_refused_at_once(hub_build):
    """Closing a pool (a web process stopping) ends its light threads; a light request that
    arrives after that is answered as a lost worker now, not at its time limit."""
    here = {("store", str(hub_build)): ox.Store.read_only(str(hub_build / "oxigraph"))}
    quick = QueryRequest(str(hub_build), "ASK { <https://example.org/hub> ?p 7 }", "json", None, 10)
    before = set(threading.enumerate())
    pool = QueryPool(1, here=2)
    assert pool.run(quick, 30, query_shape(quick.query), here).body and pool.ran_here == 1
    light = [t for t in threading.enumerate() if t not in before and t.name.startswith("kouiki-light")]
    assert light
    pool.close()
    began = time.monotonic()
    with pytest.raises(WorkerLost):
        pool.run(quick, 30, query_shape(quick.query), here)
    assert time.monotonic() - began < 5
    for thread in light:
        thread.join(timeout=10)
    assert not any(t.is_alive() for t in light)


def test_the_server_answers_light_queries_in_its_web_process(server):
    """Over HTTP: the same answer as before (a worker's), and /health counts those answered here."""
    def answered() -> int:
        return requests.get(server.url + "/health", timeout=10).json()["query_workers"].get("here", {}).get("answered", 0)

    requests.get(server.url + "/sparql", params={"query": "ASK {} # warm the pool"}, timeout=30)
    before = answered()
    query = f"# test_light {time.time()}\nSELECT ?l WHERE {{ {BODY} skos:prefLabel ?l }}"
    response = requests.get(server.url + "/sparql", params={"query": query},
                            headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert response.status_code == 200
    assert {b["l"]["value"] for b in response.json()["results"]["bindings"]} >= {"八戸市"}
    assert answered() == before + 1
    heavy = requests.get(server.url + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } # test_light"},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert heavy.status_code == 200 and answered() == before + 1  # a whole-graph count: a worker's


def test_no_light_threads_sends_every_query_to_a_worker(store_dir):
    """KOUIKI_LIGHT_THREADS=0: the light path is off, the answer the same."""
    from kouiki_kg.app import create_app
    from kouiki_kg.config import Config

    from .conftest import ROOT

    app = create_app(Config(root=ROOT, store_dir=store_dir, query_workers=1, light_threads=0))
    try:
        answer = app.test_client().get("/sparql", query_string={"query": f"ASK {{ {BODY} a kk:City }}"},
                                       headers={"Accept": "application/sparql-results+json"})
        assert answer.status_code == 200 and answer.get_json()["boolean"] is True
        workers = app.test_client().get("/health").get_json()["query_workers"]
        assert "here" not in workers and app.extensions["kouiki.pool.query"].ran_here == 0
    finally:
        app.extensions["kouiki.pool.query"].close()


def test_answers_within_the_limits_are_the_engines_own_bytes_in_every_format():
    """The engine writes the answer (issue 25: no row read one by one into Python); within the
    limits it is byte for byte what it would write alone, for every kind of term — escapes,
    line breaks, non-ASCII, control characters, language tags, datatypes, blank nodes, unbound
    variables, quoted triples — and for no variables and no rows. Cut at the row limit, it is
    the first rows of the same answer."""
    graph = ox.NamedNode("https://example.org/g")
    values = [ox.NamedNode("https://example.org/ü"), ox.Literal('a "b"\n\tc\u2028é😀\\', language="ja-Latn"),
              ox.Literal("plain"), ox.Literal(3), ox.Literal(2.5), ox.Literal(True),
              ox.Literal("2019-03", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYearMonth")),
              ox.BlankNode("b1"), ox.Literal("\x00\x1f\x7f</script>\r")]
    store = ox.Store()
    store.extend(ox.Quad(ox.NamedNode(f"https://example.org/s{i}"), ox.NamedNode("https://example.org/p"), value, graph)
                 for i, value in enumerate(values))
    every_kind = ("SELECT ?s ?o ?none ?t WHERE { ?s ?p ?o OPTIONAL { ?s <https://example.org/q> ?none } "
                  "BIND(<<( ?s ?p ?o )>> AS ?t) } ORDER BY ?s")
    for query, rows in ((every_kind, len(values)), ("SELECT * WHERE {}", 1), ("SELECT ?x WHERE { FILTER(false) }", 0)):
        for name, fmt in RESULT_FORMATS.items():
            answer = run_query(store, QueryRequest("", query, name, None, 100))
            alone = store.query(query, use_default_graph_as_union=True).serialize(format=fmt.results)
            assert (answer.body, answer.rows, answer.truncated) == (alone, rows, False), (query, name)
    cut = run_query(store, QueryRequest("", every_kind, "json", None, 4))
    first = json.loads(store.query(every_kind, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON))
    assert (cut.rows, cut.truncated_reason) == (4, "rows")
    assert json.loads(cut.body)["results"]["bindings"] == first["results"]["bindings"][:4]
    construct = "CONSTRUCT WHERE { ?s ?p ?o }"  # (JSON-LD has no quoted triples yet: the SELECT has them)
    alone = set(ox.parse(store.query(construct, use_default_graph_as_union=True).serialize(format=ox.RdfFormat.N_TRIPLES),
                         format=ox.RdfFormat.N_TRIPLES))
    for name, fmt in GRAPH_FORMATS.items():
        answer = run_query(store, QueryRequest("", construct, None, name, 100))
        assert set(ox.parse(answer.body, format=fmt.rdf)) == alone and answer.rows == len(values), name


class _ModulesProbe:
    """A request whose answer is whether the worker that ran it has these modules loaded."""

    def execute(self, cache):
        import sys

        return {name: name in sys.modules for name in ("rdflib", "pyshacl", "flask")}


def test_a_query_worker_carries_no_parser_or_shacl_engine():
    """Issue 25 (memory): rdflib and pyshacl took ~24 MB of every query worker, imported for two
    exception classes and through the CLI that each spawned worker imports again."""
    import subprocess
    import sys

    pool = QueryPool(1)
    try:
        assert pool.run(_ModulesProbe(), 60) == {"rdflib": False, "pyshacl": False, "flask": False}
    finally:
        pool.close()
    script = "import sys, kouiki_kg.cli, kouiki_kg.querypool; print(sorted({'rdflib', 'pyshacl'} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60).stdout.strip() == "[]"
