"""Drafting measured: each seed redrafted and compared with the curated cases fact by fact, and
how long a draft takes (the drafting alone, and with the check /validate makes of it).

    .venv/bin/python bench/drafting.py [--repeat 20]

Prints the tables of docs/drafting.md. Times are this machine's, in one run: the median of
--repeat drafts after one to warm the authority data's cache.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kouiki_kg import drafting  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    curated = ox.Store()
    files = sorted((ROOT / "data" / "ttl").rglob("*.ttl"))
    for path in files:
        curated.load(path=str(path), format=ox.RdfFormat.TURTLE)
    print("| seed | layout | initiatives | facts | recall | precision | recall, facts the text states | wrong codes | draft (ms) | draft + check (ms) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    kinds_table = {}
    for seed in sorted(SEEDS.glob("*.txt")):
        text = seed.read_text(encoding="utf-8")
        made = drafting.draft(text, seed.name, ROOT)
        result = drafting.compare(made, curated, drafting.source_document(seed.name, text, ROOT), files)
        stated = {k: v for k, v in result["by_kind"].items() if k != "component" or made.layout == "sheet"}
        stated_recall = sum(v[0] for v in stated.values()) / sum(v[1] for v in stated.values())
        times = []
        for _ in range(args.repeat + 1):
            started = time.perf_counter()
            drafting.draft(text, seed.name, ROOT)
            times.append((time.perf_counter() - started) * 1000)
        checked = []
        for _ in range(max(3, args.repeat // 5) + 1):
            started = time.perf_counter()
            drafting.draft_and_check(text, seed.name, ROOT)
            checked.append((time.perf_counter() - started) * 1000)
        print(f"| {seed.name} | {made.layout} | {len(made.initiatives)} | {result['facts']} | {result['recall']:.1%} | "
              f"{result['precision']:.1%} | {stated_recall:.1%} | {len(result['wrong_codes'])} | "
              f"{statistics.median(times[1:]):.1f} | {statistics.median(checked[1:]):.0f} |")
        for kind, (hit, want, got) in result["by_kind"].items():
            row = kinds_table.setdefault(kind, {})
            row[seed.name[:3]] = f"{hit}/{want} (drafted {got})"
    print()
    print("| fact | seed 000 found/curated | seed 003 found/curated |")
    print("|---|---|---|")
    for kind, row in sorted(kinds_table.items()):
        print(f"| {kind} | {row.get('000', '—')} | {row.get('003', '—')} |")


if __name__ == "__main__":
    main()
