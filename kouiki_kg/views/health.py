"""GET /health — is there a store, which build is it, how big, and the query workers."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..errors import ApiError
from ..web import current

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    try:
        build, info = current()
    except ApiError as err:
        return jsonify(ok=False, error=err.code, message={"ja": err.ja, "en": err.en}), 503
    body = {"ok": True, "store": {"hash": info.content_hash, "version": info.version, "built_at": info.built_at,
                                  "triples": info.triples, "graphs": info.graphs, "build": build.name}}
    pool = current_app.extensions.get("kouiki.pool")
    if pool is not None:  # started with the first query
        body["query_workers"] = {"size": pool.size, "pids": pool.pids(), "killed_for_timeout": pool.killed}
    cache = current_app.extensions.get("kouiki.cache")
    if cache is not None:
        body["answer_cache"] = cache.stats()
    return jsonify(body)
