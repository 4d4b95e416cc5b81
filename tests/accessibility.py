"""axe-core (npm, tests/a11y/) run in a page: the WCAG 2.1 A and AA rules, as JIS X 8341-3 asks."""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[dict]:
    """What axe finds on the page as it is now. The page's context must bypass the CSP (axe is
    injected as a script of the page's own; the site's CSP rightly refuses those)."""
    assert AXE.is_file(), "axe-core is missing: run `npm ci --prefix tests/a11y` (scripts/test.sh does)"
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))
        .violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                               nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))""", WCAG_21_AA)
    return found
