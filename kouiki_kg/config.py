"""The few settings, from the environment (and CLI flags, which override them).

KOUIKI_ROOT            project directory holding ontology/, shapes/ and data/ttl/
                       (default: the checkout this package lives in, else the current directory)
KOUIKI_STORE           directory of the on-disk Oxigraph store (default: {root}/var/store)
KOUIKI_QUERY_TIMEOUT   seconds a SPARQL query may run before it is cancelled (default 10)
KOUIKI_ROW_LIMIT       most result rows (or triples) one query returns (default 10000)
KOUIKI_MAX_ANSWER_BYTES  most bytes (about) one query's answer holds: past it the answer is cut
                       (X-Kouiki-Truncated-Reason: bytes) (default 50000000)
KOUIKI_QUERY_MEMORY    bytes of memory a query worker may take (default 1000000000; 0: no limit)
KOUIKI_QUERY_WORKERS   query worker processes (default: two per CPU; up to four times as many
                       while long queries run, see querypool.py)
KOUIKI_MAX_UPLOAD      largest submission or query body, in bytes (default 2000000)
KOUIKI_BODY_TIMEOUT    seconds a request's body may take to arrive after its headers; later: 408
                       (default 30)
KOUIKI_CACHE_BYTES     memory for cached answers (SPARQL results, pages) per web process, in bytes
                       (default 64000000; 0 turns it off)
KOUIKI_SHARED_CACHE_BYTES  disk for answers shared by the web processes, under the store folder
                       (default 256000000; 0 turns it off)
KOUIKI_VALIDATION_TIMEOUT  seconds a validation may run (default 30)
KOUIKI_CHECK_MEMORY    bytes of memory a check worker may take, so one upload cannot take the
                       machine's (default 2000000000; 0: no limit)
KOUIKI_BUILD_WORKERS   processes that validate a large build in parallel (default: one per CPU;
                       1: a small build's check, too, runs in the building process)
KOUIKI_SPARQL_ENDPOINT  a SPARQL 1.1 query URL to serve from instead of the embedded store
                       (its default graph must be the union of the named graphs)
KOUIKI_GRAPH_STORE_ENDPOINT  its SPARQL 1.1 Graph Store Protocol URL, which `build` and ingest load
KOUIKI_REMOTE_REFRESH  seconds between checks of which build the remote store holds (default 5)
KOUIKI_WARM_URL        the public URL (http(s)://host/) to make every page of each build for, in
                       advance, beside the server (`serve --warm`; default: unset, pages are made
                       on their first request)
KOUIKI_TRUSTED_PROXIES  reverse proxies in front whose X-Forwarded-Proto/-Host/-For to believe
                       (default 0: none; behind one nginx, 1), so pages name the URL visitors used
KOUIKI_PUBLIC_URL      the site's own URL (https://kouiki.example.jp/): pages, the sitemap and cache
                       keys name it, whatever Host or X-Forwarded-* say (default: unset, see hosts.py)
KOUIKI_ALLOWED_HOSTS   without a public URL, the host names (or host:port) requests may name besides
                       loopback and `serve --host`, comma-separated; others get 400 (default: none)
KOUIKI_TOKENS / KOUIKI_TOKENS_FILE  stewards' bearer tokens, hashed (see `kouiki-kg token`)
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


def _number(name: str, default, kind=float):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, not {raw!r}")
    return value


def _number_or_zero(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if raw.strip() == "0":
        return 0  # the settings where 0 means something: no cache, no proxy
    return _number(name, default, int)


@dataclass(frozen=True)
class Config:
    root: Path
    store_dir: Path
    query_timeout: float = 10.0
    row_limit: int = 10_000
    max_answer_bytes: int = 50_000_000
    query_memory: int = 1_000_000_000  # 0: no limit
    query_workers: int = 2
    light_threads: int = 4  # per web process, for light queries (querytext.is_light); 0: all in workers
    web_workers: int = 1
    max_upload: int = 2_000_000
    body_timeout: float = 30.0
    cache_bytes: int = 64_000_000
    shared_cache_bytes: int = 256_000_000
    validation_timeout: float = 30.0
    check_memory: int = 2_000_000_000  # 0: no limit
    build_workers: int | None = None  # None: one per CPU
    sparql_endpoint: str | None = None  # None: the embedded store
    graph_store_endpoint: str | None = None
    remote_refresh: float = 5.0
    trusted_proxies: int = 0
    public_url: str | None = None  # None: the request's host, if allowed (hosts.py)
    allowed_hosts: tuple[str, ...] = ()
    warm_url: str | None = None  # None: pages are made on their first request only

    @classmethod
    def from_env(cls, root: str | os.PathLike | None = None, store_dir: str | os.PathLike | None = None,
                 **overrides) -> "Config":
        root_path = Path(root or os.environ.get("KOUIKI_ROOT") or _default_root()).resolve()
        store = store_dir or os.environ.get("KOUIKI_STORE") or root_path / "var" / "store"
        settings = {
            "query_timeout": _number("KOUIKI_QUERY_TIMEOUT", 10.0),
            "row_limit": _number("KOUIKI_ROW_LIMIT", 10_000, int),
            "max_answer_bytes": _number("KOUIKI_MAX_ANSWER_BYTES", 50_000_000, int),
            "query_memory": _number_or_zero("KOUIKI_QUERY_MEMORY", 1_000_000_000),
            # more workers than cores: a long query (demoted to the lowest CPU priority) must not
            # leave short ones waiting for a free worker (the pool also grows past a demoted one,
            # and light look-ups are answered in the web process: two per CPU, not four, since
            # session 30 — the same throughput at 1 M, 160-350 MB less)
            "query_workers": _number("KOUIKI_QUERY_WORKERS", 2 * (os.cpu_count() or 2), int),
            # light queries (a few resources' triples) in threads of the web process: no hop to a worker
            "light_threads": _number_or_zero("KOUIKI_LIGHT_THREADS", 4),
            # web processes: one renders pages on one core (the GIL); production sets one per CPU
            "web_workers": _number("KOUIKI_WEB_WORKERS", 1, int),
            "max_upload": _number("KOUIKI_MAX_UPLOAD", 2_000_000, int),
            "body_timeout": _number("KOUIKI_BODY_TIMEOUT", 30.0),
            "cache_bytes": _number_or_zero("KOUIKI_CACHE_BYTES", 64_000_000),
            "shared_cache_bytes": _number_or_zero("KOUIKI_SHARED_CACHE_BYTES", 256_000_000),
            "validation_timeout": _number("KOUIKI_VALIDATION_TIMEOUT", 30.0),
            "check_memory": _number_or_zero("KOUIKI_CHECK_MEMORY", 2_000_000_000),
            "build_workers": _number("KOUIKI_BUILD_WORKERS", None, int),
            "sparql_endpoint": os.environ.get("KOUIKI_SPARQL_ENDPOINT") or None,
            "graph_store_endpoint": os.environ.get("KOUIKI_GRAPH_STORE_ENDPOINT") or None,
            "remote_refresh": _number("KOUIKI_REMOTE_REFRESH", 5.0),
            "trusted_proxies": _number_or_zero("KOUIKI_TRUSTED_PROXIES", 0),
            "public_url": os.environ.get("KOUIKI_PUBLIC_URL") or None,
            "allowed_hosts": tuple(h.strip() for h in os.environ.get("KOUIKI_ALLOWED_HOSTS", "").split(",") if h.strip()),
            "warm_url": os.environ.get("KOUIKI_WARM_URL") or None,
        }
        settings.update({k: v for k, v in overrides.items() if v is not None})
        return cls(root=root_path, store_dir=Path(store).resolve(), **settings)
