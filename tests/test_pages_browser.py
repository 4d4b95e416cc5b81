"""The pages in real headless Chromium: a crawl from the home page, and a screenshot of each page kind.

Chromium visits the home page, every page it links to and one page of each kind, watching for
console errors and failed requests; the pages those initiative pages link to are read over
HTTP; every link found on any of them is then fetched. (That every resource page answers is checked for all of them,
faster, in test_linked_data.)
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest
import requests

from .conftest import ROOT
from .test_query_ui_browser import browser  # noqa: F401 — the shared Chromium fixture

SCREENSHOTS = ROOT / "var" / "screenshots"  # test pictures; docs/screenshots/ is updated by hand after looking
PAGE_KINDS = {
    "home": "/?lang=ja",
    "initiative": "/id/initiative/yokohama-8cities-fy2019?lang=ja",
    "initiative-en": "/id/initiative/hachinohe-bus-network?lang=en",
    "local-government": "/id/lg/022039?lang=ja",
    "organisation": "/id/org/eight-cities?lang=ja",
    "concept": "/concept/theme/public-facilities?lang=ja",
    "scheme": "/concept/theme?lang=en",
    "source": "/source/003_0fbe08a3f1deeb3d?lang=ja",
    "ontology": "/ontology?lang=en",
    "shapes": "/shapes?lang=ja",
    "dataset": "/dataset?format=html&lang=ja",
    "search": "/search?q=%E5%85%AC%E5%85%B1%E6%96%BD%E8%A8%AD&lang=ja",
    "activity": "/id/initiative/yokohama-8cities-fy2019/activity-2?lang=ja",
}


def crawlable(url: str, origin: str) -> bool:
    parsed = urlparse(url)
    if f"{parsed.scheme}://{parsed.netloc}" != origin:
        return False
    if parsed.path.startswith(("/sparql", "/dumps", "/static", "/openapi.json")) or "format=" in parsed.query:
        return False
    return not parsed.path.endswith((".ttl", ".nt", ".jsonld", ".rdf"))


@pytest.fixture(scope="module")
def visit(browser, server):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}")
            if "ERR_ABORTED" not in (r.failure or "") else None)  # aborted by our own next navigation
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    def go(path: str) -> list[str]:
        response = page.goto(server.url + path if path.startswith("/") else path)
        assert response is not None and response.status == 200, path
        return [urljoin(page.url, href) for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")]

    go.page, go.problems = page, problems
    yield go
    context.close()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and dict(attrs).get("href"):
            self.hrefs.append(dict(attrs)["href"])


def links_in(session: requests.Session, url: str) -> list[str]:
    """The links of a page fetched over HTTP (pages of a kind Chromium has already rendered)."""
    response = session.get(url, timeout=30, headers={"Accept": "text/html"})
    assert response.status_code == 200, url
    parser = _Links()
    parser.feed(response.text)
    return [urljoin(url, href) for href in parser.hrefs]


def test_crawl_from_the_home_page(visit, server):
    """Chromium renders home, every page home links to and one page of each kind; the pages the
    initiative pages link to, all of kinds rendered already, are read over HTTP; every link found
    on any of them answers."""
    origin, session = server.url, requests.Session()
    links = {u.split("#", 1)[0] for u in visit(origin + "/")}
    rendered = {origin + "/"}
    for url in sorted(u for u in links if crawlable(u, origin)):
        rendered.add(url)
        found = visit(url)
        links.update(u.split("#", 1)[0] for u in found)
        if "/id/initiative/" in url:
            for second in {u.split("#", 1)[0] for u in found if crawlable(u, origin)} - rendered:
                links.update(u.split("#", 1)[0] for u in links_in(session, second))
    for path in PAGE_KINDS.values():
        links.update(u.split("#", 1)[0] for u in visit(path))
    assert len(rendered) > 25
    assert visit.problems == []
    ours = sorted(u for u in links if u.startswith(origin))  # official sites, e-Stat: not fetched from here

    def status(url: str) -> int:
        return requests.get(url, timeout=30, headers={"Accept": "text/html"}).status_code

    with ThreadPoolExecutor(4) as fetchers:  # ~1,600 links: a server's clients come several at a time
        broken = [(code, url) for url, code in zip(ours, fetchers.map(status, ours)) if code != 200]
    assert broken == []
    assert len(links) > 200


@pytest.mark.parametrize("kind", list(PAGE_KINDS))
def test_screenshot_of_each_page_kind(visit, kind):
    visit(PAGE_KINDS[kind])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visit.page.screenshot(path=str(SCREENSHOTS / f"{kind}.png"), full_page=False)
    assert visit.page.locator("h1").count() >= 1
    assert visit.page.evaluate("document.documentElement.lang") in ("ja", "en")
