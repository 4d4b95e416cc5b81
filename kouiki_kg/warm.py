"""Pages made in advance: a pass at the lowest CPU priority over every page of the build served.

A page nobody has asked for since the build is rendered on its first request (decision 20):
6–7 ms of Python, and 30–45 ms at the median when eight crawlers ask for pages nobody has seen
on two cores. The warmer asks the app itself for every page the sitemap lists, in each
language, as a visitor on the public URL would (pages name their own URL, so they are kept per
host), and each page lands in the shared disk cache (decision 15) under the key that visitor's
request looks up, made by the same code. It never makes the cache drop its own pages to take
more: it stops once what was put there since it started reaches FILL of the cache's size (a
full cache keeps the newest nine tenths), and says how much the rest would need.

`kouiki-kg warm` runs one pass; `kouiki-kg serve --warm` runs one for each build it serves.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import signal
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from .cache import WARM_STATUS_FILE
from .config import Config
from .errors import ApiError
from .i18n import LANGS

FILL = 0.8  # of the shared cache a pass may fill: room stays for the answers visitors make meanwhile
PROGRESS_EVERY = 2.0  # seconds between status writes


class WarmError(Exception):
    """Nothing can be warmed (no store, no shared cache, a bad URL); in Japanese and English."""

    def __init__(self, ja: str, en: str):
        super().__init__(en)
        self.ja, self.en = ja, en


@dataclass
class WarmReport:
    build: str
    url: str
    pages: int  # pages × languages to make
    done: int = 0
    made: int = 0  # rendered by this pass
    found: int = 0  # already in the shared cache
    failed: list[tuple[str, str, int]] = field(default_factory=list)  # (path, language, HTTP status)
    full: bool = False  # stopped: the cache would have had to drop pages to take more
    stored_bytes: int = 0  # what this pass (and visitors meanwhile) put in the shared cache
    seconds: float = 0.0
    state: str = "running"  # running, done, full, stopped

    def needed_bytes(self) -> int:
        """About how much shared cache every page would take, from what the made ones took."""
        return round(self.stored_bytes / self.made * self.pages) if self.made else 0


def public_url(url: str) -> str:
    """The URL root visitors use, as `request.url_root` gives it: scheme, host, path ending in /."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise WarmError(f"公開 URL は http(s)://ホスト/ の形で指定してください（{url!r}）。",
                        f"The public URL must look like http(s)://host/ (got {url!r}).")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}/"


def warm(config: Config, url: str, langs: tuple[str, ...] = LANGS, jobs: int = 1, lowest_priority: bool = True,
         progress: Callable[[WarmReport], None] | None = None, parent: int | None = None) -> WarmReport:
    """Ask for every listed page of the build being served, in each language, so that each is in
    the shared disk cache. `jobs` processes share the pages (with one, this process makes them,
    and with `lowest_priority` it stays at nice 19 afterwards); `parent`: stop if this process's
    parent is no longer that one (the server that started the pass has gone)."""
    url = public_url(url)
    if config.shared_cache_bytes <= 0:
        raise WarmError("共有キャッシュが無効です（KOUIKI_SHARED_CACHE_BYTES=0）。作ったページを置く場所がありません。",
                        "The shared cache is off (KOUIKI_SHARED_CACHE_BYTES=0): there is nowhere to keep the pages.")
    started = time.monotonic()
    config = replace(config, cache_bytes=0)  # the warmer keeps nothing in memory: visitors read the disk cache
    app = _app(config, url)
    from . import web

    with app.test_request_context(base_url=url):
        try:
            build, _ = web.current()
            paths, _ = web.reader().listings.pages(0, 1 << 40)
        except ApiError as err:
            raise WarmError(err.ja, err.en) from None
        shared = web.answer_cache().shared
        since = shared.totals()[1]
    report = WarmReport(build=build.name, url=url, pages=len(paths) * len(langs))
    status = config.store_dir / "cache" / WARM_STATUS_FILE
    budget = int(config.shared_cache_bytes * FILL)

    last = [0.0]

    def report_now(every: float = 0.0) -> None:
        """Write the status (and tell `progress`), at most every `every` seconds."""
        if time.monotonic() - last[0] < every:
            return
        last[0] = time.monotonic()
        report.stored_bytes = shared.totals()[1] - since
        report.seconds = round(time.monotonic() - started, 1)
        write_status(status, report)
        if progress is not None:
            progress(report)

    shares = [paths[i::jobs] for i in range(jobs)]
    if jobs == 1:
        counts = _warm_share(config, url, langs, shares[0], budget, since, lowest_priority, parent, None, None,
                             lambda done: _tick(report, done, report_now))
        results = [counts]
    else:
        context = multiprocessing.get_context("spawn")  # the store is open here: never fork
        done, stop, answers = context.Value("q", 0), context.Event(), context.Queue()
        workers = [context.Process(target=_share_worker, name=f"warm-{i}", daemon=True,
                                   args=(answers, config, url, langs, share, budget, since, lowest_priority, os.getpid(),
                                         stop, done))
                   for i, share in enumerate(shares)]
        for worker in workers:
            worker.start()
        results = []
        try:
            while len(results) < jobs:
                try:
                    results.append(answers.get(timeout=2))
                except queue.Empty:  # meanwhile: report progress, and notice a worker that died
                    if parent is not None and os.getppid() != parent:
                        break
                    if not any(w.is_alive() for w in workers) and answers.empty():
                        break
                report.done = done.value
                report_now(every=PROGRESS_EVERY)
        finally:
            stop.set()
            for worker in workers:
                worker.join(timeout=30)
                if worker.is_alive():
                    worker.terminate()
    for counts in results:
        report.made += counts["made"]
        report.found += counts["found"]
        report.failed += [tuple(f) for f in counts["failed"]]
        report.full = report.full or counts["full"]
    report.done = report.made + report.found + len(report.failed)
    report.state = "full" if report.full else "done" if report.done >= report.pages else "stopped"
    report_now()
    return report


def _tick(report: WarmReport, done: int, report_now: Callable[..., None]) -> None:
    report.done = done
    report_now(every=PROGRESS_EVERY)


def _share_worker(answers, *args) -> None:
    answers.put(_warm_share(*args))


def _app(config: Config, url: str):
    """The app, answering to the URL the pages are made for (as the server does: hosts.py)."""
    from .app import create_app

    return create_app(replace(config, allowed_hosts=(*config.allowed_hosts, urlsplit(url).netloc)))


def _warm_share(config: Config, url: str, langs: tuple[str, ...], paths: list[str], budget: int, since: int,
                lowest_priority: bool, parent: int | None, stop, done, on_progress=None) -> dict:
    """One process's share of the pages: ask the app for each, as a visitor would."""
    if lowest_priority:
        os.nice(19)  # visitors first: this pass only takes CPU they leave idle
    app = _app(config, url)
    from . import web

    with app.app_context():
        cache = web.answer_cache()  # the one the app's requests use
    client = app.test_client()
    counts = {"made": 0, "found": 0, "failed": [], "full": False}
    asked = 0
    for path in paths:
        if (stop is not None and stop.is_set()) or (parent is not None and os.getppid() != parent):
            break
        if cache.shared.totals()[1] - since >= budget:  # one row read: looked at before every page
            counts["full"] = True
            if stop is not None:
                stop.set()  # the other processes stop too: the cache is one file
            break
        if on_progress is not None:
            on_progress(asked)
        for lang in langs:
            hits = cache.shared_hits
            response = client.get(path, base_url=url, headers={"Accept": "text/html", "Accept-Language": lang})
            response.close()
            asked += 1
            if done is not None:
                with done.get_lock():
                    done.value += 1
            if response.status_code != 200:
                counts["failed"].append((path, lang, response.status_code))
            elif cache.shared_hits > hits:
                counts["found"] += 1
            else:
                counts["made"] += 1
    return counts


def write_status(path: Path, report: WarmReport) -> None:
    """The pass as JSON, replaced whole (a reader never sees half of it)."""
    body = {**asdict(report), "failed": len(report.failed), "needed_bytes": report.needed_bytes(),
            "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(body, ensure_ascii=False))
        temporary.replace(path)
    except OSError:
        pass  # the status is for people to look at; the pass goes on without it


def follow(config: Config, url: str, langs: tuple[str, ...] = LANGS, jobs: int = 1, poll: float = 2.0,
           parent: int | None = None, log: Callable[[str], None] = lambda line: None) -> None:
    """Warm each build as it is served (after every ingest's rebuild), until the server that
    started this (`parent`) has gone."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # the server stopping: let the pass's processes go
    app = _app(config, url)
    from . import web

    warmed = None
    while parent is None or os.getppid() == parent:
        with app.test_request_context(base_url=public_url(url)):
            try:
                build = web.current()[0]
            except ApiError:
                build = None
        if build is not None and build != warmed:
            try:
                report = warm(config, url, langs, jobs, parent=parent)
                log(summary(report, "en"))
            except WarmError as err:
                log(f"warm: {err.en}")
            except Exception as err:  # noqa: BLE001 — a failed pass must not stop the next build's
                log(f"warm: the pass over build {build.name} failed: {err!r}")
            warmed = build
        time.sleep(poll)


def summary(report: WarmReport, lang: str = "en") -> str:
    """One paragraph a person reads at the end of a pass."""
    mb = report.needed_bytes() / 1e6
    if lang == "ja":
        text = (f"{report.url} 向けにビルド {report.build} のページを {report.seconds:g} 秒で {report.done:,} / {report.pages:,} 件"
                f"用意しました（新たに作成 {report.made:,}、キャッシュ済み {report.found:,}、失敗 {len(report.failed):,}）。")
        if report.full:
            text += (f" 共有キャッシュが一杯になったため止めました。全ページには約 {mb:,.0f} MB 必要です："
                     "KOUIKI_SHARED_CACHE_BYTES を増やしてください。")
        return text
    text = (f"Warmed {report.done:,} of {report.pages:,} pages of build {report.build} for {report.url} in "
            f"{report.seconds:g} s ({report.made:,} made, {report.found:,} already cached, {len(report.failed):,} failed).")
    if report.full:
        text += (f" Stopped: the shared cache is full. Every page would take about {mb:,.0f} MB: "
                 "raise KOUIKI_SHARED_CACHE_BYTES.")
    return text
