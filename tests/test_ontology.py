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
