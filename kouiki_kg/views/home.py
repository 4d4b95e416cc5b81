"""The home page, site search, sitemap and robots.txt."""

from __future__ import annotations

from typing import Callable
from xml.sax.saxutils import escape

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for

from .. import maps, pages, schema_org, search
from ..cache import Cached
from ..errors import ApiError
from ..formats import GRAPH_FORMATS, Format, negotiate
from ..failures import RequestFailed
from ..i18n import LANG_VARY, LANGS, choose_lang, translate
from ..web import add_cors, build_file, current, etag_for, not_modified, page_number, reader, remembered

bp = Blueprint("home", __name__)
HTML = Format("html", "text/html", "html")


HTML_TYPE = "text/html; charset=utf-8"


def _html(etag: str, lang: str, render: Callable[[], str], *, remember: bool = False) -> Response:
    """An HTML page with its ETag; `remember`: made once per build (and key), then from the caches."""
    if not_modified(etag):
        return Response(status=304, headers={"ETag": etag})
    body = (remembered(etag, lambda: Cached(render().encode("utf-8"), HTML_TYPE, ())).body if remember
            else render().encode("utf-8"))
    response = Response(body, content_type=HTML_TYPE)
    response.headers.update({"ETag": etag, "Vary": LANG_VARY, "Content-Language": lang,
                             "Cache-Control": "public, max-age=300"})
    return response


@bp.get("/")
def index():
    """The home page; an RDF client asking for the base IRI is sent to the dataset description."""
    wanted = negotiate(request.headers.get("Accept"), {"html": HTML, **GRAPH_FORMATS}, "html")
    if wanted is not None and wanted is not HTML:
        return redirect(url_for("dataset.description", format=wanted.name), code=303)
    lang = choose_lang()
    _, info = current()
    page = page_number("page")

    def render() -> str:
        read = reader()
        data = pages.home(read, lang, page)
        overview = overview_map(read, lang)
        document = schema_org.describe("home", "", {"name": translate("site", lang), "description": translate("tagline", lang)},
                                       request.url_root)
        return render_template("home.html", lang=lang, d=data, info=info, overview=overview,
                               json_ld=schema_org.script(document))

    # the page names its own URL (schema.org): one answer per host it is asked on
    return _html(etag_for(info, "home", lang, str(page), request.url_root), lang, render, remember=True)


def overview_map(read, lang: str):
    """The home page's map of every body taking part: the same for every home page of a build,
    made once per web process and language (at 1 M triples it places ~1,700 bodies, ~0.2 s)."""
    return read.once(("home_map", lang), lambda: maps.figure(
        pages.home_map(read, lang), pages.prefecture_points(read, lang), lang, translate("home.map", lang)))


def prepare_home(app) -> None:
    """Make the home page's map in every language as a web process starts, so that its first
    visitors do not wait for it (serving.py). Without a store yet, the first visitor makes it."""
    with app.app_context():
        try:
            read = reader()
            for lang in LANGS:
                overview_map(read, lang)
        except (ApiError, RequestFailed) as err:
            app.logger.warning("home page's map not made ahead: %s", err)


@bp.get("/search")
def search_page():
    lang = choose_lang()
    build, info = current()
    text = request.args.get("q", "")
    if len(text) > search.MAX_QUERY:
        raise ApiError(400, "query_too_long", f"検索語は {search.MAX_QUERY} 文字までです。",
                       f"Search for at most {search.MAX_QUERY} characters.")
    page = page_number("page")
    found = search.search(build_file(build, search.INDEX_FILE), text, page, lang=lang)
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    if best == "application/json" or request.args.get("format") == "json":
        return add_cors(jsonify(query=text, total=found.total, page=found.page, pages=found.pages,
                                results=[hit.to_json() for hit in found.hits], suggestions=found.suggestions))
    first = (found.page - 1) * search.PER_PAGE + 1
    return _html(etag_for(info, "search", lang, text, str(found.page)), lang,
                 lambda: render_template("search.html", lang=lang, q=text, found=found, first=first,
                                         last=first + len(found.hits) - 1))


@bp.get("/robots.txt")
def robots():
    return Response("User-agent: *\nAllow: /\nDisallow: /sparql?\nDisallow: /search\n"
                    f"Sitemap: {request.url_root}sitemap.xml\n", content_type="text/plain; charset=utf-8")


SITEMAP_URLS = 50_000  # the sitemap protocol's limit per file; past it /sitemap.xml is an index


@bp.get("/sitemap.xml")
def sitemap():
    """Every page: the site's own and every IRI-named resource we mint (listed at build time, see listings.py).

    Up to 50,000 URLs it is one urlset; past that a sitemap index of /sitemap-N.xml files."""
    _, info = current()
    etag = etag_for(info, "sitemap", request.url_root)
    if not_modified(etag):
        return Response(status=304, headers={"ETag": etag})
    _, total = reader().listings.pages(0, 0)
    if total <= SITEMAP_URLS:
        return _sitemap_file(1, etag)
    root = request.url_root.rstrip("/")
    lastmod = info.built_at[:10]
    files = -(-total // SITEMAP_URLS)
    body = ['<?xml version="1.0" encoding="UTF-8"?>', '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    body += [f"<sitemap><loc>{escape(root)}/sitemap-{n}.xml</loc><lastmod>{lastmod}</lastmod></sitemap>"
             for n in range(1, files + 1)]
    body.append("</sitemapindex>")
    return _xml("\n".join(body), etag)


@bp.get("/sitemap-<int:number>.xml")
def sitemap_part(number: int):
    _, info = current()
    etag = etag_for(info, "sitemap", request.url_root, str(number))
    if not_modified(etag):
        return Response(status=304, headers={"ETag": etag})
    return _sitemap_file(number, etag)


def _sitemap_file(number: int, etag: str) -> Response:
    """The number-th 50,000 URLs: the site's pages first, then the resources in path order."""
    _, info = current()
    paths, _ = reader().listings.pages((number - 1) * SITEMAP_URLS, SITEMAP_URLS) if number >= 1 else ([], 0)
    if not paths:
        raise ApiError(404, "not_found", "このサイトマップはありません。", "There is no such sitemap file.")
    root = request.url_root.rstrip("/")
    lastmod = info.built_at[:10]
    body = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    body += [f"<url><loc>{escape(root + p)}</loc><lastmod>{lastmod}</lastmod></url>" for p in paths]
    body.append("</urlset>")
    return _xml("\n".join(body), etag)


def _xml(text: str, etag: str) -> Response:
    response = Response(text, content_type="application/xml; charset=utf-8")
    response.headers.update({"ETag": etag, "Cache-Control": "public, max-age=300"})
    return response
