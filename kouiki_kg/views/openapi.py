"""/openapi.json — the HTTP API described in OpenAPI 3.1 (a test keeps it in step with the routes)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .. import __version__
from ..formats import GRAPH_FORMATS, RESULT_FORMATS
from ..web import add_cors

bp = Blueprint("openapi", __name__)

ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str) -> dict:
    """Errors come as JSON, or as a page to a client that prefers HTML."""
    return {"description": description, "content": {"application/json": {"schema": ERROR},
                                                    "text/html": {"schema": {"type": "string"}}}}


def _results_content() -> dict:
    content = {f.media_type: {"schema": {"type": "string"}} for f in [*RESULT_FORMATS.values(), *GRAPH_FORMATS.values()]}
    content["application/sparql-results+json"] = {"schema": {"$ref": "#/components/schemas/SparqlResults"}}
    return content


LANG = {"name": "lang", "in": "query", "schema": {"type": "string", "examples": ["ja", "en"]},
        "description": "Page language: ja or en; any other value falls back to Accept-Language, then Japanese."}

SLUG_PARAMETER = {"name": "slug", "in": "path", "required": True,
                  "schema": {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 100}}

QUERY_PARAMETERS = [
    {"name": "query", "in": "query", "schema": {"type": "string", "minLength": 1},
     "description": "SPARQL 1.1 query (without it, GET answers the query UI or the service description)."},
    {"name": "default-graph-uri", "in": "query", "schema": {"type": "array", "items": {"type": "string"}},
     "style": "form", "explode": True, "description": "Graphs forming the default graph (default: union of all)."},
    {"name": "named-graph-uri", "in": "query", "schema": {"type": "array", "items": {"type": "string"}},
     "style": "form", "explode": True},
    {"name": "format", "in": "query", "schema": {"type": "string", "enum": [*RESULT_FORMATS, *GRAPH_FORMATS]},
     "description": "Overrides Accept."},
    {"name": "timeout", "in": "query", "schema": {"type": "number", "minimum": 0.1},
     "description": "Seconds (at least 0.1); may only lower the server's limit."},
]

QUERY_RESPONSES = {
    "200": {"description": "Query results, in the negotiated format.", "content": _results_content(),
            "headers": {"ETag": {"schema": {"type": "string"}},
                        "X-Kouiki-Truncated": {"schema": {"type": "string", "enum": ["true", "false"]}},
                        "X-Kouiki-Truncated-Reason": {"schema": {"type": "string", "enum": ["rows", "bytes"]},
                                                      "description": "Why the answer was cut, when it was."},
                        "X-Kouiki-Row-Limit": {"schema": {"type": "integer"}}}},
    "304": {"description": "Not modified (If-None-Match matched the ETag)."},
    "400": _error("Malformed request, SPARQL syntax error (with line and column), a dataset parameter that is not "
                  "an IRI, or a query past the complexity limits (query_too_complex)."),
    "403": _error("SPARQL Update: the endpoint is read-only."),
    "413": _error("A single row or triple of the answer is larger than KOUIKI_MAX_ANSWER_BYTES."),
    "406": _error("None of the acceptable formats can be produced."),
    "415": _error("Unsupported POST Content-Type."),
    "503": _error("The query ran past its time limit, or the store is not built yet."),
}


def document() -> dict:
    rdf_content = {f.media_type: {"schema": {"type": "string"}} for f in GRAPH_FORMATS.values()}
    read_only = {"description": "Method not allowed.", "content": {"application/json": {"schema": ERROR}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kouiki KG API", "version": __version__,
                 "description": "SPARQL endpoint, dataset description and dumps of Kouiki KG (広域連携ナレッジグラフ).",
                 "license": {"name": "MIT (code), CC BY 4.0 (data)"}},
        "paths": {
            "/sparql": {
                "get": {"summary": "SPARQL query (or, without a query, the service description / query UI)",
                        "parameters": QUERY_PARAMETERS, "responses": {
                            **QUERY_RESPONSES,
                            "200": {**QUERY_RESPONSES["200"], "content": {
                                **_results_content(), "text/html": {"schema": {"type": "string"}}}}}},
                "post": {"summary": "SPARQL query by POST", "parameters": QUERY_PARAMETERS[1:],
                         "requestBody": {"required": True, "content": {
                             "application/sparql-query": {"schema": {"type": "string", "minLength": 1}},
                             "application/x-www-form-urlencoded": {"schema": {
                                 "type": "object", "required": ["query"],
                                 "properties": {"query": {"type": "string", "minLength": 1},
                                                                  "default-graph-uri": {"type": "string"},
                                                                  "named-graph-uri": {"type": "string"}}}}}},
                         "responses": QUERY_RESPONSES},
                "options": {"summary": "CORS preflight", "responses": {"204": {"description": "Allowed methods."}}},
            },
            "/sparql/prefixes": {"get": {"summary": "Predeclared prefixes", "responses": {"200": {
                "description": "{prefix: namespace}", "content": {"application/json": {"schema": {
                    "type": "object", "additionalProperties": {"type": "string"}}}}}}}},
            "/dataset": {"get": {"summary": "DCAT-AP 3 and VoID description of the dataset", "responses": {
                "200": {"description": "The description.", "content": {**rdf_content, "text/html": {"schema": {"type": "string"}}}},
                "304": {"description": "Not modified."}, "406": _error("Unacceptable format."),
                "503": _error("Store not built.")}},
                "options": {"summary": "CORS preflight", "responses": {"204": {"description": "Allowed methods."}}}},
            "/.well-known/void": {"get": {"summary": "Same as /dataset", "responses": {
                "200": {"description": "The description.", "content": rdf_content},
                "304": {"description": "Not modified."}, "406": _error("Unacceptable format."),
                "503": _error("Store not built.")}},
                "options": {"summary": "CORS preflight", "responses": {"204": {"description": "Allowed methods."}}}},
            "/dumps/{file_name}": {"get": {"summary": "The whole graph, gzipped", "parameters": [
                {"name": "file_name", "in": "path", "required": True,
                 "schema": {"type": "string", "enum": ["kouiki.nq.gz", "kouiki.ttl.gz", "kouiki.jsonld.gz"]}}],
                "responses": {"200": {"description": "gzip file", "content": {"application/gzip": {
                    "schema": {"type": "string", "format": "binary"}}}},
                    "304": {"description": "Not modified."}, "404": _error("No such dump."),
                    "503": _error("Store not built.")}},
                "options": {"summary": "CORS preflight", "parameters": [
                    {"name": "file_name", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"204": {"description": "Allowed methods."}}}},
            "/validate": {
                "get": {"summary": "The validation form (HTML)", "parameters": [LANG], "responses": {
                    "200": {"description": "Form", "content": {"text/html": {"schema": {"type": "string"}}}}}},
                "post": {"summary": "Validate a case (stores nothing)",
                         "parameters": [{"name": "report", "in": "query", "schema": {"enum": ["html", "json", "ttl", "jsonld"]}},
                                        {"name": "input", "in": "query", "schema": {"enum": ["ttl", "nt", "jsonld", "rdfxml"]}},
                                        {"name": "case", "in": "query", "schema": {"type": "string"},
                                         "description": "The case this submission replaces."}, LANG],
                         "requestBody": {"required": True, "content": {
                             "text/turtle": {"schema": {"type": "string", "minLength": 1}},
                             "application/n-triples": {"schema": {"type": "string", "minLength": 1}},
                             "application/ld+json": {"schema": {"type": "string", "minLength": 1}},
                             "application/rdf+xml": {"schema": {"type": "string", "minLength": 1}},
                             "multipart/form-data": {"schema": {"type": "object", "properties": {
                                 "text": {"type": "string"}, "file": {"type": "string", "format": "binary"},
                                 "format": {"type": "string"}, "case": {"type": "string"}}}}}},
                         "responses": {"200": {"description": "The report (conforming or not).", "content": {
                             "application/json": {"schema": {"$ref": "#/components/schemas/ValidationSummary"}},
                             "text/html": {"schema": {"type": "string"}}, "text/turtle": {"schema": {"type": "string"}},
                             "application/ld+json": {"schema": {"type": "string"}}}},
                             "400": _error("Unreadable submission (line and column)."), "406": _error("Unacceptable format."),
                             "413": _error("Submission too large."), "503": _error("Validation ran past its time limit.")}},
                "options": {"summary": "CORS preflight", "responses": {"204": {"description": "Allowed methods."}}}},
            "/draft": {
                "get": {"summary": "The drafting form (HTML)", "parameters": [LANG], "responses": {
                    "200": {"description": "Form", "content": {"text/html": {"schema": {"type": "string"}}}}}},
                "post": {"summary": "Draft a case from the text of a ministry case sheet or summary page (stores nothing)",
                         "parameters": [{"name": "answer", "in": "query", "schema": {"enum": ["html", "json", "ttl"]}},
                                        {"name": "name", "in": "query", "schema": {"type": "string"},
                                         "description": "The text's file name (names the source document when it is a new one)."},
                                        LANG],
                         "requestBody": {"required": True, "content": {
                             "text/plain": {"schema": {"type": "string", "minLength": 1}},
                             "multipart/form-data": {"schema": {"type": "object", "properties": {
                                 "text": {"type": "string"}, "file": {"type": "string", "format": "binary"},
                                 "name": {"type": "string"}}}}}},
                         "responses": {"200": {"description": "The draft, its review list and the check of it.", "content": {
                             "application/json": {"schema": {"type": "object", "properties": {
                                 "layout": {"enum": ["summary", "sheet"]}, "initiatives": {"type": "array"},
                                 "complete": {"type": "boolean"}, "draft": {"type": "string"},
                                 "review": {"type": "array"}, "report": {"$ref": "#/components/schemas/ValidationSummary"}}}},
                             "text/turtle": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}}}},
                             "400": _error("Empty or not UTF-8."), "406": _error("Unacceptable format."),
                             "413": _error("Text too large."), "422": _error("The text is in no layout we read."),
                             "503": _error("The check ran past its time limit.")}},
                "options": {"summary": "CORS preflight", "responses": {"204": {"description": "Allowed methods."}}}},
            "/validate/template.ttl": {"get": {"summary": "The case template", "responses": {
                "200": {"description": "Turtle", "content": {"text/turtle": {"schema": {"type": "string"}}}},
                "404": _error("Missing.")}}},
            "/cases/{slug}": {
                "get": {"summary": "A case's current Turtle file", "parameters": [SLUG_PARAMETER], "responses": {
                    "200": {"description": "Turtle", "content": {"text/turtle": {"schema": {"type": "string"}}}},
                    "400": _error("Bad slug."), "404": _error("No such case.")}},
                "put": {"summary": "Publish a case (bearer token)", "security": [{"bearer": []}],
                        "parameters": [SLUG_PARAMETER, {"name": "If-Match", "in": "header", "schema": {"type": "string"},
                                                        "description": "sha256 of the version edited; else last write wins"}],
                        "requestBody": {"required": True, "content": {
                            "text/turtle": {"schema": {"type": "string"}},
                            "application/ld+json": {"schema": {"type": "string"}},
                            "application/n-triples": {"schema": {"type": "string"}},
                            "application/rdf+xml": {"schema": {"type": "string"}}}},
                        "responses": {
                            "200": {"description": "Replaced.", "content": {"application/json": {"schema": {"type": "object"}}}},
                            "201": {"description": "Created.", "content": {"application/json": {"schema": {"type": "object"}}}},
                            "400": _error("Unreadable submission or bad slug."), "401": _error("No token."),
                            "403": _error("Wrong token."), "412": _error("Stale If-Match."), "413": _error("Too large."),
                            "422": _error("Does not conform (report included)."), "500": _error("Rebuild failed; restored."),
                            "507": _error("Files could not be written; nothing changed."),
                            "503": _error("Validation ran past its time limit.")}},
                "delete": {"summary": "Withdraw a case (bearer token)", "security": [{"bearer": []}],
                           "parameters": [SLUG_PARAMETER], "responses": {
                               "200": {"description": "Withdrawn.", "content": {"application/json": {"schema": {"type": "object"}}}},
                               "400": _error("Bad slug."), "401": _error("No token."), "403": _error("Wrong token."),
                               "404": _error("No such case."), "409": _error("Other cases refer to it."),
                               "507": _error("Files could not be written; nothing changed.")}}},
            "/cases/{slug}/history": {"get": {"summary": "Versions of a case", "parameters": [SLUG_PARAMETER],
                                              "responses": {"200": {"description": "Versions", "content": {
                                                  "application/json": {"schema": {"type": "object"}}}},
                                                  "400": _error("Bad slug.")}}},
            "/cases/{slug}/history/{version}": {"get": {"summary": "One version's Turtle", "parameters": [
                SLUG_PARAMETER, {"name": "version", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Turtle", "content": {"text/turtle": {"schema": {"type": "string"}}}},
                              "400": _error("Bad slug."), "404": _error("No such version.")}}},
            "/health": {"get": {"summary": "Liveness and the build being served", "responses": {
                "200": {"description": "Serving.", "content": {"application/json": {"schema": {"type": "object"}}}},
                "503": _error("Store not built.")}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {
                "description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/": {"get": {"summary": "Home page (HTML)", "parameters": [
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1},
                 "description": "Page of the list of initiatives."}, LANG], "responses": {
                "200": {"description": "The home page.", "content": {"text/html": {"schema": {"type": "string"}}}},
                "304": {"description": "Not modified."}, "503": _error("Store not built.")}}},
            "/search": {"get": {"summary": "Search titles, names and source passages (substring, Japanese-aware)",
                                "parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}},
                                               {"name": "format", "in": "query", "schema": {"enum": ["json"]}}, LANG],
                                "responses": {"200": {"description": "Results.", "content": {
                                    "text/html": {"schema": {"type": "string"}},
                                    "application/json": {"schema": {"type": "object"}}}},
                                    "304": {"description": "Not modified."}, "400": _error("Query too long."),
                                    "503": _error("Store not built.")}}},
            "/robots.txt": {"get": {"summary": "Robots rules", "responses": {"200": {
                "description": "robots.txt", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/sitemap.xml": {"get": {"summary": "Every page, for crawlers",
                                     "description": "One urlset up to 50,000 URLs; past that a sitemap index of /sitemap-N.xml.",
                                     "responses": {
                "200": {"description": "Sitemap or sitemap index", "content": {"application/xml": {"schema": {"type": "string"}}}},
                "304": {"description": "Not modified."}, "503": _error("Store not built.")}}},
            "/sitemap-{number}.xml": {"get": {"summary": "One file of a sitemap index (50,000 URLs at most)",
                                              "parameters": [{"name": "number", "in": "path", "required": True,
                                                              "schema": {"type": "integer", "minimum": 1}}],
                                              "responses": {
                "200": {"description": "Sitemap", "content": {"application/xml": {"schema": {"type": "string"}}}},
                "304": {"description": "Not modified."}, "404": _error("No such sitemap file."),
                "503": _error("Store not built.")}}},
            "/{path}": {
                "get": {"summary": "Dereference an IRI we mint (id/…, concept/…, source/…, graph/…, ontology, shapes)",
                        "description": "HTML by default; Turtle, N-Triples, JSON-LD or RDF/XML by Accept, by a .ttl, .nt, "
                                       ".jsonld, .rdf or .html extension, or by ?format=.",
                        "parameters": [
                            {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}},
                            {"name": "format", "in": "query", "schema": {"enum": ["html", "ttl", "nt", "jsonld", "rdfxml"]}},
                            {"name": "incoming", "in": "query", "schema": {"type": "integer", "minimum": 1},
                             "description": "Page of incoming links."},
                            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1},
                             "description": "Page of a concept's initiatives."}, LANG],
                        "responses": {"200": {"description": "The resource.", "content": {
                            "text/html": {"schema": {"type": "string"}}, **rdf_content}},
                            "304": {"description": "Not modified."}, "400": _error("Unknown format."),
                            "404": _error("No such resource."), "406": _error("Unacceptable format."),
                            "503": _error("Store not built.")}},
                "options": {"summary": "CORS preflight", "parameters": [
                    {"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"204": {"description": "Allowed methods."}}}},
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": {
            "Error": {"type": "object", "required": ["error", "status", "message"], "properties": {
                "error": {"type": "string"}, "status": {"type": "integer"},
                "message": {"type": "object", "required": ["ja", "en"],
                            "properties": {"ja": {"type": "string"}, "en": {"type": "string"}}},
                "line": {"type": ["integer", "null"]}, "column": {"type": ["integer", "null"]},
                "detail": {"type": "string"}}},
            "ValidationSummary": {"type": "object", "required": ["conforms", "violations", "results"], "properties": {
                "conforms": {"type": "boolean"}, "violations": {"type": "integer"},
                "results": {"type": "array", "items": {"type": "object"}}}},
            "SparqlResults": {"type": "object", "properties": {
                "head": {"type": "object"}, "results": {"type": "object"}, "boolean": {"type": "boolean"}}},
        }},
    }


@bp.get("/openapi.json")
def document_route():
    return add_cors(jsonify(document()))
