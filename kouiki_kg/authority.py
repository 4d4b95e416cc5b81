"""Local-government authority data: the localgovjp CSV files → committed Turtle.

Every Japanese local government gets one resource ``id/lg/{code}`` keyed by its 6-digit
全国地方公共団体コード. Cases link to these by code, never by name (南部町 and 朝日町 exist in
several prefectures). The output is deterministic (sorted, hand-formatted) so that
regenerating it from the same CSV gives the same bytes and a reviewable diff.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import jaconv

from .namespaces import LG, SOURCE

ESTAT_SAC = "http://data.e-stat.go.jp/lod/sac/C"
AUTHORITY_SOURCE = SOURCE + "localgovjp"
LATIN_NAMES = AUTHORITY_SOURCE + "#latin-names"  # the method, stated in the data (a prov:Plan)


# --- Names in Latin script ------------------------------------------------------------------
#
# Romanised from the kana reading of the authority data with jaconv (MIT), then written as the
# municipalities write their own names: modified Hepburn without macrons — long vowels short
# (Kōryō → Koryo, Ōsaka → Osaka), っち as tch — which is how 1,692 of the 1,741 municipalities'
# own web addresses spell them. Where a body's web address spells its name one of the other
# Hepburn ways (a vowel pair kept, as in Katsuura, 勝+浦; m before b, m, p, as in Gotemba), that
# spelling is taken; a web address in another system (ohtawara, suttu) changes nothing.
# docs/romanisation.md lists the bodies whose spelling the web address decided, and why the
# others keep the rule's.

# The reading's suffix → (romanised, English word). 町 is まち or ちょう, 村 むら or そん.
# kind → its readings' suffixes as (kana, romanised, English)
SUFFIXES = {"City": [("し", "shi", "City")], "DesignatedCity": [("し", "shi", "City")],
            "SpecialWard": [("く", "ku", "City")],  # Tokyo's special wards call themselves cities in English
            "DesignatedCityWard": [("く", "ku", "Ward")], "Town": [("まち", "machi", "Town"), ("ちょう", "cho", "Town")],
            "Village": [("むら", "mura", "Village"), ("そん", "son", "Village")],
            "Prefecture": [("けん", "ken", "Prefecture"), ("ふ", "fu", "Prefecture"), ("と", "to", "Metropolis"),
                           ("どう", "", "")]}  # 北海道: Hokkaido, already whole
# The kana of each romanised suffix (search finds よこはま as it finds Yokohama: search.py)
KANA_OF_SUFFIX = {latin: kana for endings in SUFFIXES.values() for kana, latin, _ in endings if latin}
# Names the kana alone cannot give, spelled as the city does.
SPELLED = {"192082": "Minami-Alps",  # city.minami-alps.yamanashi.jp
           "442127": "Bungo-ono"}  # 豊後+大野: a vowel pair across two words, which no rule can see (bungo-ohno.jp)

_LONG_VOWEL = re.compile(r"o(?=[ou])|u(?=u)")


def hepburn(kana: str) -> str:
    """Hiragana → lower-case Hepburn with long vowels written out (jaconv), っち as tch."""
    return jaconv.kana2alphabet(kana).replace("cch", "tch").replace("-", "").replace("'", "")


def spellings(kana: str) -> list[str]:
    """The Hepburn spellings of a reading without macrons, the rule's first: each long vowel
    short or written out, n or m before b, m, p."""
    written = hepburn(kana)
    pairs = [m.start() for m in _LONG_VOWEL.finditer(written)][:8]
    found: dict[str, None] = {}
    for shortened in itertools.product((True, False), repeat=len(pairs)):
        letters = list(written)
        for short, position in zip(shortened, pairs):
            if short:
                letters[position + 1] = ""
        word = "".join(letters)
        found[word] = None
        found[re.sub(r"n(?=[bmp])", "m", word)] = None
    return list(found)


def romanise(kana: str, url: str = "") -> str:
    """A name's reading in Latin script, capitalised; the body's web address decides between
    Hepburn spellings where it shows one (see above)."""
    options = spellings(kana)
    host = (urlsplit(url).hostname or "").replace("-", "")
    chosen = next((o for o in options if o in host), options[0]) if options[0] not in host else options[0]
    return chosen.capitalize()


def _split_suffix(kana: str, suffixes) -> tuple[str, str, str]:
    for ending, latin, english in suffixes:
        if kana.endswith(ending):
            return kana[: len(kana) - len(ending)], latin, english
    raise ValueError(f"the reading {kana!r} has no suffix among {[s[0] for s in suffixes]}")


def latin_names(body: "Body", parent: "Body | None" = None) -> tuple[str, str]:
    """(romanised name with its suffix, English name) — ("Yokohama-shi", "Yokohama City"),
    ("Koryo-cho", "Koryo Town"), ("Kanagawa-ken", "Kanagawa Prefecture"),
    ("Sapporo-shi Chuo-ku", "Chuo Ward, Sapporo City")."""
    if body.kind == "Prefecture":
        stem, latin, english = _split_suffix(body.kana, SUFFIXES["Prefecture"])
        name = body.name_en or romanise(stem)
        return (f"{name}-{latin}" if latin else name), (f"{name} {english}" if english else name)
    kana = body.kana.split(" ")[-1]  # a ward: "さっぽろし ちゅうおうく"
    stem, latin, english = _split_suffix(kana, SUFFIXES[body.kind])
    name = SPELLED.get(body.code) or romanise(stem, "" if parent else body.url)
    romanised, in_english = f"{name}-{latin}", f"{name} {english}"
    if parent is not None:
        parent_latin, parent_english = latin_names(parent)
        return f"{parent_latin} {romanised}", f"{in_english}, {parent_english}"
    return romanised, in_english


def check_digit(first_five: str) -> str:
    """The check digit of a local-government code (JIS X 0401/0402 rule).

    Weights 6,5,4,3,2 over digits 1–5, remainder mod 11 subtracted from 11, last digit kept.
    """
    if len(first_five) != 5 or not first_five.isdigit():
        raise ValueError(f"expected five digits, got {first_five!r}")
    total = sum(int(d) * w for d, w in zip(first_five, (6, 5, 4, 3, 2)))
    return str((11 - total % 11) % 10)


def is_valid_code(code: str) -> bool:
    return len(code) == 6 and code.isdigit() and check_digit(code[:5]) == code[5]


@dataclass
class Body:
    code: str
    kind: str  # an ontology class local name: Prefecture, City, DesignatedCity, …
    name: str
    kana: str
    url: str
    lat: str
    lng: str
    prefecture_code: str | None = None
    parent_city_code: str | None = None
    name_en: str | None = None
    wards: list[str] = field(default_factory=list)


def _kind_of(city: str, pid: int) -> str:
    if " " in city:  # "札幌市 中央区": a ward of a designated city
        return "DesignatedCityWard"
    suffix = city[-1]
    if suffix == "区" and pid == 13:
        return "SpecialWard"
    return {"市": "City", "町": "Town", "村": "Village"}[suffix]


def read_bodies(source_dir: Path) -> list[Body]:
    """Read both CSV files into bodies, sorted by code; validate codes as we go."""
    prefectures: dict[str, Body] = {}
    with open(source_dir / "prefjp-utf8.csv", encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            code = row["lgcode"].zfill(6)  # stored without its leading zero
            prefectures[row["pid"]] = Body(
                code=code, kind="Prefecture", name=row["pref"], kana=row["prefkana"],
                url=row["url"], lat=row["lat"], lng=row["lng"], name_en=row["pref_en"],
            )
    bodies = {b.code: b for b in prefectures.values()}
    cities_by_name: dict[tuple[str, str], Body] = {}
    wards: list[tuple[Body, str]] = []
    with open(source_dir / "localgovjp-utf8.csv", encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            pref = prefectures[row["pid"]]
            kind = _kind_of(row["city"], int(row["pid"]))
            body = Body(
                code=row["lgcode"], kind=kind, name=row["city"].replace(" ", ""),
                kana=row["citykana"], url=row["url"], lat=row["lat"], lng=row["lng"],
                prefecture_code=pref.code,
            )
            bodies[body.code] = body
            if kind == "DesignatedCityWard":
                wards.append((body, row["city"].split(" ")[0]))
            else:
                cities_by_name[(row["pid"], row["city"])] = body
    # A ward's parent city is found within its own prefecture (its name is unique there).
    for ward, city_name in wards:
        pid = next(p for p, b in prefectures.items() if b.code == ward.prefecture_code)
        city = cities_by_name[(pid, city_name)]
        city.kind = "DesignatedCity"
        ward.parent_city_code = city.code
    bad = [b.code for b in bodies.values() if not is_valid_code(b.code)]
    if bad:
        raise ValueError(f"codes with a wrong check digit: {', '.join(bad)}")
    return [bodies[c] for c in sorted(bodies)]


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _body_turtle(b: Body, parent: Body | None) -> str:
    lines = [f"lg:{b.code} a kk:{b.kind} ;"]
    romanised, english = latin_names(b, parent)
    lines.append(f"    skos:prefLabel {_lit(b.name)}@ja , {_lit(english)}@en , {_lit(romanised)}@ja-Latn ;")
    lines.append(f"    kk:nameKana {_lit(b.kana)}@ja-Hira ;")
    lines.append(f"    kk:latinNamesMadeBy <{LATIN_NAMES}> ;")
    lines.append(f'    kk:localGovernmentCode "{b.code}" ;')
    if b.prefecture_code:
        lines.append(f"    kk:prefecture lg:{b.prefecture_code} ;")
    if b.parent_city_code:
        lines.append(f"    kk:parentCity lg:{b.parent_city_code} ;")
    if b.url:
        lines.append(f"    foaf:homepage <{b.url}> ;")
    if b.lat and b.lng:
        lines.append(f'    geo:lat "{b.lat}"^^xsd:decimal ; geo:long "{b.lng}"^^xsd:decimal ;')
    lines.append(f"    skos:exactMatch <{ESTAT_SAC}{b.code[:5]}> ;")
    lines.append("    dct:source <%s> ." % AUTHORITY_SOURCE)
    return "\n".join(lines)


def to_turtle(bodies: list[Body], source_dir: Path) -> str:
    digests = "\n".join(
        f"#   sha256 {hashlib.sha256((source_dir / n).read_bytes()).hexdigest()}  {n}"
        for n in ("localgovjp-utf8.csv", "prefjp-utf8.csv")
    )
    counts: dict[str, int] = {}
    for b in bodies:
        counts[b.kind] = counts.get(b.kind, 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    header = f"""# Japanese local governments — authority data for Kouiki KG.
# GENERATED by `kouiki-kg authority` from the localgovjp CSV files (Code for FUKUI, CC0 1.0);
# do not edit by hand: change the generator or the source and regenerate.
# {len(bodies)} bodies: {summary}.
# Source files:
{digests}

@prefix kk:   <https://w3id.org/kouiki/ontology#> .
@prefix lg:   <{LG}> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix geo:  <http://www.w3.org/2003/01/geo/wgs84_pos#> .
@prefix dct:  <http://purl.org/dc/terms/> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

<{AUTHORITY_SOURCE}> a kk:SourceDocument , prov:Entity ;
    dct:title "全国地方公共団体一覧 localgovjp"@ja , "localgovjp: list of Japanese local governments"@en ;
    dct:creator "Code for FUKUI" ;
    dct:license <https://creativecommons.org/publicdomain/zero/1.0/> ;
    dct:description "全国の地方公共団体（都道府県・市区町村）の全国地方公共団体コード、よみ、公式サイト、位置。2026-07-09 時点のスナップショット。"@ja ,
        "Nationwide local-government codes, kana readings, official websites and coordinates of every Japanese prefecture and municipality; snapshot of 2026-07-09."@en ;
    kk:fileName "localgovjp-utf8.csv" , "prefjp-utf8.csv" .

<{LATIN_NAMES}> a prov:Plan ;
    rdfs:label "ローマ字・英語の名称の作り方"@ja , "How the Latin-script names were made"@en ;
    dct:description "ローマ字表記（ja-Latn）と英語名（en）は、このデータのよみ（kk:nameKana）から `kouiki-kg authority` が jaconv {jaconv.__version__} で作ったもの。長音符なしのヘボン式（こうりょう → Koryo）。団体の公式サイトのアドレスがヘボン式の別のつづり（Katsuura、Gotemba など）を使う場合はそれに従う。都道府県の英語名は prefjp-utf8.csv の pref_en。英語名の語尾：市 City、町 Town、村 Village、東京の特別区 City、政令市の区 Ward、県・府 Prefecture、都 Metropolis。"@ja ,
        "The romanised names (ja-Latn) and English names (en) were made by `kouiki-kg authority` from this data's kana readings (kk:nameKana) with jaconv {jaconv.__version__}: modified Hepburn without macrons (こうりょう → Koryo); where a body's official web address uses another Hepburn spelling (Katsuura, Gotemba …), that one. Prefectures' English names are pref_en of prefjp-utf8.csv. English endings: 市 City, 町 Town, 村 Village, Tokyo's special wards City, wards of designated cities Ward, 県/府 Prefecture, 都 Metropolis."@en ;
    dct:source <{AUTHORITY_SOURCE}> .
"""
    by_code = {b.code: b for b in bodies}
    return header + "\n" + "\n\n".join(_body_turtle(b, by_code.get(b.parent_city_code or "")) for b in bodies) + "\n"


def generate(source_dir: Path, out_file: Path) -> int:
    """Write the authority Turtle; returns the number of bodies written."""
    bodies = read_bodies(source_dir)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(to_turtle(bodies, source_dir), encoding="utf-8")
    return len(bodies)
