"""The maps and role diagrams as people see them: every initiative page in real Chromium, at 1280
and 390 px, in both languages — nothing cut, nothing overflowing, the zoom working, axe clean.

Screenshots go to var/screenshots/pictures/ (docs/screenshots/ is updated by hand after looking).
"""

from __future__ import annotations

import pytest

from .accessibility import axe_violations
from .conftest import ROOT
from .test_query_ui_browser import browser  # noqa: F401 — the shared Chromium fixture

SHOTS = ROOT / "var" / "screenshots" / "pictures"

# In the page: for the diagram and the map on screen, what would show a cut or an overflow.
MEASURE = """() => {
  const shown = (el) => el.getBoundingClientRect().width > 0;
  const diagram = [...document.querySelectorAll('svg.diagram')].find(shown);
  const map = [...document.querySelectorAll('svg.map')].find(shown);
  const out = {diagram: null, map: null};
  if (diagram) {
    const box = diagram.getBoundingClientRect();
    const nodes = [...diagram.querySelectorAll('rect.node')].map((rect) => {
      const r = rect.getBoundingClientRect(), t = rect.nextElementSibling.getBoundingClientRect();
      return {overflow: t.left < r.left - 1 || t.right > r.right + 1 || t.top < r.top - 1 || t.bottom > r.bottom + 1,
              text: rect.nextElementSibling.textContent};
    });
    const labels = [...diagram.querySelectorAll('text.role')].map((t) => t.getBoundingClientRect());
    out.diagram = {width: box.width, page: document.documentElement.clientWidth,
                   overflowing: nodes.filter((n) => n.overflow).map((n) => n.text),
                   outside: labels.filter((r) => r.left < box.left - 1 || r.right > box.right + 1).length,
                   fontPx: Math.min(...[...diagram.querySelectorAll('text.label')].map((t) => t.getBoundingClientRect().height))};
  }
  if (map) {
    const box = map.getBoundingClientRect();
    const labels = [...map.querySelectorAll('text.place-label')].map((t) => t.getBoundingClientRect());
    // the outlines are <use>d from the page's map-outlines picture: drawn, they cover the map
    const outlines = map.querySelector('use').getBoundingClientRect();
    out.map = {width: box.width, labels: labels.length, places: map.querySelectorAll('circle.place').length,
               outside: labels.filter((r) => r.left < box.left - 1 || r.right > box.right + 1).length,
               outlined: outlines.width >= box.width * 0.98 && outlines.height >= box.height * 0.98};
  }
  return out;
}"""

INITIATIVES = ["yokohama-8cities-fy2019", "yokohama-future-forecast", "hachinohe-bus-network", "koryo-facility-sharing",
               "nagano-rpa-ai-joint-procurement", "saitama-septic-tanks", "sapporo-senior-survey", "uozu-facilities-specialists"]


# both languages and both widths, crosswise: the suite's time is bounded, and test_pictures.py
# reads both drawings of every page's pictures in both languages
@pytest.mark.parametrize("lang,width", [("ja", 1280), ("en", 390)])
def test_initiative_pictures_fit_and_are_whole(browser, server, lang, width):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(INITIATIVES):
        page.goto(f"{server.url}/id/initiative/{name}?lang={lang}")
        found = page.evaluate(MEASURE)
        diagram, drawn = found["diagram"], found["map"]
        assert diagram and diagram["overflowing"] == [] and diagram["outside"] == 0, (name, diagram)
        assert diagram["width"] <= diagram["page"], name  # no sideways scrolling for the diagram
        assert diagram["fontPx"] >= 9, (name, diagram)  # readable on a phone
        assert drawn and drawn["labels"] == drawn["places"] and drawn["outside"] == 0 and drawn["outlined"], (name, drawn)
        assert drawn["width"] <= width
        page.locator(".figure.diagram-box").screenshot(path=str(SHOTS / f"diagram-{name}-{lang}-{width}.png"))
        page.locator(".figure.map").screenshot(path=str(SHOTS / f"map-{name}-{lang}-{width}.png"))
        if index == 0:
            assert axe_violations(page) == []
    assert errors == []
    context.close()


def test_maps_zoom_and_the_inset_stays(browser, server):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/id/lg/141003?lang=en")
    viewport = page.locator(".map-frame.wide svg.map .viewport")
    page.wait_for_function("document.querySelector('.map-frame.wide svg.map .viewport').getAttribute('transform')")
    before = viewport.get_attribute("transform")
    scale = lambda transform: float(transform.split("(")[1].split(",")[0])  # noqa: E731
    inset = page.locator(".map-frame.wide svg.inset").bounding_box()
    page.get_by_role("button", name="Zoom in").click()
    page.wait_for_timeout(300)
    after = viewport.get_attribute("transform")
    assert scale(after) > 1.1 * scale(before)
    assert page.locator(".map-frame.wide svg.inset").bounding_box() == inset
    page.get_by_role("button", name="Reset the view").click()
    page.wait_for_timeout(300)
    assert scale(viewport.get_attribute("transform")) == pytest.approx(scale(before), rel=0.01)
    # the map keeps its proportions once the zoom has taken its viewBox
    box = page.locator(".map-frame.wide svg.map").bounding_box()
    assert box["height"] > 300
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_home_and_a_local_government_map(browser, server, width):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True, locale="ja-JP")
    page = context.new_page()
    for path, shot in (("/?lang=ja", "home"), ("/id/lg/141003?lang=en", "local-government")):
        page.goto(server.url + path)
        drawn = page.evaluate(MEASURE)["map"]
        assert drawn and drawn["places"] >= 8 and drawn["outside"] == 0, (path, drawn)
        page.locator(".figure.map").screenshot(path=str(SHOTS / f"map-{shot}-{width}.png"))
        assert axe_violations(page) == []
    context.close()
