"""Site search: a SQLite index made at build time, so a keystroke never walks the store.

Japanese has no spaces to split words on, so the index is FTS5 with the trigram tokenizer:
any substring of three or more characters is found through the index. Shorter queries (two
kanji, like 札幌) scan the index's own table of labels and texts — small beside the store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable

INDEX_FILE = "search.sqlite"
KINDS = (  # (class, kind), first match wins; the order is also the order of results
    ("https://w3id.org/kouiki/ontology#Initiative", "initiative"),
    ("https://w3id.org/kouiki/ontology#LocalGovernment", "local_government"),
    ("http://www.w3.org/2004/02/skos/core#Concept", "concept"),
    ("http://www.w3.org/ns/org#Organization", "organisation"),
    ("http://xmlns.com/foaf/0.1/Group", "organisation"),
    ("http://www.w3.org/ns/org#OrganizationalUnit", "organisation"),
    ("https://w3id.org/kouiki/ontology#Document", "document"),
    ("https://w3id.org/kouiki/ontology#SourcePassage", "passage"),
)
MAX_QUERY = 100


CHUNK = 1000  # subjects per indexing query: each stays well inside a remote store's time limit


def build_index(query: Callable[[str], object], path: Path) -> int:
    """Index every labelled resource and every source passage; returns the number of entries.

    The subjects are listed first and described a chunk at a time: one GROUP BY over the whole
    store takes 25 s at 1 M triples, longer than a remote store's query limit.
    """
    subjects = [row["s"] for row in query(
        "SELECT DISTINCT ?s WHERE { ?s skos:prefLabel|dct:title|rdfs:label|prov:value ?any FILTER (isIRI(?s)) } ORDER BY ?s")]
    rows = [row for start in range(0, len(subjects), CHUNK) for row in query(f"""
        SELECT ?s (SAMPLE(?ja) AS ?labelJa) (SAMPLE(?en) AS ?labelEn) (SAMPLE(?any) AS ?label)
               (GROUP_CONCAT(DISTINCT ?t; separator=" ") AS ?text) (GROUP_CONCAT(DISTINCT STR(?c); separator=" ") AS ?classes)
        WHERE {{
          VALUES ?s {{ {" ".join(str(s) for s in subjects[start:start + CHUNK])} }}
          ?s (skos:prefLabel|dct:title|rdfs:label|prov:value) ?any .
          OPTIONAL {{ ?s (skos:prefLabel|dct:title|rdfs:label) ?ja FILTER (lang(?ja) = "ja") }}
          OPTIONAL {{ ?s (skos:prefLabel|dct:title|rdfs:label) ?en FILTER (lang(?en) = "en") }}
          OPTIONAL {{ ?s (dct:description|prov:value|kk:nameKana|kk:localGovernmentCode|prov:wasAssociatedWith/skos:prefLabel) ?t }}
          OPTIONAL {{ ?s a/rdfs:subClassOf* ?c }}
        }} GROUP BY ?s""")]
    kinds = dict(KINDS)
    order = {kind: i for i, (_, kind) in enumerate(KINDS)}
    entries = []
    for row in rows:
        classes = (row["classes"].value if row["classes"] is not None else "").split()
        kind = next((kinds[c] for c, _ in KINDS if c in classes), "resource")
        label_ja = row["labelJa"].value if row["labelJa"] is not None else None
        label_en = row["labelEn"].value if row["labelEn"] is not None else None
        fallback = row["label"].value if row["label"] is not None else row["s"].value
        entries.append((row["s"].value, kind, order.get(kind, len(order)), label_ja or fallback, label_en or fallback,
                        row["text"].value if row["text"] is not None else ""))
    connection = sqlite3.connect(path)
    with connection:
        connection.executescript("""
            CREATE TABLE entries (id INTEGER PRIMARY KEY, iri TEXT, kind TEXT, kind_order INTEGER,
                                  label_ja TEXT, label_en TEXT, text TEXT);
            CREATE VIRTUAL TABLE search USING fts5(label_ja, label_en, text, content='entries', content_rowid='id',
                                                   tokenize='trigram');
        """)
        connection.executemany("INSERT INTO entries (iri, kind, kind_order, label_ja, label_en, text) VALUES (?,?,?,?,?,?)",
                               entries)
        connection.execute("INSERT INTO search (search) VALUES ('rebuild')")
    connection.close()
    return len(entries)


def search(path: Path, text: str, limit: int = 50) -> list[dict]:
    """Entries whose labels or texts contain `text` (case-insensitive), best kinds first."""
    text = " ".join(text.split())[:MAX_QUERY]
    if not text:
        return []
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if len(text) >= 3:
            phrase = '"' + text.replace('"', '""') + '"'
            rows = connection.execute("""
                SELECT e.iri, e.kind, e.label_ja, e.label_en, e.text FROM search JOIN entries e ON e.id = search.rowid
                WHERE search MATCH ? ORDER BY e.kind_order, rank LIMIT ?""", (phrase, limit)).fetchall()
        else:
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = connection.execute("""
                SELECT iri, kind, label_ja, label_en, text FROM entries
                WHERE label_ja LIKE ?1 ESCAPE '\\' OR label_en LIKE ?1 ESCAPE '\\' OR text LIKE ?1 ESCAPE '\\'
                ORDER BY kind_order, length(label_ja) LIMIT ?2""", (pattern, limit)).fetchall()
    finally:
        connection.close()
    return [{"iri": r[0], "kind": r[1], "label_ja": r[2], "label_en": r[3], "text": r[4]} for r in rows]
