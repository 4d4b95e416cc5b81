"""Run the app under gunicorn, in the same configuration the README documents for production.

Gunicorn processes with many threads each: SPARQL requests mostly wait on the query worker
pool (which gives the CPU parallelism and the hard time limits), so threads are cheap; pages
are rendered in the web process itself, under its GIL, so page-heavy sites run one web
process per CPU (KOUIKI_WEB_WORKERS). The query workers are shared out among the web
processes, each of which keeps its own pool and answer cache. With KOUIKI_WARM_URL (`serve
--warm`), the master also starts a process that makes every page in advance (warm.py).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading

from gunicorn.app.base import BaseApplication

from . import warm
from .app import create_app
from .config import Config
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


def gunicorn_options(host: str, port: int, threads: int, workers: int = 1) -> dict:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": 60,  # the worker's heartbeat; query limits are enforced by the pool
        "graceful_timeout": 10,
        "limit_request_line": 8190,  # longer GET queries: use POST
        "accesslog": "-",
        "control_socket_disable": control_socket_disable,
    }


# Gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl): two servers
# on a machine shared it, and the first to stop removed the other's. Ours need none. (Also read
# by `gunicorn -c python:kouiki_kg.serving`, as a setting of this module.)
control_socket_disable = True


def post_worker_init(worker) -> None:
    """Gunicorn hook, in each web process as it starts: the steward-check worker parses the
    project now rather than at the first check. Also for `gunicorn -c python:kouiki_kg.serving`."""
    threading.Thread(target=prepare_checks, args=(worker.wsgi,), name="prepare-checks", daemon=True).start()


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


def serve(config: Config, host: str, port: int, threads: int = 16) -> None:
    options = {**gunicorn_options(host, port, threads, config.web_workers), "post_worker_init": post_worker_init,
               "when_ready": lambda server: start_warmer(server, config), "on_exit": on_exit}
    _Gunicorn(create_app(config), options).run()
