"""Steward validation time of a one-case submission against a project of any size.

The first check in a process gets the project ready (then kept); later checks reuse it. With
--store (a store built from the project), the build's store is opened read-only; without, the
files are parsed into memory. Prints both times and the process's peak RSS. The server's
steward-check worker does the first step as its web process starts.

    python bench/validation.py /tmp/kg1m --store /tmp/s1m
    python bench/validation.py /tmp/kg1m
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kouiki_kg import submission  # noqa: E402  (after the path is set)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("project", type=Path, help="a project folder (e.g. made by bench/generate.py)")
    parser.add_argument("--case", type=Path, default=ROOT / "data" / "templates" / "case-template.ttl")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--store", type=Path, help="the project's store directory (read if built from these files)")
    args = parser.parse_args()
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
