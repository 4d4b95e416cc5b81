"""Validating the whole project in parts, so a build scales past what pyshacl does in one go.

pyshacl over the whole graph grows faster than the graph (minutes and more than a gigabyte at
a million triples). Here the build's loaded store does the bookkeeping and pyshacl only sees
small graphs:

1. Every node shape's focus nodes are found once, by SPARQL over the whole store, with the
   same target rules pyshacl applies (``target_pattern``).
2. The focus nodes are cut into units of a few thousand. A unit's data graph is the ontology
   and concept schemes whole, plus, for each focus node, everything said about it, everything
   that points at it (inverse paths), and the descriptions of the nodes those reach, two steps
   deep (the depth of our shapes' ``sh:node`` and ``sh:class`` chains), blank nodes followed to
   their end.
3. pyshacl validates each unit with the shapes' targets replaced by ``sh:targetNode`` lists of
   that unit's focus nodes, so context nodes are looked at but never validated twice. Units run
   in parallel worker processes that open the store read-only.
4. The SHACL-SPARQL constraints run once over the whole store on Oxigraph, as before.

Up to ``WHOLE_MAX_TRIPLES`` triples, a project past one unit is validated instead in one go by
pyshacl-turbo (a SHACL engine in Rust with pyshacl's interface): at 1 M triples 31 s in one
process against ~110 s for pyshacl in units on two (bench/shacl_engines.py), holding ~1.7 GB
while it runs, hence the bound; past it, units keep the memory bounded.

Whole-graph pyshacl (``validation.validate_graph``) stays the reference, and what stewards'
checks use: the tests check that both ways give its results on the project and on every
negative fixture.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate
from rdflib.namespace import RDF, SH
import rdflib.collection
import rdflib.util

from ..namespaces import PREFIXES, compact
from ..store import StoreView
from . import (Report, add_results_to_report_graph, core_shapes, from_ox, results_from, sparql_results,
                         target_pattern)

UNIT_SIZE = 3000  # focus nodes per unit: big enough to amortise the shared context, small enough to balance
WHOLE_MAX_TRIPLES = 2_000_000  # pyshacl-turbo held ~1.7 GB for 1 M triples: past this, units
CONTEXT_DEPTH = 2  # steps from a focus node whose descriptions its checks may need
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)


def _n3(term) -> str:
    return str(term)  # pyoxigraph terms print as N-Triples


def focus_nodes_by_shape(view: StoreView, core: rdflib.Graph, data_graphs: list[str]) -> dict[str, list[str]]:
    """Each targeted node shape (N3) → its focus nodes (N3), found over all the data graphs."""
    found = {}
    for shape in sorted(set(s for p in TARGETS for s in core.subjects(p, None)), key=str):
        pattern = target_pattern(core, shape)
        rows = view.query(f"SELECT DISTINCT ?this WHERE {{ {pattern} }}", default_graphs=data_graphs)
        found[shape.n3()] = sorted(_n3(row["this"]) for row in rows)
    return found


def plan_units(by_shape: dict[str, list[str]], size: int) -> list[dict[str, list[str]]]:
    """Cut the focus nodes into units; a node stays in one unit with all the shapes that target it."""
    shapes_of: dict[str, list[str]] = {}
    for shape, nodes in by_shape.items():
        for node in nodes:
            shapes_of.setdefault(node, []).append(shape)
    nodes = sorted(shapes_of)
    units = []
    for start in range(0, len(nodes), size):
        unit: dict[str, list[str]] = {}
        for node in nodes[start:start + size]:
            for shape in shapes_of[node]:
                unit.setdefault(shape, []).append(node)
        units.append(unit)
    return units


def _parse_term(text: str):
    """N3 of a NamedNode or BlankNode (what target queries return) → the pyoxigraph term."""
    if text.startswith("_:"):
        return ox.BlankNode(text[2:])
    return ox.NamedNode(text[1:-1])


def inverse_predicates(shapes: rdflib.Graph) -> list[ox.NamedNode]:
    """The predicates the shapes follow backwards (sh:inversePath, also inside alternatives)."""
    found = set()
    pending = list(shapes.objects(None, SH.inversePath))
    while pending:
        path = pending.pop()
        if isinstance(path, rdflib.URIRef):
            found.add(path)
            continue
        for inner in shapes.objects(path, SH.alternativePath):
            pending.extend(rdflib.collection.Collection(shapes, inner))
        if (path, RDF.first, None) in shapes:
            pending.extend(rdflib.collection.Collection(shapes, path))
    return [ox.NamedNode(str(p)) for p in sorted(found)]


def unit_context(view: StoreView, focus: list, data_graphs: set, inverse: list, known: set,
                 depth: int = CONTEXT_DEPTH) -> set[ox.Triple]:
    """What validating the focus nodes needs from the data graphs besides the ontology and schemes.

    `inverse`: the predicates followed backwards; `known`: nodes described in the reference
    graphs already (classes, concepts), not looked up again.
    """
    triples: set[ox.Triple] = set()

    def describe(node) -> set:
        """Add the node's description (blank nodes followed); return the IRIs it points to."""
        reached, pending, seen = set(), [node], set()
        while pending:
            current = pending.pop()
            for quad in view.iter_quads(current, None, None, None):
                if quad.graph_name not in data_graphs:
                    continue
                triples.add(quad.triple)
                obj = quad.object
                if isinstance(obj, ox.BlankNode):
                    if obj not in seen:
                        seen.add(obj)
                        pending.append(obj)
                elif isinstance(obj, ox.NamedNode) and obj not in known:
                    reached.add(obj)
        return reached

    frontier: set = set()
    for node in focus:
        frontier |= describe(node)
        for predicate in inverse:  # what points here along an inverse path
            for quad in view.iter_quads(None, predicate, node, None):
                if quad.graph_name in data_graphs:
                    triples.add(quad.triple)
                    frontier.add(quad.subject)
    described = set(focus)
    for _ in range(depth):
        following: set = set()
        for node in frontier - described:
            described.add(node)
            following |= describe(node)
        frontier = following
    return triples


def to_rdflib_graph(triples, graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """pyoxigraph triples → rdflib, keeping blank node labels (focus nodes are named by them)."""
    graph = graph if graph is not None else rdflib.Graph()
    converted: dict = {}  # the same predicates, classes and bodies recur on every line

    def term(node):
        found = converted.get(node)
        if found is None:
            found = converted[node] = from_ox(node)
        return found

    graph.addN((term(t.subject), term(t.predicate), term(t.object), graph) for t in triples)
    return graph


def untargeted(core: rdflib.Graph) -> rdflib.Graph:
    shapes = rdflib.Graph()
    shapes += core
    for predicate in TARGETS:
        shapes.remove((None, predicate, None))
    return shapes


@dataclass
class _Worker:
    """What a process keeps between units: the open store, the ontology graph, the shapes."""

    view: StoreView
    data_graphs: set  # NamedNodes of the graphs that hold data (not the shapes)
    reference: list[ox.Triple]  # the graphs every unit sees whole
    known: set  # the subjects of those graphs
    inverse: list  # predicates the shapes follow backwards
    shapes: rdflib.Graph  # with targets, to say which node shape owns a result
    bare_shapes: rdflib.Graph  # core shapes without targets


def _prepare(view: StoreView, data_graphs: list[str], reference_graphs: list[str], shapes: rdflib.Graph) -> _Worker:
    reference = [q.triple for g in reference_graphs for q in view.iter_quads(None, None, None, ox.NamedNode(g))]
    graphs = {ox.NamedNode(g) for g in reference_graphs}
    known = {s for s in {t.subject for t in reference}  # unless the data says more about them
             if all(q.graph_name in graphs for q in view.iter_quads(s, None, None, None))}
    return _Worker(view, {ox.NamedNode(g) for g in data_graphs}, reference, known,
                   inverse_predicates(shapes), shapes, untargeted(core_shapes(shapes)))


def unit_triples(worker: _Worker, unit: dict[str, list[str]]) -> list[ox.Triple]:
    """A unit's data graph: the reference graphs and its focus nodes' context."""
    focus = sorted({node for nodes in unit.values() for node in nodes})
    return [*worker.reference, *unit_context(worker.view, [_parse_term(n) for n in focus], worker.data_graphs,
                                             worker.inverse, worker.known)]


def validate_unit(worker: _Worker, unit: dict[str, list[str]], triples: list[ox.Triple] | None = None) -> tuple[list, bytes]:
    """pyshacl over one unit (its data graph, if already gathered: `triples`); returns its results
    and its sh:ValidationReport as N-Triples."""
    data = to_rdflib_graph(triples if triples is not None else unit_triples(worker, unit))
    shapes = rdflib.Graph()
    shapes += worker.bare_shapes
    for shape, nodes in unit.items():
        shape_term = rdflib.util.from_n3(shape)
        for node in nodes:
            term = from_ox(_parse_term(node))
            shapes.add((shape_term, SH.targetNode, term))
    _, report_graph, _ = shacl_validate(data, shacl_graph=shapes, inference="none", advanced=False,
                                        allow_warnings=True, meta_shacl=False, inplace=True)
    return results_from(report_graph, worker.shapes, data), report_graph.serialize(format="nt", encoding="utf-8")


def _validate_turbo(view: StoreView, data_graphs: list[str], shapes: rdflib.Graph,
                    core: rdflib.Graph) -> tuple[list, bytes]:
    """pyshacl-turbo over all the data graphs at once (merged in a store in memory, which it
    reads natively). Each result is told apart by the node shape that owns its constraint, which
    for a shared property shape depends on the focus node's classes: those are read from the store."""
    from pyshacl_turbo import validate as turbo_validate

    data = ox.Store()
    for g in data_graphs:
        data.load(input=view.engine.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(g)),
                  format=ox.RdfFormat.N_TRIPLES)
    _, report_graph, _ = turbo_validate(data, shacl_graph=core, inference="none", advanced=False, allow_warnings=True)
    classes = rdflib.Graph()  # the focus nodes' types, and the class hierarchy above them
    for focus in set(report_graph.objects(None, SH.focusNode)):
        if not isinstance(focus, rdflib.BNode):
            classes += ((focus, RDF.type, from_ox(q.object)) for q in data.quads_for_pattern(
                ox.NamedNode(str(focus)), ox.NamedNode(str(RDF.type)), None, None))
    classes += ((from_ox(q.subject), rdflib.RDFS.subClassOf, from_ox(q.object)) for q in data.quads_for_pattern(
        None, ox.NamedNode(str(rdflib.RDFS.subClassOf)), None, None))
    return results_from(report_graph, shapes, classes), report_graph.serialize(format="nt", encoding="utf-8")


def _validate_whole(view: StoreView, data_graphs: list[str], shapes: rdflib.Graph,
                    core: rdflib.Graph) -> tuple[list, bytes]:
    data = to_rdflib_graph(q.triple for g in data_graphs for q in view.iter_quads(None, None, None, ox.NamedNode(g)))
    _, report_graph, _ = shacl_validate(data, shacl_graph=core, inference="none", advanced=False,
                                        allow_warnings=True, meta_shacl=False, inplace=True)
    return results_from(report_graph, shapes, data), report_graph.serialize(format="nt", encoding="utf-8")


# --- worker processes ----------------------------------------------------------------------------

_process_worker: _Worker | None = None


def _init_process(store_path: str, data_graphs: list[str], reference_graphs: list[str], shapes_nt: bytes) -> None:
    global _process_worker
    shapes = rdflib.Graph().parse(data=shapes_nt.decode("utf-8"), format="nt")
    _process_worker = _prepare(StoreView.open_read_only(Path(store_path)), data_graphs, reference_graphs, shapes)


def _run_in_process(unit: dict[str, list[str]]) -> tuple[list, bytes]:
    return validate_unit(_process_worker, unit)


def _merge_reports(parts: list[bytes], conforms: bool) -> rdflib.Graph:
    """One sh:ValidationReport holding every unit's results."""
    merged = rdflib.Graph()
    merged.bind("sh", SH)
    report = rdflib.BNode()
    merged.add((report, RDF.type, SH.ValidationReport))
    merged.add((report, SH.conforms, rdflib.Literal(conforms)))
    for part in parts:
        graph = rdflib.Graph().parse(data=part.decode("utf-8"), format="nt")
        own = graph.value(None, RDF.type, SH.ValidationReport)
        for s, p, o in graph:
            if s == own:
                if p == SH.result:
                    merged.add((report, p, o))
            else:
                merged.add((s, p, o))
    return merged


def _triples(view: StoreView, graphs: list[str]) -> int:
    counted = view.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", default_graphs=graphs)
    return int(next(iter(counted))["n"].value)


def validate_store(view: StoreView, shapes: rdflib.Graph, *, data_graphs: list[str], reference_graphs: list[str],
                   store_path: Path | None = None, workers: int | None = None, unit_size: int = UNIT_SIZE,
                   engine: str = "turbo", log: Callable[[str], None] = lambda _m: None) -> Report:
    """Validate everything in the store against the shapes, unit by unit.

    `data_graphs` are the named graphs to validate (not the shapes' own graph);
    `reference_graphs` (the ontology and concept schemes) are in every unit's data graph whole.
    With `store_path` and more than one unit, units run in `workers` processes (default: one
    per CPU) that open the store read-only; the caller must not write to it meanwhile.
    `engine`: "turbo" validates a project past one unit in one go with pyshacl-turbo (up to
    WHOLE_MAX_TRIPLES), "units" always with pyshacl in units.
    """
    started = time.perf_counter()
    core = core_shapes(shapes)
    units = plan_units(focus_nodes_by_shape(view, core, data_graphs), unit_size)
    workers = workers or os.cpu_count() or 1
    outcomes: list[tuple[list, bytes]]
    units_text = f"in {len(units)} unit(s)"
    if len(units) <= 1:  # small enough for one go: pyshacl over all the data, as the reference does
        outcomes = [_validate_whole(view, data_graphs, shapes, core)]
    elif engine == "turbo" and _triples(view, data_graphs) <= WHOLE_MAX_TRIPLES:
        outcomes = [_validate_turbo(view, data_graphs, shapes, core)]
        units_text = "in one go (pyshacl-turbo)"
    elif store_path is None or workers <= 1:
        worker = _prepare(view, data_graphs, reference_graphs, shapes)
        outcomes = [validate_unit(worker, unit) for unit in units]
    else:
        context = multiprocessing.get_context("spawn")  # the parent holds an open RocksDB: never fork
        shapes_nt = shapes.serialize(format="nt", encoding="utf-8")
        with ProcessPoolExecutor(max_workers=min(workers, len(units)), mp_context=context,
                                 initializer=_init_process, initargs=(str(store_path), data_graphs, reference_graphs, shapes_nt)) as pool:
            outcomes = list(pool.map(_run_in_process, units))
    results = [r for unit_results, _ in outcomes for r in unit_results]
    by_sparql = sparql_results(lambda sparql: view.query(sparql, default_graphs=data_graphs), shapes)
    results += by_sparql
    results.sort(key=lambda r: (r.focus, r.path or "", r.component, r.value or ""))
    conforms = not any(r.severity == "Violation" for r in results)
    graph = _merge_reports([part for _, part in outcomes], conforms)
    add_results_to_report_graph(graph, by_sparql)
    focus_count = sum(len({n for nodes in u.values() for n in nodes}) for u in units)
    log(f"validated {focus_count} focus nodes against the shapes {units_text} "
        f"({time.perf_counter() - started:.1f} s)")
    return Report(conforms=conforms, results=results, graph=graph)


# --- one change ---------------------------------------------------------------------------------

def touched_nodes(view: StoreView, changed: set, inverse: list, depth: int = CONTEXT_DEPTH + 1) -> set:
    """The nodes whose validation may read a changed triple: the subjects of the changed triples
    (`changed`: those subjects), the nodes that reach them within `depth` steps (blank nodes
    passed through without counting: a unit's context follows them to their end), and what the
    changed subjects point at along an inverse path. Read in the store as it is after the change."""
    inverse_set = set(inverse)
    found, frontier = set(changed), set(changed)
    for subject in changed:
        for quad in view.iter_quads(subject, None, None, None):
            if quad.predicate in inverse_set and not isinstance(quad.object, ox.Literal):
                found.add(quad.object)
    for _ in range(depth):
        following, pending = set(), list(frontier)
        while pending:
            for quad in view.iter_quads(None, None, pending.pop(), None):
                if quad.subject not in found:
                    found.add(quad.subject)
                    if isinstance(quad.subject, ox.BlankNode):
                        pending.append(quad.subject)  # passed through within the same step
                    else:
                        following.add(quad.subject)
        frontier = following
    return found


def _targeted(view: StoreView, core: rdflib.Graph, nodes: set, data_graphs: set) -> dict[str, list[str]]:
    """Each node shape (N3) → those of `nodes` it targets, by the target rules target_pattern
    writes as SPARQL (read here term by term: a blank node cannot be named in a query)."""
    subclass = ox.NamedNode(str(rdflib.RDFS.subClassOf))
    rdf_type = ox.NamedNode(str(RDF.type))

    def in_data(quads) -> bool:
        return any(q.graph_name in data_graphs for q in quads)

    def instance_of(node, cls: ox.NamedNode) -> bool:
        classes = {q.object for q in view.iter_quads(node, rdf_type, None, None) if q.graph_name in data_graphs}
        seen, pending = set(), list(classes)
        while pending:
            current = pending.pop()
            if current == cls:
                return True
            if current not in seen:
                seen.add(current)
                pending.extend(q.object for q in view.iter_quads(current, subclass, None, None) if q.graph_name in data_graphs)
        return False

    found = {}
    for shape in sorted(set(s for p in TARGETS for s in core.subjects(p, None)), key=str):
        hits = set()
        for node in nodes:
            if (any(instance_of(node, ox.NamedNode(str(c))) for c in core.objects(shape, SH.targetClass))
                    or any(str(from_ox(node)) == str(n) for n in core.objects(shape, SH.targetNode))
                    or any(in_data(view.iter_quads(node, ox.NamedNode(str(p)), None, None))
                           for p in core.objects(shape, SH.targetSubjectsOf))
                    or any(in_data(view.iter_quads(None, ox.NamedNode(str(p)), node, None))
                           for p in core.objects(shape, SH.targetObjectsOf))):
                hits.add(_n3(node))
        if hits:
            found[shape.n3()] = sorted(hits)
    return found


def validate_change(view: StoreView, shapes: rdflib.Graph, *, data_graphs: list[str], reference_graphs: list[str],
                    changed_subjects: set) -> Report:
    """Validate what a change to some data graphs can have broken, in a store that conformed
    before it: the focus nodes whose checks read a triple the change added or removed
    (touched_nodes), as one unit of the kind validate_store cuts, and the SHACL-SPARQL
    constraints for those nodes. `changed_subjects`: the subjects of the changed graphs, before
    and after. On a project that conformed, this finds exactly what validating it all finds."""
    core = core_shapes(shapes)
    worker = _prepare(view, data_graphs, reference_graphs, shapes)
    unit = _targeted(view, core, touched_nodes(view, changed_subjects, worker.inverse), worker.data_graphs)
    if not unit:
        return Report(conforms=True, results=[], graph=_merge_reports([], True))
    triples = unit_triples(worker, unit)
    results, report_nt = validate_unit(worker, unit, triples)
    # The SHACL-SPARQL constraints over the unit's data graph, kept for its focus nodes: asked of
    # the whole store for a few nodes, the engine still walked every target (1-30 s at 1 M).
    # The context holds what they read (two steps from the node, as the core checks).
    context = ox.Store()
    context.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    focus = {compact(from_ox(_parse_term(node))) for nodes in unit.values() for node in nodes}
    by_sparql = [r for r in sparql_results(lambda sparql: context.query(sparql, prefixes=PREFIXES), shapes)
                 if r.focus in focus]
    results = sorted(results + by_sparql, key=lambda r: (r.focus, r.path or "", r.component, r.value or ""))
    conforms = not any(r.severity == "Violation" for r in results)
    graph = _merge_reports([report_nt], conforms)
    add_results_to_report_graph(graph, by_sparql)
    return Report(conforms=conforms, results=results, graph=graph)
