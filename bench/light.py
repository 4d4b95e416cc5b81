"""Light unique queries, side by side: our server and `oxigraph serve-read-only` (no time limit)
on the same store, in one run, rounds alternating (issue 25, target 0).

    .venv/bin/python bench/light.py [--store var/store] [--seconds 5] [--rounds 3] [--concurrency 8]
    .venv/bin/python bench/light.py --profile var/light-profile   # py-spy (--gil: Python CPU) of our processes in our first round

The mix is what portals, harvesters and API clients mostly send, each request different: a
body's labels, an ASK of its type, its triples (LIMIT 50), a one-hop join to the initiatives it
takes part in. Our server runs as `kouiki-kg serve` does (two web processes, query workers,
time limits, row cap); a shared disk cache would answer repeats, but no request repeats here.
With --profile, py-spy (PyPI; `pip install py-spy`) samples our web and query processes in the
first round of ours and writes their stacks (speedscope JSON and a flame graph SVG).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from run import BIN, Client, drive, free_port, percentile, wait_for  # noqa: E402

PROLOGUE = ("PREFIX kk: <https://w3id.org/kouiki/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
            "PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dct: <http://purl.org/dc/terms/> ")
SHAPES = [
    "SELECT ?l WHERE {{ <{b}> skos:prefLabel ?l }}",
    "ASK {{ <{b}> a kk:City }}",
    "SELECT ?p ?o WHERE {{ <{b}> ?p ?o }} LIMIT 50",
    "SELECT ?i ?t WHERE {{ ?i prov:wasAssociatedWith <{b}> ; dct:title ?t }}",
]


def bodies(store: Path) -> list[str]:
    import pyoxigraph as ox
    read = ox.Store.read_only(str(store))
    return [r["b"].value for r in read.query(
        "SELECT ?b WHERE { ?b <https://w3id.org/kouiki/ontology#localGovernmentCode> [] }", use_default_graph_as_union=True)]


def load(url: str, iris: list[str], concurrency: int, seconds: float) -> dict:
    errors: dict[str, int] = {}
    lock = threading.Lock()
    counter = iter(range(10**9))

    def request(rng: random.Random, session: Client) -> bool:
        query = f"# {next(counter)}\n" + PROLOGUE + rng.choice(SHAPES).format(b=rng.choice(iris))
        try:
            r = session.post(url, data={"query": query}, headers={"Accept": "application/sparql-results+json"}, timeout=60)
            ok = r.status_code == 200
            key = None if ok else str(r.status_code)
        except OSError as err:
            key = type(err).__name__
        if key:
            with lock:
                errors[key] = errors.get(key, 0) + 1
        return key is None

    latencies = drive(concurrency, seconds, request)
    return {"q_per_s": round(len(latencies) / seconds, 1), "p50_ms": percentile(latencies, 0.5),
            "p99_ms": percentile(latencies, 0.99), "ok": len(latencies), "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=ROOT / "var" / "store", help="a built store directory")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project the store was built from")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profile", type=Path, default=None, help="folder for py-spy's output (our first round)")
    args = parser.parse_args()
    current = (args.store / "current").resolve()
    iris = bodies(current / "oxigraph")
    env = {**os.environ, "KOUIKI_ROOT": str(args.root), "KOUIKI_STORE": str(args.store),
           "KOUIKI_SHARED_CACHE_BYTES": "0", "KOUIKI_WEB_WORKERS": str(os.cpu_count() or 1)}
    ours_port, ox_port = free_port(), free_port()
    ours = subprocess.Popen([str(BIN / "kouiki-kg"), "serve", "--port", str(ours_port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    engine = subprocess.Popen([str(BIN / "oxigraph"), "serve-read-only", "--location", str(current / "oxigraph"),
                               "--bind", f"127.0.0.1:{ox_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{ours_port}/health")
        wait_for(f"http://127.0.0.1:{ox_port}/")
        targets = {"ours": f"http://127.0.0.1:{ours_port}/sparql", "oxigraph": f"http://127.0.0.1:{ox_port}/query"}
        for url in targets.values():  # warm-up: workers started, stores touched
            load(url, iris, args.concurrency, 1)
        rounds = []
        for number in range(args.rounds):
            order = ["ours", "oxigraph"] if number % 2 == 0 else ["oxigraph", "ours"]
            row = {}
            for name in order:
                spy = None
                if name == "ours" and number == 0 and args.profile:
                    args.profile.mkdir(parents=True, exist_ok=True)
                    spy = subprocess.Popen([str(BIN / "py-spy"), "record", "--pid", str(ours.pid), "--subprocesses",
                                            "--rate", "200", "--gil", "--duration", str(int(args.seconds)), "--format", "speedscope",
                                            "-o", str(args.profile / "ours.speedscope.json")],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(1)
                row[name] = load(targets[name], iris, args.concurrency, args.seconds)
                if spy:
                    spy.wait(timeout=120)
            row["throughput_ratio"] = round(row["ours"]["q_per_s"] / max(row["oxigraph"]["q_per_s"], 0.1), 2)
            row["p50_ratio"] = round(row["ours"]["p50_ms"] / max(row["oxigraph"]["p50_ms"], 0.01), 1)
            rounds.append(row)
            print(f"round {number + 1}: ours {row['ours']['q_per_s']} q/s p50 {row['ours']['p50_ms']} ms "
                  f"errors {row['ours']['errors']} | oxigraph {row['oxigraph']['q_per_s']} q/s p50 "
                  f"{row['oxigraph']['p50_ms']} ms | throughput {row['throughput_ratio']}×, p50 {row['p50_ratio']}×",
                  flush=True)
        print(json.dumps({"store_triples": json.loads((current / "build.json").read_text())["triples"],
                          "concurrency": args.concurrency, "rounds": rounds}))
    finally:
        for process in (ours, engine):
            process.terminate()
        for process in (ours, engine):
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
