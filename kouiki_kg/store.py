"""The only module that talks to Oxigraph.

On disk, ``{store_dir}/current`` is a symlink to one immutable build under
``{store_dir}/builds/``; a build is made aside and the link is swapped atomically, so a
reader always sees a complete store and a failed build leaves the served one untouched.
Each build directory holds ``oxigraph/`` (the store) and ``build.json`` (its hash, counts).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .namespaces import PREFIXES


class StoreMissing(Exception):
    """No built store yet: run `kouiki-kg build`."""


@dataclass(frozen=True)
class BuildInfo:
    content_hash: str
    triples: int
    graphs: int
    built_at: str
    version: str

    @classmethod
    def read(cls, build_dir: Path) -> "BuildInfo":
        return cls(**json.loads((build_dir / "build.json").read_text(encoding="utf-8")))

    def write(self, build_dir: Path) -> None:
        (build_dir / "build.json").write_text(json.dumps(self.__dict__, indent=2), encoding="utf-8")


def current_build(store_dir: Path) -> Path | None:
    link = store_dir / "current"
    if not link.exists():
        return None
    return link.resolve()


class GraphStore:
    """A read-only view of one build: SPARQL over the union of its named graphs."""

    def __init__(self, build_dir: Path):
        self.build_dir = build_dir
        self.info = BuildInfo.read(build_dir)
        self._store = ox.Store.read_only(str(build_dir / "oxigraph"))

    @classmethod
    def open_current(cls, store_dir: Path) -> "GraphStore":
        build = current_build(store_dir)
        if build is None:
            raise StoreMissing(f"no store at {store_dir}: run `kouiki-kg build` first")
        return cls(build)

    def query(self, sparql: str, *, union_default_graph: bool = True):
        """Run a SPARQL query; the default graph is the union of all graphs unless told otherwise."""
        return self._store.query(sparql, prefixes=PREFIXES, use_default_graph_as_union=union_default_graph)

    def quads(self):
        return self._store.quads_for_pattern(None, None, None, None)

    def dump(self, output, fmt: ox.RdfFormat) -> None:
        self._store.dump(output, format=fmt)


def write_build(build_dir: Path, graphs: list[tuple[Path, str]]) -> int:
    """Load each (Turtle file, graph IRI) into a new store under build_dir; return the triple count."""
    store = ox.Store(str(build_dir / "oxigraph"))
    for path, graph in graphs:
        store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(graph))
    store.flush()
    count = len(store)
    del store  # release the store's lock before readers open it
    return count


def swap_current(store_dir: Path, build_dir: Path) -> None:
    """Point `current` at build_dir in one atomic rename."""
    tmp_link = store_dir / "current.new"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(os.path.relpath(build_dir, store_dir), tmp_link)
    os.replace(tmp_link, store_dir / "current")
