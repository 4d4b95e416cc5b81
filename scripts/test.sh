#!/usr/bin/env bash
# Install everything the test suite needs and run it. The README's test command, and what CI runs.
#  - Python packages into .venv (from PyPI)
#  - Debian's chromium for the browser tests (apt-get; as root, or through sudo)
#  - axe-core for the accessibility checks in those tests (npm, into tests/a11y/node_modules)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests…" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi

python3 -m venv .venv
.venv/bin/pip install -q -e ".[test]"
# axe-core, which the browser tests run in each page (WCAG 2.1 AA); pinned by tests/a11y/package-lock.json
npm ci --prefix tests/a11y --no-audit --no-fund --loglevel=error >/dev/null
# Test files run in parallel, one worker per CPU (up to four), each file whole on one worker:
# tests in a file share a server and some follow one another. The suite is half CPU, half
# waiting (servers starting, browsers), so two workers on two cores take ~0.6 of the time.
exec .venv/bin/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile "$@"
