"""Data stewards: the validation service, and authenticated, versioned, atomic ingest.

Validation runs against the session server; ingest against a server of its own over a private
copy of the project (it writes case files, history and an audit log).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests

from kouiki_kg.ingest import hash_token

from .conftest import ROOT, RunningServer, copy_project

TEMPLATE = (ROOT / "data" / "templates" / "case-template.ttl").read_bytes()
SAITAMA = (ROOT / "data" / "ttl" / "cases" / "saitama-septic-tanks.ttl").read_bytes()
TOKEN = "test-token-for-alice"
CLI = Path(sys.executable).with_name("kouiki-kg")


def post(server, body: bytes, content_type="text/turtle", accept="application/json", **params):
    return requests.post(server.url + "/validate", data=body, params=params, timeout=60,
                         headers={"Content-Type": content_type, "Accept": accept})


def results_of(response) -> list[dict]:
    body = response.json()
    assert body["conforms"] is False, body
    return body["results"]


def line_of(data: bytes, prefix: str) -> int:
    return next(i for i, line in enumerate(data.decode().splitlines(), start=1) if line.startswith(prefix))


# --- validation service --------------------------------------------------------------------------

def test_form_in_both_languages(server):
    ja = requests.get(server.url + "/validate", timeout=30)
    assert ja.status_code == 200 and "事例の検証" in ja.text and 'enctype="multipart/form-data"' in ja.text
    en = requests.get(server.url + "/validate?lang=en", timeout=30)
    assert "Validate a case" in en.text


def test_template_and_shipped_cases_conform(server):
    assert post(server, TEMPLATE).json() == {"conforms": True, "case": None, "violations": 0, "results": []}
    assert post(server, SAITAMA, case="saitama-septic-tanks").json()["conforms"] is True
    # a case of the project checked again is recognised by its initiative: no ?case= needed
    assert post(server, SAITAMA).json() == {"conforms": True, "case": "saitama-septic-tanks", "violations": 0,
                                            "results": []}
    template = requests.get(server.url + "/validate/template.ttl", timeout=30)
    assert template.content == TEMPLATE


def test_shape_violation_reports_the_line_of_the_focus_node(server):
    broken = TEMPLATE.replace(b"prov:hadRole role:lead", b"prov:hadRole role:partner")
    [result] = results_of(post(server, broken))
    assert result["component"] == "sh:QualifiedMinCountConstraintComponent"
    assert result["line"] == line_of(broken, "<https://w3id.org/kouiki/id/initiative/example-case> a kk:Initiative")
    assert result["messages"]["ja"] == "実施主体（role:lead）の関与がちょうど一つ必要です。"
    english = post(server, broken, lang="en").json()["results"][0]["message"]
    assert english.startswith("Exactly one association with the lead-body role")


@pytest.mark.parametrize("change,component,prefix", [
    ((b"case:activity-1 a kk:ComponentActivity ;", b"<https://example.org/activity> a kk:ComponentActivity ;"),
     "ks:NamespaceCheck", "<https://example.org/activity>"),
    ((b"prov:agent lg:022039", b"prov:agent lg:999999"), "ks:ReferenceCheck",
     "<https://w3id.org/kouiki/id/initiative/example-case> a"),
    ((b"dct:subject theme:public-transport", b"dct:subject theme:no-such-theme"), "ks:ReferenceCheck",
     "<https://w3id.org/kouiki/id/initiative/example-case> a"),
    ((b"kk:ordinal 1 ;", b"kk:ordinal 1 ; kk:madeUpProperty 2 ;"), "ks:TermCheck", "case:activity-1 a"),
])
def test_project_checks_with_lines(server, change, component, prefix):
    broken = TEMPLATE.replace(*change)
    results = results_of(post(server, broken))
    found = [r for r in results if r["component"] == component]
    assert found, results
    assert found[0]["line"] == line_of(broken, prefix)
    assert found[0]["messages"]["ja"] and found[0]["messages"]["en"]


def test_an_existing_initiative_only_when_another_case_has_it(server):
    as_other = results_of(post(server, SAITAMA, case="koryo-facility-sharing"))
    [existing] = [r for r in as_other if r["component"] == "ks:ExistingInitiativeCheck"]
    assert "saitama-septic-tanks" in existing["messages"]["en"]
    assert post(server, SAITAMA, case="saitama-septic-tanks").json()["conforms"] is True
    assert post(server, SAITAMA).json()["conforms"] is True  # recognised as that case


SUBMISSIONS = {  # (data, replacing) covering each check: conforming, shapes, the four project checks
    "template": (TEMPLATE, None),
    "shape": (TEMPLATE.replace(b"prov:hadRole role:lead", b"prov:hadRole role:partner"), None),
    "namespace": (TEMPLATE.replace(b"case:activity-1 a kk:ComponentActivity ;",
                                   b"<https://example.org/activity> a kk:ComponentActivity ;"), None),
    "reference": (TEMPLATE.replace(b"prov:agent lg:022039", b"prov:agent lg:999999"), None),
    "term": (TEMPLATE.replace(b"kk:ordinal 1 ;", b"kk:ordinal 1 ; kk:madeUpProperty 2 ;"), None),
    "existing": (SAITAMA, "koryo-facility-sharing"),
    "replacing": (SAITAMA, "saitama-septic-tanks"),
}


def summary_of(report) -> list:
    """Results without blank node labels (a fresh parse names them afresh)."""
    return sorted(("_:" if r.focus.startswith("_:") else r.focus, r.path or "", r.value or "", r.component, r.line or 0,
                   r.messages["en"]) for r in report.results)


def test_checks_read_the_build_store_when_it_matches_the_files_and_agree_with_parsing_them(store_dir):
    from kouiki_kg.validation import submission

    submission._cache.clear()
    assert submission._reference(ROOT, store_dir).built
    from_store = {name: summary_of(submission.check(data, ROOT, replacing=case, store_dir=store_dir))
                  for name, (data, case) in SUBMISSIONS.items()}
    submission._cache.clear()
    assert not submission._reference(ROOT).built  # no store: the files, parsed
    from_files = {name: summary_of(submission.check(data, ROOT, replacing=case)) for name, (data, case) in SUBMISSIONS.items()}
    assert from_store == from_files
    assert from_store["template"] == [] and from_store["replacing"] == []
    assert all(from_store[name] for name in SUBMISSIONS if name not in ("template", "replacing"))
    submission._cache.clear()


def test_checks_see_files_edited_since_the_build(tmp_path):
    from kouiki_kg.validation import submission
    from kouiki_kg.build import build
    from kouiki_kg.config import Config

    root = copy_project(tmp_path / "project")
    build(Config(root=root, store_dir=tmp_path / "store"), log=lambda _m: None)
    wanted = TEMPLATE.replace(b"prov:agent lg:022039", b"prov:agent <https://w3id.org/kouiki/id/org/new-council>")
    submission._cache.clear()
    assert "ks:ReferenceCheck" in {r.component for r in submission.check(wanted, root, store_dir=tmp_path / "store").results}
    actors = root / "data" / "ttl" / "actors" / "national-government.ttl"  # edited, not rebuilt
    actors.write_text(actors.read_text(encoding="utf-8") + """
<https://w3id.org/kouiki/id/org/new-council> a <https://w3id.org/kouiki/ontology#Council> ;
    <http://www.w3.org/2004/02/skos/core#prefLabel> "新しい協議会"@ja .
""", encoding="utf-8")
    report = submission.check(wanted, root, store_dir=tmp_path / "store")
    assert not submission._reference(root, tmp_path / "store").built
    assert "ks:ReferenceCheck" not in {r.component for r in report.results}
    submission._cache.clear()


def test_syntax_error_is_400_with_line_column_and_snippet(server):
    broken = TEMPLATE.replace(b'kk:ordinal 1 ;', b'kk:ordinal "1 ;')
    response = post(server, broken)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "rdf_syntax" and body["line"] >= line_of(broken, "case:activity-1 a")
    assert body["column"] and body["snippet"] and "構文エラー" in body["message"]["ja"]
    japanese = TEMPLATE.replace('"（取組の表題）"@ja'.encode(), "（取組の表題）@ja".encode())
    assert "取組の表題" in post(server, japanese).json()["snippet"]  # Japanese shown as text, not bytes


@pytest.mark.parametrize("fmt,media", [(ox.RdfFormat.N_TRIPLES, "application/n-triples"),
                                       (ox.RdfFormat.JSON_LD, "application/ld+json"),
                                       (ox.RdfFormat.RDF_XML, "application/rdf+xml")])
def test_every_accepted_format(server, fmt, media):
    triples = [q.triple for q in ox.parse(TEMPLATE, format=ox.RdfFormat.TURTLE)]
    body = ox.serialize(triples, format=fmt)
    assert post(server, body, content_type=media).json()["conforms"] is True
    broken = [t for t in triples if not t.predicate.value.endswith("hadRole")]
    results = results_of(post(server, ox.serialize(broken, format=fmt), content_type=media))
    assert results and all(r["line"] for r in results if not r["focus"].startswith("_:"))


def test_multipart_upload_paste_and_html_report(server):
    files = {"file": ("case.ttl", TEMPLATE.replace(b"prov:hadRole role:lead", b"prov:hadRole role:partner"))}
    upload = requests.post(server.url + "/validate", files=files, timeout=60, headers={"Accept": "application/json"})
    assert upload.json()["violations"] == 1
    pasted = requests.post(server.url + "/validate", data={"text": TEMPLATE.decode(), "format": "ttl"}, timeout=60,
                           headers={"Accept": "text/html"})
    assert pasted.headers["Content-Type"].startswith("text/html") and "適合しています" in pasted.text
    empty = requests.post(server.url + "/validate", data={"text": ""}, timeout=60)
    assert empty.status_code == 400 and empty.json()["error"] == "empty_submission"


def test_full_report_in_turtle_and_json_ld(server):
    broken = TEMPLATE.replace(b"prov:agent lg:022039", b"prov:agent lg:999999")
    turtle = post(server, broken, accept="text/turtle")
    graph = rdflib.Graph().parse(data=turtle.text, format="turtle")
    SH = rdflib.SH
    report = next(graph.subjects(rdflib.RDF.type, SH.ValidationReport))
    assert graph.value(report, SH.conforms) == rdflib.Literal(False)
    messages = {m.language for m in graph.objects(None, SH.resultMessage)}
    assert {"ja", "en"} <= messages
    jsonld = post(server, broken, accept="application/ld+json")
    assert jsonld.headers["Content-Type"].startswith("application/ld+json") and json.loads(jsonld.text)


def test_xxe_and_billion_laughs_are_refused(server, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    xxe = f'''<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY xxe SYSTEM "file://{secret}"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dct="http://purl.org/dc/terms/">
  <rdf:Description rdf:about="https://w3id.org/kouiki/id/initiative/x"><dct:title>&xxe;</dct:title></rdf:Description>
</rdf:RDF>'''.encode()
    response = post(server, xxe, content_type="application/rdf+xml")
    assert response.status_code == 400 and "TOP-SECRET" not in response.text
    laughs = b'''<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dct="http://purl.org/dc/terms/">
<rdf:Description rdf:about="https://w3id.org/kouiki/id/initiative/x"><dct:title>&d;</dct:title></rdf:Description></rdf:RDF>'''
    assert post(server, laughs, content_type="application/rdf+xml").status_code == 400


def test_json_ld_remote_contexts_are_not_fetched(server):
    fetched = []

    class Handler(__import__("http.server").server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            fetched.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"@context": {}}')

        def log_message(self, *args):
            pass

    listener = __import__("http.server").server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    document = json.dumps({"@context": f"http://127.0.0.1:{listener.server_port}/context.jsonld",
                           "@id": "https://w3id.org/kouiki/id/initiative/x", "title": "x"}).encode()
    response = post(server, document, content_type="application/ld+json")
    listener.shutdown()
    assert response.status_code == 400 and fetched == []


def test_oversized_submission_is_413(server):
    response = post(server, b"# " + b"x" * 2_100_000)
    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"


def health_when_checks_are_prepared(server) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        health = requests.get(server.url + "/health", timeout=30).json()
        if health.get("validation_workers", {}).get("project_loaded"):
            return health
        time.sleep(0.2)
    raise AssertionError(f"the steward-check worker never had the project: {health}")


def test_checks_have_a_worker_of_their_own_prepared_at_start(server):
    before = health_when_checks_are_prepared(server)["validation_workers"]
    assert before["size"] == 1 and len(before["pids"]) == 1
    assert post(server, TEMPLATE).json()["conforms"] is True
    requests.get(server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
    after = requests.get(server.url + "/health", timeout=30).json()
    assert after["validation_workers"]["pids"] == before["pids"]  # the same process, which keeps the project
    assert not set(after["query_workers"]["pids"]) & set(before["pids"])


def test_a_check_is_answered_while_queries_hold_every_query_worker(server):
    """The session server has two query workers and a 3 s limit: two endless queries hold both
    until they are stopped; a steward's check does not wait for them."""
    health_when_checks_are_prepared(server)
    endless = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    finished: list[int] = []

    def run_query() -> None:  # a comment of its own: no cached or shared answer
        response = requests.get(server.url + "/sparql", params={"query": f"# {time.time_ns()}\n{endless}"},
                                headers={"Accept": "application/sparql-results+json"}, timeout=60)
        finished.append(response.status_code)

    queries = [threading.Thread(target=run_query) for _ in range(2)]
    for thread in queries:
        thread.start()
    time.sleep(0.5)  # both queries are with the workers
    check = post(server, TEMPLATE)
    assert check.status_code == 200 and check.json()["conforms"] is True
    assert finished == []  # answered while the queries still held the query workers
    for thread in queries:
        thread.join()
    assert finished == [503, 503]


# --- ingest --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = copy_project(tmp_path_factory.mktemp("ingest") / "project")
    return root


@pytest.fixture(scope="module")
def steward_server(project):
    store = project.parent / "var" / "store"
    store.parent.mkdir(parents=True, exist_ok=True)
    env = {"KOUIKI_ROOT": str(project), "KOUIKI_TOKENS": f"alice:{hash_token(TOKEN)}", "KOUIKI_QUERY_WORKERS": "2"}
    running = RunningServer(store, **env)
    running.root, running.var = project, store.parent
    yield running
    running.stop()


def put(server, slug: str, body: bytes, token: str | None = TOKEN, **headers):
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.put(f"{server.url}/cases/{slug}", data=body, timeout=120,
                        headers={"Content-Type": "text/turtle", **headers})


def audit_entries(server) -> list[dict]:
    path = server.var / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_writes_need_a_valid_token(steward_server):
    missing = put(steward_server, "example-case", TEMPLATE, token=None)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert put(steward_server, "example-case", TEMPLATE, token="wrong").status_code == 403
    basic = requests.put(f"{steward_server.url}/cases/example-case", data=TEMPLATE, timeout=30,
                         headers={"Authorization": "Basic YWxpY2U6eA=="})
    assert basic.status_code == 401
    assert requests.delete(f"{steward_server.url}/cases/example-case", timeout=30).status_code == 401
    log = (steward_server.var / "audit.jsonl").read_text()
    assert TOKEN not in log and "wrong" not in log
    assert not (steward_server.root / "data" / "ttl" / "cases" / "example-case.ttl").exists()


def test_publish_a_new_case(steward_server):
    response = put(steward_server, "example-case", TEMPLATE)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["iri"] == "https://w3id.org/kouiki/id/initiative/example-case"
    assert (steward_server.root / "data" / "ttl" / "cases" / "example-case.ttl").read_bytes() == TEMPLATE
    page = requests.get(steward_server.url + "/id/initiative/example-case", headers={"Accept": "text/turtle"}, timeout=30)
    assert page.status_code == 200 and "取組の表題" in page.text
    history = requests.get(steward_server.url + "/cases/example-case/history", timeout=30).json()["versions"]
    assert [v["action"] for v in history] == ["put"]
    entry = audit_entries(steward_server)[-1]
    assert entry["who"] == "alice" and entry["case"] == "example-case" and entry["status"] == 201
    assert entry["sha256"] == body["sha256"]
    assert TOKEN not in steward_server.output()  # the server's own log (access log included)


def test_tokens_are_compared_in_constant_time_against_every_one(monkeypatch):
    """No early exit: every configured hash is compared with hmac.compare_digest, match or not."""
    import hmac

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    monkeypatch.setenv("KOUIKI_TOKENS", ",".join(f"user{i}:{hash_token(f'token-{i}')}" for i in range(5)))
    from kouiki_kg.ingest import IngestError, authenticate

    assert authenticate("Bearer token-0") == "user0" and len(calls) == 5
    calls.clear()
    with pytest.raises(IngestError) as wrong:
        authenticate("Bearer token-0x")
    assert wrong.value.status == 403 and len(calls) == 5
    for header in (None, "", "Bearer", "Bearer ", "Token token-0", "bearer token-0"):
        with pytest.raises(IngestError) as missing:
            authenticate(header)
        assert missing.value.status == 401


def test_a_case_that_does_not_conform_is_422_and_changes_nothing(steward_server):
    before = (steward_server.root / "data" / "ttl" / "cases" / "saitama-septic-tanks.ttl").read_bytes()
    broken = SAITAMA.replace(b"prov:hadRole role:lead", b"prov:hadRole role:partner")
    response = put(steward_server, "saitama-septic-tanks", broken)
    assert response.status_code == 422
    assert response.json()["report"]["results"][0]["component"] == "sh:QualifiedMinCountConstraintComponent"
    assert (steward_server.root / "data" / "ttl" / "cases" / "saitama-septic-tanks.ttl").read_bytes() == before
    wrong_slug = put(steward_server, "another-name", TEMPLATE)
    assert wrong_slug.status_code == 422 and wrong_slug.json()["error"] == "wrong_initiative"
    assert put(steward_server, "Bad_Slug", TEMPLATE).status_code == 400
    assert audit_entries(steward_server)[-1]["status"] in (400, 422)


def test_replace_keeps_the_previous_version(steward_server):
    edited = SAITAMA.replace(b'"Study towards area-wide development of public septic tanks"@en',
                             b'"Study towards the area-wide development of public septic tanks"@en')
    current = requests.get(steward_server.url + "/cases/saitama-septic-tanks", timeout=30)
    response = put(steward_server, "saitama-septic-tanks", edited, **{"If-Match": current.headers["ETag"]})
    assert response.status_code == 200, response.text
    versions = requests.get(steward_server.url + "/cases/saitama-septic-tanks/history", timeout=30).json()["versions"]
    assert [v["action"] for v in versions] == ["original", "put"]
    original = requests.get(f"{steward_server.url}/cases/saitama-septic-tanks/history/{versions[0]['version']}", timeout=30)
    assert original.content == SAITAMA
    title = requests.get(steward_server.url + "/id/initiative/saitama-septic-tanks?lang=en",
                         headers={"Accept": "text/html"}, timeout=30).text
    assert "Study towards the area-wide development" in title
    stale = put(steward_server, "saitama-septic-tanks", SAITAMA, **{"If-Match": current.headers["ETag"]})
    assert stale.status_code == 412 and stale.json()["error"] == "precondition_failed"
    # the build published is served before its dumps are written; a dump asked for meanwhile waits for them
    dump = requests.get(steward_server.url + "/dumps/kouiki.nq.gz", timeout=120)
    assert dump.status_code == 200 and dump.headers["Content-Type"] == "application/gzip"
    assert b"Study towards the area-wide development" in gzip.decompress(dump.content)


def test_delete_and_refuse_to_delete_what_others_refer_to(steward_server):
    assert requests.delete(f"{steward_server.url}/cases/example-case", timeout=120,
                           headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert requests.get(steward_server.url + "/id/initiative/example-case", timeout=30,
                        headers={"Accept": "application/json"}).status_code == 404
    versions = requests.get(steward_server.url + "/cases/example-case/history", timeout=30).json()["versions"]
    assert [v["action"] for v in versions] == ["put", "deleted"]
    referred = requests.delete(f"{steward_server.url}/cases/yokohama-8cities-fy2019", timeout=120,
                               headers={"Authorization": f"Bearer {TOKEN}"})
    assert referred.status_code == 409
    assert (steward_server.root / "data" / "ttl" / "cases" / "yokohama-8cities-fy2019.ttl").exists()
    assert requests.delete(f"{steward_server.url}/cases/nothing-here", timeout=30,
                           headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


def test_concurrent_ingests_of_one_case_are_serialised(steward_server):
    """Both succeed, one after the other; both versions are kept; the file is one of them, whole."""
    a = SAITAMA.replace(b"public septic tanks\"@en", b"public septic tanks (A)\"@en")
    b = SAITAMA.replace(b"public septic tanks\"@en", b"public septic tanks (B)\"@en")
    responses = {}
    threads = [threading.Thread(target=lambda n, d: responses.__setitem__(n, put(steward_server, "saitama-septic-tanks", d)),
                                args=(n, d)) for n, d in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.status_code for r in responses.values()} == {200}
    final = (steward_server.root / "data" / "ttl" / "cases" / "saitama-septic-tanks.ttl").read_bytes()
    assert final in (a, b)
    shas = {r.json()["sha256"] for r in responses.values()}
    versions = requests.get(steward_server.url + "/cases/saitama-septic-tanks/history", timeout=30).json()["versions"]
    assert {v["sha256_prefix"] for v in versions[-2:]} == {s[:12] for s in shas}


def test_cli_ingest(tmp_path):
    root = copy_project(tmp_path / "project")
    env = {**os.environ, "KOUIKI_ROOT": str(root), "KOUIKI_STORE": str(tmp_path / "var" / "store")}
    template = tmp_path / "example-case.ttl"
    template.write_bytes(TEMPLATE)
    done = subprocess.run([str(CLI), "ingest", str(template), "--case", "example-case"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("created case example-case")
    bad = tmp_path / "bad.ttl"
    bad.write_bytes(TEMPLATE.replace(b"prov:hadRole role:lead", b"prov:hadRole role:partner"))
    refused = subprocess.run([str(CLI), "ingest", str(bad), "--case", "example-case", "--lang", "en"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "does not conform" in refused.stderr
    audit = (tmp_path / "var" / "audit.jsonl").read_text().splitlines()
    assert [json.loads(line)["status"] for line in audit] == [201, 422]
