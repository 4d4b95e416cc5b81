"""/sparql — the SPARQL 1.1 Protocol (query only), its service description and query UI."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from pyoxigraph import NamedNode

from .. import description
from ..errors import ApiError
from ..formats import GRAPH_FORMATS, RESULT_FORMATS, Format, by_name, convert_turtle, negotiate
from ..cache import Cached
from ..store import QueryFailed, QueryRequest
from ..namespaces import BASE, PREFIXES
from ..querytext import MAX_NESTING, MAX_OPERATORS, MAX_UNIONS, is_light, query_shape
from ..i18n import LANG_VARY, choose_lang, translate
from ..web import add_cors, answer_cache, current, etag_for, not_modified, preflight, reader, run_pooled

bp = Blueprint("sparql", __name__)

METHODS = "GET, HEAD, POST, OPTIONS"
MIN_TIMEOUT = 0.1  # seconds: a client may lower the limit, not ask for an instant failure
HTML = Format("html", "text/html", "html")


def _single(values: list[str], name: str) -> str | None:
    if len(values) > 1:
        raise ApiError(400, "duplicate_parameter", f"パラメーター {name} が複数あります。一つにしてください。",
                       f"The parameter {name} is given more than once.")
    return values[0] if values else None


def _protocol_parameters() -> dict:
    """query, update and dataset parameters from GET, form POST or direct POST (SPARQL 1.1 Protocol §2.1)."""
    args = request.args
    params = {"query": _single(args.getlist("query"), "query"), "update": _single(args.getlist("update"), "update"),
              "default": args.getlist("default-graph-uri"), "named": args.getlist("named-graph-uri")}
    if request.method == "POST":
        mimetype = request.mimetype
        if mimetype == "application/x-www-form-urlencoded":
            form = request.form
            params["query"] = params["query"] or _single(form.getlist("query"), "query")
            params["update"] = params["update"] or _single(form.getlist("update"), "update")
            params["default"] += form.getlist("default-graph-uri")
            params["named"] += form.getlist("named-graph-uri")
        elif mimetype == "application/sparql-query":
            try:
                params["query"] = request.get_data(cache=False).decode("utf-8")
            except UnicodeDecodeError:
                raise ApiError(400, "bad_encoding", "問い合わせは UTF-8 で送ってください。",
                               "Send the query as UTF-8.") from None
        elif mimetype == "application/sparql-update":
            params["update"] = "(body)"
        else:
            raise ApiError(415, "unsupported_media_type",
                           "POST の Content-Type は application/sparql-query か application/x-www-form-urlencoded にしてください。",
                           "POST with Content-Type application/sparql-query or application/x-www-form-urlencoded.",
                           accepted=["application/sparql-query", "application/x-www-form-urlencoded"])
    for name, key in (("default-graph-uri", "default"), ("named-graph-uri", "named")):
        for graph in params[key]:
            try:
                NamedNode(graph)
            except ValueError as err:
                raise ApiError(400, "bad_graph_uri", f"{name} には絶対 IRI を指定してください（{graph!r}）。",
                               f"{name} must be an absolute IRI ({graph!r}).", detail=str(err)) from None
    if params["update"] is not None:
        raise ApiError(403, "read_only", "この公開エンドポイントは読み取り専用です。更新（SPARQL Update）はできません。",
                       "This public endpoint is read-only: SPARQL Update is not accepted.")
    return params


def _value(name: str) -> str | None:
    """A parameter of the query string or form, if given. (`request.values.get` builds and raises
    an HTTP exception for each parameter not there.)"""
    values = request.values.getlist(name)
    return values[0] if values else None


def _timeout(limit: float) -> float:
    raw = _value("timeout")
    if raw is None or raw == "":
        return limit
    try:
        asked = float(raw)
    except ValueError:
        asked = -1
    if not asked >= MIN_TIMEOUT:  # also refuses NaN
        raise ApiError(400, "bad_timeout", f"timeout は {MIN_TIMEOUT} 秒以上の秒数で指定してください。",
                       f"timeout must be a number of seconds, at least {MIN_TIMEOUT}.")
    return min(asked, limit)  # a client may only lower the server's limit


def _formats() -> tuple[Format | None, Format | None]:
    """(results format, graph format) wanted: ?format= overrides Accept."""
    name = _value("format")
    if name:
        results, graph = by_name(name, RESULT_FORMATS), by_name(name, GRAPH_FORMATS)
        if results is None and graph is None:
            raise ApiError(400, "unknown_format", f"format={name} には対応していません。",
                           f"format={name} is not supported.", offered=[*RESULT_FORMATS, *GRAPH_FORMATS])
        return results, graph
    accept = request.headers.get("Accept")
    return negotiate(accept, RESULT_FORMATS, "json"), negotiate(accept, GRAPH_FORMATS, "ttl")


def _not_acceptable(kind: str) -> ApiError:
    offered = RESULT_FORMATS if kind in ("solutions", "boolean") else GRAPH_FORMATS
    types = [f.media_type for f in offered.values()]
    return ApiError(406, "not_acceptable", "要求された形式では返せません。次のいずれかを指定してください: " + ", ".join(types),
                    "None of the requested formats can be produced; ask for one of: " + ", ".join(types),
                    offered=types, formats=list(offered))


@bp.route("/sparql", methods=["GET", "HEAD", "POST", "OPTIONS"])
def endpoint():
    if request.method == "OPTIONS":
        return preflight(METHODS)
    params = _protocol_parameters()
    if params["query"] is None:
        if request.method == "POST":
            raise ApiError(400, "missing_query", "問い合わせ（query）がありません。", "No query was given.")
        return _describe_or_ui()
    if not params["query"].strip():
        raise ApiError(400, "missing_query", "問い合わせ（query）が空です。", "The query is empty.")
    config = current_app.config["KOUIKI"]
    timeout = _timeout(config.query_timeout)
    results_format, graph_format = _formats()
    build, info = current()
    etag = etag_for(info, params["query"], results_format.name if results_format else "-",
                    graph_format.name if graph_format else "-", "\t".join(params["default"]),
                    "\t".join(params["named"]), str(config.row_limit), str(config.max_answer_bytes))
    if not_modified(etag):
        return add_cors(Response(status=304, headers={"ETag": etag, "Vary": "Accept"}), METHODS)
    query_request = QueryRequest(
        build_dir=str(build), query=params["query"],
        results_format=results_format.name if results_format else None,
        graph_format=graph_format.name if graph_format else None,
        row_limit=config.row_limit, max_answer_bytes=config.max_answer_bytes,
        default_graph_uris=tuple(params["default"]), named_graph_uris=tuple(params["named"]),
        endpoint=config.sparql_endpoint)
    # same build, same request: the same bytes; the same request sent meanwhile waits for them
    # (and for a time-out too, if it allows the same time)
    answer, made = answer_cache().get_or_make(etag, lambda: _evaluate(query_request, timeout, etag, config.row_limit),
                                              shared_by=f"{etag} {timeout}")
    response = Response(answer.body, content_type=answer.content_type,
                        headers=[*answer.headers, ("X-Kouiki-Cache", "miss" if made else "hit")])
    return add_cors(response, METHODS)


def prepare_queries(app) -> None:
    """Start the query workers and have one open the current build now: the first query after a
    start took 1–4 s (workers importing, the store opening). The server runs this in a thread as
    each web process starts; /health says "ready" only once it is done."""
    with app.app_context():
        app.extensions["kouiki.queries_ready"] = False
        config = app.config["KOUIKI"]
        try:
            build, _ = current()
            run_pooled(QueryRequest(build_dir=str(build), query="ASK {}", results_format="json", graph_format=None,
                                    row_limit=1, endpoint=config.sparql_endpoint), 60.0, "query")
        except (ApiError, QueryFailed) as err:  # no store yet, or it fails: the first query tries again
            app.logger.warning("query workers not prepared ahead: %s", err)
        app.extensions["kouiki.queries_ready"] = True


def _evaluate(query_request: QueryRequest, timeout: float, etag: str, row_limit: int) -> Cached:
    """Run a query in the worker pool, or here if it is light: its answer with its headers, or the error to send."""
    here = None
    light_path = current_app.config["KOUIKI"].light_threads and query_request.endpoint is None
    if light_path and is_light(query_request.query):  # only read when it can be used
        store = reader().store  # the pages' open store, if it is of the build the ETag names
        if str(store.build_dir) == query_request.build_dir:
            here = {("store", query_request.build_dir): store.engine}
    try:
        answer = run_pooled(query_request, timeout, "query", cost_key=query_shape(query_request.query), here=here)
    except QueryFailed as err:
        if err.kind == "syntax":
            raise ApiError(400, "query_syntax",
                           f"SPARQL の構文エラーです（{err.line}行 {err.column}列）。" if err.line else "SPARQL の構文エラーです。",
                           f"SPARQL syntax error at line {err.line}, column {err.column}." if err.line else "SPARQL syntax error.",
                           line=err.line, column=err.column, detail=err.message) from None
        if err.kind == "too_complex":
            raise ApiError(400, "query_too_complex",
                           f"問い合わせが複雑すぎます（{err.message}）。括弧の入れ子は {MAX_NESTING} 段、演算子とパスの区切りは "
                           f"{MAX_OPERATORS} 個、UNION は {MAX_UNIONS} 個までです。",
                           f"The query is too complex ({err.message}): at most {MAX_NESTING} levels of brackets, "
                           f"{MAX_OPERATORS} operators and path separators, {MAX_UNIONS} UNIONs.",
                           limits={"nesting": MAX_NESTING, "operators": MAX_OPERATORS, "unions": MAX_UNIONS}) from None
        if err.kind == "too_large":
            raise ApiError(413, "answer_too_large",
                           f"答えの一行（または一トリプル）だけで上限の {config_bytes():,} バイトを超えます。",
                           f"A single row (or triple) of the answer is larger than the limit of {config_bytes():,} bytes.",
                           limit_bytes=config_bytes()) from None
        if err.kind == "forbidden":
            raise ApiError(403, "service_not_allowed",
                           "SERVICE による連合問い合わせはこのエンドポイントでは使えません。",
                           "Federated queries (SERVICE) are not allowed on this endpoint.") from None
        raise ApiError(400, "query_failed", "問い合わせを実行できませんでした。", "The query could not be evaluated.",
                       detail=err.message) from None
    if answer.format is None:
        raise _not_acceptable(answer.kind)
    fmt = (RESULT_FORMATS if answer.kind != "graph" else GRAPH_FORMATS)[answer.format]
    headers = {
        "ETag": etag, "Vary": "Accept", "Cache-Control": "public, max-age=60",
        "X-Kouiki-Row-Limit": str(row_limit), "X-Kouiki-Rows": str(answer.rows),
        "X-Kouiki-Truncated": "true" if answer.truncated else "false",
    }
    if answer.truncated_reason:  # "rows": KOUIKI_ROW_LIMIT; "bytes": KOUIKI_MAX_ANSWER_BYTES
        headers["X-Kouiki-Truncated-Reason"] = answer.truncated_reason
    return Cached(answer.body, fmt.content_type, tuple(headers.items()))


def config_bytes() -> int:
    return current_app.config["KOUIKI"].max_answer_bytes


def _describe_or_ui():
    """GET /sparql without a query: the query UI for browsers, the service description for RDF clients."""
    choice = negotiate(request.headers.get("Accept"), {"html": HTML, **GRAPH_FORMATS}, "ttl")
    name = request.args.get("format")
    if name:
        choice = by_name(name, GRAPH_FORMATS) or (HTML if name == "html" else None)
    if choice is None:
        raise _not_acceptable("graph")
    if choice is HTML:
        lang = choose_lang()
        examples = example_queries()
        ui_config = {
            # absolute: YASGUI builds its request with new URL(endpoint), which a path alone fails
            "endpoint": url_for("sparql.endpoint", _external=True), "prefixesUrl": url_for("sparql.prefixes"),
            "base": BASE, "prefixes": PREFIXES, "lang": lang,
            "messages": {key: translate(f"sparql.{key}", lang) for key in
                         ("error", "error_timeout_tip", "error_network", "error_code")},
            "examples": {ex["name"]: ex["query"] for ex in examples},
            "views": {key: translate(f"sparql.view.{key}", lang) for key in VIEW_WORDS},
            "geoUrl": url_for("static", filename="geo/japan.geojson"),
        }
        response = Response(render_template("sparql.html", lang=lang, examples=examples, ui_config=ui_config))
        response.headers["Vary"] = f"Accept, {LANG_VARY}"
        response.headers["Content-Language"] = lang
        return add_cors(response, METHODS)
    build, info = current()
    etag = etag_for(info, "service-description", choice.name)
    if not_modified(etag):
        return add_cors(Response(status=304, headers={"ETag": etag, "Vary": "Accept"}), METHODS)
    named = sorted(info.graph_triples.items())
    turtle = description.service_description_turtle(info.triples, named)
    response = Response(convert_turtle(turtle, choice), content_type=choice.content_type)
    response.headers.update({"ETag": etag, "Vary": "Accept"})
    return add_cors(response, METHODS)


VIEW_WORDS = ("map", "chart", "timeline", "network", "map_aria", "chart_aria", "timeline_aria", "network_aria", "map_points")


EXAMPLE_TAGS = ("roles", "bodies", "themes", "places", "time", "documents", "outcomes", "provenance", "counts",
                "map", "chart", "timeline", "network")


def example_queries() -> list[dict]:
    """The example queries of queries/ for the UI's gallery. Each file starts with its title in
    Japanese, then in English; `# summary: ja | en` is its one line, `# tags: a, b` its tags
    (EXAMPLE_TAGS; map, chart, timeline and network say which view the example shows)."""
    root = current_app.config["KOUIKI"].root
    examples = []
    for path in sorted((root / "queries").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        comments = [line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#")]
        fields = dict(c.split(": ", 1) for c in comments if c.split(": ", 1)[0] in ("summary", "tags") and ": " in c)
        titles = [c for c in comments if c.split(": ", 1)[0] not in ("summary", "tags")][:2]
        summary = [part.strip() for part in fields.get("summary", "").split(" | ")]
        examples.append({"name": path.stem, "ja": titles[0] if titles else path.stem,
                         "en": titles[1] if len(titles) > 1 else path.stem,
                         "summary": {"ja": summary[0], "en": summary[-1]} if summary[0] else {},
                         "tags": [t.strip() for t in fields.get("tags", "").split(",") if t.strip() in EXAMPLE_TAGS],
                         "query": text})
    return examples


@bp.get("/sparql/prefixes")
def prefixes():
    """The prefixes the endpoint predeclares, for the editor's completion ({prefix: namespace})."""
    return add_cors(jsonify(PREFIXES))
