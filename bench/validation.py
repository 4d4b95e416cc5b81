"""Steward validation time of a one-case submission against a project of any size.

The first check in a process gets the project ready (then kept); later checks reuse it. With
--store (a store built from the project), the build's store is opened read-only; without, the
files are parsed into memory. Prints both times and the process's peak RSS. The server's
steward-check worker does the first step as its web process starts.

    python bench/validation.py /tmp/kg1m --store /tmp/s1m
    python bench/validation.py /tmp/kg1m

With --server, a running server instead: a steward publishes a case again and again (PUT, the
check in the stewards' worker, the store already holding it) while --hostile anonymous clients
send parser bombs to /validate (a Turtle list of 900,000 items, JSON-LD nested 5,000 deep). It
prints the steward's PUT times and the peak memory of the server's process tree.

    python bench/validation.py --server http://127.0.0.1:8000 --token T --hostile 4 --seconds 30
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kouiki_kg.validation import submission  # noqa: E402  (after the path is set)


def tree_rss(root_pid: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, pending = 0, [root_pid]
    while pending:
        pid = pending.pop()
        pending += children.get(pid, [])
        try:
            rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += rss_pages * resource.getpagesize()
    return total


def under_hostile_load(args) -> None:
    import threading

    import requests

    bombs = [(b"<https://w3id.org/kouiki/id/initiative/x> <https://w3id.org/kouiki/ontology#p> (" + b" 1" * 900_000
              + b" ) .\n", "text/turtle"),
             (("{" + '"https://w3id.org/kouiki/ontology#p": {' * 5000 + "}" * 5001).encode(), "application/ld+json")]
    case = args.case.read_bytes()
    slug = args.case.stem
    stop = time.monotonic() + args.seconds
    refused = [0]

    def hostile(n: int) -> None:
        while time.monotonic() < stop:
            body, media = bombs[n % len(bombs)]
            answer = requests.post(args.server + "/validate", data=body, headers={"Content-Type": media}, timeout=120)
            refused[0] += answer.status_code == 400

    server_pid = int(subprocess.run(["pgrep", "-of", "kouiki-kg serve"], capture_output=True, text=True).stdout.split()[0])
    threads = [threading.Thread(target=hostile, args=(n,), daemon=True) for n in range(args.hostile)]
    for thread in threads:
        thread.start()
    timings, peak = [], 0
    while time.monotonic() < stop:
        started = time.perf_counter()
        answer = requests.put(f"{args.server}/cases/{slug}", data=case, timeout=120,
                              headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {args.token}"})
        timings.append(time.perf_counter() - started)
        assert answer.status_code in (200, 201), answer.text[:300]
        peak = max(peak, tree_rss(server_pid))
    for thread in threads:
        thread.join()
    timings.sort()
    print(f"steward PUT of {slug} with {args.hostile} hostile clients: {len(timings)} PUTs, "
          f"p50 {timings[len(timings) // 2]:.2f} s, max {timings[-1]:.2f} s; {refused[0]} bombs refused; "
          f"peak RSS of the server tree {peak / 1e6:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("project", type=Path, nargs="?", help="a project folder (e.g. made by bench/generate.py)")
    parser.add_argument("--server", help="a running server's URL: measure a steward's PUT under hostile load")
    parser.add_argument("--token", help="a steward's token for --server")
    parser.add_argument("--hostile", type=int, default=4, help="anonymous clients sending parser bombs")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--case", type=Path, default=ROOT / "data" / "templates" / "case-template.ttl")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--store", type=Path, help="the project's store directory (read if built from these files)")
    args = parser.parse_args()
    if args.server:
        if args.case == ROOT / "data" / "templates" / "case-template.ttl":
            args.case = ROOT / "data" / "ttl" / "cases" / "saitama-septic-tanks.ttl"
        return under_hostile_load(args)
    if args.project is None:
        parser.error("a project folder, or --server")
    data = args.case.read_bytes()
    timings = []
    for _ in range(1 + args.repeat):
        started = time.perf_counter()
        report = submission.check(data, args.project.resolve(), store_dir=args.store)
        timings.append(time.perf_counter() - started)
    later = sorted(timings[1:])
    built = submission._reference(args.project.resolve(), args.store).built
    print(f"{args.project} ({'the build store' if built else 'files parsed'}): first check {timings[0]:.2f} s, later checks median {later[len(later) // 2]:.2f} s, "
          f"conforms={report.conforms}, peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
