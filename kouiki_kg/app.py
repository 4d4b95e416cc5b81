"""create_app(config) — builds the Flask app; registers the views, nothing else."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, request
from markupsafe import Markup

from . import errors, hosts
from .config import Config
from .i18n import choose_lang, remember_lang, translate
from .namespaces import compact
from .reader import link, local_path
from .web import READ_BLUEPRINTS, cors_headers, set_headers


# No inline script anywhere (pages hand data to scripts as JSON blocks); inline styles are allowed
# because the query editor sets them; nothing is loaded from another origin; no framing.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
                           "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


PAGE_ARGS = ("query", "default-graph-uri", "named-graph-uri", "q", "page", "incoming", "format", "case", "input", "report")


def create_app(config: Config | None = None) -> Flask:
    app = Flask(__name__)
    app.config["KOUIKI"] = config or Config.from_env()
    app.config["MAX_CONTENT_LENGTH"] = app.config["KOUIKI"].max_upload  # larger bodies: 413
    app.json.ensure_ascii = False  # Japanese stays readable in JSON answers
    app.json.sort_keys = False
    hosts.install(app, app.config["KOUIKI"])  # the URL pages name: configured, never a client's say

    from .views import cases, dataset, draft, health, home, openapi, resources, sparql, validate

    # resources last: its catch-all path answers only what no other view does
    for module in (health, sparql, dataset, openapi, home, validate, draft, cases, resources):
        app.register_blueprint(module.bp)
    errors.register(app)

    @app.after_request
    def common_headers(response):
        """CORS on read routes (errors included, so browser clients can read them); security headers."""
        missing = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin"}
        if request.blueprint in READ_BLUEPRINTS:  # unless the view set its own
            missing.update(cors_headers())
        if response.mimetype == "text/html":
            remember_lang(response)
            missing["Content-Language"] = choose_lang()
            set_headers(response, {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Frame-Options": "DENY"})
        return set_headers(response, missing, replace=False)

    @app.context_processor
    def ui_helpers():
        lang = choose_lang()
        other = "en" if lang == "ja" else "ja"
        # the other language of the same page: only what selects the page's content is kept, as
        # cached pages are shared by every request for them (a tracking parameter of the first
        # visitor must not end up in everyone's link)
        args = {k: v for k, v in request.args.items() if k in PAGE_ARGS}
        args["lang"] = other
        return {"t": lambda key, **values: translate(key, lang, **values), "other_lang": other,
                "lang_query": urlencode(args), "config": app.config["KOUIKI"]}

    app.add_template_global(link, "link")  # a node as HTML (reader.py): the templates' most used piece

    app.add_template_filter(compact, "compact")  # kk:Initiative for the full IRI

    @app.template_filter("in_lang")
    def in_lang(value):
        """A text in another language than the page's (a Japanese name on an English page) in an
        element that says so; any other value as it is."""
        tag = getattr(value, "lang", "")
        if not value or not tag or tag.split("-")[0] == choose_lang():
            return value
        return Markup('<span lang="{}">{}</span>').format(tag, value)

    @app.template_filter("local_path")
    def local_path_or_iri(iri: str) -> str:
        """An IRI under our canonical base, as a path on whatever host serves us."""
        return local_path(iri) or iri

    return app


def compile_templates(app: Flask) -> None:
    """Compile every template now (~0.2 s for all), as a web process starts (serving.post_worker_init):
    otherwise the first visitor of each kind of page waits for its template to compile, 20–90 ms."""
    for name in app.jinja_env.list_templates(extensions=["html"]):
        app.jinja_env.get_template(name)
