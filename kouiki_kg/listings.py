"""Listings and figures made at build time, so browsing pages never aggregate over the store.

Which initiatives fall under a concept (through its narrower concepts, an initiative's parts,
its category, the roles in it, the audiences its evaluation names), which initiatives an agent
takes part in and with whom, and the home page's figures are whole-graph questions: 50–90 ms
at 1 M triples as SPARQL, minutes when Oxigraph plans the concept page's query badly. The store is immutable between builds, so they are answered once,
here, into a small SQLite file beside the search index, and a page reads one indexed range.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable

import pyoxigraph as ox

from . import search
from .namespaces import BASE, CONCEPT, PREFIXES, compact
from .querytext import fill, in_chunks
from .store import graph_names, term_order

LISTINGS_FILE = "listings.sqlite"
# What names a resource on a page, in order of preference: the first of these a resource has wins.
LABEL_PROPERTIES = [PREFIXES[p] + n for p, n in (("skos", "prefLabel"), ("dct", "title"), ("rdfs", "label"),
                                                  ("foaf", "name"))]
SITE_PAGES = ["/", "/sparql", "/dataset", "/ontology", "/shapes"]  # listed first in the sitemap

# (concept, initiative, via): every way an initiative is filed under a concept. Each branch starts
# from the initiatives and names its path in full: one pattern per path keeps Oxigraph's plan a
# chain of index look-ups. `$initiatives$`: the initiatives of one chunk (see `_per_initiative`).
FILED_UNDER = """
    SELECT DISTINCT ?concept ?initiative ?via WHERE {
      { VALUES ?initiative { $initiatives$ } ?initiative dct:subject ?concept BIND ("subject" AS ?via) }
      UNION { VALUES ?initiative { $initiatives$ } ?initiative kk:hasComponent|kk:hasFutureDirection|kk:hasDirection/kk:hasItem ?part .
              ?part dct:subject ?concept BIND ("subject" AS ?via) }
      UNION { VALUES ?initiative { $initiatives$ } ?initiative kk:activityType ?concept BIND ("activity" AS ?via) }
      UNION { VALUES ?initiative { $initiatives$ } ?initiative kk:hasComponent|kk:hasFutureDirection|kk:hasDirection/kk:hasItem ?part .
              ?part kk:activityType ?concept BIND ("activity" AS ?via) }
      UNION { VALUES ?initiative { $initiatives$ } ?initiative kk:programmeCategory ?concept BIND ("category" AS ?via) }
      UNION { VALUES ?initiative { $initiatives$ } ?initiative prov:qualifiedAssociation/prov:hadRole ?concept BIND ("role" AS ?via) }
      UNION { VALUES ?initiative { $initiatives$ } ?initiative kk:hasComponent/prov:qualifiedAssociation/prov:hadRole ?concept
              BIND ("role" AS ?via) }
      UNION { VALUES ?initiative { $initiatives$ } ?initiative kk:hasEvaluation/kk:usefulFor ?concept BIND ("audience" AS ?via) }
    }"""

# (agent, role, initiative, via): every way an agent takes part in an initiative — directly, in one
# of its activities, as a named member of a grouping that takes part, or as secretariat of a council
# it set up. Asked per agent at page time this was the most expensive part of a local government's
# page (14 ms at 1 M triples); here it is one pass over the associations. One query per way, joined
# in Python: as one UNION with DISTINCT it took twice as long (8.5 s at 1 M).
TAKING_PART = [
    """SELECT ?agent ?role ?initiative ?via WHERE { VALUES ?initiative { $initiatives$ } ?initiative prov:qualifiedAssociation ?a .
         ?a prov:agent ?agent ; prov:hadRole ?role FILTER (isIRI(?agent)) }""",
    """SELECT ?agent ?role ?initiative ?via WHERE { VALUES ?initiative { $initiatives$ } ?initiative kk:hasComponent ?via .
         ?via prov:qualifiedAssociation ?a . ?a prov:agent ?agent ; prov:hadRole ?role FILTER (isIRI(?agent)) }""",
    f"""SELECT ?agent ?role ?initiative ?via WHERE {{ VALUES ?initiative {{ $initiatives$ }} ?initiative prov:qualifiedAssociation ?a .
         ?a prov:agent ?via ; prov:hadRole [] . ?via foaf:member ?agent FILTER (isIRI(?agent))
         BIND (<{CONCEPT}role/member> AS ?role) }}""",
    f"""SELECT ?agent ?role ?initiative ?via WHERE {{ VALUES ?initiative {{ $initiatives$ }} ?initiative kk:setUp ?via .
         ?via kk:hasSecretariat ?agent FILTER (isIRI(?agent)) BIND (<{CONCEPT}role/secretariat> AS ?role) }}""",
]
# Where a body is on the map: its own coordinates, or, for a grouping, its named members'.
PLACES = """
    SELECT ?body ?place ?lat ?long WHERE {
      { ?body foaf:member ?place } UNION { ?body geo:lat [] FILTER NOT EXISTS { ?body foaf:member [] } BIND (?body AS ?place) }
      ?place geo:lat ?lat ; geo:long ?long }"""
ASSOCIATED = "SELECT DISTINCT ?initiative ?agent WHERE { VALUES ?initiative { $initiatives$ } ?initiative prov:wasAssociatedWith ?agent }"

FIGURES = {
    "counts": """
        SELECT ?what (COUNT(DISTINCT ?x) AS ?n) WHERE {
          { ?x a kk:Initiative BIND ("initiatives" AS ?what) }
          UNION { ?x kk:localGovernmentCode ?c BIND ("local_governments" AS ?what) }
          UNION { ?x a/rdfs:subClassOf* kk:SourcePassage BIND ("passages" AS ?what) }
          UNION { ?x a skos:Concept BIND ("concepts" AS ?what) }
          UNION { ?x a ?org . VALUES ?org { kk:Council kk:WorkingGroup kk:BodyGrouping kk:NationalGovernmentBody }
                  BIND ("organisations" AS ?what) }
        } GROUP BY ?what ORDER BY ?what""",
    "categories": f"""
        SELECT ?what (COUNT(?i) AS ?n) WHERE {{ ?what skos:inScheme <{CONCEPT}category>
          OPTIONAL {{ ?i kk:programmeCategory ?what }} }} GROUP BY ?what ORDER BY ?what""",
    "roles": "SELECT ?what (COUNT(*) AS ?n) WHERE { ?a prov:hadRole ?what } GROUP BY ?what ORDER BY DESC(?n) ?what",
}
# Initiatives by prefecture: the bodies an initiative is associated with, or the named members of a
# grouping that is, and their prefecture (a prefecture is its own); branches by path, as above.
# Counted here per prefecture: each initiative is in one chunk.
IN_PREFECTURE = """
    SELECT DISTINCT ?i ?what ?body WHERE {
      { VALUES ?i { $initiatives$ } ?i prov:wasAssociatedWith ?body . ?body kk:prefecture ?what }
      UNION { VALUES ?i { $initiatives$ } ?i prov:wasAssociatedWith/foaf:member ?body . ?body kk:prefecture ?what }
      UNION { VALUES ?i { $initiatives$ } ?i prov:wasAssociatedWith ?what . ?what a kk:Prefecture BIND (?what AS ?body) }
      UNION { VALUES ?i { $initiatives$ } ?i prov:wasAssociatedWith/foaf:member ?what . ?what a kk:Prefecture BIND (?what AS ?body) }
    }"""
# How many bodies take part in each initiative: the local governments associated with it by name
# or as named members of a grouping; a grouping the source gives only a count for (八戸圏域
# 1市6町1村: 8) counts as that many when that is more — in every seed case the named body leads
# the grouping it belongs to, so adding the two would count it twice. Never a guessed member.
NAMED_BODIES = """
    SELECT ?i (COUNT(DISTINCT ?body) AS ?n) WHERE {
      { VALUES ?i { $initiatives$ } ?i prov:wasAssociatedWith ?body . ?body kk:localGovernmentCode [] }
      UNION { VALUES ?i { $initiatives$ } ?i prov:wasAssociatedWith/foaf:member ?body . ?body kk:localGovernmentCode [] }
    } GROUP BY ?i"""
COUNTED_BODIES = """
    SELECT ?i (MAX(?count) AS ?n) WHERE { VALUES ?i { $initiatives$ } ?i prov:wasAssociatedWith ?g .
      ?g kk:memberCount ?count FILTER NOT EXISTS { ?g foaf:member [] } } GROUP BY ?i"""
LEADS = f"""
    SELECT ?initiative (GROUP_CONCAT(DISTINCT STR(?agent); separator=" ") AS ?leads) WHERE {{ VALUES ?initiative {{ $initiatives$ }}
      OPTIONAL {{ ?initiative prov:qualifiedAssociation ?a . ?a prov:hadRole <{CONCEPT}role/lead> ; prov:agent ?agent }}
    }} GROUP BY ?initiative ORDER BY ?initiative"""
# Objects with at least BUSY incoming links (a theme, a role, a class, the authority data's source)
# have them counted and listed here. Asked at page time, the engine found a theme's thousand links
# in 1 ms, but handing them to Python took 6 ms (30 ms the first time a process read them), and
# the count had to stop somewhere; a local government's 20–100 took 0.5–3 ms. Fewer than BUSY are
# quick to ask for at page time.
BUSY = 20
INCOMING_LISTED = 1_000  # links listed of a busy object (its counts are whole)
# Graph by graph: one GROUP BY over the whole store took 2.3 s at 1 M triples, so about 12 s at
# 5 M, past a remote store's time limit. A triple stated in two graphs counts twice in the sum:
# every busy object is found, and one that only looks busy is counted exactly and dropped.
FAN_IN = "SELECT ?o (COUNT(*) AS ?n) WHERE { GRAPH $graph$ { ?s ?p ?o } FILTER (isIRI(?o)) } GROUP BY ?o"
# The engine reads each (property, subject) pair once: the union default graph repeats a triple
# stated in two graphs. A blank node has no page, so a page names it by the IRI that states it
# ("Initiative X › prov:qualifiedAssociation"): asked in the same question, as a remote store
# cannot be asked about a blank node afterwards (its label means nothing in a later query).
INCOMING = """SELECT DISTINCT ?p ?s ?holder ?via WHERE {
  { ?s ?p $o$ FILTER (!isBlank(?s)) }
  UNION { ?s ?p $o$ FILTER (isBlank(?s)) OPTIONAL { ?holder ?via ?s FILTER (isIRI(?holder)) } } }"""
INCOMING_COUNTS = "SELECT ?p (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p $o$ } GROUP BY ?p"
# The first IRIs in IRI order (all of them, sorted and cut here: an ORDER BY took the engine 2 s
# for 40,000, and any `LIMIT` of them would be those the store happens to hold first, so a build
# read in memory and an increment of the store on disk would list different ones), then the first
# blank nodes by the IRI that states them (their labels are new with every load; see link_order).
INCOMING_IRIS_OF = "SELECT DISTINCT ?s WHERE { ?s $p$ $o$ FILTER (isIRI(?s)) }"
INCOMING_BLANKS_OF = """SELECT ?s ?holder ?via WHERE {
  ?s $p$ $o$ FILTER (isBlank(?s)) OPTIONAL { ?holder ?via ?s FILTER (isIRI(?holder)) } }"""
# After a change, which of the IRIs listed before and of those the change touched still link
# here, and which blank nodes those hold (with every IRI holding them, to find the least)
INCOMING_AMONG = "SELECT DISTINCT ?s WHERE { VALUES ?s { $values$ } ?s $p$ $o$ }"
INCOMING_BLANKS_AMONG = """SELECT ?s ?holder ?via WHERE { VALUES ?by { $values$ }
  ?by ?by_via ?s . ?s $p$ $o$ FILTER (isBlank(?s)) ?holder ?via ?s FILTER (isIRI(?holder)) }"""
# Initiatives per query: asked of the whole store at once, five of these questions took 11–31 s
# each at 5 M triples, past a remote store's time limit (10 s by default).
CHUNK = 1000


# The listings file's tables. Rows are keyed so a change to one case can redo its own: the
# per-initiative tables by initiative, labels and pages by IRI, incoming links by object.
SCHEMA = """
    CREATE TABLE filed (concept TEXT, initiative TEXT, via TEXT, PRIMARY KEY (concept, initiative, via)) WITHOUT ROWID;
    CREATE TABLE figures (name TEXT, position INTEGER, iri TEXT, n INTEGER, PRIMARY KEY (name, position));
    CREATE TABLE initiatives (iri TEXT PRIMARY KEY, leads TEXT, bodies INTEGER) WITHOUT ROWID;  -- listed by IRI
    CREATE TABLE in_prefecture (prefecture TEXT, initiative TEXT, body TEXT,
                                PRIMARY KEY (prefecture, initiative, body)) WITHOUT ROWID;
    -- the site's own pages first (rank: their place in SITE_PAGES), then every minted resource's by path
    CREATE TABLE pages (rank INTEGER, path TEXT, PRIMARY KEY (rank, path)) WITHOUT ROWID;
    CREATE TABLE taking_part (agent TEXT, role TEXT, initiative TEXT, via TEXT,
                              PRIMARY KEY (agent, role, initiative, via)) WITHOUT ROWID;
    -- who else takes part in an agent's initiatives (its page's map): by initiative
    CREATE INDEX taking_part_by_initiative ON taking_part (initiative, agent, role);
    CREATE TABLE associated (initiative TEXT, agent TEXT, PRIMARY KEY (initiative, agent)) WITHOUT ROWID;
    CREATE TABLE places (body TEXT, place TEXT, lat REAL, long REAL, PRIMARY KEY (body, place)) WITHOUT ROWID;
    CREATE TABLE labels (iri TEXT, lang TEXT, label TEXT, PRIMARY KEY (iri, lang)) WITHOUT ROWID;
    CREATE TABLE incoming_counts (object TEXT, predicate TEXT, n INTEGER, PRIMARY KEY (object, predicate)) WITHOUT ROWID;
    -- a blank-node subject's holder: the IRI stating it, and by which property (NULL for an IRI)
    CREATE TABLE incoming (object TEXT, position INTEGER, predicate TEXT, subject TEXT, holder TEXT, via TEXT,
                           PRIMARY KEY (object, position)) WITHOUT ROWID;
    -- every IRI holding a blank node that links to a busy object by a property whose blank nodes
    -- are read to be listed: where to look next when a change removes some of those listed
    CREATE TABLE held_by (object TEXT, predicate TEXT, holder TEXT, PRIMARY KEY (object, predicate, holder)) WITHOUT ROWID;
"""
# The tables answered initiative by initiative, and the column that names the initiative.
PER_INITIATIVE = {"filed": "initiative", "initiatives": "iri", "in_prefecture": "initiative",
                  "taking_part": "initiative", "associated": "initiative"}
MINTED_RANK = len(SITE_PAGES)


def build_listings(query: Callable[[str], object], path: Path) -> int:
    """Answer the browsing questions once into `path`; returns the number of (concept, initiative) rows."""
    initiatives = sorted((row["i"] for row in query("SELECT ?i WHERE { ?i a kk:Initiative }")), key=lambda i: i.value)
    graphs = graph_names(query)
    # every page we serve for a minted IRI (hash IRIs live in their document's page), read graph by
    # graph: one DISTINCT over the whole store takes 50 s at 1 M triples, these 4 s together
    minted = {row["s"].value for graph in graphs
              for row in query(f"SELECT DISTINCT ?s WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} FILTER (isIRI(?s)) }}")}
    rows = _per_initiative_rows(query, initiatives)
    rows["labels"] = _labels(query, graphs)
    rows["incoming_counts"], rows["incoming"], rows["held_by"] = _incoming(query, _fan_in(query, graphs))
    rows["pages"] = [(rank, path) for rank, path in enumerate(SITE_PAGES)] + _minted_pages(minted)
    connection = sqlite3.connect(path)
    with connection:
        connection.executescript(SCHEMA)
        _insert(connection, rows)
        _write_whole_store_tables(connection, query)
        filed = connection.execute("SELECT COUNT(*) FROM filed").fetchone()[0]
    connection.close()
    return filed


def update_listings(query: Callable[[str], object], path: Path, *, initiatives: set[str], subjects: set[str],
                    objects: set[str]) -> None:
    """Redo, in the listings file at `path`, what a change to some named graphs can have touched:
    the rows of `initiatives`, the labels and pages of `subjects` (IRIs), the incoming links of
    `objects` (IRIs), and the small tables made from the whole store. The rows come from the same
    questions build_listings asks, for those keys only, so the file ends as a build makes it."""
    graphs = graph_names(query)
    keys = sorted(initiatives)
    still = [ox.NamedNode(row["i"].value) for row in _for_values(query, "SELECT ?i WHERE { VALUES ?i { $values$ } ?i a kk:Initiative }", keys)]
    iris = sorted(subjects)
    present = {row["s"].value for row in _for_values(query, "SELECT ?s WHERE { VALUES ?s { $values$ } FILTER EXISTS { ?s ?p ?o } }", iris)}
    rows = _per_initiative_rows(query, sorted(still, key=lambda i: i.value))
    rows["labels"] = _labels(query, graphs, iris)
    connection = sqlite3.connect(path)
    listed_before: dict[tuple[str, str], dict] = {}
    for o, p, subject, holder, via in _listed(connection, sorted(objects)):
        listed_before.setdefault((o, p), {})[term(subject)] = (term(holder), term(via)) if holder else None
    holders_before: dict[tuple[str, str], list[str]] = {}
    for o, p, holder in _rows_for_objects(connection, "SELECT object, predicate, holder FROM held_by WHERE TRUE", sorted(objects)):
        holders_before.setdefault((o, p), []).append(holder)
    rows["incoming_counts"], rows["incoming"], rows["held_by"] = _incoming(
        query, _fan_in(query, graphs, sorted(objects)), (listed_before, holders_before, subjects))
    rows["pages"] = _minted_pages(present)
    with connection:
        for table, column in PER_INITIATIVE.items():
            _delete(connection, table, column, keys)
        _delete(connection, "labels", "iri", iris)
        _delete(connection, "pages", "path", [path for _, path in _minted_pages(subjects)])
        _delete(connection, "incoming_counts", "object", sorted(objects))
        _delete(connection, "incoming", "object", sorted(objects))
        # tens of thousands of holders for a role at 1 M, a few of them changed: only those rewritten
        held_before = {(o, p, h) for (o, p), holders in holders_before.items() for h in holders}
        held_now = set(rows.pop("held_by"))
        connection.executemany("DELETE FROM held_by WHERE object = ? AND predicate = ? AND holder = ?",
                               sorted(held_before - held_now))
        rows["held_by"] = sorted(held_now - held_before)
        connection.execute("DELETE FROM places")
        connection.execute("DELETE FROM figures")
        _insert(connection, rows)
        _write_whole_store_tables(connection, query)
    connection.close()


def _listed(connection: sqlite3.Connection, objects: list[str]) -> list[tuple]:
    """(object, property, subject, holder, via) of the IRIs and held blank nodes listed as linking
    to these objects."""
    return _rows_for_objects(connection, "SELECT object, predicate, subject, holder, via FROM incoming "
                                         "WHERE (subject LIKE '<%' OR holder IS NOT NULL)", objects)


def _rows_for_objects(connection: sqlite3.Connection, select: str, objects: list[str]) -> list[tuple]:
    """The rows of `select` (ending in a WHERE clause) about these objects, 500 objects a question."""
    found = []
    for start in range(0, len(objects), 500):
        chunk = objects[start:start + 500]
        found += connection.execute(f"{select} AND object IN ({','.join('?' * len(chunk))})", chunk).fetchall()
    return found


def _for_values(query: Callable[[str], object], sparql: str, iris: list[str]):
    """The rows of `sparql`, whose `$values$` lists IRIs, for every one of `iris`, CHUNK at a time."""
    return in_chunks(query, sparql, [ox.NamedNode(iri) for iri in iris], CHUNK)


def _delete(connection: sqlite3.Connection, table: str, column: str, keys: list[str]) -> None:
    for start in range(0, len(keys), 500):  # below SQLite's limit on parameters
        chunk = keys[start:start + 500]
        connection.execute(f"DELETE FROM {table} WHERE {column} IN ({','.join('?' * len(chunk))})", chunk)


def _insert(connection: sqlite3.Connection, rows: dict[str, list[tuple]]) -> None:
    for table, found in rows.items():
        if found:
            # first coordinates of a place win: a body with two is drawn at one
            verb = "INSERT OR IGNORE" if table == "places" else "INSERT"
            connection.executemany(f"{verb} INTO {table} VALUES ({','.join('?' * len(found[0]))})", found)


def _minted_pages(iris) -> list[tuple[int, str]]:
    """(rank, path) of the pages of minted IRIs (a hash IRI is part of its document's page)."""
    paths = {"/" + iri[len(BASE):] for iri in iris if iri.startswith(BASE) and "#" not in iri}
    return [(MINTED_RANK, path) for path in sorted(paths - set(SITE_PAGES))]


def _per_initiative_rows(query: Callable[[str], object], initiatives: list) -> dict[str, list[tuple]]:
    """The rows of the per-initiative tables for these initiatives (NamedNodes, in IRI order)."""
    broader: dict[str, set[str]] = {}
    for row in query("SELECT ?c ?b WHERE { ?c skos:broader ?b }"):
        broader.setdefault(row["c"].value, set()).add(row["b"].value)

    def with_ancestors(concept: str) -> set[str]:
        found, pending = set(), [concept]
        while pending:  # guarded against cycles: skos:broader is not declared acyclic
            c = pending.pop()
            if c not in found:
                found.add(c)
                pending.extend(broader.get(c, ()))
        return found

    def per_initiative(sparql: str):
        """The query's rows for every initiative, asked a chunk of initiatives at a time, in order."""
        for start in range(0, len(initiatives), CHUNK):
            yield from query(fill(sparql, {"initiatives": initiatives[start:start + CHUNK]}))

    filed = {(ancestor, row["initiative"].value, row["via"].value)
             for row in per_initiative(FILED_UNDER) for ancestor in with_ancestors(row["concept"].value)}
    in_prefecture = {(row["what"].value, row["i"].value, row["body"].value) for row in per_initiative(IN_PREFECTURE)}
    bodies_taking_part: dict[str, int] = {}
    for sparql in (NAMED_BODIES, COUNTED_BODIES):
        for row in per_initiative(sparql):
            bodies_taking_part[row["i"].value] = max(bodies_taking_part.get(row["i"].value, 0), int(row["n"].value))
    leads = [(row["initiative"].value, row["leads"].value if row["leads"] is not None else "",
              bodies_taking_part.get(row["initiative"].value, 0)) for row in per_initiative(LEADS)]
    # `via` as an N-Triples term: a grouping or activity may be a blank node
    taking_part = {(row["agent"].value, row["role"].value, row["initiative"].value,
                    str(row["via"]) if row["via"] is not None else "")
                   for sparql in TAKING_PART for row in per_initiative(sparql)}
    associated = {(row["initiative"].value, str(row["agent"])) for row in per_initiative(ASSOCIATED)}
    return {"filed": sorted(filed), "in_prefecture": sorted(in_prefecture), "initiatives": leads,
            "taking_part": sorted(taking_part), "associated": sorted(associated)}


def _write_whole_store_tables(connection: sqlite3.Connection, query: Callable[[str], object]) -> None:
    """The small tables made from the whole store (the places on the map, the home page's figures),
    the last two figures from the per-initiative tables already written."""
    places = sorted((str(row["body"]), str(row["place"]), float(row["lat"].value), float(row["long"].value))
                    for row in query(PLACES))
    figures = [(name, position, row["what"].value, int(row["n"].value))
               for name, sparql in FIGURES.items() for position, row in enumerate(query(sparql))]
    figures += [("prefectures", position, what, n) for position, (what, n) in enumerate(connection.execute(
        "SELECT prefecture, COUNT(DISTINCT initiative) FROM in_prefecture GROUP BY prefecture ORDER BY prefecture"))]
    # initiatives by top theme, through the theme's narrower concepts
    top_themes = sorted(row["t"].value for row in query(f"SELECT ?t WHERE {{ <{CONCEPT}theme> skos:hasTopConcept ?t }}"))
    themes = sorted(((t, connection.execute("SELECT COUNT(DISTINCT initiative) FROM filed WHERE concept = ? AND via = 'subject'",
                                            (t,)).fetchone()[0]) for t in top_themes), key=lambda tn: (-tn[1], tn[0]))
    figures += [("themes", position, t, n) for position, (t, n) in enumerate(themes)]
    _insert(connection, {"places": places, "figures": figures})


def _labels(query: Callable[[str], object], graphs: list, iris: list[str] | None = None) -> list[tuple[str, str, str]]:
    """(iri, language tag or "", label) for every IRI with a label (or those of `iris`): the values
    of the first label property it has, the least value where one language has several. A page
    names a hundred resources or more (a local government's initiatives); looked up in the store
    one by one they were a third of its first render (two index look-ups each, HTTP requests on a
    remote store). One query per property and graph: 280,000 titles at 5 M triples in one answer
    come close to a remote store's time limit."""
    found: dict[str, tuple[int, dict[str, str]]] = {}
    for rank, prop in enumerate(LABEL_PROPERTIES):
        if iris is None:
            rows = (row for graph in graphs for row in query(
                f"SELECT ?s ?l WHERE {{ GRAPH {graph} {{ ?s <{prop}> ?l }} FILTER (isIRI(?s) && isLiteral(?l)) }}"))
        else:
            rows = _for_values(query, f"SELECT ?s ?l WHERE {{ VALUES ?s {{ $values$ }} ?s <{prop}> ?l FILTER (isLiteral(?l)) }}",
                               iris)
        for row in rows:
            iri, literal = row["s"].value, row["l"]
            best, values = found.setdefault(iri, (rank, {}))
            if best == rank:
                lang = literal.language or ""
                values[lang] = min(values.get(lang, literal.value), literal.value)
    return sorted((iri, lang, label) for iri, (_, values) in found.items() for lang, label in values.items())


def _fan_in(query: Callable[[str], object], graphs: list, objects: list[str] | None = None) -> dict[str, int]:
    """How many quads point at each IRI (or at each of `objects`): every busy object is found, and
    one that only looks busy (a triple stated in two graphs counts twice) is counted exactly later."""
    fan_in: dict[str, int] = {}
    if objects is None:
        rows = (row for graph in graphs for row in query(fill(FAN_IN, {"graph": graph})))
    else:
        rows = _for_values(query, "SELECT ?o (COUNT(*) AS ?n) WHERE { VALUES ?o { $values$ } GRAPH ?g { ?s ?p ?o } } GROUP BY ?o",
                           objects)
    for row in rows:
        fan_in[row["o"].value] = fan_in.get(row["o"].value, 0) + int(row["n"].value)
    return fan_in


def _incoming(query: Callable[[str], object], fan_in: dict[str, int],
              before: tuple[dict, dict, set[str]] | None = None) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """(object, property, count), (object, position, property, subject, holder, via) and (object,
    property, holder) rows for every busy object of `fan_in`: its incoming links counted by
    property, up to INCOMING_LISTED of them in the order pages list them (by property name, then
    link_order), and the IRIs holding its blank nodes where they were read (see _blanks_of).
    After a change, `before` is (what was listed per (object, property) before it, as {subject:
    holder}; the holders of its blank nodes; the IRIs it touched): see _iris_of and _blanks_of."""
    listed_before, holders_before, touched = before or ({}, {}, set())
    counts, links, held_by = [], [], []
    for iri in sorted(o for o, n in fan_in.items() if n >= BUSY):
        target = ox.NamedNode(iri)
        subjects: dict[str, dict] = {}
        if fan_in[iri] <= INCOMING_LISTED:  # all of them in one answer, counted here
            for (p, s), held in with_holders(query(fill(INCOMING, {"o": target}))).items():
                subjects.setdefault(p.value, {})[s] = held
            by_property = {p: len(found) for p, found in subjects.items()}
        else:
            by_property = {row["p"].value: int(row["n"].value) for row in query(fill(INCOMING_COUNTS, {"o": target}))}
        if sum(by_property.values()) < BUSY:
            continue
        counts += [(iri, p, n) for p, n in sorted(by_property.items())]
        listed = 0
        for p in sorted(by_property, key=compact):
            room = INCOMING_LISTED - listed
            if room <= 0:
                break
            if p in subjects:
                found = _cut(subjects[p], room)
            else:
                found, holders = _incoming_of(query, ox.NamedNode(p), target, room, listed_before.get((iri, p), {}),
                                              holders_before.get((iri, p)), touched)
                held_by += [(iri, p, holder) for holder in holders]
            links += [(iri, listed + i, p, str(s), *_held_columns(held)) for i, (s, held) in enumerate(found.items())]
            listed += len(found)
    return counts, links, held_by


def _incoming_of(query: Callable[[str], object], p: ox.NamedNode, o: ox.NamedNode, room: int,
                 before: dict | None = None, holders: list[str] | None = None,
                 touched: set[str] = frozenset()) -> tuple[dict, list[str]]:
    """The subjects of (?, p, o) a busy object lists, in link_order: its first `room` IRIs, then
    blank nodes, as {subject: holder} (see with_holders); and, if blank nodes were read, every
    IRI holding one (else none)."""
    terms, before = {"p": p, "o": o}, before or {}
    found = _iris_of(query, terms, room, [s.value for s in before if isinstance(s, ox.NamedNode)], touched)
    if len(found) == room:
        return found, []
    blanks, holders = _blanks_of(query, terms, room - len(found), {s: held for s, held in before.items() if held},
                                 holders, touched)
    return found | blanks, holders


def _iris_of(query: Callable[[str], object], terms: dict, room: int, before: list[str], touched: set[str]) -> dict:
    """The first `room` IRIs of (?, p, o) in IRI order, as {IRI: None}.

    After a change, `before` are the IRIs listed before it, the first up to the last of them.
    Those the change did not touch still link here (an IRI's links are its own triples), and
    every IRI up to the last either was listed or is one the change `touched`: only those are
    asked about, and if that makes at least `room`, the first `room` are among them. Else every
    IRI is read (0.1–0.3 s for a class at 1 M, where the touched IRIs take a few look-ups)."""
    if before:
        last = max(before)
        found = dict.fromkeys(ox.NamedNode(i) for i in before if i not in touched)
        asked = [ox.NamedNode(t) for t in sorted(touched) if t <= last]
        if asked:
            found |= dict.fromkeys(row["s"] for row in in_chunks(query, fill(INCOMING_AMONG, terms), asked, CHUNK))
        if len(found) >= room:
            return _cut(found, room)
    return _cut(dict.fromkeys(row["s"] for row in query(fill(INCOMING_IRIS_OF, terms))), room)


def _blanks_of(query: Callable[[str], object], terms: dict, room: int, before: dict, holders: list[str] | None,
               touched: set[str]) -> tuple[dict, list[str]]:
    """The first `room` blank nodes of (?, p, o) in link_order, and every IRI holding one.

    Reading them all takes a look-up per blank node for its holder (1.2 s for the 61,000
    qualified associations of 1 M triples). After a change, the holders known before, less those
    the change touched, plus those of the blank nodes the touched IRIs hold, are all of them
    (a blank node's triples are in its graph, with its holder's). When the change removed some
    of the listed blank nodes, the next ones are asked of the holders after the last one
    listed, in order, as many as are missing."""
    def among(iris: list) -> dict:
        return with_holders(in_chunks(query, fill(INCOMING_BLANKS_AMONG, terms), iris, CHUNK), by_property=False)

    if holders is None:  # a build, or blank nodes not read before
        every = with_holders(query(fill(INCOMING_BLANKS_OF, terms)), by_property=False)
        return _cut(every, room), sorted({held[0].value for held in every.values() if held})
    last = max((held[0].value for held in before.values()), default="")
    # the last holder listed may have more blank nodes than were listed: asked with the touched
    fresh = among([ox.NamedNode(t) for t in sorted(touched | {last} if last else touched)])
    holders = sorted({h for h in holders if h not in touched} | {held[0].value for held in fresh.values() if held})
    found = {s: held for s, held in before.items() if held[0].value not in touched} | fresh
    # every link held by an IRI up to `last` is known: those listed before and the fresh ones
    upto, rest = last, [h for h in holders if h > last]
    # each holder holds one or more: as many holders as links are missing, at most CHUNK a question
    while (missing := room - sum(1 for held in found.values() if held and held[0].value <= upto)) > 0 and rest:
        chunk, rest = rest[:min(missing, CHUNK)], rest[min(missing, CHUNK):]
        found |= among([ox.NamedNode(h) for h in chunk])
        upto = chunk[-1]
    known = {s: held for s, held in found.items() if held and held[0].value <= upto}
    if len(known) < room:  # fewer held ones than room: the blank nodes no IRI holds come next
        every = with_holders(query(fill(INCOMING_BLANKS_OF, terms)), by_property=False)
        return _cut(every, room), holders
    return _cut(known, room), holders


def _cut(found: dict, room: int) -> dict:
    return {s: found[s] for s in sorted(found, key=lambda s: link_order(s, found[s]))[:room]}


def link_order(subject, held: tuple | None) -> tuple:
    """The order pages list the subjects of a property's incoming links in: IRIs in IRI order,
    then blank nodes by the IRI stating them and its property (their labels are new with every
    load, so only this order holds from build to build), then blank nodes no IRI states."""
    if not isinstance(subject, ox.BlankNode):
        return term_order(subject)
    return (2, 0, *_iri_pair(held), subject.value) if held else (2, 1, "", "", subject.value)


def with_holders(rows, *, by_property: bool = True) -> dict:
    """(property, subject) → (holder, via) from rows of INCOMING (subject → (holder, via) from the
    queries for one property's blank nodes): for a blank node, the IRI that states it and the
    property it does so by (the least, where several do: the same on every build); None for an
    IRI or a blank node no IRI states."""
    found: dict = {}
    for row in rows:
        key, holder = (row["p"], row["s"]) if by_property else row["s"], row["holder"]
        held = (holder, row["via"]) if holder is not None else None
        if key not in found or held is not None and (found[key] is None or _iri_pair(held) < _iri_pair(found[key])):
            found[key] = held
    return found


def _iri_pair(held: tuple) -> tuple[str, str]:
    return held[0].value, held[1].value


def _held_columns(held: tuple | None) -> tuple[str | None, str | None]:
    """The incoming table's holder and via columns, as N-Triples (like its subject column)."""
    return (str(held[0]), str(held[1])) if held else (None, None)


def term(text: str) -> ox.NamedNode | ox.BlankNode:
    """An IRI or blank node written as N-Triples (the listings store `via` and agents so)."""
    return ox.NamedNode(text[1:-1]) if text.startswith("<") else ox.BlankNode(text[2:])


class Listings:
    """Reads one build's listings file, read-only, through a connection per thread (a page asks
    several times; opening one each time was a tenth of its reading). They close as the Listings
    of a build no longer served is let go."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()

    def _rows(self, sql: str, parameters: tuple) -> list[tuple]:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        return connection.execute(sql, parameters).fetchall()

    def under_concept(self, concept: str, offset: int, limit: int) -> tuple[list[str], int]:
        """One page of the initiatives filed under a concept (or a narrower one), and how many there are."""
        total = self._rows("SELECT COUNT(DISTINCT initiative) FROM filed WHERE concept = ?", (concept,))[0][0]
        rows = self._rows("SELECT DISTINCT initiative FROM filed WHERE concept = ? ORDER BY initiative LIMIT ? OFFSET ?",
                          (concept, limit, offset))
        return [r[0] for r in rows], total

    def initiatives(self, offset: int, limit: int) -> tuple[list[dict], int]:
        """One page of all initiatives — each with its leads, top themes, prefectures and how many
        bodies take part — and how many there are."""
        total = self._rows("SELECT COUNT(*) FROM initiatives", ())[0][0]
        rows = self._rows("SELECT iri, leads, bodies FROM initiatives ORDER BY iri LIMIT ? OFFSET ?", (limit, offset))
        iris = [r[0] for r in rows]
        themes = self._grouped("""SELECT filed.initiative, filed.concept FROM filed JOIN figures ON figures.iri = filed.concept
                                  AND figures.name = 'themes' WHERE filed.via = 'subject' AND filed.initiative IN ({keys})
                                  ORDER BY figures.position""", iris)
        prefectures = self._grouped("SELECT DISTINCT initiative, prefecture FROM in_prefecture WHERE initiative IN ({keys}) "
                                    "ORDER BY prefecture", iris)
        return [{"iri": iri, "leads": leads.split(), "bodies": bodies, "themes": themes.get(iri, []),
                 "prefectures": prefectures.get(iri, [])} for iri, leads, bodies in rows], total

    def in_prefecture(self, prefecture: str, offset: int, limit: int) -> tuple[list[tuple[str, list[str]]], int]:
        """One page of the initiatives in which bodies of a prefecture (or the prefecture) take
        part, each with those bodies, and how many there are."""
        total = self._rows("SELECT COUNT(DISTINCT initiative) FROM in_prefecture WHERE prefecture = ?", (prefecture,))[0][0]
        iris = [r[0] for r in self._rows("SELECT DISTINCT initiative FROM in_prefecture WHERE prefecture = ? "
                                         "ORDER BY initiative LIMIT ? OFFSET ?", (prefecture, limit, offset))]
        bodies = self._grouped("SELECT initiative, body FROM in_prefecture WHERE prefecture = ? AND initiative IN ({keys}) "
                               "ORDER BY body", iris, prefecture)
        return [(iri, bodies.get(iri, [])) for iri in iris], total

    def _grouped(self, sql: str, keys: list[str], *first) -> dict[str, list[str]]:
        """(key, value) rows of `sql` grouped by key; `first`: parameters before the IN list."""
        found: dict[str, list[str]] = {}
        for key, value in self._rows_for(sql, keys, first):
            found.setdefault(key, []).append(value)
        return found

    def pages(self, offset: int, limit: int) -> tuple[list[str], int]:
        """Paths of the site's pages and of every minted resource (for the sitemap), and how many there are."""
        total = self._rows("SELECT COUNT(*) FROM pages", ())[0][0]
        return [r[0] for r in self._rows("SELECT path FROM pages ORDER BY rank, path LIMIT ? OFFSET ?", (limit, offset))], total

    def taking_part(self, agent: str) -> list[tuple[ox.NamedNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | None]]:
        """(role, initiative, via) for every way an agent takes part in an initiative."""
        rows = self._rows("SELECT role, initiative, via FROM taking_part WHERE agent = ? ORDER BY role, initiative, via",
                          (agent,))
        return [(ox.NamedNode(role), ox.NamedNode(initiative), term(via) if via else None) for role, initiative, via in rows]

    def partners(self, agent: str) -> list[tuple[str, str | None]]:
        """(body as N-Triples, role IRI) for every body taking part in an initiative the agent takes
        part in, with each of its roles there; every body associated with one, with None (a target
        grouping). As text: a map makes terms only of the places it draws. Two plain joins made
        distinct and ordered here: SQLite's DISTINCT, UNION and ORDER BY took twice as long."""
        taking = set(self._rows("SELECT theirs.agent, theirs.role FROM taking_part AS mine JOIN taking_part AS theirs "
                                "ON theirs.initiative = mine.initiative WHERE mine.agent = ?", (agent,)))
        associated = set(self._rows("SELECT associated.agent FROM taking_part AS mine JOIN associated "
                                    "ON associated.initiative = mine.initiative WHERE mine.agent = ?", (agent,)))
        return sorted([(f"<{body}>", role) for body, role in taking]  # agents are IRIs, stored bare
                      + [(body, None) for (body,) in associated],  # associated bodies: N-Triples terms
                      key=lambda row: (row[0], row[1] or ""))

    def participants(self) -> list[tuple[str, str, str]]:
        """(agent, role, an initiative where it holds that role) for every role any body holds (the
        home page's map: one row per body and role, not one per initiative)."""
        return self._rows("SELECT agent, role, MIN(initiative) FROM taking_part GROUP BY agent, role ORDER BY agent, role", ())

    def _rows_for(self, sql: str, keys: list[str], first: tuple = ()) -> list[tuple]:
        """Rows of `sql`, whose `{keys}` is an IN list, for every key: asked 500 keys at a time,
        below SQLite's limit on parameters."""
        rows = []
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows += self._rows(sql.format(keys=",".join("?" * len(chunk))), (*first, *chunk))
        return rows

    def places(self, bodies: list[str]) -> dict[str, list[tuple[str, float, float]]]:
        """Where each body is on the map (itself, or a grouping's named members): body → [(place,
        lat, long)], bodies and places as N-Triples."""
        found: dict[str, list] = {}
        for body, place, lat, long in self._rows_for("SELECT body, place, lat, long FROM places WHERE body IN ({keys}) "
                                                     "ORDER BY body, place", list(dict.fromkeys(bodies))):
            found.setdefault(body, []).append((place, lat, long))
        return found

    def labels(self, iris: list[str]) -> dict[str, dict[str, str]]:
        """IRI → {language tag or "": label} for those of `iris` that have a label."""
        found: dict[str, dict[str, str]] = {}
        for iri, lang, label in self._rows_for("SELECT iri, lang, label FROM labels WHERE iri IN ({keys}) ORDER BY iri, lang",
                                               iris):
            found.setdefault(iri, {})[lang] = label
        return found

    def incoming_counts(self, iri: str) -> dict[ox.NamedNode, int]:
        """A busy object's incoming links, counted by property; empty for any other IRI."""
        return {ox.NamedNode(p): n for p, n in self._rows("SELECT predicate, n FROM incoming_counts WHERE object = ?", (iri,))}

    def incoming(self, iri: str, offset: int, limit: int) -> list[tuple[ox.NamedNode, object, tuple | None]]:
        """(property, subject, its holder) links of a busy object, in the order its page lists
        them; the holder is (IRI, property) for a blank node stated by an IRI, else None."""
        return [(ox.NamedNode(p), term(s), (term(h), term(v)) if h else None) for p, s, h, v in self._rows(
            "SELECT predicate, subject, holder, via FROM incoming WHERE object = ? ORDER BY position LIMIT ? OFFSET ?",
            (iri, limit, offset))]

    def figures(self, name: str) -> list[tuple[str, int]]:
        return [(r[0], r[1]) for r in self._rows("SELECT iri, n FROM figures WHERE name = ? ORDER BY position", (name,))]


def make_lookup_files(query: Callable[[str], object], directory: Path, log: Callable[[str], None]) -> None:
    """The files pages read instead of the store: the search index and these listings.

    Made from SPARQL answers only, so a server in front of a remote store makes the same files
    (the build calls this on its staging store, `mirror` on a remote store's new version).
    """
    started = time.perf_counter()
    entries = search.build_index(query, directory / search.INDEX_FILE)
    log(f"indexed {entries} resources for search ({time.perf_counter() - started:.1f} s)")
    started = time.perf_counter()
    filed = build_listings(query, directory / LISTINGS_FILE)
    log(f"listed initiatives under concepts ({filed} rows) and the home page's figures ({time.perf_counter() - started:.1f} s)")
