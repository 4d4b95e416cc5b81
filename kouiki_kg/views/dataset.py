"""/dataset (and /.well-known/void): the DCAT-AP + VoID description; /dumps/…: the whole graph."""

from __future__ import annotations

import pyoxigraph as ox
import rdflib
from flask import Blueprint, Response, render_template, request, send_file

from ..description import DATASET, DESCRIPTION_FILE, DUMPS
from ..description import DUMP_FILES as DUMP_FILES_BY_NAME
from ..cache import Cached
from ..errors import ApiError
from ..store import ensure_dumps
from ..formats import GRAPH_FORMATS, Format, by_name, convert_turtle, negotiate
from ..i18n import LANG_VARY, choose_lang
from ..web import add_cors, build_file, current, etag_for, not_modified, preflight, reader, remembered, remote_data

bp = Blueprint("dataset", __name__)

HTML = Format("html", "text/html", "html")
DESCRIPTION_FORMATS = {"html": HTML, "ttl": GRAPH_FORMATS["ttl"], "jsonld": GRAPH_FORMATS["jsonld"],
                       "nt": GRAPH_FORMATS["nt"], "rdfxml": GRAPH_FORMATS["rdfxml"]}
DUMP_FILES = {spec[0]: name for name, spec in DUMPS.items()}


@bp.route("/.well-known/void", methods=["GET", "HEAD", "OPTIONS"])
def well_known_void():
    """The VoID well-known location (RFC 5785) answers what /dataset answers."""
    return description()


@bp.route("/dataset", methods=["GET", "HEAD", "OPTIONS"])
def description():
    if request.method == "OPTIONS":
        return preflight()
    name = request.args.get("format")
    fmt = by_name(name, DESCRIPTION_FORMATS) if name else negotiate(request.headers.get("Accept"),
                                                                   DESCRIPTION_FORMATS, "ttl")
    if fmt is None:
        offered = [f.media_type for f in DESCRIPTION_FORMATS.values()]
        raise ApiError(406, "not_acceptable", "次のいずれかの形式を指定してください: " + ", ".join(offered),
                       "Ask for one of: " + ", ".join(offered), offered=offered)
    build, info = current()
    lang = choose_lang() if fmt is HTML else ""
    etag = etag_for(info, "dataset", fmt.name, lang)
    if not_modified(etag):
        return add_cors(Response(status=304, headers={"ETag": etag, "Vary": f"Accept, {LANG_VARY}"}))

    def make() -> Cached:  # harvesters ask again and again: parsed and written once per build
        turtle = build_file(build, DESCRIPTION_FILE).read_text(encoding="utf-8")
        if fmt is HTML:
            page = render_template("dataset.html", lang=lang, d=_summary(turtle, lang), info=info)
            return Cached(page.encode("utf-8"), HTML.content_type, ())
        return Cached(convert_turtle(turtle, fmt), fmt.content_type, ())

    answer = remembered(etag, make)
    response = Response(answer.body, content_type=answer.content_type)
    if fmt is HTML:
        response.headers["Content-Language"] = lang
    response.headers.update({"ETag": etag, "Vary": f"Accept, {LANG_VARY}", "Cache-Control": "public, max-age=300",
                             "Link": f'<{DATASET}>; rel="describedby"'})
    return add_cors(response)


def _summary(turtle: str, lang: str) -> dict:
    """What the HTML page shows, read from the same description the RDF formats serve."""
    g = rdflib.Graph().parse(data=turtle, format="turtle")
    DCT, DCAT, VOID = rdflib.DCTERMS, rdflib.Namespace("http://www.w3.org/ns/dcat#"), rdflib.VOID
    ds = rdflib.URIRef(DATASET)

    def text(subject, predicate):
        values = {getattr(o, "language", None): str(o) for o in g.objects(subject, predicate)}
        return values.get(lang) or values.get("en") or next(iter(values.values()), "")

    distributions = []
    for d in sorted(g.objects(ds, DCAT.distribution)):
        distributions.append({"title": text(d, DCT.title), "url": str(g.value(d, DCAT.accessURL))})
    classes = sorted(((str(g.value(p, VOID["class"])), int(g.value(p, VOID.entities)))
                      for p in g.objects(ds, VOID.classPartition)), key=lambda c: -c[1])
    return {
        "title": text(ds, DCT.title), "description": text(ds, DCT.description),
        "triples": int(g.value(ds, VOID.triples)), "entities": int(g.value(ds, VOID.entities)),
        "license": str(g.value(ds, DCT.license)), "modified": str(g.value(ds, DCT.modified)),
        "distributions": distributions, "classes": _classes(classes, lang), "endpoint": str(g.value(ds, VOID.sparqlEndpoint)),
    }


def _classes(classes: list[tuple[str, int]], lang: str) -> list[dict]:
    """Every class the description counts, most instances first, with its label and a link to
    its page (ours) or its definition (W3C's)."""
    nodes = reader().nodes([ox.NamedNode(iri) for iri, _ in classes], lang)
    return [{"node": node, "n": n} for node, (_, n) in zip(nodes, classes)]


@bp.route("/dumps/<string:file_name>", methods=["GET", "HEAD", "OPTIONS"])
def dump(file_name: str):
    if request.method == "OPTIONS":
        return preflight()
    if file_name not in DUMP_FILES:  # a fixed list: no path from the URL ever reaches the file system
        raise ApiError(404, "no_such_dump", "そのダンプはありません。", "There is no such dump.",
                       available=sorted(DUMP_FILES))
    build, info = current()
    remote = remote_data()
    try:
        if remote is not None:
            remote.ensure_dumps(build, info)
        else:  # a build published as an increment is served before its dumps are written
            ensure_dumps(build, DUMP_FILES_BY_NAME)
    except OSError as err:
        raise ApiError(503, "dumps_unavailable", "ダンプを作成できませんでした。しばらくしてからやり直してください。",
                       "The dumps could not be written; try again later.", reason=err.strerror or str(err)) from None
    response = send_file(build_file(build, "dumps", file_name), mimetype="application/gzip", as_attachment=True,
                         download_name=file_name, etag=etag_for(info, "dump", file_name).strip('"'),
                         conditional=True, max_age=300)
    return add_cors(response)
