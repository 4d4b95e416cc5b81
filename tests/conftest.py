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
