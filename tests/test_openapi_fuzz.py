"""schemathesis drives every operation of /openapi.json against the real server: no 5xx, and
statuses, content types, headers and bodies as the document declares them.

Two of schemathesis' checks are left out on purpose: a schema cannot say what valid SPARQL or
RDF is, so "schema-valid request rejected" fires on every syntax error we rightly answer with
400; and "schema-violating request accepted" fires on our lenient ?lang= (unknown values fall
back to Accept-Language)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ST = Path(sys.executable).with_name("st")


def test_api_conforms_to_its_description(server, tmp_path):
    # one worker: with two threads, hypothesis' lambda descriptions (ast.parse) now and then hit
    # CPython 3.11's thread-unsafe AST depth check ("AST constructor recursion depth mismatch",
    # python/cpython#106905) and schemathesis reports its own crash as an error
    result = subprocess.run(
        [str(ST), "run", server.url + "/openapi.json", "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
         "response_headers_conformance,response_schema_conformance",
         "--max-examples", "20", "--workers", "1", "--no-color", "--seed", "1"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
