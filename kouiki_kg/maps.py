"""Maps of Japan drawn on the server as SVG: they work without JavaScript and fetch nothing.

The outlines are static/geo/japan.geojson (Natural Earth land, public domain, via world-atlas;
prefecture borders from japanmap, Apache-2.0; rebuilt by scripts/vendor_geodata.py). A map
zooms to the bodies it shows, with an inset of all Japan marking where it is; bodies are
coloured by role and labelled, labels placed where they overlap nothing already drawn.

Every text that comes from data is XML-escaped here; the result is marked safe for Jinja.
"""

from __future__ import annotations

import functools
import json
import math
import unicodedata
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from markupsafe import Markup
from shapely import clip_by_rect
from shapely.geometry import shape

from .i18n import translate
from .markup import escaped

GEOJSON = Path(__file__).parent / "static" / "geo" / "japan.geojson"
JAPAN = (122.8, 24.0, 146.0, 45.7)  # west, south, east, north: Yonaguni to Wakkanai and Nemuro
# The map's own units. CSS scales a map to its box: one drawn 480 wide for screens, one 330 wide
# for phones (the same labels, larger against the land), and shows the one that fits.
WIDTHS = {"wide": 480, "narrow": 330}
INSET = 110
FONT = 11

# One colour per role, told apart by people with the common colour-vision deficiencies
# (Okabe–Ito palette); a role not listed here is grey. site.css repeats them for the legend
# (.swatch.role-*): the Content-Security-Policy allows no style attributes.
ROLE_COLOURS = {
    "lead": "#0072B2", "partner": "#009E73", "secretariat": "#CC79A7", "lecturer": "#D55E00",
    "external-expert": "#8a6d00", "member": "#56B4E9", "other": "#6b7785",
}
ROLE_ORDER = list(ROLE_COLOURS)


@dataclass
class Place:
    """A body on the map: where it is, what to call it, its role there."""
    name: str
    lat: float
    long: float
    role: str = "other"  # a ROLE_COLOURS key
    href: str | None = None
    lang: str = ""  # the name's language when it differs from the page's


@dataclass
class Area:
    """A grouping given only as a count ("3市4町"): drawn as a ring of that count around a place,
    never as invented members."""
    name: str
    count: int
    lat: float
    long: float


@functools.cache
def _outlines():
    features = json.loads(GEOJSON.read_text(encoding="utf-8"))["features"]
    japan = next(shape(f["geometry"]) for f in features if f["properties"]["kind"] == "japan")
    neighbours = [shape(f["geometry"]) for f in features if f["properties"]["kind"] == "neighbour"]
    borders = next(shape(f["geometry"]) for f in features if f["properties"]["kind"] == "borders")
    return japan, neighbours, borders


class View:
    """A longitude/latitude box drawn into `width` × `height` units (equirectangular, x scaled
    by the cosine of the middle latitude: true enough at the scale of a prefecture or of Japan)."""

    def __init__(self, west: float, south: float, east: float, north: float, width: float, height: float):
        self.west, self.south, self.east, self.north = west, south, east, north
        self.width, self.height = width, height
        self.kx = width / (east - west)
        self.ky = height / (north - south)

    @classmethod
    def around(cls, points: list[tuple[float, float]], width: float, min_span: float = 1.0,
               aspect: tuple[float, float] = (0.62, 0.8)) -> View:
        """The smallest box holding the points with a margin, at least `min_span` degrees high,
        widened to an aspect (height / width) inside `aspect`; all Japan when the points span most of it."""
        longs, lats = [p[1] for p in points], [p[0] for p in points]
        west, east, south, north = min(longs), max(longs), min(lats), max(lats)
        cos = math.cos(math.radians((south + north) / 2))
        span_y = max(north - south, min_span) * 1.4
        span_x = max((east - west) * 1.25, span_y * cos / aspect[1]) / cos  # in degrees of longitude
        span_y = max(span_y, span_x * cos * aspect[0])
        if span_y >= (JAPAN[3] - JAPAN[1]) * 0.6:
            return cls.japan(width)
        # snapped: spans to steps of 1.25×, centres to an eighth of the span, so that pages of one
        # area share a view and its drawn outlines (_base's cache); the margin above keeps every
        # point inside after the shift
        step = 1.25 ** math.ceil(math.log(span_y, 1.25))
        span_x, span_y = span_x * step / span_y, step
        mid_x = round((west + east) / 2 / (span_x / 8)) * (span_x / 8)
        mid_y = round((south + north) / 2 / (span_y / 8)) * (span_y / 8)
        height = width * span_y / (span_x * cos)
        return cls(mid_x - span_x / 2, mid_y - span_y / 2, mid_x + span_x / 2, mid_y + span_y / 2, width, height)

    @classmethod
    def japan(cls, width: float) -> View:
        west, south, east, north = JAPAN
        cos = math.cos(math.radians((south + north) / 2))
        return cls(west, south, east, north, width, width * (north - south) / ((east - west) * cos))

    def xy(self, long: float, lat: float) -> tuple[float, float]:
        return (long - self.west) * self.kx, (self.north - lat) * self.ky

    @property
    def key(self) -> tuple:
        return tuple(round(v, 3) for v in (self.west, self.south, self.east, self.north, self.width, self.height))


def _tenths(value: int) -> str:
    """A number given in tenths, as short as SVG reads it (12, 1.5, .5, -.5), after a space
    unless its minus sign parts it from the number before."""
    whole, tenth = divmod(abs(value), 10)
    text = ((str(whole) if whole else "") + (f".{tenth}" if tenth else "")) or "0"
    return ("-" if value < 0 else " ") + text


_REACH = 4096  # steps of up to this many tenths are read from a table; longer ones written one by one
_STEPS = np.array([_tenths(v) for v in range(-_REACH, _REACH + 1)], dtype=object)


def _texts(values: np.ndarray) -> np.ndarray:
    near = np.abs(values) <= _REACH
    texts = _STEPS[np.where(near, values, 0) + _REACH]
    for i in np.flatnonzero(~near):
        texts[i] = _tenths(int(values[i]))
    return texts


def _path(geometry, view: View) -> str:
    """SVG path data for the polygons and lines of a geometry, in the view's units to a tenth.

    Each ring starts at its point and goes on in steps from one point to the next ("M 12.3
    45.6l 1.2-.3 .5 2z"): 40 % fewer bytes than every point written whole, and the outlines are
    half of a page with a map. Projected and written with numpy, a table of the steps' texts:
    a page draws tens of thousands of points, which a loop in Python took ~9 ms to write."""
    parts = shapely.get_parts(shapely.get_parts(geometry))  # a clip may give a collection of multi-parts
    kinds = shapely.get_type_id(parts)
    areas, lines = parts[kinds == 3], parts[(kinds == 1) | (kinds == 2)]  # polygons; lines and rings
    rings = np.concatenate([shapely.get_rings(areas), lines])
    if not len(rings):
        return ""
    closed = np.arange(len(rings)) < len(rings) - len(lines)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    x = np.rint((coords[:, 0] - view.west) * (view.kx * 10)).astype(np.int64)
    y = np.rint((view.north - coords[:, 1]) * (view.ky * 10)).astype(np.int64)
    start = np.r_[True, ring[1:] != ring[:-1]]
    dx, dy = np.diff(x, prepend=0), np.diff(y, prepend=0)
    # a point where the one before it is adds nothing; nor does the point closing a ring ("z" draws that side)
    keep = start | ((dx != 0) | (dy != 0)) & ~(np.r_[start[1:], True] & closed[ring])
    x, y, dx, dy, start, ring = x[keep], y[keep], dx[keep], dy[keep], start[keep], ring[keep]
    texts = _texts(dx) + _texts(dy)
    texts[start] = "M" + _texts(x[start]) + _texts(y[start])
    first_step = np.r_[False, start[:-1]] & ~start
    texts[first_step] = "l" + texts[first_step]
    last = np.r_[start[1:], True] & closed[ring]
    texts[last] = texts[last] + "z"
    return "".join(texts.tolist())


@functools.lru_cache(maxsize=32)
def _simplified(level: int):
    """The outlines simplified to 2**level degrees: made once per level, then only clipped per view."""
    japan, neighbours, borders = _outlines()
    tolerance = 2.0 ** level
    return (japan.simplify(tolerance), [g.simplify(tolerance) for g in neighbours], borders.simplify(tolerance))


def _level(view: View) -> int:
    """How simplified a view's outlines are: to about half a unit of the drawing (finer detail
    would not show), at the power of two below it, so that views of a similar scale share one."""
    return math.floor(math.log2(0.6 / view.kx))


def prepare() -> None:
    """Read the outlines and simplify them for every scale a map is drawn at (~0.1 s), as a web
    process starts: otherwise the first pages with maps after a start wait for it."""
    japan = View.japan(INSET * 0.75)  # the smallest drawing: the inset on a phone
    closest = View.around([(35.0, 135.0)], WIDTHS["wide"])  # the largest scale: a view min_span high
    for level in range(_level(closest), _level(japan) + 2):  # + 1: the inset's coarser outline
        _simplified(level)


@functools.lru_cache(maxsize=1024)
def _base(key: tuple) -> str:
    """Sea, land and prefecture borders for one view (cached: the same views recur page after page)."""
    view = View(*key)
    level = _level(view)
    japan, neighbours, borders = _simplified(level)
    margin = 2 * 2.0 ** level

    def clipped(geometry):
        return clip_by_rect(geometry, view.west - margin, view.south - margin, view.east + margin, view.north + margin)

    land = "".join(f'<path d="{_path(part, view)}" class="neighbour"/>' for part in map(clipped, neighbours)
                   if not part.is_empty)
    return (f'<rect width="{view.width:.0f}" height="{view.height:.0f}" class="sea"/>{land}'
            f'<path d="{_path(clipped(japan), view)}" class="land" fill-rule="evenodd"/>'
            f'<path d="{_path(clipped(borders), view)}" class="border"/>')


def text_width(text: str, size: float = FONT) -> float:
    """Width of a text in the map's units: a wide (CJK) character is 1 em, others ~0.58 em."""
    return _ems(text) * size


@functools.lru_cache(maxsize=8192)  # the same names recur map after map
def _ems(text: str) -> float:
    return sum(1 if unicodedata.east_asian_width(c) in "WF" else 0.58 for c in text)


class _Labels:
    """Greedy label placement: each label takes the first of eight spots around its point that
    overlaps no label, no point and stays inside the map; if none is free, the nearest free spot
    further out, with a leader line. Boxes taken are kept in a grid of CELL-unit squares, so a
    look-up reads a few cells, not every box (a home page map at 1 M triples has ~1,700 points)."""

    SPOTS = [(1, 0), (-1, 0), (0, -1), (0, 1), (1, -1), (-1, -1), (1, 1), (-1, 1)]
    CELL = 32

    def __init__(self, width: float, height: float, points: list[tuple[float, float]], radius: float):
        self.width, self.height = width, height
        self.grid: dict[tuple[int, int], list[tuple]] = {}
        for x, y in points:
            self.take((x - radius, y - radius, x + radius, y + radius))

    # take() and _free() are plain loops with the grid's cells computed inline: they run tens of
    # thousands of times on a crowded map, where generators and helper calls cost twice as much
    def take(self, box) -> None:
        x0, y0, x1, y1 = box
        cell, grid = self.CELL, self.grid
        for i in range(int(x0 // cell), int(x1 // cell) + 1):
            for j in range(int(y0 // cell), int(y1 // cell) + 1):
                boxes = grid.get((i, j))
                if boxes is None:
                    grid[(i, j)] = [box]
                else:
                    boxes.append(box)

    def _free(self, box) -> bool:
        x0, y0, x1, y1 = box
        if x0 < 2 or y0 < 2 or x1 > self.width - 2 or y1 > self.height - 2:
            return False
        cell, grid = self.CELL, self.grid
        for i in range(int(x0 // cell), int(x1 // cell) + 1):
            for j in range(int(y0 // cell), int(y1 // cell) + 1):
                for a0, b0, a1, b1 in grid.get((i, j), ()):
                    if x0 < a1 and x1 > a0 and y0 < b1 and y1 > b0:
                        return False
        return True

    def place(self, x: float, y: float, width: float, height: float, gap: float = 7) -> tuple | None:
        """(text x, text baseline y, anchor, leader) or None when nowhere fits."""
        for distance in (gap, gap + 16, gap + 36):
            for dx, dy in self.SPOTS:
                cx, cy = x + dx * (distance + width / 2 if dx else 0), y + dy * (distance + height / 2 if dy else 0)
                box = (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
                if self._free(box):
                    self.take(box)
                    return cx, cy + height * 0.35, "middle", distance > gap
        return None


def japan_map(places: list[Place], aria_label: str, role_names: dict[str, str], *, areas: list[Area] = (),
              highlight: str | None = None, context: list[tuple[str, float, float]] = (),
              attribution: str = "", area_text: str = "{name}: {count}", area_short: str = "{count}",
              label_limit: int = 30) -> Markup:
    """Both drawings of one map (see WIDTHS), then its legend and credit. Up to `label_limit`
    bodies are named, each where it overlaps nothing if it can; with fewer bodies than that,
    every one is named, overlapping if it must."""
    # the narrow drawing has half the room: half as many names. A crowded map (more bodies than
    # names) is drawn once, for every screen: a phone would show even fewer of its names
    widths = WIDTHS if len(places) <= label_limit else {"wide only": WIDTHS["wide"]}
    outlines: dict[str, str] = {}  # id → outlines both drawings show (<use>d: a page carries them once)
    drawings = "".join(_drawing(places, aria_label, css, width, areas, highlight, context, area_text, area_short,
                                label_limit if css.startswith("wide") else label_limit // 2, outlines)
                       for css, width in widths.items())
    # a zero-sized picture of its own holds them, never hidden: a <use> of something inside a
    # frame that CSS hides (the wide drawing on a phone) would draw nothing
    shared = (f'<svg xmlns="http://www.w3.org/2000/svg" class="map-outlines" width="0" height="0" aria-hidden="true" '
              f'focusable="false"><defs>{"".join(outlines.values())}</defs></svg>')
    legend = _legend({p.role for p in places}, role_names, bool(areas), highlight is not None)
    credit = f'<p class="attribution">{escaped(attribution)}</p>' if attribution else ""
    return Markup(shared + drawings + legend + credit)


def _drawing(places: list[Place], aria_label: str, css: str, width: int, areas, highlight, context, area_text,
             area_short, label_limit, outlines: dict[str, str]) -> str:
    """The bodies on a map zoomed to them, with an inset of Japan when zoomed.

    `places` are drawn in order, the highlighted one (its href) last; `context` names places
    (prefectures) in grey where room is left, on a map zoomed to a region (on all Japan they
    would crowd out the bodies' names); `role_names` gives the legend's words per role key."""
    located = [(p.lat, p.long) for p in places] + [(a.lat, a.long) for a in areas]
    view = View.around(located, width) if located else View.japan(width)
    zoomed = view.key != View.japan(width).key
    regional = view.north - view.south < 8  # a region, not most of Japan: room for prefecture names
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {view.width:.0f} {view.height:.0f}" '
             f'role="group" aria-label="{escaped(aria_label)}" class="map">', '<g class="viewport">',
             _scaled_base(view, outlines)]
    ordered = sorted(places, key=lambda p: (p.href == highlight, -ROLE_ORDER.index(p.role)
                                            if p.role in ROLE_ORDER else 0))
    screen = [view.xy(p.long, p.lat) for p in ordered]
    labels = _Labels(view.width, view.height, screen, 6)
    if zoomed:  # the inset's corner is taken
        inset = _inset_view(view)
        labels.take((view.width - inset.width - 8, view.height - inset.height - 8, view.width, view.height))
    for area in areas:  # a ring around where the grouping's lead is, with its count
        x, y = view.xy(area.long, area.lat)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="22" class="area"><title>{escaped(area.name)}</title></circle>')
        # the grouping's name and count where it fits, else its count alone (its name is in the ring's title)
        for text in (area_text.format(name=area.name, count=area.count), area_short.format(count=area.count)):
            spot = labels.place(x, y, text_width(text, FONT - 1), FONT + 2, gap=24)
            if spot:
                break
        if spot:
            parts.append(f'<text x="{spot[0]:.1f}" y="{spot[1]:.1f}" text-anchor="middle" class="area-label">{escaped(text)}</text>')
    for place, (x, y) in zip(ordered, screen):
        mine = highlight is not None and place.href == highlight
        colour = ROLE_COLOURS.get(place.role, ROLE_COLOURS["other"])
        marker = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{8 if mine else 5.5}" fill="{colour}" '
                  f'class="place{" highlight" if mine else ""}"><title>{escaped(place.name)}</title></circle>')
        parts.append(f'<a href="{escaped(place.href)}">{marker}</a>' if place.href else marker)
    # labels after every marker, the highlighted body's first: none is drawn under a point
    every = len(ordered) <= label_limit
    for index in sorted(range(len(ordered)), key=lambda i: ordered[i].href != highlight)[:label_limit]:
        place, (x, y) = ordered[index], screen[index]
        size = FONT + 1 if place.href == highlight else FONT
        spot = labels.place(x, y, text_width(place.name, size), size + 3)
        if not spot and not every:
            continue
        spot = spot or (x + 7 + text_width(place.name, size) / 2, y + size * 0.35, "middle", False)  # over others: still named
        tx, ty, anchor, leader = spot
        if leader:
            parts.append(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{tx:.1f}" y2="{ty - size * 0.35:.1f}" class="leader"/>')
        lang = f' xml:lang="{place.lang}"' if place.lang else ""
        parts.append(f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}" class="place-label'
                     f'{" highlight" if place.href == highlight else ""}"{lang}>{escaped(place.name)}</text>')
    named = {p.name for p in places}
    for name, lat, long in context if regional else ():  # prefecture names where they fit, after everything that matters
        x, y = view.xy(long, lat)
        if 0 <= x <= view.width and 0 <= y <= view.height and name not in named:
            spot = labels.place(x, y, text_width(name, FONT - 2), FONT, gap=0)
            if spot:
                parts.append(f'<text x="{spot[0]:.1f}" y="{spot[1]:.1f}" text-anchor="middle" class="context">{escaped(name)}</text>')
    parts.append("</g></svg>")
    if zoomed:  # a picture of its own over the corner: panning and zooming the map leave it be
        parts.append(_inset(view, outlines))
    return f'<div class="map-frame {css}">{"".join(parts)}</div>'


BASE_WIDTH = WIDTHS["wide"]


def _outline_use(key: tuple, make, name: str, scale: float, outlines: dict[str, str]) -> str:
    """A <use> of outlines kept once in the map's `outlines` (id → <g>), made by `make(key)` at
    the scale of `key` and shown at `scale` of it (their lines keep their width: non-scaling strokes)."""
    ident = f"{name}-{zlib.crc32(repr(key).encode()):08x}"
    if ident not in outlines:
        outlines[ident] = f'<g id="{ident}" class="{name}">{make(key)}</g>'
    use = f'<use href="#{ident}"/>'
    return use if scale == 1 else f'<g transform="scale({scale:.5f})">{use}</g>'


def _scaled_base(view: View, outlines: dict[str, str]) -> str:
    """A view's outlines, drawn once at BASE_WIDTH whatever the drawing's width: the narrow
    drawing shows the same box, scaled, and the same outlines."""
    wide = View(view.west, view.south, view.east, view.north, BASE_WIDTH, view.height * BASE_WIDTH / view.width)
    return _outline_use(wide.key, _base, "map-base", view.width / BASE_WIDTH, outlines)


@functools.lru_cache(maxsize=4)
def _inset_base(key: tuple) -> str:
    """Sea and land of all Japan, for the inset: a picture ~100 px wide shows neither the
    neighbouring coasts nor prefecture borders, and a coarser outline than a map of its size
    (a third of the inset's bytes)."""
    view = View(*key)
    japan = _simplified(_level(view) + 1)[0]
    return (f'<rect width="{view.width:.0f}" height="{view.height:.0f}" class="sea"/>'
            f'<path d="{_path(japan, view)}" class="land" fill-rule="evenodd"/>')


def _inset_view(view: View) -> View:
    return View.japan(INSET if view.width >= 400 else INSET * 0.75)


def _inset(view: View, outlines: dict[str, str]) -> str:
    """All Japan in the corner, with the main view's box on it."""
    inset = _inset_view(view)
    bx0, by0 = inset.xy(view.west, view.north)
    bx1, by1 = inset.xy(view.east, view.south)
    w, h = max(bx1 - bx0, 3), max(by1 - by0, 3)
    share = inset.width / view.width * 100  # of the map's width, as drawn
    base = _outline_use(View.japan(INSET).key, _inset_base, "inset-base", inset.width / INSET, outlines)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {inset.width:.0f} {inset.height:.0f}" class="inset" '
            f'width="{share:.1f}%" aria-hidden="true" focusable="false">{base}'
            f'<rect x="{bx0:.1f}" y="{by0:.1f}" width="{w:.1f}" height="{h:.1f}" class="inset-box"/>'
            f'<rect width="{inset.width:.0f}" height="{inset.height:.0f}" class="inset-frame"/></svg>')


def _legend(roles: set[str], role_names: dict[str, str], areas: bool, highlight: bool) -> str:
    items = [f'<li><span class="swatch role-{r}"></span>{escaped(role_names.get(r, r))}</li>'
             for r in ROLE_ORDER if r in roles]
    if highlight and "this" in role_names:
        items.insert(0, f'<li><span class="swatch this"></span>{escaped(role_names["this"])}</li>')
    if areas and "area" in role_names:
        items.append(f'<li><span class="swatch area"></span>{escaped(role_names["area"])}</li>')
    return f'<ul class="legend">{"".join(items)}</ul>' if items else ""


def figure(data: dict, prefectures: list[dict], lang: str, aria_label: str, highlight: str | None = None) -> Markup | None:
    """A page's map from pages.map_data (and the prefectures named in grey), or None with nothing to place."""
    if not data["points"] and not data["areas"]:
        return None
    places = [Place(p["node"].text, p["lat"], p["long"], p["role"], p["node"].href,
                    getattr(p["node"].label, "lang", "") if getattr(p["node"].label, "lang", lang) != lang else "")
              for p in data["points"]]
    areas = [Area(a["node"].text, a["count"], a["lat"], a["long"]) for a in data["areas"]]
    names = dict(data["role_names"], this=translate("map.this", lang), area=translate("map.area", lang),
                 other=translate("map.other", lang))
    highlight_href = next((p.href for p, d in zip(places, data["points"]) if d["node"].iri == highlight), None)
    return japan_map(places, aria_label, names, areas=areas, highlight=highlight_href,
                     context=[(p["node"].text, p["lat"], p["long"]) for p in prefectures],
                     attribution=translate("map.attribution", lang), area_text=translate("map.area_label", lang),
                     area_short=translate("map.area_count", lang))
