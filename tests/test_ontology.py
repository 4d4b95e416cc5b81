"""The ontology and concept schemes: documented in ja and en, and complete enough to answer the questions asked."""

from __future__ import annotations

import pytest
import rdflib
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from kouiki_kg.namespaces import CONCEPT, KK, ONTOLOGY
from kouiki_kg.validation import load_files

from .conftest import ROOT


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    graph, _ = load_files([ROOT / "ontology" / "kouiki.ttl"])
    return graph


@pytest.fixture(scope="module")
def schemes() -> rdflib.Graph:
    graph, _ = load_files(sorted((ROOT / "ontology" / "schemes").glob("*.ttl")))
    return graph


def langs(graph, subject, predicate) -> set[str]:
    return {o.language for o in graph.objects(subject, predicate) if isinstance(o, rdflib.Literal)}


def test_header_has_version_licence_creator_dates(ontology):
    o = rdflib.URIRef(ONTOLOGY)
    assert (o, RDF.type, OWL.Ontology) in ontology
    for p in (OWL.versionIRI, OWL.versionInfo, DCTERMS.license, DCTERMS.creator, DCTERMS.created, DCTERMS.modified):
        assert ontology.value(o, p) is not None, p
    assert {"ja", "en"} <= langs(ontology, o, DCTERMS.title)


def test_every_term_is_labelled_and_commented_in_ja_and_en(ontology):
    terms = [s for t in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.NamedIndividual)
             for s in ontology.subjects(RDF.type, t)]
    assert len(terms) > 60
    for term in terms:
        assert str(term).startswith(KK), term
        assert langs(ontology, term, RDFS.label) == {"ja", "en"}, term
        assert langs(ontology, term, RDFS.comment) == {"ja", "en"}, term


def test_properties_have_domain_or_range_from_known_classes(ontology):
    for prop in ontology.subjects(RDF.type, OWL.ObjectProperty):
        assert ontology.value(prop, RDFS.range) is not None, prop


def test_reuses_standard_vocabularies(ontology):
    parents = {str(o) for o in ontology.objects(None, RDFS.subClassOf)} | {
        str(o) for o in ontology.objects(None, RDFS.subPropertyOf)}
    for ns in ("http://www.w3.org/ns/prov#", "http://www.w3.org/ns/org#", "http://xmlns.com/foaf/0.1/",
               "http://purl.org/dc/terms/", "https://schema.org/"):
        assert any(p.startswith(ns) for p in parents), ns


def test_alignments_to_imi_and_cpov_live_apart(ontology):
    aligned, _ = load_files([ROOT / "ontology" / "alignments.ttl"])
    objects = {str(o) for _, p, o in aligned if p in (SKOS.closeMatch, RDFS.subClassOf)}
    assert "http://imi.go.jp/ns/core/rdf#活動型" in objects
    assert "http://imi.go.jp/ns/core/rdf#関与型" in objects
    assert any(o.startswith("http://data.europa.eu/m8g/") for o in objects)
    assert not any(str(o).startswith("http://imi.go.jp/") for o in ontology.objects())


def test_every_concept_has_ja_en_labels_and_definitions(schemes):
    concepts = list(schemes.subjects(RDF.type, SKOS.Concept))
    assert len(concepts) > 60
    for c in concepts:
        assert langs(schemes, c, SKOS.prefLabel) == {"ja", "en"}, c
        assert langs(schemes, c, SKOS.definition) == {"ja", "en"}, c
        assert schemes.value(c, SKOS.inScheme) is not None, c
        broader = schemes.value(c, SKOS.broader)
        if broader is not None:  # broader/narrower stated both ways
            assert (broader, SKOS.narrower, c) in schemes, c
        else:
            assert schemes.value(c, SKOS.topConceptOf) is not None, c


def label_of(schemes, concept: str, lang="ja") -> str:
    return str(next(l for l in schemes.objects(rdflib.URIRef(concept), SKOS.prefLabel) if l.language == lang))


@pytest.mark.parametrize("slug,ja", [
    ("lead", "実施主体"), ("partner", "連携主体"), ("secretariat", "事務局"),
    ("lecturer", "講師"), ("external-expert", "外部有識者"), ("member", "構成団体"),
])
def test_required_roles(schemes, slug, ja):
    assert label_of(schemes, f"{CONCEPT}role/{slug}") == ja
    assert (rdflib.URIRef(f"{CONCEPT}role/{slug}"), RDF.type, rdflib.URIRef("http://www.w3.org/ns/prov#Role")) in schemes


@pytest.mark.parametrize("slug,broader", [
    ("public-transport", "transport"), ("elderly-participation", "welfare-health"),
    ("facility-joint-use", "public-facilities"), ("specialist-staff", "human-resources"),
    ("vacant-houses", "living-environment"), ("forests", "living-environment"),
    ("septic-tanks", "living-environment"), ("rpa-ai-ocr", "administrative-dx"),
    ("ai-transcription", "administrative-dx"), ("joint-procurement", "administration-digital"),
    ("future-forecasting", "regional-foresight"), ("staff-development", "human-resources"),
    ("tourism", "economy-tourism"), ("disaster-response", "disaster-risk"),
])
def test_themes_are_fine_enough_with_broader_groupings(schemes, slug, broader):
    concept = rdflib.URIRef(f"{CONCEPT}theme/{slug}")
    assert schemes.value(concept, SKOS.broader) == rdflib.URIRef(f"{CONCEPT}theme/{broader}")


def test_three_programme_categories_are_the_report_headings(schemes):
    from .conftest import SEEDS
    seed = (SEEDS / "000_05f34e0fc86adcb0.txt").read_text(encoding="utf-8")
    cats = list(schemes.subjects(SKOS.inScheme, rdflib.URIRef(CONCEPT + "category")))
    assert len(cats) == 3
    for c in cats:
        assert label_of(schemes, str(c)) in seed


# --- consistency with the vocabularies we reuse (PROV-O, ORG) ----------------------------------

W3C = ROOT.parent / "shared" / "data" / "w3c"
OWLRL_ERROR = rdflib.URIRef("http://www.daml.org/2002/03/agents/agent-ont#error")


def owl_rl_errors(files) -> list[str]:
    """The inconsistencies an OWL 2 RL closure (owlrl) finds in these files taken together."""
    import owlrl

    graph = rdflib.Graph()
    for path in files:
        graph.parse(path, format="turtle")
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    return sorted(str(message) for message in graph.objects(None, OWLRL_ERROR))


def reasoned_files() -> list:
    """Ontology, schemes, every case, the actors and sources (not the 1,963 authority bodies:
    they use nothing PROV-O or ORG constrain beyond what the cases' bodies use), PROV-O, ORG."""
    data = ROOT / "data" / "ttl"
    return [ROOT / "ontology" / "kouiki.ttl", *sorted((ROOT / "ontology" / "schemes").glob("*.ttl")),
            *sorted((data / "cases").glob("*.ttl")), *sorted((data / "actors").glob("*.ttl")),
            *sorted((data / "sources").glob("*.ttl")), W3C / "prov-o.ttl", W3C / "org.ttl"]


def test_ontology_and_cases_are_consistent_with_prov_o_and_org_under_owl_2_rl():
    assert owl_rl_errors(reasoned_files()) == []


def test_the_owl_2_rl_check_finds_an_activity_used_as_an_entity(tmp_path):
    """The check above can fail: an initiative (prov:Activity) said to be derived from a passage
    (prov:wasDerivedFrom, domain prov:Entity) is the inconsistency the old model had everywhere."""
    wrong = tmp_path / "wrong.ttl"
    wrong.write_text("""@prefix prov: <http://www.w3.org/ns/prov#> .
<https://w3id.org/kouiki/id/initiative/hachinohe-bus-network>
    prov:wasDerivedFrom <https://w3id.org/kouiki/source/000_05f34e0fc86adcb0/L13-L15> .
""", encoding="utf-8")
    errors = owl_rl_errors([*reasoned_files(), wrong])
    assert any("prov#Activity" in e and "prov#Entity" in e and "hachinohe-bus-network" in e for e in errors), errors


def test_datatypes_are_in_the_owl_2_datatype_map(ontology, schemes):
    """OWL 2 DL tools refuse a datatype outside the map (xsd:gYear was one: kk:fiscalYear is an integer now)."""
    from owlrl.XsdDatatypes import OWL_RL_Datatypes

    known = set(OWL_RL_Datatypes) | set(ontology.subjects(RDF.type, RDFS.Datatype))
    for prop in ontology.subjects(RDF.type, OWL.DatatypeProperty):
        assert ontology.value(prop, RDFS.range) in known, prop
    used = {o.datatype for g in (ontology, schemes) for o in g.objects() if isinstance(o, rdflib.Literal) and o.datatype}
    assert used <= known, used - known
    assert rdflib.XSD.gYear not in known


def test_every_declared_property_is_used(ontology, data_graph):
    """A term nobody uses is noise for readers (kk:componentOf was declared and never used)."""
    used = {p for _, p, _ in data_graph}
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for prop in ontology.subjects(RDF.type, kind):
            assert prop in used, prop


def test_every_resource_with_a_page_has_a_label(store):
    """Pages are headed by a label: every IRI we mint that has a page of its own (not a hash IRI,
    which is shown on its document's page) has one; passages and evaluations in ja and en."""
    unlabelled = store.query("""
        SELECT DISTINCT ?s WHERE { ?s ?p ?o
          FILTER (isIRI(?s) && STRSTARTS(STR(?s), "https://w3id.org/kouiki/") && !CONTAINS(STR(?s), "#")
                  && !STRSTARTS(STR(?s), "https://w3id.org/kouiki/graph/"))
          FILTER NOT EXISTS { ?s rdfs:label|skos:prefLabel|dct:title|foaf:name ?label } }""")
    assert [row["s"].value for row in unlabelled] == []
    rows = store.query("""
        SELECT ?s (GROUP_CONCAT(DISTINCT lang(?label); separator=" ") AS ?langs) WHERE {
          { ?s a kk:SourcePassage } UNION { ?s a kk:Evaluation } ?s rdfs:label ?label } GROUP BY ?s""")
    langs_by_node = {row["s"].value: set(row["langs"].value.split()) for row in rows}
    assert len(langs_by_node) == 36 + 7
    assert all(found == {"ja", "en"} for found in langs_by_node.values()), langs_by_node
