"""The search index made at build time: what each entry says, from small graphs and the seed data."""

import sqlite3

import pyoxigraph as ox

from kouiki_kg import search
from kouiki_kg.store import StoreView, current_build

BASE = "https://w3id.org/kouiki/"


def entries(path) -> dict[str, dict]:
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT iri, kind, label_ja, label_en, text_folded, names FROM entries").fetchall()
    finally:
        connection.close()
    return {r[0]: {"kind": r[1], "label_ja": r[2], "label_en": r[3], "text": r[4],
                   "names": [n for n in r[5].split(search.SEPARATOR) if n]} for r in rows}


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
    assert {k: found["http://example.org/a"][k] for k in ("kind", "label_ja", "label_en")} == {
        "kind": "resource", "label_ja": "優先", "label_en": "Title"}
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
    assert sorted(found["http://example.org/t"]["names"]) == ["000000", "まち", "町"]
    assert found["http://example.org/i"]["kind"] == "initiative"  # the first kind in KINDS wins
    assert sorted(found["http://example.org/i"]["text"].split()) == ["村", "町", "説明"]


def test_the_seed_index(store_dir, store):
    found = entries(current_build(store_dir) / search.INDEX_FILE)
    hachinohe = found[BASE + "id/lg/022039"]
    assert hachinohe["kind"] == "local_government" and hachinohe["label_ja"] == "八戸市"
    assert {"022039", "はちのへし", "八戸市", "hachinohe city", "hachinohe shi", "八戸", "hachinohe", "はちのへ"} \
        == set(hachinohe["names"])
    bus = found[BASE + "id/initiative/hachinohe-bus-network"]
    assert bus["kind"] == "initiative" and "バス" in bus["label_ja"] and bus["label_en"] != bus["label_ja"]
    assert found[BASE + "concept/theme"]["kind"] == "resource"
    assert sum(e["kind"] == "local_government" for e in found.values()) == 1963
    passages = store.query("SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a kk:SourcePassage FILTER (isIRI(?p)) }")
    assert sum(e["kind"] == "passage" for e in found.values()) == int(next(iter(passages))["n"].value)


# What people type, and what they expect first: (query, IRI of the expected first hit).
EXPECTED_FIRST = [
    ("Yokohama", "id/lg/141003"), ("よこはま", "id/lg/141003"), ("横浜", "id/lg/141003"), ("ヨコハマ", "id/lg/141003"),
    ("ﾖｺﾊﾏ", "id/lg/141003"), ("yokohama-shi", "id/lg/141003"), ("YOKOHAMA CITY", "id/lg/141003"),
    ("Sapporo", "id/lg/011002"), ("札幌", "id/lg/011002"), ("さっぽろ", "id/lg/011002"),
    ("Hachinohe", "id/lg/022039"), ("八戸", "id/lg/022039"), ("はちのへし", "id/lg/022039"),
    ("Kanagawa", "id/lg/140007"), ("神奈川県", "id/lg/140007"), ("Tokyo", "id/lg/130001"), ("東京", "id/lg/130001"),
    ("Nagano", "id/lg/200000"), ("Koryo", "id/lg/294268"), ("広陵", "id/lg/294268"), ("Katsuura", "id/lg/122181"),
    ("Kōryō", "id/lg/294268"), ("022039", "id/lg/022039"),
    ("bus", "id/initiative/hachinohe-bus-network"), ("バス", "id/initiative/hachinohe-bus-network"),
    ("ﾊﾞｽ", "id/initiative/hachinohe-bus-network"), ("RPA", "id/initiative/nagano-rpa-ai-joint-procurement"),
    ("septic tank", "id/initiative/saitama-septic-tanks"), ("浄化槽", "id/initiative/saitama-septic-tanks"),
    ("シニア", "id/initiative/sapporo-senior-survey"), ("senior", "id/initiative/sapporo-senior-survey"),
    ("transport", "concept/theme/transport"), ("交通", "concept/theme/transport"),
]


def test_thirty_realistic_queries_find_what_people_expect_first(store_dir):
    index = current_build(store_dir) / search.INDEX_FILE
    wrong = {q: (search.search(index, q).hits or [None])[0] for q, _ in EXPECTED_FIRST}
    wrong = {q: hit and hit.iri for q, hit in wrong.items() if not hit or hit.iri != BASE + dict(EXPECTED_FIRST)[q]}
    assert len(EXPECTED_FIRST) >= 30 and wrong == {}


def test_a_hit_says_where_it_is_and_what_it_belongs_to(store_dir):
    index = current_build(store_dir) / search.INDEX_FILE
    yokohama = search.search(index, "横浜").hits
    assert yokohama[1].iri == BASE + "id/lg/024066" and yokohama[1].prefecture_ja == "青森県"  # 横浜町, Aomori
    activity = next(h for h in search.search(index, "バス").hits if h.kind == "activity")
    assert activity.initiative == BASE + "id/initiative/hachinohe-bus-network" and activity.initiative_en
    passage = next(h for h in search.search(index, "デマンドバス").hits if h.kind == "passage")
    assert "<mark>デマンドバス</mark>" in passage.snippet and len(passage.snippet.striptags()) < 160


def test_results_are_paged_and_counted(store_dir):
    index = current_build(store_dir) / search.INDEX_FILE
    first, second = search.search(index, "市", 1), search.search(index, "市", 2)
    assert first.total > 2 * search.PER_PAGE and first.pages == -(-first.total // search.PER_PAGE)
    assert len(first.hits) == search.PER_PAGE and not {h.iri for h in first.hits} & {h.iri for h in second.hits}
    assert search.search(index, "市", 10_000).page == first.pages  # past the end: the last page


def test_nothing_found_suggests_close_names(store_dir):
    index = current_build(store_dir) / search.INDEX_FILE
    found = search.search(index, "Yokohma")
    assert found.total == 0 and ("横浜市", "Yokohama City") in found.suggestions


def test_folding():
    assert {search.fold(t) for t in ("ヨコハマ", "ﾖｺﾊﾏ", "よこはま")} == {"よこはま"}
    assert search.fold("Kōryō-chō") == "koryo cho" and search.fold("ＢＵＳ") == "bus"
