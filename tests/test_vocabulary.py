"""No term is used in the data that the ontology or a reused standard vocabulary does not define."""

from __future__ import annotations

import rdflib
import rdflib.namespace as rns
from rdflib.namespace import DCTERMS, PROV, RDF

from kouiki_kg.namespaces import KK
from kouiki_kg.validation import load_files

from .conftest import ROOT



def standard_terms() -> dict[str, set[str]]:
    """Namespace → its terms, from rdflib's DefinedNamespace lists."""
    terms = {}
    for vocab in (rns.RDF, rns.RDFS, rns.OWL, rns.XSD, rns.DCTERMS, rns.SKOS, rns.PROV, rns.ORG, rns.FOAF,
                  rns.SDO, rns.VANN, rns.SH, rns.WGS):
        terms[str(vocab)] = {str(t)[len(str(vocab)):] for t in dir(vocab) if isinstance(t, rdflib.URIRef)}
    # rdflib names SHACL terms that are Python keywords with a trailing underscore.
    terms[str(rns.SH)] |= {"class", "or", "and", "not", "in", "xone"}
    # rdflib lists W3C Basic Geo under https://, but the namespace is http://.
    terms["http://www.w3.org/2003/01/geo/wgs84_pos#"] = terms.pop("https://www.w3.org/2003/01/geo/wgs84_pos#")
    return terms


STANDARD = standard_terms()


def defined_kk_terms() -> set[str]:
    ontology, _ = load_files([ROOT / "ontology" / "kouiki.ttl"])
    return {str(s) for s in ontology.subjects(RDF.type, None) if str(s).startswith(KK)}


def vocabulary_terms(graph: rdflib.Graph) -> set[str]:
    """Predicates, classes, and kk: terms used anywhere."""
    used = set()
    for s, p, o in graph:
        used.add(str(p))
        if p == RDF.type:
            used.add(str(o))
        for t in (s, o):
            if isinstance(t, rdflib.URIRef) and str(t).startswith(KK):
                used.add(str(t))
    return used


def is_defined(term: str, kk_terms: set[str]) -> bool:
    if term.startswith(KK):
        return term in kk_terms
    for ns, names in STANDARD.items():
        if term.startswith(ns):
            return term[len(ns):] in names
    return False


def test_data_and_schemes_use_only_defined_terms():
    files = [*sorted((ROOT / "data" / "ttl").rglob("*.ttl")), *sorted((ROOT / "ontology" / "schemes").glob("*.ttl"))]
    graph, _ = load_files(files)
    kk_terms = defined_kk_terms()
    undefined = sorted(t for t in vocabulary_terms(graph) if not is_defined(t, kk_terms))
    assert undefined == []


def test_ontology_and_shapes_use_only_defined_terms():
    ontology, _ = load_files([ROOT / "ontology" / "kouiki.ttl", *sorted((ROOT / "shapes").glob("*.ttl"))])
    kk_terms = defined_kk_terms()
    undefined = sorted(t for t in vocabulary_terms(ontology) if not is_defined(t, kk_terms))
    assert undefined == []


def test_the_check_itself_rejects_a_made_up_term():
    kk_terms = defined_kk_terms()
    assert not is_defined(KK + "madeUpProperty", kk_terms)
    assert not is_defined(str(DCTERMS) + "madeUp", kk_terms)
    assert not is_defined("http://example.org/p", kk_terms)
    assert is_defined(str(PROV.qualifiedAssociation), kk_terms)
