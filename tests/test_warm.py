"""Pages made in advance (`kouiki-kg warm`, `serve --warm`): every listed page lands in the shared
disk cache under the key a visitor's request looks up, byte for byte what that visitor would
have been given, and a pass never pushes its own pages out of a cache too small for them."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from kouiki_kg import warm as warming
from kouiki_kg.app import create_app
from kouiki_kg.build import build
from kouiki_kg.config import Config
from kouiki_kg.cache import WARM_STATUS_FILE, read_warm_status
from kouiki_kg.warm import WarmError, warm

from .conftest import ROOT, RunningServer, quiet

URL = "http://kouiki.example.jp/"
HOST = "kouiki.example.jp"  # a server for URL is configured to answer to it (hosts.py)


@pytest.fixture(scope="module")
def own_store(tmp_path_factory) -> Path:
    """A store of the seed data whose shared cache these tests may fill."""
    path = tmp_path_factory.mktemp("warm") / "store"
    build(Config(root=ROOT, store_dir=path), log=quiet)
    return path


def listed_pages(app) -> list[str]:
    from kouiki_kg import web

    with app.test_request_context(base_url=URL):
        return web.reader().listings.pages(0, 1 << 40)[0]


def visit(app, path: str, lang: str):
    return app.test_client().get(path, base_url=URL, headers={"Accept": "text/html", "Accept-Language": lang})


def test_a_pass_puts_every_page_where_visitors_find_it(own_store):
    config = Config(root=ROOT, store_dir=own_store, allowed_hosts=(HOST,))
    report = warm(config, URL, jobs=2, lowest_priority=False)
    assert report.state == "done" and not report.failed and not report.full
    assert report.done == report.pages == 2 * len(listed_pages(create_app(config)))
    assert report.made == report.pages and report.stored_bytes > 0
    assert read_warm_status(own_store)["state"] == "done"

    # another web process, nothing in its memory: every page of both languages comes from the disk
    visitor = create_app(config)
    pages = listed_pages(visitor)
    for path in pages:
        for lang in ("ja", "en"):
            assert visit(visitor, path, lang).status_code == 200
    stats = visitor.extensions["kouiki.cache"].stats()
    uncached = ["/sparql"]  # the query form is not an answer: it is never cached, so it is made each time
    assert stats["shared_hits"] == 2 * (len(pages) - len(uncached)) and stats["misses"] == 0

    # and byte for byte what a server without any cache gives that visitor
    fresh = create_app(replace(config, cache_bytes=0, shared_cache_bytes=0))
    for path in random.Random(6).sample(pages, 40) + ["/", "/ontology", "/shapes", "/dataset"]:
        for lang in ("ja", "en"):
            warmed, made = visit(visitor, path, lang), visit(fresh, path, lang)
            assert (warmed.status_code, warmed.data, warmed.headers.get("ETag")) == (made.status_code, made.data,
                                                                                      made.headers.get("ETag")), path

    # a second pass finds them all; pages for another host are other pages (they name their URL)
    again = warm(config, URL, langs=("en",), lowest_priority=False)
    assert again.found == len(pages) - len(uncached) and again.made == len(uncached)
    cache = visitor.extensions["kouiki.cache"]
    misses = cache.stats()["misses"]
    assert visitor.test_client().get(pages[-1], base_url="http://127.0.0.1:8000/").status_code == 200
    assert cache.stats()["misses"] == misses + 1


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).with_name("kouiki-kg")), *args], capture_output=True, text=True,
                          env={**os.environ, "KOUIKI_ROOT": str(ROOT), **env}, timeout=300)


def test_the_cli_reports_the_pass_or_a_clear_error(tmp_path, own_store):
    done = run_cli("--store", str(own_store), "warm", "--url", URL, "--lang", "ja")  # after the pass above
    assert done.returncode == 0, done.stderr
    assert "already cached" in done.stdout and "0 failed" in done.stdout
    missing = run_cli("--store", str(tmp_path / "none"), "warm")
    assert missing.returncode == 2
    assert "kouiki-kg build" in missing.stderr and "ストア" in missing.stderr
    bad = run_cli("--store", str(own_store), "warm", "--url", "kouiki.example.jp")
    assert bad.returncode == 2 and "http(s)://host/" in bad.stderr


def test_nothing_to_warm_is_a_clear_error(tmp_path, own_store):
    with pytest.raises(WarmError) as missing:
        warm(Config(root=ROOT, store_dir=tmp_path / "none"), URL)
    assert "kouiki-kg build" in missing.value.en and "ストア" in missing.value.ja
    with pytest.raises(WarmError) as off:
        warm(Config(root=ROOT, store_dir=own_store, shared_cache_bytes=0), URL)
    assert "KOUIKI_SHARED_CACHE_BYTES" in off.value.en and "共有キャッシュ" in off.value.ja
    for bad in ("ftp://host/", "kouiki.example.jp", "http://host/?lang=en"):
        with pytest.raises(WarmError):
            warm(Config(root=ROOT, store_dir=own_store), bad)


def descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        parent = pending.pop()
        found.append(parent)
        pending += [int(c) for c in subprocess.run(["pgrep", "-P", str(parent)], capture_output=True,
                                                   text=True).stdout.split()]
    return found


def still_running(pids: list[int], seconds: float = 10) -> list[str]:
    """Those of `pids` still running (not exited, not a zombie) after up to `seconds`."""
    def running() -> list[str]:
        found = []
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                if "zombie" not in status.lower():
                    found.append(f"{pid} {Path(f'/proc/{pid}/cmdline').read_text()[:80]!r}")
            except OSError:
                pass
        return found
    deadline = time.monotonic() + seconds
    while running() and time.monotonic() < deadline:
        time.sleep(0.2)
    return running()


def test_serve_warm_makes_pages_for_its_url_and_stops_with_the_server(own_store):
    """The pages are already made for URL by the tests above: what is tested here is the wiring
    (a pass per build beside the server, its status, a visitor on URL served from the disk)."""
    (own_store / "cache" / WARM_STATUS_FILE).unlink()
    running = RunningServer(own_store, ("--warm", "--public-url", URL), KOUIKI_WEB_WORKERS="2",
                            KOUIKI_QUERY_WORKERS="4")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            warmed = requests.get(running.url + "/health", timeout=10).json().get("warm", {})
            if warmed.get("state") == "done":
                break
            time.sleep(0.5)
        assert warmed.get("state") == "done", running.output()
        assert warmed["url"] == URL and warmed["failed"] == 0 and warmed["found"] > 0
        processes = descendants(running.process.pid)
        page = requests.get(running.url + "/id/lg/022039", headers={"Accept-Language": "en", "Host": "kouiki.example.jp"},
                            timeout=10)
        assert page.status_code == 200 and "八戸市" in page.text
        stats = []  # from the process(es) that served a page: the kernel picks which process answers
        for _ in range(60):
            health = requests.get(running.url + "/health", timeout=10).json()
            stats += [health["answer_cache"]] if "answer_cache" in health else []
            if len(stats) >= 2:
                break
        assert stats and all(s["misses"] == 0 for s in stats)
        assert any(s["shared_hits"] >= 1 for s in stats)  # from the disk: nothing was rendered on request

        # a new build (as an ingest makes) is warmed in its turn
        rebuilt = build(Config(root=ROOT, store_dir=own_store), force=True, log=quiet).build_dir.name
        assert rebuilt != warmed["build"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            warmed = requests.get(running.url + "/health", timeout=10).json()["warm"]
            if warmed["build"] == rebuilt and warmed["state"] == "done":
                break
            time.sleep(0.5)
        assert (warmed["build"], warmed["state"]) == (rebuilt, "done"), running.output()
    finally:
        running.stop()
    assert still_running(processes) == []  # the warmer went with the server


def test_gunicorn_run_by_hand_warms_with_kouiki_warm_url(own_store, tmp_path):
    """The README's own gunicorn command: the hooks in kouiki_kg.serving start the pass from
    KOUIKI_WARM_URL and stop it with the server."""
    from .conftest import free_port

    port = free_port()
    env = {**os.environ, "KOUIKI_ROOT": str(ROOT), "KOUIKI_STORE": str(own_store), "KOUIKI_WEB_WORKERS": "2",
           "KOUIKI_WARM_URL": "https://kouiki.example.jp/"}
    log = open(tmp_path / "gunicorn.log", "w+")
    server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c", "python:kouiki_kg.serving",
                               "--workers", "2", "--bind", f"127.0.0.1:{port}", "server:asgi"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline, warmed = time.monotonic() + 60, {}
        while time.monotonic() < deadline and warmed.get("url") != "https://kouiki.example.jp/" and server.poll() is None:
            try:
                warmed = requests.get(f"http://127.0.0.1:{port}/health", timeout=5).json().get("warm", {})
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        log.seek(0)
        assert warmed.get("url") == "https://kouiki.example.jp/", log.read()
        processes = descendants(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    assert still_running(processes) == []  # the warmer went with the server


def test_a_full_cache_stops_the_pass_and_says_what_it_needs(tmp_path, own_store):
    config = Config(root=ROOT, store_dir=own_store, shared_cache_bytes=300_000)
    shutil.rmtree(own_store / "cache")  # start empty (the cache is only a cache)
    report = warm(config, URL, lowest_priority=False)
    assert report.state == "full" and report.full
    assert 0 < report.done < report.pages
    assert report.stored_bytes < 300_000  # stopped before the cache had to drop anything
    assert report.needed_bytes() > 300_000
    # everything the pass made is still there
    shared = create_app(config)
    from kouiki_kg import web

    with shared.app_context():
        held, _ = web.answer_cache().shared.totals()
    assert held == report.stored_bytes
    assert "KOUIKI_SHARED_CACHE_BYTES" in warming.summary(report, "en")
    assert "KOUIKI_SHARED_CACHE_BYTES" in warming.summary(report, "ja")
