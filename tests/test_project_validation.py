"""What builds use — pyshacl-turbo over a project at once, or pyshacl in units past its size —
gives exactly the results of whole-graph pyshacl (the reference, and what steward checks use)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib

from kouiki_kg.namespaces import PREFIXES
from kouiki_kg.validation.units import validate_store
from kouiki_kg.store import StoreView
from kouiki_kg.validation import load_files, validate_graph

from .test_shapes import VIOLATIONS, fixture_graph, reference_graph  # noqa: F401 (a fixture)

ONTOLOGY_GRAPH, DATA_GRAPH = "urn:test:ontology", "urn:test:data"


def comparable(results) -> list[tuple]:
    """Results without what differs by run: blank node labels and the file/line pointers."""
    def plain(text):
        return "_:" if text and text.startswith("_:") else text
    return sorted((plain(r.focus), r.path, plain(r.value), r.component, r.shape, r.severity,
                   tuple(sorted(r.messages.items()))) for r in results)


def store_of(graphs: dict[str, rdflib.Graph], path=None) -> ox.Store:
    store = ox.Store(str(path)) if path else ox.Store()
    for name, graph in graphs.items():
        if len(graph):
            store.load(graph.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES,
                       to_graph=ox.NamedNode(name))
    store.flush()
    return store


@pytest.fixture(scope="module")
def ontology(files) -> rdflib.Graph:
    graph, _ = load_files([f for f in files if f.kind == "ontology"])
    return graph


@pytest.mark.parametrize("engine", ["turbo", "units"])
@pytest.mark.parametrize("case", VIOLATIONS, ids=[v["name"] for v in VIOLATIONS])
def test_every_negative_fixture_gives_the_reference_results(case, engine, ontology, reference_graph, shapes_graph):
    # through N-Triples, as builds read files: literals made by rdflib's SPARQL Update are not
    # checked for ill-typed lexical forms, parsed ones are
    nt = fixture_graph(reference_graph, case["update"]).serialize(format="nt")
    whole = rdflib.Graph().parse(data=nt, format="nt")
    expected = validate_graph(whole, shapes_graph)
    schemes, data = rdflib.Graph(), rdflib.Graph()  # the update may change the schemes too
    for triple in whole:
        (schemes if triple in ontology else data).add(triple)
    view = StoreView(store_of({ONTOLOGY_GRAPH: schemes, DATA_GRAPH: data}))
    # units of 40 focus nodes: the fixture's case and bodies land in different units
    logged: list[str] = []
    report = validate_store(view, shapes_graph, data_graphs=[ONTOLOGY_GRAPH, DATA_GRAPH],
                            reference_graphs=[ONTOLOGY_GRAPH], unit_size=40, engine=engine, log=logged.append)
    assert ("pyshacl-turbo" in logged[0]) == (engine == "turbo"), logged  # the way under test was the one taken
    assert not report.conforms
    assert comparable(report.results) == comparable(expected.results)


FAULTS = """
DELETE { GRAPH ?g { ?i dct:title ?t } } WHERE { GRAPH ?g { ?i a kk:Initiative ; dct:title ?t }
    FILTER(CONTAINS(STR(?i), "hachinohe")) } ;
DELETE { GRAPH ?g { ?a prov:hadRole ?r } } WHERE { GRAPH ?g {
    <https://w3id.org/kouiki/id/initiative/uozu-facilities-specialists> prov:qualifiedAssociation ?a . ?a prov:hadRole ?r } } ;
DELETE { GRAPH ?g { ?i kk:hasComponent ?c } } WHERE { GRAPH ?g { ?i kk:hasComponent ?c } FILTER(CONTAINS(STR(?c), "koryo")) } ;
DELETE { GRAPH ?g { lg:022039 kk:prefecture ?p } } INSERT { GRAPH ?g { lg:022039 kk:prefecture lg:022047 } }
WHERE { GRAPH ?g { lg:022039 kk:prefecture ?p } } ;
DELETE { GRAPH ?g { lg:011002 kk:localGovernmentCode ?c } } INSERT { GRAPH ?g { lg:011002 kk:localGovernmentCode "011003" } }
WHERE { GRAPH ?g { lg:011002 kk:localGovernmentCode ?c } }
"""


@pytest.mark.parametrize("engine", ["turbo", "units"])
def test_the_project_with_faults_in_several_files_gives_the_reference_results(engine, files, shapes_graph, tmp_path):
    graphs = {f.graph: load_files([f])[0] for f in files if f.kind != "shapes"}
    store = store_of(graphs, tmp_path / "oxigraph")
    prefixes = {**PREFIXES, "lg": "https://w3id.org/kouiki/id/lg/"}
    store.update("".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items()) + FAULTS)
    store.flush()
    triples = [q.triple for q in store.quads_for_pattern(None, None, None, None)]
    union = rdflib.Graph().parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode(), format="nt")
    expected = validate_graph(union, shapes_graph)
    # the faults hit several kinds of constraint, in the cases and in the authority data
    assert {r.component for r in expected.results} >= {
        "sh:QualifiedMinCountConstraintComponent", "sh:MinCountConstraintComponent", "sh:ClassConstraintComponent",
        "sh:SPARQLConstraintComponent"}, expected.to_text("en")

    logged: list[str] = []
    report = validate_store(StoreView(store), shapes_graph, data_graphs=list(graphs),
                            reference_graphs=[f.graph for f in files if f.kind == "ontology"],
                            store_path=tmp_path / "oxigraph", workers=2, unit_size=400, engine=engine,
                            log=logged.append)
    assert ("pyshacl-turbo" in logged[0]) == (engine == "turbo"), logged
    assert comparable(report.results) == comparable(expected.results)
    # the merged sh:ValidationReport holds every result once
    report_node = report.graph.value(None, rdflib.RDF.type, rdflib.SH.ValidationReport)
    assert len(list(report.graph.objects(report_node, rdflib.SH.result))) == len(expected.results)
    assert report.graph.value(report_node, rdflib.SH.conforms) == rdflib.Literal(False)
