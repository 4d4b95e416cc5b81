"""The pictures as drawn on the server: the map of Japan and the role diagram, read back from the
SVG of every initiative page, in both languages (test_pictures_browser.py looks at them in Chromium)."""

from __future__ import annotations

import re
from html import unescape

import pyoxigraph as ox
import pytest

from kouiki_kg import maps
from kouiki_kg.app import create_app
from kouiki_kg.config import Config
from kouiki_kg.pictures import wrap

from .conftest import ROOT

MIC_DIVISION = "https://w3id.org/kouiki/id/org/mic-municipal-affairs-division"


@pytest.fixture(scope="module")
def client(store_dir):
    return create_app(Config.from_env(root=ROOT, store_dir=store_dir)).test_client(use_cookies=False)


@pytest.fixture(scope="module")
def initiatives(store) -> list[str]:
    return sorted(r["i"].value for r in store.query("SELECT ?i WHERE { ?i a kk:Initiative }"))


def page(client, path: str, lang: str) -> str:
    response = client.get(f"{path}?lang={lang}", headers={"Accept": "text/html"})
    assert response.status_code == 200, path
    return response.data.decode()


def drawings(html: str, kind: str) -> dict[str, str]:
    """The SVG of each drawing of a picture: maps by frame (wide, narrow), diagrams by layout (wide, tall)."""
    if kind == "map":
        found = re.findall(r'<div class="map-frame (\w+)">(<svg.*?</svg>)', html, re.S)
    else:
        found = re.findall(r'(<svg[^>]*class="diagram (\w+)".*?</svg>)', html, re.S)
        found = [(css, svg) for svg, css in found]
    return dict(found)


def used_outlines(html: str, svg: str) -> str:
    """The outlines a drawing shows: it <use>s them from the page's map-outlines picture, once
    for both drawings (which is never hidden: a <use> of hidden content draws nothing)."""
    (ident,) = re.findall(r'<use href="#([^"]+)"', svg)
    shared = re.search(r'<svg[^>]*class="map-outlines"[^>]*>(.*?)</svg>', html, re.S)
    assert shared and 'width="0" height="0"' in shared.group(0) and "display" not in shared.group(0)
    return re.search(rf'<g id="{ident}" class="map-base">(.*?)</g>', shared.group(1), re.S).group(1)


def texts(svg: str, css: str) -> list[str]:
    """The texts of one class, whole (a wrapped text's lines joined)."""
    return [unescape(re.sub(r"<title>.*?</title>|<[^>]+>", "", body))
            for body in re.findall(rf'<text[^>]*class="[^"]*\b{css}\b[^"]*"[^>]*>(.*?)</text>', svg, re.S)]


def path_points(data: str) -> list[list[tuple[float, float]]]:
    """The points of each subpath of SVG path data made of M, L, l and z, absolute; a subpath's
    closing point (z) is not listed."""
    rings: list[list[tuple[float, float]]] = []
    for command, args in re.findall(r"([MLlz])([^MLlz]*)", data):
        numbers = [float(n) for n in re.findall(r"-?(?:\d+\.?\d*|\.\d+)", args)]
        pairs = list(zip(numbers[::2], numbers[1::2]))
        assert len(numbers) % 2 == 0 and (command == "z") == (not pairs), data
        if command == "M":
            rings.append([pairs[0]])
            pairs, command = pairs[1:], "L"  # pairs after M's first are lines to them
        for x, y in pairs:
            last = rings[-1][-1]
            rings[-1].append((x, y) if command == "L" else (round(last[0] + x, 1), round(last[1] + y, 1)))
    return rings


def located_participants(store, initiative: str) -> set[str]:
    """Local governments that take part (themselves, or named as a member of a grouping that
    takes part or is covered) and have coordinates."""
    rows = store.query_with("""SELECT DISTINCT ?b WHERE {
        { $i$ prov:qualifiedAssociation/prov:agent ?a } UNION { $i$ kk:hasComponent/prov:qualifiedAssociation/prov:agent ?a }
        UNION { $i$ kk:targetGrouping ?a }
        { ?a foaf:member ?b } UNION { ?a geo:lat [] BIND (?a AS ?b) } ?b geo:lat [] }""", i=ox.NamedNode(initiative))
    return {r["b"].value for r in rows}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_initiative_map_draws_japan_and_names_every_participant(client, store, initiatives, lang):
    bordered = 0
    for initiative in initiatives:
        path = initiative.removeprefix("https://w3id.org/kouiki")
        html = page(client, path, lang)
        expected = located_participants(store, initiative)
        frames = drawings(html, "map")
        assert set(frames) == {"wide", "narrow"}, path
        for css, svg in frames.items():
            outlines = used_outlines(html, svg)
            land = re.search(r'class="land"', outlines) and re.search(r'<path d="(M[^"]+)" class="land"', outlines).group(1)
            assert land and sum(map(len, path_points(land))) > 15, (path, css)  # a coastline, not a box
            borders = re.search(r'<path d="([^"]*)" class="border"', outlines).group(1)
            bordered += borders.count("M") >= 2  # prefectures around the bodies (Hokkaido has none inside)
            assert 'class="sea"' in outlines, (path, css)
            hrefs = re.findall(r'<a href="([^"]+)"><circle[^>]*class="place', svg)
            assert {h.split("?")[0] for h in hrefs} == {i.removeprefix("https://w3id.org/kouiki") for i in expected}, (path, css)
            names = texts(svg, "place-label")
            assert len(names) == len(expected) and all(names), (path, css, names)
            # zoomed to the bodies: an inset of Japan marks where the view is
            assert 'class="inset"' in html.split(f'<div class="map-frame {css}">', 1)[1].split("</div>", 1)[0]
        assert "Natural Earth" in html and "japanmap" in html  # the attribution
    assert bordered >= 2 * (len(initiatives) - 1)


def test_a_count_without_names_is_drawn_as_a_count(client):
    html = page(client, "/id/initiative/koryo-facility-sharing", "ja")
    svg = drawings(html, "map")["wide"]
    assert len(re.findall(r'<circle[^>]*class="place', svg)) == 1  # Koryo itself: no invented members
    assert texts(svg, "area-label") == ["3市4町（広陵町の可能性調査の対象）（7 団体）"]
    assert 'class="area"' in svg
    assert texts(drawings(html, "map")["narrow"], "area-label")[0] in ("3市4町（広陵町の可能性調査の対象）（7 団体）", "7 団体")
    english = drawings(page(client, "/id/initiative/koryo-facility-sharing", "en"), "map")["wide"]
    assert texts(english, "area-label") == ["The 3 cities and 4 towns of Koryo's feasibility study (7 bodies)"]


def test_places_are_coloured_by_role_and_the_page_body_drawn_last(client):
    svg = drawings(page(client, "/id/initiative/yokohama-8cities-fy2019", "en"), "map")["wide"]
    fills = dict(re.findall(r'<a href="/id/lg/(\d+)"><circle[^>]*fill="(#\w+)"', svg))
    assert fills["141003"] == maps.ROLE_COLOURS["lead"]
    assert {fills[c] for c in fills if c != "141003"} == {maps.ROLE_COLOURS["partner"]}
    html = page(client, "/id/lg/141003", "en")
    svg = drawings(html, "map")["wide"]
    circles = re.findall(r'<circle[^>]*class="(place[^"]*)"', svg)
    assert circles[-1] == "place highlight" and circles.count("place highlight") == 1
    labels = texts(svg, "place-label")
    assert "Yokohama City" in labels and "Machida City" in labels
    assert 'class="swatch this"' in html and "This body" in html


def test_home_has_an_overview_map(client, store):
    html = page(client, "/", "en")
    svg = drawings(html, "map")["wide"]
    leads = {r["b"].value for r in store.query("""SELECT DISTINCT ?b WHERE {
        ?i prov:qualifiedAssociation [ prov:agent ?b ; prov:hadRole <https://w3id.org/kouiki/concept/role/lead> ] .
        ?b geo:lat [] }""")}
    hrefs = {h.split("?")[0] for h in re.findall(r'<a href="([^"]+)"><circle', svg)}
    assert {lead.removeprefix("https://w3id.org/kouiki") for lead in leads} <= hrefs
    assert "Map of the bodies taking part in initiatives" in html


def node_texts(svg: str) -> list[str]:
    return [unescape(re.sub(r"<title>.*?</title>|<[^>]+>", "", body))
            for body in re.findall(r'<text text-anchor="middle" class="label [^"]+"[^>]*>(.*?)</text>', svg, re.S)]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_diagrams_show_each_body_once_with_every_label_whole(client, store, initiatives, lang):
    for initiative in initiatives:
        path = initiative.removeprefix("https://w3id.org/kouiki")
        html = page(client, path, lang)
        for css, svg in drawings(html, "diagram").items():
            titles = [unescape(t) for t in re.findall(r"<title>(.*?)</title>", svg)]
            shown = node_texts(svg)
            assert len(titles) == len(shown) and len(set(titles)) == len(titles), (path, css)  # each node once
            for title, text in zip(titles, shown):
                # wrapped, never cut: the lines hold every character of the label (spaces at breaks aside)
                assert text.replace(" ", "") == title.replace(" ", "") and "…" not in text, (path, css, title)


def test_roles_are_drawn_where_they_are_held(client):
    svg = drawings(page(client, "/id/initiative/yokohama-8cities-fy2019", "ja"), "diagram")["wide"]
    # the ministry division lectured at one study session: its link starts at that activity
    assert "総務省" in "".join(node_texts(svg))
    nagano = drawings(page(client, "/id/initiative/nagano-rpa-ai-joint-procurement", "ja"), "diagram")["wide"]
    assert node_texts(nagano).count("長野県") == 1
    assert "実施主体・事務局" in texts(nagano, "role")
    koryo = drawings(page(client, "/id/initiative/koryo-facility-sharing", "ja"), "diagram")["wide"]
    assert any("7 団体" in t for t in node_texts(koryo))  # the grouping covered, with its count
    hachinohe = drawings(page(client, "/id/initiative/hachinohe-bus-network", "en"), "diagram")["wide"]
    assert "Hachinohe area (1 city, 6 towns, 1 village) — 8 bodies (not named in the source)" in hachinohe  # a partner given as a count
    sapporo = drawings(page(client, "/id/initiative/sapporo-senior-survey", "en"), "diagram")["wide"]
    assert "covers" in texts(sapporo, "role")


def test_roles_from_a_component_start_at_the_component(store):
    from kouiki_kg import pages
    from kouiki_kg.listings import LISTINGS_FILE, Listings
    from kouiki_kg.pictures import actor_diagram
    from kouiki_kg.reader import Reader

    iri = "https://w3id.org/kouiki/id/initiative/yokohama-8cities-fy2019"
    reader = Reader(store, Listings(store.build_dir / LISTINGS_FILE))
    data = pages.initiative(reader, iri, "en")
    svg = str(actor_diagram(data, iri, "en", {"target": "covers", "bodies": "{n} bodies"}, "diagram"))
    lecturer = [a for a in data["associations"] if a["agent"].iri == MIC_DIVISION]
    assert lecturer and all(a["where"].iri != iri for a in lecturer)
    # one link ends at the division, and it is labelled Lecturer; none comes from the initiative's own box
    for css, drawing in drawings(svg, "diagram").items():
        assert texts(drawing, "role").count("Lecturer") == 1, css


def test_the_home_map_is_made_as_a_web_process_starts(store_dir, monkeypatch):
    """At 1 M triples the home page's map places ~1,700 bodies: a web process makes it as it
    starts (serving.post_worker_init), and its first visitors in either language find it made."""
    from kouiki_kg.views.home import prepare_home

    app = create_app(Config.from_env(root=ROOT, store_dir=store_dir))
    prepare_home(app)
    drawn = []
    monkeypatch.setattr(maps, "figure", lambda *args, **kwargs: drawn.append(args))
    client = app.test_client(use_cookies=False)
    for lang in ("ja", "en"):
        assert 'class="map"' in page(client, "/", lang)
    assert drawn == []


def test_diagrams_drawn_at_once_in_threads_are_drawn_whole(store, initiatives):
    """A web process renders pages in threads: grandalf keeps a counter on its Vertex class while
    it layers a graph, so two layouts at once broke each other (a 500 under load at 1 M triples)."""
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from kouiki_kg import pages
    from kouiki_kg.listings import LISTINGS_FILE, Listings
    from kouiki_kg.pictures import actor_diagram
    from kouiki_kg.reader import Reader

    reader = Reader(store, Listings(store.build_dir / LISTINGS_FILE))
    data = {iri: pages.initiative(reader, iri, "en") for iri in initiatives}

    def draw(iri: str) -> str:
        return str(actor_diagram(data[iri], iri, "en", {"target": "covers", "bodies": "{n} bodies"}, "diagram"))

    alone = {iri: draw(iri) for iri in initiatives}
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns as often as they can: the race shows at once
    try:
        with ThreadPoolExecutor(8) as pool:
            together = list(pool.map(draw, initiatives * 25))
    finally:
        sys.setswitchinterval(interval)
    assert together == [alone[iri] for iri in initiatives * 25]


def test_both_drawings_of_a_diagram_come_out_as_if_laid_out_alone(store, initiatives, monkeypatch):
    """The wide and the tall drawing share one layering and ordering (they depend on the graph's
    shape alone) and each places its own sizes, its routes' bends included: every seed diagram
    must be the one two layouts of their own would draw."""
    from kouiki_kg import pages, pictures
    from kouiki_kg.listings import LISTINGS_FILE, Listings
    from kouiki_kg.reader import Node, Reader

    reader = Reader(store, Listings(store.build_dir / LISTINGS_FILE))
    words = {"target": "covers", "bodies": "{n} bodies"}
    data = {(iri, lang): pages.initiative(reader, iri, lang) for iri in initiatives for lang in ("ja", "en")}
    shared = {key: str(pictures.actor_diagram(d, key[0], key[1], words, "diagram")) for key, d in data.items()}
    shared_layouts = pictures._layouts
    bends = []

    def alone(variants, links, root):
        laid = [shared_layouts([variant], links, root)[0] for variant in variants]
        bends.extend(len(route) > 2 for _, routes in laid for route in routes)
        return laid

    # and one whose links span layers, which grandalf routes through dummy vertices: a body that
    # leads the initiative and is a partner in one of its activities (no seed case has one)
    def node(iri, label):
        return Node(ox.NamedNode(iri), label)

    initiative, activity = "https://w3id.org/kouiki/id/initiative/x", "https://w3id.org/kouiki/id/initiative/x/activity-1"
    role = "https://w3id.org/kouiki/concept/role/"
    spanning = {"title": "An initiative", "components": [{"node": node(activity, "An activity"), "ordinal": "1"}],
                "groupings": [], "associations": [
                    {"agent": node(body, name), "role": node(role + key, key), "where": node(where, "")}
                    for body, name, key, where in [
                        ("https://w3id.org/kouiki/id/lg/202011", "Nagano City", "lead", initiative),
                        ("https://w3id.org/kouiki/id/lg/202011", "Nagano City", "partner", activity),
                        ("https://w3id.org/kouiki/id/lg/202029", "Matsumoto City", "partner", activity),
                        ("https://w3id.org/kouiki/id/lg/202037", "Ueda City", "lead", initiative)]]}
    data[(initiative, "en")] = spanning
    shared[(initiative, "en")] = str(pictures.actor_diagram(spanning, initiative, "en", words, "diagram"))

    monkeypatch.setattr(pictures, "_layouts", alone)
    for key, d in data.items():
        assert str(pictures.actor_diagram(d, key[0], key[1], words, "diagram")) == shared[key], key
    assert any(bends)  # a link spanning layers: its bends were placed for each drawing's sizes


@pytest.mark.parametrize("text,ems", [
    ("8市の長期的見通し及び課題解決に向けた連携施策の検討", 7),
    ("Study of collaborative measures for the eight cities' long-term outlook", 7),
    ("総務省自治行政局市町村課", 4), ("Administration", 3), ("", 5),
])
def test_wrap_keeps_every_character(text, ems):
    lines = wrap(text, ems)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    if not text.isascii():
        assert all(maps.text_width(line) <= ems * 13 for line in lines)


def test_outlines_and_their_licences_are_vendored():
    geo = ROOT / "kouiki_kg" / "static" / "geo"
    assert {"japan.geojson", "README.md", "LICENSE-world-atlas", "LICENSE-japanmap"} <= {p.name for p in geo.iterdir()}
    japan, neighbours, borders = maps._outlines()
    assert japan.bounds[0] < 123.5 and japan.bounds[2] > 145.5  # Yonaguni to Nemuro
    assert len(borders.geoms) > 80 and neighbours
    # Sapporo, Naha and Sado are on land
    from shapely.geometry import Point
    assert all(japan.contains(Point(x, y)) for x, y in ((141.35, 43.06), (127.68, 26.21), (138.4, 38.05)))


def test_outlines_are_written_point_for_point_in_steps_from_each_ring_start():
    """maps._path writes each ring's first point and then steps to the next (issue 23: a third of
    a map page's bytes); read back, its points are the geometry's, projected, to a tenth."""
    from shapely.geometry import GeometryCollection, LineString, MultiLineString, Point, Polygon

    view = maps.View(130.0, 30.0, 140.0, 40.0, 480, 600)
    hole = Polygon([(131, 31), (139, 31), (139, 39), (131, 39)], [[(133, 33), (133.001, 33), (134, 34), (133, 34)]])
    lines = MultiLineString([[(130.5, 35), (131.5, 36.1), (131.5, 36.1), (139.9, 30.1)], [(135, 35), (135.02, 35)]])
    far = LineString([(-40, 35), (135, 35), (300, 80)])  # steps longer than the table of step texts
    cases = [(hole, True), (lines, False), (far, False),
             (GeometryCollection([hole, lines, Point(135, 35)]), None)]  # what a clip can give: the point adds nothing

    def expected(geometry, closed: bool) -> list[list[tuple[float, float]]]:
        ring = [(round((x - view.west) * view.kx, 1), round((view.north - y) * view.ky, 1)) for x, y in geometry.coords]
        ring = [p for i, p in enumerate(ring) if i == 0 or p != ring[i - 1]]  # the same point again adds nothing
        return [ring[:-1] if closed else ring]

    for geometry, closed in cases:
        data = maps._path(geometry, view)
        rings = ([*expected(hole.exterior, True), *expected(hole.interiors[0], True)] if closed
                 else [expected(line, False)[0] for line in lines.geoms] if closed is False and geometry is lines
                 else expected(far, False) if geometry is far
                 else [*expected(hole.exterior, True), *expected(hole.interiors[0], True),
                       *(expected(line, False)[0] for line in lines.geoms)])
        got = path_points(data)
        assert [len(r) for r in got] == [len(r) for r in rings], data
        for ring_got, ring_expected in zip(got, rings):
            assert all(abs(a - b) <= 0.051 for p, q in zip(ring_got, ring_expected) for a, b in zip(p, q)), data
        assert data.count("z") == (2 if closed is not False else 0) and data.count("M") == len(rings)
    assert maps._path(GeometryCollection(), view) == "" and maps._path(Point(135, 35), view) == ""


def test_a_crowded_map_is_drawn_once_and_names_as_many_as_fit():
    """A local government at 1 M triples shares initiatives with a hundred bodies: one drawing for
    every screen (a phone would show fewer names still), at most `label_limit` names, no overlap."""
    places = [maps.Place(f"町{i}", 35 + (i % 10) * 0.05, 139 + (i // 10) * 0.05, "partner", f"/id/lg/{i:06d}")
              for i in range(100)]
    html = str(maps.japan_map(places, "map", {"partner": "Partner"}, label_limit=30))
    assert html.count('<div class="map-frame') == 1 and '<div class="map-frame wide only">' in html
    labels = re.findall(r'<text x="([\d.]+)" y="([\d.]+)"[^>]*class="place-label', html)
    assert 0 < len(labels) <= 30
    assert len(re.findall(r'<circle[^>]*class="place', html)) == 100  # every body drawn, named or not
    few = str(maps.japan_map(places[:5], "map", {"partner": "Partner"}))
    assert '<div class="map-frame wide">' in few and '<div class="map-frame narrow">' in few


def test_outlines_prepared_at_start_cover_every_scale_a_map_is_drawn_at(store_dir, initiatives):
    """serving.post_worker_init reads and simplifies the outlines before a web process takes a
    connection: no page's map (initiatives, local governments, home, both languages, both
    drawings and insets) should have to simplify them again."""
    for cached in (maps._simplified, maps._base, maps._inset_base):  # as in a process just started
        cached.cache_clear()
    maps.prepare()
    before = maps._simplified.cache_info().misses
    client = create_app(Config.from_env(root=ROOT, store_dir=store_dir, cache_bytes=0, shared_cache_bytes=0)).test_client(
        use_cookies=False)
    paths = ["/", "/id/lg/141003", "/id/lg/022039"] + [i.removeprefix("https://w3id.org/kouiki") for i in initiatives]
    for path in paths:
        for lang in ("ja", "en"):
            page(client, path, lang)
    assert maps._simplified.cache_info().misses == before
