"""Screenshots of pages of a running server, in headless Chromium, to look at before and after a change.

    .venv/bin/python scripts/screenshots.py http://127.0.0.1:8000 /id/lg/022039 /search?q=bus [--out DIR]
    .venv/bin/python scripts/screenshots.py http://127.0.0.1:8000 /validate --fill broken-case.ttl

Each path is taken in Japanese and English (`lang=`), at 1280 and 390 px wide, full page, into
var/screenshots/look/ (gitignored). docs/screenshots/ is updated by hand from these after looking.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = (1280, 390)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("server", help="e.g. http://127.0.0.1:8000")
    parser.add_argument("paths", nargs="+", help="paths to visit, e.g. /id/lg/022039")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "screenshots" / "look")
    parser.add_argument("--langs", default="ja,en")
    parser.add_argument("--fill", type=Path, help="a file to paste into the page's first textarea before submitting its form")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for path in args.paths:
            for lang in args.langs.split(","):
                for width in WIDTHS:
                    context = browser.new_context(viewport={"width": width, "height": 900},
                                                  locale="ja-JP" if lang == "ja" else "en-GB")
                    page = context.new_page()
                    errors: list[str] = []
                    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                    url = args.server.rstrip("/") + path + ("&" if "?" in path else "?") + f"lang={lang}"
                    response = page.goto(url)
                    if args.fill:
                        page.fill("textarea", args.fill.read_text(encoding="utf-8"))
                        with page.expect_navigation():
                            page.click("form button[type=submit]")
                        response = None
                    name = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-") or "home"
                    target = args.out / f"{name}-{lang}-{width}.png"
                    page.screenshot(path=str(target), full_page=True)
                    print(f"{response.status if response else '-'} {target}" + (f"  console: {errors}" if errors else ""))
                    context.close()
        browser.close()


if __name__ == "__main__":
    main()
