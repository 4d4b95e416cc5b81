"""Every fact in data/ is traceable to a passage of the seeds, and nothing is invented.

The passages are checked against the seed files themselves (../shared/seeds), line by line;
names, counts and dates in the data are then checked against the passages they cite.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pytest

from kouiki_kg.namespaces import PREFIXES

from .conftest import SEEDS

I = "https://w3id.org/kouiki/id/initiative/"


def squash(text: str) -> str:
    """Compare texts without layout: drop white space, fold full-width digits (NFKC)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def select(store, query: str) -> list[dict]:
    rows = store.query(query)
    return [{v.value: (row[v].value if row[v] is not None else None) for v in rows.variables} for row in rows]


@pytest.fixture(scope="module")
def seed_lines() -> dict[str, list[str]]:
    return {p.name: p.read_text(encoding="utf-8").split("\n") for p in SEEDS.glob("*.txt")}


@pytest.fixture(scope="module")
def passages(store) -> dict[str, dict]:
    rows = select(store, """
        SELECT ?p ?text ?start ?end ?file WHERE {
          ?p a kk:SourcePassage ; prov:value ?text ; kk:startLine ?start ; kk:endLine ?end ;
             dct:isPartOf/kk:fileName ?file }""")
    return {r["p"]: r for r in rows}


def passages_of(store, resource: str) -> list[str]:
    """Passage texts cited by a resource."""
    return [r["text"] for r in select(store, f"""
        SELECT DISTINCT ?text WHERE {{ <{resource}> kk:sourcePassage/prov:value ?text }}""")]


def test_both_seeds_are_described_with_their_digest(store):
    rows = select(store, "SELECT ?file ?sha WHERE { ?d a kk:SourceDocument ; kk:fileName ?file ; kk:sha256 ?sha }")
    assert {r["file"] for r in rows} == {p.name for p in SEEDS.glob("*.txt")}
    for r in rows:
        assert hashlib.sha256((SEEDS / r["file"]).read_bytes()).hexdigest() == r["sha"]


def test_every_passage_is_verbatim_at_its_lines(passages, seed_lines):
    assert len(passages) >= 30
    for iri, p in passages.items():
        lines = seed_lines[p["file"]][int(p["start"]) - 1:int(p["end"])]
        assert lines[0].strip() and lines[-1].strip(), f"{iri}: passage should start and end on text"
        assert squash(p["text"]) == squash("".join(lines)), iri


def test_passage_iris_name_their_lines(passages):
    for iri, p in passages.items():
        assert iri.endswith(f"/L{p['start']}-L{p['end']}"), iri


def test_every_fact_bearing_resource_cites_a_passage(store):
    """Everything in the case files (bar source passages and associations) cites where it comes from."""
    rows = select(store, """
        SELECT DISTINCT ?s WHERE {
          GRAPH ?g { ?s ?p ?o } FILTER (STRSTARTS(STR(?g), "https://w3id.org/kouiki/graph/cases/"))
          FILTER (isIRI(?s))
          FILTER NOT EXISTS { ?s a kk:SourcePassage }
          FILTER NOT EXISTS { ?s kk:sourcePassage ?any }
        }""")
    assert rows == []


def test_seven_cases_of_seed_000_and_one_of_seed_003(store):
    rows = select(store, "SELECT ?i ?file WHERE { ?i a kk:Initiative ; dct:source/kk:fileName ?file }")
    by_file: dict[str, set] = {}
    for r in rows:
        by_file.setdefault(r["file"], set()).add(r["i"])
    assert len(by_file["000_05f34e0fc86adcb0.txt"]) == 7
    assert by_file["003_0fbe08a3f1deeb3d.txt"] == {I + "yokohama-8cities-fy2019"}


def test_titles_and_lead_bodies_match_the_title_lines(store):
    """「表題（団体名）」: the title is ours verbatim and the named body is the lead."""
    rows = select(store, """
        SELECT ?i ?title ?leadName ?text WHERE {
          ?i a kk:Initiative ; dct:title ?title ; kk:sourcePassage ?p ;
             prov:qualifiedAssociation [ prov:hadRole <https://w3id.org/kouiki/concept/role/lead> ; prov:agent ?lead ] .
          ?lead skos:prefLabel ?leadName .
          ?p prov:value ?text .
          FILTER (lang(?title) = "ja" && lang(?leadName) = "ja" && STRENDS(?text, "）"))
        }""")
    assert len(rows) == 7
    for r in rows:
        assert r["text"] == f"{r['title']}（{r['leadName']}）", r


def test_untitled_sheet_says_its_title_is_composed(store):
    rows = select(store, """
        SELECT ?i WHERE { ?i a kk:Initiative
          FILTER NOT EXISTS { ?i kk:sourcePassage/prov:value ?t . ?i dct:title ?title . FILTER (STRSTARTS(?t, ?title)) }
          FILTER NOT EXISTS { ?i skos:editorialNote ?note } }""")
    assert rows == []


def test_descriptions_and_evaluations_quote_their_passages(store):
    rows = select(store, """
        SELECT ?s ?d WHERE { ?s a ?c ; dct:description ?d . VALUES ?c { kk:Initiative kk:Evaluation }
          FILTER (lang(?d) = "ja") }""")
    assert len(rows) == 15
    for r in rows:
        assert any(squash(r["d"]) in squash(t) for t in passages_of(store, r["s"])), r["s"]


def test_every_local_government_in_a_case_is_named_in_its_passages(store):
    """No body is linked unless a passage cited for that very fact names it."""
    rows = select(store, """
        SELECT DISTINCT ?s ?body ?name WHERE {
          GRAPH ?g { ?x ?p ?body } FILTER (STRSTARTS(STR(?g), "https://w3id.org/kouiki/graph/cases/"))
          OPTIONAL { ?owner prov:qualifiedAssociation ?x }  # an association speaks for its activity
          BIND (COALESCE(?owner, ?x) AS ?s)
          FILTER (STRSTARTS(STR(?body), "https://w3id.org/kouiki/id/lg/"))
          ?body skos:prefLabel ?name . FILTER (lang(?name) = "ja") }""")
    assert len(rows) > 20
    for r in rows:
        texts = passages_of(store, r["s"])
        assert any(r["name"] in t for t in texts), f"{r['name']} ({r['body']}) is not named in the passages of {r['s']}"


def test_named_members_are_named_in_the_grouping_passages(store):
    rows = select(store, """
        SELECT ?g ?name WHERE { ?g foaf:member ?m . ?m skos:prefLabel ?name FILTER (lang(?name) = "ja") }""")
    assert {r["g"] for r in rows} == {"https://w3id.org/kouiki/id/org/eight-cities"}
    for r in rows:
        assert any(r["name"] in t for t in passages_of(store, r["g"])), r


def test_member_counts_are_the_sources_counts(store):
    rows = select(store, """
        SELECT ?g ?n ?c ?t ?v WHERE { ?g a kk:BodyGrouping ; kk:memberCount ?n .
          OPTIONAL { ?g kk:cityCount ?c } OPTIONAL { ?g kk:townCount ?t } OPTIONAL { ?g kk:villageCount ?v } }""")
    assert len(rows) == 4
    for r in rows:
        wording = "".join(f"{r[k]}{unit}" for k, unit in (("c", "市"), ("t", "町"), ("v", "村")) if r[k])
        assert any(wording in squash(t) for t in passages_of(store, r["g"])), (r, wording)


def test_groupings_without_named_members_name_none(store):
    """Sapporo's area, Hachinohe's 1市6町1村, 新川広域圏, 広陵町's 3市4町, 長野県's 市町村等: no guessed members."""
    rows = select(store, "SELECT ?g WHERE { ?g a kk:BodyGrouping FILTER NOT EXISTS { ?g foaf:member ?m } }")
    assert len(rows) == 5


def to_wareki(year: int) -> str:
    return f"平成{year - 1988}年" if 1989 <= year <= 2019 else f"{year}年"


def test_dates_are_written_in_the_passages(store):
    rows = select(store, """
        SELECT ?s ?date WHERE { { ?s dct:date ?date } UNION { ?s dct:created ?date } UNION { ?s kk:fiscalYear ?date }
          FILTER (STRSTARTS(STR(?s), "https://w3id.org/kouiki/id/")) }""")
    assert len(rows) == 5  # three meetings, the 2019-03 plan, the FY2019 sheet
    for r in rows:
        texts = [squash(t) for t in passages_of(store, r["s"])]
        parts = r["date"].split("-")
        year = int(parts[0])
        if len(parts) == 1:  # a fiscal year
            spellings = {f"{year}年度"}
        else:
            month = int(parts[1])
            spellings = {f"{year}年{month}月", f"{to_wareki(year)}{month}月"}
        assert any(s in t for s in spellings for t in texts), (r, spellings)


def test_meeting_not_held_in_fy2019(store):
    rows = select(store, "SELECT ?body ?fy WHERE { ?body kk:notHeldInFiscalYear ?fy }")
    assert rows == [{"body": "https://w3id.org/kouiki/id/org/eight-cities-mayors-meeting", "fy": "2019"}]


def test_survey_items_and_directions_are_verbatim(store, seed_lines):
    sheet = squash("\n".join(seed_lines["003_0fbe08a3f1deeb3d.txt"]))
    rows = select(store, """
        SELECT ?text WHERE { { ?s kk:surveyItem ?text } UNION { ?s kk:topic ?text }
          UNION { ?s a kk:PolicyDirection ; rdfs:label ?text } UNION { ?s a kk:PolicyDirectionItem ; rdfs:label ?text }
          UNION { ?s kk:targetAudience ?text } FILTER (lang(?text) = "ja") }""")
    seed_000 = squash("\n".join(seed_lines["000_05f34e0fc86adcb0.txt"]))
    assert len(rows) >= 30
    for r in rows:
        assert squash(r["text"]) in sheet or squash(r["text"]) in seed_000, r["text"]
