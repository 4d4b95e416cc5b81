"""HTTP pieces every read surface shares: the current build, CORS, conditional requests, language."""

from __future__ import annotations

import hashlib
import threading
from functools import lru_cache
from pathlib import Path
from typing import Callable

from flask import Response, current_app, g, has_request_context, request

from .cache import AnswerCache, Cached, SharedAnswers
from .errors import ApiError
from .store import BuildInfo, GraphStore, StoreMissing, current_build

READ_METHODS = "GET, HEAD, OPTIONS"
READ_BLUEPRINTS = {"sparql", "dataset", "health", "openapi", "home", "resources", "validate"}  # not "cases": writes  # open to every origin (no credentials anywhere)
EXPOSED_HEADERS = ("ETag, Content-Length, X-Kouiki-Row-Limit, X-Kouiki-Truncated, X-Kouiki-Truncated-Reason, X-Kouiki-Rows, "
                   "X-Kouiki-Draft-Complete, X-Kouiki-Draft-Review, "
                   "X-Kouiki-Cache")


@lru_cache(maxsize=8)
def _info(build_dir: Path) -> BuildInfo:
    return BuildInfo.read(build_dir)


_readers: dict[Path, "Reader"] = {}
_readers_lock = threading.Lock()


def reader() -> "Reader":
    """A resource reader over the build being served (opened read-only once per build)."""
    from .listings import LISTINGS_FILE, Listings
    from .remote import RemoteStore
    from .reader import Reader

    build, _ = current()
    with _readers_lock:
        found = _readers.get(build)
        if found is None:
            _readers.clear()  # the previous build may be pruned soon: let its store go
            endpoint = current_app.config["KOUIKI"].sparql_endpoint
            store = RemoteStore(endpoint, timeout=current_app.config["KOUIKI"].query_timeout) if endpoint else GraphStore(build)
            found = _readers[build] = Reader(store, Listings(build_file(build, LISTINGS_FILE)))
        return found


def remote_data() -> "RemoteData | None":
    """With KOUIKI_SPARQL_ENDPOINT set, what this process knows of the remote store; else None."""
    from .mirror import RemoteData

    config = current_app.config["KOUIKI"]
    if not config.sparql_endpoint:
        return None
    with _cache_lock:
        existing = current_app.extensions.get("kouiki.remote")
        if existing is None:
            existing = current_app.extensions["kouiki.remote"] = RemoteData(
                config.sparql_endpoint, config.store_dir / "remote", config.remote_refresh, config.query_timeout)
        return existing


def current() -> tuple[Path, BuildInfo]:
    """The build being served now (a rebuild swaps it between two requests).

    Looked up once per request, so that everything a request answers (an ETag and the body it
    names) comes from one build even if a rebuild is swapped in meanwhile.
    With a remote store: the version it holds, and the local files made from it.
    """
    if not has_request_context():
        return _current_now()
    if "kouiki_current" not in g:
        g.kouiki_current = _current_now()
    return g.kouiki_current


def _current_now() -> tuple[Path, BuildInfo]:
    remote = remote_data()
    if remote is not None:
        try:
            return remote.current()
        except StoreMissing:
            raise _store_missing() from None
    build = current_build(current_app.config["KOUIKI"].store_dir)
    if build is None:
        raise _store_missing()
    return build, _info(build)


def _store_missing() -> ApiError:
    return ApiError(503, "store_missing", "ストアがまだ構築されていません。`kouiki-kg build` を実行してください。",
                    "The store has not been built yet: run `kouiki-kg build`.", {"Retry-After": "30"})


_cache_lock = threading.Lock()


def answer_cache() -> AnswerCache:
    """The app's cache of answers (SPARQL results, resource pages), made on first use."""
    with _cache_lock:
        existing = current_app.extensions.get("kouiki.cache")
        if existing is None:
            config = current_app.config["KOUIKI"]
            shared = (SharedAnswers(config.store_dir / "cache" / "answers.sqlite", config.shared_cache_bytes)
                      if config.shared_cache_bytes > 0 else None)
            existing = current_app.extensions["kouiki.cache"] = AnswerCache(
                config.cache_bytes, max(config.cache_bytes // 16, 1), shared)
        return existing


def remembered(etag: str, make: Callable[[], Cached]) -> Cached:
    """The answer with this ETag from the caches, or made now and kept: the store does not
    change between builds, so a page made once is the page."""
    embedded = current_app.config["KOUIKI"].sparql_endpoint is None
    return answer_cache().get_or_make(etag, (lambda: _one_at_a_time(make)) if embedded else make)[0]


# On the embedded store, pages are made one at a time in a web process. Making one is Python
# holding the GIL between store and SQLite calls that let it go; made in several threads at
# once, each of those calls waited to take the GIL back from the others (a look-up of 0.1 ms
# took 0.5 ms beside three busy threads, a small query 15 ms), so four pages at once took far
# longer than four in a row, and gained nothing: one process runs Python on one core. Answers
# from the caches and queries (in query workers, or light ones in threads that wait on the
# engine) are not held up by it. Pages read from a remote store mostly wait on the network:
# those are made side by side.
_MAKING = threading.Lock()


def _one_at_a_time(make: Callable[[], Cached]) -> Cached:
    with _MAKING:
        return make()


def pool(what: str = "query") -> "QueryPool":
    """The app's pools of killable worker processes, each started on first use (not at import).

    Queries share the web process's part of the query workers. Checks ("validation", anyone's)
    have one worker of their own: it keeps the parsed project between checks (400 MB at 1 M
    triples: one copy per web process instead of one per query worker that happened to run a
    check), and checks do not queue behind a burst of SPARQL queries. Authenticated ingests
    ("steward") have another, so anonymous checks cannot delay a steward's publish. Both run
    under a memory limit (KOUIKI_CHECK_MEMORY).
    """
    from .querypool import LONG_RUNNING, QueryPool

    with _cache_lock:
        existing = current_app.extensions.get(f"kouiki.pool.{what}")
        if existing is None:
            config = current_app.config["KOUIKI"]  # each web process has its share of the query workers
            checks = what in ("validation", "steward")
            size = 1 if checks else max(2, config.query_workers // config.web_workers)
            # a steward waits for a check: it is not demoted like a long query (at 1 M triples, four
            # stewards checking at once during a query burst waited up to 2 s with it). Stand-ins for
            # demoted queries up to twice the pool, not four times: as much throughput, up to 600 MB
            # less at 32 clients, and none at all left a trivial query 6 s behind four pathological
            # clients (architecture §13)
            existing = current_app.extensions[f"kouiki.pool.{what}"] = QueryPool(
                size, demote_after=None if checks else LONG_RUNNING, most=2 * size,
                memory_limit=(config.check_memory if checks else config.query_memory) or None,
                here=0 if checks else config.light_threads)
        return existing


POOL_MESSAGES = {  # what: (timeout code, timeout ja, timeout en, Retry-After, lost ja, lost en)
    "query": ("query_timeout", "問い合わせが制限時間（{t:g} 秒）を超えたため中止しました。",
              "The query was cancelled after its time limit of {t:g} s.", "10",
              "問い合わせの処理が中断されました。もう一度お試しください。", "The process answering the query stopped; please try again."),
    "validation": ("validation_timeout", "検証が制限時間（{t:g} 秒）を超えました。", "Validation ran past its time limit of {t:g} s.",
                   "30", "検証の処理が中断されました（メモリの上限を超えた可能性があります）。もう一度お試しください。",
                   "The process validating the case stopped (it may have reached its memory limit); please try again."),
}
POOL_MESSAGES["steward"] = POOL_MESSAGES["validation"]


def run_pooled(request_, timeout: float, what: str, cost_key: str | None = None, here: dict | None = None):
    """Run a request in the worker pool; the pool's own failures become 503s with our error shape.
    `cost_key`: the request's shape, whose measured cost decides whether it is heavy (querypool);
    `here`: for a light request, the cache to run it with in this process (querypool)."""
    from .querypool import PoolBusy, QueryTimeout, WorkerLost

    code, timeout_ja, timeout_en, retry, lost_ja, lost_en = POOL_MESSAGES[what]
    try:
        return pool(what).run(request_, timeout, cost_key, here)
    except QueryTimeout:
        raise ApiError(503, code, timeout_ja.format(t=timeout), timeout_en.format(t=timeout), {"Retry-After": retry},
                       limit_seconds=timeout) from None
    except WorkerLost:
        raise ApiError(503, "worker_lost", lost_ja, lost_en, {"Retry-After": "1"}) from None
    except PoolBusy:
        raise ApiError(503, "busy", "混み合っています。しばらくしてからもう一度お試しください。",
                       "The server is busy; try again shortly.", {"Retry-After": "5"}) from None


def build_file(build: Path, *parts: str) -> Path:
    """A file the build must contain; a build made by older code may lack it."""
    path = build.joinpath(*parts)
    if not path.is_file():
        raise ApiError(503, "store_outdated", "ストアが古い形式です。`kouiki-kg build` を実行してください。",
                       "The store was built by an older version: run `kouiki-kg build`.", {"Retry-After": "30"})
    return path


def set_headers(response: Response, headers: dict[str, str], replace: bool = True) -> Response:
    """Set several headers in one pass over the response's own (`replace=False`: only those it
    lacks). Werkzeug's `set` and `setdefault` scan the list once per header, and for a name not
    there build and raise an HTTP exception (a SPARQL answer's headers: 20 → 14 µs)."""
    present = {name.lower() for name, _ in response.headers}
    for name, value in headers.items():
        if name.lower() not in present:
            response.headers.add(name, value)
        elif replace:
            response.headers.set(name, value)
    return response


def cors_headers(methods: str = READ_METHODS) -> dict[str, str]:
    """Anyone may read from any origin: the data is open and nothing here uses cookies."""
    headers = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": EXPOSED_HEADERS}
    if request.method == "OPTIONS":
        headers.update({"Access-Control-Allow-Methods": methods,
                        "Access-Control-Allow-Headers": "Accept, Accept-Language, Content-Type, If-None-Match",
                        "Access-Control-Max-Age": "86400"})
    return headers


def add_cors(response: Response, methods: str = READ_METHODS) -> Response:
    return set_headers(response, cors_headers(methods))


def preflight(methods: str = READ_METHODS) -> Response:
    response = Response(status=204)
    response.headers["Allow"] = methods
    return add_cors(response, methods)


def page_number(name: str) -> int:
    """A 1-based page number from the query string; anything else is the first page."""
    try:
        return max(1, int(request.args.get(name, "1")))
    except ValueError:
        return 1


def code_digest(package: Path = Path(__file__).parent) -> bytes:
    """What makes answers out of a build: the package's code, templates and i18n. Part of every
    ETag and cache key, so a server upgraded without a rebuild neither serves the old code's
    pages from the disk cache (it survives restarts) nor answers 304 for bytes that changed."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".html") and path.is_file():
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.digest()


_CODE = code_digest()


def etag_for(info: BuildInfo, *parts: str) -> str:
    """A strong ETag: the same request on the same (immutable) build, answered by the same code,
    gives the same bytes."""
    digest = hashlib.sha256(_CODE + info.content_hash.encode())
    for part in parts:
        digest.update(b"\0" + part.encode("utf-8"))
    return '"' + digest.hexdigest()[:32] + '"'


def not_modified(etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or etag in tags

