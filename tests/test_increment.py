"""Publishing a case builds only what it touches (increment.py); what it builds is what a full
build of the same files builds: the store, the search index, the listings, the dataset's
description and statistics, the dumps, and the answers and pages served from them.

Blank nodes get new labels in every build (full or not), so they are compared by shape: each
label is written as `_:b`.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pyoxigraph as ox
import pytest

from kouiki_kg import description, ingest, listings, search
from kouiki_kg.build import build
from kouiki_kg.config import Config
from kouiki_kg.store import GraphStore, current_build, ensure_dumps

from .conftest import copy_project, quiet

BLANK = re.compile(r"_:[A-Za-z0-9]+")
CASE = "saitama-septic-tanks"


def blank(text: str) -> str:
    return BLANK.sub("_:b", text)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("built")
    build(Config(root=copy_project(folder / "project"), store_dir=folder / "var" / "store", build_workers=1), log=quiet)
    return folder


@pytest.fixture()
def project(built, tmp_path) -> Config:
    for name in ("project", "var"):
        shutil.copytree(built / name, tmp_path / name, symlinks=True)
    return Config(root=tmp_path / "project", store_dir=tmp_path / "var" / "store", build_workers=1)


def full_build_of(config: Config, folder: Path) -> Path:
    """A full build (no increment) of the project's files as they are now."""
    shutil.copytree(config.root, folder / "project")
    other = Config(root=folder / "project", store_dir=folder / "store", build_workers=1)
    return build(other, force=True, log=quiet).build_dir


def contents(build_dir: Path) -> dict:
    """Everything a build holds that answers are made from, blank node labels aside."""
    info = json.loads((build_dir / "build.json").read_text())
    store = GraphStore(build_dir)  # the time of the build aside
    found = {"quads": sorted(blank(str(q)).replace(info["built_at"], "BUILT") for q in store.quads())}
    for name in (listings.LISTINGS_FILE, search.INDEX_FILE):
        connection = sqlite3.connect(build_dir / name)
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                                   "AND name NOT LIKE 'search%' ORDER BY name")]
        for table in tables:
            columns = [r[1] for r in connection.execute(f"PRAGMA table_info({table})") if r[1] != "id"]
            found[f"{name}:{table}"] = sorted(blank(repr(row)) for row in connection.execute(
                f"SELECT {', '.join(columns)} FROM {table}"))
        connection.close()
    found["build.json"] = {k: v for k, v in info.items() if k != "built_at"}
    found["statistics"] = json.loads((build_dir / description.STATISTICS_FILE).read_text())
    found["description"] = (build_dir / description.DESCRIPTION_FILE).read_text().replace(info["built_at"], "BUILT")
    return found


def answers(build_dir: Path) -> dict:
    """What the site answers from a build: searches, listings' pages, SPARQL."""
    index, lists = build_dir / search.INDEX_FILE, listings.Listings(build_dir / listings.LISTINGS_FILE)
    found = {f"search {q} {lang}": [(h.iri, h.label_ja, h.label_en, h.initiative_ja, str(h.snippet))
                                    for h in search.search(index, q, per_page=50, lang=lang).hits]
             for q in ("浄化槽", "septic", "埼玉", "edited", "横浜", "ai") for lang in ("ja", "en")}
    found["initiatives"] = lists.initiatives(0, 100)
    found["pages"] = lists.pages(0, 100_000)
    found["figures"] = {name: lists.figures(name) for name in ("counts", "categories", "roles", "prefectures", "themes")}
    store = GraphStore(build_dir)
    found["sparql"] = [blank(str(list(store.query(q)))) for q in (
        "SELECT ?i ?t WHERE { ?i a kk:Initiative ; dct:title ?t } ORDER BY ?i ?t",
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g")]
    return found


def edited(config: Config, slug: str = CASE) -> bytes:
    text = (config.root / "data" / "ttl" / "cases" / f"{slug}.ttl").read_bytes()
    changed = text.replace(b'"Study towards area-wide development of public septic tanks"@en',
                           b'"Study towards area-wide development of public septic tanks (edited)"@en')
    assert changed != text
    return changed


def assert_equal_builds(one: Path, other: Path) -> None:
    """Two builds hold the same and answer the same, blank node labels and build times aside."""
    ours, theirs = contents(one), contents(other)
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert ours[key] == theirs[key], key
    assert answers(one) == answers(other)


def assert_same(config: Config, tmp_path: Path) -> Path:
    """The served build was made by an increment (no dumps yet) and equals a full build."""
    served = current_build(config.store_dir)
    assert not (served / "dumps").exists(), "the change was built in full, not as an increment"
    assert_equal_builds(served, full_build_of(config, tmp_path / "full"))
    return served


def test_a_put_builds_what_a_full_build_builds(project, tmp_path):
    ingest.publish(project, CASE, edited(project), "ttl", "alice")
    served = assert_same(project, tmp_path)
    assert any("(edited)" in h.label_en for h in search.search(served / search.INDEX_FILE, "edited").hits)


def test_a_delete_builds_what_a_full_build_builds(project, tmp_path):
    ingest.withdraw(project, "koryo-facility-sharing", "alice")
    assert_same(project, tmp_path)


def test_a_new_case_and_then_its_removal_build_what_full_builds_build(project, tmp_path):
    """The stewards' template (a case of its own, with a grouping and passages), published, then withdrawn."""
    template = (project.root / "data" / "templates" / "case-template.ttl").read_bytes()
    assert ingest.publish(project, "example-case", template, "ttl", "alice").created
    assert_same(project, tmp_path / "put")
    ingest.withdraw(project, "example-case", "alice")
    assert_same(project, tmp_path / "delete")


def test_a_change_the_whole_project_refuses_is_refused_with_the_full_builds_report(project, tmp_path):
    """Withdrawing a case another builds on: the increment finds the other case's broken
    references, as validating everything does."""
    slug = "yokohama-8cities-fy2019"  # the forecast case builds on it
    with pytest.raises(ingest.IngestError) as refused:
        ingest.withdraw(project, slug, "alice")
    (tmp_path / "full").mkdir()
    shutil.copytree(project.root, tmp_path / "full" / "project")
    (tmp_path / "full" / "project" / "data" / "ttl" / "cases" / f"{slug}.ttl").unlink()
    with pytest.raises(Exception) as whole:
        build(Config(root=tmp_path / "full" / "project", store_dir=tmp_path / "full" / "store", build_workers=1),
              force=True, log=quiet)
    assert refused.value.status == 409
    found, expected = ([blank(repr((r.focus, r.path, r.component, r.value, r.messages, r.shape, r.severity, r.file, r.line)))
                        for r in report.results] for report in (refused.value.report, whole.value.report))
    assert found and sorted(found) == sorted(expected)


def test_the_dumps_of_an_increment_are_made_after_it_is_served_and_hold_the_same_graph(project, tmp_path):
    assert ingest.make_dumps_later(project) is None  # a full build has its dumps: no process is started
    ingest.publish(project, CASE, edited(project), "ttl", "alice")
    served = current_build(project.store_dir)
    assert not (served / "dumps").exists()
    ingest.make_dumps_later(project).join(timeout=120)  # a process of its own, as after a PUT through the server
    assert (served / "dumps").is_dir() and not list(served.glob(".dumps-*"))
    ensure_dumps(served, description.DUMP_FILES)  # made: nothing to do
    full = full_build_of(project, tmp_path / "full")
    for name, spec in description.DUMPS.items():
        ours, theirs = (ox.Store() for _ in range(2))
        for store, folder in ((ours, served), (theirs, full)):
            fmt = {"nq": ox.RdfFormat.N_QUADS, "ttl": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD}[name]
            store.load(gzip.decompress((folder / "dumps" / spec[0]).read_bytes()), format=fmt)
        times = [json.loads((folder / "build.json").read_text())["built_at"] for folder in (served, full)]
        assert (sorted(blank(str(q)).replace(times[0], "BUILT") for q in ours)
                == sorted(blank(str(q)).replace(times[1], "BUILT") for q in theirs)), name


def test_one_maker_of_dumps_at_a_time_and_it_ends_on_the_build_served(project, monkeypatch):
    """Cases published faster than their dumps are written: a second maker leaves at once, and
    the one at work, done, makes the dumps of the build served since (not a process per change)."""
    import fcntl

    ingest.publish(project, CASE, edited(project), "ttl", "alice")
    lock = ingest.state_dir(project) / ingest.DUMPS_LOCK
    with open(lock, "a") as held:  # a maker at work
        fcntl.flock(held, fcntl.LOCK_EX)
        assert ingest.make_dumps_later(project) is None  # no process started
        ingest.make_dumps(project)
        assert not (current_build(project.store_dir) / "dumps").exists()
    made, real = [], ingest.ensure_dumps

    def ensure_then_publish(build_dir, files):
        real(build_dir, files)
        made.append(build_dir)
        if len(made) == 1:  # a case published while the dumps were written
            again = (project.root / "data" / "ttl" / "cases" / f"{CASE}.ttl").read_bytes().replace(b"(edited)", b"(again)")
            ingest.publish(project, CASE, again, "ttl", "alice")
            ingest.make_dumps(project)  # what that publish's own maker does: leaves, as this one holds the lock

    monkeypatch.setattr(ingest, "ensure_dumps", ensure_then_publish)
    ingest.make_dumps(project)
    assert len(made) == 2 and made[1] == current_build(project.store_dir) != made[0]
    assert all((build_dir / "dumps").is_dir() for build_dir in made)


def test_a_change_to_anything_but_cases_is_built_in_full(project, tmp_path):
    """The ontology, shapes and authority data decide what every case means: a change there (or a
    served build that is not of the files as they are) rebuilds everything."""
    from kouiki_kg import increment
    from kouiki_kg.build import inputs_digest

    changes = {"data/ttl/authority/local-governments.ttl": project.root / "data/ttl/authority/local-governments.ttl"}
    assert increment.served_base(project.store_dir, project.root, changes, inputs_digest) is None
    case = {f"data/ttl/cases/{CASE}.ttl": None}
    assert increment.served_base(project.store_dir, project.root, case, inputs_digest) is not None
    (project.root / "data" / "ttl" / "cases" / "koryo-facility-sharing.ttl").write_bytes(b"")  # edited by hand, not built
    assert increment.served_base(project.store_dir, project.root, case, inputs_digest) is None


def test_a_build_read_in_memory_holds_what_one_read_from_disk_holds(project, tmp_path, monkeypatch):
    """Up to build.IN_MEMORY_BYTES a build describes, indexes and dumps a copy of the data in
    memory and writes the store from it; past it, it reads the store on disk. Both end the same,
    and every blank node the lookup files name is one the store holds under that label."""
    in_memory = full_build_of(project, tmp_path / "memory")
    monkeypatch.setattr("kouiki_kg.build.IN_MEMORY_BYTES", 0)
    assert_equal_builds(in_memory, full_build_of(project, tmp_path / "disk"))

    connection = sqlite3.connect(in_memory / listings.LISTINGS_FILE)
    named = {label for table, column in (("taking_part", "via"), ("associated", "agent"), ("incoming", "subject"))
             for (value,) in connection.execute(f"SELECT {column} FROM {table}") for label in BLANK.findall(value)}
    connection.close()
    held = {str(term) for q in GraphStore(in_memory).quads() for term in (q.subject, q.object)
            if isinstance(term, ox.BlankNode)}
    assert named and named <= held


def test_busy_objects_cut_listings_after_a_change_are_a_full_builds(project, tmp_path, monkeypatch):
    """A busy object lists its first INCOMING_LISTED incoming IRIs. After a change the increment
    asks only about those listed before and those the change touched, when enough still link;
    cut at three links, so that the seed's classes, roles and bodies are all cut, a new case
    and its withdrawal list what full builds list."""
    monkeypatch.setattr(listings, "INCOMING_LISTED", 3)
    asked = []
    real_in_chunks = listings.in_chunks

    def in_chunks(query, sparql, terms, size=1000):
        asked.append(sparql.split("}")[0])
        return real_in_chunks(query, sparql, terms, size)

    monkeypatch.setattr(listings, "in_chunks", in_chunks)
    build(project, force=True, log=quiet)  # the served build, cut at three too
    template = (project.root / "data" / "templates" / "case-template.ttl").read_bytes()
    assert ingest.publish(project, "example-case", template, "ttl", "alice").created
    assert_same(project, tmp_path / "put")
    ingest.withdraw(project, "example-case", "alice")
    assert_same(project, tmp_path / "delete")
    assert any(a.startswith(listings.INCOMING_AMONG.split("}")[0]) for a in asked)
    assert any(a.startswith(listings.INCOMING_BLANKS_AMONG.split("}")[0]) for a in asked)  # qualified associations
