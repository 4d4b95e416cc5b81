"""One JSON error shape for every HTTP surface, with the message in Japanese and English.

    {"error": "query_syntax", "status": 400, "message": {"ja": …, "en": …}, …extra}
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from .i18n import LANG_VARY, choose_lang


class ApiError(Exception):
    def __init__(self, status: int, code: str, ja: str, en: str, headers: dict | None = None, **extra):
        super().__init__(en)
        self.status, self.code, self.ja, self.en, self.headers, self.extra = status, code, ja, en, headers or {}, extra

    def response(self) -> Response:
        return error_response(self.status, self.code, self.ja, self.en, self.headers, **self.extra)


def wants_html() -> bool:
    """A browser (HTML preferred to JSON) gets an error page; everything else gets JSON."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > request.accept_mimetypes["application/json"]


def error_response(status: int, code: str, ja: str, en: str, headers: dict | None = None, **extra) -> Response:
    if wants_html():
        lang = choose_lang()
        response = Response(render_template("error.html", lang=lang, status=status, code=code,
                                            message={"ja": ja, "en": en}[lang], other={"ja": en, "en": ja}[lang]),
                            status=status, content_type="text/html; charset=utf-8")
        response.headers["Vary"] = f"Accept, {LANG_VARY}"
    else:
        response = jsonify({"error": code, "status": status, "message": {"ja": ja, "en": en}, **extra})
        response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# Werkzeug's own errors (routing, body size, malformed requests) in our shape.
HTTP_MESSAGES = {
    400: ("bad_request", "リクエストの形式が正しくありません。", "The request is malformed."),
    404: ("not_found", "指定された場所には何もありません。", "There is nothing at this address."),
    405: ("method_not_allowed", "このメソッドはここでは使えません。Allow ヘッダーのメソッドを使ってください。",
          "This method is not allowed here; use one listed in the Allow header."),
    413: ("payload_too_large", "リクエストの本体が大きすぎます。", "The request body is too large."),
    414: ("uri_too_long", "URL が長すぎます。POST で送ってください。", "The URL is too long; send the request with POST."),
    431: ("headers_too_large", "リクエストヘッダーが大きすぎます。", "The request headers are too large."),
}


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(err: ApiError):
        return err.response()

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        code, ja, en = HTTP_MESSAGES.get(err.code or 500, ("http_error", err.name, err.name))
        headers = {k: v for k, v in err.get_headers() if k.lower() == "allow"}
        return error_response(err.code or 500, code, ja, en, headers)

    from .remote import StoreUnavailable

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(err: StoreUnavailable):  # the remote SPARQL store behind us
        app.logger.warning("remote store: %s", err)
        return error_response(502, "store_unavailable", "データを保持する SPARQL ストアが応答しません。しばらくしてからお試しください。",
                              "The SPARQL store behind this site is not answering; try again shortly.", {"Retry-After": "10"})

    @app.errorhandler(Exception)
    def unexpected(err: Exception):  # a bug of ours: say so plainly, log it, never leak a traceback
        app.logger.exception("unhandled error")
        return error_response(500, "internal_error", "サーバー内部でエラーが起きました。", "The server failed unexpectedly.")
