"""Local-government authority data: codes, check digits, hierarchy, and reproducible generation."""

from __future__ import annotations

import pytest

from kouiki_kg import authority
from kouiki_kg.namespaces import LG

from .conftest import LOCALGOVJP, ROOT
from .test_seed_fidelity import select

COMMITTED = ROOT / "data" / "ttl" / "authority" / "local-governments.ttl"

# Codes verified for the bodies the seeds (and the issue) name: code → (name, prefecture).
VERIFIED = {
    "011002": ("札幌市", "北海道"), "022039": ("八戸市", "青森県"), "024414": ("三戸町", "青森県"),
    "024422": ("五戸町", "青森県"), "024431": ("田子町", "青森県"), "024457": ("南部町", "青森県"),
    "024465": ("階上町", "青森県"), "024503": ("新郷村", "青森県"), "024121": ("おいらせ町", "青森県"),
    "162043": ("魚津市", "富山県"), "162078": ("黒部市", "富山県"), "163422": ("入善町", "富山県"),
    "163431": ("朝日町", "富山県"), "294268": ("広陵町", "奈良県"), "110001": ("埼玉県", None),
    "200000": ("長野県", None), "141003": ("横浜市", "神奈川県"), "141305": ("川崎市", "神奈川県"),
    "142018": ("横須賀市", "神奈川県"), "142042": ("鎌倉市", "神奈川県"), "142051": ("藤沢市", "神奈川県"),
    "142085": ("逗子市", "神奈川県"), "142131": ("大和市", "神奈川県"), "132098": ("町田市", "東京都"),
}


@pytest.mark.parametrize("first_five,digit", [("01100", "2"), ("02203", "9"), ("20000", "0"), ("13209", "8"),
                                              ("29426", "8"), ("01000", "6")])
def test_check_digit(first_five, digit):
    assert authority.check_digit(first_five) == digit


def test_invalid_codes_are_rejected():
    assert not authority.is_valid_code("022038")
    assert not authority.is_valid_code("02203")
    assert not authority.is_valid_code("02203X")
    with pytest.raises(ValueError):
        authority.check_digit("1234")


def test_regenerating_reproduces_the_committed_file(tmp_path):
    out = tmp_path / "lg.ttl"
    assert authority.generate(LOCALGOVJP, out) == 1963
    assert out.read_bytes() == COMMITTED.read_bytes()


def test_all_bodies_with_valid_codes_and_kinds(store):
    rows = select(store, """
        SELECT ?kind (COUNT(?lg) AS ?n) WHERE { ?lg kk:localGovernmentCode ?code ; a ?kind } GROUP BY ?kind""")
    counts = {r["kind"].rsplit("#", 1)[1]: int(r["n"]) for r in rows}
    assert counts == {"Prefecture": 47, "City": 772, "DesignatedCity": 20, "Town": 743, "Village": 183,
                      "SpecialWard": 23, "DesignatedCityWard": 175}
    codes = [r["code"] for r in select(store, "SELECT ?code WHERE { ?lg kk:localGovernmentCode ?code }")]
    assert len(codes) == len(set(codes)) == 1963
    assert all(authority.is_valid_code(c) for c in codes)


@pytest.mark.parametrize("code", sorted(VERIFIED))
def test_verified_codes(store, code):
    name, prefecture = VERIFIED[code]
    body = f"<{LG}{code}>"
    rows = select(store, f"""
        SELECT ?name ?pref ?estat WHERE {{
          {body} skos:prefLabel ?name ; skos:exactMatch ?estat . FILTER (lang(?name) = "ja")
          OPTIONAL {{ {body} kk:prefecture/skos:prefLabel ?pref . FILTER (lang(?pref) = "ja") }} }}""")
    assert rows == [{"name": name, "pref": prefecture, "estat": f"http://data.e-stat.go.jp/lod/sac/C{code[:5]}"}]


def test_same_names_in_several_prefectures_are_told_apart_by_code(store):
    rows = select(store, """
        SELECT ?code ?pref WHERE { ?lg skos:prefLabel "南部町"@ja ; kk:localGovernmentCode ?code ;
          kk:prefecture/skos:prefLabel ?pref FILTER (lang(?pref) = "ja") } ORDER BY ?code""")
    assert len(rows) >= 3
    assert {"code": "024457", "pref": "青森県"} in rows


def test_wards_have_their_city(store):
    rows = select(store, """
        SELECT ?city WHERE { <https://w3id.org/kouiki/id/lg/011011> kk:parentCity/skos:prefLabel ?city }""")
    assert rows == [{"city": "札幌市"}]


def test_prefectures_have_english_names_and_kana(store):
    rows = select(store, """
        SELECT ?en ?kana WHERE { <https://w3id.org/kouiki/id/lg/110001> skos:prefLabel ?en ; kk:nameKana ?kana
          FILTER (lang(?en) = "en") }""")
    assert rows == [{"en": "Saitama", "kana": "さいたまけん"}]
