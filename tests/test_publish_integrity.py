"""What the check accepts is what publishing accepts; a case touches only its own resources;
publishing is a transaction (kill -9 at every step, a full disk); the audit log stays small.

Real files, a real store, `kouiki-kg` in subprocesses killed with SIGKILL, a real server for the
HTTP answers, a real (small) tmpfs for the full disk.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from kouiki_kg import ingest
from kouiki_kg.validation import submission
from kouiki_kg.build import BuildError, build
from kouiki_kg.config import Config
from kouiki_kg.ingest import hash_token
from kouiki_kg.store import GraphStore

from .conftest import RunningServer, copy_project, quiet

KOUIKI = str(Path(sys.executable).with_name("kouiki-kg"))
CASE = "saitama-septic-tanks"
TOKEN = "integrity-test-token"
BUILD_WORKERS = 2  # the check beside the build, as on CI's two cores: each build ~2 s shorter
BAD_LITERALS = [  # (what the case says, what a steward mistyped)
    ('dct:created "2019-03"^^xsd:gYearMonth', 'dct:created "2019-13"^^xsd:gYearMonth'),
    ('dct:created "2019-03"^^xsd:gYearMonth', 'dct:created "2019-3"^^xsd:gYearMonth'),
    ("kk:fiscalYear 2019", 'kk:fiscalYear "20x1"^^xsd:integer'),
    ('dct:date "2018-07"^^xsd:gYearMonth', 'dct:date "2018-07-32"^^xsd:date'),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A copy of the project with its store built, copied again for each test (faster than building)."""
    folder = tmp_path_factory.mktemp("built")
    build(Config(root=copy_project(folder / "project"), store_dir=folder / "var" / "store",
                 build_workers=BUILD_WORKERS), log=quiet)
    return folder


@pytest.fixture()
def project(built, tmp_path):
    def make() -> Config:
        for name in ("project", "var"):
            shutil.copytree(built / name, tmp_path / name, symlinks=True)
        return Config(root=tmp_path / "project", store_dir=tmp_path / "var" / "store", build_workers=BUILD_WORKERS)
    return make


def case_file(config: Config, slug: str = CASE) -> Path:
    return config.root / "data" / "ttl" / "cases" / f"{slug}.ttl"


def audit_lines(config: Config) -> list[dict]:
    path = config.store_dir.parent / "audit.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def served_title(config: Config, slug: str = CASE) -> str | None:
    store = GraphStore.open_current(config.store_dir)
    rows = list(store.query(f"""SELECT ?t WHERE {{ <https://w3id.org/kouiki/id/initiative/{slug}> dct:title ?t
                                FILTER (lang(?t) = "en") }}"""))
    return rows[0]["t"].value if rows else None


def run(config: Config, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "KOUIKI_ROOT": str(config.root), "KOUIKI_STORE": str(config.store_dir),
                   "KOUIKI_BUILD_WORKERS": str(BUILD_WORKERS), **env}
    return subprocess.run([KOUIKI, *args], env=environment, capture_output=True, text=True, timeout=180)


# --- one definition of acceptable ---------------------------------------------------------------

@pytest.mark.parametrize("fine,bad", BAD_LITERALS)
def test_a_malformed_literal_is_refused_by_the_check_the_build_and_ingest_alike(project, tmp_path, fine, bad):
    config = project()
    slug = "yokohama-8cities-fy2019" if "fiscalYear" in fine or "dct:date" in fine else "hachinohe-bus-network"
    path = case_file(config, slug)
    original = path.read_bytes()
    assert fine.encode() in original
    broken = original.replace(fine.encode(), bad.encode(), 1)
    value = bad.split('"')[1]
    # the check: a bilingual message naming the value, the property and the line
    report = submission.check(broken, config.root, source=f"{slug}.ttl", replacing=slug, store_dir=config.store_dir)
    [literal] = [r for r in report.results if r.component == "ks:LiteralCheck"]
    line = next(n for n, text in enumerate(broken.decode().splitlines(), 1) if value in text)
    assert value in literal.messages["ja"] and value in literal.messages["en"]
    assert literal.path in literal.messages["en"] and literal.line is not None and literal.line <= line
    # ingest: refused with the same report; nothing changed, nothing kept
    with pytest.raises(ingest.IngestError) as refused:
        ingest.publish(config, slug, broken, "ttl", "alice")
    assert refused.value.status == 422
    assert [(r.focus, r.component, r.messages) for r in refused.value.report.results] == \
        [(r.focus, r.component, r.messages) for r in report.results]
    assert path.read_bytes() == original and ingest.history(config, slug) == []
    # the build of the same file: refused with the report, no traceback
    path.write_bytes(broken)
    result = run(config, "build", "--lang", "en")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and value in result.stderr and "ks:LiteralCheck" in result.stderr
    assert json.loads((config.store_dir.parent / "data-status.json").read_text())["builds"] is False


def test_build_reports_a_malformed_literal_as_the_check_does(project, tmp_path):
    config = project()
    path = case_file(config, "hachinohe-bus-network")
    path.write_bytes(path.read_bytes().replace(b'"2019-03"^^xsd:gYearMonth', b'"2019-13"^^xsd:gYearMonth'))
    with pytest.raises(BuildError) as failed:
        build(config, log=quiet)
    [result] = [r for r in failed.value.report.results if r.component == "ks:LiteralCheck"]
    assert result.file == "data/ttl/cases/hachinohe-bus-network.ttl" and result.line


# --- a case owns its resources ------------------------------------------------------------------

HIJACK = b"""@prefix kk: <https://w3id.org/kouiki/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://w3id.org/kouiki/id/initiative/hachinohe-bus-network> skos:note "x"@ja ; rdfs:seeAlso <https://evil.example/x> .
<https://w3id.org/kouiki/id/lg/022039> skos:altLabel "evil"@ja .
<https://w3id.org/kouiki/concept/theme/transport> skos:altLabel "evil"@ja .
"""


def test_a_case_may_not_state_anything_about_others_resources(project, tmp_path):
    config = project()
    template = (config.root / "data" / "templates" / "case-template.ttl").read_bytes()
    report = submission.check(template + b"\n" + HIJACK, config.root, store_dir=config.store_dir)
    owners = {r.focus: r.messages["en"] for r in report.results if r.component == "ks:OwnershipCheck"}
    assert set(owners) == {"<https://w3id.org/kouiki/id/initiative/hachinohe-bus-network>",
                           "<https://w3id.org/kouiki/id/lg/022039>", "<https://w3id.org/kouiki/concept/theme/transport>"}
    assert "data/ttl/cases/hachinohe-bus-network.ttl" in owners["<https://w3id.org/kouiki/id/initiative/hachinohe-bus-network>"]
    assert "data/ttl/authority/local-governments.ttl" in owners["<https://w3id.org/kouiki/id/lg/022039>"]
    assert "ontology/schemes/themes.ttl" in owners["<https://w3id.org/kouiki/concept/theme/transport>"]
    # pointing *to* them stays allowed: the template refers to lg:022039, themes and roles
    assert submission.check(template, config.root, store_dir=config.store_dir).conforms


# --- publishing is a transaction -----------------------------------------------------------------

STEPS = ["staged", "built", "committed", "versions-kept", "file-replaced", "swapped", "audited"]
COMMITTED = STEPS.index("committed")


def edited(config: Config) -> bytes:
    text = case_file(config).read_bytes()
    changed = text.replace(b'"Study towards area-wide development of public septic tanks"@en',
                           b'"Study towards area-wide development of public septic tanks (edited)"@en')
    assert changed != text
    return changed


@pytest.mark.parametrize("step", STEPS)
def test_kill_9_at_every_step_of_a_put_leaves_all_or_nothing(project, tmp_path, step):
    config = project()
    before, title = case_file(config).read_bytes(), served_title(config)
    upload = tmp_path / "edited.ttl"
    upload.write_bytes(edited(config))
    killed = run(config, "ingest", str(upload), "--case", CASE, KOUIKI_TEST_CRASH_AT=step)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # the next one to take the lock (here a build, as `serve` does at start) finishes or forgets it
    assert run(config, "build").returncode == 0
    after = case_file(config).read_bytes()
    puts = [a for a in audit_lines(config) if a.get("action") == "put" and a.get("status") in (200, 201)]
    versions = [v for v in ingest.history(config, CASE) if v["action"] == "put"]
    if STEPS.index(step) < COMMITTED:
        assert after == before and served_title(config) == title and puts == [] and versions == []
    else:
        assert after == upload.read_bytes() and served_title(config).endswith("(edited)")
        assert len(puts) == 1 and len(versions) == 1 and puts[0]["version"] == versions[0]["version"]
    assert not (config.store_dir.parent / "publish-journal.json").exists()
    assert not list(case_file(config).parent.glob(".*.tmp"))


@pytest.mark.parametrize("step", ["built", "committed", "file-replaced", "audited"])
def test_kill_9_during_a_delete_leaves_all_or_nothing(project, tmp_path, step):
    config = project()
    slug = "koryo-facility-sharing"  # nothing builds on it
    script = (f"from kouiki_kg import ingest; from kouiki_kg.config import Config; "
              f"ingest.withdraw(Config.from_env(), '{slug}', 'alice')")
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180,
                            env={**os.environ, "KOUIKI_ROOT": str(config.root),
                                 "KOUIKI_STORE": str(config.store_dir), "KOUIKI_BUILD_WORKERS": str(BUILD_WORKERS),
                                 ingest.CRASH_AT: step})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert run(config, "build").returncode == 0
    gone = not case_file(config, slug).exists()
    deletes = [a for a in audit_lines(config) if a.get("action") == "delete" and a.get("status") == 200]
    assert gone == (STEPS.index(step) >= COMMITTED)
    assert (served_title(config, slug) is None) == gone
    assert len(deletes) == (1 if gone else 0)
    assert [v["action"] for v in ingest.history(config, slug)] == (["original", "deleted"] if gone else [])


def test_a_refused_delete_changes_nothing(project, tmp_path):
    config = project()
    slug = "yokohama-8cities-fy2019"  # the forecast case builds on it
    before = case_file(config, slug).read_bytes()
    with pytest.raises(ingest.IngestError) as refused:
        ingest.withdraw(config, slug, "alice")
    assert refused.value.status == 409 and refused.value.report is not None
    assert case_file(config, slug).read_bytes() == before and ingest.history(config, slug) == []
    assert served_title(config, slug) is not None
    assert run(config, "build").returncode == 0  # data/ still builds: nothing was half-deleted


def test_serve_starts_on_the_last_good_build_and_health_says_data_does_not_build(project, tmp_path):
    config = project()
    case_file(config).write_bytes(case_file(config).read_bytes().replace(b"kk:Initiative", b"kk:Initiativ", 1))
    running = RunningServer(config.store_dir, KOUIKI_ROOT=str(config.root), KOUIKI_BUILD_WORKERS=str(BUILD_WORKERS))
    try:
        health = requests.get(running.url + "/health", timeout=10).json()
        assert health["ok"] is True and health["data"]["builds"] is False
        assert "/" not in json.dumps(health["data"]).replace("data/ttl/cases", "")  # no server paths
        page = requests.get(running.url + f"/id/initiative/{CASE}", headers={"Accept": "text/turtle"}, timeout=30)
        assert page.status_code == 200
    finally:
        running.stop()


def mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.fixture()
def small_disk(tmp_path):
    """var/ on a 48 MB tmpfs (the machine's own disk is never filled). Where mounting is not
    allowed, a file standing where var/history/ must go fails the writes the same way."""
    var = tmp_path / "var"
    mounted = os.geteuid() == 0 and mount_tmpfs(var, "48m")
    yield var, mounted
    if mounted:
        subprocess.run(["umount", "-l", str(var)], capture_output=True)


def fill(var: Path, leave: int) -> None:
    """Take the free space of var's file system, leaving `leave` bytes."""
    stats = os.statvfs(var)
    free = stats.f_bavail * stats.f_frsize
    with open(var / "filler", "wb") as out:
        out.truncate(0)
        remaining = max(0, free - leave)
        chunk = b"\0" * (1 << 20)
        while remaining > 0:
            out.write(chunk[:min(len(chunk), remaining)])
            remaining -= min(len(chunk), remaining)


@pytest.mark.parametrize("leave", [0, 200_000])
def test_a_full_disk_is_507_in_both_languages_and_changes_nothing(tmp_path, small_disk, leave):
    var, mounted = small_disk
    root = copy_project(tmp_path / "project")
    config = Config(root=root, store_dir=var / "store", build_workers=1)
    build(config, log=quiet)
    running = RunningServer(config.store_dir, log_dir=tmp_path, KOUIKI_ROOT=str(root), KOUIKI_BUILD_WORKERS="1",
                            KOUIKI_TOKENS=f"alice:{hash_token(TOKEN)}")
    try:
        before, current = case_file(config).read_bytes(), (config.store_dir / "current").resolve()
        if mounted:
            fill(var, leave)
        else:
            (var / "history").write_text("in the way")
        response = requests.put(f"{running.url}/cases/{CASE}", data=edited(config), timeout=120,
                                headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 507, response.text
        body = response.json()
        assert body["error"] == "storage_error" and set(body["message"]) == {"ja", "en"}
        assert str(tmp_path) not in response.text and "/var/" not in response.text
        assert case_file(config).read_bytes() == before and (config.store_dir / "current").resolve() == current
        assert not (var / "history" / CASE).is_dir() or not list((var / "history" / CASE).iterdir())
    finally:
        running.stop()


# --- the audit log ---------------------------------------------------------------------------------

def test_anonymous_refusals_cannot_grow_the_audit_log(project, tmp_path):
    config = project()
    running = RunningServer(config.store_dir, KOUIKI_ROOT=str(config.root), KOUIKI_TOKENS=f"alice:{hash_token(TOKEN)}")
    try:
        for _ in range(40):
            assert requests.put(f"{running.url}/cases/{'a' * 7000}", data=b"x", timeout=30).status_code == 401
        lines = (config.store_dir.parent / "audit.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == 1 and len(lines[0].encode()) < 400
        assert json.loads(lines[0])["status"] == 401
    finally:
        running.stop()


# --- hostile documents are measured before they are parsed, and parsed only in check workers ------

@pytest.fixture(scope="module")
def steward_server(built, tmp_path_factory):
    folder = tmp_path_factory.mktemp("steward-server")
    for name in ("project", "var"):
        shutil.copytree(built / name, folder / name, symlinks=True)
    running = RunningServer(folder / "var" / "store", KOUIKI_ROOT=str(folder / "project"),
                            KOUIKI_TOKENS=f"alice:{hash_token(TOKEN)}")
    yield running
    running.stop()


def deep_jsonld(depth: int) -> bytes:
    return ('{"@id": "https://w3id.org/kouiki/id/initiative/x", "https://w3id.org/kouiki/ontology#p": '
            + '{"https://w3id.org/kouiki/ontology#p": ' * depth + '"v"' + "}" * depth + "}").encode()


def long_list(items: int) -> bytes:
    return (b"<https://w3id.org/kouiki/id/initiative/x> <https://w3id.org/kouiki/ontology#p> ("
            + b" 1" * items + b" ) .\n")


@pytest.mark.parametrize("body,content_type,limit", [
    (deep_jsonld(5000), "application/ld+json", "max_depth"),
    (b"<https://w3id.org/kouiki/id/initiative/x> <https://w3id.org/kouiki/ontology#p> " + b"[ <p> " * 3000 + b"1"
     + b" ]" * 3000 + b" .", "text/turtle", "max_depth"),
    (long_list(900_000), "text/turtle", "max_triples"),
])
def test_parser_bombs_are_refused_in_both_languages_and_nothing_crashes(steward_server, body, content_type, limit):
    url = steward_server.url
    checks = requests.post(url + "/validate", data=body, headers={"Content-Type": content_type}, timeout=60)
    put = requests.put(url + "/cases/x", data=body, timeout=60,
                       headers={"Content-Type": content_type, "Authorization": f"Bearer {TOKEN}"})
    for answer in (checks, put):
        assert answer.status_code == 400, answer.text[:300]
        assert answer.json()["error"] == "submission_too_complex" and limit in answer.json()
        assert set(answer.json()["message"]) == {"ja", "en"}
    assert requests.get(url + "/health", timeout=10).json()["ok"] is True  # the web process is alive
    refused = [a for a in audit_lines_of(steward_server) if a.get("case") == "x"]
    assert refused and refused[-1]["status"] == 400


def audit_lines_of(server) -> list[dict]:
    path = Path(server.log.name).parent / "audit.jsonl"  # the server's log sits in its state folder
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_a_byte_order_mark_is_accepted(steward_server, built):
    case = (built / "project" / "data" / "ttl" / "cases" / f"{CASE}.ttl").read_bytes()
    answer = requests.post(steward_server.url + "/validate", data=b"\xef\xbb\xbf" + case,
                           headers={"Content-Type": "text/turtle"}, timeout=60)
    assert answer.status_code == 200 and answer.json()["conforms"] is True and answer.json()["case"] == CASE


def test_head_validate_mirrors_get(steward_server):
    get = requests.get(steward_server.url + "/validate", timeout=30)
    head = requests.head(steward_server.url + "/validate", timeout=30)
    assert head.status_code == get.status_code == 200
    assert head.headers["Content-Type"] == get.headers["Content-Type"] and head.content == b""


def test_check_workers_have_a_memory_limit(steward_server):
    requests.post(steward_server.url + "/validate", data=long_list(10), headers={"Content-Type": "text/turtle"},
                  timeout=60)
    pids = requests.get(steward_server.url + "/health", timeout=10).json()["validation_workers"]["pids"]
    for pid in pids:  # the limit as the kernel holds it
        limits = Path(f"/proc/{pid}/limits").read_text()
        line = next(l for l in limits.splitlines() if l.startswith("Max data size"))
        assert line.split()[3] == "2000000000", line


# --- property: the check and publishing agree ------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

HACHINOHE = "hachinohe-bus-network"
MUTATIONS = {  # (what the case says, the values a steward might write instead)
    "date": (b'"2019-03"^^xsd:gYearMonth', [
        b'"2019-04"^^xsd:gYearMonth', b'"2019-13"^^xsd:gYearMonth', b'"2019-3"^^xsd:gYearMonth', b'"2019"^^xsd:gYear',
        b'"2019-02-29"^^xsd:date', b'"2020-02-29"^^xsd:date', '"平成31年3月"'.encode(), b'"2019-03"^^xsd:date']),
    "count": (b"kk:memberCount 8 ;", [
        b"kk:memberCount 9 ;", b'kk:memberCount "8" ;', b'kk:memberCount "eight"^^xsd:integer ;', b"kk:memberCount 8, 9 ;",
        b"kk:memberCount -1 ;", b"kk:memberCount 8.5 ;"]),
    "code": (b"prov:agent lg:022039 ; prov:hadRole role:lead", [
        b"prov:agent lg:022012 ; prov:hadRole role:lead", b"prov:agent lg:999999 ; prov:hadRole role:lead",
        b"prov:agent lg:02203 ; prov:hadRole role:lead", b"prov:agent lg:131016 ; prov:hadRole role:lead"]),
    "iri": (b"case:activity-4 a kk:ComponentActivity ;", [
        b"<https://example.org/a> a kk:ComponentActivity ;", b"<https://w3id.org/kouiki/id/initiative/x/activity-4> a kk:ComponentActivity ;",
        b"<https://w3id.org/kouiki/id/lg/022039> a kk:ComponentActivity ;"]),
    "title": (b'"Reorganising inter-regional trunk bus routes and local community transport"@en ;', [
        b'"Reorganising inter-regional trunk bus routes and local community transport"@en , "\xe4\xba\x8c\xe3\x81\xa4\xe7\x9b\xae"@ja ;',
        b'"A new English title"@en ;', b'"Two"@en , "titles"@en ;']),
    "reference": (b"dct:subject theme:public-transport ,", [
        b"dct:subject theme:no-such-theme ,", b"dct:subject <https://w3id.org/kouiki/concept/role/lead> ,",
        b"dct:subject theme:tourism ,"]),
}


def check_and_publish_agree(config: Config, document: bytes) -> bool:
    """The property, for one document: returns whether the check accepted it."""
    path = case_file(config, HACHINOHE)
    original = path.read_bytes()
    report = submission.check(document, config.root, source=f"{HACHINOHE}.ttl", replacing=HACHINOHE,
                              store_dir=config.store_dir)
    if report.conforms:  # the build of the project with this file must accept it too
        staged = config.root.parent / "staged.ttl"
        staged.write_bytes(document)
        outcome = build(config, changes={f"data/ttl/cases/{HACHINOHE}.ttl": staged}, swap=False, log=quiet)
        if outcome.rebuilt:
            shutil.rmtree(outcome.build_dir)
    else:  # ingest refuses it with the same report, and changes nothing
        with pytest.raises(ingest.IngestError) as refused:
            ingest.publish(config, HACHINOHE, document, "ttl", "property-test")
        assert refused.value.status == 422
        assert comparable(refused.value.report) == comparable(report)
        assert path.read_bytes() == original and ingest.history(config, HACHINOHE) == []
    return report.conforms


@pytest.mark.parametrize("name,index,accepted", [
    ("date", 0, True), ("date", 1, False), ("date", 4, False), ("date", 5, True), ("date", 6, False),
    ("count", 1, False), ("count", 2, False), ("code", 1, False), ("iri", 0, False),
    ("title", 0, False), ("title", 1, True), ("reference", 0, False), ("reference", 2, True),
])
def test_the_check_and_publishing_agree_on_each_kind_of_mistake(built, name, index, accepted):
    config = Config(root=built / "project", store_dir=built / "var" / "store", build_workers=BUILD_WORKERS)
    fine, choices = MUTATIONS[name]
    document = case_file(config, HACHINOHE).read_bytes().replace(fine, choices[index], 1)
    assert check_and_publish_agree(config, document) is accepted


@settings(max_examples=12, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_whatever_the_check_accepts_the_build_accepts_and_what_it_refuses_ingest_refuses_alike(built, data):
    config = Config(root=built / "project", store_dir=built / "var" / "store", build_workers=BUILD_WORKERS)
    document = case_file(config, HACHINOHE).read_bytes()
    for name in data.draw(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3, unique=True)):
        fine, replacements = MUTATIONS[name]
        document = document.replace(fine, data.draw(st.sampled_from(replacements)), 1)
    check_and_publish_agree(config, document)


def comparable(report) -> list:
    """A report's results with blank-node labels aside (each parse names them anew)."""
    return [("_:" if r.focus.startswith("_:") else r.focus, r.path, r.component, r.line, r.messages)
            for r in report.results]


def test_an_iri_with_a_double_slash_under_our_base_is_refused_and_never_a_link_elsewhere(project):
    config = project()
    template = (config.root / "data" / "templates" / "case-template.ttl").read_bytes()
    evil = template.replace(b"kk:usefulFor aud:other-regions ;",
                            b"kk:usefulFor aud:other-regions ; rdfs:seeAlso <https://w3id.org/kouiki//evil.example/x#y> ;")
    assert evil != template
    report = submission.check(evil, config.root, store_dir=config.store_dir)
    assert any(r.component == "ks:NamespaceCheck" and "evil.example" in r.messages["en"] for r in report.results)
    from kouiki_kg.reader import local_path
    assert local_path("https://w3id.org/kouiki//evil.example/x") is None
    assert local_path("https://w3id.org/kouiki/id/lg/022039") == "/id/lg/022039"
