"""The `kouiki-kg` console script, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests

from .conftest import ROOT, RunningServer

CLI = Path(sys.executable).with_name("kouiki-kg")
CASE = ROOT / "data" / "ttl" / "cases" / "saitama-septic-tanks.ttl"


def run(*args: str, store_dir: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "KOUIKI_ROOT": str(ROOT)}
    if store_dir is not None:
        env["KOUIKI_STORE"] = str(store_dir)
    return subprocess.run([str(CLI), *args], input=stdin, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture()
def invalid_case(tmp_path) -> Path:
    """The Saitama case with its lead body taken away and a second Japanese title."""
    text = CASE.read_text(encoding="utf-8")
    text = text.replace("prov:hadRole role:lead", "prov:hadRole role:partner")
    text = text.replace('dct:title "公共浄化槽の広域整備に向けた調査"@ja ,', 'dct:title "公共浄化槽の広域整備に向けた調査"@ja , "二つ目"@ja ,')
    path = tmp_path / "saitama.ttl"
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_conforming_case_exits_0():
    result = run("validate", str(CASE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "適合" in result.stdout
    assert "Conforms" in run("validate", "--lang", "en", str(CASE)).stdout


def test_validate_violations_exit_1_with_report_in_both_languages(invalid_case):
    ja = run("validate", "--case", "saitama-septic-tanks", str(invalid_case))
    assert ja.returncode == 1
    assert "実施主体（role:lead）の関与がちょうど一つ必要です。" in ja.stdout
    assert f"{invalid_case}:" in ja.stdout  # where the focus node is written
    en = run("validate", "--lang", "en", "--case", "saitama-septic-tanks", str(invalid_case))
    assert "Exactly one association with the lead-body role" in en.stdout
    report = json.loads(run("validate", "--format", "json", "--lang", "en", "--case", "saitama-septic-tanks",
                            str(invalid_case)).stdout)
    assert report["conforms"] is False and report["violations"] == 2
    found = {(r["focus"], r["path"], r["component"]) for r in report["results"]}
    focus = "<https://w3id.org/kouiki/id/initiative/saitama-septic-tanks>"
    assert (focus, "prov:qualifiedAssociation", "sh:QualifiedMinCountConstraintComponent") in found
    assert (focus, "dct:title", "sh:UniqueLangConstraintComponent") in found
    assert all(r["line"] for r in report["results"])
    turtle = run("validate", "--format", "turtle", "--case", "saitama-septic-tanks", str(invalid_case)).stdout
    graph = rdflib.Graph().parse(data=turtle, format="turtle")
    SH = rdflib.namespace.SH
    assert len(list(graph.subjects(rdflib.RDF.type, SH.ValidationResult))) == 2


def test_a_copy_of_an_existing_case_is_checked_as_that_case(invalid_case):
    """Without --case, a file defining an initiative the project has is checked as a replacement of
    the case named after it (and said so), not merged with it: only its own faults are reported."""
    result = run("validate", "--lang", "en", str(invalid_case))
    assert result.returncode == 1
    assert "(checked as a replacement of the case saitama-septic-tanks)" in result.stdout
    assert "already exists" not in result.stdout and "Exactly one association with the lead-body role" in result.stdout


def test_an_initiative_of_another_case_already_exists(invalid_case):
    result = run("validate", "--lang", "en", "--case", "koryo-facility-sharing", str(invalid_case))
    assert result.returncode == 1
    assert "already exists in data/ttl/cases/saitama-septic-tanks.ttl" in result.stdout


def test_validate_unreadable_input_exits_2_with_line_and_column(tmp_path):
    broken = tmp_path / "broken.ttl"
    broken.write_text('@prefix dct: <http://purl.org/dc/terms/> .\n<https://w3id.org/kouiki/id/initiative/x> dct:title "未完\n',
                      encoding="utf-8")
    result = run("validate", str(broken))
    assert result.returncode == 2
    assert f"{broken}:2:" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run("validate", str(tmp_path / "nope.ttl"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_query_from_argument_file_and_stdin(store_dir):
    by_arg = run("query", "SELECT (COUNT(*) AS ?n) WHERE { ?i a kk:Initiative }", "--format", "csv", store_dir=store_dir)
    assert by_arg.returncode == 0 and list(csv.reader(io.StringIO(by_arg.stdout))) == [["n"], ["8"]]
    by_file = run("query", "-f", str(ROOT / "queries" / "05-initiatives-led-by-prefecture.rq"), "--format", "json",
                  store_dir=store_dir)
    rows = json.loads(by_file.stdout)["results"]["bindings"]
    assert [r["prefectureName"]["value"] for r in rows] == ["長野県", "埼玉県"]
    by_stdin = run("query", "--format", "tsv", store_dir=store_dir,
                   stdin="ASK { <https://w3id.org/kouiki/id/lg/022039> skos:prefLabel \"八戸市\"@ja }")
    assert by_stdin.returncode == 0 and "true" in by_stdin.stdout


def test_construct_query_returns_rdf(store_dir):
    result = run("query", "CONSTRUCT { ?d dct:title ?t } WHERE { ?d a kk:Plan ; dct:title ?t }", store_dir=store_dir)
    graph = rdflib.Graph().parse(data=result.stdout, format="turtle")
    assert len(graph) == 4  # two plans, ja and en titles
    nt = run("query", "CONSTRUCT { ?d dct:title ?t } WHERE { ?d a kk:Plan ; dct:title ?t }", "--format", "nt",
             store_dir=store_dir)
    assert len(nt.stdout.strip().splitlines()) == 4


def test_bad_query_and_bad_format_are_clear_errors(store_dir):
    bad = run("query", "SELECT WHERE {", store_dir=store_dir)
    assert bad.returncode != 0 and "SPARQL syntax error" in bad.stderr and "Traceback" not in bad.stderr
    fmt = run("query", "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "--format", "ttl", store_dir=store_dir)
    assert fmt.returncode != 0 and "json, xml, csv, tsv" in fmt.stderr


def test_query_without_store_says_to_build(tmp_path):
    result = run("query", "ASK {}", store_dir=tmp_path / "none")
    assert result.returncode != 0 and "kouiki-kg build" in result.stderr


@pytest.mark.parametrize("fmt", ["nq", "trig", "jsonld", "ttl"])
def test_export_round_trips(store, store_dir, tmp_path, fmt):
    out = tmp_path / f"export.{fmt}"
    result = run("export", "--format", fmt, "-o", str(out), store_dir=store_dir)
    assert result.returncode == 0, result.stderr
    parse_format = {"nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD,
                    "ttl": ox.RdfFormat.TURTLE}[fmt]
    quads = list(ox.parse(path=str(out), format=parse_format))
    total = len(list(store.quads()))
    if fmt == "ttl":  # merged into one graph: identical triples from two files count once
        assert 0 < len(quads) <= total
    else:
        assert len(quads) == total
        assert len({q.graph_name for q in quads}) == len({q.graph_name for q in store.quads()})


def test_build_command(tmp_path):
    result = run("build", store_dir=tmp_path / "store")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("built:") and "against the shapes" in result.stderr
    again = run("build", store_dir=tmp_path / "store")
    assert again.stdout.startswith("up to date:")


def test_authority_command(tmp_path):
    out = tmp_path / "lg.ttl"
    result = run("authority", "-o", str(out))
    assert result.returncode == 0 and "1963" in result.stdout
    assert out.read_bytes() == (ROOT / "data" / "ttl" / "authority" / "local-governments.ttl").read_bytes()


def test_serve_with_one_web_process_per_cpu_shares_out_the_query_workers(store_dir):
    running = RunningServer(store_dir, KOUIKI_WEB_WORKERS="2", KOUIKI_QUERY_WORKERS="4")
    try:
        # a comment of its own in each: answered by a pool (no shared cached answer), in both processes
        query = "SELECT (COUNT(*) AS ?n) WHERE { ?s a kk:Initiative } # %d"
        with ThreadPoolExecutor(8) as threads:
            answers = list(threads.map(lambda i: requests.get(running.url + "/sparql", params={"query": query % i},
                                                              headers={"Accept": "application/sparql-results+json"},
                                                              timeout=30), range(8)))
            pages = list(threads.map(lambda _: requests.get(running.url + "/id/lg/022039", timeout=30), range(8)))
        assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
        assert {a.json()["results"]["bindings"][0]["n"]["value"] for a in answers} == {"8"}
        assert {p.status_code for p in pages} == {200} and len({p.content for p in pages}) == 1
        sizes = set()
        for _ in range(40):  # whichever process answers /health: until one whose pool has started does
            sizes.add(requests.get(running.url + "/health", timeout=10).json().get("query_workers", {}).get("size"))
            if 2 in sizes:
                break
        assert sizes <= {2, None} and 2 in sizes  # each process's pool is its share: 4 // 2
        children = set()
        for task in os.listdir(f"/proc/{running.process.pid}/task"):
            children |= set(open(f"/proc/{running.process.pid}/task/{task}/children").read().split())
        web = [c for c in children if "kouiki-kg" in open(f"/proc/{c}/cmdline").read()]  # not multiprocessing's helper
        assert len(web) == 2  # gunicorn's master and two web processes
    finally:
        running.stop()


def _holding(shares, connections: int, done=None) -> None:  # a web process, forked: joins, publishes its count
    shares.join(lambda: connections)
    shares.over_share()
    if done is not None:
        done.wait(30)


def test_a_web_process_that_was_killed_leaves_no_count_behind():
    """A web process killed outright never runs `leave`; the next to start frees its slot, so the
    others' shares are counted among the living: two processes with four connections each are
    even, whatever the dead one held (counted, it would make the share 8 / 3 and both close
    connections forever)."""
    import multiprocessing

    from kouiki_kg.serving import ConnectionShares

    shares = ConnectionShares(2)
    fork = multiprocessing.get_context("fork")
    dead = fork.Process(target=_holding, args=(shares, 0))
    dead.start()
    dead.join()  # gone without leaving, as if killed
    done = fork.Event()
    sibling = fork.Process(target=_holding, args=(shares, 4, done))
    sibling.start()
    try:
        time.sleep(0.5)  # it has joined and published its four
        shares.join(lambda: 4)
        assert shares.over_share() is False
    finally:
        done.set()
        sibling.join(10)


def test_web_processes_keep_their_keep_alive_connections_even(store_dir):
    """Eight keep-alive clients connecting at once mostly went to one web process (it accepts
    what is waiting in one go) and stayed there, one CPU working for six of them. A process
    holding more than its share now answers `Connection: close` after an answer; its client
    reconnects, until each process holds four and nothing more is closed. The same after a web
    process is killed and gunicorn starts another in its place."""
    running = RunningServer(store_dir, KOUIKI_WEB_WORKERS="2", KOUIKI_QUERY_WORKERS="4")

    def connected() -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=30)
        connection.connect()
        return connection

    def ask(i: int) -> tuple[frozenset | None, bool]:
        """Which process answered connection i (by its query workers), and whether it closed it."""
        try:
            connections[i].request("GET", "/health")
            answer = connections[i].getresponse()
        except (ConnectionError, http.client.RemoteDisconnected):  # its process was killed
            connections[i].close()
            connections[i] = connected()
            return None, False
        body = json.loads(answer.read())
        if answer.will_close:
            connections[i].close()
            connections[i] = connected()
        pids = body.get("query_workers", {}).get("pids") if answer.status == 200 else None  # None: still starting
        return (frozenset(pids) if pids else None), answer.will_close

    def until_even(threads) -> tuple[list, list]:
        """Rounds of one request on each connection until the split is 4/4 five rounds running."""
        splits, closes = [], []
        for _ in range(300):
            answers = list(threads.map(ask, range(8)))
            closes.append(sum(closed for _, closed in answers))
            if all(who is not None for who, _ in answers):
                splits.append(sorted(Counter(who for who, _ in answers).values()))
            if splits[-5:] == [[4, 4]] * 5:
                break
            time.sleep(0.06)  # a process closes one connection at a time (ConnectionShares.SETTLE)
        return splits, closes

    def web_processes() -> list[int]:
        children = open(f"/proc/{running.process.pid}/task/{running.process.pid}/children").read().split()
        return [int(c) for c in children if "kouiki-kg" in open(f"/proc/{c}/cmdline").read()]

    connections: list[http.client.HTTPConnection] = []
    try:
        with ThreadPoolExecutor(8) as threads:
            connections = list(threads.map(lambda _: connected(), range(8)))
            splits, closes = until_even(threads)
            assert splits[-5:] == [[4, 4]] * 5, splits
            assert closes[-4:] == [0] * 4, closes  # even: nothing more is closed
            assert sum(closes) >= splits[0][-1] - 4  # what was over its share was closed (all of it started on one: 4)

            killed = web_processes()[0]
            os.kill(killed, signal.SIGKILL)  # as the kernel's OOM killer would: its slot is left behind
            deadline = time.monotonic() + 60
            while (len(set(web_processes()) - {killed}) < 2) and time.monotonic() < deadline:
                time.sleep(0.2)
            splits, closes = until_even(threads)  # the new process takes the dead one's place in the count
            assert splits[-5:] == [[4, 4]] * 5, splits
            assert closes[-4:] == [0] * 4, closes
    finally:
        for connection in connections:
            connection.close()
        running.stop()
