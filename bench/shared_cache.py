"""The shared disk cache alone: what a put and a get cost once it holds N pages.

Pages are ~25 KB of HTML that compress to ~5 KB, as ours do. Prints ms per put and per get,
the file's size, and how many answers it kept. Run it from a git worktree of older code to
compare (`PYTHONPATH=$PWD python bench/shared_cache.py`).

    python bench/shared_cache.py --pages 50000
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from kouiki_kg.cache import Cached, SharedAnswers


def page(n: int) -> Cached:
    rng = random.Random(n)
    noise = rng.randbytes(2500)  # what does not compress (names, IRIs, numbers)
    return Cached(noise + b"<tr><td>text</td></tr>" * 1000, "text/html; charset=utf-8", (("Vary", "Accept"),))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=50_000)
    parser.add_argument("--max-mb", type=float, default=4000, help="the cache's size (KOUIKI_SHARED_CACHE_BYTES) in MB")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="shared-cache-"))
    try:
        shared = SharedAnswers(folder / "answers.sqlite", int(args.max_mb * 1e6))
        bodies = [page(n) for n in range(1000)]
        timings = []
        started = time.perf_counter()
        for n in range(args.pages):
            began = time.perf_counter()
            shared.put(f"k{n}", bodies[n % 1000])
            timings.append(time.perf_counter() - began)
        put_seconds = time.perf_counter() - started
        last = timings[-5000:]
        rng = random.Random(1)
        keys = [f"k{rng.randrange(args.pages)}" for _ in range(5000)]
        started = time.perf_counter()
        found = sum(shared.get(k) is not None for k in keys)
        get_seconds = time.perf_counter() - started
        size = sum(f.stat().st_size for f in folder.iterdir())
        kept = shared._db().execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        print(f"{args.pages:,} pages into a {args.max_mb:g} MB cache: put {put_seconds / args.pages * 1e3:.3f} ms on average, "
              f"{sum(last) / len(last) * 1e3:.3f} ms over the last 5,000 (max {max(last) * 1e3:.1f} ms); "
              f"get {get_seconds / len(keys) * 1e3:.3f} ms ({found:,} of {len(keys):,} found); "
              f"file {size / 1e6:.0f} MB, {kept:,} kept")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
