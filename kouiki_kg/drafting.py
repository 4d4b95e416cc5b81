"""Drafting a case from the ministry's case-sheet text: the text in, a Turtle draft and what the
steward must review out. Nothing is stored; the draft is checked as /validate checks a case.

Two layouts are read (the two files of ../shared/seeds are one of each):
- summary pages: section headings (the programme category), entries `title（lead body）`, each
  with its `•` summary and `⇒` evaluation (an entry's blocks may come before its title: the
  PDF's text runs so);
- detailed case sheets: the 連携団体 row (ア 実施主体 / イ 連携主体), (1) background ○ items with
  their meetings and dates, (2) contents with ①② components and 【主な調査項目】, (3) 【特徴】 and
  【課題】 per component, (4) future plans.

What the text says is modelled as the curated cases model it; what it does not say is never
guessed: a body is resolved by its name against the authority data only when one body has that
name, or when the text's context (a prefecture named nearby, the lead's prefecture, the other
bodies' prefectures) leaves one; otherwise it is left out and listed for review. A count
("3市4町") becomes a count on a grouping, never members. Every fact cites its passage (file,
lines, verbatim text). Themes and activity types are suggested from KEYWORDS (docs/drafting.md)
and say so. Dates in 和暦 (明治 to 令和, 元年, full-width digits, 漢数字) become ISO values.
"""

from __future__ import annotations

import datetime
import difflib
import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .namespaces import BASE, CONCEPT, KK, PREFIXES

SOURCE = BASE + "source/"
ERAS = {"明治": 1867, "大正": 1911, "昭和": 1925, "平成": 1988, "令和": 2018}  # year N of an era is base + N
KANJI = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
NUMBER = r"[0-9０-９]+|元|[〇一二三四五六七八九十百千]+"
DATE = re.compile(rf"(?:(?P<era>明治|大正|昭和|平成|令和)\s*(?P<eyear>{NUMBER})|(?P<year>[0-9０-９]{{4}}))\s*年"
                  rf"(?:(?P<fiscal>度)|\s*(?P<month>[0-9０-９]{{1,2}}|[一二三四五六七八九十]+)\s*月"
                  rf"(?:\s*(?P<day>[0-9０-９]{{1,2}}|[一二三四五六七八九十]+)\s*日)?)?")
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
COUNT = re.compile(r"(?:(?P<c>[0-9０-９]+)市)?(?:(?P<t>[0-9０-９]+)町)?(?:(?P<v>[0-9０-９]+)村)?")
KINDS = ("市", "町", "村", "区", "県", "府", "都", "道")

# Keyword → concept suggestions (documented in docs/drafting.md). First match wins per concept;
# every suggestion is marked for the steward.
THEME_KEYWORDS = [
    ("バス路線|路線バス|バス", "bus-network"), ("コミュニティバス|デマンド|コミュニティ交通", "community-transport"),
    ("公共交通", "public-transport"), ("シニア|高齢者の社会参画|社会参画", "elderly-participation"),
    ("高齢者支援|高齢者", "elderly-support"), ("外国人", "foreign-resident-support"), ("健康寿命", "healthy-life-expectancy"),
    ("子育て", "childcare-support"), ("福祉", "welfare-service-sharing"), ("公共施設の.{0,20}?再編|施設の.{0,20}?再編", "facility-reorganisation"),
    ("共同利用|相互利用", "facility-joint-use"), ("予約システム", "facility-booking-system"), ("公共施設", "public-facilities"),
    ("専門人材", "specialist-staff"), ("職員|人材育成|担当者のスキル|勉強会", "staff-development"),
    ("RPA|ＲＰＡ|OCR|ＯＣＲ", "rpa-ai-ocr"), ("文字起こし", "ai-transcription"), ("共同調達", "joint-procurement"),
    ("情報インフラ", "information-infrastructure"), ("行政改革|ベンチマーキング", "administrative-reform"),
    ("公民連携", "public-private-partnership"), ("ＤＸ|DX|デジタル|先端技術", "administrative-dx"),
    ("効率化|業務改善", "administrative-efficiency"), ("空き家", "vacant-houses"), ("森林", "forests"),
    ("浄化槽", "septic-tanks"), ("観光", "tourism"), ("企業誘致", "business-attraction"),
    ("災害", "disaster-response"), ("感染症|新型コロナ", "infectious-disease"),
    ("未来予測|将来推計|将来の.{0,20}?見通し|長期的見通し", "future-forecasting"), ("人口減少", "population-decline"),
    ("好事例", "good-practice-sharing"), ("文化|芸術", "culture"),
]
ACTIVITY_KEYWORDS = [
    ("アンケート", "questionnaire-survey"), ("基礎調査", "basic-survey"), ("可能性調査|検討", "feasibility-study"),
    ("分析", "data-analysis"), ("勉強会|研修", "study-session"), ("ワークショップ", "workshop"),
    ("好事例", "good-practice-sharing"), ("情報共有|情報発信", "information-sharing"),
    ("市長会議|首長会議", "heads-meeting"), ("部局長級", "directors-meeting"), ("課長会議|課長級", "section-chiefs-meeting"),
    ("会議|協議", "meeting"), ("計画|方針", "planning"), ("実証", "demonstration"), ("調達", "procurement-preparation"),
    ("対外発信", "public-communication"), ("調査", "survey"),
]
AUDIENCES = [("三大都市圏", "metropolitan-municipalities"), ("他の都道府県", "other-prefectures"), ("他の地域", "other-regions")]


class UnknownLayout(Exception):
    """The text is in neither layout: nothing is drafted (never a half guess)."""

    def __init__(self):
        self.ja = ("この文書はどちらの様式でもありません。総務省の事例集の概要ページ（見出し・「取組名（団体名）」・「•」・「⇒」）"
                   "または個別の事例シート（「連携団体」「(1) 取組の背景、経緯」…）のテキストを渡してください。")
        self.en = ("This text is in neither layout we read: give the text of a summary page of the ministry's report "
                   "(headings, 'title（body）', '•' and '⇒') or of a detailed case sheet ('連携団体', '(1) 取組の背景、経緯' …).")
        super().__init__(self.en)


MAX_CASES = 200  # a page of the report holds a dozen; more is not one text to review


class TooManyCases(Exception):
    def __init__(self, found: int):
        self.ja = (f"このテキストには取組が {found} 件あります。一度に下書きできるのは {MAX_CASES} 件までです。"
                   "ページごとに分けてください。")
        self.en = (f"This text holds {found} initiatives; at most {MAX_CASES} are drafted at once. "
                   "Split it by page.")
        super().__init__(self.en)


@dataclass
class ReviewItem:
    """Something the steward must look at. `must`: the draft is incomplete without it."""
    code: str
    ja: str
    en: str
    line: int | None = None  # in the text drafted from
    must: bool = False
    draft_line: int | None = None  # in the draft (what the shapes report)

    def as_dict(self) -> dict:
        return {"code": self.code, "line": self.line, "draft_line": self.draft_line, "must": self.must,
                "message": {"ja": self.ja, "en": self.en}}

    def where(self, lang: str) -> str:
        if self.line:
            return f"{self.line}行目" if lang == "ja" else f"line {self.line}"
        if self.draft_line:
            return f"下書きの{self.draft_line}行目" if lang == "ja" else f"draft line {self.draft_line}"
        return ""


@dataclass
class Draft:
    layout: str  # "summary" or "sheet"
    turtle: str
    review: list[ReviewItem]
    initiatives: list[str]

    @property
    def complete(self) -> bool:
        return not any(item.must for item in self.review)


# --- numbers and dates -------------------------------------------------------------------------------

def number(text: str) -> int:
    """Arabic (half- or full-width), 元 (the first year of an era) or 漢数字 up to 9999."""
    text = unicodedata.normalize("NFKC", text)
    if text == "元":
        return 1
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in KANJI:
            current = current * 10 + KANJI[ch] if current else KANJI[ch]
        else:
            unit = {"十": 10, "百": 100, "千": 1000}[ch]
            total += (current or 1) * unit
            current = 0
    return total + current


@dataclass
class DateMention:
    start: int
    end: int
    text: str
    year: int
    month: int | None = None
    day: int | None = None
    fiscal: bool = False
    era: str | None = None

    @property
    def literal(self) -> str:
        """As Turtle: a fiscal year is an integer (kk:fiscalYear), a date its xsd value."""
        if self.fiscal:
            return str(self.year)
        if self.day:
            return f'"{self.year:04d}-{self.month:02d}-{self.day:02d}"^^xsd:date'
        if self.month:
            return f'"{self.year:04d}-{self.month:02d}"^^xsd:gYearMonth'
        return f'"{self.year:04d}"^^xsd:gYear'

    @property
    def label(self) -> str:
        """As the curated data names meetings: 2018年7月, 2011年度."""
        if self.fiscal:
            return f"{self.year}年度"
        return f"{self.year}年{self.month}月" + (f"{self.day}日" if self.day else "") if self.month else f"{self.year}年"


def dates_in(text: str) -> list[DateMention]:
    """Every date or fiscal year in a text, Western or 和暦, with where it is."""
    found = []
    for m in DATE.finditer(text):
        if m["era"]:
            year = ERAS[m["era"]] + number(m["eyear"])
        else:
            year = number(m["year"])
        month = number(m["month"]) if m["month"] else None
        day = number(m["day"]) if m["day"] else None
        try:  # a date that does not exist (2月30日, 13月) is not read as one
            datetime.date(year, 1 if month is None else month, 1 if day is None else day)
        except ValueError:
            continue
        found.append(DateMention(m.start(), m.end(), m.group(0), year, month, day, bool(m["fiscal"]), m["era"]))
    return found


# --- the authority data -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Body:
    code: str
    name: str
    kind: str
    prefecture: str | None  # the prefecture's code (None for a prefecture)
    latin: str = ""

    @property
    def iri(self) -> str:
        return f"{BASE}id/lg/{self.code}"

    @property
    def prefecture_code(self) -> str:
        return self.prefecture or self.code


class Authority:
    """Every local government of the authority data, by name (a name may have several bodies)."""

    def __init__(self, bodies: list[Body]):
        self.bodies = bodies
        self.by_name: dict[str, list[Body]] = {}
        self.by_code = {b.code: b for b in bodies}
        for b in bodies:
            self.by_name.setdefault(b.name, []).append(b)
        self.prefectures = {b.name: b for b in bodies if b.kind == "Prefecture"}

    def candidates(self, name: str) -> list[Body]:
        name = unicodedata.normalize("NFKC", name).replace(" ", "")
        found = list(self.by_name.get(name, []))
        for pref_name, pref in self.prefectures.items():  # "東京都府中市": a prefecture, then its body
            if name.startswith(pref_name) and name != pref_name:
                found = [b for b in self.by_name.get(name[len(pref_name):], []) if b.prefecture == pref.code]
        return found

    def close_names(self, name: str) -> list[str]:
        return difflib.get_close_matches(name, list(self.by_name), n=3, cutoff=0.6)


# What drafting reads of the project: a few of its files, each read once until it changes.
AUTHORITY = ("data/ttl/authority/local-governments.ttl",)
ACTORS = ("data/ttl/actors",)
CASES = ("data/ttl/cases",)
SOURCES = ("data/ttl/sources/seeds.ttl",)
CATEGORIES = ("ontology/schemes/categories.ttl",)
PROLOGUE = f"PREFIX kk: <{KK}> PREFIX skos: <{PREFIXES['skos']}> PREFIX foaf: <{PREFIXES['foaf']}> "


def _files(root: Path, parts: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    """Turtle files (a file, or a folder's) with their modification times: the cache key."""
    paths = [p for part in parts for p in ((root / part).glob("*.ttl") if (root / part).is_dir() else [root / part])]
    return tuple((str(p), p.stat().st_mtime) for p in sorted(paths))


@functools.lru_cache(maxsize=16)
def _ask(files: tuple[tuple[str, float], ...], sparql: str) -> tuple:
    store = ox.Store()
    for path, _ in files:
        store.load(path=path, format=ox.RdfFormat.TURTLE)
    return tuple(tuple(row[i] for i in range(len(row))) for row in store.query(PROLOGUE + sparql))


def _value(term) -> str | None:
    return term.value if term is not None else None


@functools.lru_cache(maxsize=4)
def _authority(rows: tuple) -> Authority:
    return Authority([Body(code.value, name.value, kind.value.rsplit("#", 1)[1], _value(pref), _value(latin) or "")
                      for code, name, kind, pref, latin in rows])


def authority(root: Path) -> Authority:
    """Every local government of the authority data."""
    return _authority(_ask(_files(root, AUTHORITY), """
        SELECT ?code ?name ?kind ?pref ?latin WHERE {
          ?b kk:localGovernmentCode ?code ; a ?kind ; skos:prefLabel ?name FILTER (lang(?name) = "ja")
          OPTIONAL { ?b skos:prefLabel ?latin FILTER (lang(?latin) = "ja-latn") }
          OPTIONAL { ?b kk:prefecture/kk:localGovernmentCode ?pref } }"""))


def organisations(root: Path) -> dict[str, str]:
    """The project's organisations (data/ttl/actors: ministries, bureaus, divisions) by their Japanese name."""
    rows = _ask(_files(root, ACTORS), 'SELECT ?l ?o WHERE { ?o skos:prefLabel ?l FILTER (lang(?l) = "ja") }')
    return {label.value: org.value for label, org in rows}


def known_passages(root: Path) -> frozenset[str]:
    """Passages the project's cases already describe: a draft cites them without stating them again
    (a case may state triples only about what it mints)."""
    return frozenset(p.value for (p,) in _ask(_files(root, CASES), "SELECT ?p WHERE { ?p a kk:SourcePassage }"))


def known_groupings(root: Path) -> list[dict]:
    """Groupings the project already describes with their named members (the 8 cities of 横浜市 …)."""
    rows = _ask(_files(root, CASES), """
        SELECT ?g ?l ?n (GROUP_CONCAT(STR(?m); separator=" ") AS ?members) WHERE {
          ?g a kk:BodyGrouping ; skos:prefLabel ?l ; kk:memberCount ?n ; foaf:member ?m FILTER (lang(?l) = "ja") }
        GROUP BY ?g ?l ?n""")
    return [{"iri": g.value, "label": label.value, "count": int(n.value), "members": m.value.split()}
            for g, label, n, m in rows]


def known_sources(root: Path) -> dict[str, str]:
    """The project's source documents by the SHA-256 of their text."""
    return {h.value: s.value for s, h in _ask(_files(root, SOURCES), "SELECT ?s ?h WHERE { ?s kk:sha256 ?h }")}


# --- what a draft is made of -------------------------------------------------------------------------

def _lit(text: str, lang: str = "ja") -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'"{escaped}"@{lang}' if lang else f'"{escaped}"'


def _clean(text: str) -> str:
    """A passage's lines as one text: line breaks inside a Japanese sentence removed, bullets kept off."""
    joined = "".join(line.strip() for line in text.splitlines())
    return re.sub(r"^[•⇒○・]\s*", "", joined).strip()


@dataclass
class Passage:
    start: int
    end: int
    text: str

    @property
    def key(self) -> str:
        return f"L{self.start}-L{self.end}"


def suggest(text: str, table: list[tuple[str, str]]) -> list[str]:
    found = []
    for pattern, concept in table:
        if re.search(pattern, text) and concept not in found:
            found.append(concept)
    return found


@dataclass
class Case:
    """One initiative as read from the text, before it is written as Turtle."""
    title: str
    title_passage: Passage | None
    lead_names: list[tuple[str, int]]  # (name as written, line)
    partner_names: list[tuple[str, int]] = field(default_factory=list)
    description: str = ""
    description_passage: Passage | None = None
    evaluation: str = ""
    evaluation_passage: Passage | None = None
    category: str | None = None
    composed_title: bool = False
    fiscal_year: DateMention | None = None
    fiscal_passage: Passage | None = None
    meetings: list[tuple[str, DateMention, Passage]] = field(default_factory=list)
    components: list[dict] = field(default_factory=list)
    futures: list[tuple[str, Passage]] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    unread: list[tuple[int, str]] = field(default_factory=list)  # (line, what) left for the steward
    documents: list[dict] = field(default_factory=list)  # documents_in() entries, with "passage" and "owner"

    def add_documents(self, text: str, passage: Passage, owner: tuple = ("initiative",)) -> None:
        for doc in documents_in(text):
            self.documents.append(dict(doc, passage=passage, owner=owner))


DOCUMENT_CLASSES = [("計画", "Plan"), ("シート", "AnalysisSheet"), ("規約", "Rules"), ("報告書|予測|整理", "Report")]


def documents_in(text: str) -> list[dict]:
    """Documents a text names: 「X」 made (作成, 策定, として整理) or rested on (に基づき), an
    unquoted …報告書 rested on, or …の規約 laid down; with the date it was made when the text
    gives one（平成31年3月作成）."""
    found = []
    for m in re.finditer(r"「(?P<title>[^「」]+)」(?:[（(](?P<when>[^）)]{0,30}?)作成[）)])?(?P<how>に基づ|を作成|を策定|として整理|を取りまと)?", text):
        if not m["how"] and not m["when"]:
            continue
        kind = next((k for pattern, k in DOCUMENT_CLASSES if re.search(pattern, m["title"])), None)
        if kind is None and m["how"] not in ("を作成", "を策定") and not m["when"]:
            continue
        when = dates_in(m["when"] or "")
        found.append({"title": m["title"], "kind": kind or "Document", "relation": "basedOn" if m["how"] == "に基づ" else "generated",
                      "created": when[0] if when else None, "at": m.start()})
    for m in re.finditer(r"(?P<title>[^\s、。「」はをがに]{0,40}報告書)に基づ", text):
        found.append({"title": m["title"], "kind": "Report", "relation": "basedOn", "created": None, "at": m.start()})
    for m in re.finditer(r"(?P<title>[^\s、。「」]{1,40}?の規約)等?を定め", text):
        found.append({"title": m["title"], "kind": "Rules", "relation": "generated", "created": None, "at": m.start()})
    return found


def split_horizons(item: str) -> list[str]:
    """A future plan given as 短期的には…とともに、長期的には… is two plans, one per horizon."""
    m = re.match(r"^(短期的には.+?)(?:する)?とともに、(長期的には.+?)(?:することとした|こととした)?。?$", item)
    if not m:
        return [item]
    first = m[1] if m[1].endswith("する") else m[1] + "する"
    return [first + "。", m[2].removesuffix("する") + "する。"]


# --- reading the two layouts ------------------------------------------------------------------------

TITLE = re.compile(r"^(?P<title>[^•⇒○\t].*?)（(?P<lead>[^（）]+)）\s*$")


def layout_of(lines: list[str]) -> str | None:
    text = "\n".join(lines)
    if "連携団体" in text and re.search(r"ア\s*事業の実施主体", text) and re.search(r"\(1\)|（１）|（1）", text):
        return "sheet"
    if any(line.lstrip().startswith("•") for line in lines) and any(TITLE.match(line.strip()) for line in lines):
        return "summary"
    return None


def _categories(root: Path) -> dict[str, str]:
    """The programme categories by their Japanese heading."""
    rows = _ask(_files(root, CATEGORIES), 'SELECT ?l ?c WHERE { ?c a skos:Concept ; skos:prefLabel ?l FILTER (lang(?l) = "ja") }')
    return {label.value: concept.value for label, concept in rows}


def read_summary(lines: list[str], categories: dict[str, str]) -> list[Case]:
    """Entries of a summary page. Blocks are paragraphs starting with • or ⇒ (a paragraph may be
    broken by a blank line: it goes on until the next marker, title or heading)."""
    tokens = []  # (kind, start line, end line, text)
    category = None
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        number_ = i + 1
        heading = next((c for label, c in categories.items() if line == label), None)
        if heading:
            tokens.append(("heading", number_, number_, heading))
        elif line.startswith(("•", "⇒")):
            kind = "summary" if line.startswith("•") else "evaluation"
            end = i
            j = i + 1
            while j < len(lines):
                nxt = lines[j].strip()
                if nxt.startswith(("•", "⇒")) or TITLE.match(nxt) or nxt in categories:
                    break
                if nxt:
                    end = j
                elif j + 1 < len(lines) and not lines[j + 1].strip():
                    break  # two blank lines end a paragraph
                j += 1
            tokens.append((kind, number_, end + 1, "\n".join(lines[i:end + 1])))
            i = end
        elif TITLE.match(line):
            tokens.append(("title", number_, number_, line))
        i += 1
    cases: list[Case] = []
    pending: list[tuple] = []  # blocks met before the title they belong to
    current: Case | None = None
    for kind, start, end, text in tokens:
        if kind == "heading":
            category, current = text, None
            continue
        if kind == "title":
            m = TITLE.match(text)
            current = Case(m["title"].strip(), Passage(start, end, text), [(m["lead"].strip(), start)], category=category)
            cases.append(current)
            for block in pending:
                _attach(current, *block)
            pending = []
            continue
        block = (kind, start, end, text)
        if current is not None and not _has(current, kind):
            _attach(current, *block)
        else:
            pending.append(block)
            current = None  # blocks after a complete entry belong to the next title
    return cases


def _has(case: Case, kind: str) -> bool:
    return bool(case.description if kind == "summary" else case.evaluation)


def _attach(case: Case, kind: str, start: int, end: int, text: str) -> None:
    passage = Passage(start, end, text)
    if kind == "summary":
        case.description, case.description_passage = _clean(text), passage
    else:
        case.evaluation, case.evaluation_passage = _clean(text), passage
    case.add_documents(_clean(text), passage)


SECTION = re.compile(r"^\s*[（(]\s*([1-4１-４])\s*[）)]\s*(.*)$")


def read_sheet(lines: list[str]) -> list[Case]:
    """One detailed case sheet."""
    sections: dict[int, list[tuple[int, str]]] = {}
    current = 0
    lead, partners, bodies_line = [], [], None
    for index, raw in enumerate(lines, start=1):
        line = raw.rstrip()
        if "連携団体" in line and "実施主体" in line:
            bodies_line = index
            m = re.search(r"ア\s*事業の実施主体[：:]\s*(.+?)(?:\s+イ\s*事業の連携主体[：:]\s*(.+))?$", line)
            if m:
                lead = [(n, index) for n in _names(m[1])]
                partners = [(n, index) for n in _names(m[2] or "")]
            continue
        m = SECTION.match(line)
        if m:
            current = number(m[1])
            rest = m[2].split("\t", 1)
            sections.setdefault(current, [])
            if len(rest) > 1 and rest[1].strip():
                sections[current].append((index, rest[1].strip()))
            continue
        if current and line.strip() and not re.fullmatch(r"[-\s]+", line):
            sections.setdefault(current, []).append((index, line.strip()))
    case = Case("", None, lead, partners)
    if bodies_line:
        case.passages.append(Passage(bodies_line, bodies_line, lines[bodies_line - 1].strip()))
    # (2) contents: an opening paragraph, then ① ② … components
    component = None
    for index, text in sections.get(2, []):
        if text[0] in CIRCLED:
            component = {"ordinal": CIRCLED.index(text[0]) + 1, "label": text[1:].strip(), "lines": [index],
                         "description": [], "survey": [], "features": [], "challenges": []}
            case.components.append(component)
        elif component is None:
            if not case.description:
                case.description, case.description_passage = text, Passage(index, index, text)
        elif text.startswith("【主な調査項目】"):
            component["survey_next"] = True
            component["lines"].append(index)
        elif component.pop("survey_next", False):
            component["survey"] = [s.strip() for s in re.split(r"[、，,]", text) if s.strip()]
            component["lines"].append(index)
        else:
            component["description"].append(_clean(text))
            component["lines"].append(index)
            lecturer = re.search(r"([^\s、。「」]{1,40}?)から講師", text)
            if lecturer:
                component["lecturers"] = component.get("lecturers", []) + [(lecturer[1], index)]
        year = next((d for d in dates_in(text) if d.fiscal), None)
        if year and case.fiscal_year is None:
            case.fiscal_year, case.fiscal_passage = year, Passage(index, index, text)
    # (3) features and challenges, per component
    component = None
    by_ordinal = {c["ordinal"]: c for c in case.components}
    header = None
    for index, text in sections.get(3, []):
        if text[0] in CIRCLED:
            component, header = by_ordinal.get(CIRCLED.index(text[0]) + 1), index
        elif component is not None and text.startswith(("【特徴】", "【課題】")):
            key = "features" if text.startswith("【特徴】") else "challenges"
            # the passage runs from the component's heading, which says what the finding is about
            cited = ([Passage(header, index, "\n".join(lines[header - 1:index]))] if index - header <= 2 else
                     [Passage(header, header, lines[header - 1].strip()), Passage(index, index, text)])  # a table between
            component[key].append((text[4:].strip(), cited))
        elif "\t" in text:
            case.unread.append((index, "table"))
    # (1) background: meetings and their dates
    for index, text in sections.get(1, []):
        for item in [t.strip() for t in text.split("○") if t.strip()]:
            for date in dates_in(item):
                after = item[date.end:]
                m = re.match(r"(?:には|に|、)?(?:再度|初めて)?(?P<name>[^、。「」\s]{0,40}?会議)を(?:初めて|再度)?開催", after)
                if m:
                    case.meetings.append((m["name"], date, Passage(index, index, text)))
            # what an item's meeting laid down (規約 …) was made at that meeting
            owner = ("meeting", len(case.meetings) - 1) if case.meetings else ("initiative",)
            case.add_documents(item, Passage(index, index, text), owner)
    # (4) future plans
    for index, text in sections.get(4, []):
        for item in [t.strip() for t in text.split("○") if t.strip()]:
            for part in split_horizons(item):
                case.futures.append((part, Passage(index, index, text)))
                case.add_documents(part, Passage(index, index, text), ("future", len(case.futures) - 1))
    # a sheet has no title: composed from the opening paragraph, for the steward to confirm
    m = re.match(r"^(.+?)を(検討|実施|調査|整理|推進)するため", case.description)
    if m:
        case.title, case.composed_title = f"{m[1]}の{m[2]}", True
        case.title_passage = case.description_passage
    if case.description_passage:
        case.add_documents(case.description, case.description_passage)
    return [case]


def _names(text: str) -> list[str]:
    return list(dict.fromkeys(n.strip() for n in re.split(r"[、，,・]", text) if n.strip()))


# --- writing the draft -----------------------------------------------------------------------------

def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKC", text).lower()).strip("-")


def source_document(name: str, text: str | None = None, root: Path | None = None) -> str:
    """The source document's IRI: the project's own when the text is one it describes (by its
    SHA-256), else one minted from the file name."""
    if text is not None and root is not None:
        known = known_sources(root).get(hashlib.sha256(text.encode("utf-8")).hexdigest())
        if known:
            return known
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(name).stem).strip("-") or "draft"
    return SOURCE + stem


def _resolve(authority: Authority, names: list[tuple[str, int]], context: str, lead_prefecture: str | None,
             other_prefectures: set[str], review: list[ReviewItem]) -> list[tuple[Body, int]]:
    """Bodies for names, by name alone only when one body has it, else by the text's context;
    never guessed. What stays unresolved is listed for review."""
    resolved = []
    for name, line in names:
        found = authority.candidates(name)
        if len(found) > 1:
            named = {p.code for n, p in authority.prefectures.items() if n in context}
            for narrowing in (named, {lead_prefecture} if lead_prefecture else set(), other_prefectures):
                narrowed = [b for b in found if b.prefecture_code in narrowing]
                if len(narrowed) == 1:
                    found = narrowed
                    review.append(ReviewItem(
                        "body_from_context",
                        f"「{name}」は複数の都道府県にあります。文脈から {found[0].code}（{_prefecture_name(authority, found[0])}）としました。確かめてください。",
                        f"'{name}' exists in several prefectures; the text's context gives {found[0].code} "
                        f"({_prefecture_name(authority, found[0])}). Please confirm.", line))
                    break
        if len(found) == 1:
            resolved.append((found[0], line))
        elif found:
            options = "、".join(f"{b.code}（{_prefecture_name(authority, b)}）" for b in found)
            options_en = ", ".join(f"{b.code} ({_prefecture_name(authority, b)})" for b in found)
            review.append(ReviewItem(
                "ambiguous_body", f"「{name}」は複数あり（{options}）、本文からは決められません。団体コードを指定してください。",
                f"'{name}' is the name of several bodies ({options_en}) and the text does not say which: give its code.",
                line, must=True))
        else:
            close = authority.close_names(name)
            hint_ja = f"近い名前: {'、'.join(close)}。" if close else ""
            hint_en = f" Close names: {', '.join(close)}." if close else ""
            review.append(ReviewItem(
                "unknown_body", f"「{name}」という地方公共団体は見つかりません。{hint_ja}名前を確かめ、団体コードで指定してください。",
                f"No local government is named '{name}'.{hint_en} Check the name and give the body's code.", line, must=True))
    return resolved


def _prefecture_name(authority: Authority, body: Body) -> str:
    pref = authority.by_code.get(body.prefecture_code)
    return pref.name if pref else ""


def _groupings(text: str) -> list[dict]:
    """Counts such as 3市4町 or 1市6町1村 (with the area's name when one precedes them)."""
    found = []
    normal = unicodedata.normalize("NFKC", text)
    for m in re.finditer(r"(?P<name>[\u4e00-\u9fff\u30a0-\u30ffー]{0,20}?(?:広域圏|圏域|圏))?\s*[（(]?"
                         r"(?P<count>(?:\d+市)?(?:\d+町)?(?:\d+村)?)(?=[）)]?)", normal):
        if not m["count"] or not re.search(r"\d+[市町村].*\d+[市町村]|^\d+市$", m["count"]):
            continue
        parts = COUNT.fullmatch(m["count"])
        counts = {k: int(parts[k]) for k in "ctv" if parts[k]}
        if len(counts) < 2 and not m["name"]:
            continue  # "8市" alone is a phrase, not a grouping, unless it names an area
        grouping = {"name": m["name"] or "", "count": m["count"], "total": sum(counts.values()),
                    "cities": counts.get("c"), "towns": counts.get("t"), "villages": counts.get("v")}
        if grouping not in found:  # the same count said twice is one grouping
            found.append(grouping)
    return found


class _Writer:
    def __init__(self, source_iri: str, source_name: str, text_lines: list[str]):
        self.source_iri = source_iri
        self.source_name = source_name
        self.text_lines = text_lines
        self.lines: list[str] = []
        self.passages: dict[str, Passage] = {}

    def passage(self, p: Passage) -> str:
        self.passages[p.key] = p
        return f"src:{p.key}"

    def passage_list(self, passages) -> str:
        return " , ".join(dict.fromkeys(self.passage(p) for p in passages if p))


def write(cases: list[Case], layout: str, source_name: str, text: str, root: Path, auth: Authority,
          review: list[ReviewItem]) -> tuple[str, list[str]]:
    """The cases as Turtle in the curated cases' style; review items added on the way."""
    source_iri = source_document(source_name, text, root)
    known_source = source_iri in known_sources(root).values()
    w = _Writer(source_iri, source_name, text.split("\n"))
    out = [f"# Draft made by `kouiki-kg draft` from {source_name} ({layout} layout). Review before validating:",
           "# lines marked REVIEW are suggestions or composed texts; the review list says what is missing.", ""]
    for prefix in ("kk", "dct", "prov", "rdfs", "skos", "foaf", "xsd"):
        out.append(f"@prefix {prefix}: <{PREFIXES[prefix]}> .")
    out += [f"@prefix lg: <{BASE}id/lg/> .", f"@prefix role: <{CONCEPT}role/> .", f"@prefix theme: <{CONCEPT}theme/> .",
            f"@prefix atype: <{CONCEPT}activity-type/> .", f"@prefix aud: <{CONCEPT}audience/> .",
            f"@prefix src: <{source_iri}/> .", ""]
    initiatives = []
    for case in cases:
        body = _write_case(case, w, auth, review, source_iri, root)
        if body:
            initiatives.append(body[0])
            out += body[1]
    if not known_source:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        out += [f"<{source_iri}> a kk:SourceDocument ;",
                f"    dct:title {_lit(Path(source_name).stem)} ;  # REVIEW: the report's own title",
                f"    kk:fileName \"{Path(source_name).name}\" ;", f"    kk:sha256 \"{digest}\"^^xsd:hexBinary .", ""]
    stated = known_passages(root)
    for key, p in sorted(w.passages.items(), key=lambda kv: (kv[1].start, kv[1].end)):
        if f"{source_iri}/{key}" in stated:
            continue  # the project has it, with the same lines
        span = f"{p.start}行" if p.start == p.end else f"{p.start}–{p.end}行"
        span_en = f"line {p.start}" if p.start == p.end else f"lines {p.start}–{p.end}"
        stem = Path(source_iri).name
        out += [f"src:{key} a kk:SourcePassage ;",
                f"    rdfs:label {_lit(f'出典 {stem} {span}')} , {_lit(f'Source {stem}, {span_en}', 'en')} ;",
                f"    dct:isPartOf <{source_iri}> ;", f"    kk:startLine {p.start} ; kk:endLine {p.end} ;",
                f"    prov:value {_lit(p.text.strip())} .", ""]
    return "\n".join(out), initiatives


def _case_groupings(case: Case, iri: str, leads: list, partners: list, root: Path,
                    review: list[ReviewItem]) -> tuple[list[dict], list[dict]]:
    """The groupings a case's text counts (minted for the draft), and one the project already
    has that the text means (referred to): never members the text does not name."""
    groupings = []
    for g in _groupings(case.description or ""):
        named = [b for b, _ in leads + partners]
        grouping = dict(g, iri=f"{iri}/grouping-{len(groupings) + 1}",
                        members=named if g["total"] == len(named) and not g["name"] and len(named) > 1 else [])
        groupings.append(grouping)
    named = [b for b, _ in leads + partners]
    if case.partner_names and not groupings and len(named) > 1 and \
            re.search(rf"(?<![0-9０-９]){len(named)}市", unicodedata.normalize("NFKC", case.description)):
        # "8市" and the sheet names the 8: the grouping of those named bodies, not a count alone
        groupings.append({"name": "", "count": f"{len(named)}市", "total": len(named), "cities": len(named), "towns": None,
                          "villages": None, "iri": f"{iri}/grouping-1", "members": named})
    known = []
    if not groupings and leads:  # "８市" where the project already has the lead's 8-city grouping: that one
        normal = unicodedata.normalize("NFKC", case.description)
        known = [g for g in known_groupings(root) if leads[0][0].iri in g["members"]
                 and re.search(rf"(?<![0-9]){g['count']}市", normal) and g["label"].startswith(f"{g['count']}市")][:1]
        for g in known:
            review.append(ReviewItem("known_grouping", f"「{g['count']}市」をデータにある「{g['label']}」としました。確かめてください。",
                                     f"'{g['count']}市' is taken to be the grouping the data already has, '{g['label']}'. Please confirm.",
                                     case.description_passage.start if case.description_passage else None))
    return groupings, known


def _described_parts(case: Case, iri: str, groupings: list[dict], documents: dict[str, str], w: _Writer, root: Path,
                     review: list[ReviewItem], source_iri: str) -> list[str]:
    """The nodes an initiative points to, each citing its passage: groupings, meetings and their
    councils, documents, component activities with their findings, future plans, the evaluation."""
    c = "case:"
    lines: list[str] = []
    for g in groupings:
        label = f"{g['name']}（{g['count']}）" if g["name"] else f"{g['count']}（{case.title}の対象）"
        counts = " ; ".join(f"kk:{k}Count {g[k + 's'] if k != 'city' else g['cities']}" for k in ("city", "town", "village")
                            if (g["cities"] if k == "city" else g[k + "s"]))
        lines += [f"<{g['iri']}> a kk:BodyGrouping ;", f"    skos:prefLabel {_lit(label)} ;",
                  f"    kk:memberCount {g['total']} ;" + (f" {counts} ;" if counts else "")]
        if g["members"]:
            lines.append(f"    foaf:member {' , '.join(f'lg:{b.code}' for b in g['members'])} ;")
        else:
            review.append(ReviewItem("count_only", f"「{label}」は数（{g['total']}）だけが書かれています。構成団体は出典にないため記していません。"
                                     + ("連携主体か対象かを確かめてください。" if g["name"] else "対象とするまとまりとしました。確かめてください。"),
                                     f"'{label}' is given only as a count ({g['total']}); its members are not in the source, so none "
                                     "is named. " + ("Check whether it is a partner or what the initiative covers." if g["name"]
                                                    else "It is drafted as the grouping the initiative covers: please check."),
                                     case.description_passage.start if case.description_passage else None))
        lines += [f"    dct:source <{source_iri}> ;", f"    kk:sourcePassage {w.passage_list([case.description_passage])} .", ""]
    councils: dict[str, str] = {}
    for i, (name, date, passage) in enumerate(case.meetings):
        council = councils.setdefault(name, f"{c}council-{len(councils) + 1}")
        when = f"kk:fiscalYear {date.literal}" if date.fiscal else f"dct:date {date.literal}"
        era = f"  # {date.text}" if date.era else ""
        made = dict.fromkeys(d["node"] for d in case.documents if d["owner"] == ("meeting", i))
        lines += [f"{c}meeting-{i + 1} a kk:Meeting ;", f"    rdfs:label {_lit(f'{name}（{date.label}）')} ;",
                  f"    kk:meetingOf {council} ;", f"    {when} ;{era}"]
        if made:
            lines.append(f"    prov:generated {' , '.join(made)} ;")
        lines += [f"    kk:sourcePassage {w.passage(passage)} .", ""]
    for title, node in documents.items():
        first = next(d for d in case.documents if d["node"] == node)
        lines += [f"{node} a kk:{first['kind']} ;", f"    dct:title {_lit(title)} ;"]
        if first["created"]:
            era = f"  # {first['created'].text}" if first["created"].era else ""
            lines.append(f"    dct:created {first['created'].literal.replace('kk:fiscalYear', '')} ;{era}")
        lines += [f"    kk:sourcePassage {w.passage_list(d['passage'] for d in case.documents if d['node'] == node)} .", ""]
    for name, council in councils.items():
        lines += [f"{council} a kk:Council ;", f"    skos:prefLabel {_lit(name)} ;",
                  f"    kk:sourcePassage {w.passage_list(p for n, _, p in case.meetings if n == name)} .", ""]
    for x in case.components:
        text = " ".join([x["label"], *x["description"]])
        types = suggest(text, ACTIVITY_KEYWORDS) or ["survey"]
        comp_themes = suggest(text, THEME_KEYWORDS)
        lines += [f"{c}activity-{x['ordinal']} a kk:ComponentActivity ;", f"    rdfs:label {_lit(x['label'])} ;"]
        if x["description"]:
            lines.append(f"    dct:description {_lit(''.join(x['description']))} ;")
        lines.append(f"    kk:activityType {' , '.join('atype:' + t for t in types[:3])} ;  # REVIEW: suggested from keywords")
        organisations_ = organisations(root)
        for name, line in x.get("lecturers", []):
            if name in organisations_:  # by its exact name only; anything else is for the steward
                lines += [f"    prov:qualifiedAssociation [ a prov:Association ; prov:agent <{organisations_[name]}> ; prov:hadRole role:lecturer ] ;",
                          f"    prov:wasAssociatedWith <{organisations_[name]}> ;"]
            else:
                review.append(ReviewItem("unknown_organisation", f"講師の「{name}」はデータにない組織です。必要なら組織として記述してください。",
                                         f"The lecturer '{name}' is no organisation of the data: describe it if it matters.", line))
        if comp_themes:
            lines.append(f"    dct:subject {' , '.join('theme:' + t for t in comp_themes)} ;  # REVIEW: suggested from keywords")
        for item in x["survey"]:
            lines.append(f"    kk:surveyItem {_lit(item)} ;")
        findings = [f"{c}activity-{x['ordinal']}-feature-{i + 1}" for i in range(len(x["features"]))]
        challenges = [f"{c}activity-{x['ordinal']}-challenge-{i + 1}" for i in range(len(x["challenges"]))]
        if findings:
            lines.append(f"    kk:hasFeature {' , '.join(findings)} ;")
        if challenges:
            lines.append(f"    kk:hasChallenge {' , '.join(challenges)} ;")
        lines += [f"    kk:ordinal {x['ordinal']} ;", f"    kk:sourcePassage {w.passage_list(_spans(x['lines'], w))} .", ""]
        for kind, items, names in (("Feature", x["features"], findings), ("Challenge", x["challenges"], challenges)):
            for (text_, cited), name in zip(items, names):
                lines += [f"{name} a kk:{kind} ;", f"    dct:description {_lit(text_)} ;",
                          f"    kk:sourcePassage {w.passage_list(cited)} .", ""]
    for i, (text_, passage) in enumerate(case.futures):
        horizon = " kk:timeHorizon kk:ShortTerm ;" if "短期" in text_ and "長期" not in text_ else \
            " kk:timeHorizon kk:LongTerm ;" if "長期" in text_ and "短期" not in text_ else ""
        rests_on = dict.fromkeys(d["node"] for d in case.documents if d["owner"] == ("future", i))
        lines += [f"{c}future-{i + 1} a kk:FutureDirection ;", f"    dct:description {_lit(text_)} ;",
                  f"    kk:ordinal {i + 1} ;{horizon}"]
        if rests_on:
            lines.append(f"    prov:wasDerivedFrom {' , '.join(rests_on)} ;")
        lines += [f"    kk:sourcePassage {w.passage(passage)} .", ""]
    if case.evaluation:
        audiences = [a for pattern, a in AUDIENCES if pattern in case.evaluation][:1] or ["other-regions"]
        lines += [f"{c}evaluation a kk:Evaluation ;", f"    rdfs:label {_lit('評価: ' + case.title)} ;",
                  f"    kk:evaluates <{iri}> ;", f"    dct:description {_lit(case.evaluation)} ;",
                  f"    kk:usefulFor {' , '.join('aud:' + a for a in audiences)} ;  # REVIEW: from the evaluation's wording",
                  f"    dct:source <{source_iri}> ;", f"    kk:sourcePassage {w.passage(case.evaluation_passage)} .", ""]
    return lines


def _write_case(case: Case, w: _Writer, auth: Authority, review: list[ReviewItem], source_iri: str, root: Path):
    first_line = (case.title_passage or case.description_passage or Passage(1, 1, "")).start
    if not case.title:
        review.append(ReviewItem("no_title", "取組名が読み取れません。dct:title を書いてください。",
                                 "No title could be read: write the dct:title.", first_line, must=True))
    leads = _resolve(auth, case.lead_names, case.description + case.title, None, set(), review)
    lead_pref = leads[0][0].prefecture_code if leads else None
    context = case.description + case.evaluation + (case.title_passage.text if case.title_passage else "")
    partner_prefs = {b.prefecture_code for n, _ in case.partner_names for b in auth.candidates(n) if len(auth.candidates(n)) == 1}
    partners = _resolve(auth, case.partner_names, context, lead_pref, partner_prefs, review)
    if not leads:
        review.append(ReviewItem("no_lead", "実施主体が決まりません。団体コードで指定してください（role:lead）。",
                                 "The lead body is not resolved: give it by its code (role:lead).", first_line, must=True))
    slug_base = leads[0][0].latin.split("-")[0].lower() if leads and leads[0][0].latin else "draft"
    slug = f"{_slug(slug_base)}-{hashlib.sha1(case.title.encode()).hexdigest()[:6]}"
    iri = f"{BASE}id/initiative/{slug}"
    c = "case:"
    lines = [f"# --- {case.title or '(title to write)'} " + "-" * 20, "", f"@prefix case: <{iri}/> .", "",
             f"<{iri}> a kk:Initiative ;"]
    if case.title:
        note = "  # REVIEW: composed from the text (the sheet has none)" if case.composed_title else ""
        lines.append(f"    dct:title {_lit(case.title)} ;{note}")
    if case.composed_title:
        line = case.title_passage.start
        lines.append(f"    skos:editorialNote {_lit(f'出典のシートには表題がないため、本文（{line}行目）の文言から表題を構成した。')} , "
                     f"{_lit(f'The source sheet has no title; this one is composed from the wording of its line {line}.', 'en')} ;")
        review.append(ReviewItem("composed_title", f"シートに表題がないため、{line}行目から表題を構成しました。確かめてください。",
                                 f"The sheet has no title: one was composed from line {line}. Please confirm it.", line))
    if case.description:
        lines.append(f"    dct:description {_lit(case.description)} ;")
    else:
        review.append(ReviewItem("no_description", "取組の概要が読み取れません。dct:description を書いてください。",
                                 "No summary could be read: write the dct:description.", first_line, must=True))
    if case.category:
        lines.append(f"    kk:programmeCategory <{case.category}> ;")
    if case.fiscal_year:
        lines.append(f"    kk:fiscalYear {case.fiscal_year.year} ;  # REVIEW: the year the sheet reports on ({case.fiscal_year.text})")
        review.append(ReviewItem("fiscal_year", f"年度は {case.fiscal_passage.start} 行目の「{case.fiscal_year.text}」からとりました。",
                                 f"The fiscal year comes from '{case.fiscal_year.text}' on line {case.fiscal_passage.start}.",
                                 case.fiscal_passage.start))
    all_text = "\n".join(filter(None, [case.title, case.description, case.evaluation] +
                                [" ".join([x["label"], *x["description"]]) for x in case.components]))
    themes = suggest(all_text, THEME_KEYWORDS)
    if themes:
        lines.append(f"    dct:subject {' , '.join('theme:' + t for t in themes)} ;  # REVIEW: suggested from keywords")
        review.append(ReviewItem("themes_suggested", "テーマはキーワードからの提案です: " + "、".join(themes),
                                 "Themes are suggested from keywords: " + ", ".join(themes), first_line))
    else:
        review.append(ReviewItem("no_theme", "テーマを一つ以上選んでください（concept/theme）。",
                                 "Choose at least one theme (concept/theme).", first_line, must=True))
    associations = [(b, "lead") for b, _ in leads] + [(b, "partner") for b, _ in partners]
    groupings, known = _case_groupings(case, iri, leads, partners, root, review)
    qualified = [f"[ a prov:Association ; prov:agent lg:{b.code} ; prov:hadRole role:{r} ]" for b, r in associations]
    qualified += [f"[ a prov:Association ; prov:agent <{g['iri']}> ; prov:hadRole role:partner ]" for g in groupings if g["name"]]
    if qualified:
        lines.append("    prov:qualifiedAssociation " + " ,\n        ".join(qualified) + " ;")
        agents = [f"lg:{b.code}" for b, _ in associations] + [f"<{g['iri']}>" for g in groupings if g["name"]]
        lines.append(f"    prov:wasAssociatedWith {' , '.join(dict.fromkeys(agents))} ;")
    targets = [g["iri"] for g in groupings if not g["name"]] + [g["iri"] for g in known]
    if targets:
        lines.append("    kk:targetGrouping " + " , ".join(f"<{t}>" for t in targets) + " ;")
    if case.meetings:
        lines.append(f"    kk:backgroundEvent {' , '.join(f'{c}meeting-{i + 1}' for i in range(len(case.meetings)))} ;")
    if case.components:
        lines.append("    kk:hasComponent " + " , ".join(f"{c}activity-{x['ordinal']}" for x in case.components) + " ;")
    if case.futures:
        lines.append(f"    kk:hasFutureDirection {' , '.join(f'{c}future-{i + 1}' for i in range(len(case.futures)))} ;")
    if case.evaluation:
        lines.append(f"    kk:hasEvaluation {c}evaluation ;")
    documents: dict[str, str] = {}  # title → its node, one per title
    for doc in case.documents:
        doc["node"] = documents.setdefault(doc["title"], f"{c}document-{len(documents) + 1}")
    for relation, predicate in (("generated", "prov:generated"), ("basedOn", "kk:basedOn")):
        mine = dict.fromkeys(d["node"] for d in case.documents if d["owner"] == ("initiative",) and d["relation"] == relation)
        if mine:
            lines.append(f"    {predicate} {' , '.join(mine)} ;")
    cited = [case.title_passage, case.description_passage, case.fiscal_passage] + case.passages
    lines.append(f"    dct:source <{source_iri}> ;")
    lines.append(f"    kk:sourcePassage {w.passage_list(cited)} .")
    lines.append("")
    lines += _described_parts(case, iri, groupings, documents, w, root, review, source_iri)
    for line_, what in case.unread:
        review.append(ReviewItem("unread_table", f"{line_}行目の表は読み取っていません。必要なら手で記述してください。",
                                 f"The table on line {line_} was not read: model it by hand if it matters.", line_))
    review.append(ReviewItem("english", "英語の表題・説明は書かれていません（出典が日本語のため）。必要なら加えてください。",
                             "No English title or description is drafted (the source is in Japanese): add them if you can.",
                             first_line))
    return iri, lines


def _spans(numbers: list[int], w: _Writer) -> list[Passage]:
    """Consecutive line numbers as passages of the source's own lines."""
    spans, start = [], None
    for n in sorted(set(numbers)):
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            spans.append((start, prev))
            start = prev = n
    if start is not None:
        spans.append((start, prev))
    return [Passage(a, b, "\n".join(w.text_lines[a - 1:b])) for a, b in spans]


def draft(text: str, source_name: str, root: Path) -> Draft:
    """Draft every case of a text. Raises UnknownLayout when the text is in neither layout."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    lines = text.split("\n")
    layout = layout_of(lines)
    if layout is None:
        raise UnknownLayout()
    cases = read_summary(lines, _categories(root)) if layout == "summary" else read_sheet(lines)
    if not cases:
        raise UnknownLayout()
    if len(cases) > MAX_CASES:
        raise TooManyCases(len(cases))
    review: list[ReviewItem] = []
    auth = authority(root)
    turtle, initiatives = write(cases, layout, source_name, text, root, auth, review)
    review.sort(key=lambda r: (r.line or 0, not r.must, r.code))
    return Draft(layout, turtle, review, initiatives)


# --- measuring a draft against the curated cases --------------------------------------------------------

# The facts compared, per initiative (docs/drafting.md): Japanese texts NFKC-normalised; themes,
# activity types and English texts are left out (suggestions and translations, not readings).
FACTS = {
    "lead": "SELECT ?v WHERE { $i$ (prov:qualifiedAssociation|kk:hasComponent/prov:qualifiedAssociation) [ prov:hadRole role:lead ; prov:agent ?v ] }",
    "partner": "SELECT ?v WHERE { $i$ (prov:qualifiedAssociation|kk:hasComponent/prov:qualifiedAssociation) [ prov:hadRole role:partner ; prov:agent ?v ] FILTER (STRSTARTS(STR(?v), STR(lg:))) }",
    "lecturer": "SELECT ?v WHERE { $i$ kk:hasComponent/prov:qualifiedAssociation [ prov:hadRole role:lecturer ; prov:agent ?v ] }",
    "title": "SELECT ?v WHERE { $i$ dct:title ?v FILTER (lang(?v) = 'ja') }",
    "description": "SELECT ?v WHERE { $i$ dct:description ?v FILTER (lang(?v) = 'ja') }",
    "fiscal year": "SELECT ?v WHERE { $i$ kk:fiscalYear ?v }",
    "category": "SELECT ?v WHERE { $i$ kk:programmeCategory ?v }",
    "grouping count": "SELECT (CONCAT(STR(?n), '/', COALESCE(STR(?c), '-'), '/', COALESCE(STR(?t), '-'), '/', COALESCE(STR(?vi), '-')) AS ?v) "
                      "WHERE { $i$ kk:targetGrouping|prov:wasAssociatedWith ?g . ?g kk:memberCount ?n "
                      "OPTIONAL { ?g kk:cityCount ?c } OPTIONAL { ?g kk:townCount ?t } OPTIONAL { ?g kk:villageCount ?vi } }",
    "named member": "SELECT ?v WHERE { $i$ kk:targetGrouping|prov:wasAssociatedWith ?g . ?g foaf:member ?v }",
    "meeting": "SELECT (COALESCE(STR(?d), CONCAT(STR(?fy), '年度')) AS ?v) WHERE { $i$ kk:backgroundEvent ?m "
               "OPTIONAL { ?m dct:date ?d } OPTIONAL { ?m kk:fiscalYear ?fy } }",
    "council": "SELECT ?v WHERE { $i$ kk:backgroundEvent/kk:meetingOf/skos:prefLabel ?v FILTER (lang(?v) = 'ja') }",
    "document": "SELECT ?v WHERE { $i$ (kk:hasComponent|kk:backgroundEvent|kk:hasFutureDirection)?/(prov:generated|kk:basedOn|prov:wasDerivedFrom) ?d . "
                "?d dct:title ?v FILTER (lang(?v) = 'ja') }",
    "component": "SELECT (CONCAT(STR(?o), ' ', STR(?l)) AS ?v) WHERE { $i$ kk:hasComponent ?c . ?c kk:ordinal ?o ; rdfs:label ?l FILTER (lang(?l) = 'ja') }",
    "survey item": "SELECT ?v WHERE { $i$ kk:hasComponent/kk:surveyItem ?v }",
    "feature": "SELECT ?v WHERE { $i$ kk:hasComponent/kk:hasFeature/dct:description ?v FILTER (lang(?v) = 'ja') }",
    "challenge": "SELECT ?v WHERE { $i$ kk:hasComponent/kk:hasChallenge/dct:description ?v FILTER (lang(?v) = 'ja') }",
    "future": "SELECT ?v WHERE { $i$ kk:hasFutureDirection/dct:description ?v FILTER (lang(?v) = 'ja') }",
    "evaluation": "SELECT ?v WHERE { $i$ kk:hasEvaluation/dct:description ?v FILTER (lang(?v) = 'ja') }",
    "audience": "SELECT ?v WHERE { $i$ kk:hasEvaluation/kk:usefulFor ?v }",
    "passage line": "SELECT (CONCAT(STRAFTER(STR(?doc), '/source/'), ':', STR(?n)) AS ?v) WHERE { "
                    "$i$ (kk:sourcePassage|(kk:hasComponent|kk:hasEvaluation|kk:hasFutureDirection|kk:backgroundEvent|"
                    "kk:targetGrouping|kk:hasComponent/kk:hasFeature|kk:hasComponent/kk:hasChallenge)/kk:sourcePassage) ?p . "
                    "?p kk:startLine ?s ; kk:endLine ?e ; dct:isPartOf ?doc . VALUES ?n { $lines$ } FILTER (?n >= ?s && ?n <= ?e) }",
}


def case_facts(store: ox.Store, initiative: str, lines: int = 200) -> set[tuple[str, str]]:
    """The comparable facts of one initiative in a store (a draft's, or the project's)."""
    prologue = "".join(f"PREFIX {p}: <{ns}> " for p, ns in PREFIXES.items()) + f"PREFIX lg: <{BASE}id/lg/> PREFIX role: <{CONCEPT}role/> "
    found = set()
    for kind, sparql in FACTS.items():
        query = prologue + sparql.replace("$i$", f"<{initiative}>").replace("$lines$", " ".join(map(str, range(1, lines + 1))))
        for row in store.query(query, use_default_graph_as_union=True):
            value = row["v"].value
            found.add((kind, unicodedata.normalize("NFKC", value).replace(" ", "")))
    return found


def compare(draft_: Draft, curated: ox.Store, source_iri: str, context: list[Path] = ()) -> dict:
    """A draft fact by fact against the curated cases of the same source: recall, precision, and
    codes the draft names that the curated case does not (wrong codes). `context`: files the
    draft is read with, as it will be published among them (what it refers to, such as a
    grouping the project already has)."""
    drafted = ox.Store()
    drafted.load(draft_.turtle.encode("utf-8"), format=ox.RdfFormat.TURTLE)
    for path in context:
        drafted.load(path=str(path), format=ox.RdfFormat.TURTLE)
    ours = [r["i"].value for r in curated.query(
        f"SELECT ?i WHERE {{ ?i a <{KK}Initiative> ; <{PREFIXES['dct']}source> <{source_iri}> }} ORDER BY ?i",
        use_default_graph_as_union=True)]
    matched, found, wanted, wrong = [], 0, 0, []
    drafted_facts = {i: case_facts(drafted, i) for i in draft_.initiatives}
    by_kind: dict[str, list[int]] = {}
    used = set()
    for iri in ours:
        want = case_facts(curated, iri)
        best = max((i for i in draft_.initiatives if i not in used), default=None,
                   key=lambda i: len(want & drafted_facts[i]))
        got = drafted_facts.get(best, set()) if best else set()
        if best:
            used.add(best)
        hit = want & got
        matched.append({"curated": iri, "draft": best, "recall": len(hit) / max(1, len(want)),
                        "precision": len(hit) / max(1, len(got)), "missed": sorted(want - got), "extra": sorted(got - want)})
        found += len(hit)
        wanted += len(want)
        for kind in {k for k, _ in want | got}:
            counts = by_kind.setdefault(kind, [0, 0, 0])
            counts[0] += len({f for f in hit if f[0] == kind})
            counts[1] += len({f for f in want if f[0] == kind})
            counts[2] += len({f for f in got if f[0] == kind})
        codes = {v for k, v in got if k in ("lead", "partner", "named member")}
        wrong += sorted(codes - {v for k, v in want if k in ("lead", "partner", "named member")})
    drafted_total = sum(len(drafted_facts[i]) for i in used)
    return {"initiatives": len(ours), "drafted": len(draft_.initiatives), "recall": found / max(1, wanted),
            "precision": found / max(1, drafted_total), "facts": wanted, "wrong_codes": wrong, "cases": matched,
            "by_kind": by_kind}


def draft_and_check(text: str, source_name: str, root: Path, store_dir: Path | None = None):
    """A draft and the report of the check /validate makes of it (in this process: the CLI's way;
    the web app runs the check in its check workers and calls add_report)."""
    from .validation import submission  # the check reads the project; drafting alone does not need it

    made = draft(text, source_name, root)
    report = submission.check(made.turtle.encode("utf-8"), root, fmt="ttl", source=draft_name(source_name),
                              store_dir=store_dir)
    add_report(made, report)
    return made, report


def add_report(made: Draft, report) -> None:
    """What the shapes or the project's checks refuse joins the review list: a draft is complete
    only if it would validate."""
    for r in report.results:
        if r.severity == "Violation":
            made.review.append(ReviewItem("shapes", f"{r.message('ja')}（{r.focus}）", f"{r.message('en')} ({r.focus})",
                                          None, must=True, draft_line=r.line))


def draft_name(source_name: str) -> str:
    return f"{Path(source_name).stem}.draft.ttl"
