"""Run the app under gunicorn, in the same configuration the README documents for production.

Gunicorn's asyncio worker reads each request — headers and body — before a thread sees it
(`WholeRequests`), so slow or idle clients cost a few kilobytes of the event loop, not a
request thread (with `gthread`, 28 connections sending a header line every 3 s held every
thread). The Flask app then runs in a2wsgi's thread pool, one thread per request in hand.
Gunicorn processes with many threads each: SPARQL requests mostly wait on the query worker
pool (which gives the CPU parallelism and the hard time limits), so threads are cheap; pages
are rendered in the web process itself, under its GIL, so page-heavy sites run one web
process per CPU (KOUIKI_WEB_WORKERS). The query workers are shared out among the web
processes, each of which keeps its own pool and answer cache. With KOUIKI_WARM_URL (`serve
--warm`), the master also starts a process that makes every page in advance (warm.py).
"""

from __future__ import annotations

import asyncio
import gc
import io
import multiprocessing
import os
import sys
import threading
import time
from typing import Callable, TextIO

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import build_environ
from flask import Flask, request
from gunicorn.app.base import BaseApplication

from . import maps, warm
from .app import compile_templates, create_app
from .config import Config
from .errors import ApiError
from .views.home import prepare_home
from .views.sparql import prepare_queries
from .views.validate import prepare_checks


class _Gunicorn(BaseApplication):
    def __init__(self, app, options: dict):
        self.application, self.options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


# Request threads per web process (`serve --threads`): requests mostly wait on the query pool,
# and 16 were all held by 16 slow queries.
REQUEST_THREADS = 64


class ConnectionShares:
    """Keeps client connections even between the web processes of one server.

    A keep-alive connection stays with the process that accepted it (clients connecting at once
    mostly go to one: it accepts all that is waiting), and a process makes one page at a time:
    six clients of eight on one process wait on one CPU while the other is half idle. Each
    process writes how many connections it holds into memory shared by the processes gunicorn
    forks; one holding more than its share answers with `Connection: close`, and the client
    reconnects to whichever process accepts first (architecture §14). The table is made before
    the fork (`serve`, and `preload_app` below for `gunicorn -c python:kouiki_kg.serving`);
    otherwise each process sees only itself and closes nothing.
    """

    SETTLE = 0.05  # seconds between two closes by one process: a closed connection takes a moment to leave its count

    def __init__(self, processes: int):
        context = multiprocessing.get_context("fork")  # shared with the processes forked after it
        self.slots = 2 * processes + 2  # room for replacements starting before the replaced have gone
        self._table = context.RawArray("q", 2 * self.slots)  # per process: pid, connections held
        self._lock = context.Lock()
        self._slot: int | None = None
        self._connections: Callable[[], int] | None = None  # this process's count of open connections
        self._last_close = 0.0

    def join(self, connections: Callable[[], int]) -> None:
        """In a web process as it starts: free the slots of processes that have gone (killed, so
        `leave` never ran), then take a free one. `connections()` says how many connections this
        process holds."""
        with self._lock:
            for slot in range(self.slots):
                pid = self._table[2 * slot]
                if pid and not _alive(pid):
                    self._table[2 * slot] = self._table[2 * slot + 1] = 0
            for slot in range(self.slots):
                if self._table[2 * slot] == 0:
                    self._table[2 * slot], self._table[2 * slot + 1] = os.getpid(), 0
                    self._slot, self._connections = slot, connections
                    return

    def leave(self) -> None:
        if self._slot is not None:
            self._table[2 * self._slot] = self._table[2 * self._slot + 1] = 0
            self._slot = None

    def over_share(self) -> bool:
        """Whether this process holds more than its share of the connections (ceiling of the
        total over the processes); publishes its own count first."""
        if self._slot is None:
            return False
        table, mine = self._table, self._connections()
        table[2 * self._slot + 1] = mine
        total = processes = 0
        for slot in range(self.slots):
            if table[2 * slot]:
                processes += 1
                total += table[2 * slot + 1]
        if processes < 2 or mine <= -(-total // processes):
            return False
        now = time.monotonic()
        if now - self._last_close < self.SETTLE:
            return False
        self._last_close = now
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:  # gone (or its pid taken by someone else's process)
        return False


class WholeRequests:
    """The ASGI app gunicorn runs: the WSGI app behind a wait for each request's whole body.

    Gunicorn's asyncio worker hands over a request once its headers are in; the body is read
    here, on the event loop, up to the upload limit, and only then does a thread run the Flask
    app on it. A body that has not arrived within KOUIKI_BODY_TIMEOUT (nginx's client_body_timeout
    is 60 s between two reads; ours bounds the whole body) reaches the app marked
    incomplete (408 from `refuse_incomplete_bodies`, in our error shape). A body past the limit
    is passed on as it comes, for the app to refuse with 413 (it does so from Content-Length
    before reading; a chunked one is refused as it reads past the limit).
    """

    def __init__(self, app: Flask, threads: int, access_log: "AccessLog | None" = None,
                 shares: ConnectionShares | None = None):
        self.app = app
        self.shares = shares
        self.max_body = app.config["KOUIKI"].max_upload
        self.body_timeout = app.config["KOUIKI"].body_timeout
        self.wsgi = WSGIMiddleware(app, workers=threads)  # bodies past the limit, and lifespan
        self.threads = self.wsgi.executor  # one pool of request threads for both ways
        self.access_log = access_log

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":  # lifespan: a2wsgi answers it
            return await self.wsgi(scope, receive, send)
        if self.access_log is not None:
            send = self.access_log.logging(scope, send)
        arrived: list[dict] = []
        try:
            async with asyncio.timeout(self.body_timeout):
                size, more = 0, True
                while more and size <= self.max_body:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return  # the client left: nobody to answer
                    arrived.append(message)
                    size += len(message.get("body", b""))
                    more = message.get("more_body", False)
        except TimeoutError:
            scope = {**scope, "kouiki.incomplete_body": True}
            arrived, more = [{"type": "http.request", "body": b"", "more_body": False}], False

        if not more:  # the whole body is here: one trip to a thread and back
            return await self._answer(scope, b"".join(m.get("body", b"") for m in arrived), send)

        async def replay():
            if arrived:
                return arrived.pop(0)
            return await receive()

        await self.wsgi(scope, replay, send)

    # The answer crosses from the request thread to the event loop once when it is small (most
    # are: cached bytes), rather than once for its start, each chunk and its end as a2wsgi sends
    # them: that cost 0.55 ms a request on an idle server and twice the p50 of cached answers
    # under load (bench/front.py). Larger answers (dumps) stream a chunk per crossing.
    WHOLE = 1 << 20

    async def _answer(self, scope, body: bytes, send) -> None:
        loop = asyncio.get_running_loop()
        environ = build_environ(scope, io.BytesIO(body))
        status, headers, chunks, rest, iterable = await loop.run_in_executor(self.threads, self._run, environ)
        if (self.shares is not None and scope.get("http_version") == "1.1" and self.shares.over_share()
                and not any(name == b"connection" for name, _ in headers)):
            headers.append((b"connection", b"close"))  # this process holds more than its share: reconnect
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if rest is None:  # all of it: one message
            return await send({"type": "http.response.body", "body": b"".join(chunks)})
        try:
            for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            while rest is not None:
                chunk = await loop.run_in_executor(self.threads, next, rest, None)
                if chunk is None:
                    break
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            if rest is not None:  # WSGI's close(), in a thread like the rest of the answer
                await loop.run_in_executor(self.threads, getattr(iterable, "close", lambda: None))

    def _run(self, environ: dict):
        """In a request thread: the WSGI app's status, headers, the answer's first chunks (all of
        it when under WHOLE bytes), and the iterator of the rest with its iterable (None when
        there is no rest: the iterable is then closed)."""
        started: list = []

        def start_response(status, response_headers, exc_info=None):
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [int(status.split(" ", 1)[0]),
                          [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response_headers]]
            return chunks.append  # the legacy write() callable

        chunks: list[bytes] = []
        iterable = self.app(environ, start_response)
        iterator, size = iter(iterable), 0
        try:
            for chunk in iterator:
                if chunk:
                    chunks.append(chunk)
                    size += len(chunk)
                if size > self.WHOLE:
                    return (*started, chunks, iterator, iterable)
        except BaseException:
            getattr(iterable, "close", lambda: None)()
            raise
        getattr(iterable, "close", lambda: None)()
        return (*started, chunks, None, None)


class AccessLog:
    """One line per answer in gunicorn's default access-log format (Apache's combined format
    without the user: `host - - [time] "request line" status bytes "referer" "user agent"`),
    written by the event loop as the answer's last bytes go out.

    Gunicorn's own access log builds a WSGI environ, a dict of twenty fields and a logging
    record for each line: 100-150 µs of a light query's ~1.5 ms of CPU (one client, the log on
    and off, three runs each way); this writes the same line in a few µs. A log that cannot be
    written (a closed pipe) never costs an answer.
    """

    def __init__(self, stream: TextIO):
        self.stream = stream
        self._second, self._stamp = -1, ""

    def logging(self, scope: dict, send):
        """`send`, noting the status and size of the answer it carries, and logging it once sent."""
        status, size = 0, 0

        async def send_and_log(message: dict) -> None:
            nonlocal status, size
            await send(message)
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if not message.get("more_body", False):
                    self.write(scope, status, size)

        return send_and_log

    def write(self, scope: dict, status: int, size: int) -> None:
        second = int(time.time())
        if second != self._second:  # the time stamp changes once a second
            self._second, self._stamp = second, time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(second))
        referer = agent = "-"
        for name, value in scope["headers"]:
            if name == b"referer":
                referer = value.decode("latin-1")
            elif name == b"user-agent":
                agent = value.decode("latin-1")
        target = scope.get("raw_path") or scope["path"].encode("utf-8")
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        request_line = f"{scope['method']} {target.decode('latin-1')} HTTP/{scope.get('http_version', '1.1')}"
        host = (scope.get("client") or ("-",))[0]
        try:
            self.stream.write(f'{host} - - {self._stamp} "{_quoted(request_line)}" {status} {size or "-"} '
                              f'"{_quoted(referer)}" "{_quoted(agent)}"\n')
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: the answer has gone out anyway
            pass


def _quoted(text: str) -> str:
    return text.replace('"', '\\"')  # as gunicorn's log does


def refuse_incomplete_bodies(app: Flask) -> None:
    """A request whose body did not arrive in time (WholeRequests) is answered 408, closing."""

    @app.before_request
    def body_arrived():
        if request.environ.get("asgi.scope", {}).get("kouiki.incomplete_body"):
            seconds = f"{app.config['KOUIKI'].body_timeout:g}"
            raise ApiError(408, "request_timeout",
                           f"リクエストの本体が {seconds} 秒以内に届きませんでした。もう一度送ってください。",
                           f"The request body did not arrive within {seconds} s; send the request again.",
                           {"Connection": "close"})


def asgi_app(app: Flask, threads: int, access_log: TextIO | None = None) -> WholeRequests:
    """The app as gunicorn's asyncio worker runs it; `access_log`: where to write a line per
    answer (None: none of ours; gunicorn's --access-logfile still works). With more than one web
    process (KOUIKI_WEB_WORKERS), they keep their connections even (ConnectionShares)."""
    refuse_incomplete_bodies(app)
    processes = app.config["KOUIKI"].web_workers
    return WholeRequests(app, threads, AccessLog(access_log) if access_log is not None else None,
                         ConnectionShares(processes) if processes > 1 else None)


def gunicorn_options(host: str, port: int, threads: int, workers: int = 1) -> dict:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": worker_class,
        "worker_connections": worker_connections,
        "timeout": 60,  # the worker's heartbeat, and how long a started body may stall
        "graceful_timeout": 10,
        "limit_request_line": 8190,  # longer GET queries: use POST
        "control_socket_disable": control_socket_disable,
    }


# A request crosses threads twice (event loop → request thread → loop); each crossing may wait
# for the GIL, which Python hands over every 5 ms by default. At 0.2 ms the p50 of cheap queries
# at c=8 came within 1.2-1.3x of gthread's (1.75x at 1 ms), pages as fast (bench/front.py).
SWITCH_INTERVAL = 0.0002

# Settings of this module also read by `gunicorn -c python:kouiki_kg.serving … server:asgi`.
worker_class = "asgi"
# The app is made once, in the master, before the web processes are forked, as `serve` does:
# they share its memory, and the table that keeps their connections even (ConnectionShares).
preload_app = True
# Open connections per web process, idle and slow ones included (a few kB each); past this,
# new connections wait in the listen queue. A public site puts nginx in front (deployment.md).
worker_connections = 2000


# Gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl): two servers
# on a machine shared it, and the first to stop removed the other's. Ours need none. (Also read
# by `gunicorn -c python:kouiki_kg.serving`, as a setting of this module.)
control_socket_disable = True


def post_worker_init(worker) -> None:
    """Gunicorn hook, in each web process as it starts: the query workers start and open the store,
    the steward-check worker parses the project and the home page's map is made, now rather than
    at the first query, check or visit; the maps' outlines are read and the templates compiled
    before the process takes a connection. Also for
    `gunicorn -c python:kouiki_kg.serving`."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    served = getattr(worker, "asgi", None) or worker.wsgi  # server:asgi, or server:app under a WSGI worker
    app = served.app if isinstance(served, WholeRequests) else served
    if isinstance(served, WholeRequests) and served.shares is not None:
        served.shares.join(lambda: worker.nr_conns)  # the asyncio worker's count of open connections
    maps.prepare()
    compile_templates(app)
    # What the process holds by now (the app, its templates, the maps' outlines) lives as long as
    # it does: moved out of the collector's sight, so that a full collection walks only what came
    # after. Walking ~100,000 objects paused a page's render for 30-40 ms, a few times in every
    # thousand pages (docs/benchmarks.md, session 39).
    gc.freeze()
    threading.Thread(target=prepare_queries, args=(app,), name="prepare-queries", daemon=True).start()
    threading.Thread(target=prepare_checks, args=(app,), name="prepare-checks", daemon=True).start()
    threading.Thread(target=prepare_home, args=(app,), name="prepare-home", daemon=True).start()


def worker_exit(server, worker) -> None:
    """Gunicorn hook, in a web process as it stops: its connections leave the shared count."""
    served = getattr(worker, "asgi", None)
    if isinstance(served, WholeRequests) and served.shares is not None:
        served.shares.leave()


def when_ready(server) -> None:
    """Gunicorn hook, in the master once it listens (for `gunicorn -c python:kouiki_kg.serving`)."""
    start_warmer(server, Config.from_env())


def start_warmer(server, config: Config) -> None:
    """With KOUIKI_WARM_URL (`serve --warm`), start the process that makes every page of each
    build in advance for that URL (warm.py), one job per web process, at the lowest priority.
    Spawned, not forked, and before the web processes are forked: the master must never open
    the store."""
    if config.warm_url is None:
        return
    server.kouiki_warmer = multiprocessing.get_context("spawn").Process(
        target=warm.follow, name="kouiki-warm", args=(config, config.warm_url),
        kwargs={"jobs": config.web_workers, "parent": os.getpid(), "log": _log})
    server.kouiki_warmer.start()


def on_exit(server) -> None:
    """Gunicorn hook, in the master as it stops: the pass goes with it."""
    warmer = getattr(server, "kouiki_warmer", None)
    if warmer is not None:
        warmer.terminate()
        warmer.join(timeout=10)


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def serve(config: Config, host: str, port: int, threads: int = REQUEST_THREADS) -> None:
    options = {**gunicorn_options(host, port, threads, config.web_workers), "post_worker_init": post_worker_init,
               "worker_exit": worker_exit, "when_ready": lambda server: start_warmer(server, config), "on_exit": on_exit}
    _Gunicorn(asgi_app(create_app(config), threads, access_log=sys.stdout), options).run()
