"""Each example query in queries/ returns exactly the answer read from the seeds."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from .conftest import ROOT

QUERIES = ROOT / "queries"
B = "https://w3id.org/kouiki/"
I = B + "id/initiative/"
LG = B + "id/lg/"

SAPPORO, HACHINOHE, UOZU, KORYO = (I + s for s in (
    "sapporo-senior-survey", "hachinohe-bus-network", "uozu-facilities-specialists", "koryo-facility-sharing"))
SAITAMA, NAGANO = I + "saitama-septic-tanks", I + "nagano-rpa-ai-joint-procurement"
YOKOHAMA_2019, YOKOHAMA_FORECAST = I + "yokohama-8cities-fy2019", I + "yokohama-future-forecast"


def plain(term):
    """A term as a comparable Python value: IRIs and strings as str, numbers as int."""
    if term is None:
        return None
    if isinstance(term, ox.Literal) and term.datatype.value.endswith(("#integer", "#decimal")):
        return int(term.value)
    return term.value


def run(store, name: str, *variables: str) -> list[tuple]:
    text = (QUERIES / name).read_text(encoding="utf-8")
    rows = store.query(text)
    return [tuple(plain(row[v]) for v in variables) for row in rows]


def test_every_query_has_a_bilingual_header():
    files = sorted(QUERIES.glob("*.rq"))
    assert len(files) >= 12
    for f in files:
        header = [line for line in f.read_text(encoding="utf-8").splitlines() if line.startswith("#")][:2]
        assert len(header) == 2, f
        assert any("\u3040" <= ch <= "\u9fff" for ch in header[0]), f"{f.name}: first line should be Japanese"
        assert header[1].isascii(), f"{f.name}: second line should be English"


def test_lead_and_partners(store):
    rows = run(store, "01-initiatives-lead-partners.rq", "initiative", "leadName", "partners")
    assert rows == [
        (HACHINOHE, "八戸市", "八戸圏域（1市6町1村）"),
        (KORYO, "広陵町", None),
        (NAGANO, "長野県", "市町村等（長野県と連携する団体）"),
        (SAITAMA, "埼玉県", None),
        (SAPPORO, "札幌市", None),
        (UOZU, "魚津市", "新川広域圏（2市2町）"),
        (YOKOHAMA_2019, "横浜市", rows[6][2]),
        (YOKOHAMA_FORECAST, "横浜市", "8市（横浜市ほか8市連携）"),
    ]
    # GROUP_CONCAT has no order: compare the seven partners of the FY2019 sheet as a set.
    assert set(rows[6][2].split("、")) == {"川崎市", "横須賀市", "鎌倉市", "藤沢市", "逗子市", "大和市", "町田市"}


def test_by_theme_includes_narrower_themes_and_parts(store):
    rows = run(store, "02-initiatives-by-theme.rq", "initiative")
    # 魚津市 (facility reorganisation), 広陵町 (joint use, booking system) and the
    # FY2019 sheet (direction item 図書館等、公共施設の相互利用).
    assert rows == [(KORYO,), (UOZU,), (YOKOHAMA_2019,)]


def test_by_category(store):
    rows = run(store, "03-initiatives-by-category.rq", "category", "initiative")
    c = B + "concept/category/"
    assert rows == [
        (c + "metropolitan", YOKOHAMA_FORECAST),
        (c + "municipal", HACHINOHE), (c + "municipal", KORYO), (c + "municipal", SAPPORO), (c + "municipal", UOZU),
        (c + "prefectural-support", NAGANO), (c + "prefectural-support", SAITAMA),
    ]


def test_by_prefecture(store):
    rows = run(store, "04-initiatives-by-prefecture.rq", "prefectureName", "initiative")
    assert rows == [
        ("北海道", SAPPORO), ("青森県", HACHINOHE), ("埼玉県", SAITAMA),
        ("東京都", YOKOHAMA_2019), ("東京都", YOKOHAMA_FORECAST),
        ("神奈川県", YOKOHAMA_2019), ("神奈川県", YOKOHAMA_FORECAST),
        ("富山県", UOZU), ("長野県", NAGANO), ("奈良県", KORYO),
    ]


def test_led_by_prefecture(store):
    assert run(store, "05-initiatives-led-by-prefecture.rq", "initiative", "prefectureName") == [
        (NAGANO, "長野県"), (SAITAMA, "埼玉県")]


def test_crossing_prefectural_border(store):
    rows = run(store, "06-initiatives-crossing-prefectural-border.rq", "initiative", "prefectures")
    assert rows == [(YOKOHAMA_2019, 2), (YOKOHAMA_FORECAST, 2)]  # 町田市 is in 東京都


def test_partners_of_yokohama(store):
    rows = run(store, "07-partners-of-body.rq", "partner", "partnerName", "initiatives")
    assert rows == [
        (LG + "132098", "町田市", 1), (LG + "141305", "川崎市", 1), (LG + "142018", "横須賀市", 1),
        (LG + "142042", "鎌倉市", 1), (LG + "142051", "藤沢市", 1), (LG + "142085", "逗子市", 1),
        (LG + "142131", "大和市", 1), (B + "id/org/eight-cities", "8市（横浜市ほか8市連携）", 1),
    ]


def test_meetings_timeline(store):
    rows = run(store, "08-meetings-timeline.rq", "label", "date", "fiscalYear")
    assert rows == [
        ("8市連携市長会議（2011年度）", None, 2011),
        ("8市連携市長会議（2018年7月）", "2018-07", None),
        ("8市連携部局長級会議（2019年1月）", "2019-01", None),
    ]


def test_documents_and_artefacts(store):
    rows = run(store, "09-documents-and-artefacts.rq", "title", "created", "initiative", "relation")
    assert sorted(rows, key=str) == sorted([
        ("基礎調査報告書", None, YOKOHAMA_2019, "generated"),
        ("基礎調査報告書", None, YOKOHAMA_2019, "used"),
        ("８市の未来予測", None, YOKOHAMA_FORECAST, "generated"),
        ("8市連携市長会議の規約", None, YOKOHAMA_2019, "generated"),
        ("八戸圏域地域公共交通網形成計画", "2019-03", HACHINOHE, "used"),
        ("再編実施計画（複数市町村を運行しているバス路線等に係るもの）", None, HACHINOHE, "generated"),
        ("地域間幹線路線バス分析シート", None, HACHINOHE, "generated"),
    ], key=str)


def test_challenges(store):
    rows = run(store, "10-challenges.rq", "initiative", "activityLabel", "text")
    assert rows == [
        (YOKOHAMA_2019, "8市の現状及び8市間における広域連携の課題に関する基礎調査",
         "統計データ等の収集・分析の過程で、各市のデータ様式や記載項目が異なる場合があった。"
         "書式等の統一により収集・分析作業の効率化が図られる。"),
        (YOKOHAMA_2019, "職員向け勉強会の開催", "2040年頃に中核を担う職員への意識醸成も必要。"),
    ]


def test_future_plans(store):
    rows = run(store, "11-future-plans.rq", "initiative", "ordinal", "horizon")
    assert rows == [(YOKOHAMA_2019, 1, "短期的"), (YOKOHAMA_2019, 2, "長期的"),
                    (YOKOHAMA_2019, 3, None), (YOKOHAMA_2019, 4, None)]


def test_provenance_of_a_fact(store):
    rows = run(store, "12-provenance-of-a-fact.rq", "fileName", "startLine", "endLine", "passage")
    assert [r[:3] for r in rows] == [("000_05f34e0fc86adcb0.txt", 13, 15), ("000_05f34e0fc86adcb0.txt", 17, 20)]
    assert "「地域間幹線路線バス分析シート」を作成し" in rows[0][3]
    assert "析シートを作成し、中長期的な担当者のスキルアップ" in rows[1][3]


def test_evaluations_by_audience(store):
    a = B + "concept/audience/"
    assert run(store, "13-evaluations-by-audience.rq", "initiative", "audience") == [
        (HACHINOHE, a + "other-regions"), (KORYO, a + "other-regions"), (NAGANO, a + "other-prefectures"),
        (SAITAMA, a + "other-prefectures"), (SAPPORO, a + "other-regions"), (UOZU, a + "other-regions"),
        (YOKOHAMA_FORECAST, a + "metropolitan-municipalities"),
    ]


def test_groupings_and_counts(store):
    o = B + "id/org/"
    assert run(store, "14-groupings-and-counts.rq", "grouping", "members", "cities", "towns", "villages",
               "namedMembers") == [
        (NAGANO + "/municipalities", None, None, None, None, 0),
        (o + "eight-cities", 8, 8, None, None, 8),
        (o + "hachinohe-area", 8, 1, 6, 1, 0),
        (o + "koryo-study-3-cities-4-towns", 7, 3, 4, None, 0),
        (o + "niikawa-area", 4, 2, 2, None, 0),
        (o + "sapporo-area", None, None, None, None, 0),
    ]


def test_roles_across_initiatives(store):
    rows = run(store, "15-roles-across-initiatives.rq", "roleLabel", "agentName", "where")
    counts: dict[str, int] = {}
    for role, _, _ in rows:
        counts[role] = counts.get(role, 0) + 1
    assert counts == {"実施主体": 8, "連携主体": 11, "事務局": 1, "講師": 1, "外部有識者": 1}
    assert ("講師", "総務省自治行政局市町村課", YOKOHAMA_2019 + "/activity-2") in rows
    assert ("事務局", "長野県", NAGANO) in rows
    assert ("外部有識者", "外部有識者", SAPPORO) in rows


def test_every_query_has_a_line_and_tags_for_the_gallery(store_dir):
    from kouiki_kg.app import create_app
    from kouiki_kg.config import Config
    from kouiki_kg.views.sparql import EXAMPLE_TAGS, example_queries

    with create_app(Config.from_env(root=ROOT, store_dir=store_dir)).app_context():
        examples = example_queries()
    assert len(examples) == len(list(QUERIES.glob("*.rq")))
    for ex in examples:
        assert ex["summary"]["ja"] and ex["summary"]["en"].isascii() and ex["summary"]["ja"] != ex["summary"]["en"], ex["name"]
        assert ex["tags"] and set(ex["tags"]) <= set(EXAMPLE_TAGS), ex["name"]
    views = {tag for ex in examples for tag in ex["tags"] if tag in ("map", "chart", "timeline", "network")}
    assert views == {"map", "chart", "timeline", "network"}  # an example for each result view


def test_map_of_bodies_taking_part(store):
    rows = run(store, "16-map-of-bodies-taking-part.rq", "body", "roleName", "initiative")
    assert (LG + "294268", "実施主体", KORYO) in rows and (LG + "200000", "事務局", NAGANO) in rows
    assert {(LG + code, "連携主体", YOKOHAMA_2019) for code in ("132098", "141305", "142018", "142042", "142051", "142085", "142131")} <= set(rows)
    assert len({body for body, _, _ in rows}) == 14  # the bodies with coordinates: no grouping given only as a count


def test_initiatives_per_theme(store):
    rows = run(store, "17-initiatives-per-theme-chart.rq", "theme", "initiatives")
    counts = {theme.rsplit("/", 1)[1]: n for theme, n in rows}
    assert counts["human-resources"] == 5 and counts["transport"] == 2 and sum(counts.values()) == 26
    assert [n for _, n in rows] == sorted((n for _, n in rows), reverse=True)


def test_network_of_initiatives_and_bodies(store):
    graph = list(store.query((QUERIES / "18-network-of-initiatives-and-bodies.rq").read_text(encoding="utf-8")))
    links = {(t.subject.value, t.object.value) for t in graph if t.predicate.value.endswith("wasAssociatedWith")}
    assert (KORYO, LG + "294268") in links and (HACHINOHE, B + "id/org/hachinohe-area") in links
    assert len({s for s, _ in links}) == 8
