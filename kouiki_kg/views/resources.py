"""Every IRI we mint answers at its path: HTML for people, RDF for machines, by content negotiation.

    /id/…  /concept/…  /source/…  /graph/…  /ontology  /shapes

`{request path}` ↔ `{canonical base}{path}`: the server answers for the base on whatever host
serves it. A request that names no format and sends no Accept gets HTML (what a browser
wants); `.ttl`, `.nt`, `.jsonld`, `.rdf`, `.html` or `?format=` choose a variant outright.
An IRI outside the base is never fetched.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request

from .. import maps, pages, pictures, schema_org
from ..errors import ApiError
from ..formats import GRAPH_FORMATS, Format, by_name, negotiate
from ..i18n import LANG_VARY, choose_lang, translate
from ..namespaces import BASE, PREFIXES
from ..reader import compact
from ..cache import Cached
from ..web import add_cors, current, etag_for, not_modified, page_number, preflight, reader, remembered

bp = Blueprint("resources", __name__)

HTML = Format("html", "text/html", "html")
VARIANTS = {"html": HTML, "ttl": GRAPH_FORMATS["ttl"], "nt": GRAPH_FORMATS["nt"], "jsonld": GRAPH_FORMATS["jsonld"],
            "rdfxml": GRAPH_FORMATS["rdfxml"]}
EXTENSIONS = {".ttl": "ttl", ".nt": "nt", ".jsonld": "jsonld", ".rdf": "rdfxml", ".html": "html"}
SUFFIX = {name: ext for ext, name in EXTENSIONS.items()}
MINTED = ("id/", "concept/", "source/", "graph/", "ontology/")
DOCUMENTS = ("ontology", "shapes")
TEMPLATES = {"initiative": "initiative.html", "local_government": "local_government.html",
             "organisation": "organisation.html", "concept": "concept.html", "scheme": "scheme.html",
             "source": "source.html", "ontology": "ontology.html", "shapes": "shapes.html",
             "graph": "resource.html", "resource": "resource.html"}


def _is_minted(path: str) -> bool:
    return path in DOCUMENTS or path.startswith(MINTED)


def _split_extension(path: str) -> tuple[str, str | None]:
    for ext, name in EXTENSIONS.items():
        if path.endswith(ext) and len(path) > len(ext):
            return path[: -len(ext)], name
    return path, None


def _names_something(read, iri: str) -> bool:
    try:
        return read.exists(iri)
    except ValueError:  # not a valid IRI
        return False


def not_found(lang: str) -> ApiError:
    """404 (errors.py answers with a page for people, JSON for programs)."""
    return ApiError(404, "not_found", "この IRI のリソースはありません。", "There is no resource with this IRI.",
                    iri=BASE + request.path.lstrip("/"))


@bp.route("/<path:path>", methods=["GET", "HEAD", "OPTIONS"])
def resource(path: str):
    if request.method == "OPTIONS":
        return preflight()
    lang = choose_lang()
    base_path, forced = _split_extension(path)
    if not (_is_minted(path) or _is_minted(base_path)):
        raise not_found(lang)
    read = reader()
    if forced is not None and _names_something(read, BASE + path) and not _names_something(read, BASE + base_path):
        base_path, forced = path, None  # the extension is part of the name
    iri = BASE + base_path
    try:
        ox.NamedNode(iri)  # a path that makes no valid IRI names nothing of ours
    except ValueError:
        raise not_found(lang) from None
    try:
        fmt = _variant(forced)
    except ApiError:
        if not read.exists(iri):
            raise not_found(lang) from None  # nothing here is a 404 whatever the format asked
        raise
    _, info = current()
    # an HTML page names its own URL (schema.org), so it is one answer per host it is asked on
    page_parts = (lang, f"{page_number('incoming')}/{page_number('page')}", request.url_root) if fmt is HTML else ()
    etag = etag_for(info, "resource", iri, fmt.name, *page_parts)
    headers = {
        "ETag": etag, "Vary": f"Accept, {LANG_VARY}", "Cache-Control": "public, max-age=300",
        "Link": ", ".join(f'</{base_path}{SUFFIX[n]}>; rel="alternate"; type="{f.media_type}"' for n, f in VARIANTS.items()),
        "Content-Location": f"/{base_path}{SUFFIX[fmt.name]}",
    }
    # Existence is asked only when the answer is made: an ETag or a cached answer of this build
    # names a resource that exists in it (a look-up in the store was a fifth of a cached page's
    # time). `If-None-Match: *` names none, so it still asks.
    if not_modified(etag) and (etag in request.headers.get("If-None-Match", "") or read.exists(iri)):
        return add_cors(Response(status=304, headers=headers))

    def make() -> Cached:
        if not read.exists(iri):
            raise not_found(lang)
        if fmt is HTML:
            return Cached(render_page(read, iri, base_path, lang).encode("utf-8"), fmt.content_type, ())
        body = ox.serialize(read.describe(iri), format=fmt.rdf, prefixes=PREFIXES if fmt.name in ("ttl", "rdfxml") else None)
        return Cached(body, fmt.content_type, ())

    cached = remembered(etag, make)
    response = Response(cached.body, content_type=cached.content_type)
    if fmt is HTML:
        response.headers["Content-Language"] = lang
    response.headers.update(headers)
    return add_cors(response)


def _variant(forced: str | None) -> Format:
    """The representation asked for: by extension, ?format=, or the Accept header."""
    if forced:
        return VARIANTS[forced]
    name = request.args.get("format")
    if name:
        fmt = by_name(name, VARIANTS) or (HTML if name == "html" else None)
        if fmt is None:
            raise ApiError(400, "unknown_format", f"format={name} には対応していません。", f"format={name} is not supported.",
                           offered=list(VARIANTS))
        return fmt
    fmt = negotiate(request.headers.get("Accept"), VARIANTS, "html")
    if fmt is None:
        offered = [f.media_type for f in VARIANTS.values()]
        raise ApiError(406, "not_acceptable", "次のいずれかの形式を指定してください: " + ", ".join(offered),
                       "Ask for one of: " + ", ".join(offered), offered=offered)
    return fmt


def render_page(read, iri: str, base_path: str, lang: str) -> str:
    kind = read.kind(iri)
    builders = {
        "initiative": lambda: pages.initiative(read, iri, lang),
        "local_government": lambda: pages.organisation(read, iri, lang),
        "organisation": lambda: pages.organisation(read, iri, lang),
        "concept": lambda: pages.concept(read, iri, lang, page_number("page")),
        "scheme": lambda: pages.scheme(read, iri, lang),
        "source": lambda: pages.source(read, iri, lang),
        "ontology": lambda: pages.ontology(read, lang),
        "shapes": lambda: pages.shapes(read, lang),
    }
    data = builders.get(kind, lambda: {})()
    node = read.node(ox.NamedNode(iri), lang)
    data.setdefault("label", node.text)
    pictures_ = {}
    if kind == "initiative":
        words = {"target": translate("diagram.target", lang), "bodies": translate("diagram.bodies", lang)}
        pictures_["diagram"] = pictures.actor_diagram(data, iri, lang, words, translate("page.diagram", lang))
    if data.get("map"):
        pictures_["map"] = maps.figure(data["map"], pages.prefecture_points(read, lang), lang,
                                       translate("page.map", lang), data.get("highlight"))
    if kind in ("ontology", "shapes"):
        properties, incoming = [], None
    else:
        properties = read.properties(ox.NamedNode(iri), lang)
        incoming = read.incoming(iri, lang, page_number("incoming"))
    url = request.url_root.rstrip("/") + "/" + base_path
    return render_template(
        TEMPLATES.get(kind, "resource.html"), lang=lang, kind=kind, iri=iri, node=node, d=data,
        properties=properties, incoming=incoming, pictures=pictures_, base_path=base_path,
        types=read.nodes([ox.NamedNode(t) for t in read.types(iri)], lang),
        alternates=[(f.media_type, f"/{base_path}{SUFFIX[n]}", n) for n, f in VARIANTS.items() if n != "html"],
        json_ld=schema_org.script(schema_org.describe(kind, iri, data, url)), compact=compact,
    )
