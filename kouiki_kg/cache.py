"""Bounded caches of answers, keyed by ETag: in memory per web process, and on disk shared by them.

The store is immutable between builds and an ETag covers the build's content hash and
everything that shapes an answer, so an answer cached under its ETag never goes stale: a new
build gives new ETags and old entries simply age out.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class Cached:
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...]


class SharedAnswers:
    """Answers in a SQLite file that every web process of a server reads and writes, so a page
    rendered by one is served by the others (and after a restart). Bodies are stored compressed
    (zlib level 1: a 25–30 KB page becomes 4–6 KB in 0.06 ms and comes back in 0.03 ms), so the
    file holds five times as many pages and each write is smaller. Once the file holds more than
    `max_bytes` of answers the oldest go, down to nine tenths of it. Best effort: any SQLite
    error is a miss, never a failed request.

    The bytes held are a running total kept with the answers (summing the sizes read a page of
    the file per answer: 80 ms at 50,000 pages, which every 64th write used to pay), and so is
    the count of bytes ever written, which tells a reader how much was put in since it looked.
    """

    KEEP_AFTER_TRIM = 0.9  # of max_bytes: a trim makes room for many writes, not for one

    def __init__(self, path: Path, max_bytes: int):
        self.path, self.max_bytes = path, max_bytes
        self._local = threading.local()  # a connection per thread

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=0.5, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
            db.execute("PRAGMA synchronous=OFF")  # a cache: losing the last writes in a crash is harmless
            db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, size INTEGER, "
                       "content_type TEXT, headers TEXT, body BLOB)")
            db.execute("CREATE TABLE IF NOT EXISTS totals (id INTEGER PRIMARY KEY CHECK (id = 0), "
                       "held INTEGER, written INTEGER)")
            if db.execute("SELECT 1 FROM totals").fetchone() is None:  # a new file, or one an older version made
                db.execute("INSERT OR IGNORE INTO totals SELECT 0, COALESCE(SUM(size), 0), COALESCE(SUM(size), 0) "
                           "FROM answers")
            self._local.db = db
        return db

    def get(self, key: str) -> Cached | None:
        try:
            row = self._db().execute("SELECT content_type, headers, body FROM answers WHERE key = ?", (key,)).fetchone()
        except (sqlite3.Error, OSError):
            return None
        if row is None:
            return None
        try:
            body = zlib.decompress(row[2])
        except zlib.error:
            return None
        return Cached(body, row[0], tuple(tuple(h) for h in json.loads(row[1])))

    def put(self, key: str, value: Cached) -> None:
        stored = zlib.compress(value.body, 1)
        if len(stored) > self.max_bytes // 16:
            return
        try:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("INSERT OR IGNORE INTO answers VALUES (?, ?, ?, ?, ?)",
                              (key, len(stored), value.content_type, json.dumps(value.headers), stored)).rowcount:
                    held = db.execute("UPDATE totals SET held = held + ?1, written = written + ?1 RETURNING held",
                                      (len(stored),)).fetchone()[0]
                    if held > self.max_bytes:
                        self._trim(db)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except (sqlite3.Error, OSError):
            pass

    def _trim(self, db: sqlite3.Connection) -> None:
        """Drop the oldest answers until nine tenths of max_bytes are held (inside put's transaction)."""
        keep = int(self.max_bytes * self.KEEP_AFTER_TRIM)
        db.execute("""DELETE FROM answers WHERE rowid IN (SELECT rowid FROM (
                        SELECT rowid, SUM(size) OVER (ORDER BY rowid DESC) AS newer FROM answers)
                      WHERE newer > ?)""", (keep,))
        db.execute("UPDATE totals SET held = (SELECT COALESCE(SUM(size), 0) FROM answers)")

    def totals(self) -> tuple[int, int]:
        """(bytes held now, bytes ever written) by every process; (0, 0) if the file cannot be read."""
        try:
            return tuple(self._db().execute("SELECT held, written FROM totals").fetchone())
        except (sqlite3.Error, OSError, TypeError):
            return 0, 0


class _Making:
    """An answer being made; requests for the same key meanwhile wait for it."""

    def __init__(self):
        self.done = threading.Event()
        self.value: Cached | None = None
        self.error: BaseException | None = None


class AnswerCache:
    """An LRU in memory, in front of the shared answers if there are any."""

    def __init__(self, max_bytes: int, max_entry: int, shared: SharedAnswers | None = None):
        self.max_bytes, self.max_entry, self.shared = max_bytes, max_entry, shared
        self._entries: OrderedDict[str, Cached] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._making: dict[str, _Making] = {}
        self.hits = self.misses = self.shared_hits = self.joined = 0

    def get_or_make(self, key: str, make: Callable[[], Cached], shared_by: str | None = None) -> tuple[Cached, bool]:
        """(answer, whether it was made for this call): from the cache, or made by `make` and
        kept. Concurrent calls with the same `shared_by` (default: the key) share one making, and
        its error if it fails: right after a build, eight clients sending the same heavy query
        ran it eight times at once, each on a fraction of the CPU, and most ran past the time
        limit, so it was never cached."""
        found = self.get(key)
        if found is not None:
            return found, False
        together = key if shared_by is None else shared_by
        with self._lock:
            found = self._entries.get(key)  # made and kept between the first look and now
            if found is not None:
                return found, False
            making = self._making.get(together)
            leader = making is None
            if leader:
                making = self._making[together] = _Making()
            else:
                self.joined += 1
        if not leader:
            making.done.wait()
            if making.error is not None:
                raise making.error
            return making.value, False
        try:
            making.value = make()
            self.put(key, making.value)
            return making.value, True
        except BaseException as err:
            making.error = err
            raise
        finally:
            with self._lock:
                del self._making[together]
            making.done.set()

    def get(self, key: str) -> Cached | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
        found = self.shared.get(key) if self.shared is not None else None
        with self._lock:
            if found is None:
                self.misses += 1
                return None
            self.shared_hits += 1
        self._remember(key, found)
        return found

    def put(self, key: str, value: Cached) -> None:
        if self.shared is not None:
            self.shared.put(key, value)
        self._remember(key, value)

    def _remember(self, key: str, value: Cached) -> None:
        if len(value.body) > self.max_entry or self.max_bytes <= 0:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = value
            self._size += len(value.body)
            while self._size > self.max_bytes and self._entries:
                _, evicted = self._entries.popitem(last=False)
                self._size -= len(evicted.body)

    def stats(self) -> dict:
        with self._lock:
            return {"entries": len(self._entries), "bytes": self._size, "hits": self.hits, "misses": self.misses,
                    "shared_hits": self.shared_hits, "joined": self.joined, "shared": self.shared is not None}


# The last pass making pages in advance (warm.py) is described beside the pages it made, where
# /health reads it without depending on the pass's code.
WARM_STATUS_FILE = "warm.json"  # under {store}/cache


def read_warm_status(store_dir: Path) -> dict | None:
    try:
        return json.loads((store_dir / "cache" / WARM_STATUS_FILE).read_text())
    except (OSError, ValueError):
        return None
