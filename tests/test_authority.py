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
        SELECT ?city WHERE { <https://w3id.org/kouiki/id/lg/011011> kk:parentCity/skos:prefLabel ?city
          FILTER (lang(?city) = "ja") }""")
    assert rows == [{"city": "札幌市"}]


def test_prefectures_have_english_names_and_kana(store):
    rows = select(store, """
        SELECT ?en ?kana WHERE { <https://w3id.org/kouiki/id/lg/110001> skos:prefLabel ?en ; kk:nameKana ?kana
          FILTER (lang(?en) = "en") }""")
    assert rows == [{"en": "Saitama Prefecture", "kana": "さいたまけん"}]


def test_every_body_has_a_romanised_and_an_english_name_with_its_method(store):
    rows = select(store, """
        SELECT (COUNT(DISTINCT ?b) AS ?n) WHERE { ?b kk:localGovernmentCode [] ; skos:prefLabel ?en , ?latn ;
          kk:latinNamesMadeBy/a prov:Plan FILTER (lang(?en) = "en" && lang(?latn) = "ja-latn") }""")
    assert rows == [{"n": "1963"}]


@pytest.mark.parametrize("code, romanised, english", [
    ("141003", "Yokohama-shi", "Yokohama City"), ("022039", "Hachinohe-shi", "Hachinohe City"),
    ("294268", "Koryo-cho", "Koryo Town"), ("140007", "Kanagawa-ken", "Kanagawa Prefecture"),
    ("130001", "Tokyo-to", "Tokyo Metropolis"), ("010006", "Hokkaido", "Hokkaido"),
    ("011011", "Sapporo-shi Chuo-ku", "Chuo Ward, Sapporo City"), ("131016", "Chiyoda-ku", "Chiyoda City"),
    ("024503", "Shingo-mura", "Shingo Village"), ("122181", "Katsuura-shi", "Katsuura City"),
    ("222151", "Gotemba-shi", "Gotemba City"), ("192082", "Minami-Alps-shi", "Minami-Alps City"),
    ("442127", "Bungo-ono-shi", "Bungo-ono City"), ("034827", "Yamada-machi", "Yamada Town"),
])
def test_latin_names(code, romanised, english):
    bodies = {b.code: b for b in authority.read_bodies(LOCALGOVJP)}
    body = bodies[code]
    assert authority.latin_names(body, bodies.get(body.parent_city_code or "")) == (romanised, english)


# Municipalities whose web address spells their name in no Hepburn way (ohtawara, suttu) or not at
# all (www.tokara.jp): they keep the rule's spelling (docs/romanisation.md lists them with reasons).
NOT_IN_THEIR_ADDRESS = {"013927", "014281", "014541", "063657", "092100", "123498", "133825", "184837", "282049",
                        "324493", "345458", "423211", "442127", "463043"}


def test_names_agree_with_the_bodies_own_web_addresses():
    """The check against the `url` column: of 1,741 municipalities, every one whose address spells
    its name in Hepburn is romanised as it does; the others are exactly the listed exceptions."""
    from urllib.parse import urlsplit

    differ = set()
    municipalities = [b for b in authority.read_bodies(LOCALGOVJP) if b.kind not in ("Prefecture", "DesignatedCityWard")]
    for body in municipalities:
        stem = authority.latin_names(body)[0].rsplit("-", 1)[0].lower().replace("-", "")
        if stem not in (urlsplit(body.url).hostname or "").replace("-", ""):
            differ.add(body.code)
    assert len(municipalities) == 1741 and differ == NOT_IN_THEIR_ADDRESS
