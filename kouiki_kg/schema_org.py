"""schema.org JSON-LD embedded in every HTML page, so search engines and portals read it."""

from __future__ import annotations

import json

from markupsafe import Markup

from .namespaces import BASE


def _names(nodes) -> list[dict]:
    return [{"@value": n.value, "@language": n.lang} if n.lang else n.value for n in nodes]


def describe(kind: str, iri: str, data: dict, url: str) -> dict:
    common = {"@context": "https://schema.org/", "@id": iri, "url": url}
    if kind == "initiative":
        return {**common, "@type": "Project", "name": _names(data["titles"]),
                "description": data["description"] or "",
                "keywords": [t.text for t in data["themes"]],
                "member": [{"@id": a["agent"].iri, "name": a["agent"].text} for a in data["associations"]
                           if a["agent"].iri and a["where"].iri == iri],
                "isBasedOn": [s.iri for s in data["sources"]]}
    if kind in ("local_government", "organisation"):
        out = {**common, "@type": "GovernmentOrganization", "name": _names(data["names"])}
        if data.get("code"):
            out["identifier"] = data["code"]
        if data.get("homepage"):
            out["sameAs"] = [h.iri for h in data["homepage"]] + [e.iri for e in data.get("estat", [])]
        if data.get("prefecture"):
            out["parentOrganization"] = {"@id": data["prefecture"][0].iri, "name": data["prefecture"][0].text}
        return out
    if kind == "concept":
        return {**common, "@type": "DefinedTerm", "name": _names(data["labels"]), "description": data["definition"] or "",
                "inDefinedTermSet": [s.iri for s in data["scheme"]]}
    if kind == "scheme":
        return {**common, "@type": "DefinedTermSet", "name": data["label"] or ""}
    if kind == "source":
        return {**common, "@type": "CreativeWork", "name": data["title"] or "", "license": [l.iri for l in data["license"]]}
    if kind == "home":
        return {"@context": "https://schema.org/", "@type": "Dataset", "@id": BASE + "dataset", "url": url,
                "name": data["name"], "description": data["description"],
                "license": "https://creativecommons.org/licenses/by/4.0/",
                "distribution": [{"@type": "DataDownload", "contentUrl": BASE + "dumps/kouiki.nq.gz",
                                  "encodingFormat": "application/n-quads"}]}
    return {**common, "@type": "Thing", "name": data.get("label") or iri}


def script(document: dict) -> Markup:
    """A <script type="application/ld+json"> block; '<' escaped so no literal can close it."""
    text = json.dumps(document, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(f'<script type="application/ld+json">{text}</script>')
