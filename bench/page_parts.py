"""Where a page's first render goes: every page of bench/run.py's page set rendered once in this
process, with the answer caches off, and the time of each part of the render per page.

One process, one client, no HTTP: the work a web process does per first render, which sets the
first-render latency under load (bench/run.py measures that over HTTP). Alternate runs of two
checkouts, each on its own store, to compare them.

    python bench/page_parts.py --project /tmp/kg1m --store /tmp/s1m --seed 1

It also reports the garbage collector's full collections during the pages and how long each
paused the render; `--freeze` first moves what the process holds out of the collector's sight,
as `serving.post_worker_init` does in each web process.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from kouiki_kg import maps, pages, pictures, reader  # noqa: E402  (after the path is set)
from kouiki_kg.app import create_app  # noqa: E402
from kouiki_kg.config import Config  # noqa: E402
from kouiki_kg.views import resources as resource_views  # noqa: E402
from run import page_paths  # noqa: E402

SPENT: Counter = Counter()


def timed(name: str, function):
    def timing(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT[name] += time.perf_counter() - started
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True, help="a folder made by bench/generate.py")
    parser.add_argument("--store", type=Path, required=True, help="its built store directory")
    parser.add_argument("--seed", type=int, default=1, help="which pages (bench/run.py draws them at random)")
    parser.add_argument("--freeze", action="store_true", help="gc.freeze() before the pages, as a web process does")
    args = parser.parse_args()
    config = Config.from_env(root=args.project, store_dir=args.store, cache_bytes=0, shared_cache_bytes=0)
    client = create_app(config).test_client()

    resource_views.render_template = timed("templates (Jinja)", resource_views.render_template)
    reader.Reader.properties = timed("all properties", reader.Reader.properties)
    reader.Reader.incoming = timed("incoming links", reader.Reader.incoming)
    for kind in ("initiative", "organisation", "concept", "source"):
        setattr(pages, kind, timed(f"page data: {kind}", getattr(pages, kind)))
    maps.figure = timed("map", maps.figure)
    pictures.actor_diagram = timed("actor diagram", pictures.actor_diagram)

    paths = page_paths(args.project, random.Random(args.seed))
    for path in ("/id/lg/130001", "/concept/theme/culture"):  # templates compiled, store opened
        client.get(path, headers={"Accept": "text/html"})
    if args.freeze:
        gc.freeze()
    pauses: list[float] = []  # each full collection, in seconds
    collecting = [0.0]

    def collection(phase: str, info: dict) -> None:
        if phase == "start":
            collecting[0] = time.perf_counter()
        elif info["generation"] == 2:
            pauses.append(time.perf_counter() - collecting[0])

    gc.callbacks.append(collection)
    SPENT.clear()
    started = time.perf_counter()
    for path in paths:
        response = client.get(path, headers={"Accept": "text/html"})
        if response.status_code != 200:
            sys.exit(f"{path}: {response.status_code}")
    elapsed = time.perf_counter() - started
    gc.callbacks.remove(collection)
    print(f"{len(paths)} pages, {1000 * elapsed / len(paths):.2f} ms a page in all")
    print(f"  full collections: {len(pauses)}, each {', '.join(f'{1000 * p:.1f}' for p in pauses) or '-'} ms"
          f" ({len(gc.get_objects())} objects tracked, {gc.get_freeze_count()} frozen)")
    for name, seconds in SPENT.most_common():
        print(f"  {name:24s} {1000 * seconds / len(paths):6.2f} ms a page")


if __name__ == "__main__":
    main()
