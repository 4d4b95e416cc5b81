"""Slow clients against a running server: can everyone else still get an answer?

Opens CONNECTIONS connections to the server, each of which sends a request's headers one line
every INTERVAL seconds and never finishes them (slowloris), or — with --body — sends whole
headers announcing a body and then one byte of it every INTERVAL seconds. A connection the
server closes is opened again, so the pressure stays at CONNECTIONS throughout. Meanwhile a
probe asks for /health and for a page in turn, one request at a time, and records how long each
took. Prints a summary (JSON with --json): probe latencies, failures, and how many of the slow
connections the server closed.

    .venv/bin/kouiki-kg serve --port 8000 &
    .venv/bin/python bench/slowloris.py http://127.0.0.1:8000 --connections 200 --seconds 60

Bounded: 127.0.0.1 only, at most 1,000 connections, at most 10 minutes.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import threading
import time
from urllib.parse import urlsplit

import requests

PROBES = ("/health", "/id/initiative/hachinohe-bus-network")


class SlowClient:
    """One connection that never completes its request, reopened when the server drops it."""

    def __init__(self, host: str, port: int, body: bool):
        self.host, self.port, self.body = host, port, body
        self.sock: socket.socket | None = None
        self.closed_by_server = 0
        self.lines = 0

    def _open(self) -> None:
        self.sock = socket.create_connection((self.host, self.port), timeout=5)
        if self.body:
            self.sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              b"Content-Type: application/sparql-query\r\nContent-Length: 100000\r\n\r\nASK")
        else:
            self.sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self.lines = 0

    def tick(self) -> None:
        try:
            if self.sock is None:
                self._open()
                return
            self.lines += 1
            self.sock.sendall(b" " if self.body else f"X-Slow-{self.lines}: {self.lines}\r\n".encode())
        except OSError:  # the server closed it (a timeout, a limit): open another
            self.closed_by_server += 1
            self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def attack(url: str, connections: int, seconds: float, interval: float = 3.0, body: bool = False) -> dict:
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("only against a server on this machine (127.0.0.1)")
    connections, seconds = min(connections, 1000), min(seconds, 600)
    clients = [SlowClient(parts.hostname, parts.port or 80, body) for _ in range(connections)]
    for client in clients:
        client.tick()
    stop = threading.Event()

    def keep_sending():
        while not stop.wait(interval):
            for client in clients:
                client.tick()

    sender = threading.Thread(target=keep_sending, daemon=True)
    sender.start()
    latencies: dict[str, list[float]] = {path: [] for path in PROBES}
    failures: list[str] = []
    deadline = time.monotonic() + seconds
    turn = 0
    try:
        while time.monotonic() < deadline:
            path = PROBES[turn % len(PROBES)]
            turn += 1
            started = time.monotonic()
            try:
                status = requests.get(url.rstrip("/") + path, timeout=15, headers={"Accept": "text/html"}).status_code
                if status != 200:
                    failures.append(f"{path}: {status}")
            except requests.RequestException as err:
                failures.append(f"{path}: {type(err).__name__}")
            latencies[path].append(time.monotonic() - started)
            time.sleep(0.2)
    finally:
        stop.set()
        sender.join()
        open_at_end = sum(client.sock is not None for client in clients)
        for client in clients:
            client.close()
    every = [t for times in latencies.values() for t in times]
    return {
        "connections": connections, "seconds": seconds, "interval": interval, "kind": "body" if body else "headers",
        "probes": len(every), "failures": failures,
        "p50_ms": round(1000 * statistics.median(every), 1) if every else None,
        "max_ms": round(1000 * max(every), 1) if every else None,
        "by_path_max_ms": {path: round(1000 * max(times), 1) for path, times in latencies.items() if times},
        "closed_by_server": sum(client.closed_by_server for client in clients),
        "open_at_end": open_at_end,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between two lines of a slow client")
    parser.add_argument("--body", action="store_true", help="slow bodies instead of slow headers")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON line")
    args = parser.parse_args()
    summary = attack(args.url, args.connections, args.seconds, args.interval, args.body)
    if args.json:
        print(json.dumps(summary))
        return
    for key, value in summary.items():
        print(f"{key:>18}: {value}")


if __name__ == "__main__":
    main()
