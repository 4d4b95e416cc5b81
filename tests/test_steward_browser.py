"""The validation report in real headless Chromium, in both languages and at 1280 and 390 px:
rules broken, the sent text with the lines that have findings, downloads, and axe-core."""

from __future__ import annotations

import pytest

from .accessibility import axe_violations
from .conftest import ROOT
from .test_query_ui_browser import browser  # noqa: F401 — the shared Chromium fixture

TEMPLATE = (ROOT / "data" / "templates" / "case-template.ttl").read_text(encoding="utf-8")
HACHINOHE = (ROOT / "data" / "ttl" / "cases" / "hachinohe-bus-network.ttl").read_text(encoding="utf-8")
SHOTS = ROOT / "var" / "screenshots"  # docs/screenshots/ is updated by hand after looking


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_paste_a_case_and_read_the_report(browser, server):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="ja-JP")
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(server.url + "/validate?lang=ja")
    broken = TEMPLATE.replace("prov:hadRole role:lead", "prov:hadRole role:partner").replace(
        "prov:agent lg:022039", "prov:agent lg:999999")
    page.fill("textarea#text", broken)
    page.click("form.validate button[type=submit]")
    page.wait_for_selector("section.report.fail")
    report = page.inner_text("section.report")
    assert "実施主体（role:lead）の関与がちょうど一つ必要です。" in report
    assert "https://w3id.org/kouiki/id/lg/999999 は存在しません" in report
    assert "行目" in report  # the line where the node is written
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "validation-report.png"), full_page=True)
    page.fill("textarea#text", TEMPLATE)
    page.click("form.validate button[type=submit]")
    page.wait_for_selector("section.report.pass")
    assert errors == []
    page.close()


@pytest.mark.parametrize("lang,width", [("ja", 1280), ("en", 390)])
def test_the_report_marks_the_lines_groups_the_rules_and_passes_axe(browser, server, lang, width):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True,
                                  locale="ja-JP" if lang == "ja" else "en-GB")
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{server.url}/validate?lang={lang}")
    broken = HACHINOHE.replace('"2019-03"^^xsd:gYearMonth', '"2019-13"^^xsd:gYearMonth') + (
        '\n<https://w3id.org/kouiki/id/lg/022039> <http://www.w3.org/2004/02/skos/core#altLabel> "x"@ja .\n')
    page.fill("textarea#text", broken)
    with page.expect_navigation():
        page.click("form.validate button[type=submit]")
    # recognised as the case it replaces, said so, and kept in the form
    replacing = "hachinohe-bus-network"
    assert replacing in page.inner_text("section.report")
    assert page.input_value("form.validate input[name=case]") == replacing
    # one entry per rule broken, each pointing at its line
    rules = page.locator("ul.rules > li")
    assert rules.count() == 2
    date_line, hijack_line = line_of(broken, '"2019-13"'), line_of(broken, "altLabel")
    flagged = [int(i.removeprefix("L")) for i in page.eval_on_selector_all("ol.source li.flagged", "els => els.map(e => e.id)")]
    assert hijack_line in flagged and any(line <= date_line for line in flagged)
    assert page.locator("ol.source > li").count() == len(broken.splitlines())
    page.click(f"a[href='#L{hijack_line}']")
    assert page.evaluate("location.hash") == f"#L{hijack_line}"
    if lang == "ja":
        assert "違反" in page.inner_text("ul.rules") and "Violation" not in page.inner_text("ul.rules")
    # the report downloads as CSV, without the text having to be sent again by hand
    with page.expect_download() as download:
        page.click("form.downloads button[value=csv]")
    rows = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert rows[0].startswith("line,focus,path") and len(rows) == 3
    assert axe_violations(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"validation-report-{lang}-{width}.png"), full_page=True)
    assert errors == []
    context.close()


DRAFTS = ROOT / "tests" / "drafts"
SEED_003 = ROOT.parent / "shared" / "seeds" / "003_0fbe08a3f1deeb3d.txt"


@pytest.mark.parametrize("lang,width", [("ja", 1280), ("en", 390)])
def test_draft_review_then_validate(browser, server, lang, width):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 1000}, bypass_csp=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{server.url}/draft?lang={lang}")
    page.fill("textarea#text", (DRAFTS / "summary-chugoku-and-others.txt").read_text(encoding="utf-8"))
    page.click("form.validate button[type=submit]")
    page.wait_for_selector("section.report.fail")
    must = page.locator("ul.review li.must")
    assert must.count() >= 4  # 伊達市 ambiguous, 八戸士 unknown, two leads missing, and what the shapes then refuse
    review = page.inner_text("ul.review")
    assert "伊達市" in review and ("072133" in review) and ("八戸市" in review)
    assert ("要対応" in review) if lang == "ja" else ("Must" in review)
    # each item links to its line: the source text's line is marked, the draft's too
    page.locator("ul.review li.must a").first.click()
    assert page.evaluate("location.hash").startswith(("#S", "#D"))
    assert page.locator("ol.source li.flagged").count() >= 2
    assert page.locator("ol.source li.suggested").count() >= 3  # the keyword suggestions
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # the draft goes on to /validate with the same findings
    page.click("text=" + ("この下書きを検証する" if lang == "ja" else "Validate this draft"))
    page.wait_for_selector("section.report.fail")
    assert "role:lead" in page.inner_text("section.report")
    # a sheet drafts with nothing to complete, and validates
    page.goto(f"{server.url}/draft?lang={lang}")
    page.fill("textarea#text", SEED_003.read_text(encoding="utf-8"))
    page.click("form.validate button[type=submit]")
    page.wait_for_selector("section.report.pass")
    with page.expect_download() as download:
        page.click("text=" + ("下書きをダウンロード（Turtle）" if lang == "ja" else "Download the draft (Turtle)"))
    assert open(download.value.path(), encoding="utf-8").read().startswith("# Draft made by")
    page.click("text=" + ("この下書きを検証する" if lang == "ja" else "Validate this draft"))
    page.wait_for_selector("section.report.pass")
    assert axe_violations(page) == []
    assert errors == []
    context.close()


def test_text_in_no_layout_gets_a_clear_page(browser, server):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server.url}/draft?lang=en")
    page.fill("textarea#text", "Dear all,\nthe meeting is on Monday.\n")
    page.click("form.validate button[type=submit]")
    page.wait_for_selector("section.report.fail[role=alert]")
    assert "neither layout" in page.inner_text("section.report")
    assert page.input_value("textarea#text").startswith("Dear all")  # what was sent is kept
