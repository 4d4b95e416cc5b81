"""The validation report in real headless Chromium, with a screenshot."""

from __future__ import annotations

from .conftest import ROOT
from .test_query_ui_browser import browser  # noqa: F401 — the shared Chromium fixture

TEMPLATE = (ROOT / "data" / "templates" / "case-template.ttl").read_text(encoding="utf-8")


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
    (ROOT / "var" / "screenshots").mkdir(parents=True, exist_ok=True)  # docs/screenshots/ is updated by hand
    page.screenshot(path=str(ROOT / "var" / "screenshots" / "validation-report.png"), full_page=True)
    page.fill("textarea#text", TEMPLATE)
    page.click("form.validate button[type=submit]")
    page.wait_for_selector("section.report.pass")
    assert errors == []
    page.close()
