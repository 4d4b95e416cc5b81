"""Site search: a SQLite index made at build time, so a keystroke never walks the store.

What people type is folded before it is looked up, and so is everything indexed: full- and
half-width forms (NFKC), katakana to hiragana (jaconv), Latin letters to lower case without
macrons, hyphens as spaces. So "ヨコハマ", "よこはま", "横浜", "Yokohama" and "yokohama-shi" all
reach 横浜市 through its names (Japanese, kana, romanised, English). Japanese has no spaces to
split words on, so the index is FTS5 with the trigram tokenizer over the folded names and
texts; shorter queries (two kanji, like 札幌) scan the index's own table — small beside the
store. Hits that are a whole name come first (a body's name without 市, 町 … counts: 横浜 is
横浜市's); then by kind (initiatives first), then by how they match (the start of a name, a whole
word of one, the start of a word, part of one, then the texts), then by the kind of body
(prefectures, then cities, … wards last), then by the shorter name.
"""

from __future__ import annotations

import difflib
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import jaconv
import pyoxigraph as ox
from markupsafe import Markup

from .authority import KANA_OF_SUFFIX
from .namespaces import KK, PREFIXES
from .querytext import in_chunks
from .store import graph_names

INDEX_FILE = "search.sqlite"
KINDS = (  # (class, kind), first match wins; the order is also the order of results
    (KK + "Initiative", "initiative"),
    (KK + "ComponentActivity", "activity"),
    (KK + "LocalGovernment", "local_government"),
    ("http://www.w3.org/2004/02/skos/core#Concept", "concept"),
    ("http://www.w3.org/ns/org#Organization", "organisation"),
    ("http://xmlns.com/foaf/0.1/Group", "organisation"),
    ("http://www.w3.org/ns/org#OrganizationalUnit", "organisation"),
    (KK + "Document", "document"),
    (KK + "SourcePassage", "passage"),
)
# Among local governments with names alike (横浜市, 横浜町), the larger kind of body first.
BODY_ORDER = {KK + c: i for i, c in enumerate(
    ("Prefecture", "DesignatedCity", "City", "SpecialWard", "Town", "Village", "DesignatedCityWard"))}
MAX_QUERY = 100
PER_PAGE = 20
SNIPPET = 90  # characters of text around a match
SEPARATOR = "\x1f"  # between the names of one entry, and around them all


CHUNK = 1000  # subjects per indexing query: each stays well inside a remote store's time limit
LABELS = ("http://www.w3.org/2004/02/skos/core#prefLabel", "http://purl.org/dc/terms/title",
          "http://www.w3.org/2000/01/rdf-schema#label")  # in order of preference
# An entry's labels (LABELS, then prov:value as the last resort), the names it is found by, what
# it says (shown as the snippet around a match), its classes and prefecture: all read from one
# scan of each chunk's subjects' triples, sorted out by predicate here. Five questions testing
# the predicate (FILTER … IN) scanned the same triples five times: 2.5–2.9 s against 1.2–1.5 s
# per 20,000 subjects at 1 M triples (and five times faster than joining with a predicate list).
LABEL_PREDICATES = frozenset((*LABELS, PREFIXES["prov"] + "value"))
NAME_PREDICATES = frozenset(PREFIXES[prefix] + name for prefix, name in (
    ("skos", "prefLabel"), ("skos", "altLabel"), ("dct", "title"), ("rdfs", "label"), ("kk", "nameKana"),
    ("kk", "localGovernmentCode")))
TEXT_PREDICATES = frozenset((PREFIXES["dct"] + "description", PREFIXES["prov"] + "value"))
RDF_TYPE = PREFIXES["rdf"] + "type"
PREFECTURE = PREFIXES["kk"] + "prefecture"
# who takes part (found by, not shown)
TAKING_PART_OF = "?s prov:wasAssociatedWith/skos:prefLabel ?t"
SEGMENT = "\x1e"  # between the texts of an entry; each is "lang\x1dtext"

_HIRAGANA = re.compile("[\u3041-\u309f ]+")  # a folded kana reading ("よこはまし つるみく")
_JAPANESE = re.compile("[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_MACRONS = str.maketrans("āēīōūâêîôûĀĒĪŌŪÂÊÎÔÛ", "aeiouaeiouaeiouaeiou")


def fold(text: str) -> str:
    """Text as the index compares it: NFKC, hiragana for katakana, Latin lower case without
    macrons, hyphens and runs of spaces as one space."""
    folded = jaconv.kata2hira(unicodedata.normalize("NFKC", text).lower().translate(_MACRONS))
    return " ".join(folded.replace("-", " ").split())


def _stems(labels: list, names: dict) -> list[str]:
    """The folded names of a local government without their suffix (of its last part, for a
    ward) — a body's name without its suffix is as good as its name: 横浜, よこはま and Yokohama
    are 横浜市 — from its Japanese label, its romanised label (ja-Latn) and, by the latter's
    suffix, its kana."""
    stems = []
    for _, label in labels:
        tag = (getattr(label, "language", None) or "").lower()  # the store writes tags in lower case
        if tag == "ja" and label.value[-1:] in "市区町村県府都":
            stems.append(fold(label.value[:-1]))
        elif tag == "ja-latn" and "-" in label.value:
            stem, suffix = fold(label.value.rsplit(" ", 1)[-1]).rsplit(" ", 1)
            stems.append(stem)
            ending = KANA_OF_SUFFIX.get(suffix)
            kana = next((n for n in names if ending and _HIRAGANA.fullmatch(n) and n.endswith(ending)), None)
            if kana:
                stems.append(kana.rsplit(" ", 1)[-1][: -len(ending)])
    return [stem for stem in stems if stem]


LABELLED = "skos:prefLabel|dct:title|rdfs:label|prov:value"  # what makes a subject an entry
ENTRY_COLUMNS = ("iri", "kind", "kind_order", "body_order", "label_ja", "label_en", "names", "text", "text_folded",
                 "prefecture", "initiative", "prefecture_ja", "prefecture_en", "initiative_ja", "initiative_en")
INDEX_SCHEMA = """
    CREATE TABLE entries (id INTEGER PRIMARY KEY, iri TEXT, kind TEXT, kind_order INTEGER, body_order INTEGER,
                          label_ja TEXT, label_en TEXT, names TEXT, text TEXT, text_folded TEXT,
                          prefecture TEXT, initiative TEXT, prefecture_ja TEXT, prefecture_en TEXT,
                          initiative_ja TEXT, initiative_en TEXT);
    CREATE INDEX entries_by_iri ON entries (iri);
    CREATE VIRTUAL TABLE search USING fts5(names, text_folded, content='entries', content_rowid='id',
                                           tokenize='trigram');
"""
_INSERT_ENTRY = f"INSERT INTO entries ({', '.join(ENTRY_COLUMNS)}) VALUES ({','.join('?' * len(ENTRY_COLUMNS))})"


def build_index(query: Callable[[str], object], path: Path) -> int:
    """Index every labelled resource and every source passage; returns the number of entries.

    The subjects are listed first (graph by graph) and described a chunk at a time: one GROUP BY
    over the whole store takes 25 s at 1 M triples, longer than a remote store's query limit. Each chunk asks
    for labels, names, texts and types separately and the class hierarchy is walked here once:
    one query joining them all multiplied every label by every text by every superclass. An
    entry belongs to the initiative of the case file (named graph) it is stated in: the first
    graph, in IRI order, that labels it.
    """
    # listed graph by graph: as one DISTINCT … ORDER BY over the store this took 56 s at 5 M triples
    graph_of: dict = {}
    for graph in graph_names(query):
        for row in query(f"SELECT DISTINCT ?s WHERE {{ GRAPH {graph} {{ ?s {LABELLED} ?any }} FILTER (isIRI(?s)) }}"):
            graph_of.setdefault(row["s"], graph.value)
    entries = _entries(query, graph_of)
    label_of = {entry[0]: (entry[4], entry[5]) for entry in entries}
    for entry in entries:  # the labels of prefectures and initiatives, shown beside each hit
        entry.extend([*label_of.get(entry[9] or "", (None, None)), *label_of.get(entry[10] or "", (None, None))])
    connection = sqlite3.connect(path)
    with connection:
        connection.executescript(INDEX_SCHEMA)
        connection.executemany(_INSERT_ENTRY, entries)
        connection.execute("INSERT INTO search (search) VALUES ('rebuild')")
    connection.close()
    return len(entries)


def update_index(query: Callable[[str], object], path: Path, iris: set[str]) -> None:
    """Redo the entries of `iris` in the index at `path` after a change to some named graphs (and
    of the entries that show one of them as their prefecture or initiative): each is made as
    build_index makes it (from the graph that labels it first), or dropped if nothing labels it
    any more."""
    iris = set(iris)
    connection = sqlite3.connect(path)
    try:
        _update_entries(connection, query, iris)
    finally:
        connection.close()


def _update_entries(connection: sqlite3.Connection, query: Callable[[str], object], iris: set[str]) -> None:
    keys = sorted(iris)
    for start in range(0, len(keys), 500):
        marks = ",".join("?" * len(keys[start:start + 500]))
        iris.update(row[0] for row in connection.execute(
            f"SELECT iri FROM entries WHERE initiative IN ({marks}) OR prefecture IN ({marks})",
            keys[start:start + 500] * 2))
    order = {graph.value: position for position, graph in enumerate(graph_names(query))}
    graph_of: dict = {}
    for row in in_chunks(query, f"SELECT ?s ?g WHERE {{ VALUES ?s {{ $values$ }} GRAPH ?g {{ ?s {LABELLED} ?any }} }}",
                         [ox.NamedNode(iri) for iri in sorted(iris)], CHUNK):
        known = graph_of.get(row["s"])
        if known is None or order[row["g"].value] < order[known]:
            graph_of[row["s"]] = row["g"].value
    entries = _entries(query, graph_of)
    with connection:
        label_of = {entry[0]: (entry[4], entry[5]) for entry in entries}
        named = sorted({key for entry in entries for key in (entry[9], entry[10]) if key and key not in label_of})
        for start in range(0, len(named), 500):
            chunk = named[start:start + 500]
            label_of.update((iri, (ja, en)) for iri, ja, en in connection.execute(
                f"SELECT iri, label_ja, label_en FROM entries WHERE iri IN ({','.join('?' * len(chunk))})", chunk))
        for entry in entries:
            entry.extend([*label_of.get(entry[9] or "", (None, None)), *label_of.get(entry[10] or "", (None, None))])
        keys = sorted(iris)
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            old = connection.execute(f"SELECT id, names, text_folded FROM entries WHERE iri IN ({','.join('?' * len(chunk))})",
                                     chunk).fetchall()
            # an external-content index forgets a row only when told its indexed values
            connection.executemany("INSERT INTO search (search, rowid, names, text_folded) VALUES ('delete', ?, ?, ?)", old)
            connection.executemany("DELETE FROM entries WHERE id = ?", [(row[0],) for row in old])
        for entry in entries:
            cursor = connection.execute(_INSERT_ENTRY, entry)
            connection.execute("INSERT INTO search (rowid, names, text_folded) VALUES (?, ?, ?)",
                               (cursor.lastrowid, entry[6], entry[8]))


def _entries(query: Callable[[str], object], graph_of: dict) -> list[list]:
    """The index entries (ENTRY_COLUMNS without the last four) of the subjects of `graph_of`
    (NamedNode → the graph that labels it first), in IRI order."""
    subjects = sorted(graph_of, key=lambda s: s.value)
    initiative_of_graph: dict[str, str] = {}  # a graph stating several: the first in IRI order, whatever the store's
    for row in in_chunks(query, "SELECT ?g ?i WHERE { VALUES ?g { $values$ } GRAPH ?g { ?i a kk:Initiative } }",
                         [ox.NamedNode(g) for g in sorted(set(graph_of.values()))]):
        graph, initiative = row["g"].value, row["i"].value
        initiative_of_graph[graph] = min(initiative, initiative_of_graph.get(graph, initiative))
    broader = _superclasses(query)
    kinds = dict(KINDS)
    order = {kind: i for i, (_, kind) in enumerate(KINDS)}
    entries, prefecture_of = [], {}
    for start in range(0, len(subjects), CHUNK):
        chunk = subjects[start:start + CHUNK]
        values = f"VALUES ?s {{ {' '.join(str(s) for s in chunk)} }}"
        labels: dict[str, list] = {}
        names: dict[str, dict] = {}
        texts: dict[str, dict] = {}  # a dict keeps the first-seen order and drops repeats
        classes: dict[str, set] = {}
        for row in query(f"SELECT ?s ?p ?o WHERE {{ {values} ?s ?p ?o }}"):
            s, p, o = row["s"].value, row["p"].value, row["o"]
            if p in LABEL_PREDICATES:
                labels.setdefault(s, []).append((p, o))
            if p in NAME_PREDICATES:
                names.setdefault(s, {})[fold(o.value)] = None
            if p in TEXT_PREDICATES:
                texts.setdefault(s, {})[o.value] = (getattr(o, "language", None) or "").split("-")[0]
            elif p == RDF_TYPE:
                classes.setdefault(s, set()).update(broader.get(o.value, {o.value}))
            elif p == PREFECTURE:
                prefecture_of[s] = o.value
        taking_part: dict[str, set] = {}
        for row in query(f"SELECT ?s ?t WHERE {{ {values} {TAKING_PART_OF} }}"):
            taking_part.setdefault(row["s"].value, set()).add(row["t"].value)
        for subject in chunk:
            iri = subject.value
            kind = next((kinds[c] for c, _ in KINDS if c in classes.get(iri, ())), "resource")
            if kind == "local_government":
                names[iri] = {**names.get(iri, {}), **dict.fromkeys(_stems(labels.get(iri, []), names.get(iri, {})))}
            body_order = min((BODY_ORDER[c] for c in classes.get(iri, ()) if c in BODY_ORDER), default=0)
            found = labels.get(iri, [])
            fallback = _label(found, None) or iri
            label_ja, label_en = _label(found, "ja") or fallback, _label(found, "en") or fallback
            initiative = initiative_of_graph.get(graph_of[subject])
            said = sorted(texts.get(iri, {}).items())  # in one order whatever the store's
            text = SEGMENT.join(f"{lang}\x1d{value}" for value, lang in said)
            found_by = " ".join([value for value, _ in said] + sorted(taking_part.get(iri, ())))
            entries.append([iri, kind, order.get(kind, len(order)), body_order, label_ja, label_en,
                            SEPARATOR + SEPARATOR.join(sorted(names.get(iri, {}))) + SEPARATOR, text, fold(found_by),
                            prefecture_of.get(iri), None if initiative == iri else initiative])
    return entries


@dataclass
class Hit:
    iri: str
    kind: str
    label_ja: str
    label_en: str
    prefecture: str | None
    prefecture_ja: str | None
    prefecture_en: str | None
    initiative: str | None
    initiative_ja: str | None
    initiative_en: str | None
    snippet: Markup | None  # the text around the match, the match in <mark>, or None if a name matched
    snippet_lang: str = ""  # the language of the text the snippet is from

    def to_json(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if v not in (None, "")}
        if self.snippet is not None:
            data["snippet"] = _unmark(self.snippet)
        return data


@dataclass
class Results:
    query: str
    total: int
    page: int
    pages: int
    hits: list[Hit]
    suggestions: list[tuple[str, str]]  # (Japanese, English) names close to the query


@lru_cache(maxsize=256)
def _patterns(q: str) -> tuple[re.Pattern, re.Pattern]:
    word = re.escape(q)
    edge = r"[\s\x1f(),、・]"
    return (re.compile(f"(?:^|{edge}){word}(?:$|{edge})"), re.compile(f"(?:^|{edge}){word}"))


def tier(names: str, text: str, q: str) -> int:
    """How a hit matches, best first: 0 a whole name, 1 the start of a name, 2 a whole word of a
    name, 3 the start of a word of one, 4 part of a name, 5 a whole word of the texts, 6 part of them."""
    whole_word, word_start = _patterns(q)
    if f"{SEPARATOR}{q}{SEPARATOR}" in names:
        return 0
    if f"{SEPARATOR}{q}" in names:
        return 1
    if whole_word.search(names):
        return 2
    if word_start.search(names):
        return 3
    if q in names:
        return 4
    return 5 if whole_word.search(text) else 6


COLUMNS = ("iri, kind, label_ja, label_en, prefecture, prefecture_ja, prefecture_en, initiative, initiative_ja, "
           "initiative_en, names, text, text_folded")


def search(path: Path, text: str, page: int = 1, per_page: int = PER_PAGE, lang: str = "ja") -> Results:
    """The hits for `text` on one page of results, best first, with the total count; when
    nothing matches, names that come close. Snippets come from texts in `lang` where one matches."""
    q = fold(text)[:MAX_QUERY]
    if not q:
        return Results(text, 0, 1, 1, [], [])
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.create_function("tier", 3, tier, deterministic=True)
    try:
        if len(q) >= 3:  # through the trigram index
            where = "id IN (SELECT rowid FROM search WHERE search MATCH ?1)"
            argument = '"' + q.replace('"', '""') + '"'
        else:
            where = "(instr(names, ?1) > 0 OR instr(text_folded, ?1) > 0)"
            argument = q
        total = connection.execute(f"SELECT count(*) FROM entries WHERE {where}", (argument,)).fetchone()[0]
        pages = max(1, -(-total // per_page))
        page = min(max(page, 1), pages)
        rows = connection.execute(f"""
            SELECT {COLUMNS}, tier(names, text_folded, ?2) AS t FROM entries WHERE {where}
            ORDER BY t > 0, kind_order, t, body_order, length(label_ja), iri LIMIT ?3 OFFSET ?4""",
                                  (argument, q, per_page, (page - 1) * per_page)).fetchall()
        suggestions = [] if total else _close_names(connection, q)
    finally:
        connection.close()
    hits = [Hit(*row[:10], *(_snippet(row[11], q, lang) if row[13] >= 5 else (None, ""))) for row in rows]
    return Results(text, total, page, pages, hits, suggestions)


def _close_names(connection: sqlite3.Connection, q: str) -> list[tuple[str, str]]:
    """Up to five initiatives, bodies and concepts whose names come close to `q` (a typo), as
    (Japanese label, English label)."""
    labels: dict[str, tuple[str, str]] = {}
    for joined, label_ja, label_en in connection.execute(
            "SELECT names, label_ja, label_en FROM entries WHERE kind IN ('initiative', 'local_government', 'concept') "
            "ORDER BY kind_order, body_order, iri"):
        for name in joined.split(SEPARATOR):
            if name and not name.isdigit():
                labels.setdefault(name, (label_ja, label_en))
    close = difflib.get_close_matches(q, list(labels), n=10, cutoff=0.6)
    return list(dict.fromkeys(labels[name] for name in close))[:5]


def _snippet(texts: str, q: str, lang: str) -> tuple[Markup | None, str]:
    """About SNIPPET characters around the first match of `q` (folded) in one of an entry's texts
    — one in `lang` if any matches — the match marked; and that text's language."""
    segments = [segment.split("\x1d", 1) for segment in texts.split(SEGMENT) if "\x1d" in segment]
    for tag, text in sorted(segments, key=lambda segment: segment[0] != lang):
        folded, positions = [], []  # folded character by character, and where each came from
        for i, char in enumerate(text):
            for piece in fold(char) or " ":
                folded.append(piece)
                positions.append(i)
        at = "".join(folded).find(q)
        if at < 0:
            continue
        start, end = positions[at], positions[at + len(q) - 1] + 1
        before = max(0, start - SNIPPET // 3)
        after = min(len(text), end + SNIPPET - (start - before))
        return Markup("{}{}<mark>{}</mark>{}{}").format(
            "…" if before else "", text[before:start], text[start:end], text[end:after],
            "…" if after < len(text) else ""), tag or ("ja" if _JAPANESE.search(text) else "en")
    return None, ""


def _unmark(snippet: Markup) -> str:
    return snippet.striptags()


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
