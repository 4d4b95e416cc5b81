"""/validate — check a case before submitting it (public; stores nothing).

GET: the form. POST: a raw body (format from Content-Type) or a multipart form (a pasted text
or an uploaded file, format chosen or from the file name). The answer is negotiated: an HTML
report for browsers, a JSON summary for programs, the full sh:ValidationReport in Turtle or
JSON-LD on request.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request

from ..validation import submission
from ..errors import ApiError
from ..formats import GRAPH_FORMATS, UPLOAD_FORMATS, Format, negotiate
from ..store import QueryFailed
from ..validation import RdfSyntaxError, Report, SubmissionTooLarge
from ..i18n import LANG_VARY, choose_lang
from ..web import add_cors, preflight, run_pooled

bp = Blueprint("validate", __name__)

HTML = Format("html", "text/html", "html")
JSON = Format("json", "application/json", "json")
CSV = Format("csv", "text/csv", "csv")
ANSWERS = {"html": HTML, "json": JSON, "csv": CSV, "ttl": GRAPH_FORMATS["ttl"], "jsonld": GRAPH_FORMATS["jsonld"]}


def answer_format(answers: dict[str, Format], parameter: str) -> Format:
    """The answer's format: the form's `parameter` (a page's download buttons), else Accept
    (JSON for a program that says nothing); 406 for one we do not make."""
    name = request.values.get(parameter)
    fmt = answers.get(name) if name else negotiate(request.headers.get("Accept"), answers, "json")
    if fmt is None:
        offered = [f.media_type for f in answers.values()]
        raise ApiError(406, "not_acceptable", "次のいずれかを指定してください: " + ", ".join(offered),
                       "Ask for one of: " + ", ".join(offered), offered=offered)
    return fmt


def read_submission() -> tuple[bytes, str, str, str | None]:
    """(bytes, format, source name, case replaced) from a form or a raw body."""
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        upload = request.files.get("file")
        text = request.form.get("text", "")
        if upload is not None and upload.filename:
            data, name = upload.read(), upload.filename
        else:
            data, name = text.encode("utf-8"), "submission"
        fmt = submission.format_for(request.form.get("format") or None, None, name)
        case = request.form.get("case") or None
    else:
        data, name = request.get_data(cache=False), "submission"
        fmt = submission.format_for(request.args.get("input") or None, request.content_type, None)
        case = request.args.get("case") or None
    if not data.strip():
        raise ApiError(400, "empty_submission", "検証する内容がありません。テキストを貼り付けるかファイルを選んでください。",
                       "Nothing to validate: paste a text or choose a file.")
    return data, fmt, name, case


def run_check(data: bytes, fmt: str, name: str, case: str | None, *, publish: bool = False):
    """The check in a worker process, stopped at the time limit like a query: a Report, or for
    an authenticated ingest (`publish`) a submission.Checked, from the stewards' own worker, so
    anonymous checks never queue in front of it. The document is parsed only there."""
    config = current_app.config["KOUIKI"]
    if case is not None and not submission.is_slug(case):
        raise ApiError(400, "bad_slug", "事例のスラッグは英小文字・数字・ハイフンで書いてください。",
                       "A case slug is lower-case letters, digits and hyphens.")
    request_ = submission.ValidationRequest(str(config.root), data, fmt, name, case, str(config.store_dir), publish)
    try:
        return run_pooled(request_, config.validation_timeout, "steward" if publish else "validation")
    except SubmissionTooLarge as err:
        raise ApiError(400, "submission_too_complex", err.ja, err.en, **err.limits) from None
    except QueryFailed as err:  # the check itself failed on this document
        raise ApiError(400, "check_failed", "この文書を検証できませんでした。", "This document could not be checked.",
                       detail=err.message[:300]) from None


PREPARE_TIMEOUT = 600.0  # seconds to parse the project ahead of checks (about 6 s at 1 M triples)


def prepare_checks(app: Flask) -> None:
    """Have the steward-check worker parse the project now, so that the first check is as quick
    as the next ones (at 1 M triples: 5.6 s the first time, 0.2 s after). The server runs this in
    a thread as each web process starts; if it fails, the first check parses the project itself."""
    with app.app_context():
        app.extensions["kouiki.checks_ready"] = False
        try:
            config = app.config["KOUIKI"]
            run_pooled(submission.PrepareChecks(str(config.root), str(config.store_dir)), PREPARE_TIMEOUT, "validation")
        except (ApiError, QueryFailed, RdfSyntaxError) as err:
            app.logger.warning("steward checks not prepared ahead (the first check will parse the project): %s", err)
            return
        app.extensions["kouiki.checks_ready"] = True


def syntax_error(err: RdfSyntaxError) -> ApiError:
    where = f"{err.line}行 {err.column}列" if err.line else ""
    return ApiError(400, "rdf_syntax",
                    f"構文エラーのため読み込めません（{where}）: {err.detail}" if where else f"読み込めません: {err.detail}",
                    f"Cannot read the submission (line {err.line}, column {err.column}): {err.detail}" if err.line
                    else f"Cannot read the submission: {err.detail}",
                    line=err.line, column=err.column, snippet=err.snippet, detail=err.detail)


def summary(report: Report, lang: str) -> dict:
    return {"conforms": report.conforms, "case": report.case, "violations": len(report.results),
            "results": [{"focus": r.focus, "line": r.line, "severity": r.severity, "path": r.path, "value": r.value,
                         "component": r.component, "shape": r.shape, "message": r.message(lang),
                         "messages": r.messages} for r in report.results]}


def report_response(report: Report, fmt: Format, lang: str, status: int = 200, **context) -> Response:
    if fmt is HTML:
        response = Response(render_template("validate.html", lang=lang, report=report, **context),
                            status=status, content_type=HTML.content_type)
    elif fmt is JSON:
        response = jsonify(summary(report, lang))
        response.status_code = status
    elif fmt is CSV:
        response = Response(report.to_csv(lang), status=status, content_type="text/csv; charset=utf-8")
    else:
        triples = [q.triple for q in ox.parse(report.to_turtle().encode("utf-8"), format=ox.RdfFormat.TURTLE)]
        response = Response(ox.serialize(triples, format=fmt.rdf, prefixes={"sh": "http://www.w3.org/ns/shacl#"}
                                         if fmt.name == "ttl" else None), status=status, content_type=fmt.content_type)
    response.headers["Vary"] = f"Accept, {LANG_VARY}"
    response.headers["Cache-Control"] = "no-store"
    if fmt is not HTML and request.values.get("download"):  # the report page's download buttons
        response.headers["Content-Disposition"] = f"attachment; filename=validation-report.{fmt.extension}"
    return response


@bp.route("/validate", methods=["GET", "POST", "OPTIONS"])
def validate():
    if request.method == "OPTIONS":
        return preflight("GET, POST, OPTIONS")
    lang = choose_lang()
    if request.method in ("GET", "HEAD"):  # HEAD: the form's headers (Flask drops the body)
        return render_template("validate.html", lang=lang, report=None, formats=UPLOAD_FORMATS)
    fmt = answer_format(ANSWERS, "report")
    data, input_format, source, case = read_submission()
    try:
        report = run_check(data, input_format, source, case)
    except RdfSyntaxError as err:
        error = syntax_error(err)
        if fmt is HTML:
            return Response(render_template("validate.html", lang=lang, report=None, formats=UPLOAD_FORMATS,
                                            syntax=err, submitted=data.decode("utf-8", "replace")),
                            status=400, content_type=HTML.content_type)
        raise error from None
    return add_cors(report_response(report, fmt, lang, formats=UPLOAD_FORMATS, source=source, case=case,
                                    input_format=request.values.get("format") or "",
                                    submitted=data.decode("utf-8", "replace").removeprefix("\ufeff")),
                    "GET, POST, OPTIONS")


@bp.get("/validate/template.ttl")
def template():
    """The case template of data/templates/, to start a new case from."""
    path = current_app.config["KOUIKI"].root / "data" / "templates" / "case-template.ttl"
    if not path.is_file():
        raise ApiError(404, "not_found", "テンプレートがありません。", "The template is missing.")
    return add_cors(Response(path.read_bytes(), content_type="text/turtle; charset=utf-8",
                             headers={"Content-Disposition": "attachment; filename=case-template.ttl"}))
