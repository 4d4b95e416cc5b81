"""The data each kind of HTML page shows. Every page query lives here, in one place.

Each function takes a Reader, the resource IRI and the page language, and returns plain
data (Nodes, strings, lists) for its template. Texts come in the page language, falling
back to Japanese, then English.
"""

from __future__ import annotations

from collections import OrderedDict

import pyoxigraph as ox

from .listings import term
from .namespaces import CONCEPT, GRAPH, KK, ONTOLOGY, PREFIXES
from .reader import PER_PAGE, Node, Reader, compact, page_of, pick

ROLE = CONCEPT + "role/"

# Parts of an initiative whose passages, themes and documents belong to it.
PARTS = ("(kk:hasComponent|kk:hasEvaluation|kk:hasFutureDirection|kk:hasDirection|kk:hasDirection/kk:hasItem"
         "|kk:backgroundEvent|kk:hasComponent/kk:hasFeature|kk:hasComponent/kk:hasChallenge|prov:generated"
         "|kk:basedOn|kk:targetGrouping|kk:setUp)")


def best_text(terms, lang: str) -> str | None:
    """Of some terms, one literal in the page language (or the best fallback)."""
    values = {}
    for literal in terms:
        if isinstance(literal, ox.Literal):
            values.setdefault(literal.language or "", literal.value)
    return pick(values, lang) if values else None


def texts(reader: Reader, subject, predicate: str, lang: str) -> str | None:
    """One literal of a property in the page language (or the best fallback)."""
    return best_text((t.object for t in reader.store.triples(subject, ox.NamedNode(predicate))), lang)


def objects(reader: Reader, subject, predicate: str, lang: str) -> list[Node]:
    return sorted_nodes(reader, [t.object for t in reader.store.triples(subject, ox.NamedNode(predicate))], lang)


def sorted_nodes(reader: Reader, terms: list, lang: str) -> list[Node]:
    return sorted(reader.nodes(terms, lang), key=lambda n: n.text)


def P(name: str) -> str:
    prefix, local = name.split(":", 1)
    return PREFIXES[prefix] + local


class Facts:
    """One resource's own triples, read in one look-up and then asked by property: a page asks a
    dozen properties of the resource and of each of its parts. An initiative page at 1 M triples
    made ~60 look-ups, now ~25: the reading costs the same (it is per triple), but each look-up
    lets the GIL go and takes it back, which under load costs more than the reading
    (architecture §19), and a remote store answers one query instead of a dozen."""

    def __init__(self, reader: Reader, subject):
        self.reader, self.subject = reader, subject
        self.by_property: dict[str, list] = {}
        for t in reader.store.triples(subject):
            self.by_property.setdefault(t.predicate.value, []).append(t.object)

    def text(self, name: str, lang: str) -> str | None:
        """One literal of a property ("dct:title") in the page language (or the best fallback)."""
        return best_text(self.by_property.get(P(name), ()), lang)

    def texts(self, name: str) -> list[Node]:
        return [Node(o) for o in self.by_property.get(P(name), ()) if isinstance(o, ox.Literal)]

    def objects(self, name: str, lang: str) -> list[Node]:
        return sorted_nodes(self.reader, self.by_property.get(P(name), []), lang)


# --- shared pieces ---------------------------------------------------------------------------------

def initiatives_by_role(reader: Reader, agent: ox.NamedNode, lang: str) -> list[dict]:
    """Initiatives an agent takes part in, grouped by role (listed at build time, see listings.py)."""
    rows = reader.listings.taking_part(agent.value)
    labels = reader.labels({t for row in rows for t in row if isinstance(t, ox.NamedNode)}, lang)
    groups: OrderedDict[str, dict] = OrderedDict()
    for role, initiative, via in rows:
        group = groups.setdefault(role.value, {"role": Node(role, labels.get(role.value)), "initiatives": []})
        group["initiatives"].append({"initiative": Node(initiative, labels.get(initiative.value)),
                                     "via": Node(via, labels.get(via.value) if isinstance(via, ox.NamedNode) else None)
                                     if via is not None else None})
    return list(groups.values())


ROLE_ORDER = ("lead", "partner", "secretariat", "lecturer", "external-expert", "member")
_RANK = {key: rank for rank, key in enumerate(ROLE_ORDER)}


def role_key(role: str | None) -> str:
    """A role IRI as the short key maps colour it by ("other" for a role outside our scheme)."""
    key = role.removeprefix(ROLE) if role is not None else ""
    return key if key in ROLE_ORDER else "other"


def _rank(key: str) -> int:
    return _RANK.get(key, len(ROLE_ORDER))


def map_data(reader: Reader, taking_part: list[tuple[str, str | None, str | None]], lang: str) -> dict:
    """Where the bodies in `taking_part` are, from the build's listings: (body as N-Triples, its
    role's IRI or None, the initiative's IRI or None) — text, because a local government's page
    at 1 M triples maps a hundred bodies or more from three hundred rows: terms are made only of
    what is drawn.

    Each place once, in its foremost role; a grouping stands for its named members (role
    "member" unless the grouping itself has a role); a grouping with no named members but a
    count becomes an area, drawn around the lead of the same initiative (else its first place):
    never invented members."""
    places = reader.places([body for body, *_ in taking_part])
    best: dict[str, tuple] = {}  # place → (role key, lat, long)
    anchors: dict = {}  # initiative → (lat, long) of its lead, else of its first place
    areas = []
    for body, role, initiative in taking_part:
        key = role_key(role)
        located = places.get(body, ())
        for place, lat, long in located:
            if role is None and place != body:
                key = "member"
            held = best.get(place)
            if held is None or _rank(key) < _rank(held[0]):
                best[place] = (key, lat, long)
            if initiative not in anchors or key == "lead" and anchors[initiative][0] != "lead":
                anchors[initiative] = (key, lat, long)
        if not located and body.startswith("<"):
            count = texts(reader, term(body), P("kk:memberCount"), lang)
            if count:
                areas.append((body, int(count), initiative))
    drawn = {text: term(text) for text in [*best, *(body for body, *_ in areas)]}
    nodes = dict(zip(drawn, reader.nodes(list(drawn.values()), lang)))
    return {"points": [{"node": nodes[place], "role": key, "lat": lat, "long": long} for place, (key, lat, long) in best.items()],
            "areas": [{"node": nodes[body], "count": count, "lat": anchors[initiative][1], "long": anchors[initiative][2]}
                      for body, count, initiative in dict.fromkeys(areas) if initiative in anchors],
            "role_names": {k: reader.labels([ox.NamedNode(ROLE + k)], lang).get(ROLE + k, k) for k in ROLE_ORDER}}


def prefecture_points(reader: Reader, lang: str) -> list[dict]:
    """The 47 prefectures every map shows (asked once per build and language)."""
    def ask() -> list[dict]:
        rows = reader.select("SELECT ?p ?lat ?long WHERE { ?p a kk:Prefecture ; geo:lat ?lat ; geo:long ?long }", lang)
        return [{"node": r["p"], "lat": float(r["lat"].value), "long": float(r["long"].value)} for r in rows]
    return reader.once(("prefecture_points", lang), ask)


def passages(reader: Reader, subject: ox.NamedNode, lang: str, parts: bool = True) -> list[dict]:
    """The source passages cited by a resource (and its parts), in document order."""
    path = f"kk:sourcePassage|{PARTS}/kk:sourcePassage" if parts else "kk:sourcePassage"
    rows = reader.select(f"""
        SELECT DISTINCT ?passage ?text ?start ?end ?document ?file WHERE {{
          $s$ {path} ?passage .
          ?passage prov:value ?text ; kk:startLine ?start ; kk:endLine ?end ; dct:isPartOf ?document .
          ?document kk:fileName ?file }} ORDER BY ?file ?start""", lang, s=subject)
    return [{"passage": r["passage"], "text": r["text"].value, "start": int(r["start"].value),
             "end": int(r["end"].value), "document": r["document"], "file": r["file"].value} for r in rows]


# --- initiative ------------------------------------------------------------------------------------

def initiative(reader: Reader, iri: str, lang: str) -> dict:
    s = ox.NamedNode(iri)
    associations = reader.select("""
        SELECT ?agent ?role ?where WHERE {
          { $s$ prov:qualifiedAssociation ?a BIND ($s$ AS ?where) }
          UNION { $s$ kk:hasComponent ?where . ?where prov:qualifiedAssociation ?a }
          ?a prov:agent ?agent ; prov:hadRole ?role }
        ORDER BY ?role ?agent""", lang, s=s)
    role_order = {ROLE + r: i for i, r in enumerate(("lead", "partner", "secretariat", "lecturer", "external-expert", "member"))}
    associations.sort(key=lambda a: role_order.get(a["role"].value, 99))
    components = []
    for row in reader.select("""SELECT ?c ?ord WHERE { $s$ kk:hasComponent ?c OPTIONAL { ?c kk:ordinal ?ord } }
                                ORDER BY ?ord ?c""", lang, s=s):
        c = Facts(reader, row["c"].term)
        components.append({
            "node": row["c"], "ordinal": row.get("ord").value if row.get("ord") else None,
            "description": c.text("dct:description", lang),
            "types": c.objects("kk:activityType", lang), "themes": c.objects("dct:subject", lang),
            "topics": c.texts("kk:topic"), "survey_items": c.texts("kk:surveyItem"), "audience": c.texts("kk:targetAudience"),
            "agents": c.objects("prov:wasAssociatedWith", lang),
            "features": [texts(reader, f.term, P("dct:description"), lang) for f in c.objects("kk:hasFeature", lang)],
            "challenges": [texts(reader, f.term, P("dct:description"), lang) for f in c.objects("kk:hasChallenge", lang)],
        })
    meetings = [{"node": r["m"], "body": r["body"], "date": (r.get("date") or r.get("fy")),
                 "fiscal": "fy" in r and "date" not in r,
                 "description": texts(reader, r["m"].term, P("dct:description"), lang)}
                for r in reader.select("""
        SELECT ?m ?body ?date ?fy WHERE { $s$ kk:backgroundEvent ?m . ?m kk:meetingOf ?body
          OPTIONAL { ?m dct:date ?date } OPTIONAL { ?m kk:fiscalYear ?fy }
          BIND (COALESCE(STR(?date), CONCAT(STR(?fy), "-04")) AS ?key) } ORDER BY ?key""", lang, s=s)]
    documents = reader.select("""
        SELECT DISTINCT ?doc ?kind ?created ?relation WHERE {
          { $s$ (kk:hasComponent|kk:backgroundEvent)?/prov:generated ?doc BIND ("generated" AS ?relation) }
          UNION { $s$ kk:hasComponent?/kk:basedOn|kk:hasFutureDirection/prov:wasDerivedFrom ?doc BIND ("used" AS ?relation) }
          ?doc a ?kind . ?kind rdfs:subClassOf kk:Document . OPTIONAL { ?doc dct:created ?created } }
        ORDER BY ?relation ?doc""", lang, s=s)
    evaluation = None
    for row in reader.select("SELECT ?e WHERE { $s$ kk:hasEvaluation ?e }", lang, s=s):
        e = Facts(reader, row["e"].term)
        evaluation = {"node": row["e"], "text": e.text("dct:description", lang), "audiences": e.objects("kk:usefulFor", lang)}
    futures = [{"node": r["f"], "text": texts(reader, r["f"].term, P("dct:description"), lang), "horizon": r.get("h")}
               for r in reader.select("""SELECT ?f ?ord ?h WHERE { $s$ kk:hasFutureDirection ?f
                   OPTIONAL { ?f kk:ordinal ?ord } OPTIONAL { ?f kk:timeHorizon ?h } } ORDER BY ?ord""", lang, s=s)]
    directions = []
    for row in reader.select("SELECT ?d ?ord WHERE { $s$ kk:hasDirection ?d OPTIONAL { ?d kk:ordinal ?ord } } ORDER BY ?ord",
                             lang, s=s):
        items = reader.select("""SELECT ?i ?ord WHERE { $d$ kk:hasItem ?i OPTIONAL { ?i kk:ordinal ?ord } } ORDER BY ?ord""",
                              lang, d=row["d"].term)
        directions.append({"node": row["d"], "items": [{"node": i["i"], "themes": objects(reader, i["i"].term, P("dct:subject"), lang)}
                                                      for i in items]})
    own = Facts(reader, s)
    groupings = []
    for g in own.objects("kk:targetGrouping", lang):
        grouping = Facts(reader, g.term)
        groupings.append({"node": g, "members": grouping.objects("foaf:member", lang), "count": grouping.text("kk:memberCount", lang)})
    # a grouping taking part that the source gives only as a count ("1市6町1村"): its count, for the diagram
    counted = {a["agent"].iri: texts(reader, a["agent"].term, P("kk:memberCount"), lang) for a in associations
               if a["agent"].iri and not reader.store.triples(a["agent"].term, ox.NamedNode(P("foaf:member")))}
    taking_part = [(str(a["agent"].term), a["role"].iri, None) for a in associations if a["agent"].iri]
    taking_part += [(str(g["node"].term), None, None) for g in groupings]
    return {
        "title": own.text("dct:title", lang), "titles": own.texts("dct:title"),
        "description": own.text("dct:description", lang), "note": own.text("skos:editorialNote", lang),
        "fiscal_year": own.text("kk:fiscalYear", lang), "category": own.objects("kk:programmeCategory", lang),
        "themes": own.objects("dct:subject", lang),
        "associations": associations, "components": components, "meetings": meetings,
        "documents": documents, "evaluation": evaluation, "futures": futures, "directions": directions,
        "groupings": groupings, "counted": {iri: n for iri, n in counted.items() if n}, "councils": own.objects("kk:setUp", lang),
        "builds_on": own.objects("kk:buildsOn", lang),
        "built_upon_by": reader.nodes([t.subject for t in reader.store.triples(None, ox.NamedNode(P("kk:buildsOn")), s)], lang),
        "sources": own.objects("dct:source", lang),
        "passages": passages(reader, s, lang),
        "map": map_data(reader, taking_part, lang),
    }


# --- local governments and other organisations -----------------------------------------------------

def organisation(reader: Reader, iri: str, lang: str, page: int = 1) -> dict:
    s = ox.NamedNode(iri)
    roles = initiatives_by_role(reader, s, lang)
    taking_part = [(str(s), group["role"].iri, None) for group in roles] + [
        (body, role, None) for body, role in reader.listings.partners(iri)]
    own = Facts(reader, s)
    return {
        "name": own.text("skos:prefLabel", lang), "names": own.texts("skos:prefLabel"),
        "kana": own.text("kk:nameKana", lang), "code": own.text("kk:localGovernmentCode", lang),
        "types": own.objects("rdf:type", lang), "prefecture": own.objects("kk:prefecture", lang),
        "parent_city": own.objects("kk:parentCity", lang), "homepage": own.objects("foaf:homepage", lang),
        "estat": own.objects("skos:exactMatch", lang),
        "member_of": reader.nodes([t.subject for t in reader.store.triples(None, ox.NamedNode(P("foaf:member")), s)], lang),
        "members": own.objects("foaf:member", lang),
        "description": own.text("dct:description", lang), "comment": own.text("rdfs:comment", lang),
        "roles": roles,
        "passages": passages(reader, s, lang, parts=False),
        "map": map_data(reader, taking_part, lang),
        "highlight": iri,
        # a prefecture: the initiatives its bodies take part in, with those bodies
        "in_prefecture": paged(page, lambda offset, limit: reader.listings.in_prefecture(iri, offset, limit),
                               lambda rows: [{"initiative": reader.node(ox.NamedNode(i), lang),
                                              "bodies": reader.nodes([ox.NamedNode(b) for b in bodies], lang)}
                                             for i, bodies in rows]),
    }


# --- concepts and schemes ---------------------------------------------------------------------------

def concept(reader: Reader, iri: str, lang: str, page: int = 1) -> dict:
    own = Facts(reader, ox.NamedNode(iri))
    return {
        "label": own.text("skos:prefLabel", lang), "labels": own.texts("skos:prefLabel"),
        "definition": own.text("skos:definition", lang), "scheme": own.objects("skos:inScheme", lang),
        "broader": own.objects("skos:broader", lang), "narrower": own.objects("skos:narrower", lang),
        "initiatives": paged(page, lambda offset, limit: reader.listings.under_concept(iri, offset, limit),
                             lambda iris: reader.nodes([ox.NamedNode(i) for i in iris], lang)),
    }


_FURTHEST_PAGE = (2 ** 63 - 1) // PER_PAGE  # its offset is still an integer SQLite takes (?page=10**25 was a 500)


def paged(page: int, fetch, show) -> dict:
    """One page of a listing: `fetch(offset, limit)` gives (items, total), `show(items)` what to show.
    The page asked is fetched at once (its count comes with it); a page past the last, again as the last."""
    asked = min(max(page, 1), _FURTHEST_PAGE)
    items, total = fetch((asked - 1) * PER_PAGE, PER_PAGE)
    pages, page = page_of(total, asked)
    if page != asked:
        items, _ = fetch((page - 1) * PER_PAGE, PER_PAGE)
    return {"items": show(items), "total": total, "page": page, "pages": pages}


def scheme(reader: Reader, iri: str, lang: str) -> dict:
    s = ox.NamedNode(iri)
    rows = reader.select("""SELECT DISTINCT ?c ?b WHERE { ?c skos:inScheme $s$ OPTIONAL { ?c skos:broader ?b } }""", lang, s=s)
    children: dict[str | None, list[Node]] = {}
    for r in rows:
        children.setdefault(r["b"].iri if "b" in r else None, []).append(r["c"])

    def tree(parent: str | None) -> list[dict]:
        return [{"node": n, "children": tree(n.iri)} for n in sorted(children.get(parent, []), key=lambda n: n.text)]

    return {"label": texts(reader, s, P("skos:prefLabel"), lang), "definition": texts(reader, s, P("skos:definition"), lang),
            "tree": tree(None)}


# --- sources -------------------------------------------------------------------------------------------

def source(reader: Reader, iri: str, lang: str) -> dict:
    s = ox.NamedNode(iri)
    rows = reader.select("""
        SELECT ?p ?start ?end ?text WHERE { ?p dct:isPartOf $s$ ; kk:startLine ?start ; kk:endLine ?end ; prov:value ?text }
        ORDER BY ?start ?end""", lang, s=s)
    items = []
    for r in rows:
        citing = reader.nodes(sorted({t.subject for t in reader.store.triples(None, ox.NamedNode(P("kk:sourcePassage")), r["p"].term)
                                      if isinstance(t.subject, ox.NamedNode)}, key=lambda t: t.value), lang)
        items.append({"passage": r["p"], "start": int(r["start"].value), "end": int(r["end"].value),
                      "text": r["text"].value, "citing": citing})
    own = Facts(reader, s)
    return {"title": own.text("dct:title", lang), "description": own.text("dct:description", lang),
            "files": own.texts("kk:fileName"), "sha256": own.text("kk:sha256", lang),
            "license": own.objects("dct:license", lang), "passages": items}


# --- the ontology and the shapes -----------------------------------------------------------------------

def ontology(reader: Reader, lang: str) -> dict:
    graph = ox.NamedNode(GRAPH + "ontology/kouiki")
    usage = {r["term"].value: int(r["n"].value) for r in reader.select("""
        SELECT ?term ?n WHERE { GRAPH <https://w3id.org/kouiki/graph/dataset> {
          { ?p void:class ?term ; void:entities ?n } UNION { ?p void:property ?term ; void:triples ?n } } }""", lang)}

    def in_graph(subject, predicate):
        return [q.object for q in reader.store.iter_quads(subject, ox.NamedNode(predicate), None, graph)]

    def term_entry(term: ox.NamedNode) -> dict:
        def literal(predicate):
            values = {o.language or "": o.value for o in in_graph(term, predicate) if isinstance(o, ox.Literal)}
            return values
        subs = [q.subject for pred in (P("rdfs:subClassOf"), P("rdfs:subPropertyOf"))
                for q in reader.store.iter_quads(None, ox.NamedNode(pred), term, graph)]
        return {
            "node": reader.node(term, lang), "anchor": term.value.split("#", 1)[1],
            "labels": literal(P("rdfs:label")), "comments": literal(P("rdfs:comment")),
            "super": reader.nodes(in_graph(term, P("rdfs:subClassOf")) + in_graph(term, P("rdfs:subPropertyOf")), lang),
            "sub": reader.nodes(subs, lang),
            "domain": reader.nodes(in_graph(term, P("rdfs:domain")), lang),
            "range": reader.nodes(in_graph(term, P("rdfs:range")), lang),
            "inverse": reader.nodes(in_graph(term, P("owl:inverseOf")), lang),
            "usage": usage.get(term.value, 0),
        }

    def of_type(cls: str) -> list[dict]:
        terms = sorted({q.subject for q in reader.store.iter_quads(None, ox.NamedNode(P("rdf:type")), ox.NamedNode(cls), graph)
                        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(KK)}, key=lambda t: t.value)
        return [term_entry(t) for t in terms]

    header = ox.NamedNode(ONTOLOGY)
    meta = {p: [q.object for q in reader.store.iter_quads(header, ox.NamedNode(P(p)), None, graph)]
            for p in ("dct:title", "rdfs:comment", "owl:versionInfo", "owl:versionIRI", "dct:license", "dct:created",
                      "dct:modified", "dct:creator")}
    return {
        "title": pick({o.language or "": o.value for o in meta["dct:title"]}, lang),
        "comment": pick({o.language or "": o.value for o in meta["rdfs:comment"]}, lang),
        "version": meta["owl:versionInfo"][0].value if meta["owl:versionInfo"] else "",
        "version_iri": meta["owl:versionIRI"][0].value if meta["owl:versionIRI"] else "",
        "license": meta["dct:license"][0].value if meta["dct:license"] else "",
        "created": meta["dct:created"][0].value if meta["dct:created"] else "",
        "modified": meta["dct:modified"][0].value if meta["dct:modified"] else "",
        "classes": of_type(P("owl:Class")),
        "object_properties": of_type(P("owl:ObjectProperty")),
        "datatype_properties": of_type(P("owl:DatatypeProperty")),
        "individuals": of_type(P("owl:NamedIndividual")),
    }


CONSTRAINTS = ("minCount", "maxCount", "datatype", "class", "node", "in", "hasValue", "pattern", "languageIn",
               "uniqueLang", "minInclusive", "maxInclusive", "nodeKind", "qualifiedMinCount", "qualifiedMaxCount")


def shapes(reader: Reader, lang: str) -> dict:
    graph = ox.NamedNode(GRAPH + "shapes/kouiki-shapes")
    sh = PREFIXES["sh"]
    # the whole document in one answer, walked here: its RDF lists run deeper into blank nodes than
    # a remote store's look-ups follow, and a blank node cannot be named in a later query
    document = ox.Store()
    document.extend(reader.store.iter_quads(graph=graph))

    def values(subject, name):
        return [q.object for q in document.quads_for_pattern(subject, ox.NamedNode(sh + name), None, graph)]

    def show(term) -> str:
        if isinstance(term, ox.Literal):
            return term.value
        if isinstance(term, ox.BlankNode):  # an RDF list (sh:in, sh:or …) or a path
            items, node = [], term
            while node is not None and not (isinstance(node, ox.NamedNode) and node.value.endswith("#nil")):
                first = [q.object for q in document.quads_for_pattern(node, ox.NamedNode(P("rdf:first")), None, graph)]
                if not first:
                    inner = {n: values(node, n) for n in ("inversePath", "alternativePath", "class", "datatype",
                                                           "languageIn", "path", "minCount", "hasValue")}
                    parts = [f"{'^' if n == 'inversePath' else ''}{'sh:' + n + ' ' if n not in ('inversePath',) else ''}"
                             f"{' '.join(show(v) for v in vs)}" for n, vs in inner.items() if vs]
                    return "[ " + " ; ".join(parts) + " ]"
                items.append(show(first[0]))
                rest = [q.object for q in document.quads_for_pattern(node, ox.NamedNode(P("rdf:rest")), None, graph)]
                node = rest[0] if rest else None
            return "( " + " ".join(items) + " )"
        return compact(term.value)

    def message(subject) -> str:
        return pick({m.language or "": m.value for m in values(subject, "message")}, lang) or ""

    result = []
    node_shapes = sorted({q.subject for q in document.quads_for_pattern(None, ox.NamedNode(P("rdf:type")),
                                                                     ox.NamedNode(sh + "NodeShape"), graph)},
                         key=lambda t: t.value)
    for shape in node_shapes:
        labels = {o.language or "": o.value for o in document.quads_for_pattern(shape, ox.NamedNode(P("rdfs:label")), None, graph)
                  for o in [o.object]}
        properties = []
        for prop in values(shape, "property"):
            constraints = [(name, ", ".join(show(v) for v in values(prop, name))) for name in CONSTRAINTS if values(prop, name)]
            if values(prop, "qualifiedValueShape"):
                constraints.append(("qualifiedValueShape", show(values(prop, "qualifiedValueShape")[0])))
            properties.append({"path": show(values(prop, "path")[0]) if values(prop, "path") else "",
                               "constraints": constraints, "message": message(prop)})
        # property shapes and SPARQL constraints are blank nodes, which the store orders by their
        # labels, new at every build: ordered by what they say, the page reads the same from build to build
        properties.sort(key=lambda p: (p["path"], p["constraints"], p["message"]))
        sparql = sorted(({"message": message(c), "select": values(c, "select")[0].value.strip() if values(c, "select") else ""}
                         for c in values(shape, "sparql")), key=lambda c: (c["select"], c["message"]))
        node_constraints = [(name, ", ".join(show(v) for v in values(shape, name))) for name in ("pattern", "nodeKind", "or")
                            if values(shape, name)]
        result.append({
            "name": compact(shape.value), "anchor": shape.value.split("#", 1)[-1],
            "label": pick(labels, lang) if labels else compact(shape.value),
            "targets": [show(t) for n in ("targetClass", "targetObjectsOf", "targetSubjectsOf") for t in values(shape, n)],
            "constraints": node_constraints, "message": message(shape), "properties": properties, "sparql": sparql,
        })
    return {"shapes": result}


# --- home ----------------------------------------------------------------------------------------------

def home(reader: Reader, lang: str, page: int = 1) -> dict:
    """The home page: figures and listings the build answered once (see listings.py)."""
    listings = reader.listings

    def figure(name: str) -> list[dict]:
        rows = listings.figures(name)
        nodes = reader.nodes([ox.NamedNode(iri) for iri, _ in rows], lang)
        return [{"node": node, "n": n} for node, (_, n) in zip(nodes, rows)]

    def with_leads(rows: list[dict]) -> list[dict]:
        return [{"initiative": reader.node(ox.NamedNode(row["iri"]), lang), "bodies": row["bodies"],
                 **{part: reader.nodes([ox.NamedNode(i) for i in row[part]], lang) for part in ("leads", "themes", "prefectures")}}
                for row in rows]

    return {"counts": dict(listings.figures("counts")), "themes": figure("themes"), "categories": figure("categories"),
            "prefectures": figure("prefectures"), "roles": figure("roles"),
            "initiatives": paged(page, listings.initiatives, with_leads)}


def home_map(reader: Reader, lang: str) -> dict:
    """Every body taking part in anything, for the home page's map (map_data)."""
    return map_data(reader, [(f"<{agent}>", role, initiative)
                             for agent, role, initiative in reader.listings.participants()], lang)
