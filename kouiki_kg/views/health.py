"""GET /health — is there a store, which build is it, how big."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from ..store import BuildInfo, current_build

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    config = current_app.config["KOUIKI"]
    build = current_build(config.store_dir)
    if build is None:
        return jsonify(ok=False, error="store_missing", message={
            "ja": "ストアがまだ構築されていません。`kouiki-kg build` を実行してください。",
            "en": "The store has not been built yet: run `kouiki-kg build`.",
        }), 503
    info = BuildInfo.read(build)
    return jsonify(ok=True, store={"hash": info.content_hash, "version": info.version,
                                   "built_at": info.built_at, "triples": info.triples, "graphs": info.graphs})
