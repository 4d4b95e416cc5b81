"""Memory soak: a bounded number of mixed requests against our server in its production
configuration, with the resident memory of the server and its workers sampled as it goes.
A leak shows as RSS that keeps growing after the caches have filled.

    python bench/soak.py --project /tmp/kouiki-1m --requests 10000 --concurrency 8

Mix: resource pages (HTML and Turtle) of many different resources, unique SPARQL queries
(no cache helps), repeated ones, and searches. The answer cache is bounded (KOUIKI_CACHE_BYTES),
so it fills early and must then stay flat.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import subprocess
import sys
import threading
from pathlib import Path

import requests

from run import BIN, ROOT, descendants, free_port, wait_for, workload


def memory_mb(pid: int) -> dict[str, float]:
    """Resident memory of a process tree, MB: all of it, and its anonymous part (heaps: what a
    leak grows) apart from file pages (the store's files as read, which the kernel may reclaim)."""
    total = {"rss_mb": 0, "anon_mb": 0, "file_mb": 0}
    for p in descendants(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except FileNotFoundError:
            continue
        for key, field in (("rss_mb", "VmRSS"), ("anon_mb", "RssAnon"), ("file_mb", "RssFile")):
            found = re.search(rf"{field}:\s+(\d+)", status)
            total[key] += int(found.group(1)) if found else 0
    return {key: round(kb / 1024, 1) for key, kb in total.items()}


def slope_per_1000(points: list[tuple[int, float]]) -> float:
    """Least-squares trend of memory over requests, MB per 1,000 requests: samples jump up and
    down by tens of MB as workers allocate and free, a leak shows as a steady slope."""
    n = len(points)
    mean_x, mean_y = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    return round(1000 * sum((x - mean_x) * (y - mean_y) for x, y in points) / var, 2) if var else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True, help="a folder made by bench/generate.py (built)")
    parser.add_argument("--store", type=Path, default=None, help="its built store (default: {project}/var/store)")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--cache-mb", type=int, default=None,
                        help="KOUIKI_CACHE_BYTES in MB (default: the server's 64): a small cache fills early, so "
                             "what follows shows whether anything else grows")
    args = parser.parse_args()
    store = args.store or args.project / "var" / "store"
    env = {**os.environ, "KOUIKI_ROOT": str(args.project), "KOUIKI_STORE": str(store),
           "KOUIKI_WEB_WORKERS": str(os.cpu_count() or 1)}  # the documented production setting
    if args.cache_mb is not None:
        env["KOUIKI_CACHE_BYTES"] = str(args.cache_mb * 1024 * 1024)
    port = free_port()
    server = subprocess.Popen([str(BIN / "kouiki-kg"), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/health", 600)
        rng = random.Random(7)
        queries = workload(args.project, rng)
        text = (args.project / "data/ttl/authority/local-governments.ttl").read_text(encoding="utf-8")
        codes = re.findall(r"^lg:(\d{6}) a", text, re.M)
        synthetic = sorted(args.project.glob("data/ttl/synthetic/*.ttl"))
        count = 1 + max(int(n) for n in re.findall(r"initiative/synthetic-(\d{7})", synthetic[-1].read_text()))
        initiatives = [f"/id/initiative/synthetic-{n:07d}" for n in range(min(2000, count))]  # ones that exist
        paths = [f"/id/lg/{c}" for c in codes] + initiatives
        counter = itertools.count()
        errors: dict[str, int] = {}
        lock = threading.Lock()

        def one(session: requests.Session, rng: random.Random) -> None:
            kind = rng.random()
            if kind < 0.5:
                r = session.get(base + rng.choice(paths), headers={"Accept": rng.choice(["text/html", "text/turtle"])},
                                timeout=60)
            elif kind < 0.75:
                r = session.post(base + "/sparql", data={"query": f"# {next(counter)}\n{rng.choice(queries)}"},
                                 headers={"Accept": "application/sparql-results+json, text/turtle"}, timeout=60)
            elif kind < 0.9:
                r = session.post(base + "/sparql", data={"query": rng.choice(queries[:10])},
                                 headers={"Accept": "application/sparql-results+json"}, timeout=60)
            else:
                r = session.get(base + "/search", params={"q": rng.choice(["交通", "札幌", "合成", "施設", "共同"])}, timeout=60)
            if r.status_code != 200:
                with lock:
                    errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1

        samples = [{"requests": 0, **memory_mb(server.pid)}]
        per_sample = args.requests // args.samples
        for sample in range(args.samples):
            remaining = iter(range(per_sample))

            def client(index: int) -> None:
                session, crng = requests.Session(), random.Random(sample * 1000 + index)
                while next(remaining, None) is not None:
                    one(session, crng)

            threads = [threading.Thread(target=client, args=(i,)) for i in range(args.concurrency)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            samples.append({"requests": (sample + 1) * per_sample, **memory_mb(server.pid)})
            print(f"{samples[-1]['requests']:>6} requests: RSS {samples[-1]['rss_mb']} MB "
                  f"(anonymous {samples[-1]['anon_mb']} MB, file pages {samples[-1]['file_mb']} MB)", flush=True)
        settled = samples[len(samples) // 5:]  # after the first fifth: caches filled, workers started
        growth = {key: round(settled[-1][key] - settled[0][key], 1) for key in ("rss_mb", "anon_mb", "file_mb")}
        trend = {key: slope_per_1000([(x["requests"], x[key]) for x in settled]) for key in ("rss_mb", "anon_mb")}
        result = {"samples": samples, "errors": errors, "growth_after_warmup": growth, "trend_mb_per_1000": trend}
        print(json.dumps({"errors": errors, "growth_after_warmup": growth, "trend_mb_per_1000": trend}))
        out = ROOT / "bench" / "results"
        out.mkdir(parents=True, exist_ok=True)
        (out / "soak.json").write_text(json.dumps(result, indent=2))
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        sys.stdout.flush()


if __name__ == "__main__":
    main()
