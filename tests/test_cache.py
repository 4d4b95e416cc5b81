"""Answers cached in memory per web process and on disk shared by the processes of a server."""

from __future__ import annotations

import random
import shutil
import sqlite3
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from kouiki_kg import web
from kouiki_kg.app import create_app
from kouiki_kg.cache import AnswerCache, Cached, SharedAnswers
from kouiki_kg.config import Config

from .conftest import ROOT
from .test_health import serve


def answer(n: int, size: int = 10) -> Cached:
    """An answer of `size` bytes that does not compress (the shared file counts stored bytes)."""
    return Cached(random.Random(n).randbytes(size), "text/plain", (("X-Kouiki-Rows", str(n)),))


def test_what_one_process_cached_the_other_reads(tmp_path):
    path = tmp_path / "cache" / "answers.sqlite"
    first = AnswerCache(1_000_000, 100_000, SharedAnswers(path, 1_000_000))
    second = AnswerCache(1_000_000, 100_000, SharedAnswers(path, 1_000_000))
    assert second.get("k") is None
    first.put("k", answer(1))
    assert second.get("k") == answer(1)  # body, type and headers as they were
    assert second.stats()["shared_hits"] == 1
    assert second.get("k") == answer(1) and second.stats()["hits"] == 1  # now from its own memory
    assert AnswerCache(0, 1, SharedAnswers(path, 1_000_000)).get("k") == answer(1)  # also with no memory cache


def test_the_shared_file_keeps_the_newest_answers_within_its_size(tmp_path):
    shared = SharedAnswers(tmp_path / "answers.sqlite", 16 * 1000)  # entries up to 1,000 bytes stored
    for n in range(64):
        shared.put(f"k{n}", answer(n, 980))  # 991 bytes compressed: zlib adds a little to noise
    kept = [n for n in range(64) if shared.get(f"k{n}") is not None]
    assert 14 <= len(kept) <= 16  # over 16,000 bytes, trimmed to 14,400
    assert kept == list(range(kept[0], 64))  # the oldest went first
    sizes = shared._db().execute("SELECT SUM(size), COUNT(*) FROM answers").fetchone()
    assert shared.totals() == (sizes[0], 64 * 991) and sizes[1] == len(kept)  # the running totals are right
    shared.put("k63", answer(0, 500))
    assert shared.totals()[1] == 64 * 991  # an answer already there is not written again
    shared.put("big", answer(0, 1001))
    assert shared.get("big") is None  # an answer bigger than a sixteenth of the file is not kept


def test_a_file_from_before_the_running_totals_is_counted_once(tmp_path):
    path = tmp_path / "answers.sqlite"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE answers (key TEXT PRIMARY KEY, size INTEGER, content_type TEXT, headers TEXT, body BLOB)")
    old.executemany("INSERT INTO answers VALUES (?, ?, 'text/plain', '[]', ?)",
                    [(f"k{n}", 900, zlib.compress(b"x")) for n in range(10)])
    old.commit()
    old.close()
    first, second = SharedAnswers(path, 16 * 1000), SharedAnswers(path, 16 * 1000)
    assert first.totals() == second.totals() == (9000, 9000)
    first.put("new", answer(1, 980))
    assert second.totals() == (9991, 9991)


def test_the_shared_file_stores_answers_compressed(tmp_path):
    shared = SharedAnswers(tmp_path / "answers.sqlite", 16 * 1000)
    page = Cached(("<tr><td>八戸市</td></tr>\n" * 2000).encode(), "text/html", (("Vary", "Accept"),))
    assert len(page.body) > 16 * 1000 // 16  # too big to keep as it is
    shared.put("page", page)
    assert shared.get("page") == page
    stored = shared._db().execute("SELECT size, length(body) FROM answers WHERE key = 'page'").fetchone()
    assert stored[0] == stored[1] < len(page.body) // 10
    # a body written uncompressed (by an older version) is a miss, not an error
    shared._db().execute("INSERT INTO answers VALUES ('old', 5, 'text/plain', '[]', x'6f6c6421')")
    assert shared.get("old") is None


def test_a_cache_that_cannot_be_written_is_a_miss_not_an_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = AnswerCache(1_000_000, 100_000, SharedAnswers(blocker / "cache" / "answers.sqlite", 1_000_000))
    cache.put("k", answer(1))  # the shared part fails quietly; memory still works
    assert cache.get("k") == answer(1) and cache.get("other") is None
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not a database" * 100)
    broken = SharedAnswers(corrupt, 1_000_000)
    broken.put("k", answer(1))
    assert broken.get("k") is None


def test_concurrent_requests_for_one_answer_share_one_making():
    cache = AnswerCache(1_000_000, 100_000)
    made, started = [], threading.Barrier(6)

    def slow(n: int):
        def make() -> Cached:
            made.append(n)
            time.sleep(0.5)  # the others ask meanwhile
            return answer(n)
        started.wait()
        return cache.get_or_make("k", make)

    with ThreadPoolExecutor(6) as threads:
        results = list(threads.map(slow, range(6)))
    assert len(made) == 1
    assert [value for value, _ in results] == [answer(made[0])] * 6
    assert sorted(fresh for _, fresh in results) == [False] * 5 + [True]  # made once, for one of them
    assert cache.stats()["joined"] == 5
    assert cache.get_or_make("k", lambda: answer(99)) == (answer(made[0]), False)  # then kept


def test_a_failed_making_fails_the_requests_that_waited_for_it_and_is_not_kept():
    cache = AnswerCache(1_000_000, 100_000)
    calls, started = [], threading.Barrier(4)

    def failing() -> Cached:
        calls.append(1)
        time.sleep(0.5)
        raise TimeoutError("too slow")

    def ask(_):
        started.wait()
        with pytest.raises(TimeoutError, match="too slow"):
            cache.get_or_make("k", failing)

    with ThreadPoolExecutor(4) as threads:
        list(threads.map(ask, range(4)))
    assert len(calls) == 1
    assert cache.get_or_make("k", lambda: answer(2)) == (answer(2), True)  # the next request tries again
    # requests that differ in what they share by (a query's own time limit) do not wait for each other
    assert cache.get_or_make("other", lambda: answer(3), shared_by="other 1.0") == (answer(3), True)


def test_the_same_slow_query_sent_at_once_runs_once(store, store_dir):
    """Eight clients sending the query a portal sends, right after a build: one evaluation (one
    worker killed at the limit), not eight sharing the CPU."""
    from .test_hostile import EXPLOSIVE

    from kouiki_kg.views.sparql import prepare_queries

    server = serve(Config(root=ROOT, store_dir=store_dir, query_workers=8))
    # as the real server does before /health says ready: on CI's 2 cores, eight workers still
    # starting took longer than the query's 1 s limit and every client was told "busy"
    prepare_queries(server.app)
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        query = {"query": EXPLOSIVE + " # test_cache once", "timeout": "1"}
        barrier = threading.Barrier(8)

        def send(_):
            barrier.wait()
            return requests.get(base + "/sparql", params=query, headers={"Accept": "application/json"}, timeout=30)

        with ThreadPoolExecutor(8) as threads:
            answers = list(threads.map(send, range(8)))
        assert [a.status_code for a in answers] == [503] * 8
        assert {a.json()["error"] for a in answers} == {"query_timeout"}
        health = requests.get(base + "/health", timeout=30).json()
        assert health["query_workers"]["killed_for_timeout"] == 1
        assert health["answer_cache"]["joined"] == 7
    finally:
        server.shutdown()


def test_two_servers_on_one_store_share_their_answers(store, store_dir):
    # two app instances = two web processes of one server: each has its own memory cache
    servers = [serve(Config(root=ROOT, store_dir=store_dir)) for _ in range(2)]
    try:
        urls = [f"http://127.0.0.1:{s.server_port}/sparql" for s in servers]
        query = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s kk:localGovernmentCode ?c } # test_cache"}
        accept = {"Accept": "text/csv"}
        first = requests.get(urls[0], params=query, headers=accept, timeout=30)
        other = requests.get(urls[1], params=query, headers=accept, timeout=30)
        assert first.headers["X-Kouiki-Cache"] == "miss" and other.headers["X-Kouiki-Cache"] == "hit"
        assert other.content == first.content and other.headers["ETag"] == first.headers["ETag"]
        assert (store_dir / "cache" / "answers.sqlite").is_file()
        stats = requests.get(urls[1].replace("/sparql", "/health"), timeout=30).json()["answer_cache"]
        assert stats["shared"] and stats["shared_hits"] >= 1
    finally:
        for s in servers:
            s.shutdown()


def test_a_server_upgraded_without_a_rebuild_does_not_answer_with_the_old_codes_pages(store, store_dir, monkeypatch):
    # the disk cache survives a restart, and clients and proxies revalidate with the ETag
    html = {"Accept": "text/html"}
    path = "/id/lg/022039?lang=en&test=upgrade"
    before = create_app(Config(root=ROOT, store_dir=store_dir)).test_client().get(path, headers=html)
    monkeypatch.setattr(web, "_CODE", web.code_digest() + b"a changed template")
    after = create_app(Config(root=ROOT, store_dir=store_dir)).test_client()
    page = after.get(path, headers=html)
    assert page.headers["ETag"] != before.headers["ETag"]
    assert after.get("/health").get_json()["answer_cache"]["shared_hits"] == 0  # made again, not read from disk
    assert after.get(path, headers={**html, "If-None-Match": before.headers["ETag"]}).status_code == 200


def test_the_code_digest_covers_code_and_templates(tmp_path):
    package = Path(web.__file__).parent
    copy = tmp_path / "kouiki_kg"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert web.code_digest(copy) == web.code_digest(package)
    for changed in ("templates/concept.html", "i18n.py"):
        (copy / changed).write_text((copy / changed).read_text() + "\n")
        assert web.code_digest(copy) != web.code_digest(package), changed
        shutil.copy(package / changed, copy / changed)


def test_a_page_cached_for_one_host_is_not_served_to_another(store, store_dir):
    # a page names its own URL (schema.org): behind a proxy and on 127.0.0.1 it is two answers
    client = create_app(Config(root=ROOT, store_dir=store_dir, allowed_hosts=("one.example", "two.example"))).test_client()
    pages = {host: client.get("/id/lg/022039", base_url=f"http://{host}", headers={"Accept": "text/html"}).data.decode()
             for host in ("one.example", "two.example", "one.example:8080")}
    for host, html in pages.items():
        assert f'"http://{host}/id/lg/022039"' in html, host
        assert all(f"http://{other}/" not in html for other in pages if other != host and not other.startswith(host)), host


def test_the_home_page_and_the_dataset_description_are_made_once_per_build(store, store_dir):
    app = create_app(Config(root=ROOT, store_dir=store_dir, shared_cache_bytes=0,
                            allowed_hosts=("one.example", "two.example")))
    client = app.test_client()
    for path, headers in (("/", {"Accept": "text/html"}), ("/?page=2", {"Accept": "text/html"}),
                          ("/dataset", {"Accept": "text/turtle"}), ("/dataset?format=html", {})):
        first = client.get(path, headers=headers)
        made = app.extensions["kouiki.cache"].stats()
        again = client.get(path, headers=headers)
        after = app.extensions["kouiki.cache"].stats()
        assert first.status_code == again.status_code == 200, path
        assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"], path
        assert (after["hits"], after["entries"]) == (made["hits"] + 1, made["entries"]), path
    # the home page names its own URL: one answer per host
    pages = {host: client.get("/", base_url=f"http://{host}", headers={"Accept": "text/html"}).data.decode()
             for host in ("one.example", "two.example")}
    assert '"http://one.example/"' in pages["one.example"] and "two.example" not in pages["one.example"]
    assert '"http://two.example/"' in pages["two.example"] and "one.example" not in pages["two.example"]


def test_a_tracking_parameter_of_one_visit_is_not_in_the_page_everyone_gets(store, store_dir):
    client = create_app(Config(root=ROOT, store_dir=store_dir, shared_cache_bytes=0)).test_client()
    for path in ("/id/lg/022039", "/"):
        first = client.get(path + "?utm_source=newsletter&page=1", headers={"Accept": "text/html"}).data.decode()
        later = client.get(path, headers={"Accept": "text/html"}).data.decode()
        assert "utm_source" not in first and "utm_source" not in later, path
        assert 'href="?page=1&amp;lang=en"' in first, path  # what selects the content is kept
    query_page = client.get("/sparql?query=ASK+%7B%7D&utm_source=x", headers={"Accept": "text/html"}).data.decode()
    assert 'href="?query=ASK+%7B%7D&amp;lang=en"' in query_page


def test_a_web_process_makes_one_page_at_a_time_and_serves_cached_ones_meanwhile(store_dir, monkeypatch):
    """Pages made in threads at once each waited for the GIL at every store call (web.remembered):
    on the embedded store they are made one after another, while answers already made are served."""
    from kouiki_kg import pages

    app = create_app(Config.from_env(root=ROOT, store_dir=store_dir, shared_cache_bytes=0))
    client = app.test_client(use_cookies=False)
    assert client.get("/id/lg/022039", headers={"Accept": "text/html"}).status_code == 200  # made, now cached
    making, spans = pages.initiative, []

    def slow(*args, **kwargs):
        started = time.monotonic()
        time.sleep(0.3)
        try:
            return making(*args, **kwargs)
        finally:
            spans.append((started, time.monotonic()))

    monkeypatch.setattr(pages, "initiative", slow)

    def get(path: str) -> tuple[int, float]:
        started = time.monotonic()
        status = app.test_client(use_cookies=False).get(path, headers={"Accept": "text/html"}).status_code
        return status, time.monotonic() - started

    with ThreadPoolExecutor(3) as pool:
        made = [pool.submit(get, f"/id/initiative/{name}") for name in ("hachinohe-bus-network", "koryo-facility-sharing")]
        time.sleep(0.1)
        cached = pool.submit(get, "/id/lg/022039")
        assert cached.result()[0] == 200 and cached.result()[1] < 0.25  # not behind the pages being made
        assert [f.result()[0] for f in made] == [200, 200]
    (first_start, first_end), (second_start, second_end) = sorted(spans)
    assert second_start >= first_end  # one after the other, never interleaved
