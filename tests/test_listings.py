"""The browsing listings and figures made at build time answer as the plain SPARQL they replace.

Checked on the seed data and on a synthetic project (bench/generate.py) big enough to need
paging: every concept's initiatives, the home page's figures and its list of initiatives.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pyoxigraph as ox
import pytest

from kouiki_kg import listings
from kouiki_kg.app import create_app
from kouiki_kg.views import home as home_views
from kouiki_kg.build import build
from kouiki_kg.config import Config
from kouiki_kg.listings import LISTINGS_FILE, Listings
from kouiki_kg.reader import PER_PAGE
from kouiki_kg.store import GraphStore, current_build

from .conftest import ROOT, quiet
from .test_linked_data import PLAIN_INITIATIVES_BY_ROLE

# What the concept and home pages asked the store before the listings existed.
PLAIN_CONCEPT = """
    SELECT DISTINCT ?i WHERE {
      ?c skos:broader* $s$ . ?i a kk:Initiative .
      { ?i (kk:hasComponent|kk:hasDirection/kk:hasItem|kk:hasFutureDirection)? ?part .
        ?part (dct:subject|kk:activityType) ?c }
      UNION { ?i kk:programmeCategory ?c }
      UNION { ?i kk:hasComponent?/prov:qualifiedAssociation/prov:hadRole ?c }
      UNION { ?i kk:hasEvaluation/kk:usefulFor ?c } } ORDER BY ?i"""
# The same with its zero-or-one paths spelled out: with both ends open, Oxigraph evaluates `?` over
# every term in the store (a minute at 75 k triples), so the whole-store reference is asked this way.
PLAIN_FILED = """
    SELECT DISTINCT ?c ?i WHERE {
      ?i a kk:Initiative .
      { { ?i a kk:Initiative BIND (?i AS ?part) }
        UNION { ?i kk:hasComponent|kk:hasDirection/kk:hasItem|kk:hasFutureDirection ?part }
        ?part dct:subject|kk:activityType ?c }
      UNION { ?i kk:programmeCategory ?c }
      UNION { ?i prov:qualifiedAssociation/prov:hadRole ?c }
      UNION { ?i kk:hasComponent/prov:qualifiedAssociation/prov:hadRole ?c }
      UNION { ?i kk:hasEvaluation/kk:usefulFor ?c } }"""
PLAIN_FIGURES = {
    "themes": """
        SELECT ?what (COUNT(DISTINCT ?i) AS ?n) WHERE {
          <https://w3id.org/kouiki/concept/theme> skos:hasTopConcept ?what .
          OPTIONAL { ?c skos:broader* ?what . ?i a kk:Initiative ;
                     (kk:hasComponent|kk:hasDirection/kk:hasItem|kk:hasFutureDirection)? ?part . ?part dct:subject ?c }
        } GROUP BY ?what ORDER BY DESC(?n) ?what""",
    "prefectures": """
        SELECT ?what (COUNT(DISTINCT ?i) AS ?n) WHERE {
          ?i a kk:Initiative ; prov:wasAssociatedWith/foaf:member? ?body .
          { ?body kk:prefecture ?what } UNION { ?body a kk:Prefecture BIND (?body AS ?what) }
        } GROUP BY ?what ORDER BY ?what""",
}
PLAIN_IN_PREFECTURE = """
    SELECT DISTINCT ?i ?p WHERE { ?i a kk:Initiative ; prov:wasAssociatedWith ?a .
      { ?a kk:prefecture ?p } UNION { ?a foaf:member/kk:prefecture ?p } UNION { ?a a kk:Prefecture BIND (?a AS ?p) }
      UNION { ?a foaf:member ?p . ?p a kk:Prefecture } }"""
PLAIN_LEADS = """
    SELECT ?i ?lead WHERE { ?i a kk:Initiative
      OPTIONAL { ?i prov:qualifiedAssociation [ prov:hadRole <https://w3id.org/kouiki/concept/role/lead> ; prov:agent ?lead ] } }"""


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A project with ~250 generated initiatives beside the seed cases, built."""
    project = tmp_path_factory.mktemp("synthetic")
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "--triples", "40000", "--out", str(project / "p")],
                   check=True, capture_output=True)
    config = Config(root=project / "p", store_dir=project / "store")
    build(config, log=quiet)
    return config


def check_against_plain_queries(store: GraphStore) -> None:
    found = Listings(store.build_dir / LISTINGS_FILE)
    concepts = [row["c"] for row in store.query("SELECT ?c WHERE { ?c a skos:Concept }")]
    assert len(concepts) > 50
    under: dict[str, set[str]] = {}
    ancestors = [(row["c"].value, row["a"].value) for row in store.query("SELECT ?c ?a WHERE { ?c a skos:Concept ; skos:broader* ?a }")]
    for row in store.query(PLAIN_FILED):
        for concept, ancestor in ancestors:
            if concept == row["c"].value:
                under.setdefault(ancestor, set()).add(row["i"].value)
    for concept in concepts:
        expected = sorted(under.get(concept.value, ()))
        assert found.under_concept(concept.value, 0, 10**6) == (expected, len(expected)), concept
    for name, sparql in PLAIN_FIGURES.items():
        assert found.figures(name) == [(r["what"].value, int(r["n"].value)) for r in store.query(sparql)], name
    for name, sparql in listings.FIGURES.items():  # these are the page's own queries, moved to the build
        assert found.figures(name) == [(r["what"].value, int(r["n"].value)) for r in store.query(sparql)], name
    leads: dict[str, list[str]] = {}
    for row in store.query(PLAIN_LEADS):
        leads.setdefault(row["i"].value, [])
        if row["lead"] is not None:
            leads[row["i"].value].append(row["lead"].value)
    rows, total = found.initiatives(0, 10**6)
    assert total == len(leads) and [(r["iri"], sorted(r["leads"])) for r in rows] == sorted((i, sorted(l)) for i, l in leads.items())
    # by prefecture: an initiative is in a prefecture if a body of it (or the prefecture) takes part
    in_prefecture: dict[str, set] = {}
    for row in store.query(PLAIN_IN_PREFECTURE):
        in_prefecture.setdefault(row["p"].value, set()).add(row["i"].value)
    for row in rows:
        assert sorted(row["prefectures"]) == sorted(p for p, found_in in in_prefecture.items() if row["iri"] in found_in)
    for prefecture, initiatives in in_prefecture.items():
        listed, n = found.in_prefecture(prefecture, 0, 10**6)
        assert n == len(initiatives) and {i for i, _ in listed} == initiatives and all(bodies for _, bodies in listed)
    # what each agent takes part in, and its partners (the agent's page and map)
    taking_part: dict[str, list] = {}
    whole_graph = PLAIN_INITIATIVES_BY_ROLE.replace("$agent$", "?agent").replace("DISTINCT ?role", "DISTINCT ?agent ?role")
    for row in store.query(whole_graph):
        if isinstance(row["agent"], ox.NamedNode):
            taking_part.setdefault(row["agent"].value, []).append((row["role"], row["initiative"], row["via"]))
    associated: dict[str, set] = {}
    for row in store.query("SELECT ?i ?p WHERE { ?i a kk:Initiative ; prov:wasAssociatedWith ?p }"):
        associated.setdefault(row["i"].value, set()).add(row["p"])
    assert len(taking_part) >= 20
    for agent, expected in taking_part.items():
        assert found.taking_part(agent) == sorted(expected, key=lambda r: (r[0].value, r[1].value, str(r[2] or ""))), agent
        mine = {initiative.value for _, initiative, _ in expected}
        partners = {(str(p), None) for i in mine for p in associated.get(i, set())}
        partners |= {(f"<{other}>", role.value) for other, rows in taking_part.items() for role, i, _ in rows if i.value in mine}
        assert found.partners(agent) == sorted(partners, key=lambda row: (row[0], row[1] or "")), agent
    assert found.taking_part("https://w3id.org/kouiki/id/lg/999999") == [] and found.partners("x") == []
    check_labels(store, found)


def check_labels(store: GraphStore, found: Listings) -> None:
    """Every IRI's label values are those the page code read from the store term by term: the
    first label property it has wins, then (a page's choice) the least value of a language."""
    iris = sorted({t.value for q in store.iter_quads() for t in (q.subject, q.predicate, q.object)
                   if isinstance(t, ox.NamedNode)})
    expected, several = {}, 0
    for iri in iris:
        present = [p for p in listings.LABEL_PROPERTIES if next(store.iter_quads(ox.NamedNode(iri), ox.NamedNode(p), None), None)]
        several += len(present) > 1
        if present:
            values: dict[str, str] = {}
            for quad in store.iter_quads(ox.NamedNode(iri), ox.NamedNode(present[0]), None):
                values[quad.object.language or ""] = min(values.get(quad.object.language or "", quad.object.value), quad.object.value)
            expected[iri] = values
    assert len(expected) > 500 and several > 0  # some IRIs have two label properties: the order is tested
    assert found.labels(iris) == expected
    assert found.labels(["https://w3id.org/kouiki/id/lg/999999"]) == {}


def test_seed_listings_answer_as_the_plain_queries(store):
    check_against_plain_queries(store)
    found = Listings(store.build_dir / LISTINGS_FILE)
    for concept in [row["c"] for row in store.query("SELECT ?c WHERE { ?c a skos:Concept }")]:  # the page's own query
        plain = [row["i"].value for row in store.query_with(PLAIN_CONCEPT, s=concept)]
        assert found.under_concept(concept.value, 0, 10**6) == (plain, len(plain)), concept


def test_synthetic_listings_answer_as_the_plain_queries(synthetic):
    store = GraphStore.open_current(synthetic.store_dir)
    assert store.info.triples > 35_000
    check_against_plain_queries(store)


def test_long_listings_are_paged(synthetic):
    client = create_app(synthetic).test_client()
    html = {"Accept": "text/html"}
    home = client.get("/", headers=html).data.decode()
    total = int(re.search(r"<strong>([\d,]+)</strong> 件の取組", home).group(1).replace(",", ""))
    pages = -(-total // PER_PAGE)
    assert total > 200 and f"1 / {pages} ページ" in home and 'href="?lang=ja&amp;page=2" rel="next"' in home
    first = set(re.findall(r'href="(/id/initiative/[^"]+)"', home))
    second = client.get("/?page=2", headers=html).data.decode()
    assert len(first) == PER_PAGE and not first & set(re.findall(r'href="(/id/initiative/[^"]+)"', second))
    last = client.get("/?page=99999", headers=html)
    assert last.status_code == 200 and f"{pages} / {pages} ページ" in last.data.decode()
    assert re.search(r'href="/id/initiative/', last.data.decode())  # past the last page: the last page's initiatives
    for path in ("/?page=12068620371073646335098880", "/concept/theme/transport?page=12068620371073646335098880",
                 "/id/lg/130001?page=9223372036854775808"):  # beyond any offset SQLite takes: still the last page
        beyond = client.get(path, headers=html)
        assert beyond.status_code == 200 and re.search(r'href="/id/initiative/', beyond.data.decode()), path
    assert client.get("/?page=abc", headers=html).status_code == 200

    concept = client.get("/concept/theme/transport?lang=en", headers=html).data.decode()
    count = int(re.search(r"Initiatives under this concept \(narrower ones included\) <span class=\"count\">([\d,]+)</span>", concept).group(1)
                .replace(",", ""))
    listed = re.findall(r'<li><a href="(/id/initiative/[^"]+)"', concept)
    assert count > PER_PAGE and len(listed) == PER_PAGE and "page=2" in concept
    page2 = client.get("/concept/theme/transport?lang=en&page=2", headers=html)
    assert page2.headers["ETag"] != client.get("/concept/theme/transport?lang=en", headers=html).headers["ETag"]
    assert not set(listed) & set(re.findall(r'<li><a href="(/id/initiative/[^"]+)"', page2.data.decode()))


def test_sitemap_becomes_an_index_past_its_limit(synthetic, monkeypatch):
    client = create_app(synthetic).test_client()
    whole = re.findall(r"<loc>([^<]+)</loc>", client.get("/sitemap.xml").data.decode())
    assert len(whole) == len(set(whole)) > 1000 and whole[0] == "http://localhost/"
    monkeypatch.setattr(home_views, "SITEMAP_URLS", 400)  # as if past the protocol's 50,000
    index = client.get("/sitemap.xml").data.decode()
    files = re.findall(r"<sitemap><loc>http://localhost(/sitemap-\d+\.xml)</loc>", index)
    assert "<sitemapindex" in index and len(files) == -(-len(whole) // 400)
    parts = [re.findall(r"<loc>([^<]+)</loc>", client.get(f).data.decode()) for f in files]
    assert all(len(part) <= 400 for part in parts) and [url for part in parts for url in part] == whole
    missing = client.get(f"/sitemap-{len(files) + 1}.xml")
    assert missing.status_code == 404 and "sitemap" in missing.get_json()["message"]["en"]


def test_listings_asked_in_chunks_are_the_same(synthetic, tmp_path, monkeypatch):
    """Whole-store questions are asked a chunk of initiatives at a time (a remote store's time
    limit): chunks of 7 make the same file as one chunk of all ~250 initiatives."""
    import sqlite3

    # the build's own file, made from its copy in memory, against one made from the store on
    # disk: blank nodes are listed by holder, and keep their labels from the one to the other
    store = GraphStore.open_current(synthetic.store_dir)
    monkeypatch.setattr(listings, "CHUNK", 7)
    listings.build_listings(store.query, tmp_path / "chunked.sqlite")

    def tables(path):
        connection = sqlite3.connect(path)
        names = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {name: sorted(connection.execute(f"SELECT * FROM {name}").fetchall()) for name in names}

    whole = tables(store.build_dir / LISTINGS_FILE)
    assert len(whole["initiatives"]) > 200 and whole["filed"] and whole["labels"]
    assert tables(tmp_path / "chunked.sqlite") == whole


def test_home_cards_say_how_many_bodies_take_part(store_dir):
    found = Listings(current_build(store_dir) / LISTINGS_FILE)
    bodies = {row["iri"].rsplit("/", 1)[-1]: row["bodies"] for row in found.initiatives(0, 100)[0]}
    # 八戸市 leads 八戸圏域 (1市6町1村, counted not named); the 8 cities are named; 広陵町's 3市4町 are a
    # study's target, not associated with the initiative
    assert bodies["hachinohe-bus-network"] == 8 and bodies["yokohama-8cities-fy2019"] == 8
    assert bodies["koryo-facility-sharing"] == 1


def test_blank_nodes_listed_after_a_change_are_those_a_full_reading_lists(monkeypatch):
    """A busy object's blank nodes are listed by holder. After a change removes some of those
    listed, the next ones come from the holders known before, asked in order a chunk at a time
    (one holder a chunk here), and the last holder listed may have more than were listed."""
    monkeypatch.setattr(listings, "CHUNK", 1)
    store, ex = ox.Store(), "https://example.org/"
    association, has = ox.NamedNode("http://www.w3.org/ns/prov#Association"), ox.NamedNode(ex + "has")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    sizes = {"a": 2, "b": 3, "c": 1, "d": 2, "e": 2}  # blank nodes per holder, each holder in a graph of its own

    def state(holder: str) -> None:
        graph = ox.NamedNode(ex + "graph/" + holder)
        for _ in range(sizes[holder]):
            node = ox.BlankNode()
            store.add(ox.Quad(ox.NamedNode(ex + holder), has, node, graph))
            store.add(ox.Quad(node, rdf_type, association, graph))

    for holder in sizes:
        state(holder)
    query = lambda sparql: store.query(sparql, use_default_graph_as_union=True)  # noqa: E731
    terms = {"p": rdf_type, "o": association}

    def full(room: int) -> tuple[list, list]:
        found, holders = listings._blanks_of(query, terms, room, {}, None, set())
        return [(held[0].value, s) for s, held in found.items()], holders

    for room, change in [(3, "a"), (4, "b"), (2, "a"), (5, "c")]:  # cut in a holder's nodes; removed before, at, after
        for holder in sizes:
            store.remove_graph(ox.NamedNode(ex + "graph/" + holder))
            state(holder)
        found, holders = listings._blanks_of(query, terms, room, {}, None, set())
        assert holders == [ex + h for h in sizes]
        store.remove_graph(ox.NamedNode(ex + "graph/" + change))  # a case withdrawn
        after, holders_after = listings._blanks_of(query, terms, room, found, holders, {ex + change})
        assert ([(held[0].value, s) for s, held in after.items()], holders_after) == full(room), (room, change)
        state(change)  # and published again, with new blank nodes
        again, holders_again = listings._blanks_of(query, terms, room, after, holders_after, {ex + change})
        assert ([(held[0].value, s) for s, held in again.items()], holders_again) == full(room), (room, change)
