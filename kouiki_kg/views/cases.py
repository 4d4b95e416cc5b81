"""/cases/{slug} — publish, withdraw and trace cases (writes need a steward's bearer token).

    GET    /cases/{slug}                      the case's current Turtle file (public)
    PUT    /cases/{slug}                      publish (validate → keep version → replace → rebuild)
    DELETE /cases/{slug}                      withdraw (the versions stay in the history)
    GET    /cases/{slug}/history              the versions, newest last (public)
    GET    /cases/{slug}/history/{version}    one version's Turtle (public)
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from .. import ingest
from ..validation import submission
from ..errors import ApiError
from ..validation import RdfSyntaxError
from ..i18n import choose_lang
from ..web import add_cors
from .validate import ANSWERS, report_response, run_check, syntax_error

bp = Blueprint("cases", __name__)
TURTLE = "text/turtle; charset=utf-8"


def _api_error(err: ingest.IngestError) -> Response:
    """Ingest errors in our one error shape; a failed validation carries its report."""
    headers = {"WWW-Authenticate": 'Bearer realm="kouiki-kg"'} if err.status == 401 else {}
    extra = dict(err.extra)
    if err.report is not None:
        extra["report"] = {"conforms": err.report.conforms, "violations": len(err.report.results),
                           "results": [{"focus": r.focus, "line": r.line, "path": r.path, "component": r.component,
                                        "messages": r.messages} for r in err.report.results]}
    return ApiError(err.status, err.code, err.ja, err.en, headers, **extra).response()


@bp.get("/cases/<string:slug>")
def current(slug: str):
    config = current_app.config["KOUIKI"]
    try:
        path = ingest.case_path(config, slug)
    except ingest.IngestError as err:
        return _api_error(err)
    if not path.is_file():
        raise ApiError(404, "no_such_case", "その事例はありません。", "There is no such case.")
    data = path.read_bytes()
    return add_cors(Response(data, content_type=TURTLE, headers={"ETag": f'"{ingest.sha256(data)}"'}))


@bp.put("/cases/<string:slug>")
def publish(slug: str):
    config = current_app.config["KOUIKI"]
    try:
        who = ingest.authenticate(request.headers.get("Authorization"))
        ingest.case_path(config, slug)
    except ingest.IngestError as err:
        if err.status in (401, 403):
            ingest.audit_refusal(config, request.remote_addr, action="put", case=slug, status=err.status)
        return _api_error(err)
    data = request.get_data(cache=False)
    if not data.strip():
        raise ApiError(400, "empty_submission", "事例の内容がありません。", "The request body is empty.")
    fmt = submission.format_for(None, request.content_type, None)
    try:
        outcome = ingest.publish(config, slug, data, fmt, who, if_match=request.headers.get("If-Match"),
                                 validate=lambda d, f, s: run_check(d, f, f"{s}.ttl", s, publish=True))
    except RdfSyntaxError as err:
        ingest.audit(config, who=who, action="put", case=slug, sha256=ingest.sha256(data), status=400)
        raise syntax_error(err) from None
    except ApiError as err:  # the check could not run on it (too complex, time limit, worker lost)
        ingest.audit_quietly(config, who=who, action="put", case=slug, sha256=ingest.sha256(data), status=err.status,
                             error=err.code)
        raise
    except ingest.IngestError as err:
        if err.status == 422 and err.report is not None and request.accept_mimetypes.best_match(
                ["application/json", "text/html"]) == "text/html":
            return report_response(err.report, ANSWERS["html"], choose_lang(), status=422, source=f"{slug}.ttl")
        return _api_error(err)
    ingest.make_dumps_later(config)
    body = {"case": outcome.case, "version": outcome.version, "sha256": outcome.sha256, "triples": outcome.triples,
            "iri": f"https://w3id.org/kouiki/id/initiative/{slug}"}
    response = jsonify(body)
    response.status_code = 201 if outcome.created else 200
    response.headers["ETag"] = f'"{outcome.sha256}"'
    response.headers["Location"] = f"/cases/{slug}"
    return response


@bp.delete("/cases/<string:slug>")
def withdraw(slug: str):
    config = current_app.config["KOUIKI"]
    try:
        who = ingest.authenticate(request.headers.get("Authorization"))
        outcome = ingest.withdraw(config, slug, who)
    except ingest.IngestError as err:
        if err.status in (401, 403):
            ingest.audit_refusal(config, request.remote_addr, action="delete", case=slug, status=err.status)
        return _api_error(err)
    ingest.make_dumps_later(config)
    return jsonify(case=outcome.case, version=outcome.version, deleted=True)


@bp.get("/cases/<string:slug>/history")
def history(slug: str):
    try:
        versions = ingest.history(current_app.config["KOUIKI"], slug)
    except ingest.IngestError as err:
        return _api_error(err)
    return add_cors(jsonify(case=slug, versions=versions))


@bp.get("/cases/<string:slug>/history/<string:version>")
def version(slug: str, version: str):
    try:
        data = ingest.version_bytes(current_app.config["KOUIKI"], slug, version)
    except ingest.IngestError as err:
        return _api_error(err)
    return add_cors(Response(data, content_type=TURTLE))
