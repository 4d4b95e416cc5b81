"""GET /health — is there a store, which build is it, how big, the worker processes, the caches."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..build import read_data_status
from ..cache import read_warm_status
from ..errors import ApiError
from ..web import current

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    try:
        build, info = current()
    except ApiError as err:
        return jsonify(ok=False, error=err.code, message={"ja": err.ja, "en": err.en}), 503
    if current_app.extensions.get("kouiki.queries_ready") is False:  # a web process still starting (serving.py)
        return jsonify(ok=False, ready=False, error="starting",
                       message={"ja": "起動中です。問い合わせの準備ができるまでお待ちください。",
                                "en": "Starting: the query workers are getting ready."}), 503, {"Retry-After": "1"}
    body = {"ok": True, "ready": True, "store": {"hash": info.content_hash, "version": info.version, "built_at": info.built_at,
                                  "triples": info.triples, "graphs": info.graphs, "build": build.name}}
    for what, name in (("query", "query_workers"), ("validation", "validation_workers")):
        pool = current_app.extensions.get(f"kouiki.pool.{what}")
        if pool is not None:  # started with the first query, or check
            body[name] = {"size": pool.size, "pids": pool.pids(), "killed_for_timeout": pool.killed}
            if pool.here:  # light queries answered in this web process's threads
                body[name]["here"] = {"threads": pool.here, "answered": pool.ran_here,
                                      "past_time_limit": pool.overran_here}
    if "kouiki.checks_ready" in current_app.extensions:  # set as preparing starts, maybe before its pool exists
        body.setdefault("validation_workers", {})["project_loaded"] = current_app.extensions["kouiki.checks_ready"]
    cache = current_app.extensions.get("kouiki.cache")
    if cache is not None:
        body["answer_cache"] = cache.stats()
    failing = read_data_status(current_app.config["KOUIKI"])
    body["data"] = failing or {"builds": True}  # the files in data/ build (else: served is the last good build)
    warmed = read_warm_status(current_app.config["KOUIKI"].store_dir)
    if warmed is not None:  # the last pass making pages in advance (`kouiki-kg warm`, `serve --warm`)
        body["warm"] = warmed
    return jsonify(body)
