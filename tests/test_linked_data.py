"""Every IRI we mint dereferences: content negotiation, formats, 404s, languages, escaping, sitemap.

Bulk checks use the Flask test client on the session store (fast, thousands of requests);
rdflib's own HTTP fetch goes through the real server.
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import given, strategies

from kouiki_kg.app import create_app
from kouiki_kg.build import build
from kouiki_kg.config import Config
from kouiki_kg import listings, pages
from kouiki_kg.reader import PER_PAGE, Reader, compact
from kouiki_kg.namespaces import BASE, PREFIXES
from kouiki_kg.listings import LISTINGS_FILE, Listings, link_order
from kouiki_kg.store import term_order

from .conftest import ROOT, quiet, copy_project

FORMATS = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
           "application/ld+json": ox.RdfFormat.JSON_LD, "application/rdf+xml": ox.RdfFormat.RDF_XML}


@pytest.fixture(scope="module")
def client(store_dir):
    """A client without cookies: each request chooses its language afresh (a browser keeps the
    switch's choice: test_the_language_choice_sticks)."""
    return create_app(Config.from_env(root=ROOT, store_dir=store_dir)).test_client(use_cookies=False)


@pytest.fixture(scope="module")
def minted(store) -> list[str]:
    """Every resource IRI in the store under our base (hash IRIs live in their documents; the
    base itself is the home page, see test_base_iri_sends_rdf_clients_to_the_dataset)."""
    rows = store.query("""SELECT DISTINCT ?s WHERE { ?s ?p ?o
        FILTER (isIRI(?s) && STRSTARTS(STR(?s), "https://w3id.org/kouiki/") && !CONTAINS(STR(?s), "#")
                && ?s != <https://w3id.org/kouiki/>) }""")
    return sorted(row["s"].value for row in rows)


def path_of(iri: str) -> str:
    return "/" + iri[len(BASE):]


def test_every_resource_answers_in_html(client, minted):
    assert len(minted) > 2000
    failures = [iri for iri in minted if client.get(path_of(iri), headers={"Accept": "text/html"}).status_code != 200]
    assert failures == []


@pytest.mark.parametrize("media_type", list(FORMATS))
def test_every_resource_round_trips_in_every_rdf_format(client, store, minted, media_type):
    problems = []
    for iri in minted:
        response = client.get(path_of(iri), headers={"Accept": media_type})
        if response.status_code != 200 or not response.headers["Content-Type"].startswith(media_type):
            problems.append((iri, response.status_code))
            continue
        parsed = {q.triple for q in ox.parse(response.data, format=FORMATS[media_type])}
        own = {t for t in store.triples(ox.NamedNode(iri)) if not isinstance(t.object, ox.BlankNode)}
        with_blank = [t for t in store.triples(ox.NamedNode(iri)) if isinstance(t.object, ox.BlankNode)]
        missing = own - parsed
        # blank nodes get new labels in every serialisation: compare their count by predicate
        parsed_blank = [t for t in parsed if t.subject == ox.NamedNode(iri) and isinstance(t.object, ox.BlankNode)]
        if missing or len(parsed_blank) != len(with_blank):
            problems.append((iri, "missing triples"))
    assert problems == []


def test_base_iri_sends_rdf_clients_to_the_dataset(client):
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 200
    response = client.get("/", headers={"Accept": "text/turtle"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/dataset?format=ttl")


def test_description_includes_blank_node_closure_and_labels(client):
    response = client.get("/id/initiative/saitama-septic-tanks.ttl")
    graph = rdflib.Graph().parse(data=response.data.decode(), format="turtle")
    PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
    association = graph.value(rdflib.URIRef(BASE + "id/initiative/saitama-septic-tanks"), PROV.qualifiedAssociation)
    assert graph.value(association, PROV.agent) == rdflib.URIRef(BASE + "id/lg/110001")
    assert (rdflib.URIRef(BASE + "id/lg/110001"), rdflib.SKOS.prefLabel, rdflib.Literal("埼玉県", lang="ja")) in graph
    assert (rdflib.URIRef(BASE + "concept/role/lead"), rdflib.SKOS.prefLabel, rdflib.Literal("実施主体", lang="ja")) in graph


def test_rdflib_parses_our_iris_over_http(server):
    graph = rdflib.Graph()
    graph.parse(server.url + "/id/lg/022039")  # rdflib asks for RDF, we answer Turtle
    assert (rdflib.URIRef(BASE + "id/lg/022039"), rdflib.SKOS.prefLabel, rdflib.Literal("八戸市", lang="ja")) in graph
    initiative = rdflib.Graph().parse(server.url + "/id/initiative/hachinohe-bus-network")
    assert len(initiative) > 20


@pytest.mark.parametrize("accept,expected", [
    (None, "text/html"),
    ("*/*", "text/html"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html"),
    ("text/turtle", "text/turtle"),
    ("text/html;q=0.5, text/turtle", "text/turtle"),
    ("application/ld+json;q=1, text/html;q=0.9", "application/ld+json"),
    ("application/rdf+xml, text/turtle;q=0.8", "application/rdf+xml"),
    ("application/*", "application/n-triples"),
    ("text/plain", "application/n-triples"),  # N-Triples' old media type
])
def test_content_negotiation(client, accept, expected):
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/id/lg/022039", headers=headers)
    assert response.status_code == 200
    media = response.headers["Content-Type"].split(";")[0]
    if accept == "application/*":
        assert media.startswith("application/")
    else:
        assert media == expected
    assert "Accept" in response.headers["Vary"]


def test_unacceptable_is_406(client):
    response = client.get("/id/lg/022039", headers={"Accept": "image/png"})
    assert response.status_code == 406 and "text/turtle" in response.get_json()["offered"]


@pytest.mark.parametrize("suffix,media", [(".ttl", "text/turtle"), (".nt", "application/n-triples"),
                                          (".jsonld", "application/ld+json"), (".rdf", "application/rdf+xml"),
                                          (".html", "text/html")])
def test_extensions_choose_the_variant(client, suffix, media):
    response = client.get("/id/lg/022039" + suffix, headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.headers["Content-Type"].startswith(media)
    assert response.headers["Content-Location"] == "/id/lg/022039" + suffix


def test_format_parameter_and_link_headers(client):
    response = client.get("/concept/theme/tourism?format=ttl", headers={"Accept": "text/html"})
    assert response.headers["Content-Type"].startswith("text/turtle")
    negotiated = client.get("/concept/theme/tourism", headers={"Accept": "application/ld+json"})
    assert negotiated.headers["Content-Location"] == "/concept/theme/tourism.jsonld"
    links = negotiated.headers["Link"]
    for suffix, media in ((".ttl", "text/turtle"), (".jsonld", "application/ld+json"), (".html", "text/html")):
        assert f'</concept/theme/tourism{suffix}>; rel="alternate"; type="{media}"' in links
    html = client.get("/concept/theme/tourism", headers={"Accept": "text/html"}).data.decode()
    assert '<link rel="alternate" type="text/turtle" href="/concept/theme/tourism.ttl">' in html
    assert client.get("/concept/theme/tourism?format=yaml").status_code == 400


def test_hash_iris_are_served_through_their_document(client):
    graph = rdflib.Graph().parse(data=client.get("/ontology.ttl").data.decode(), format="turtle")
    KK = rdflib.Namespace(BASE + "ontology#")
    assert (KK.Initiative, rdflib.RDFS.label, rdflib.Literal("広域連携の取組", lang="ja")) in graph
    html = client.get("/ontology", headers={"Accept": "text/html"}).data.decode()
    assert 'id="Initiative"' in html and 'id="sourcePassage"' in html
    shapes = rdflib.Graph().parse(data=client.get("/shapes.ttl").data.decode(), format="turtle")
    assert (rdflib.URIRef(BASE + "shapes#InitiativeShape"), rdflib.RDF.type, rdflib.SH.NodeShape) in shapes
    dataset = client.get("/dataset", headers={"Accept": "text/turtle"})
    assert "dataset#catalog" in dataset.data.decode()


@pytest.mark.parametrize("path", ["/id/lg/999999", "/id/initiative/nope", "/concept/theme/nope",
                                  "/id/../../etc/passwd", "/somewhere/else", "/id/lg/022039/extra"])
def test_unknown_iris_are_404_negotiated(client, path):
    as_json = client.get(path, headers={"Accept": "application/json"})
    assert as_json.status_code == 404 and as_json.get_json()["error"] == "not_found"
    as_html = client.get(path, headers={"Accept": "text/html"})
    assert as_html.status_code == 404 and as_html.headers["Content-Type"].startswith("text/html")
    assert "404" in as_html.data.decode()


def test_conditional_requests_on_resources(client):
    """A page's ETag answers 304; `If-None-Match: *` is 304 only where the resource exists (the
    store is asked for existence only when an answer is made or the tag names none)."""
    page = client.get("/id/lg/022039", headers={"Accept": "text/html"})
    assert client.get("/id/lg/022039", headers={"Accept": "text/html", "If-None-Match": page.headers["ETag"]}
                      ).status_code == 304
    assert client.get("/id/lg/022039", headers={"Accept": "text/html", "If-None-Match": "*"}).status_code == 304
    assert client.get("/id/lg/999999", headers={"Accept": "text/html", "If-None-Match": "*"}).status_code == 404
    assert client.get("/id/lg/999999", headers={"Accept": "text/html", "If-None-Match": page.headers["ETag"]}
                      ).status_code == 404
    # an unknown format on nothing is still "nothing here"; on something, the format is the problem
    assert client.get("/id/lg/999999?format=bogus").status_code == 404
    assert client.get("/id/lg/022039?format=bogus").status_code == 400


def test_language_selection(client):
    ja = client.get("/id/initiative/hachinohe-bus-network", headers={"Accept": "text/html"}).data.decode()
    assert '<html lang="ja">' in ja and "主体と役割" in ja
    en = client.get("/id/initiative/hachinohe-bus-network?lang=en", headers={"Accept": "text/html"}).data.decode()
    assert '<html lang="en">' in en and "Who takes part, in which role" in en
    assert "Reorganising inter-regional trunk bus routes" in en
    header = client.get("/id/initiative/hachinohe-bus-network",
                        headers={"Accept": "text/html", "Accept-Language": "en-US,en;q=0.9"}).data.decode()
    assert '<html lang="en">' in header
    fallback = client.get("/id/initiative/hachinohe-bus-network",
                          headers={"Accept": "text/html", "Accept-Language": "fr"}).data.decode()
    assert '<html lang="ja">' in fallback
    # the switch on every page points at the other language
    assert 'hreflang="en"' in ja and "lang=en" in ja


def test_the_language_choice_sticks(store_dir):
    """Issue 22: a browser set to Japanese picked English, opened a case and was back in Japanese."""
    browser = create_app(Config.from_env(root=ROOT, store_dir=store_dir)).test_client()
    japanese = {"Accept": "text/html", "Accept-Language": "ja"}
    switched = browser.get("/?lang=en", headers=japanese)
    cookie = switched.headers["Set-Cookie"]
    assert cookie.startswith("lang=en;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = browser.get("/id/initiative/hachinohe-bus-network", headers=japanese)
    assert '<html lang="en">' in page.text and "Set-Cookie" not in page.headers
    assert set(page.headers["Vary"].replace(" ", "").split(",")) >= {"Accept-Language", "Cookie"}
    assert '<html lang="ja">' in browser.get("/id/lg/022039?lang=ja", headers=japanese).text
    assert '<html lang="ja">' in browser.get("/id/lg/022039", headers={"Accept": "text/html"}).text
    assert browser.get("/?lang=xx", headers=japanese).headers.get("Set-Cookie") is None  # not a language we have


def test_initiative_page_shows_what_the_issue_lists(client):
    html = client.get("/id/initiative/yokohama-8cities-fy2019", headers={"Accept": "text/html"}).data.decode()
    for text in ("横浜市", "町田市", "実施主体", "連携主体", "講師", "総務省自治行政局市町村課",  # actors and roles
                 "8市の現状及び8市間における広域連携の課題に関する基礎調査", "人口・世帯",  # activities, survey items
                 "2018-07", "2011年度", "8市連携部局長級会議（2019年1月）",  # meetings timeline
                 "基礎調査報告書", "8市連携市長会議の規約",  # documents
                 "書式等の統一により収集・分析作業の効率化が図られる",  # a challenge
                 "将来の脅威に対する備え", "災害対応",  # directions
                 "短期的には好事例の情報共有を更に推進", "003_0fbe08a3f1deeb3d.txt",  # future plans, provenance
                 '<svg', 'class="diagram wide"', 'class="diagram tall"', 'class="map"'):
        assert text in html, text
    hachinohe = client.get("/id/initiative/hachinohe-bus-network", headers={"Accept": "text/html"}).data.decode()
    for text in ("他の地域", "八戸圏域地域公共交通網形成計画", "2019-03", "他の市町村との広域連携に取り組む市町村の取組"):
        assert text in hachinohe, text


def test_local_government_page(client):
    html = client.get("/id/lg/022039", headers={"Accept": "text/html"}).data.decode()
    for text in ("八戸市", "はちのへし", "022039", "青森県", "https://www.city.hachinohe.aomori.jp/",
                 "http://data.e-stat.go.jp/lod/sac/C02203", "実施主体", "地域間幹線路線バスと域内コミュニティ交通の再編"):
        assert text in html, text
    ward = client.get("/id/lg/011011", headers={"Accept": "text/html"}).data.decode()
    assert "札幌市" in ward and "/id/lg/011002" in ward


# The plain formulation of "which initiatives does this agent take part in, in which role": too
# slow at 1 M triples (Oxigraph walks every initiative), so the pages ask it differently; the
# answers must stay the same for every agent.
PLAIN_INITIATIVES_BY_ROLE = """
    SELECT DISTINCT ?role ?initiative ?via WHERE {
      ?initiative a kk:Initiative .
      { ?initiative prov:qualifiedAssociation [ prov:agent $agent$ ; prov:hadRole ?role ] }
      UNION { ?initiative kk:hasComponent ?via . ?via prov:qualifiedAssociation [ prov:agent $agent$ ; prov:hadRole ?role ] }
      UNION { ?initiative prov:qualifiedAssociation [ prov:agent ?via ; prov:hadRole ?r ] . ?via foaf:member $agent$ .
              BIND (<https://w3id.org/kouiki/concept/role/member> AS ?role) }
      UNION { ?initiative kk:setUp ?via . ?via kk:hasSecretariat $agent$ .
              BIND (<https://w3id.org/kouiki/concept/role/secretariat> AS ?role) }
    } ORDER BY ?role ?initiative ?via"""


def test_agent_pages_answer_as_the_plain_queries(store):
    reader = Reader(store, Listings(store.build_dir / LISTINGS_FILE))
    agents = [row["x"] for row in store.query("""SELECT DISTINCT ?x WHERE {
        { [] prov:agent ?x } UNION { [] foaf:member ?x } UNION { [] kk:hasSecretariat ?x } FILTER isIRI(?x) }""")]
    assert len(agents) >= 20
    kinds = set()
    for agent in agents:
        plain = [(r["role"].value, r["initiative"].value, r["via"].value if r["via"] else "")
                 for r in store.query_with(PLAIN_INITIATIVES_BY_ROLE, agent=agent)]
        groups = pages.initiatives_by_role(reader, agent, "ja")
        ours = sorted((g["role"].value, i["initiative"].value, i["via"].value if i["via"] else "")
                      for g in groups for i in g["initiatives"])
        assert ours == sorted(plain), agent
        kinds.update(role.rsplit("/", 1)[1] for role, _, _ in plain)
        # the map: the agent, every body associated with its initiatives and every one taking part
        # in them in any role (a grouping by its named members), where it has coordinates
        initiatives = [ox.NamedNode(i) for _, i, _ in plain]
        bodies = [agent] + [r["p"] for r in store.query_with("""SELECT DISTINCT ?p WHERE {
            VALUES ?i { $i$ } ?i prov:wasAssociatedWith ?p }""", i=initiatives)] if plain else [agent]
        bodies += [r["agent"] for r in store.query(PLAIN_INITIATIVES_BY_ROLE.replace("$agent$", "?agent").replace(
            "DISTINCT ?role", "DISTINCT ?agent ?role")) if plain and r["initiative"] in initiatives]
        expected = set()
        for body in bodies:
            members = [t.object for t in store.triples(body, ox.NamedNode(PREFIXES["foaf"] + "member"))] or [body]
            expected |= {m.value for m in members if store.triples(m, ox.NamedNode(PREFIXES["geo"] + "lat"))}
        assert {p["node"].iri for p in pages.organisation(reader, agent.value, "ja")["map"]["points"]} == expected, agent
    assert {"lead", "partner", "member", "secretariat", "lecturer"} <= kinds


def test_concept_page_lists_initiatives_under_narrower_concepts(client):
    html = client.get("/concept/theme/transport", headers={"Accept": "text/html"}).data.decode()
    assert "/id/initiative/hachinohe-bus-network" in html and "/concept/theme/public-transport" in html
    role = client.get("/concept/role/lecturer", headers={"Accept": "text/html"}).data.decode()
    assert "/id/initiative/yokohama-8cities-fy2019" in role


def test_incoming_links_are_grouped_and_paged(client):
    first = client.get("/id/lg/130001", headers={"Accept": "text/html"}).data.decode()  # Tokyo: 62 bodies point here
    assert re.search(r"所在都道府県</a> \((\d+)\)", first) or "kk:prefecture" in first
    assert "incoming=2" in first
    second = client.get("/id/lg/130001?incoming=2", headers={"Accept": "text/html"}).data.decode()
    assert "2 / 2" in second
    assert client.get("/id/lg/130001?incoming=abc", headers={"Accept": "text/html"}).status_code == 200


def test_pages_list_literals_then_iris_then_blank_nodes():
    """Blank nodes last: their labels change with every build, so what comes before them does not."""
    values = [ox.BlankNode("a"), ox.NamedNode("https://example.org/z"), ox.Literal("b", language="en"), ox.Literal("a")]
    assert sorted(values, key=term_order) == [values[3], values[2], values[1], values[0]]


def holder_by_walk(store, blank: ox.BlankNode) -> tuple | None:
    """The IRI stating a blank node, and by which property: the least, where several do."""
    return min(((q.subject, q.predicate) for q in store.iter_quads(None, None, blank) if isinstance(q.subject, ox.NamedNode)),
               key=lambda held: (held[0].value, held[1].value), default=None)


def test_incoming_links_answer_as_the_plain_walk(store):
    """Counted and listed at build time for busy objects, asked in one query for the others, the
    incoming links are what walking every incoming triple gives: distinct (property, subject)
    pairs, by property then subject, 50 a page, counts whole; a blank node with the IRI that
    states it."""
    reader = Reader(store, Listings(store.build_dir / LISTINGS_FILE))
    held = 0
    targets = [row["o"] for row in store.query("SELECT DISTINCT ?o WHERE { ?s ?p ?o FILTER isIRI(?o) }")]
    assert len(targets) > 1000
    paged = busy = 0
    for target in targets:
        pairs = dict.fromkeys((q.predicate, q.subject) for q in store.iter_quads(None, None, target))
        by_property: dict = {}
        for predicate, subject in pairs:
            by_property.setdefault(predicate, []).append(subject)
        order = lambda link: (compact(link[0]), link_order(link[1], holder_by_walk(store, link[1])))
        links = sorted(((p.value, s) for p, s in pairs), key=order)
        groups = sorted(((p.value, len(v)) for p, v in by_property.items()), key=lambda g: (-g[1], compact(g[0])))
        busy += bool(reader.listings.incoming_counts(target.value))
        assert bool(reader.listings.incoming_counts(target.value)) == (len(links) >= listings.BUSY), target
        listed = min(len(links), listings.INCOMING_LISTED)
        pages_ = max(1, -(-listed // PER_PAGE))
        shown = []
        for page in range(1, pages_ + 1):
            ours = reader.incoming(target.value, "ja", page)
            assert [(p.term.value, n) for p, n in ours["groups"]] == groups, target
            assert (ours["total"], ours["listed"], ours["exact"], ours["pages"]) == (len(links), listed, True, pages_)
            assert ours["capped"] == (listed < len(links))
            shown += [(p.term.value, s.term) for p, s in ours["links"]]
            for _, s in ours["links"]:
                holder = (s.holder.term, s.via.term) if s.holder else None
                assert holder == (holder_by_walk(store, s.term) if s.is_blank else None), (target, s.term)
                held += holder is not None
        assert shown == links[:listed], target  # all, or the first 1,000 (the 1,963 sources of the authority data)
        paged += pages_ > 1
    assert paged >= 5 and busy >= 5  # bodies, concepts and classes with more than one page
    assert held >= 100  # the qualified associations, from the listings and asked at page time


def test_a_blank_node_linking_here_is_named_by_the_resource_that_states_it(client, store):
    """A blank node has no page: "What links here" names it by the IRI that states it and the
    property it does so by. Yokohama is the agent of qualified associations of two initiatives
    (a busy object: listed at build time); the role "lead" is had by eight (asked at page time)."""
    for path, query in [("/id/lg/141003", "?i prov:qualifiedAssociation [ prov:agent <https://w3id.org/kouiki/id/lg/141003> ]"),
                        ("/concept/role/lead", "?i prov:qualifiedAssociation [ prov:hadRole <https://w3id.org/kouiki/concept/role/lead> ]")]:
        expected = {row["i"].value.removeprefix("https://w3id.org/kouiki") for row in store.query(f"SELECT ?i WHERE {{ {query} }}")}
        assert len(expected) >= 2
        for lang in ("ja", "en"):
            html = client.get(f"{path}?lang={lang}", headers={"Accept": "text/html"}).data.decode()
            incoming = html[html.index('<section class="incoming">'):]
            incoming = incoming[:incoming.index("</section>")]
            held = re.findall(r'<span class="held"><a href="(/id/initiative/[^"]+)"[^>]*>[^<]+</a> '
                              r'<span aria-hidden="true">›</span> <a href="http://www.w3.org/ns/prov#qualifiedAssociation"', incoming)
            assert set(held) == expected and len(held) == len(expected), (path, lang)


def test_incoming_links_past_the_cap_point_to_sparql(store_dir, monkeypatch):
    """Asked at page time (fewer than BUSY), links past the cap — as when a remote store's data
    changed under its listings — are counted as a lower bound, with a query for all of them."""
    import kouiki_kg.reader

    monkeypatch.setattr(kouiki_kg.reader, "INCOMING_CAP", 10)  # Ishikawa: 19 bodies point here
    client = create_app(Config.from_env(root=ROOT, store_dir=store_dir)).test_client()
    html = client.get("/id/lg/170003?lang=en", headers={"Accept": "text/html"}).data.decode()
    assert '<span class="count">10+</span>' in html and "Only the first 10 are counted" in html
    query = re.search(r'href="/sparql\?lang=en#query=([^"]+)"', html).group(1)
    answer = client.get("/sparql", query_string={"query": unquote(query)}, headers={"Accept": "application/sparql-results+json"})
    assert len(answer.get_json()["results"]["bindings"]) == 19
    uncapped = client.get("/id/lg/022039?lang=en", headers={"Accept": "text/html"}).data.decode()
    assert "Only the first" not in uncapped and "listed here" not in uncapped


def test_a_busy_objects_incoming_links_are_counted_whole(client):
    """The authority data's source: every body cites it, counted at build time, 1,000 listed."""
    html = client.get("/source/localgovjp?lang=en&incoming=20", headers={"Accept": "text/html"}).data.decode()
    assert '<span class="count">1,965</span>' in html and "1,965 in all; 1,000 of them are listed here." in html
    assert ">dct:source</a> (1,964)</span>" in html
    assert "page 20 of 20" in html and html.count('<td class="via">') == 50
    assert "/sparql?lang=en#query=" in html
    ja = client.get("/source/localgovjp", headers={"Accept": "text/html"}).data.decode()
    assert "全 1,965 件のうち 1,000 件をここに表示しています。" in ja


def test_schema_org_json_ld_in_pages(client):
    for path, kind in (("/id/initiative/hachinohe-bus-network", "Project"), ("/id/lg/022039", "GovernmentOrganization"),
                       ("/concept/theme/tourism", "DefinedTerm"), ("/", "Dataset")):
        html = client.get(path, headers={"Accept": "text/html"}).data.decode()
        block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
        assert block, path
        assert json.loads(block.group(1))["@type"] == kind


def test_sitemap_and_robots(client, minted):
    sitemap = client.get("/sitemap.xml")
    assert sitemap.headers["Content-Type"].startswith("application/xml")
    locations = set(re.findall(r"<loc>([^<]+)</loc>", sitemap.data.decode()))
    for iri in minted:
        assert "http://localhost" + path_of(iri) in locations, iri
    robots = client.get("/robots.txt").data.decode()
    assert "Sitemap: http://localhost/sitemap.xml" in robots


def test_behind_a_trusted_proxy_pages_name_the_url_visitors_used(store_dir):
    """Behind a TLS proxy the sitemap and a page's own URL are the visitor's https URL, from
    X-Forwarded-*, but only if the operator says a proxy is there (anyone can send the headers)."""
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "kouiki.example.jp", "Accept": "text/html"}
    behind = create_app(Config(root=ROOT, store_dir=store_dir, trusted_proxies=1,
                               allowed_hosts=("kouiki.example.jp",))).test_client()
    assert "<loc>https://kouiki.example.jp/id/lg/022039</loc>" in behind.get("/sitemap.xml", headers=forwarded).text
    assert '"url": "https://kouiki.example.jp/id/lg/022039"' in behind.get("/id/lg/022039", headers=forwarded).text
    direct = create_app(Config(root=ROOT, store_dir=store_dir)).test_client()
    sitemap = direct.get("/sitemap.xml", headers=forwarded).text
    assert "kouiki.example.jp" not in sitemap and "<loc>http://localhost/id/lg/022039</loc>" in sitemap
    # a forged X-Forwarded-Host, even through a trusted proxy, names no page
    forged = behind.get("/sitemap.xml", headers={**forwarded, "X-Forwarded-Host": "evil.example", "Accept": "application/json"})
    assert forged.status_code == 400 and forged.get_json()["error"] == "bad_host"


def test_a_host_nobody_configured_is_400_and_names_no_page(store_dir):
    client = create_app(Config(root=ROOT, store_dir=store_dir)).test_client()
    for path in ("/", "/sitemap.xml", "/robots.txt", "/id/lg/022039"):
        response = client.get(path, base_url="http://evil.example", headers={"Accept": "application/json"})
        assert response.status_code == 400 and response.get_json()["error"] == "bad_host", path
        assert set(response.get_json()["message"]) == {"ja", "en"} and b"evil.example/id" not in response.data
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000"):
        assert client.get("/robots.txt", base_url=f"http://{host}").status_code == 200, host


def test_with_a_public_url_pages_name_it_whatever_the_headers_say(store_dir):
    client = create_app(Config(root=ROOT, store_dir=store_dir, public_url="https://kouiki.example.jp/",
                               trusted_proxies=1)).test_client()
    forged = {"Host": "evil.example", "X-Forwarded-Host": "evil2.example", "X-Forwarded-Proto": "http",
              "Accept": "text/html"}
    assert "Sitemap: https://kouiki.example.jp/sitemap.xml" in client.get("/robots.txt", headers=forged).text
    assert "<loc>https://kouiki.example.jp/id/lg/022039</loc>" in client.get("/sitemap.xml", headers=forged).text
    page = client.get("/id/lg/022039", headers=forged).text
    assert '"url": "https://kouiki.example.jp/id/lg/022039"' in page and "evil" not in page


def test_the_nginx_recipe_headers_name_the_public_site(store_dir):
    """docs/deployment.md's nginx sets X-Forwarded-Host to its own server_name and the scheme it
    served, and the server is told the name: what a visitor's Host says changes nothing."""
    client = create_app(Config(root=ROOT, store_dir=store_dir, trusted_proxies=1,
                               allowed_hosts=("kouiki.example.jp",))).test_client()
    recipe = {"Host": "10.0.0.11:8000", "X-Forwarded-Host": "kouiki.example.jp", "X-Forwarded-Proto": "https",
              "X-Forwarded-For": "203.0.113.7", "Accept": "text/html"}
    assert "<loc>https://kouiki.example.jp/id/lg/022039</loc>" in client.get("/sitemap.xml", headers=recipe).text


def test_search(client):
    html = client.get("/search?q=バス", headers={"Accept": "text/html"}).data.decode()
    assert "/id/initiative/hachinohe-bus-network" in html
    two_kanji = client.get("/search?q=札幌&format=json").get_json()
    assert any(r["iri"] == BASE + "id/lg/011002" for r in two_kanji["results"])
    by_kana = client.get("/search?q=はちのへ&format=json").get_json()
    assert by_kana["results"][0]["iri"] == BASE + "id/lg/022039" and by_kana["total"] == len(by_kana["results"])
    assert client.get("/search?q=" + "あ" * 101).status_code == 400
    assert client.get("/search?q=%22%27%3C").status_code == 200


def test_literals_are_escaped(tmp_path):
    """A <script> in a literal renders as text, in the page and in its JSON-LD block."""
    root = copy_project(tmp_path / "project")
    case = root / "data" / "ttl" / "cases" / "saitama-septic-tanks.ttl"
    text = case.read_text(encoding="utf-8")
    hostile = '<script>alert(1)</script></script><img src=x onerror=alert(2)>'
    text = text.replace('dct:title "公共浄化槽の広域整備に向けた調査"@ja , "Study towards area-wide development of public septic tanks"@en ;',
                        f'dct:title "公共浄化槽の広域整備に向けた調査"@ja , "{hostile}"@en ;')
    case.write_text(text, encoding="utf-8")
    config = Config(root=root, store_dir=tmp_path / "store")
    build(config, log=quiet)
    client = create_app(config).test_client()
    html = client.get("/id/initiative/saitama-septic-tanks?lang=en", headers={"Accept": "text/html"}).data.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "</script" not in block and json.loads(block)["name"]
    search = client.get("/search?q=alert&lang=en", headers={"Accept": "text/html"}).data.decode()
    assert "<script>alert" not in search


def test_a_node_shows_as_escaped_html():
    """kouiki_kg.reader.link: what every template shows a term with (links, literals with language or datatype)."""
    from kouiki_kg.reader import Node, link
    ours = Node(ox.NamedNode(BASE + "id/lg/022039"), 'A & "B" <c>')
    assert link(ours) == f'<a href="/id/lg/022039" title="{BASE}id/lg/022039">A &amp; &#34;B&#34; &lt;c&gt;</a>'
    assert link(Node(ox.NamedNode("https://example.org/x?a=1&b=2"))) == (
        '<a href="https://example.org/x?a=1&amp;b=2" title="https://example.org/x?a=1&amp;b=2">https://example.org/x?a=1&amp;b=2</a>')
    assert link(Node(ox.NamedNode("urn:x:y"))) == "<span>urn:x:y</span>"  # not a web address: no link
    assert link(Node(ox.Literal("<b>八戸</b>", language="ja"))) == (
        '<span class="literal" lang="ja">&lt;b&gt;八戸&lt;/b&gt;</span><span class="tag">@ja</span>')
    assert link(Node(ox.Literal("2021-04-01", datatype=ox.NamedNode(PREFIXES["xsd"] + "date")))) == (
        '<span class="literal">2021-04-01</span><span class="tag">xsd:date</span>')
    assert link(Node(ox.Literal("plain"))) == '<span class="literal">plain</span>'
    assert link(Node(ox.BlankNode("b0"))) == "<span>…</span>"


@given(strategies.text())
def test_html_made_in_python_is_escaped_as_jinja_escapes(text):
    """Links and maps escape with kouiki_kg.markup.escaped (a str, not a Markup per text): it must
    escape exactly what markupsafe, Jinja's escaping, does."""
    from markupsafe import escape

    from kouiki_kg.markup import escaped
    assert escaped(text) == str(escape(text))


def test_a_prefecture_page_lists_the_initiatives_its_bodies_take_part_in(client):
    """Issue 22: home said "Kanagawa 2", the Kanagawa page said no initiative was recorded."""
    html = client.get("/id/lg/140007?lang=en", headers={"Accept": "text/html"}).text
    assert "Initiatives in which bodies of this prefecture take part (2)" in html
    for path in ("/id/initiative/yokohama-8cities-fy2019", "/id/initiative/yokohama-future-forecast", "/id/lg/141305"):
        assert f'href="{path}"' in html
    assert "No initiative of this body is recorded yet" not in html
    home = client.get("/?lang=en", headers={"Accept": "text/html"}).text
    assert re.search(r'href="/id/lg/140007"[^>]*>Kanagawa Prefecture</a> <span class="count">2</span>', home)


def test_home_cards_say_lead_prefectures_themes_and_how_many_take_part(client):
    html = client.get("/?lang=en", headers={"Accept": "text/html"}).text
    card = html[html.index('href="/id/initiative/hachinohe-bus-network"'):]
    card = card[:card.index("</li>")]
    assert "Lead: " in card and ">Hachinohe City</a>" in card and ">Aomori Prefecture</a>" in card
    assert "Themes: " in card and "8 bodies take part" in card
    assert "1 body takes part" in html and "1 bodies" not in html


def test_a_scheme_lists_each_concept_once(client):
    html = client.get("/concept/theme?lang=en", headers={"Accept": "text/html"}).text
    concepts = html[html.index('<ul class="tree">'):html.index("</section>", html.index('<ul class="tree">'))]
    assert concepts.count('href="/concept/theme/transport"') == 1  # (the RDF below lists it too, as skos:hasTopConcept)
    assert concepts.count('href="/concept/theme/public-transport"') == 1


def test_a_passage_page_reads_in_order_and_in_the_page_language_first(client):
    html = client.get("/source/000_05f34e0fc86adcb0/L13-L15?lang=ja", headers={"Accept": "text/html"}).text
    assert html.index("開始行") < html.index("終了行")
    evaluation = client.get("/id/initiative/hachinohe-bus-network/evaluation?lang=ja", headers={"Accept": "text/html"}).text
    description = evaluation[evaluation.index("dct:description"):]
    assert description.index('lang="ja"') < description.index('lang="en"')


def test_the_dataset_page_agrees_with_home_and_links_its_classes(client):
    home = client.get("/?lang=en", headers={"Accept": "text/html"}).text
    dataset = client.get("/dataset?format=html&lang=en", headers={"Accept": "text/html"}).text
    triples = re.search(r"<strong>([\d,]+)</strong> triples", home).group(1)
    assert f"<dd>{triples}</dd>" in dataset
    assert 'href="/ontology#Initiative"' in dataset and ">Initiative</a>" in dataset


def test_templates_are_compiled_as_a_web_process_starts(store_dir, monkeypatch):
    """serving.post_worker_init compiles every template, so that the first visitor of each kind of
    page after a start does not wait 20–90 ms for its template: no page compiles one after it."""
    from kouiki_kg.app import compile_templates

    app = create_app(Config.from_env(root=ROOT, store_dir=store_dir, cache_bytes=0, shared_cache_bytes=0))
    compile_templates(app)
    compiled = []
    compile_now = app.jinja_env.compile
    monkeypatch.setattr(app.jinja_env, "compile", lambda *args, **kwargs: compiled.append(args[1:]) or compile_now(*args, **kwargs))
    client = app.test_client(use_cookies=False)
    paths = ["/", "/id/lg/141003", "/id/lg/022039", "/id/initiative/hachinohe-bus-network", "/concept/theme/tourism",
             "/concept/role", "/concept/role/lead", "/ontology", "/shapes", "/dataset", "/sparql", "/validate", "/draft",
             "/search?q=バス", "/id/lg/999999"]
    for path in paths:
        for lang in ("ja", "en"):
            response = client.get(f"{path}{'&' if '?' in path else '?'}lang={lang}", headers={"Accept": "text/html"})
            assert response.status_code in (200, 404) and response.mimetype == "text/html", path
    assert compiled == []
    monkeypatch.undo()
    app.jinja_env.cache.clear()  # a sanity check of the check: without compiling ahead, pages compile
    monkeypatch.setattr(app.jinja_env, "compile", lambda *args, **kwargs: compiled.append(args[1:]) or compile_now(*args, **kwargs))
    client.get("/concept/theme/tourism", headers={"Accept": "text/html"})
    assert compiled
