"""What one process holds once it has the store open and has answered queries (issue 25, target 4).

Each of our query workers, web processes and check workers opens the store itself (a process
per running query is what lets a query be killed at its time limit). This measures what one
such opening costs: a fresh process opens the store read-only as a query worker does, answers
the light mix of bench/light.py, then each example query of queries/ to its last row; its
resident memory after each step, split into the anonymous part (heaps: the engine's caches and
working memory) and file pages; then what glibc's `malloc_trim(0)` gives back, which tells
memory still held from memory freed but not returned. Beside it, `oxigraph serve-read-only` on
the same build is asked the same queries one at a time, and its process measured the same way.

    .venv/bin/python bench/store_memory.py --store /tmp/kg1m/var/store

Writes bench/results/store-memory-{triples}.json.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import multiprocessing
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from light import bodies, light_query  # noqa: E402
from run import BIN, Client, free_port, wait_for  # noqa: E402
from soak import memory_mb  # noqa: E402

LIGHT = 500  # light queries before the example queries


def resident(pid: int | None = None) -> dict[str, float]:
    """A process's resident memory, MB (it has no children): all of it, anonymous, file pages."""
    return memory_mb(pid or os.getpid())


def example_queries() -> list[tuple[str, str]]:
    return [(path.stem, path.read_text(encoding="utf-8")) for path in sorted((ROOT / "queries").glob("*.rq"))]


def one_process(oxigraph_dir: str, iris: list[str], out) -> None:  # runs in a spawned child
    import pyoxigraph as ox

    steps = [("started", resident())]
    store = ox.Store.read_only(oxigraph_dir)
    steps.append(("store opened", resident()))
    rng = random.Random(0)
    for number in range(LIGHT):
        answer = store.query(light_query(rng, iris, number), use_default_graph_as_union=True)
        if not isinstance(answer, ox.QueryBoolean):
            for _ in answer:
                pass
    steps.append((f"{LIGHT} light queries", resident()))
    for name, text in example_queries():
        started = time.perf_counter()
        answer = store.query(text, use_default_graph_as_union=True)
        rows = 1 if isinstance(answer, ox.QueryBoolean) else sum(1 for _ in answer)
        steps.append((f"{name} ({rows} rows, {time.perf_counter() - started:.1f} s)", resident()))
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    steps.append(("after malloc_trim(0)", resident()))
    out.send(steps)


def engine_server(oxigraph_dir: str, iris: list[str]) -> list[tuple[str, dict]]:
    port = free_port()
    server = subprocess.Popen([str(BIN / "oxigraph"), "serve-read-only", "--location", oxigraph_dir,
                               "--bind", f"127.0.0.1:{port}", "--union-default-graph", "--timeout-s", "60"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/query"
        wait_for(f"http://127.0.0.1:{port}/")
        steps = [("store opened", resident(server.pid))]
        session, rng = Client(), random.Random(0)
        for number in range(LIGHT):
            session.post(url, data={"query": light_query(rng, iris, number)},
                         headers={"Accept": "application/sparql-results+json"}, timeout=60)
        steps.append((f"{LIGHT} light queries", resident(server.pid)))
        for name, text in example_queries():
            answer = session.post(url, data={"query": text}, timeout=120,
                                  headers={"Accept": "application/sparql-results+json, application/n-triples"})
            steps.append((f"{name} ({answer.status_code})", resident(server.pid)))
        return steps
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=ROOT / "var" / "store", help="a built store directory")
    args = parser.parse_args()
    build = (args.store / "current").resolve()
    oxigraph_dir = str(build / "oxigraph")
    triples = json.loads((build / "build.json").read_text())["triples"] if (build / "build.json").exists() else None
    iris = bodies(Path(oxigraph_dir))

    context = multiprocessing.get_context("spawn")  # as the query pool starts its workers
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(target=one_process, args=(oxigraph_dir, iris, sending))
    child.start()
    ours = receiving.recv()
    child.join()
    engine = engine_server(oxigraph_dir, iris)

    width = max(len(step) for step, _ in ours + engine)
    for title, steps in (("one process with the store open (as a query worker)", ours),
                         ("oxigraph serve-read-only, the same queries one at a time", engine)):
        print(f"\n{title}: RSS / anonymous / file pages, MB")
        for step, memory in steps:
            print(f"  {step:{width}s} {memory['rss_mb']:7.1f} {memory['anon_mb']:7.1f} {memory['file_mb']:6.1f}")
    out = ROOT / "bench" / "results" / f"store-memory-{triples or 'store'}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"store": str(build), "triples": triples, "one_process": ours, "engine_server": engine},
                              ensure_ascii=False, indent=1))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
