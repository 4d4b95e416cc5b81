"""The site in each language, in real headless Chromium, after one click on the language switch.

A browser set to Japanese picks "English" once; every page it then walks to (links, not typed
URLs) must be English: the page says lang="en", no piece of the site's own chrome is Japanese, and
any Japanese text (a name, a quoted passage) sits in an element marked lang="ja". The same the
other way round for a browser set to English that picks 日本語: nothing on the page is marked as
English unless it is in English.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

import pytest

from .test_query_ui_browser import browser  # noqa: F401 — the shared Chromium fixture

JAPANESE = re.compile("[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
# Where the walk goes: these first (each kind of page), then links found on them.
START = ["/id/initiative/hachinohe-bus-network", "/id/lg/141003", "/id/lg/140007", "/concept/theme",
         "/search?q=bus", "/dataset?format=html", "/sparql", "/no/such/page"]

# Text nodes whose script does not match the lang they are marked with, as (text, lang).
MISMARKED = r"""(want) => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, text = node.textContent.trim();
    const element = node.parentElement;
    if (!text || element.closest('script, style, .CodeMirror, pre, code, svg')) continue;
    if (element.closest('[hidden]') || getComputedStyle(element).display === 'none') continue;
    const lang = (element.closest('[lang]') || document.documentElement).getAttribute('lang');
    // Japanese text: more kana and kanji than Latin letters ("The area (圏域) of …" is English)
    const kanji = (text.match(/[\u3040-\u30ff\u3400-\u9fff]/g) || []).length;
    const japanese = kanji > 0 && kanji >= (text.match(/[A-Za-z]/g) || []).length;
    if (want === 'en' && japanese && !lang.startsWith('ja')) out.push([text.slice(0, 80), lang]);
    // English words (two or more) not marked as English: chrome left untranslated, or an English label
    if (want === 'ja' && !japanese && /[A-Za-z]{3,}\s+[a-z]{3,}/.test(text) && !text.includes('://')
        && !lang.startsWith('en')) out.push([text.slice(0, 80), lang]);
  }
  return out;
}"""


def walk(context, server, switch_to: str, limit: int = 16) -> dict[str, list]:
    """Open home, click the language switch once, then follow links; per page, what is mismarked."""
    page = context.new_page()
    page.goto(server.url + "/")
    page.click("a.lang")
    assert page.evaluate("document.documentElement.lang") == switch_to
    seen, found, queue = set(), {}, [server.url + path for path in START]
    queue += [urljoin(page.url, href) for href in page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")]
    while queue and len(seen) < limit:
        url = queue.pop(0)
        parsed = urlparse(url)
        key = parsed.path + "?" + parsed.query
        if parsed.netloc != urlparse(server.url).netloc or key in seen or parsed.path.startswith(("/static", "/dumps")) \
                or "format=" in parsed.query and "format=html" not in parsed.query:
            continue
        seen.add(key)
        # the path as the site links it, with the lang= of the link removed: the choice must stick
        page.goto(url.replace(f"lang={'ja' if switch_to == 'en' else 'en'}", ""))
        page.wait_for_timeout(300 if parsed.path == "/sparql" else 0)
        assert page.evaluate("document.documentElement.lang") == switch_to, f"{url} fell back to the other language"
        mismarked = page.evaluate(MISMARKED, switch_to)
        if mismarked:
            found[key] = mismarked
        queue += [urljoin(page.url, href) for href in
                  page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")[:15]]
    page.close()
    return found


@pytest.mark.parametrize("browser_locale, switch_to", [("ja-JP", "en"), ("en-GB", "ja")])
def test_one_switch_and_every_page_is_in_that_language(browser, server, browser_locale, switch_to):  # noqa: F811
    context = browser.new_context(locale=browser_locale)
    try:
        found = walk(context, server, switch_to)
    finally:
        context.close()
    assert found == {}, found
