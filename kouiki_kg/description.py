"""The dataset's own description — DCAT-AP 3 catalog, dataset, distributions, data service and
VoID statistics — and the SPARQL service description. Written at build time from the new
store's statistics, loaded into it as the graph ``graph/dataset``, served at /dataset.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import asdict, dataclass, field
from typing import Callable

import pyoxigraph as ox

from .namespaces import BASE, DATASET, ENDPOINT, GRAPH, KK, QUERY_BASE

CATALOG = DATASET + "#catalog"
SERVICE = DATASET + "#sparql-service"
PUBLISHER = DATASET + "#publisher"
CONTACT = DATASET + "#contact"
DESCRIPTION_GRAPH = GRAPH + "dataset"
DESCRIPTION_FILE = "dataset.ttl"  # in the build directory
STATISTICS_FILE = "statistics.json"  # what it was made from, for the next publish (increment.py)
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
ISSUED = "2026-11-22"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
PUBLIC_DATA_LICENSE = "https://www.digital.go.jp/resources/open_data/public_data_license_v1.0"
CC0 = "https://creativecommons.org/publicdomain/zero/1.0/"

# name → (file name, IANA media type, EU file type, ja, en)
DUMPS = {
    "nq": ("kouiki.nq.gz", "application/n-quads", "RDF_N_QUADS", "全グラフ（N-Quads、gzip 圧縮、名前付きグラフ付き）",
           "The whole graph as N-Quads (gzip), with the named graphs"),
    "ttl": ("kouiki.ttl.gz", "text/turtle", "RDF_TURTLE", "全グラフ（Turtle、gzip 圧縮、全グラフを統合）",
            "The whole graph as Turtle (gzip), all graphs merged"),
    "jsonld": ("kouiki.jsonld.gz", "application/ld+json", "JSON_LD", "全グラフ（JSON-LD、gzip 圧縮、名前付きグラフ付き）",
               "The whole graph as JSON-LD (gzip), with the named graphs"),
}
DUMP_FILES = {name: spec[0] for name, spec in DUMPS.items()}  # short name → file name under dumps/
DUMP_BASE = BASE + "dumps/"

VOCABULARIES = ("https://w3id.org/kouiki/ontology#", "http://www.w3.org/ns/prov#", "http://www.w3.org/ns/org#",
                "http://www.w3.org/2004/02/skos/core#", "http://purl.org/dc/terms/", "http://xmlns.com/foaf/0.1/",
                "http://www.w3.org/2003/01/geo/wgs84_pos#")


@dataclass
class Statistics:
    triples: int = 0
    entities: int = 0
    distinct_subjects: int = 0
    distinct_objects: int = 0
    initiatives: int = 0
    local_governments: int = 0
    classes: dict[str, int] = field(default_factory=dict)  # class → entities
    properties: dict[str, int] = field(default_factory=dict)  # property → triples
    estat_links: int = 0
    start: str | None = None  # xsd:date of the earliest date or fiscal year in the data
    end: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # min lat, min long, max lat, max long
    themes: list[tuple[str, str, str]] = field(default_factory=list)  # top themes: (IRI, ja label, en label)


def _value(row, name):
    term = row[name]
    return None if term is None else term.value


def _date_span(values: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """(kind, lexical) dates → first and last day covered; fiscal years run April to March."""
    starts, ends = [], []
    for kind, lexical in values:
        try:
            parts = [int(p[:4]) for p in lexical.split("-")[:3]]  # time zones aside
            if len(parts) > 1:
                calendar.monthrange(parts[0], parts[1])
        except (ValueError, calendar.IllegalMonthError):  # refused by the check before a build gets here
            continue
        if kind == "fiscalYear":
            starts.append(f"{parts[0]:04d}-04-01")
            ends.append(f"{parts[0] + 1:04d}-03-31")
        elif len(parts) == 1:
            starts.append(f"{parts[0]:04d}-01-01")
            ends.append(f"{parts[0]:04d}-12-31")
        elif len(parts) == 2:
            last = calendar.monthrange(parts[0], parts[1])[1]
            starts.append(f"{parts[0]:04d}-{parts[1]:02d}-01")
            ends.append(f"{parts[0]:04d}-{parts[1]:02d}-{last:02d}")
        else:
            day = f"{parts[0]:04d}-{parts[1]:02d}-{parts[2]:02d}"
            starts.append(day)
            ends.append(day)
    return (min(starts), max(ends)) if starts else (None, None)


def gather_statistics(query: Callable[[str], object], triples: int) -> Statistics:
    """VoID and DCAT figures from the new store (query runs SPARQL over the union graph)."""
    stats = Statistics(triples=triples)
    row = next(iter(query("""SELECT (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects)
                             WHERE { ?s ?p ?o }""")))
    stats.distinct_subjects, stats.distinct_objects = int(_value(row, "subjects")), int(_value(row, "objects"))
    row = next(iter(query("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o FILTER isIRI(?s) }")))
    stats.entities = int(_value(row, "n"))
    stats.classes = {_value(r, "c"): int(_value(r, "n")) for r in query(
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY ?c")}
    stats.properties = {_value(r, "p"): int(_value(r, "n")) for r in query(
        "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p")}
    _cheap_statistics(stats, query)
    return stats


DATE_PROPERTIES = {"http://purl.org/dc/terms/date", "http://purl.org/dc/terms/created", KK + "fiscalYear"}


def _cheap_statistics(stats: Statistics, query: Callable[[str], object], dates_changed: bool = True) -> None:
    """The figures one indexed look-up or a small answer gives: asked again after any change (the
    span of dates only if a date changed)."""
    stats.initiatives = stats.classes.get(KK + "Initiative", 0)
    row = next(iter(query("SELECT (COUNT(?lg) AS ?n) WHERE { ?lg kk:localGovernmentCode ?c }")))
    stats.local_governments = int(_value(row, "n"))
    row = next(iter(query("""SELECT (COUNT(*) AS ?n) WHERE { ?s skos:exactMatch ?o
                             FILTER STRSTARTS(STR(?o), "http://data.e-stat.go.jp/") }""")))
    stats.estat_links = int(_value(row, "n"))
    if dates_changed:
        _date_statistics(stats, query)
    row = next(iter(query("""SELECT (MIN(?lat) AS ?a) (MIN(?long) AS ?b) (MAX(?lat) AS ?c) (MAX(?long) AS ?d)
                             WHERE { ?s geo:lat ?lat ; geo:long ?long }""")))
    stats.bbox = tuple(float(_value(row, k)) for k in "abcd") if _value(row, "a") is not None else None
    stats.themes = [(_value(r, "t"), _value(r, "ja"), _value(r, "en")) for r in query("""
        SELECT ?t ?ja ?en WHERE { <https://w3id.org/kouiki/concept/theme> skos:hasTopConcept ?t .
          ?t skos:prefLabel ?ja , ?en FILTER (lang(?ja) = "ja" && lang(?en) = "en") } ORDER BY ?t""")]


def _date_statistics(stats: Statistics, query: Callable[[str], object]) -> None:
    dates = [(_value(r, "kind"), _value(r, "d")) for r in query("""
        SELECT ?kind ?d WHERE {
          { ?s dct:date ?d BIND ("date" AS ?kind) } UNION { ?s dct:created ?d BIND ("date" AS ?kind) }
          UNION { ?s kk:fiscalYear ?d BIND ("fiscalYear" AS ?kind) }
          FILTER (datatype(?d) IN (xsd:date, xsd:gYearMonth, xsd:gYear, xsd:integer)) }""")]
    stats.start, stats.end = _date_span(dates)


def updated_statistics(previous: Statistics, query: Callable[[str], object], removed: list, added: list,
                       elsewhere: Callable[..., bool]) -> Statistics:
    """The statistics after some graphs' triples were replaced (`removed`, `added`: pyoxigraph
    triples), from the ones before, without counting the whole store again (the distinct counts
    took 2 s at 1 M triples): a term counts as it appears or vanishes. `elsewhere(subject=…,
    predicate=…, object=…)` says whether another graph states a matching triple."""
    stats = Statistics(**{**asdict(previous), "classes": dict(previous.classes), "properties": dict(previous.properties)})
    stats.triples += len(added) - len(removed)

    def moved(before: set, after: set, is_elsewhere) -> int:
        """How many more distinct terms (or pairs) there are: each one in either set, once."""
        delta = 0
        for item in before | after:
            if (item in before) != (item in after) and not is_elsewhere(item):
                delta += 1 if item in after else -1
        return delta

    old_s, new_s = {t.subject for t in removed}, {t.subject for t in added}
    stats.distinct_subjects += moved(old_s, new_s, lambda s: elsewhere(subject=s))
    stats.distinct_objects += moved({t.object for t in removed}, {t.object for t in added}, lambda o: elsewhere(object=o))
    stats.entities += moved({s for s in old_s if isinstance(s, ox.NamedNode)}, {s for s in new_s if isinstance(s, ox.NamedNode)},
                            lambda s: elsewhere(subject=s))
    rdf_type = ox.NamedNode(RDF_TYPE)
    old_c, new_c = ({(t.subject, t.object) for t in triples if t.predicate == rdf_type} for triples in (removed, added))
    for pair in old_c ^ new_c:
        if not elsewhere(subject=pair[0], predicate=rdf_type, object=pair[1]):
            stats.classes[pair[1].value] = stats.classes.get(pair[1].value, 0) + (1 if pair in new_c else -1)
    for triples, sign in ((removed, -1), (added, 1)):
        for t in triples:
            stats.properties[t.predicate.value] = stats.properties.get(t.predicate.value, 0) + sign
    stats.classes = {c: n for c, n in sorted(stats.classes.items()) if n}  # as the GROUP BY … ORDER BY lists them
    stats.properties = {p: n for p, n in sorted(stats.properties.items()) if n}
    _cheap_statistics(stats, query, dates_changed=any(t.predicate.value in DATE_PROPERTIES
                                                      for t in set(removed) ^ set(added)))
    return stats


def statistics_json(stats: Statistics) -> str:
    return json.dumps(asdict(stats), ensure_ascii=False, indent=1)


def statistics_from_json(text: str) -> Statistics:
    data = json.loads(text)
    data["bbox"] = tuple(data["bbox"]) if data["bbox"] is not None else None
    data["themes"] = [tuple(t) for t in data["themes"]]
    return Statistics(**data)


def _lit(text: str, lang: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"' + (f"@{lang}" if lang else "")


def description_turtle(stats: Statistics, modified: str, version: str) -> str:
    """The DCAT-AP 3 + VoID description of the catalog, dataset, dumps and SPARQL service.

    `version` identifies the build's content (its input hash): a server reading a remote store
    learns from it which data it is serving.
    """
    themes = " , ".join(f"<{t}>" for t, _, _ in stats.themes)
    theme_concepts = "\n".join(f"<{t}> a skos:Concept ; skos:inScheme <https://w3id.org/kouiki/concept/theme> ; "
                               f"skos:prefLabel {_lit(ja, 'ja')} , {_lit(en, 'en')} ." for t, ja, en in stats.themes)
    media_types = "\n".join(f"<https://www.iana.org/assignments/media-types/{m}> a dct:MediaType ." for m in
                            sorted({spec[1] for spec in DUMPS.values()} | {"application/gzip"}))
    file_types = "\n".join(f"<http://publications.europa.eu/resource/authority/file-type/{t}> a dct:MediaTypeOrExtent ."
                           for t in sorted({spec[2] for spec in DUMPS.values()} | {"SPARQLQ"}))
    keywords = ("広域連携", "地方公共団体", "モデル事業", "Linked Open Data", "inter-municipal collaboration",
                "local government")
    keyword_list = " , ".join(_lit(k, "ja" if not k.isascii() else "en") for k in keywords)
    temporal = ""
    if stats.start:
        temporal = f"""    dct:temporal [ a dct:PeriodOfTime ; dcat:startDate "{stats.start}"^^xsd:date ;
                   dcat:endDate "{stats.end}"^^xsd:date ] ;\n"""
    spatial_shape = ""
    if stats.bbox:
        a, b, c, d = stats.bbox
        spatial_shape = (f'    dcat:bbox "POLYGON(({b} {a}, {d} {a}, {d} {c}, {b} {c}, {b} {a}))"^^gsp:wktLiteral ;\n'
                         f'    dcat:centroid "POINT({(b + d) / 2:.4f} {(a + c) / 2:.4f})"^^gsp:wktLiteral ;\n')
    class_partitions = "\n".join(
        f"    void:classPartition [ void:class <{c}> ; void:entities {n} ] ;" for c, n in stats.classes.items())
    property_partitions = "\n".join(
        f"    void:propertyPartition [ void:property <{p}> ; void:triples {n} ] ;" for p, n in stats.properties.items())
    distributions = " , ".join(f"<{DATASET}#dump-{name}>" for name in DUMPS) + f" , <{DATASET}#sparql>"
    dump_resources = "\n".join(f"""<{DATASET}#dump-{name}> a dcat:Distribution ;
    dct:title {_lit(ja, "ja")} , {_lit(en, "en")} ;
    dct:description {_lit(ja, "ja")} , {_lit(en, "en")} ;
    dcat:accessURL <{DUMP_BASE}{file}> ;
    dcat:downloadURL <{DUMP_BASE}{file}> ;
    dcat:mediaType <https://www.iana.org/assignments/media-types/{media}> ;
    dcat:compressFormat <https://www.iana.org/assignments/media-types/application/gzip> ;
    dct:format <http://publications.europa.eu/resource/authority/file-type/{eu}> ;
    dct:license <{LICENSE}> ;
    dcatap:availability <http://publications.europa.eu/resource/authority/planned-availability/STABLE> .
""" for name, (file, media, eu, ja, en) in DUMPS.items())
    vocabularies = " , ".join(f"<{v}>" for v in VOCABULARIES)
    return f"""# Generated at build time by kouiki_kg/dataset.py: do not edit.
@prefix dcat:   <http://www.w3.org/ns/dcat#> .
@prefix dcatap: <http://data.europa.eu/r5r/> .
@prefix dct:    <http://purl.org/dc/terms/> .
@prefix foaf:   <http://xmlns.com/foaf/0.1/> .
@prefix void:   <http://rdfs.org/ns/void#> .
@prefix vcard:  <http://www.w3.org/2006/vcard/ns#> .
@prefix skos:   <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd:    <http://www.w3.org/2001/XMLSchema#> .
@prefix gsp:    <http://www.opengis.net/ont/geosparql#> .
@prefix rdfs:   <http://www.w3.org/2000/01/rdf-schema#> .
@prefix prov:   <http://www.w3.org/ns/prov#> .

<{CATALOG}> a dcat:Catalog ;
    dct:title "広域連携ナレッジグラフ カタログ"@ja , "Kouiki KG catalog"@en ;
    dct:description "日本の地方公共団体による広域連携の取組を Linked Open Data として公開するカタログ。"@ja ,
        "Catalog of the linked open data on inter-municipal collaboration between Japanese local governments."@en ;
    dct:publisher <{PUBLISHER}> ;
    foaf:homepage <{BASE}> ;
    dct:language <http://publications.europa.eu/resource/authority/language/JPN> ,
        <http://publications.europa.eu/resource/authority/language/ENG> ;
    dct:license <{LICENSE}> ;
    dct:issued "{ISSUED}"^^xsd:date ;
    dct:modified "{modified}"^^xsd:dateTime ;
    dct:spatial <http://publications.europa.eu/resource/authority/country/JPN> ;
    dcat:themeTaxonomy <https://w3id.org/kouiki/concept/theme> ;
    dcat:dataset <{DATASET}> ;
    dcat:service <{SERVICE}> .

<{DATASET}> a dcat:Dataset , void:Dataset ;
    dct:title "広域連携ナレッジグラフ"@ja , "Kouiki KG: Japanese inter-municipal collaboration"@en ;
    dct:description {_lit(f"広域連携モデル事業の報告書に記された取組（{stats.initiatives}件）と、その主体・役割・テーマ・構成活動・会議・成果物・評価、全国{stats.local_governments}の地方公共団体の典拠データ。すべての事実は出典箇所にたどれる。", "ja")} ,
        {_lit(f"The {stats.initiatives} inter-municipal collaboration initiatives of the ministry's model-project reports, with their bodies, roles, themes, activities, meetings, artefacts and evaluations, and authority data for all {stats.local_governments} Japanese local governments. Every fact is traceable to its source passage.", "en")} ;
    dct:publisher <{PUBLISHER}> ;
    dcat:contactPoint <{CONTACT}> ;
    dct:license <{LICENSE}> ;
    dct:language <http://publications.europa.eu/resource/authority/language/JPN> ,
        <http://publications.europa.eu/resource/authority/language/ENG> ;
    dct:issued "{ISSUED}"^^xsd:date ;
    dct:modified "{modified}"^^xsd:dateTime ;
    dcat:version "{version}" ;
    dct:spatial <http://publications.europa.eu/resource/authority/country/JPN> ;
{temporal}    dcat:theme {themes} ;
    dcat:keyword {keyword_list} ;
    dct:conformsTo <https://w3id.org/kouiki/ontology> , <https://w3id.org/kouiki/shapes> ;
    prov:wasDerivedFrom <https://w3id.org/kouiki/source/000_05f34e0fc86adcb0> ,
        <https://w3id.org/kouiki/source/003_0fbe08a3f1deeb3d> , <https://w3id.org/kouiki/source/localgovjp> ;
    dcat:distribution {distributions} ;
    void:sparqlEndpoint <{ENDPOINT}> ;
{chr(10).join(f"    void:dataDump <{DUMP_BASE}{file}> ;" for file, *_ in DUMPS.values())}
    void:uriSpace "{BASE}id/" ;
    void:vocabulary {vocabularies} ;
    void:exampleResource <{BASE}id/initiative/hachinohe-bus-network> , <{BASE}id/lg/022039> ;
    void:triples {stats.triples} ;
    void:entities {stats.entities} ;
    void:distinctSubjects {stats.distinct_subjects} ;
    void:distinctObjects {stats.distinct_objects} ;
    void:classes {len(stats.classes)} ;
    void:properties {len(stats.properties)} ;
{class_partitions}
{property_partitions}
    void:subset <{DATASET}#estat-links> .

<{DATASET}#estat-links> a void:Linkset ;
    dct:title "e-Stat 標準地域コードへのリンク"@ja , "Links to e-Stat standard area codes"@en ;
    void:subjectsTarget <{DATASET}> ;
    void:objectsTarget <http://data.e-stat.go.jp/lod/sac/> ;
    void:linkPredicate skos:exactMatch ;
    void:triples {stats.estat_links} .

<https://w3id.org/kouiki/source/000_05f34e0fc86adcb0> dct:license <{PUBLIC_DATA_LICENSE}> .
<https://w3id.org/kouiki/source/003_0fbe08a3f1deeb3d> dct:license <{PUBLIC_DATA_LICENSE}> .
<https://w3id.org/kouiki/source/localgovjp> dct:license <{CC0}> .
<{PUBLIC_DATA_LICENSE}> a dct:LicenseDocument ;
    rdfs:label "公共データ利用規約（第1.0版）"@ja , "Public Data License (Version 1.0)"@en ;
    dct:type <http://purl.org/adms/licencetype/Attribution> .
<{LICENSE}> a dct:LicenseDocument ;
    rdfs:label "クリエイティブ・コモンズ 表示 4.0 国際"@ja , "Creative Commons Attribution 4.0 International"@en ;
    dct:type <http://purl.org/adms/licencetype/Attribution> .
<{CC0}> a dct:LicenseDocument ;
    rdfs:label "CC0 1.0 全世界 パブリック・ドメイン提供"@ja , "CC0 1.0 Universal Public Domain Dedication"@en ;
    dct:type <http://purl.org/adms/licencetype/PublicDomain> .

<http://publications.europa.eu/resource/authority/country/JPN> a dct:Location ;
{spatial_shape}    skos:prefLabel "日本"@ja , "Japan"@en .

<https://w3id.org/kouiki/concept/theme> a skos:ConceptScheme ;
    dct:title "テーマ"@ja , "Themes"@en .
{theme_concepts}

# Classes of the things referred to, as DCAT-AP's range shapes expect them.
<https://w3id.org/kouiki/ontology> a dct:Standard ; dct:title "広域連携ナレッジグラフ オントロジー"@ja , "Kouiki KG Ontology"@en .
<https://w3id.org/kouiki/shapes> a dct:Standard ; dct:title "広域連携ナレッジグラフ SHACL シェイプ"@ja , "Kouiki KG SHACL shapes"@en .
<https://www.w3.org/TR/sparql11-protocol/> a dct:Standard ; dct:title "SPARQL 1.1 Protocol"@en .
<http://publications.europa.eu/resource/authority/language/JPN> a dct:LinguisticSystem ; skos:prefLabel "日本語"@ja , "Japanese"@en .
<http://publications.europa.eu/resource/authority/language/ENG> a dct:LinguisticSystem ; skos:prefLabel "英語"@ja , "English"@en .
<http://publications.europa.eu/resource/authority/planned-availability/STABLE> a skos:Concept ; skos:prefLabel "stable"@en .
<http://purl.org/adms/licencetype/Attribution> a skos:Concept ; skos:prefLabel "Attribution"@en .
<http://purl.org/adms/licencetype/PublicDomain> a skos:Concept ; skos:prefLabel "Public domain"@en .
<http://purl.org/adms/publishertype/NonProfitOrganisation> a skos:Concept ; skos:prefLabel "Non-profit organisation"@en .
<{BASE}> a foaf:Document ; dct:title "広域連携ナレッジグラフ"@ja , "Kouiki KG"@en .
{media_types}
{file_types}

<{PUBLISHER}> a foaf:Agent ;
    foaf:name "広域連携ナレッジグラフ・プロジェクト"@ja , "Kouiki KG project"@en ;
    dct:type <http://purl.org/adms/publishertype/NonProfitOrganisation> .

<{CONTACT}> a vcard:Kind ;
    vcard:fn "広域連携ナレッジグラフ・プロジェクト"@ja , "Kouiki KG project"@en ;
    vcard:hasURL <{BASE}> .

<{SERVICE}> a dcat:DataService ;
    dct:title "広域連携ナレッジグラフ SPARQL エンドポイント"@ja , "Kouiki KG SPARQL endpoint"@en ;
    dct:description "SPARQL 1.1 プロトコルによる読み取り専用の問い合わせ窓口。"@ja ,
        "Read-only SPARQL 1.1 Protocol endpoint over the whole graph."@en ;
    dcat:endpointURL <{ENDPOINT}> ;
    dcat:endpointDescription <{ENDPOINT}> ;
    dcat:servesDataset <{DATASET}> ;
    dct:conformsTo <https://www.w3.org/TR/sparql11-protocol/> ;
    dct:publisher <{PUBLISHER}> ;
    dcat:contactPoint <{CONTACT}> ;
    dcat:theme {themes} ;
    dcat:keyword {keyword_list} ;
    dct:license <{LICENSE}> .

<{DATASET}#sparql> a dcat:Distribution ;
    dct:title "SPARQL エンドポイント"@ja , "SPARQL endpoint"@en ;
    dct:description "SPARQL 1.1 で問い合わせる。"@ja , "Query the graph with SPARQL 1.1."@en ;
    dcat:accessURL <{ENDPOINT}> ;
    dcat:accessService <{SERVICE}> ;
    dct:format <http://publications.europa.eu/resource/authority/file-type/SPARQLQ> ;
    dct:license <{LICENSE}> ;
    dcatap:availability <http://publications.europa.eu/resource/authority/planned-availability/STABLE> .

{dump_resources}"""


def service_description_turtle(default_graph_triples: int, named_graphs: list[tuple[str, int]]) -> str:
    """SPARQL 1.1 Service Description of /sparql, with VoID sizes of the default and named graphs.

    Every node has an IRI (no blank nodes), so the same build gives the same bytes, as its
    strong ETag promises.
    """
    from .formats import GRAPH_FORMATS, RESULT_FORMATS

    w3c = {"json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML", "csv": "SPARQL_Results_CSV",
           "tsv": "SPARQL_Results_TSV", "ttl": "Turtle", "nt": "N-Triples", "nq": "N-Quads", "trig": "TriG",
           "jsonld": "JSON-LD", "rdfxml": "RDF_XML"}
    formats = " , ".join(f"<http://www.w3.org/ns/formats/{w3c[n]}>" for n in [*RESULT_FORMATS, *GRAPH_FORMATS])
    named = "".join(f""" ;
    sd:namedGraph <{ENDPOINT}#named-graph-{i}>""" for i in range(1, len(named_graphs) + 1))
    graphs = "".join(f"""
<{ENDPOINT}#named-graph-{i}> a sd:NamedGraph ; sd:name <{name}> ; sd:graph <{ENDPOINT}#graph-{i}> .
<{ENDPOINT}#graph-{i}> a sd:Graph , void:Dataset ; void:triples {count} .
""" for i, (name, count) in enumerate(named_graphs, 1))
    return f"""@prefix sd:   <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix dct:  <http://purl.org/dc/terms/> .

<{ENDPOINT}> a sd:Service ;
    sd:endpoint <{ENDPOINT}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:feature sd:UnionDefaultGraph ;
    sd:resultFormat {formats} ;
    dct:title "広域連携ナレッジグラフ SPARQL エンドポイント"@ja , "Kouiki KG SPARQL endpoint"@en ;
    dct:description "FROM・FROM NAMED も default-graph-uri・named-graph-uri もない問い合わせでは、既定グラフはすべての名前付きグラフの和です。どちらかがあればそれがデータセットを決めます（パラメーターが優先）。問い合わせ中の相対 IRI は <{QUERY_BASE}> を基底として解決します（問い合わせの BASE が優先）。"@ja ,
        "A query with neither FROM / FROM NAMED nor default-graph-uri / named-graph-uri has the union of all named graphs as its default graph; otherwise those define the dataset (the parameters win). Relative IRIs in a query resolve against <{QUERY_BASE}> (a BASE in the query wins)."@en ;
    sd:defaultDataset <{ENDPOINT}#dataset> .

<{ENDPOINT}#dataset> a sd:Dataset ;
    dct:source <{DATASET}> ;
    sd:defaultGraph <{ENDPOINT}#default-graph>{named} .

<{ENDPOINT}#default-graph> a sd:Graph , void:Dataset ; void:triples {default_graph_triples} .
{graphs}"""

