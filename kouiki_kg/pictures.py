"""Server-rendered SVG pictures: who takes part in an initiative and in which role, and where
the bodies are on a map of Japan (projected points and prefecture labels; no tile server).

Every text that comes from data is XML-escaped here; the result is marked safe for Jinja.
"""

from __future__ import annotations

import functools
import math
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

from .namespaces import CONCEPT

ROLE_COLOURS = {
    "lead": "#1f5fa8", "partner": "#2e8b57", "secretariat": "#8e44ad", "lecturer": "#d35400",
    "external-expert": "#7f6a00", "member": "#16a085",
}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _role_key(role_iri: str) -> str:
    return role_iri.removeprefix(CONCEPT + "role/")


def actor_diagram(title: str, associations: list[dict], aria_label: str) -> Markup:
    """The initiative in the middle, each (agent, role) around it on an ellipse, edges labelled by role."""
    pairs = []
    for a in associations:
        key = (a["agent"].text, a["role"].text)
        if key not in {(p["agent"].text, p["role"].text) for p in pairs}:
            pairs.append(a)
    width, height = 760, 200 + 46 * max(0, len(pairs) - 4)
    cx, cy = width / 2, height / 2
    rx, ry = width / 2 - 130, height / 2 - 34
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" role="img" '
             f'aria-label={quoteattr(aria_label)} class="diagram">']
    nodes = []
    for index, a in enumerate(pairs):
        angle = -math.pi / 2 + 2 * math.pi * index / max(1, len(pairs))
        x, y = cx + rx * math.cos(angle), cy + ry * math.sin(angle)
        colour = ROLE_COLOURS.get(_role_key(a["role"].value), "#555")
        parts.append(f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-width="2"/>')
        mx, my = (cx + x) / 2, (cy + y) / 2
        parts.append(f'<text x="{mx:.1f}" y="{my - 4:.1f}" text-anchor="middle" class="role" fill="{colour}">'
                     f'{escape(a["role"].text)}</text>')
        nodes.append((x, y, a, colour))
    shown = _short(title, 20)
    box = min(360, 15 * len(shown) + 36)
    parts.append(f'<rect x="{cx - box / 2:.1f}" y="{cy - 22:.1f}" width="{box}" height="44" rx="8" class="initiative"/>')
    parts.append(f'<text x="{cx:.1f}" y="{cy + 5:.1f}" text-anchor="middle" class="initiative-title">'
                 f'<title>{escape(title)}</title>{escape(shown)}</text>')
    for x, y, a, colour in nodes:
        label = a["agent"].text
        box = 14 * min(len(label), 12) + 20
        link_open = f'<a href={quoteattr(a["agent"].href)}>' if a["agent"].href else "<g>"
        link_close = "</a>" if a["agent"].href else "</g>"
        parts.append(f'{link_open}<rect x="{x - box / 2:.1f}" y="{y - 15:.1f}" width="{box}" height="30" rx="15" '
                     f'fill="#fff" stroke="{colour}" stroke-width="2"/>'
                     f'<text x="{x:.1f}" y="{y + 5:.1f}" text-anchor="middle" class="agent">'
                     f'<title>{escape(label)}</title>{escape(_short(label, 12))}</text>{link_close}')
    parts.append("</svg>")
    return Markup("".join(parts))


# The 47 prefectures fit in 127–146.5°E, 25.8–45.8°N (Naha to Wakkanai); an equirectangular
# projection scaled by cos(36°). Remote islands outside the frame are clamped to its edge.
_WEST, _EAST, _SOUTH, _NORTH = 126.8, 146.2, 25.6, 45.8
_SCALE_X = math.cos(math.radians(36))


def _project(lat: float, long: float, width: float, height: float) -> tuple[float, float]:
    span_x, span_y = (_EAST - _WEST) * _SCALE_X, _NORTH - _SOUTH
    scale = min(width / span_x, height / span_y)
    long, lat = min(max(long, _WEST), _EAST), min(max(lat, _SOUTH), _NORTH)
    return (long - _WEST) * _SCALE_X * scale + 8, (_NORTH - lat) * scale + 8


@functools.lru_cache(maxsize=8)
def _prefecture_layer(prefectures: tuple, width: int, height: int) -> str:
    """The grey dots and names under every map: the same 47 on every page of a language."""
    parts = []
    for lat, long, name in prefectures:
        x, y = _project(lat, long, width, height)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" class="prefecture"/>'
                     f'<text x="{x + 4:.1f}" y="{y + 3:.1f}" class="prefecture-name">{escape(name)}</text>')
    return "".join(parts)


def japan_map(prefectures: list[dict], points: list[dict], aria_label: str, highlight: str | None = None) -> Markup:
    """Prefectures as grey dots with names, the given bodies as coloured dots with names."""
    width, height = 520, 560
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width + 16} {height + 16}" role="img" '
             f'aria-label={quoteattr(aria_label)} class="map"><rect width="{width + 16}" height="{height + 16}" class="sea"/>']
    parts.append(_prefecture_layer(tuple((p["lat"], p["long"], p["node"].text) for p in prefectures), width, height))
    for p in points:
        x, y = _project(p["lat"], p["long"], width, height)
        css = "body highlight" if highlight and p["node"].iri == highlight else "body"
        link_open = f'<a href={quoteattr(p["node"].href)}>' if p["node"].href else "<g>"
        link_close = "</a>" if p["node"].href else "</g>"
        parts.append(f'{link_open}<circle cx="{x:.1f}" cy="{y:.1f}" r="5" class="{css}"><title>{escape(p["node"].text)}'
                     f'</title></circle>{link_close}')
    parts.append("</svg>")
    return Markup("".join(parts))
