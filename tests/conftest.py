"""Shared fixtures: the project's files, graphs and a real on-disk store built from them."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib

from kouiki_kg.build import build
from kouiki_kg.config import Config
from kouiki_kg.project import input_files
from kouiki_kg.store import GraphStore
from kouiki_kg.validation import load_files

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
LOCALGOVJP = ROOT.parent / "shared" / "data" / "localgovjp"


def quiet(_message: str) -> None:
    pass


def copy_project(root: Path) -> Path:
    """A private copy of the project's inputs at root, safe to break; returns root."""
    import shutil

    for folder in ("ontology", "shapes", "data"):
        shutil.copytree(ROOT / folder, root / folder)
    return root


@pytest.fixture(scope="session")
def files():
    return input_files(ROOT)


@pytest.fixture(scope="session")
def data_graph(files) -> rdflib.Graph:
    """Ontology, concept schemes and all data, as validation sees them."""
    graph, _ = load_files([f for f in files if f.kind != "shapes"])
    return graph


@pytest.fixture(scope="session")
def shapes_graph(files) -> rdflib.Graph:
    graph, _ = load_files([f for f in files if f.kind == "shapes"])
    return graph


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("store")
    build(Config(root=ROOT, store_dir=path), log=quiet)
    return path


@pytest.fixture(scope="session")
def store(store_dir) -> GraphStore:
    return GraphStore.open_current(store_dir)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningServer:
    """`kouiki-kg serve` (gunicorn, as in production) as a subprocess on 127.0.0.1."""

    def __init__(self, store_dir: Path, args: tuple[str, ...] = (), log_dir: Path | None = None, **env: str):
        import os
        import subprocess
        import sys
        import time

        import requests

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "KOUIKI_ROOT": str(ROOT), "KOUIKI_STORE": str(store_dir), **env}
        self.log = open((log_dir or store_dir.parent) / f"server-{self.port}.log", "w+")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("kouiki-kg")), "serve", "--port", str(self.port), *args],
            env=environment, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or preparing a version
                pass
            time.sleep(0.2)
        output = self.output()
        self.stop()
        raise RuntimeError(f"server did not start: {output}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except Exception:  # noqa: BLE001 — make sure it is gone
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="session")
def server(store_dir):
    """A real server on the session store: 3 s query limit, 1,000-row cap, 2 query workers, 3 s for a body."""
    running = RunningServer(store_dir, KOUIKI_QUERY_TIMEOUT="3", KOUIKI_ROW_LIMIT="1000", KOUIKI_QUERY_WORKERS="2",
                            KOUIKI_BODY_TIMEOUT="3")
    yield running
    running.stop()
