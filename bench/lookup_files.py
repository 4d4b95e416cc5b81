"""Time every question the search index and listings ask, on a built store.

A server in front of a remote store makes these files from SPARQL answers, and each answer must
come within the remote store's time limit (10 s by default). This asks the same questions of
the embedded store and prints each that takes longer than --slower-than, then the total.

    python bench/lookup_files.py /tmp/s5m
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kouiki_kg.listings import make_lookup_files  # noqa: E402  (after the path is set)
from kouiki_kg.store import GraphStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path, help="a store directory (its current build is read)")
    parser.add_argument("--slower-than", type=float, default=1.0, help="seconds (default 1)")
    args = parser.parse_args()
    store = GraphStore.open_current(args.store)
    asked, slowest = 0, 0.0

    def query(sparql: str) -> list:
        nonlocal asked, slowest
        started = time.perf_counter()
        rows = list(store.query(sparql))  # read every row, as a remote answer is read
        seconds = time.perf_counter() - started
        asked, slowest = asked + 1, max(slowest, seconds)
        if seconds > args.slower_than:
            print(f"{seconds:6.1f} s {len(rows):>9,} rows  {' '.join(sparql.split())[:150]}", flush=True)
        return rows

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        make_lookup_files(query, Path(directory), log=print)
    print(f"{asked:,} questions, slowest {slowest:.2f} s, {time.perf_counter() - started:.1f} s in all "
          f"({store.info.triples:,} triples)")


if __name__ == "__main__":
    main()
