"""Side-by-side benchmark: our server (production configuration) and `oxigraph serve-read-only`
on the same store, in one run, on 127.0.0.1. Prints a table and the ratio; writes JSON.

    python bench/generate.py --triples 1000000 --out /tmp/kouiki-1m
    python bench/run.py --project /tmp/kouiki-1m --seconds 15 --concurrency 1,8,32
    python bench/run.py --project /tmp/kouiki-1m --seconds 30 --rounds 2 --concurrency 8,32   # issue 25's table

Query mixes: the example queries of queries/ plus DESCRIBE of resources — "repeated" draws
from a fixed set of 40 requests (as a portal asks the same things again and again),
"unique" makes every request different (a unique comment in each query: no cache helps).
With --warm, after the first renders are timed, `kouiki-kg warm` makes every page in advance
(timed), and pages no client has asked for yet are timed as they then come from the shared cache.
Latency is measured by our own client (http.client, a keep-alive connection per thread; no
coordinated-omission correction), and the load is bounded by time. Both servers have the same time limit.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


class Answer:
    def __init__(self, status: int, content: bytes):
        self.status_code, self.content = status, content

    def json(self):
        return json.loads(self.content)


class Client:
    """One load thread's HTTP/1.1 keep-alive connections (the requests' `Session` subset we use).

    `requests` spends about half a millisecond of CPU on each request, on the same two cores as
    the servers under test: it put the floor (oxigraph serve answering `ASK {}`, c=8) at a
    7 ms p50 and 900 requests/s. With http.client the same floor is 1 ms and 5,500/s, so the
    latencies measured are the servers' rather than the client's.
    """

    opened = 0  # connections opened by every client so far: a server that asks clients to reconnect shows here
    _opening = threading.Lock()

    def __init__(self):
        self._connections: dict[str, http.client.HTTPConnection] = {}

    def get(self, url: str, params: dict | None = None, headers: dict | None = None, timeout: float = 60) -> Answer:
        return self._request("GET", url + ("?" + urlencode(params) if params else ""), None, headers or {}, timeout)

    def post(self, url: str, data=None, headers: dict | None = None, timeout: float = 60) -> Answer:
        headers = dict(headers or {})
        if isinstance(data, dict):
            data = urlencode(data).encode("utf-8")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self._request("POST", url, data, headers, timeout)

    def _request(self, method: str, url: str, body, headers: dict, timeout: float) -> Answer:
        parts = urlsplit(url)
        target = parts.path + ("?" + parts.query if parts.query else "")
        for attempt in (1, 2):
            connection = self._connections.get(parts.netloc)
            if connection is None:
                connection = self._connections[parts.netloc] = http.client.HTTPConnection(
                    parts.hostname, parts.port, timeout=timeout)
                with Client._opening:
                    Client.opened += 1
            connection.timeout = timeout
            try:
                connection.request(method, target, body=body, headers=headers)
                response = connection.getresponse()
                answer = Answer(response.status, response.read())
                if response.will_close:
                    connection.close()
                    del self._connections[parts.netloc]
                return answer
            except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
                connection.close()  # a kept-alive connection the server had closed: once more on a new one
                del self._connections[parts.netloc]
                if attempt == 2:
                    raise


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 120) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            requests.get(url, timeout=2)
            return time.monotonic() - started
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def descendants(pid: int) -> list[int]:
    """A process and all its descendants (web processes are children of the server, query
    workers children of a web process)."""
    found, pending = [], [pid]
    while pending:
        p = pending.pop()
        found.append(p)
        pending.extend(int(c) for c in subprocess.run(["pgrep", "-P", str(p)], capture_output=True, text=True).stdout.split())
    return found


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) used so far by these processes and their descendants alive now."""
    total = 0
    for pid in [d for p in pids for d in descendants(p)]:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def settle(pids: list[int], most: float = 120) -> float:
    """Wait until these servers (and their workers) use under 5% of a CPU over half a second, at
    most `most` seconds; how long it took."""
    started = time.monotonic()
    while time.monotonic() - started < most:
        before = cpu_seconds(pids)
        time.sleep(0.5)
        if cpu_seconds(pids) - before < 0.05 * 0.5:
            break
    return round(time.monotonic() - started, 1)


def _tree_mb(pid: int, file: str, field: str) -> float:
    """A /proc/{pid}/{file} field (in kB) summed over a process tree, in MB; a process that ended
    meanwhile counts nothing."""
    total = 0
    for p in descendants(pid):
        try:
            total += int(re.search(rf"{field}:\s+(\d+)", Path(f"/proc/{p}/{file}").read_text()).group(1))
        except (FileNotFoundError, ProcessLookupError, AttributeError, PermissionError):
            pass
    return total / 1024


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process tree: each process's own peak."""
    return _tree_mb(pid, "status", "VmHWM")


def pss_mb(pid: int) -> float:
    """Proportional resident memory of a process tree now: pages several processes share (a
    forked web process's, files mapped by each) counted once in all, where the sum of peaks
    above counts them once per process."""
    return _tree_mb(pid, "smaps_rollup", "Pss")


class TreeMemory:
    """The memory of each server's process tree, sampled once a second for the whole run: the
    largest total RSS seen at one moment (pages several processes share, such as a forked web
    process's, counted once per process) and the largest total PSS (shared pages divided among
    their processes: what the tree holds). Beside the sum of each process's own peak above,
    which adds peaks reached at different moments, by processes that may since have ended."""

    def __init__(self, pids: dict[str, int], interval: float = 1.0):
        self.pids, self.interval = pids, interval
        self.peak_rss = {name: 0.0 for name in pids}
        self.peak_pss = {name: 0.0 for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="tree-memory", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            for name, pid in self.pids.items():
                self.peak_rss[name] = max(self.peak_rss[name], _tree_mb(pid, "status", "VmRSS"))
                self.peak_pss[name] = max(self.peak_pss[name], pss_mb(pid))

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        return {"peak_tree_rss_mb": {k: round(v) for k, v in self.peak_rss.items()},
                "peak_tree_pss_mb": {k: round(v) for k, v in self.peak_pss.items()}}


def prefixes() -> str:
    sys.path.insert(0, str(ROOT))
    from kouiki_kg.namespaces import sparql_prologue

    return sparql_prologue()


def workload(project: Path, rng: random.Random) -> list[str]:
    """The example queries (with an explicit prologue: oxigraph serve predeclares nothing) and
    DESCRIBE/label look-ups of resources."""
    prologue = prefixes()
    queries = [prologue + p.read_text(encoding="utf-8") for p in sorted((project / "queries").glob("*.rq"))]
    text = (project / "data" / "ttl" / "authority" / "local-governments.ttl").read_text(encoding="utf-8")
    codes = re.findall(r"^lg:(\d{6}) a", text, re.M)
    lookups = [f"DESCRIBE <https://w3id.org/kouiki/id/lg/{c}>" for c in rng.sample(codes, 15)]
    lookups += [prologue + f"SELECT ?i ?t WHERE {{ ?i prov:wasAssociatedWith <https://w3id.org/kouiki/id/lg/{c}> ; "
                "dct:title ?t }" for c in rng.sample(codes, 10)]
    return queries + lookups


def drive(concurrency: int, seconds: float, request) -> list[float]:
    """`concurrency` threads call request(rng, session) until the time is up; returns the latencies
    of the calls that returned True (the others count as errors, reported by `request`)."""
    deadline = time.monotonic() + seconds
    return drive_until(concurrency, lambda: time.monotonic() >= deadline, request)


def percentile(latencies: list[float], p: float) -> float:
    return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1) if latencies else float("nan")


def combined(rounds: list[dict], seconds: float) -> dict:
    """Several rounds of one mix on one server: throughput over all of them, the median round's
    percentiles (each round's figures are kept beside)."""
    def median(key: str) -> float:
        return sorted(r[key] for r in rounds)[len(rounds) // 2]
    errors: dict[str, int] = {}
    for r in rounds:
        for key, count in r["errors"].items():
            errors[key] = errors.get(key, 0) + count
    ok = sum(r["ok"] for r in rounds)
    return {"throughput": round(ok / (seconds * len(rounds)), 1), "p50_ms": median("p50_ms"), "p90_ms": median("p90_ms"),
            "p99_ms": median("p99_ms"), "ok": ok, "errors": errors, "rounds": rounds}


def run_load(url: str, requests_pool: list[str], concurrency: int, seconds: float, unique: bool, seed: int) -> dict:
    errors: dict[str, int] = {}
    lock = threading.Lock()
    counter = iter(range(10**9))

    def request(rng: random.Random, session: Client) -> bool:
        query = rng.choice(requests_pool)
        if unique:
            query = f"# request {next(counter)}\n{query}"
        accept = "text/turtle" if "DESCRIBE" in query[:80] else "application/sparql-results+json"
        try:
            r = session.post(url, data={"query": query}, headers={"Accept": accept}, timeout=60)
            # oxigraph serve answers a cancelled query with 200 and a truncated body
            key = None if r.status_code == 200 and b"cancelled" not in r.content[-200:] else str(r.status_code)
        except (OSError, http.client.HTTPException) as err:
            key = type(err).__name__
        if key is not None:
            with lock:
                errors[key] = errors.get(key, 0) + 1
        return key is None

    latencies = drive(concurrency, seconds, request)
    return {"throughput": round(len(latencies) / seconds, 1), "p50_ms": percentile(latencies, 0.5),
            "p90_ms": percentile(latencies, 0.9), "p99_ms": percentile(latencies, 0.99), "ok": len(latencies),
            "errors": errors}


# A page's answer: the home page sends RDF clients on to /dataset with a 303 (not followed).
ANSWERED = (200, 303)


def page_latency(base: str, paths: list[str], accept: str, concurrency: int, seconds: float) -> dict:
    """Cold: every page once (its first render, nothing cached), shared out among `concurrency`
    clients; warm: random draws from the same pages for `seconds`, as repeat visits and crawlers
    coming back make them."""
    pending = list(paths)
    lock = threading.Lock()

    def next_cold(rng, session) -> bool:
        with lock:
            if not pending:
                time.sleep(0.01)  # this client is done; the others finish their last page
                return False
            path = pending.pop()
        return session.get(base + path, headers={"Accept": accept}, timeout=60).status_code in ANSWERED

    started = time.monotonic()
    cold = drive_until(concurrency, lambda: not pending, next_cold)
    cold_seconds = time.monotonic() - started
    warm = drive(concurrency, seconds, lambda rng, session: session.get(
        base + rng.choice(paths), headers={"Accept": accept}, timeout=60).status_code in ANSWERED)
    # the mean and the time all first renders took: with a closed loop, the same work scheduled
    # otherwise (one page at a time, or all at once in threads) moves p50 and p99 apart, not these
    return {"cold": {"p50_ms": percentile(cold, 0.5), "p99_ms": percentile(cold, 0.99), "requests": len(cold),
                     "mean_ms": round(1000 * sum(cold) / max(len(cold), 1), 1), "seconds": round(cold_seconds, 2)},
            "warm": {"p50_ms": percentile(warm, 0.5), "p99_ms": percentile(warm, 0.99), "requests": len(warm)}}


def checks_under_load(base: str, queries: list[str], concurrency: int, seconds: float, stewards: int = 1) -> dict:
    """Steward checks of the case template while `concurrency` clients send the unique query mix:
    what a steward waits for while the endpoint is busy. Each of `stewards` checks, waits half a
    second and checks again, all starting together (several stewards at once queue for the
    check workers)."""
    template = (ROOT / "data" / "templates" / "case-template.ttl").read_bytes()
    stop, latencies, failures = threading.Event(), [], []
    lock = threading.Lock()

    def steward() -> None:
        session = Client()
        while not stop.is_set():
            started = time.monotonic()
            r = session.post(base + "/validate", data=template, timeout=60,
                             headers={"Content-Type": "text/turtle", "Accept": "application/json"})
            with lock:
                (latencies if r.status_code == 200 and r.json()["conforms"] else failures).append(time.monotonic() - started)
            stop.wait(0.5)

    threads = [threading.Thread(target=steward) for _ in range(stewards)]
    for thread in threads:
        thread.start()
    load = run_load(base + "/sparql", queries, concurrency, seconds, unique=True, seed=concurrency)
    stop.set()
    for thread in threads:
        thread.join()
    latencies.sort()
    return {"stewards": stewards, "checks": len(latencies), "failed": len(failures), "p50_ms": percentile(latencies, 0.5),
            "p99_ms": percentile(latencies, 0.99), "max_ms": round(1000 * latencies[-1], 1) if latencies else None,
            "queries_per_s": load["throughput"]}


def drive_until(concurrency: int, done, request) -> list[float]:
    """`concurrency` threads call request(rng, session) until done() is true; the latencies of the
    calls that returned True, sorted."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client(index: int) -> None:
        rng, session = random.Random(index), Client()
        while not done():
            started = time.monotonic()
            ok = request(rng, session)
            if ok:
                with lock:
                    latencies.append(time.monotonic() - started)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(latencies)


def page_paths(project: Path, rng: random.Random, per_kind: int = 100) -> list[str]:
    """Pages of every kind that grows with the data: `per_kind` local governments and initiatives,
    a fifth as many sources, every theme, the home page and a role."""
    codes = re.findall(r"^lg:(\d{6}) a", (project / "data/ttl/authority/local-governments.ttl").read_text(), re.M)
    parts = sorted((project / "data/ttl/synthetic").glob("*.ttl"))
    initiatives = 1 + max(int(n) for n in re.findall(r"initiative/synthetic-(\d{7})", parts[-1].read_text()))
    sources = sorted(set(re.findall(r"/source/synthetic-(\d{7})/", parts[0].read_text())))
    themes = re.findall(r"^theme:([\w-]+) a skos:Concept", (project / "ontology/schemes/themes.ttl").read_text(), re.M)
    return ([f"/id/lg/{c}" for c in rng.sample(codes, min(per_kind, len(codes)))]
            + [f"/id/initiative/synthetic-{n:07d}" for n in rng.sample(range(initiatives), min(per_kind, initiatives))]
            + [f"/concept/theme/{t}" for t in themes] + ["/", "/?page=2", "/concept/role/lead", "/id/lg/130001"]
            + [f"/source/synthetic-{n}" for n in rng.sample(sources, min(per_kind // 5, len(sources)))])


def warm_and_time(args, env: dict, store: Path, port: int, asked: list[str]) -> dict:
    """Every page made in advance by `kouiki-kg warm` (one job per CPU, as `serve --warm` runs it),
    then the first requests for pages no client has asked for: from the shared disk cache."""
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    done = subprocess.run([str(BIN / "kouiki-kg"), "warm", "--url", base + "/", "--jobs", str(os.cpu_count() or 1)],
                          env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    largest_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest process so far, warm's included
    status = json.loads((store / "cache" / "warm.json").read_text())
    print("warm:", done.stdout.strip() or done.stderr.strip()[-500:], flush=True)
    not_asked = [p for p in page_paths(args.project, random.Random(2), args.pages) if p not in set(asked)]
    timed = page_latency(base, not_asked, "text/html", 8, args.seconds)
    print(f"pages at c=8 (ours, made in advance, {len(not_asked)} pages nobody asked for):", timed, flush=True)
    return {"seconds": round(seconds, 1), "pages": status["pages"], "made": status["made"], "state": status["state"],
            "largest_process_mb": round(largest_mb), "stored_mb": round(status["stored_bytes"] / 1e6, 1), "cache_file_mb": round(sum(
                f.stat().st_size for f in (store / "cache").glob("answers.sqlite*")) / 1e6, 1), "html": timed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True, help="a folder made by bench/generate.py")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds of each query mix per server, each server first in turn (throughput over all "
                             "rounds, the median round's percentiles); a unique mix with queries of seconds needs "
                             "long or many rounds: at c=8 a 10 s round holds only ~30 answers")
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--store", type=Path, default=None,
                        help="store directory (default: {project}/var/store); an up-to-date store is not rebuilt")
    parser.add_argument("--stewards", default="1",
                        help="how many stewards check at once during the unique mix, e.g. 1,4 (one run each)")
    parser.add_argument("--pages", type=int, default=100,
                        help="local governments and initiatives whose pages are timed (default 100 each; "
                             "more makes the first-render figures steadier)")
    parser.add_argument("--page-clients", type=int, default=8,
                        help="clients asking for pages at once (1: each first render's own time, no queueing)")
    parser.add_argument("--page-seed", type=int, default=None,
                        help="draw the page set with this seed (default: the same set every run)")
    parser.add_argument("--warm", action="store_true",
                        help="also make every page in advance (kouiki-kg warm, timed) and time pages nobody asked for "
                             "before; the shared cache is sized to hold them all (KOUIKI_SHARED_CACHE_BYTES, default 4 GB)")
    parser.add_argument("--remote", action="store_true",
                        help="also run our server in remote mode (KOUIKI_SPARQL_ENDPOINT) in front of the oxigraph server")
    args = parser.parse_args()
    store = args.store or args.project / "var" / "store"
    env = {**os.environ, "KOUIKI_ROOT": str(args.project), "KOUIKI_STORE": str(store),
           "KOUIKI_QUERY_TIMEOUT": str(args.timeout),
           "KOUIKI_WEB_WORKERS": str(os.cpu_count() or 1)}  # the documented production setting
    if args.warm:  # the server and the warmer share one cache file: the same size for both, or one trims the other
        env.setdefault("KOUIKI_SHARED_CACHE_BYTES", "4000000000")

    started = time.monotonic()
    build = subprocess.run([str(BIN / "kouiki-kg"), "build"], env=env, capture_output=True, text=True)
    build_seconds = time.monotonic() - started
    if build.returncode != 0:
        sys.exit(build.stderr)
    print("build:", build.stderr.strip().replace("\n", " | "), flush=True)
    current = (store / "current").resolve()
    triples = json.loads((current / "build.json").read_text())["triples"]

    # oxigraph load of the same files, for the build comparison
    ox_dir = args.project / "var" / "oxigraph-load"
    shutil.rmtree(ox_dir, ignore_errors=True)
    ox_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for f in sorted(args.project.rglob("*.ttl")):
        if "/var/" not in str(f):
            subprocess.run([str(BIN / "oxigraph"), "load", "--location", str(ox_dir), "--file", str(f)],
                           check=True, capture_output=True)
    oxigraph_load_seconds = time.monotonic() - started

    shutil.rmtree(store / "cache", ignore_errors=True)  # answers shared by the web processes: start cold
    ours_port, ox_port = free_port(), free_port()
    ours = subprocess.Popen([str(BIN / "kouiki-kg"), "serve", "--port", str(ours_port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    oxigraph = subprocess.Popen([str(BIN / "oxigraph"), "serve-read-only", "--location", str(current / "oxigraph"),
                                 "--bind", f"127.0.0.1:{ox_port}", "--union-default-graph",
                                 "--timeout-s", str(int(args.timeout))],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    targets = [("ours", f"http://127.0.0.1:{ours_port}/sparql"), ("oxigraph", f"http://127.0.0.1:{ox_port}/query")]
    processes = [ours, oxigraph]
    if args.remote:  # the web tier alone, reading the engine's server over HTTP
        remote_port = free_port()
        remote_env = {**env, "KOUIKI_SPARQL_ENDPOINT": f"http://127.0.0.1:{ox_port}/query",
                      "KOUIKI_STORE": str(args.project / "var" / "remote-web")}
        shutil.rmtree(remote_env["KOUIKI_STORE"], ignore_errors=True)  # time a first start, not a restart
        remote_started = time.monotonic()
        processes.append(subprocess.Popen([str(BIN / "kouiki-kg"), "serve", "--port", str(remote_port)], env=remote_env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        targets.append(("remote", f"http://127.0.0.1:{remote_port}/sparql"))
    memory = TreeMemory({"ours": ours.pid, "oxigraph": oxigraph.pid})
    try:
        ready = {"ours_s": round(wait_for(f"http://127.0.0.1:{ours_port}/health"), 2),
                 "oxigraph_s": round(wait_for(f"http://127.0.0.1:{ox_port}/"), 2)}
        if args.remote:  # started with the others: it makes its lookup files from the remote store first
            while True:
                try:
                    if requests.get(targets[2][1].replace("/sparql", "/health"), timeout=600).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                time.sleep(0.2)
            ready["remote_s"] = round(time.monotonic() - remote_started, 1)
        rng = random.Random(1)
        pool = workload(args.project, rng)
        repeated = [rng.choice(pool) for _ in range(40)]
        for _, url in targets:
            for query in pool[:3]:  # warm-up: start our worker pool, touch both stores
                requests.post(url, data={"query": query}, timeout=60)
        results = {"triples": triples, "build_s": round(build_seconds, 1), "oxigraph_load_s": round(oxigraph_load_seconds, 1),
                   "ready": ready, "runs": []}
        for concurrency in [int(c) for c in args.concurrency.split(",") if c]:  # --concurrency "": pages only
            for mix, unique, queries in (("repeated", False, repeated), ("unique", True, pool)):
                row = {"concurrency": concurrency, "mix": mix}
                rounds: dict[str, list[dict]] = {name: [] for name, _ in targets}
                for turn in range(args.rounds):  # each server first in turn: the machine's drift falls on both
                    for name, url in (targets if turn % 2 == 0 else targets[::-1]):
                        rounds[name].append(run_load(url, queries, concurrency, args.seconds, unique, seed=concurrency))
                        # its clients stop at the phase's end, but a server still runs what it was sent (oxigraph
                        # past its time limit): the next phase, on either server, starts when both are idle
                        rounds[name][-1]["settled_s"] = settle([p.pid for p in processes])
                for name, _ in targets:
                    row[name] = combined(rounds[name], args.seconds)
                row["ratio"] = round(row["ours"]["throughput"] / max(row["oxigraph"]["throughput"], 0.1), 2)
                results["runs"].append(row)
                remote = (f" | remote {row['remote']['throughput']:>7} q/s p50 {row['remote']['p50_ms']:>7} ms"
                          if "remote" in row else "")
                print(f"c={concurrency:>2} {mix:<8} ours {row['ours']['throughput']:>7} q/s p50 {row['ours']['p50_ms']:>7} ms "
                      f"p99 {row['ours']['p99_ms']:>8} ms | oxigraph {row['oxigraph']['throughput']:>7} q/s p50 "
                      f"{row['oxigraph']['p50_ms']:>7} ms p99 {row['oxigraph']['p99_ms']:>8} ms | ratio {row['ratio']}{remote}",
                      flush=True)
        # first renders measure making pages, not a start's own work (query and check workers
        # starting, the home page's map made ahead): like each mix, they begin with the servers idle
        results["pages_settled_s"] = settle([p.pid for p in processes])
        paths = page_paths(args.project, rng if args.page_seed is None else random.Random(args.page_seed), args.pages)
        results["pages"] = {}
        for name, base in [("ours", f"http://127.0.0.1:{ours_port}")] + (
                [("remote", targets[2][1].removesuffix("/sparql"))] if args.remote else []):
            results["pages"][name] = {kind: page_latency(base, paths, accept, args.page_clients, args.seconds)
                                      for kind, accept in (("html", "text/html"), ("turtle", "text/turtle"))}
            print(f"pages at c={args.page_clients} ({name}, {len(paths)} pages):", results["pages"][name], flush=True)
        if args.warm:
            results["warm"] = warm_and_time(args, env, store, ours_port, paths)
        results["checks_under_load"] = []
        for stewards in [int(n) for n in args.stewards.split(",") if n]:
            results["checks_under_load"].append(
                checks_under_load(f"http://127.0.0.1:{ours_port}", pool, 8, args.seconds, stewards))
            print(f"steward checks during the unique mix at c=8, {stewards} at once:", results["checks_under_load"][-1],
                  flush=True)
        # The floor of this machine and client: the engine's own server answering a query that does
        # nothing. A second oxigraph server without a time limit: with `--timeout-s`, oxigraph serve
        # starts a watchdog thread per query that lives for the whole limit, and at ~5,000 empty
        # queries a second it ran out of threads (15,000 after 3 s) and aborted.
        floor_port = free_port()
        floor_server = subprocess.Popen([str(BIN / "oxigraph"), "serve-read-only", "--location", str(current / "oxigraph"),
                                         "--bind", f"127.0.0.1:{floor_port}"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(floor_server)
        wait_for(f"http://127.0.0.1:{floor_port}/")
        floor = drive(8, args.seconds, lambda rng, session: session.get(
            f"http://127.0.0.1:{floor_port}/query", params={"query": "ASK {}"},
            headers={"Accept": "application/sparql-results+json"}, timeout=60).status_code == 200)
        results["pages"]["floor"] = {"p50_ms": percentile(floor, 0.5), "p99_ms": percentile(floor, 0.99),
                                     "throughput": round(len(floor) / args.seconds, 1)}
        print("floor at c=8 (oxigraph serve, ASK {}):", results["pages"]["floor"], flush=True)
        results["peak_rss_mb"] = {"ours": round(peak_rss_mb(ours.pid), 0), "oxigraph": round(peak_rss_mb(oxigraph.pid), 0)}
        results["pss_at_end_mb"] = {"ours": round(pss_mb(ours.pid), 0), "oxigraph": round(pss_mb(oxigraph.pid), 0)}
        results.update(memory.stop())
        print("peak RSS (MB, sum of each process's peak):", results["peak_rss_mb"], "PSS at the end (MB):",
              results["pss_at_end_mb"], "tree's peak RSS / PSS at one moment (MB):", results["peak_tree_rss_mb"],
              results["peak_tree_pss_mb"],
              "ready:", ready, "build s:", results["build_s"],
              "oxigraph load s:", results["oxigraph_load_s"], flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"run-{triples}.json").write_text(json.dumps(results, indent=2))
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
