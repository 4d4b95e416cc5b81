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
