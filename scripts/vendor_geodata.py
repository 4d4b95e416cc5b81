"""Rebuild kouiki_kg/static/geo/japan.geojson, the outlines every map draws, from two packages.

    python scripts/vendor_geodata.py          # needs npm and pip on the path, and the network to their registries

- Land (Japan and, lighter, its neighbours inside the frame): Natural Earth 1:10m admin-0
  countries (public domain) as shipped by the npm package world-atlas 2.0.2 (ISC).
- Prefecture borders: the lines between two prefectures in the PyPI package japanmap 0.6.0
  (Apache-2.0), whose points are longitude/latitude. Only borders between prefectures are kept:
  the coast comes from Natural Earth, so the two sources never draw two coastlines.

Municipal outlines are not included: no package on either registry ships them under a licence
we could check (see docs/architecture.md, "Maps").

The output is plain GeoJSON (RFC 7946), rounded to 1e-4° (~10 m), and is read by pictures.py
(server-side SVG) and by the query editor's map view. Run again only to change the sources.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from shapely import make_valid
from shapely.geometry import MultiPolygon, Polygon, box, mapping

OUT = Path(__file__).resolve().parent.parent / "kouiki_kg" / "static" / "geo" / "japan.geojson"
FRAME = box(120.0, 23.0, 150.5, 46.6)  # Yonaguni to Wakkanai, with the sea around
JAPAN = "392"  # ISO 3166-1 numeric, the id world-atlas gives each country


def topology_features(topology: dict, name: str) -> list[dict]:
    """Decode a quantized TopoJSON object into GeoJSON features (TopoJSON spec §2.1–2.2)."""
    scale, translate = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * scale[0] + translate[0], y * scale[1] + translate[1]))
        arcs.append(points)

    def ring(indexes: list[int]) -> list:
        points: list = []
        for index in indexes:
            arc = arcs[index] if index >= 0 else arcs[~index][::-1]
            points.extend(arc if not points else arc[1:])
        return points

    features = []
    for geometry in topology["objects"][name]["geometries"]:
        if geometry["type"] == "Polygon":
            coordinates = [[ring(r) for r in geometry["arcs"]]]
        elif geometry["type"] == "MultiPolygon":
            coordinates = [[ring(r) for r in polygon] for polygon in geometry["arcs"]]
        else:
            continue
        features.append({"id": geometry.get("id"), "properties": geometry.get("properties", {}),
                         # rings of fewer than 4 points are specks the quantization collapsed
                         "geometry": MultiPolygon([Polygon(p[0], [h for h in p[1:] if len(h) >= 4])
                                                   for p in coordinates if len(p[0]) >= 4])})
    return features


def rounded(geometry: dict) -> dict:
    def walk(value):
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], float):
            return [round(value[0], 4), round(value[1], 4)]
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        return value
    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", "world-atlas@2.0.2", "--pack-destination", tmp], check=True, capture_output=True)
        with tarfile.open(Path(tmp) / "world-atlas-2.0.2.tgz") as tar:
            topology = json.load(tar.extractfile("package/countries-10m.json"))
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, "japanmap==0.6.0"], check=True)
        with zipfile.ZipFile(next(Path(tmp).glob("japanmap-0.6.0-*.whl"))) as wheel:
            points, prefectures = json.loads(wheel.read("japanmap/japan.json"))

    features = []
    for country in topology_features(topology, "countries"):
        clipped = make_valid(country["geometry"]).intersection(FRAME)
        clipped = MultiPolygon([p for p in getattr(clipped, "geoms", [clipped]) if isinstance(p, Polygon)]
                               + [q for p in getattr(clipped, "geoms", []) if isinstance(p, MultiPolygon) for q in p.geoms])
        if clipped.is_empty:
            continue
        if country["id"] != JAPAN:  # neighbours only as context: coarser is enough
            clipped = clipped.simplify(0.01)
        features.append({"type": "Feature", "id": "japan" if country["id"] == JAPAN else f"land-{country['id']}",
                         "properties": {"kind": "japan" if country["id"] == JAPAN else "neighbour",
                                        "name": country["properties"].get("name", "")},
                         "geometry": rounded(mapping(clipped))})

    # japanmap: prefecture k's boundary is a list of (neighbour code, point indexes); code 0 is the sea.
    # Each border between two prefectures appears twice (once from each side): keep it once.
    borders, seen = [], set()
    for code, boundary in enumerate(prefectures, start=1):
        for neighbour, indexes in boundary:
            key = (min(code, neighbour), max(code, neighbour), frozenset(indexes))
            if neighbour == 0 or key in seen:
                continue
            seen.add(key)
            borders.append([[round(points[i][0][0], 4), round(points[i][0][1], 4)] for i in indexes])
    features.append({"type": "Feature", "id": "prefecture-borders", "properties": {"kind": "borders"},
                     "geometry": {"type": "MultiLineString", "coordinates": borders}})

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                              separators=(",", ":")) + "\n")
    print(f"{OUT}: {len(features) - 1} land features, {len(borders)} prefecture borders, {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
