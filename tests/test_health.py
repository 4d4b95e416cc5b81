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
