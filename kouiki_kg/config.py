"""The few settings, from the environment (and CLI flags, which override them).

KOUIKI_ROOT   project directory holding ontology/, shapes/ and data/ttl/
              (default: the checkout this package lives in, else the current directory)
KOUIKI_STORE  directory of the on-disk Oxigraph store (default: {root}/var/store)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _default_root() -> Path:
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "ontology").is_dir() and (checkout / "data" / "ttl").is_dir():
        return checkout
    return Path.cwd()


@dataclass(frozen=True)
class Config:
    root: Path
    store_dir: Path

    @classmethod
    def from_env(cls, root: str | os.PathLike | None = None, store_dir: str | os.PathLike | None = None) -> "Config":
        root_path = Path(root or os.environ.get("KOUIKI_ROOT") or _default_root()).resolve()
        store = store_dir or os.environ.get("KOUIKI_STORE") or root_path / "var" / "store"
        return cls(root=root_path, store_dir=Path(store).resolve())
