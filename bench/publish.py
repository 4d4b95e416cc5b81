"""Publishing one case through the server: PUT (or DELETE) → answered → served, timed.

    python bench/publish.py --project /tmp/kouiki-1m --rounds 10

Starts `kouiki-kg serve` on the project (production settings: a web process per CPU) with a
steward's token, then, round after round, PUTs a seed case with its English title changed and
times the request; the response comes after the new build is swapped in, and the case's page
is then fetched to check it shows the new title (served, not only stored). One DELETE and the
PUT that brings the case back are timed too. The first PUT after the server's own build of
the project is an increment like the others. Prints a JSON summary (p50, p90, max; the first
round apart) and writes it under --out.

The project's case file is changed by the run: it is restored at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

from run import BIN, ROOT, free_port, wait_for

CASE = "saitama-septic-tanks"
TITLE = re.compile(rb'(public septic tanks)[^"]*("@en)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True, help="a folder made by bench/generate.py")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()

    case_file = args.project / "data" / "ttl" / "cases" / f"{CASE}.ttl"
    original = case_file.read_bytes()
    token = secrets.token_urlsafe(24)
    port = free_port()
    env = {**os.environ, "KOUIKI_ROOT": str(args.project), "KOUIKI_STORE": str(args.project / "var" / "store"),
           "KOUIKI_TOKENS": f"bench:{hashlib.sha256(token.encode()).hexdigest()}"}
    server = subprocess.Popen([str(BIN / "kouiki-kg"), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"}
    timings: dict[str, list[float]] = {"put": [], "delete": [], "put_back": []}
    try:
        wait_for(f"{base}/health", seconds=900)
        page = f"{base}/id/initiative/{CASE}"
        for round_ in range(args.rounds):
            marker = f" (bench {round_} {secrets.token_hex(3)})"
            body = TITLE.sub(rb"\1" + marker.encode() + rb"\2", original)
            started = time.perf_counter()
            response = requests.put(f"{base}/cases/{CASE}", data=body, headers=headers, timeout=600)
            timings["put"].append(time.perf_counter() - started)
            response.raise_for_status()
            shown = requests.get(page, headers={"Accept": "text/html", "Accept-Language": "en"}, timeout=60).text
            assert marker.strip() in shown, "the new title is not served"
            print(f"PUT {round_}: {timings['put'][-1]:.2f} s", file=sys.stderr, flush=True)
        started = time.perf_counter()
        requests.delete(f"{base}/cases/{CASE}", headers=headers, timeout=600).raise_for_status()
        timings["delete"].append(time.perf_counter() - started)
        assert requests.get(page, timeout=60).status_code == 404
        started = time.perf_counter()
        requests.put(f"{base}/cases/{CASE}", data=original, headers=headers, timeout=600).raise_for_status()
        timings["put_back"].append(time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=60)
        case_file.write_bytes(original)

    puts = timings["put"]
    summary = {"project": str(args.project), "rounds": args.rounds,
               "put_first_s": round(puts[0], 3),
               "put_p50_s": round(statistics.median(puts[1:] or puts), 3),
               "put_p90_s": round(sorted(puts[1:] or puts)[int(0.9 * (len(puts[1:] or puts) - 1))], 3),
               "put_max_s": round(max(puts), 3),
               "delete_s": round(timings["delete"][0], 3), "put_back_s": round(timings["put_back"][0], 3)}
    print(json.dumps(summary, indent=1))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "publish.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
