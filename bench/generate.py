"""Synthetic data shaped like Kouiki KG's, at a chosen size, deterministic (seeded).

Writes a project folder (ontology, shapes, the real authority data, the real seed cases) plus
`data/ttl/synthetic/part-NNNN.ttl` files of generated initiatives: actors drawn from the real
local-government codes, roles, themes, component activities, meetings with dates, documents,
evaluations and Japanese source passages, each initiative about 72 triples. The generated
cases conform to the shapes (the facts are fiction: benchmark data only, never published).

    python bench/generate.py --triples 1000000 --out /tmp/kouiki-1m
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PER_FILE = 500  # initiatives per generated file (one named graph each)
TRIPLES_PER_INITIATIVE = 72  # measured: what one generated initiative holds

PHRASES = ["人口減少に対応した", "圏域全体で", "持続可能な", "住民の利便性向上のため", "専門人材を活用しながら",
           "複数市町村が連携して", "客観的なデータをもとに", "中長期的な視点で", "広域的な", "共同で"]
TOPICS = ["公共交通の再編", "公共施設の相互利用", "空き家対策", "森林整備", "共同調達", "職員の人材育成", "観光振興",
          "災害対応", "子育て支援", "行政事務のデジタル化", "浄化槽の整備", "高齢者の社会参画"]
ACTIONS = ["の検討を行う。", "に向けた調査を実施する。", "の方針を取りまとめる。", "について協議する。", "の実証を行う。"]

PREFIXES = """@prefix kk:    <https://w3id.org/kouiki/ontology#> .
@prefix dct:   <http://purl.org/dc/terms/> .
@prefix prov:  <http://www.w3.org/ns/prov#> .
@prefix rdfs:  <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:   <http://www.w3.org/2001/XMLSchema#> .
@prefix lg:    <https://w3id.org/kouiki/id/lg/> .
@prefix role:  <https://w3id.org/kouiki/concept/role/> .
@prefix theme: <https://w3id.org/kouiki/concept/theme/> .
@prefix cat:   <https://w3id.org/kouiki/concept/category/> .
@prefix atype: <https://w3id.org/kouiki/concept/activity-type/> .
@prefix aud:   <https://w3id.org/kouiki/concept/audience/> .
@prefix i:     <https://w3id.org/kouiki/id/initiative/> .
@prefix doc:   <https://w3id.org/kouiki/id/document/> .
@prefix src:   <https://w3id.org/kouiki/source/> .
"""


def concepts(scheme: str) -> list[str]:
    text = (ROOT / "ontology" / "schemes" / f"{scheme}.ttl").read_text(encoding="utf-8")
    prefix = {"themes": "theme", "activity-types": "atype"}[scheme]
    return sorted(set(re.findall(rf"^{prefix}:([a-z0-9-]+) a skos:Concept", text, re.M)))


def municipality_codes() -> list[str]:
    text = (ROOT / "data" / "ttl" / "authority" / "local-governments.ttl").read_text(encoding="utf-8")
    return re.findall(r"^lg:(\d{6}) a kk:(?:City|DesignatedCity|Town|Village|SpecialWard) ;", text, re.M)


def sentence(rng: random.Random) -> str:
    return rng.choice(PHRASES) + rng.choice(TOPICS) + rng.choice(ACTIONS)


def initiative(n: int, rng: random.Random, codes: list[str], themes: list[str], types: list[str]) -> str:
    slug = f"synthetic-{n:07d}"
    case = f"<https://w3id.org/kouiki/id/initiative/{slug}/"
    source = f"src:synthetic-{n:07d}"
    passage = f"<https://w3id.org/kouiki/source/synthetic-{n:07d}/L1-L3>"
    lead, *partners = rng.sample(codes, rng.randint(2, 7))
    year = rng.randint(2011, 2024)
    text = "".join(sentence(rng) for _ in range(rng.randint(2, 4)))
    parts = [f"""i:{slug} a kk:Initiative ;
    dct:title "{rng.choice(TOPICS)}に関する広域連携（合成データ {n}）"@ja , "Synthetic initiative {n}"@en ;
    dct:description "{text}"@ja ;
    kk:programmeCategory cat:{rng.choice(["municipal", "prefectural-support", "metropolitan"])} ;
    dct:subject {", ".join(f"theme:{t}" for t in rng.sample(themes, 3))} ;
    kk:fiscalYear {year} ;
    prov:qualifiedAssociation [ a prov:Association ; prov:agent lg:{lead} ; prov:hadRole role:lead ]"""
             + "".join(f""" ,
        [ a prov:Association ; prov:agent lg:{p} ; prov:hadRole role:partner ]""" for p in partners) + f""" ;
    prov:wasAssociatedWith {", ".join(f"lg:{c}" for c in [lead, *partners])} ;
    kk:hasComponent {", ".join(f"{case}activity-{k}>" for k in (1, 2, 3))} ;
    kk:hasEvaluation {case}evaluation> ;
    prov:generated doc:synthetic-{n:07d} ;
    dct:source {source} ;
    kk:sourcePassage {passage} ."""]
    for k in (1, 2, 3):
        parts.append(f"""{case}activity-{k}> a kk:ComponentActivity ;
    rdfs:label "{rng.choice(TOPICS)}の{k}"@ja ;
    dct:description "{sentence(rng)}"@ja ;
    kk:activityType atype:{rng.choice(types)} ;
    kk:ordinal {k} ;
    kk:sourcePassage {passage} .""")
    parts.append(f"""{case}evaluation> a kk:Evaluation ;
    rdfs:label "評価: 合成事例 {n}"@ja , "Evaluation: synthetic case {n}"@en ;
    kk:evaluates i:{slug} ;
    dct:description "{sentence(rng)}他の地域においても参考となり得る。"@ja ;
    kk:usefulFor aud:other-regions ;
    dct:source {source} ;
    kk:sourcePassage {passage} .""")
    parts.append(f"""doc:synthetic-{n:07d} a kk:Plan ;
    dct:title "{rng.choice(TOPICS)}計画（合成 {n}）"@ja ;
    dct:created "{year}-{rng.randint(1, 12):02d}"^^xsd:gYearMonth ;
    kk:sourcePassage {passage} .""")
    parts.append(f"""{source} a kk:SourceDocument ;
    dct:title "合成データの出典 {n}"@ja ;
    kk:fileName "synthetic-{n:07d}.txt" .""")
    parts.append(f"""{passage} a kk:SourcePassage ;
    rdfs:label "出典 synthetic-{n:07d} 1–3行"@ja , "Source synthetic-{n:07d}, lines 1–3"@en ;
    dct:isPartOf {source} ;
    kk:startLine 1 ; kk:endLine 3 ;
    prov:value "{text}"@ja .""")
    return "\n\n".join(parts) + "\n"


def generate(triples: int, out: Path, seed: int = 1) -> int:
    """Write the project folder; returns the number of synthetic initiatives."""
    if out.exists():
        shutil.rmtree(out)
    for folder in ("ontology", "shapes", "data/ttl", "queries"):
        shutil.copytree(ROOT / folder, out / folder)
    rng = random.Random(seed)
    codes, themes, types = municipality_codes(), concepts("themes"), concepts("activity-types")
    base = 24_000  # what the real project already holds
    count = max(0, (triples - base) // TRIPLES_PER_INITIATIVE)
    synthetic = out / "data" / "ttl" / "synthetic"
    synthetic.mkdir(parents=True)
    for start in range(0, count, PER_FILE):
        body = [PREFIXES] + [initiative(n, rng, codes, themes, types) for n in range(start, min(start + PER_FILE, count))]
        (synthetic / f"part-{start // PER_FILE:04d}.ttl").write_text("\n".join(body), encoding="utf-8")
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    count = generate(args.triples, args.out, args.seed)
    print(f"wrote {count} synthetic initiatives to {args.out}")


if __name__ == "__main__":
    main()
