"""What goes into the graph: the project's input files and the named graph of each.

Each file is loaded into its own named graph, named after its path, so that one case can be
replaced without touching the others: ``data/ttl/cases/x.ttl`` → ``{BASE}graph/cases/x``.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from .namespaces import GRAPH

# (folder, kind) in load order; kinds decide what a file is used for during validation.
INPUT_FOLDERS = (
    ("ontology", "ontology"),
    ("shapes", "shapes"),
    ("data/ttl", "data"),
)


@dataclass(frozen=True)
class InputFile:
    path: Path
    relative: str  # POSIX path relative to the project root
    kind: str  # "ontology" (incl. concept schemes), "shapes" or "data"

    @property
    def graph(self) -> str:
        name = self.relative.removesuffix(".ttl")
        name = name.removeprefix("data/ttl/")
        return GRAPH + name


def input_files(root: Path) -> list[InputFile]:
    """All Turtle inputs under the project root, in a stable order."""
    found = []
    for folder, kind in INPUT_FOLDERS:
        for path in sorted((root / folder).rglob("*.ttl")):
            found.append(InputFile(path=path, relative=path.relative_to(root).as_posix(), kind=kind))
    return found


def content_hash(files: list[InputFile], salt: str = "") -> str:
    """One SHA-256 over every input's name and the SHA-256 of its bytes (and the builder's version)."""
    digest = hashlib.sha256(salt.encode() + b"\0")
    for f in files:
        stat = f.path.stat()
        digest.update(f.relative.encode() + b"\0" + _file_hash(f.path, stat.st_size, stat.st_mtime_ns) + b"\0")
    return digest.hexdigest()


@functools.lru_cache(maxsize=4096)
def _file_hash(path: Path, size: int, mtime_ns: int) -> bytes:
    """A file's SHA-256, kept while its size and time of change stay: a publish asks for the
    digest of the project twice, and at a million triples reading every file took 0.1 s each time."""
    return hashlib.sha256(path.read_bytes()).digest()
