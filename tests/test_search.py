"""The search index made at build time: what each entry says, from small graphs and the seed data."""

import sqlite3

import pyoxigraph as ox

from kouiki_kg import search
from kouiki_kg.store import StoreView, current_build

BASE = "https://w3id.org/kouiki/"


def entries(path) -> dict[str, dict]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT iri, kind, label_ja, label_en, text FROM entries").fetchall()
    finally:
        connection.close()
    return {r[0]: {"kind": r[1], "label_ja": r[2], "label_en": r[3], "text": r[4]} for r in rows}


def index_of(turtle: str, tmp_path) -> dict[str, dict]:
    store = ox.Store()
    store.load(turtle.encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("urn:g"))
    search.build_index(StoreView(store).query, tmp_path / "index.sqlite")
    return entries(tmp_path / "index.sqlite")


PREFIXES = """
@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dct: <http://purl.org/dc/terms/> . @prefix prov: <http://www.w3.org/ns/prov#> .
@prefix kk: <https://w3id.org/kouiki/ontology#> . @prefix ex: <http://example.org/> .
"""


def test_labels_are_chosen_by_preference_and_language(tmp_path):
    found = index_of(PREFIXES + """
        ex:a rdfs:label "ラベル"@ja , "label"@en ; skos:prefLabel "優先"@ja ; dct:title "Title"@en .
        ex:b rdfs:label "日本語だけ"@ja .
        ex:c prov:value "出典の一節"@ja .
        ex:d dct:title "無言語" .
        _:blank rdfs:label "空白ノード"@ja .
    """, tmp_path)
    assert found["http://example.org/a"] | {"text": ""} == {"kind": "resource", "label_ja": "優先", "label_en": "Title",
                                                            "text": ""}
    assert (found["http://example.org/b"]["label_ja"], found["http://example.org/b"]["label_en"]) == ("日本語だけ", "日本語だけ")
    assert found["http://example.org/c"]["label_ja"] == "出典の一節" and found["http://example.org/c"]["text"] == "出典の一節"
    assert found["http://example.org/d"]["label_en"] == "無言語"
    assert len(found) == 4  # blank nodes have no page to find


def test_kinds_follow_the_class_hierarchy_and_texts_are_gathered(tmp_path):
    found = index_of(PREFIXES + """
        ex:Town rdfs:subClassOf ex:Municipality . ex:Municipality rdfs:subClassOf kk:LocalGovernment .
        ex:t a ex:Town ; skos:prefLabel "町"@ja ; kk:nameKana "まち"@ja-Hira ; kk:localGovernmentCode "000000" .
        ex:i a kk:Initiative , ex:Town ; dct:title "取組"@ja ; dct:description "説明"@ja ;
            prov:wasAssociatedWith ex:t , ex:t2 .
        ex:t2 skos:prefLabel "村"@ja .
    """, tmp_path)
    assert found["http://example.org/t"]["kind"] == "local_government"
    assert sorted(found["http://example.org/t"]["text"].split()) == ["000000", "まち"]
    assert found["http://example.org/i"]["kind"] == "initiative"  # the first kind in KINDS wins
    assert sorted(found["http://example.org/i"]["text"].split()) == ["村", "町", "説明"]


def test_the_seed_index(store_dir, store):
    found = entries(current_build(store_dir) / search.INDEX_FILE)
    hachinohe = found[BASE + "id/lg/022039"]
    assert hachinohe["kind"] == "local_government" and hachinohe["label_ja"] == "八戸市"
    assert sorted(hachinohe["text"].split()) == ["022039", "はちのへし"]
    bus = found[BASE + "id/initiative/hachinohe-bus-network"]
    assert bus["kind"] == "initiative" and "バス" in bus["label_ja"] and bus["label_en"] != bus["label_ja"]
    assert found[BASE + "concept/theme"]["kind"] == "resource"
    assert sum(e["kind"] == "local_government" for e in found.values()) == 1963
    passages = store.query("SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a kk:SourcePassage FILTER (isIRI(?p)) }")
    assert sum(e["kind"] == "passage" for e in found.values()) == int(next(iter(passages))["n"].value)
