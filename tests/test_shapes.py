"""The shapes accept the shipped data and reject each negative fixture with the violation it names."""

from __future__ import annotations

import tomllib

import pytest
import rdflib
from rdflib.namespace import RDF, SH

from kouiki_kg.namespaces import LG, PREFIXES
from kouiki_kg.validation import by_language, load_files, results_from, validate_graph

from .conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
VIOLATIONS = tomllib.loads((FIXTURES / "shape-violations.toml").read_text(encoding="utf-8"))["violation"]

# Local governments the base case and the fixtures refer to (the whole authority file would
# only make each validation slower: every fixture validates on its own).
FIXTURE_BODIES = ("010006", "011002", "011011", "020001", "022039", "024414", "200000")

EXTRA_PREFIXES = {
    "ks": "https://w3id.org/kouiki/shapes#",
    "lg": "https://w3id.org/kouiki/id/lg/",
    "actor": "https://w3id.org/kouiki/id/org/",
    "doc": "https://w3id.org/kouiki/id/document/",
    "role": "https://w3id.org/kouiki/concept/role/",
    "theme": "https://w3id.org/kouiki/concept/theme/",
    "cat": "https://w3id.org/kouiki/concept/category/",
    "atype": "https://w3id.org/kouiki/concept/activity-type/",
    "aud": "https://w3id.org/kouiki/concept/audience/",
    "case": "https://w3id.org/kouiki/id/initiative/test-case/",
}
ALL_PREFIXES = {**PREFIXES, **EXTRA_PREFIXES}
PROLOGUE = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in ALL_PREFIXES.items())


def expand(text: str) -> str:
    """Compact form (as the report uses it, or with the fixture prefixes) → full IRI in <>."""
    if text.startswith(("<", "_:", '"')) or ":" not in text:
        return text
    prefix, local = text.split(":", 1)
    return f"<{ALL_PREFIXES[prefix]}{local}>" if prefix in ALL_PREFIXES else text


@pytest.fixture(scope="module")
def reference_graph(files) -> rdflib.Graph:
    """Ontology, schemes, the seed source documents and a handful of local governments."""
    graph, _ = load_files([f for f in files if f.kind == "ontology" or f.relative == "data/ttl/sources/seeds.ttl"])
    authority, _ = load_files([f for f in files if f.relative.startswith("data/ttl/authority/")])
    for code in FIXTURE_BODIES:
        for triple in authority.triples((rdflib.URIRef(LG + code), None, None)):
            graph.add(triple)
    return graph


def fixture_graph(reference_graph: rdflib.Graph, update: str | None = None) -> rdflib.Graph:
    graph = rdflib.Graph()
    for triple in reference_graph:
        graph.add(triple)
    graph.parse(FIXTURES / "base-case.ttl", format="turtle")
    if update:
        graph.update(PROLOGUE + update)
    return graph


def test_shipped_data_conforms(data_graph, shapes_graph):
    report = validate_graph(data_graph, shapes_graph)
    assert report.conforms, report.to_text("en")
    assert report.results == []


def test_base_case_conforms(reference_graph, shapes_graph):
    report = validate_graph(fixture_graph(reference_graph), shapes_graph)
    assert report.conforms, report.to_text("en")


@pytest.mark.parametrize("case", VIOLATIONS, ids=[v["name"] for v in VIOLATIONS])
def test_fixture_fails_with_the_named_violation(case, reference_graph, shapes_graph):
    report = validate_graph(fixture_graph(reference_graph, case["update"]), shapes_graph)
    assert not report.conforms

    def matches(r) -> bool:
        if expand(r.shape) != expand(case["shape"]) or r.component != case["component"]:
            return False
        if case["focus"] == "_:":
            if not r.focus.startswith("_:"):
                return False
        elif expand(r.focus) != expand(case["focus"]):
            return False
        if "path" in case and (r.path or "") != case["path"]:
            return False
        if "value" in case and expand(r.value or "") != expand(case["value"]):
            return False
        if "message_en" in case and case["message_en"] not in r.message("en"):
            return False
        return True

    found = [r for r in report.results if matches(r)]
    assert found, f"expected {case} among:\n{report.to_text('en')}"
    for r in found:  # every constraint speaks both languages
        assert r.messages.get("ja") and r.messages.get("en"), r


def test_every_shape_has_a_negative_fixture(shapes_graph):
    named = {expand(v["shape"]) for v in VIOLATIONS} | {expand(v["via"]) for v in VIOLATIONS if "via" in v}
    node_shapes = {f"<{s}>" for s in shapes_graph.subjects(RDF.type, SH.NodeShape)}
    assert node_shapes - named == set()


def test_every_constraint_has_a_bilingual_message(shapes_graph):
    """Each property shape, SPARQL constraint and node shape with its own constraints has sh:message in ja and en."""
    constraint_params = {SH.pattern, SH["or"], SH.nodeKind}
    needing = set(shapes_graph.objects(None, SH.property)) | set(shapes_graph.objects(None, SH.sparql))
    needing |= {s for s in shapes_graph.subjects(RDF.type, SH.NodeShape)
                if any((s, p, None) in shapes_graph for p in constraint_params)}
    for shape in needing:
        langs = {m.language for m in shapes_graph.objects(shape, SH.message)}
        assert {"ja", "en"} <= langs, f"{shape} lacks a ja/en sh:message"


def test_a_results_messages_come_in_one_order_whatever_the_graphs_order():
    """A report graph gives its sh:resultMessage literals in no set order: the increment's report
    and the full build's (test_increment) listed ja and en in either order. Read back, every
    order of the same literals gives the same messages, ja first."""
    from itertools import permutations

    literals = [rdflib.Literal("英語の文", lang="en"), rdflib.Literal("日本語の文", lang="ja"), rdflib.Literal("plain"),
                rdflib.Literal("deuxième", lang="fr"), rdflib.Literal("日本語の別の文", lang="ja")]
    read = set()
    for order in permutations(literals):
        report = rdflib.Graph()
        node = rdflib.BNode()
        report.add((node, RDF.type, SH.ValidationResult))
        report.add((node, SH.focusNode, rdflib.URIRef(LG + "022039")))
        report.add((node, SH.resultSeverity, SH.Violation))
        report.add((node, SH.sourceConstraintComponent, SH.MinCountConstraintComponent))
        for literal in order:
            report.add((node, SH.resultMessage, literal))
        (result,) = results_from(report, rdflib.Graph())
        read.add(tuple(result.messages.items()))
    assert read == {(("ja", "日本語の別の文"), ("en", "英語の文"), ("", "plain"), ("fr", "deuxième"))}
    assert list(by_language([("en", "b"), ("ja", "a")])) == ["ja", "en"]
