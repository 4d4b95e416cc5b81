"""/draft — a case drafted from the ministry's case-sheet text (public; stores nothing).

GET: the form. POST: the text as a raw text/plain body, or a form (pasted text or an uploaded
file). The answer is negotiated: the draft's Turtle (`text/turtle`), JSON with the draft, its
review list and the validation report (`application/json`, the default for programs), or the
page for browsers. The check of the draft is /validate's, run in the check workers.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from .. import drafting
from ..errors import ApiError
from ..formats import Format
from ..i18n import LANG_VARY, choose_lang
from ..web import add_cors, preflight
from .validate import HTML, JSON, answer_format, run_check, summary

bp = Blueprint("draft", __name__)

TURTLE = Format("ttl", "text/turtle", "ttl")
ANSWERS = {"html": HTML, "json": JSON, "ttl": TURTLE}
METHODS = "GET, POST, OPTIONS"


def read_text() -> tuple[str, str]:
    """(text, file name) from a form or a raw body; UTF-8 only."""
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            data, name = upload.read(), upload.filename
        else:
            data, name = request.form.get("text", "").encode("utf-8"), request.form.get("name") or "case-sheet.txt"
    else:
        data, name = request.get_data(cache=False), request.args.get("name") or "case-sheet.txt"
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise ApiError(400, "not_utf8", "テキストは UTF-8 で送ってください。", "Send the text as UTF-8.") from None
    if not text.strip():
        raise ApiError(400, "empty_text", "下書きにするテキストがありません。事例シートのテキストを貼り付けるかファイルを選んでください。",
                       "Nothing to draft: paste the text of a case sheet or choose a file.")
    return text, name


@bp.route("/draft", methods=["GET", "POST", "OPTIONS"])
def draft():
    if request.method == "OPTIONS":
        return preflight(METHODS)
    lang = choose_lang()
    if request.method in ("GET", "HEAD"):
        return _page(lang)
    fmt = answer_format(ANSWERS, "answer")
    text, source = read_text()
    try:
        made = drafting.draft(text, source, current_app.config["KOUIKI"].root)
    except drafting.UnknownLayout as err:
        if fmt is HTML:
            return _page(lang, text=text, source=source, unknown=err, status=422)
        raise ApiError(422, "unknown_layout", err.ja, err.en) from None
    except drafting.TooManyCases as err:
        raise ApiError(413, "too_many_initiatives", err.ja, err.en, limit=drafting.MAX_CASES) from None
    report = run_check(made.turtle.encode("utf-8"), "ttl", drafting.draft_name(source), None)
    drafting.add_report(made, report)
    if fmt is TURTLE:
        response = Response(made.turtle, content_type="text/turtle; charset=utf-8")
        # what a program needs to know without the JSON: is anything left to complete
        response.headers["X-Kouiki-Draft-Complete"] = "true" if made.complete else "false"
        response.headers["X-Kouiki-Draft-Review"] = str(len(made.review))
        if request.values.get("download"):
            response.headers["Content-Disposition"] = f"attachment; filename={drafting.draft_name(source)}"
    elif fmt is JSON:
        response = jsonify({"layout": made.layout, "initiatives": made.initiatives, "complete": made.complete,
                            "draft": made.turtle, "review": [item.as_dict() for item in made.review],
                            "report": summary(report, lang)})
    else:
        response = _page(lang, text=text, source=source, made=made, report=report)
    response.headers["Vary"] = f"Accept, {LANG_VARY}"
    response.headers["Cache-Control"] = "no-store"
    return add_cors(response, METHODS)


def _page(lang: str, status: int = 200, **context) -> Response:
    made = context.get("made")
    flagged: dict[int, list] = {}
    if made is not None:
        for item in made.review:
            if item.draft_line:
                flagged.setdefault(item.draft_line, []).append(item)
    response = Response(render_template("draft.html", lang=lang, flagged=flagged, **context), status=status,
                        content_type=HTML.content_type)
    response.headers["Vary"] = f"Accept, {LANG_VARY}"
    response.headers["Cache-Control"] = "no-store"
    return response
