"""The query UI in real headless Chromium (Debian's `chromium`), driven with Playwright."""

from __future__ import annotations

import shutil
from urllib.parse import urlparse

import pytest
from playwright.sync_api import sync_playwright

from .conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "var" / "screenshots"  # test pictures; docs/screenshots/ is updated by hand after looking


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="ja-JP")
    page = context.new_page()
    page.outside_requests = []
    page.console_errors = []
    page.on("request", lambda r: page.outside_requests.append(r.url)
            if urlparse(r.url).hostname not in ("127.0.0.1", None) and not r.url.startswith("data:") else None)
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()


def test_run_an_example_query_and_see_the_table(page, server):
    page.goto(server.url + "/sparql?lang=ja")
    page.wait_for_selector(".yasqe .CodeMirror")
    page.click("button.example >> nth=0")  # 取組ごとの実施主体と連携主体
    page.wait_for_selector(".yasr table tbody tr", timeout=20000)
    table = page.inner_text(".yasr table tbody")
    for name in ("八戸市", "広陵町", "長野県", "横浜市"):
        assert name in table
    assert page.locator(".yasr table tbody tr").count() == 8
    # links to our resources point at this server, not at the canonical host
    hrefs = page.eval_on_selector_all(".yasr table a", "els => els.map(e => e.href)")
    ours = [h for h in hrefs if "/id/initiative/" in h]
    assert ours and all(h.startswith(server.url) for h in ours)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "sparql-ui.png"), full_page=True)
    assert page.outside_requests == []  # everything is served locally: works offline, no CDN
    assert page.console_errors == []
    # the editor's controls speak Japanese on the Japanese page (YASGUI knows only English)
    controls = page.inner_text(".yasr_header") + page.inner_text(".yasr")
    assert "8 件中 1〜8 件目" in controls and "表" in controls
    for english in ("Simple view", "Showing", "Table", "Response"):
        assert english not in controls, english
    assert not page.is_visible(".autocompleteWrapper") and not page.is_visible(".clearEndpointBtn")  # one endpoint


def test_shareable_link_restores_the_query(page, server):
    page.goto(server.url + "/sparql?lang=en")
    page.wait_for_selector(".yasqe .CodeMirror")
    query = "SELECT ?n WHERE { BIND (42 AS ?n) }"
    page.evaluate("q => window.kouikiYasgui.getTab().getYasqe().setValue(q)", query)
    page.click("#share")
    assert "#query=" in page.url
    fresh = page.context.new_page()
    fresh.goto(page.url)
    fresh.wait_for_selector(".yasr table tbody tr", timeout=20000)
    assert "42" in fresh.inner_text(".yasr table tbody")
    assert fresh.evaluate("() => window.kouikiYasgui.getTab().getYasqe().getValue()") == query


def test_prefix_completion_offers_our_prefixes(page, server):
    page.goto(server.url + "/sparql")
    page.wait_for_selector(".yasqe .CodeMirror")
    page.evaluate("() => window.kouikiYasgui.getTab().getYasqe().setValue('')")
    page.click(".yasqe .CodeMirror")
    page.keyboard.type("PREFIX k")
    page.wait_for_selector(".CodeMirror-hints", timeout=10000)
    hints = page.inner_text(".CodeMirror-hints")
    assert "kk: <https://w3id.org/kouiki/ontology#>" in hints


@pytest.mark.parametrize("lang, expected", [("ja", "SPARQL の構文エラーです（2行 18列）"),
                                            ("en", "SPARQL syntax error at line 2, column 18")])
def test_a_failing_query_shows_the_servers_error_in_the_page_language(page, server, lang, expected):
    """Issue 23: a syntax error showed "Response in 0.028 s" above an empty table, read as no
    results. The server's error is shown in the page's language, its position marked."""
    page.goto(server.url + f"/sparql?lang={lang}")
    page.wait_for_selector(".yasqe .CodeMirror")
    page.evaluate("kouikiYasgui.getTab().getYasqe().setValue('SELECT * WHERE { ?s ?p ?o \\n FILTER (?x = ) }')")
    page.click(".yasqe_queryButton")
    page.wait_for_selector("#query-error:not([hidden])", timeout=20000)
    text = page.inner_text("#query-error")
    assert expected in text and "query_syntax (HTTP 400)" in text
    assert page.locator(".query-error-line").count() == 1 and page.locator(".query-error-at").count() == 1
    assert not page.is_visible(".yasr_response_chip")  # no "Response in … seconds" above nothing
    page.evaluate("kouikiYasgui.getTab().getYasqe().setValue('ASK {}')")
    page.click(".yasqe_queryButton")
    page.wait_for_selector("#query-error", state="hidden", timeout=20000)
    assert page.locator(".query-error-line").count() == 0
    # the browser's own log of the 400 is expected; nothing else
    assert [e for e in page.console_errors if "400" not in e] == []


def test_a_query_past_its_time_limit_says_so_and_how_to_make_it_cheaper(page, server):
    page.goto(server.url + "/sparql?lang=en")
    page.wait_for_selector(".yasqe .CodeMirror")
    page.evaluate("kouikiYasgui.getTab().getYasqe().setValue("
                  "'SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }')")
    page.click(".yasqe_queryButton")
    page.wait_for_selector("#query-error:not([hidden])", timeout=30000)
    text = page.inner_text("#query-error")
    assert "time limit" in text and "add a LIMIT" in text and "query_timeout (HTTP 503)" in text


VIEWS = {  # example → the view chosen for its answer, and texts that view must draw
    "16-map-of-bodies-taking-part": ("map", ["札幌市", "八戸市", "広陵町"]),
    "17-initiatives-per-theme-chart": ("chart", ["人材", "交通"]),
    "08-meetings-timeline": ("timeline", ["8市連携市長会議（2011年度）", "8市連携市長会議（2018年7月）", "8市連携部局長級会議（2019年1月）"]),
    "18-network-of-initiatives-and-bodies": ("network", ["魚津市", "広陵町"]),
    "01-initiatives-lead-partners": ("table", []),
}


@pytest.mark.parametrize("width", [1280, 390])
def test_each_result_view_draws_for_its_example(page, server, width):
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(server.url + "/sparql?lang=ja")
    page.wait_for_selector(".yasqe .CodeMirror")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, (view, texts) in VIEWS.items():
        page.click(f"button.example[data-name='{name}']")
        page.wait_for_selector(f".yasr_btn.select_{view}.selected", timeout=20000)
        if view == "table":
            page.wait_for_selector(".yasr table tbody tr")
            continue
        page.wait_for_selector(f".result-view-{view} svg text", timeout=20000)
        # what the view holds (a label hidden where it would overlap another is still a point)
        held = page.eval_on_selector(f".result-view-{view}", """el => JSON.stringify(echarts.getInstanceByDom(el).getOption().series
            .map(s => [s.data, (s.yAxis || [])]).concat(echarts.getInstanceByDom(el).getOption().yAxis || []))""")
        for text in texts:
            assert text in held, (name, text)
        assert page.locator(f".result-view-{view} svg text").count() >= 3, name
        assert page.locator(f".result-view-{view}").bounding_box()["width"] <= width
        page.locator("#yasgui").screenshot(path=str(SCREENSHOTS / f"sparql-view-{view}-{width}.png"))
    # the view is a choice: the map's answer can be shown as a table too
    page.click("button.example[data-name='16-map-of-bodies-taking-part']")
    page.wait_for_selector(".yasr_btn.select_map.selected", timeout=20000)
    page.click(".yasr_btn.select_table")
    page.wait_for_selector(".yasr table tbody tr")
    assert "札幌市" in page.inner_text(".yasr table tbody")
    assert page.outside_requests == [] and page.console_errors == []


def test_results_show_labels_beside_iris_and_values_with_their_datatype(page, server):
    page.goto(server.url + "/sparql?lang=en")
    page.wait_for_selector(".yasqe .CodeMirror")
    query = ("SELECT ?body ?n ?note WHERE { VALUES (?body ?n ?note) { (<https://w3id.org/kouiki/id/lg/141003> 13 \"<b>x</b>\"@ja) "
             "(<https://w3id.org/kouiki/id/lg/022039> 2 \"y\") } }")
    page.evaluate("q => { const y = window.kouikiYasgui.getTab().getYasqe(); y.setValue(q); y.query(); }", query)
    page.wait_for_selector(".yasr table tbody tr a.labelled", timeout=20000)
    assert page.locator(".yasr table b").count() == 0  # a literal's markup is shown, never run
    assert page.eval_on_selector(".yasr table .literal[lang='ja']", "e => [e.textContent, e.title]") == ["<b>x</b>", "@ja"]
    links = page.eval_on_selector_all(".yasr table a.labelled", "els => els.map(e => [e.textContent, e.href])")
    assert ["Yokohama City", server.url + "/id/lg/141003"] in links and ["Hachinohe City", server.url + "/id/lg/022039"] in links
    ids = page.eval_on_selector_all(".yasr table .iri-id", "els => els.map(e => e.textContent)")
    assert "https://w3id.org/kouiki/id/lg/141003" in ids  # the IRI stays beside its label
    numbers = page.eval_on_selector_all(".yasr table .literal", "els => els.map(e => [e.textContent, e.title])")
    assert ["13", "xsd:integer"] in numbers  # the value, its datatype on hover
    assert "^^" not in page.inner_text(".yasr table tbody")
    assert page.console_errors == []


def test_examples_sit_in_a_gallery_with_a_line_and_tags(page, server):
    page.goto(server.url + "/sparql?lang=en")
    cards = page.locator("ul.gallery > li")
    assert cards.count() >= 18
    for index in range(cards.count()):
        card = cards.nth(index)
        assert card.locator("button.example").inner_text() and card.locator("p").inner_text(), index
        assert card.locator("ul.tags li").count() >= 1, index
    assert "map view" in page.inner_text("ul.gallery")
    # the editor comes first: the gallery is below the results
    editor = page.locator("#yasgui").bounding_box()
    assert editor["y"] < page.locator("ul.gallery").bounding_box()["y"]
