"""UI strings in Japanese and English: one table, looked up by key in templates as t('key')."""

from __future__ import annotations

STRINGS = {
    "site": {"ja": "広域連携ナレッジグラフ", "en": "Kouiki KG"},
    "tagline": {"ja": "日本の地方公共団体による広域連携の Linked Open Data",
                "en": "Linked open data on inter-municipal collaboration in Japan"},
    "nav.sparql": {"ja": "SPARQL", "en": "SPARQL"},
    "nav.dataset": {"ja": "データセット", "en": "Dataset"},
    "nav.api": {"ja": "API", "en": "API"},
    "lang.switch": {"ja": "English", "en": "日本語"},
    "sparql.title": {"ja": "SPARQL 問い合わせ", "en": "SPARQL query"},
    "sparql.intro": {"ja": "SPARQL 1.1 で問い合わせできます。kk:, dct:, prov:, skos: などの接頭辞はあらかじめ宣言済みです。"
                           "例の問い合わせを選んで実行してみてください。",
                     "en": "Ask the graph in SPARQL 1.1. Common prefixes (kk:, dct:, prov:, skos: …) are predeclared. "
                           "Pick an example query and run it."},
    "sparql.examples": {"ja": "問い合わせの例", "en": "Example queries"},
    "sparql.download": {"ja": "結果をダウンロード", "en": "Download results"},
    "sparql.share": {"ja": "この問い合わせの URL をコピー", "en": "Copy a link to this query"},
    "sparql.copied": {"ja": "URL をコピーしました", "en": "Link copied"},
    "sparql.endpoint": {"ja": "エンドポイント", "en": "Endpoint"},
    "sparql.limits": {"ja": "制限時間 {timeout} 秒、最大 {rows} 行。",
                      "en": "Time limit {timeout} s, at most {rows} rows."},
    "dataset.title": {"ja": "データセット", "en": "Dataset"},
    "dataset.triples": {"ja": "トリプル数", "en": "Triples"},
    "dataset.entities": {"ja": "エンティティ数", "en": "Entities"},
    "dataset.modified": {"ja": "更新日時", "en": "Modified"},
    "dataset.license": {"ja": "ライセンス", "en": "Licence"},
    "dataset.distributions": {"ja": "配布形式", "en": "Distributions"},
    "dataset.classes": {"ja": "主なクラス", "en": "Main classes"},
    "dataset.formats": {"ja": "この記述の機械可読な形式", "en": "This description, machine-readable"},
    "dataset.class": {"ja": "クラス", "en": "Class"},
    "dataset.count": {"ja": "件数", "en": "Count"},
}


def translate(key: str, lang: str, **values) -> str:
    entry = STRINGS[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text
