"""The floor of a Python HTTP front on this machine: what a server costs per answer before any of
our code runs (issue 25, target 0).

Trivial apps that answer every POST with the same small SPARQL JSON body, each behind a front,
driven like bench/light.py (8 keep-alive clients posting a form, or `--concurrency`), one after
the other, rounds alternating; prints q/s, p50 and the CPU each server's processes spend per
answer (and the client's):

- `gunicorn-asgi`: gunicorn's asyncio worker, the app answering on the event loop;
- `gunicorn-asgi-thread`: the same, the answer made in a thread as `serving.WholeRequests` does;
- `gunicorn-asgi-flask`: the same with our front (`serving.WholeRequests`) and a one-line Flask
  view (the form parsed) — `kouiki-kg serve` without the SPARQL endpoint's own work;
- with granian installed (`pip install granian`; not a dependency): `granian-wsgi` (the Flask
  view, called by granian's threads) and `granian-asgi-thread`.

Two processes each, as `kouiki-kg serve` runs on two CPUs.

    .venv/bin/python bench/front_floor.py [--seconds 5] [--rounds 2] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import BIN, Client, cpu_seconds, drive, free_port, percentile  # noqa: E402

BODY = b'{"head":{"vars":["l"]},"results":{"bindings":[{"l":{"type":"literal","value":"x","xml:lang":"ja"}}]}}'
HEADERS = [(b"content-type", b"application/sparql-results+json")]
_threads = ThreadPoolExecutor(64)


async def _read_body(receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def asgi_app(scope, receive, send):
    if scope["type"] != "http":
        return
    await _read_body(receive)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


async def asgi_thread_app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = await _read_body(receive)
    answer = await asyncio.get_running_loop().run_in_executor(_threads, lambda: BODY if body is not None else b"")
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": answer})


def _flask_app():
    from flask import Flask, Response, request

    app = Flask("front_floor")

    @app.post("/sparql")
    def sparql():
        request.form.getlist("query")
        return Response(BODY, content_type="application/sparql-results+json")

    return app


def asgi_flask_app():
    """The Flask view behind our own front (`serving.WholeRequests`: the body read on the event
    loop, the view run in a thread, the answer back in one crossing)."""
    from types import SimpleNamespace

    sys.path.insert(0, str(HERE.parent))
    from kouiki_kg.serving import REQUEST_THREADS, WholeRequests

    app = _flask_app()
    app.config["KOUIKI"] = SimpleNamespace(max_upload=2_000_000, body_timeout=60.0)
    return WholeRequests(app, REQUEST_THREADS)


def wsgi_flask_app():
    return _flask_app()


FRONTS = {
    "gunicorn-asgi": ["gunicorn", "-k", "asgi", "-w", "2", "front_floor:asgi_app"],
    "gunicorn-asgi-thread": ["gunicorn", "-k", "asgi", "-w", "2", "front_floor:asgi_thread_app"],
    "gunicorn-asgi-flask": ["gunicorn", "-k", "asgi", "-w", "2", "front_floor:asgi_flask_app()"],
}
if importlib.util.find_spec("granian"):
    FRONTS["granian-wsgi"] = ["granian", "--interface", "wsgi", "--workers", "2", "--blocking-threads", "8",
                              "--factory", "front_floor:wsgi_flask_app"]
    FRONTS["granian-asgi-thread"] = ["granian", "--interface", "asgi", "--workers", "2", "front_floor:asgi_thread_app"]


def start(name: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [str(BIN / FRONTS[name][0]), *FRONTS[name][1:]]
    command += ["-b", f"127.0.0.1:{port}"] if command[0].endswith("gunicorn") else ["--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, cwd=HERE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/sparql"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # no GET route: any answer means it listens
        try:
            Client().post(url, data={"query": "ASK {}"}, timeout=2)
            return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{name} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    form = urlencode({"query": "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
                               "SELECT ?l WHERE { <https://w3id.org/kouiki/id/lg/011045> skos:prefLabel ?l }"}).encode()
    results: dict[str, list[dict]] = {name: [] for name in FRONTS}
    for number in range(args.rounds):
        names = list(FRONTS) if number % 2 == 0 else list(reversed(FRONTS))
        for name in names:
            process, url = start(name)
            try:
                def ask(rng, client):
                    return client.post(url, data=form, timeout=30, headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Accept": "application/sparql-results+json"}).status_code == 200
                drive(args.concurrency, 1, ask)  # warm-up
                server_cpu, client_cpu = cpu_seconds([process.pid]), time.process_time()
                latencies = drive(args.concurrency, args.seconds, ask)
                answers = max(len(latencies), 1)
                row = {"q_per_s": round(len(latencies) / args.seconds, 1), "p50_ms": percentile(latencies, 0.5),
                       "server_cpu_us": round(1e6 * (cpu_seconds([process.pid]) - server_cpu) / answers),
                       "client_cpu_us": round(1e6 * (time.process_time() - client_cpu) / answers)}
            finally:
                process.terminate()
                process.wait(timeout=30)
            results[name].append(row)
            print(f"round {number + 1} {name}: {row}", flush=True)
    for name, rows in results.items():
        print(f"{name:22s} median: {statistics.median(r['q_per_s'] for r in rows):7.0f} q/s, "
              f"p50 {statistics.median(r['p50_ms'] for r in rows):.2f} ms, "
              f"server CPU {statistics.median(r['server_cpu_us'] for r in rows):.0f} µs an answer, "
              f"client {statistics.median(r['client_cpu_us'] for r in rows):.0f} µs")


if __name__ == "__main__":
    main()
