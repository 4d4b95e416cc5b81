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

from run import BIN, ROOT, free_port, wait_for, workload


def rss_mb(pid: int) -> float:
    """Current resident memory of a process and its children, MB."""
    total = 0
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    for p in [pid, *map(int, children)]:
        try:
            total += int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{p}/status").read_text()).group(1))
        except (FileNotFoundError, AttributeError):
            pass
    return round(total / 1024, 1)


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

        samples = [{"requests": 0, "rss_mb": rss_mb(server.pid)}]
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
            samples.append({"requests": (sample + 1) * per_sample, "rss_mb": rss_mb(server.pid)})
            print(f"{samples[-1]['requests']:>6} requests: RSS {samples[-1]['rss_mb']} MB", flush=True)
        settled = samples[len(samples) // 5:]  # after the first fifth: caches filled, workers started
        growth = settled[-1]["rss_mb"] - settled[0]["rss_mb"]
        result = {"samples": samples, "errors": errors, "growth_after_warmup_mb": round(growth, 1)}
        print(json.dumps({"errors": errors, "growth_after_warmup_mb": round(growth, 1)}))
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
