"""Building the store: validated, atomic, per-file named graphs, no rebuild when nothing changed."""

from __future__ import annotations

from dataclasses import replace

import pyoxigraph as ox
import pytest

from kouiki_kg.build import KEEP_BUILDS, BuildError, build
from kouiki_kg.config import Config
from kouiki_kg.description import DESCRIPTION_GRAPH
from kouiki_kg.namespaces import GRAPH
from kouiki_kg.project import input_files
from kouiki_kg.store import GraphStore, StoreView, current_build

from .conftest import ROOT, quiet, copy_project

CASE = "data/ttl/cases/hachinohe-bus-network.ttl"


@pytest.fixture()
def project(tmp_path) -> Config:
    """A private copy of the project's inputs, safe to break."""
    root = copy_project(tmp_path / "project")
    config = Config(root=root, store_dir=tmp_path / "store")
    build(config, log=quiet)
    return config


def count(config: Config) -> int:
    return len(list(GraphStore.open_current(config.store_dir).quads()))


def test_each_file_in_its_own_named_graph_and_union_by_default(store, files):
    graphs = {r["g"].value for r in store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
    assert graphs == {f.graph for f in files} | {DESCRIPTION_GRAPH}
    assert GRAPH + "cases/hachinohe-bus-network" in graphs
    # The default graph is the union: one pattern joins the ontology, a case and the authority data.
    ask = store.query("""ASK { ?i a kk:Initiative ; prov:wasAssociatedWith ?lg . ?lg kk:localGovernmentCode "022039" .
                               kk:Initiative rdfs:label "広域連携の取組"@ja }""")
    assert bool(ask)


def test_unchanged_inputs_are_not_rebuilt(project):
    before = current_build(project.store_dir)
    again = build(project, log=quiet)
    assert not again.rebuilt and again.build_dir == before


def test_a_change_rebuilds_and_force_rebuilds(project):
    before = current_build(project.store_dir)
    case = project.root / CASE
    case.write_text(case.read_text(encoding="utf-8") + "\n# a comment changes the bytes\n", encoding="utf-8")
    changed = build(project, log=quiet)
    assert changed.rebuilt and changed.build_dir != before
    forced = build(project, force=True, log=quiet)
    assert forced.rebuilt and forced.build_dir != changed.build_dir
    builds = [d for d in (project.store_dir / "builds").iterdir() if not d.name.startswith(".")]
    assert len(builds) == KEEP_BUILDS


# data, and the shapes it is checked against (a line holding a statement in each)
@pytest.mark.parametrize("broken, line", [(CASE, 41), ("shapes/kouiki-shapes.ttl", 44)])
def test_syntax_error_fails_with_file_line_column_and_keeps_the_old_store(project, broken, line):
    before, triples = current_build(project.store_dir), count(project)
    path = project.root / broken
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[line - 1] = lines[line - 1] + ' "unterminated'
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BuildError) as err:
        build(project, log=quiet)
    assert err.value.syntax is not None
    assert (err.value.syntax.source, err.value.syntax.line) == (broken, line)
    assert str(err.value).startswith(f"cannot parse {broken}:{line}:")
    assert current_build(project.store_dir) == before and count(project) == triples
    assert not [d for d in (project.store_dir / "builds").iterdir() if d.name.startswith(".staging")]


def break_member_count(config: Config) -> str:
    """Make the seed's 八戸圏域 grouping count 9 members where its passage says 8; returns the old text."""
    case = config.root / CASE
    text = case.read_text(encoding="utf-8")
    case.write_text(text.replace("kk:memberCount 8 ;", "kk:memberCount 9 ;"), encoding="utf-8")
    return text


# the check beside the build (in a process of its own, on the files or, for a large project, on a
# snapshot of the loaded store) and, with one build worker, in this process
@pytest.mark.parametrize("workers,large", [(None, False), (None, True), (1, False)])
def test_violation_fails_with_a_report_and_keeps_the_old_store(project, workers, large, monkeypatch):
    if large:
        monkeypatch.setattr("kouiki_kg.build.IN_MEMORY_BYTES", 0)
    before, triples = current_build(project.store_dir), count(project)
    text = break_member_count(project)
    logged = []
    with pytest.raises(BuildError) as err:
        build(replace(project, build_workers=workers), log=logged.append)
    assert any(m.endswith("(beside the build)") for m in logged) == (workers is None)
    report = err.value.report
    assert report is not None and not report.conforms
    [result] = report.results
    assert result.focus == "<https://w3id.org/kouiki/id/org/hachinohe-area>"
    assert result.file == CASE and text.splitlines()[result.line - 1].startswith("actor:hachinohe-area a")
    assert "9" in result.message("ja") and "9" in result.message("en")
    assert current_build(project.store_dir) == before and count(project) == triples
    assert not [d for d in (project.store_dir / "builds").iterdir() if d.name.startswith(".staging")]


def test_a_large_project_is_checked_beside_the_build_on_a_snapshot_of_its_store(project, monkeypatch):
    monkeypatch.setattr("kouiki_kg.build.IN_MEMORY_BYTES", 0)
    logged = []
    outcome = build(project, force=True, log=logged.append)
    assert any(m.startswith("validated") and m.endswith("(beside the build)") for m in logged)
    assert logged.index(next(m for m in logged if m.startswith("loaded"))) < len(logged) - 1
    assert not (outcome.build_dir / ".checked").exists() and (outcome.build_dir / "dumps").is_dir()
    assert count(project) == outcome.info.triples


def test_a_check_that_dies_fails_the_build_clearly(project, monkeypatch):
    before = current_build(project.store_dir)
    monkeypatch.setattr("kouiki_kg.build.sys.executable", "/bin/false")  # exits 1 and says nothing
    with pytest.raises(BuildError, match=r"the check stopped without an answer \(exit code 1\)"):
        build(project, force=True, log=quiet)
    assert current_build(project.store_dir) == before
    assert not [d for d in (project.store_dir / "builds").iterdir() if d.name.startswith(".staging")]


def test_a_check_that_cannot_start_fails_the_build_clearly(project, monkeypatch):
    before = current_build(project.store_dir)
    monkeypatch.setattr("kouiki_kg.build.sys.executable", str(project.root / "no-such-python"))
    with pytest.raises(BuildError, match="cannot start the check"):
        build(project, force=True, log=quiet)
    assert current_build(project.store_dir) == before
    assert not [d for d in (project.store_dir / "builds").iterdir() if d.name.startswith(".staging")]


def test_data_the_shapes_reject_gets_its_report_even_when_a_later_step_breaks_on_it(project, monkeypatch):
    """With the check beside the build, the steps after loading run before its answer is in."""
    break_member_count(project)

    def broken(*_args):
        raise ValueError("a step that trusted the data")
    monkeypatch.setattr("kouiki_kg.build.listings.build_listings", broken)
    with pytest.raises(BuildError) as err:
        build(project, log=quiet)
    assert err.value.report is not None and not err.value.report.conforms
    assert not [d for d in (project.store_dir / "builds").iterdir() if d.name.startswith(".staging")]


def test_unwritable_store_fails_clearly_and_keeps_the_old_store(project):
    before = current_build(project.store_dir)
    blocked = Config(root=project.root, store_dir=project.store_dir.parent / "blocked")
    blocked.store_dir.mkdir()
    (blocked.store_dir / "builds").write_text("not a directory")  # mkdir under it fails, even for root
    with pytest.raises(BuildError, match="cannot write the store"):
        build(blocked, log=quiet)
    assert current_build(blocked.store_dir) is None
    assert current_build(project.store_dir) == before


def test_no_data_is_an_error(tmp_path):
    (tmp_path / "ontology").mkdir()
    with pytest.raises(BuildError, match="no Turtle files"):
        build(Config(root=tmp_path, store_dir=tmp_path / "store"), log=quiet)


def test_input_files_cover_every_turtle_file():
    names = {f.relative for f in input_files(ROOT)}
    assert names == {p.relative_to(ROOT).as_posix() for folder in ("ontology", "shapes", "data/ttl")
                     for p in (ROOT / folder).rglob("*.ttl")}


def test_a_list_of_default_graphs_is_that_union_whether_or_not_it_is_the_whole_store():
    # a list covering every graph is answered as the union default graph (fast); others as the list
    store = ox.Store()
    g1, g2 = ox.NamedNode("https://example.org/g1"), ox.NamedNode("https://example.org/g2")
    for n, g in enumerate((g1, g2)):
        store.add(ox.Quad(ox.NamedNode(f"https://example.org/s{n}"), ox.NamedNode("https://example.org/p"), ox.Literal(str(n)), g))
    view = StoreView(store)

    def subjects(graphs):
        return sorted(r["s"].value for r in view.query("SELECT ?s WHERE { ?s ?p ?o }", default_graphs=graphs))

    assert subjects([g1.value]) == ["https://example.org/s0"]
    assert subjects([g1.value, g2.value]) == ["https://example.org/s0", "https://example.org/s1"]
    assert subjects([]) == []
    store.add(ox.Quad(ox.NamedNode("https://example.org/s9"), ox.NamedNode("https://example.org/p"), ox.Literal("9")))
    assert subjects([g1.value, g2.value]) == ["https://example.org/s0", "https://example.org/s1"]  # not the default graph
