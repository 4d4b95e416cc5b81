"""Our server's two HTTP fronts side by side on one store: gunicorn's asyncio worker with
requests read whole first (`kouiki-kg serve` today) and gunicorn `gthread` with 64 threads (before).

Both run the same app, query pool size and time limit; the shared disk cache is off so that
neither warms the other. After one warm-up pass each, rounds alternate (A B A B …) on the
repeated mix, the unique mix (bench/run.py's) and first renders of pages, so that machine noise
falls on both alike. Prints one line per round and the medians.

    .venv/bin/python bench/generate.py --triples 1000000 --out /tmp/kouiki-1m
    .venv/bin/python bench/run.py --project /tmp/kouiki-1m ...   # builds its store once
    .venv/bin/python bench/front.py --project /tmp/kouiki-1m --rounds 3 --seconds 10
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import BIN, ROOT, free_port, page_latency, page_paths, run_load, wait_for, workload  # noqa: E402


def start(kind: str, env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if kind == "asgi":
        command = [str(BIN / "kouiki-kg"), "serve", "--port", str(port)]
    else:
        command = [str(BIN / "gunicorn"), "-c", "python:kouiki_kg.serving", "--worker-class", "gthread",
                   "--threads", "64", "--bind", f"127.0.0.1:{port}", "server:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/health")
    return process, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--store", type=Path, help="default: {project}/var/store")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    env = {**os.environ, "KOUIKI_ROOT": str(args.project), "KOUIKI_STORE": str(args.store or args.project / "var" / "store"),
           "KOUIKI_SHARED_CACHE_BYTES": "0", "KOUIKI_QUERY_TIMEOUT": "10"}
    rng = random.Random(7)
    queries = workload(args.project, rng)
    paths = page_paths(args.project, rng, per_kind=200)
    servers = {kind: start(kind, env) for kind in ("asgi", "gthread")}
    results: dict[str, dict[str, list[float]]] = {kind: {} for kind in servers}
    try:
        for kind, (_, url) in servers.items():  # the repeated mix's answers in each one's own cache
            run_load(url + "/sparql", queries, args.concurrency, args.seconds, unique=False, seed=1)
        for round_ in range(args.rounds):
            for kind in (("asgi", "gthread") if round_ % 2 == 0 else ("gthread", "asgi")):
                url = servers[kind][1]
                repeated = run_load(url + "/sparql", queries, args.concurrency, args.seconds, unique=False, seed=round_)
                unique = run_load(url + "/sparql", queries, args.concurrency, args.seconds, unique=True, seed=round_)
                share = paths[round_::args.rounds]  # pages neither server has rendered yet
                pages = page_latency(url, share, "text/html", args.concurrency, 1)["cold"]
                figures = {"repeated q/s": repeated["throughput"], "repeated p50 ms": repeated["p50_ms"],
                           "unique q/s": unique["throughput"], "unique p50 ms": unique["p50_ms"],
                           "page first render p50 ms": pages["p50_ms"], "page p99 ms": pages["p99_ms"]}
                for name, value in figures.items():
                    results[kind].setdefault(name, []).append(value)
                errors = {**repeated["errors"], **unique["errors"]}
                print(f"round {round_ + 1} {kind:8} " + " | ".join(f"{k} {v}" for k, v in figures.items())
                      + (f" | errors {errors}" if errors else ""), flush=True)
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=30)
    print("\nmedians of the rounds:")
    for name in results["asgi"]:
        a, g = statistics.median(results["asgi"][name]), statistics.median(results["gthread"][name])
        print(f"  {name:26} asgi {a:>9} | gthread {g:>9} | ratio {a / g if g else float('nan'):.2f}")


if __name__ == "__main__":
    main()
