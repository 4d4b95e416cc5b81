"""A server reading a remote SPARQL store: which data version it serves, and the few local
files made from that version (the build's statistics, the dataset description, the search
index and browsing listings, and on demand the dumps).

The version is the build's input hash, which `build` writes into the dataset description
(`dcat:version`) as the last graph it loads. It is looked up at most every
`KOUIKI_REMOTE_REFRESH` seconds; the files are made once per version under
`{store}/remote/{version}/` (beside any other server process on the machine: made aside and
renamed into place). ETags and the answer cache are keyed by the version, as they are by the
build when the store is embedded, so any number of such servers stay stateless.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from pathlib import Path

import pyoxigraph as ox

from . import __version__, description
from .listings import make_lookup_files
from .namespaces import DATASET, PREFIXES
from .remote import RemoteStore
from .store import BuildInfo, StoreMissing, write_dumps

KEEP_VERSIONS = 2
VERSION_QUERY = f"""SELECT ?version ?modified WHERE {{ GRAPH <{description.DESCRIPTION_GRAPH}> {{
    <{DATASET}> dcat:version ?version ; dct:modified ?modified }} }} ORDER BY DESC(?modified) LIMIT 1"""


class RemoteData:
    """The remote store's current version and its local files, for one server process."""

    def __init__(self, endpoint: str, cache_dir: Path, refresh: float, timeout: float):
        self.store = RemoteStore(endpoint, timeout=timeout)
        self.endpoint, self.cache_dir, self.refresh, self.timeout = endpoint, cache_dir, refresh, timeout
        self._current: tuple[Path, BuildInfo] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._dumps_lock = threading.Lock()

    def version(self) -> tuple[str, str] | None:
        """(input hash, modified) of the data in the remote store; None when it holds no build."""
        rows = list(self.store.query(VERSION_QUERY))
        return (rows[0]["version"].value, rows[0]["modified"].value) if rows else None

    def current(self) -> tuple[Path, BuildInfo]:
        now = time.monotonic()
        if self._current is not None and now - self._checked < self.refresh:
            return self._current
        with self._lock:
            if self._current is not None and time.monotonic() - self._checked < self.refresh:
                return self._current
            found = self.version()
            if found is None:
                raise StoreMissing(f"the SPARQL store at {self.endpoint} holds no build: run `kouiki-kg build`")
            if self._current is None or self._current[1].content_hash != found[0]:
                self._current = self._prepare(*found)
            self._checked = time.monotonic()
            return self._current

    def _prepare(self, version: str, modified: str) -> tuple[Path, BuildInfo]:
        target = self.cache_dir / version[:32]
        if (target / "build.json").is_file():
            return target, BuildInfo.read(target)
        staging = self.cache_dir / f".staging-{uuid.uuid4().hex}"
        staging.mkdir(parents=True)
        try:
            counts = {row["g"].value: int(row["n"].value) for row in self.store.query(
                "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
            described = self.store.query(
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{description.DESCRIPTION_GRAPH}> {{ ?s ?p ?o }} }}")
            (staging / description.DESCRIPTION_FILE).write_bytes(
                ox.serialize(described, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES))
            make_lookup_files(self.store.query, staging, log=lambda _message: None)
            info = BuildInfo(content_hash=version, triples=sum(counts.values()), graphs=len(counts), built_at=modified,
                             version=__version__, graph_triples=counts)
            info.write(staging)
            try:
                staging.rename(target)
            except OSError:  # another process made it first
                shutil.rmtree(staging, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._prune(keep=target)
        return target, BuildInfo.read(target)

    def _prune(self, keep: Path) -> None:
        made = sorted((d for d in self.cache_dir.iterdir() if d.is_dir() and not d.name.startswith(".")),
                      key=lambda d: d.stat().st_mtime, reverse=True)
        for old in made[KEEP_VERSIONS:]:
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)

    def ensure_dumps(self, build_dir: Path, info: BuildInfo) -> None:
        """Make this version's dumps from the remote store, once (the first request waits)."""
        with self._dumps_lock:
            if (build_dir / "dumps").is_dir():
                return

            def graphs():
                for graph in sorted(info.graph_triples):
                    yield graph, self.store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")

            write_dumps(build_dir, graphs(), description.DUMP_FILES)
