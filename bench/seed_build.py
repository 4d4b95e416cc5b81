"""Seed build time: the whole `kouiki-kg build --force` command, interpreter start included.

With --compare, another checkout (e.g. an older commit in a git worktree) is built the same
way, alternating with this one, so both see the same moments of a noisy machine:

    git worktree add /tmp/wt-before b97d412
    python bench/seed_build.py --runs 5 --compare /tmp/wt-before

Each tree builds its own project (its --root) into its own scratch store, with its own code.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_seconds(tree: Path, store: Path) -> float:
    """One forced build by the tree's own code (its package first on the path)."""
    command = [sys.executable, "-c",
               f"import sys; sys.path.insert(0, {str(tree)!r}); from kouiki_kg.cli import main; "
               f"sys.argv = ['kouiki-kg', '--root', {str(tree)!r}, '--store', {str(store)!r}, 'build', '--force']; main()"]
    started = time.monotonic()
    subprocess.run(command, check=True, capture_output=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--compare", type=Path, help="another checkout to build alternately with this one")
    args = parser.parse_args()
    trees = {"this": ROOT} | ({"compare": args.compare.resolve()} if args.compare else {})
    scratch = Path(tempfile.mkdtemp(prefix="seed-build-"))
    times: dict[str, list[float]] = {name: [] for name in trees}
    try:
        for run in range(args.runs):
            for name, tree in trees.items():
                times[name].append(build_seconds(tree, scratch / name))
                print(f"run {run + 1} {name}: {times[name][-1]:.2f} s", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for name, found in times.items():
        print(f"{name} ({trees[name]}): {', '.join(f'{t:.2f}' for t in sorted(found))} s; median {statistics.median(found):.2f} s")
    if args.compare:
        print(f"ratio this / compare (medians): {statistics.median(times['this']) / statistics.median(times['compare']):.2f}")


if __name__ == "__main__":
    main()
