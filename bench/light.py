"""Light unique queries, side by side: our server (light queries answered in its web process),
our server with every query sent to a worker (KOUIKI_LIGHT_THREADS=0), and `oxigraph
serve-read-only` (no time limit), on the same store, in one run, each first in turn (issue 25,
target 0).

    .venv/bin/python bench/light.py [--store var/store] [--seconds 5] [--rounds 3] [--concurrency 8]
    .venv/bin/python bench/light.py --profile var/light-profile   # py-spy (--gil: Python CPU) of our processes in our first round
    .venv/bin/python bench/light.py --soak 100000   # our server only: that many light queries, errors and memory
    .venv/bin/python bench/light.py --baseline /tmp/old   # and a fourth: the code of a checkout (git worktree add /tmp/old REV)

The engine's server reads every graph as its default graph (`--union-default-graph`), as our
endpoint does, and before any timing the three servers must give the same answers to 200 of the
mix's queries: without that flag the engine answered these from its empty default graph (no
rows), which the figures of sessions 28–36 compared against.

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
from run import BIN, Client, cpu_seconds, drive, drive_until, free_port, percentile, settle, wait_for  # noqa: E402
from soak import memory_mb  # noqa: E402

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


def light_query(rng: random.Random, iris: list[str], number: int) -> str:
    return f"# {number}\n" + PROLOGUE + rng.choice(SHAPES).format(b=rng.choice(iris))


def answer_set(answer) -> object:
    """A SPARQL JSON answer as a comparable value: the boolean, or the rows in any order."""
    parsed = answer.json()
    if "boolean" in parsed:
        return parsed["boolean"]
    return sorted(json.dumps(row, sort_keys=True) for row in parsed["results"]["bindings"])


def check_same_answers(urls: list[str], iris: list[str], count: int = 200) -> int:
    """Ask every server the same `count` queries and stop unless they all give the same answers:
    a server answering less (the engine's default graph alone, say) is not doing the same work.
    Returns the rows seen, to show the answers were not empty."""
    rng, session, rows = random.Random(0), Client(), 0
    for number in range(count):
        query = light_query(rng, iris, number)
        answers = [answer_set(session.post(url, data={"query": query},
                                           headers={"Accept": "application/sparql-results+json"}, timeout=60))
                   for url in urls]
        if any(a != answers[0] for a in answers[1:]):
            sys.exit(f"the servers answer differently:\n{query}\n" + "\n".join(f"{u}: {a}" for u, a in zip(urls, answers)))
        rows += len(answers[0]) if isinstance(answers[0], list) else 1
    return rows


def load(url: str, iris: list[str], concurrency: int, seconds: float, requests: int | None = None,
         server: int | None = None) -> dict:
    """`seconds` of the mix at `concurrency`, or exactly `requests` of them (a soak). With the
    server's pid, also the CPU time it (with its workers) and this client spent per answer:
    on a noisy machine, a steadier measure of work than answers a second."""
    errors: dict[str, int] = {}
    lock = threading.Lock()
    counter = iter(range(10**9))
    sent = iter(range(10**12))

    def request(rng: random.Random, session: Client) -> bool:
        query = light_query(rng, iris, next(counter))
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

    began, opened = time.monotonic(), Client.opened
    server_cpu, client_cpu = cpu_seconds([server]) if server else 0.0, time.process_time()
    if requests is None:
        latencies = drive(concurrency, seconds, request)
    else:  # each client takes a number before each request; none is sent past `requests`
        latencies = drive_until(concurrency, lambda: next(sent) >= requests, request)
        seconds = time.monotonic() - began
    result = {"q_per_s": round(len(latencies) / seconds, 1), "p50_ms": percentile(latencies, 0.5),
              "p99_ms": percentile(latencies, 0.99), "ok": len(latencies), "errors": errors,
              "connections": Client.opened - opened}  # one a client, plus those the server asked to reconnect
    if server and latencies:
        result["server_cpu_us"] = round(1e6 * (cpu_seconds([server]) - server_cpu) / len(latencies))
        result["client_cpu_us"] = round(1e6 * (time.process_time() - client_cpu) / len(latencies))
    return result


def project_of(store: Path) -> Path:
    """The project a store belongs to: PROJECT/var/STORE, as `kouiki-kg` and bench/generate.py lay
    them out; a store kept anywhere else is taken to be this checkout's."""
    place = store.resolve().parent
    return place.parent if place.name == "var" else ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=ROOT / "var" / "store", help="a built store directory")
    parser.add_argument("--root", type=Path, default=None,
                        help="the project the store was built from (default: the folder holding the store's var/, "
                             "else this checkout). `kouiki-kg serve` builds the store from its project's data: "
                             "started on another project, it would replace the store's build with that one")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profile", type=Path, default=None, help="folder for py-spy's output (our first round)")
    parser.add_argument("--soak", type=int, default=None, help="only our server: this many light queries")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="a checkout of other code (git worktree add DIR COMMIT): a fourth server runs its "
                             "kouiki_kg, on a store of its own (STORE-baseline, built on first use)")
    args = parser.parse_args()
    current = (args.store / "current").resolve()
    iris = bodies(current / "oxigraph")
    root = args.root or project_of(args.store)
    print(f"the store's project: {root}", flush=True)
    env = {**os.environ, "KOUIKI_ROOT": str(root), "KOUIKI_STORE": str(args.store),
           "KOUIKI_SHARED_CACHE_BYTES": "0", "KOUIKI_WEB_WORKERS": str(os.cpu_count() or 1)}
    if args.soak:
        soak(args, env, iris)
        return
    kouiki = ["ours", "workers"] + (["baseline"] if args.baseline else [])
    ports = {name: free_port() for name in [*kouiki, "oxigraph"]}
    servers = {}
    try:
        for name in kouiki:  # one after the other: a server builds its store first if its code needs it
            extra = {"KOUIKI_LIGHT_THREADS": "0"} if name == "workers" else {}
            if name == "baseline":  # other code may build differently: a store of its own beside ours
                extra = {"PYTHONPATH": str(args.baseline.resolve()),
                         "KOUIKI_STORE": str(args.store.parent / f"{args.store.name}-baseline")}
            servers[name] = subprocess.Popen([str(BIN / "kouiki-kg"), "serve", "--port", str(ports[name])],
                                             env={**env, **extra}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for(f"http://127.0.0.1:{ports[name]}/health", seconds=600)
        current = (args.store / "current").resolve()  # as ours serves it (rebuilt if our code needed it)
        servers["oxigraph"] = subprocess.Popen(
            [str(BIN / "oxigraph"), "serve-read-only", "--location", str(current / "oxigraph"),
             "--bind", f"127.0.0.1:{ports['oxigraph']}", "--union-default-graph"],  # our default graph: every graph
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(f"http://127.0.0.1:{ports['oxigraph']}/")
        targets = {name: f"http://127.0.0.1:{port}/" + ("query" if name == "oxigraph" else "sparql")
                   for name, port in ports.items()}
        rows = check_same_answers(list(targets.values()), iris)
        print(f"the {len(targets)} servers gave the same answers to 200 queries ({rows} rows)", flush=True)
        for url in targets.values():  # warm-up: workers started, stores touched
            load(url, iris, args.concurrency, 1)
        # A starting server has its check workers parse the project (5.6 s each at 1 M, two per
        # server): the rounds begin once every server is idle, not beside that.
        print(f"servers idle after {settle([p.pid for p in servers.values()], most=300)} s", flush=True)
        rounds = []
        for number in range(args.rounds):
            turn = number % len(targets)
            order = list(targets)[turn:] + list(targets)[:turn]  # each goes first in turn
            row = {}
            for name in order:
                spy = None
                if name == "ours" and number == 0 and args.profile:
                    args.profile.mkdir(parents=True, exist_ok=True)
                    spy = subprocess.Popen([str(BIN / "py-spy"), "record", "--pid", str(servers["ours"].pid),
                                            "--subprocesses", "--rate", "200", "--gil", "--duration",
                                            str(int(args.seconds)), "--format", "speedscope",
                                            "-o", str(args.profile / "ours.speedscope.json")],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(1)
                row[name] = load(targets[name], iris, args.concurrency, args.seconds, server=servers[name].pid)
                if spy:
                    spy.wait(timeout=120)
            for name in kouiki:
                row[f"{name}_throughput_ratio"] = round(row[name]["q_per_s"] / max(row["oxigraph"]["q_per_s"], 0.1), 2)
                row[f"{name}_p50_ratio"] = round(row[name]["p50_ms"] / max(row["oxigraph"]["p50_ms"], 0.01), 1)
                row[f"{name}_cpu_ratio"] = round(row[name]["server_cpu_us"] / max(row["oxigraph"]["server_cpu_us"], 1), 1)
            rounds.append(row)
            print(f"round {number + 1}: " + " | ".join(
                f"{name} {row[name]['q_per_s']} q/s p50 {row[name]['p50_ms']} ms p99 {row[name]['p99_ms']} ms"
                f" cpu {row[name]['server_cpu_us']} µs/answer (client {row[name]['client_cpu_us']})"
                f" errors {row[name]['errors']} connections {row[name]['connections']}" for name in targets) + " | ratios to oxigraph: " + ", ".join(
                f"{name} {row[f'{name}_throughput_ratio']}× (p50 {row[f'{name}_p50_ratio']}×,"
                f" cpu {row[f'{name}_cpu_ratio']}×)" for name in kouiki), flush=True)
        print(json.dumps({"store_triples": json.loads((current / "build.json").read_text())["triples"],
                          "concurrency": args.concurrency, "rounds": rounds}))
    finally:
        for process in servers.values():
            process.terminate()
        for process in servers.values():
            process.wait(timeout=30)


def soak(args, env: dict, iris: list[str]) -> None:
    """`args.soak` light queries at `args.concurrency` against our server: errors (none is the
    target) and the server tree's memory before and after."""
    port = free_port()
    server = subprocess.Popen([str(BIN / "kouiki-kg"), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/sparql"
        wait_for(f"http://127.0.0.1:{port}/health")
        load(url, iris, args.concurrency, 1)
        before = memory_mb(server.pid)
        result = load(url, iris, args.concurrency, 0, requests=args.soak)
        print(json.dumps({"requests": args.soak, "concurrency": args.concurrency, **result,
                          "memory_before": before, "memory_after": memory_mb(server.pid)}))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
