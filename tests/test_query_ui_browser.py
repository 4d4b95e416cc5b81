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
