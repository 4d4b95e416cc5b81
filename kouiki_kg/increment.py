"""Publishing a change to a few case files without building everything again (decision 28).

A full build at a million triples takes minutes; a steward's PUT or DELETE changes one case
file. So a build of the project *with that change* is made from the served one: its store is
copied (a RocksDB checkpoint: hard links), the case's named graph replaced in the copy, and
everything derived from the store redone for what the change can have touched — the shapes'
checks for the focus nodes that read a changed triple, the dataset's statistics by the terms
that appeared or vanished, the search entries, labels, pages and incoming links of the changed
resources, the listings of the initiatives that reach them. Each is asked the same questions
the full build asks, for those keys only, so the new build answers as a full build of the same
files does (tests/test_increment.py compares them table by table and answer by answer). Its
dumps are written after it is served (store.ensure_dumps), or on the first request for one.

It is only used where it is sound: the served build must be a build of the files as they are
now (same digest), and the change may touch only case files; anything else (the ontology,
shapes, authority data, a build that failed) goes through the full build.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Callable

import pyoxigraph as ox

from . import description, listings, search
from .namespaces import KK
from .project import InputFile, input_files
from .store import BuildInfo, StoreView, copy_store, current_build, replace_graph
from .validation import Report, add_results_to_report_graph, ill_typed_literals, load_files
from .validation.units import touched_nodes, validate_change

CASES = "data/ttl/cases/"
LOOKUP_FILES = (search.INDEX_FILE, listings.LISTINGS_FILE)
LISTING_DEPTH = 3  # steps from an initiative to the subject of a triple its listings read (listings.py)


class ChangeRefused(Exception):
    """The change would leave the project not conforming: the report says why."""

    def __init__(self, report: Report):
        super().__init__("the data would not conform to the shapes")
        self.report = report


def served_base(store_dir: Path, root: Path, changes: dict[str, Path | None], digest_of) -> Path | None:
    """The served build to make the change from, or None when a full build is needed: the change
    touches files other than cases, or the served build is not of the files as they are (it is
    older, or made by other code: `digest_of(files)` is the build's key)."""
    if not changes or not all(relative.startswith(CASES) for relative in changes):
        return None
    base = current_build(store_dir)
    if base is None or not all((base / name).is_file() for name in (*LOOKUP_FILES, description.STATISTICS_FILE)):
        return None
    try:
        info = BuildInfo.read(base)
    except (OSError, ValueError, TypeError):
        return None
    return base if info.content_hash == digest_of(input_files(root)) else None


def make(base: Path, staging: Path, files: list[InputFile], changes: dict[str, Path | None], *, built_at: str,
         digest: str, log: Callable[[str], None]) -> tuple[dict[str, int], int]:
    """Make in `staging` the build of `files` (the project with `changes` made) from the build at
    `base`. Returns (triples per named graph, triples the description counts). Raises
    store.LoadSyntaxError for a file that does not parse, ChangeRefused for one that does not conform."""
    started = time.perf_counter()
    store = copy_store(base, staging)
    for name in LOOKUP_FILES:
        shutil.copyfile(base / name, staging / name)
    view = StoreView(store)
    by_relative = {f.relative: f for f in files}
    removed: list[ox.Triple] = []
    added: list[ox.Triple] = []
    changed_graphs = []
    for relative in sorted(changes):
        graph = InputFile(path=Path(relative), relative=relative, kind="data").graph
        gone, new = replace_graph(store, graph, by_relative[relative].path if relative in by_relative else None)
        removed += gone
        added += new
        changed_graphs.append(graph)
    # a triple both removed and added changes nothing (a blank node's are always new: its label is)
    changed_subjects = {t.subject for t in set(removed) ^ set(added)}
    log(f"replaced {len(changed_graphs)} graph(s): {len(removed)} triples out, {len(added)} in "
        f"({time.perf_counter() - started:.2f} s)")

    checked = time.perf_counter()
    shapes, _ = load_files([f for f in files if f.kind == "shapes"])
    report = validate_change(view, shapes, data_graphs=[f.graph for f in files if f.kind != "shapes"],
                             reference_graphs=[f.graph for f in files if f.kind == "ontology"],
                             changed_subjects=changed_subjects)
    literals = ill_typed_literals(t for t in added if isinstance(t.object, ox.Literal))
    if literals:  # the same check as the build's, over the triples the change adds
        add_results_to_report_graph(report.graph, literals)
        report.results = sorted(report.results + literals, key=lambda r: (r.focus, r.path or "", r.component, r.value or ""))
        report.conforms = False
    if not report.conforms:
        raise ChangeRefused(report)
    log(f"checked what the change touches ({time.perf_counter() - checked:.2f} s)")

    described = time.perf_counter()
    others = set(changed_graphs) | {description.DESCRIPTION_GRAPH}

    def elsewhere(subject=None, predicate=None, object=None) -> bool:
        return any(q.graph_name.value not in others for q in store.quads_for_pattern(subject, predicate, object, None))

    old_description, _ = replace_graph(store, description.DESCRIPTION_GRAPH, None)
    statistics = description.updated_statistics(
        description.statistics_from_json((base / description.STATISTICS_FILE).read_text(encoding="utf-8")),
        view.query, removed, added, elsewhere)
    turtle = description.description_turtle(statistics, built_at, digest)
    (staging / description.DESCRIPTION_FILE).write_text(turtle, encoding="utf-8")
    (staging / description.STATISTICS_FILE).write_text(description.statistics_json(statistics), encoding="utf-8")
    _, new_description = replace_graph(store, description.DESCRIPTION_GRAPH, turtle)
    log(f"described the dataset ({time.perf_counter() - described:.2f} s)")

    indexed = time.perf_counter()
    store.flush()
    described_anew = set(old_description) ^ set(new_description)  # the figures and dates, not the themes' labels
    touched = changed_subjects | {t.subject for t in described_anew}
    iris = {s.value for s in touched if isinstance(s, ox.NamedNode)}
    # an entry's text holds the names of the bodies it is associated with: those pointing here too
    pointing = {q.subject.value for s in touched if not isinstance(s, ox.Literal)
                for q in store.quads_for_pattern(None, None, s, None) if isinstance(q.subject, ox.NamedNode)}
    search.update_index(view.query, staging / search.INDEX_FILE, iris | pointing)
    initiative = ox.NamedNode(KK + "Initiative")
    rdf_type = ox.NamedNode(description.RDF_TYPE)
    reaching = touched_nodes(view, changed_subjects, [], depth=LISTING_DEPTH)
    initiatives = {n.value for n in reaching if isinstance(n, ox.NamedNode)
                   and next(iter(store.quads_for_pattern(n, rdf_type, initiative, None)), None) is not None}
    initiatives |= {t.subject.value for t in removed if t.predicate == rdf_type and t.object == initiative}
    objects = {t.object.value for t in (set(removed) ^ set(added)) | described_anew if isinstance(t.object, ox.NamedNode)}
    listings.update_listings(view.query, staging / listings.LISTINGS_FILE, initiatives=initiatives, subjects=iris,
                             objects=objects)
    log(f"redid the search entries and listings of {len(iris | pointing)} resources and {len(initiatives)} "
        f"initiative(s) ({time.perf_counter() - indexed:.2f} s)")

    counts = dict(BuildInfo.read(base).graph_triples)
    for graph in [*changed_graphs, description.DESCRIPTION_GRAPH]:
        n = sum(1 for _ in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))
        if n:
            counts[graph] = n
        else:
            counts.pop(graph, None)
    store.flush()  # the store is closed as this returns (nothing else holds it): readers may open it
    return dict(sorted(counts.items())), statistics.triples
