"""GET /health through a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading

import pytest
import requests
from werkzeug.serving import make_server

from kouiki_kg.app import create_app
from kouiki_kg.config import Config

from .conftest import ROOT


def serve(config: Config):
    server = make_server("127.0.0.1", 0, create_app(config), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture()
def server_for(request):
    servers = []

    def start(store_dir):
        server = serve(Config(root=ROOT, store_dir=store_dir))
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for s in servers:
        s.shutdown()


def test_health_reports_the_build(store, store_dir, server_for):
    response = requests.get(server_for(store_dir) + "/health", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["store"]["triples"] == len(list(store.quads()))
    assert body["store"]["hash"] == store.info.content_hash


def test_health_without_a_store_is_503_in_both_languages(tmp_path, server_for):
    response = requests.get(server_for(tmp_path / "none") + "/health", timeout=10)
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False and "kouiki-kg build" in body["message"]["en"]
    assert "ストア" in body["message"]["ja"]


def test_health_while_steward_checks_are_being_prepared(store, store_dir):
    """Preparing marks itself before its worker pool exists: /health must answer in between."""
    app = create_app(Config(root=ROOT, store_dir=store_dir))
    app.extensions["kouiki.checks_ready"] = False  # what prepare_checks sets first
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_json()["validation_workers"] == {"project_loaded": False}


def test_a_request_answers_from_the_build_it_started_with(store_dir, tmp_path):
    """A rebuild swapped in mid-request does not change the build a request answers from (its
    ETag and its body name the same build); the next request sees the new one."""
    import json

    from kouiki_kg.store import swap_current
    from kouiki_kg.web import current

    served = tmp_path / "store"
    first, second = (store_dir / "current").resolve(), served / "builds" / "second"
    second.mkdir(parents=True)
    info = json.loads((first / "build.json").read_text())
    (second / "build.json").write_text(json.dumps({**info, "content_hash": "0" * 64}))
    swap_current(served, first)
    app = create_app(Config.from_env(root=ROOT, store_dir=served))
    with app.test_request_context():
        build, before = current()
        swap_current(served, second)
        assert current() == (build, before) and build == first
    with app.test_request_context():
        build, after = current()
        assert build == second.resolve() and after.content_hash == "0" * 64


def test_health_says_ready_only_once_the_query_workers_have_opened_the_store(store_dir):
    """Issue 22: /health said ready while the first query still took 1–4 s (workers importing,
    the store opening). Until the web process has prepared its query workers: 503 "starting";
    then ready, with the workers already there before anyone asked a query."""
    from kouiki_kg.views.sparql import prepare_queries

    app = create_app(Config(root=ROOT, store_dir=store_dir, query_workers=2))
    app.extensions["kouiki.queries_ready"] = False  # what prepare_queries sets first
    starting = app.test_client().get("/health")
    assert starting.status_code == 503 and starting.get_json()["error"] == "starting"
    assert starting.headers["Retry-After"] == "1" and starting.get_json()["message"]["ja"]
    prepare_queries(app)
    try:
        ready = app.test_client().get("/health")
        assert ready.status_code == 200 and ready.get_json()["ready"] is True
        assert len(ready.get_json()["query_workers"]["pids"]) == 2
    finally:
        app.extensions["kouiki.pool.query"].close()


def test_the_real_server_answers_health_ready_with_its_query_workers_started(server):
    body = requests.get(server.url + "/health", timeout=10).json()
    assert body["ready"] is True and body["query_workers"]["pids"]
