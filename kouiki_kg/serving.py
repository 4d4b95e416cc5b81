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
import multiprocessing
import os
import sys
import threading

from a2wsgi import WSGIMiddleware
from flask import Flask, request
from gunicorn.app.base import BaseApplication

from . import warm
from .app import create_app
from .config import Config
from .errors import ApiError
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

    def __init__(self, app: Flask, threads: int):
        self.max_body = app.config["KOUIKI"].max_upload
        self.body_timeout = app.config["KOUIKI"].body_timeout
        self.wsgi = WSGIMiddleware(app, workers=threads)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":  # lifespan: a2wsgi answers it
            return await self.wsgi(scope, receive, send)
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

        async def replay():
            if arrived:
                return arrived.pop(0)
            return await receive() if more else {"type": "http.disconnect"}

        await self.wsgi(scope, replay, send)


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


def asgi_app(app: Flask, threads: int) -> WholeRequests:
    refuse_incomplete_bodies(app)
    return WholeRequests(app, threads)


def gunicorn_options(host: str, port: int, threads: int, workers: int = 1) -> dict:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": worker_class,
        "worker_connections": worker_connections,
        "timeout": 60,  # the worker's heartbeat, and how long a started body may stall
        "graceful_timeout": 10,
        "limit_request_line": 8190,  # longer GET queries: use POST
        "accesslog": "-",
        "control_socket_disable": control_socket_disable,
    }


# Settings of this module also read by `gunicorn -c python:kouiki_kg.serving … server:asgi`.
worker_class = "asgi"
# Open connections per web process, idle and slow ones included (a few kB each); past this,
# new connections wait in the listen queue. A public site puts nginx in front (deployment.md).
worker_connections = 2000


# Gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl): two servers
# on a machine shared it, and the first to stop removed the other's. Ours need none. (Also read
# by `gunicorn -c python:kouiki_kg.serving`, as a setting of this module.)
control_socket_disable = True


def post_worker_init(worker) -> None:
    """Gunicorn hook, in each web process as it starts: the query workers start and open the store,
    and the steward-check worker parses the project, now rather than at the first query or check.
    Also for `gunicorn -c python:kouiki_kg.serving`."""
    served = getattr(worker, "asgi", None) or worker.wsgi  # server:asgi, or server:app under a WSGI worker
    app = served.wsgi.app if isinstance(served, WholeRequests) else served
    threading.Thread(target=prepare_queries, args=(app,), name="prepare-queries", daemon=True).start()
    threading.Thread(target=prepare_checks, args=(app,), name="prepare-checks", daemon=True).start()


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
               "when_ready": lambda server: start_warmer(server, config), "on_exit": on_exit}
    _Gunicorn(asgi_app(create_app(config), threads), options).run()
