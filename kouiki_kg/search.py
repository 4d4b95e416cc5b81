"""Site search: a SQLite index made at build time, so a keystroke never walks the store.

Japanese has no spaces to split words on, so the index is FTS5 with the trigram tokenizer:
any substring of three or more characters is found through the index. Shorter queries (two
kanji, like 札幌) scan the index's own table of labels and texts — small beside the store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable

from .store import graph_names

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
LABELS = ("http://www.w3.org/2004/02/skos/core#prefLabel", "http://purl.org/dc/terms/title",
          "http://www.w3.org/2000/01/rdf-schema#label")  # in order of preference
# Each chunk's patterns test the predicate of every triple about its subjects (FILTER … IN) rather
# than join the subjects with a list of predicates: five times faster on Oxigraph.
LABELS_OF = f"?s ?p ?l FILTER (?p IN ({', '.join(f'<{p}>' for p in LABELS)}, prov:value))"
TEXTS_OF = ("{ ?s ?p ?t FILTER (?p IN (dct:description, prov:value, kk:nameKana, kk:localGovernmentCode)) } "
            "UNION { ?s prov:wasAssociatedWith/skos:prefLabel ?t }")


def build_index(query: Callable[[str], object], path: Path) -> int:
    """Index every labelled resource and every source passage; returns the number of entries.

    The subjects are listed first (graph by graph) and described a chunk at a time: one GROUP BY
    over the whole store takes 25 s at 1 M triples, longer than a remote store's query limit. Each chunk asks
    for labels, texts and types separately and the class hierarchy is walked here once: one
    query joining them all multiplied every label by every text by every superclass.
    """
    # listed graph by graph: as one DISTINCT … ORDER BY over the store this took 56 s at 5 M triples
    graphs = graph_names(query)
    subjects = sorted({row["s"] for graph in graphs for row in query(
        f"SELECT DISTINCT ?s WHERE {{ GRAPH {graph} {{ ?s skos:prefLabel|dct:title|rdfs:label|prov:value ?any }} FILTER (isIRI(?s)) }}")},
        key=lambda s: s.value)
    broader = _superclasses(query)
    kinds = dict(KINDS)
    order = {kind: i for i, (_, kind) in enumerate(KINDS)}
    entries = []
    for start in range(0, len(subjects), CHUNK):
        chunk = subjects[start:start + CHUNK]
        values = f"VALUES ?s {{ {' '.join(str(s) for s in chunk)} }}"
        labels: dict[str, list] = {}
        for row in query(f"SELECT ?s ?p ?l WHERE {{ {values} {LABELS_OF} }}"):
            labels.setdefault(row["s"].value, []).append((row["p"].value, row["l"]))
        texts: dict[str, dict] = {}  # a dict keeps the first-seen order and drops repeats
        for row in query(f"SELECT ?s ?t WHERE {{ {values} {TEXTS_OF} }}"):
            texts.setdefault(row["s"].value, {})[row["t"].value] = None
        classes: dict[str, set] = {}
        for row in query(f"SELECT ?s ?c WHERE {{ {values} ?s a ?c }}"):
            classes.setdefault(row["s"].value, set()).update(broader.get(row["c"].value, {row["c"].value}))
        for subject in chunk:
            iri = subject.value
            kind = next((kinds[c] for c, _ in KINDS if c in classes.get(iri, ())), "resource")
            found = labels.get(iri, [])
            fallback = _label(found, None) or iri
            entries.append((iri, kind, order.get(kind, len(order)), _label(found, "ja") or fallback,
                            _label(found, "en") or fallback, " ".join(texts.get(iri, {}))))
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


def _superclasses(query: Callable[[str], object]) -> dict[str, set[str]]:
    """Each class (IRI) → itself and every class above it through rdfs:subClassOf."""
    above: dict[str, set[str]] = {}
    for row in query("SELECT ?c ?sup WHERE { ?c rdfs:subClassOf ?sup FILTER (isIRI(?c) && isIRI(?sup)) }"):
        above.setdefault(row["c"].value, set()).add(row["sup"].value)
    closed: dict[str, set[str]] = {}
    for start in above:
        reached, pending = {start}, [start]
        while pending:
            for parent in above.get(pending.pop(), ()):
                if parent not in reached:
                    reached.add(parent)
                    pending.append(parent)
        closed[start] = reached
    return closed


def _label(found: list, lang: str | None) -> str | None:
    """The most preferred label in `lang`; with no lang, any label or prov:value (the last resort)."""
    ranked = sorted((LABELS.index(p) if p in LABELS else len(LABELS), label.value) for p, label in found
                    if lang is None or (p in LABELS and getattr(label, "language", None) == lang))
    return ranked[0][1] if ranked else None
