"""The role diagram of an initiative, drawn on the server as SVG (maps are in maps.py).

One node per body, whatever the number of its roles; a role held in one component activity is
drawn from that activity, not from the whole initiative; groupings covered by the initiative
appear with their counts. The layout is grandalf's Sugiyama layering (layers, then crossings
reduced), drawn top-down for wide screens and left-to-right — a tall picture — for phones:
both are in the page and CSS shows one. Labels wrap (BudouX phrases in Japanese, words in
English) and are never cut.

Every text that comes from data is XML-escaped here; the result is marked safe for Jinja.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass, field

import budoux
from grandalf.graphs import Edge, Graph, Vertex
from grandalf.layouts import SugiyamaLayout
from grandalf.utils.geometry import median_wh
from markupsafe import Markup

from .maps import ROLE_COLOURS, text_width
from .markup import escaped
from .pages import role_key

FONT = 13
LINE = 17
# grandalf keeps a counter on its Vertex class while it layers a graph (Tarjan's components):
# two layouts at once in one process, as a web process's threads make them, break each other.
# A layout takes under a millisecond; one at a time.
_LAYOUT_LOCK = threading.Lock()
PAD_X, PAD_Y = 10, 8


@functools.cache
def _phrases():
    return budoux.load_default_japanese_parser()


@functools.lru_cache(maxsize=4096)  # names recur from page to page: a body's, an activity kind's
def wrap(text: str, ems: float, size: float = FONT) -> tuple[str, ...]:
    """Lines of at most `ems` wide (CJK) characters' width: BudouX phrases for Japanese, words
    for text mostly in Latin letters (a name in brackets included). A Japanese phrase wider than
    a line is split by width; a word never is (its line is as wide as it). No text is ever cut."""
    limit = ems * size
    latin = sum(c.isascii() for c in text) > len(text) / 2
    tokens = re.findall(r"\S+\s*", text) if latin else _phrases().parse(text)
    lines, line = [], ""
    for token in tokens:
        while not latin and text_width(token, size) > limit:  # a phrase wider than a line: by width
            cut = max(1, next((i for i in range(len(token), 0, -1) if text_width(token[:i], size) <= limit), 1))
            if line:
                lines.append(line)
                line = ""
            lines.append(token[:cut])
            token = token[cut:]
        if line and text_width((line + token).rstrip(), size) > limit:
            lines.append(line.rstrip())
            line = token
        else:
            line += token
    return tuple([*lines, line.rstrip()] if line.strip() else lines or [text])


@dataclass
class _Node:
    key: str
    lines: list[str]
    kind: str  # initiative, component, body, grouping
    href: str | None = None
    title: str = ""
    lang: str = ""
    w: float = 0
    h: float = 0
    xy: tuple = (0, 0)

    def __post_init__(self):
        size = FONT + 1 if self.kind == "initiative" else FONT
        self.w = max(text_width(line, size) for line in self.lines) + 2 * PAD_X
        self.h = len(self.lines) * LINE + 2 * PAD_Y


@dataclass
class _Link:
    source: str
    target: str
    roles: list[tuple[str, str]] = field(default_factory=list)  # (role key, role name)


class _Path:
    """grandalf hands an edge's route (its bends through dummy vertices) to its view."""

    def __init__(self):
        self.points = []

    def setpath(self, points):
        self.points = points


class _Box:
    """A vertex's view: grandalf reads its w and h and writes its xy (its centre)."""

    __slots__ = ("w", "h", "xy")

    def __init__(self, w: float, h: float):
        self.w, self.h, self.xy = w, h, (0, 0)


def _role_text(link: _Link) -> str:
    return "・".join(name for _, name in link.roles)


def _layouts(variants: list[tuple[dict[str, _Node], bool]], links: list[_Link], root: str) -> list[tuple[tuple[float, float], list]]:
    """Place each variant's nodes (centres, in _Node.xy) and route the links; returns, per
    variant, the picture's (width, height) and each link's route. A variant is (its nodes, the
    same keys wrapped to its widths; vertical): vertical=True, layers run top-down; False, left
    to right (each node's w/h swapped for the layering, the result turned back).

    The layers and the order within them depend on the graph's shape alone, so they are worked
    out once (grandalf's ranking and one pass of crossing reduction: these graphs are nearly
    trees) and each variant only places its own sizes: half of what two layouts cost."""
    # the role names sit above a body (top-down) or left of it (left to right): room for them
    label_width: dict[str, float] = {}
    for link in links:
        if link.roles:
            label_width[link.target] = max(label_width.get(link.target, 0), text_width(_role_text(link), 12))

    def box(node: _Node, vertical: bool) -> _Box:
        return _Box(max(node.w, label_width.get(node.key, 0) + 6), node.h) if vertical else _Box(node.h, node.w)

    first, first_vertical = variants[0]
    vertices = {k: Vertex(k) for k in first}
    for key, vertex in vertices.items():
        vertex.view = box(first[key], first_vertical)
    edges = []
    for link in links:
        edge = Edge(vertices[link.source], vertices[link.target])
        edge.view = _Path()
        edges.append(edge)
    graph = Graph(list(vertices.values()), edges)
    # per variant: where each vertex's centre and each edge's route came out, before the turn
    centres: list[dict[str, tuple]] = [{} for _ in variants]
    routes: list[dict[Edge, list]] = [{} for _ in variants]
    offsets = [0.0] * len(variants)
    for component in graph.C:
        layout = SugiyamaLayout(component)
        roots = [vertices[root]] if vertices[root] in component.sV else None
        for index, (nodes, vertical) in enumerate(variants):
            layout.xspace, layout.yspace = (20, 76) if vertical else (14, max(label_width.values(), default=0) + 40)
            with _LAYOUT_LOCK:
                if index == 0:
                    layout.init_all(roots=roots)
                    layout.draw(1)
                else:  # this variant's sizes, and its dummy vertices' (routes' bends) as grandalf sizes them
                    for v in component.sV:
                        v.view = box(nodes[v.data], vertical)
                    layout.dw, layout.dh = median_wh([v.view for v in component.sV])
                    for v, attributes in layout.grx.items():
                        if attributes.dummy:
                            v.view.w, v.view.h = layout.dw, layout.dh
                    layout.setxy()
                    layout.draw_edges()
            shift = offsets[index] - min(v.view.xy[0] - v.view.w / 2 for v in component.sV)
            for v in component.sV:
                centres[index][v.data] = (v.view.xy[0] + shift, v.view.xy[1])
            for edge in component.sE:
                routes[index][edge] = [(x + shift, y) for x, y in edge.view.points]
            offsets[index] = max(v.view.xy[0] + v.view.w / 2 for v in component.sV) + shift + 30
    return [_placed(nodes, vertical, centres[index], [routes[index].get(edge, []) for edge in edges], label_width)
            for index, (nodes, vertical) in enumerate(variants)]


def _placed(nodes: dict[str, _Node], vertical: bool, centres: dict[str, tuple], routes: list[list],
            label_width: dict[str, float]) -> tuple[tuple[float, float], list]:
    """One variant's layout turned (left to right) and moved to the picture's corner: sets its
    nodes' xy; returns its (width, height) and the links' routes."""
    for key, (x, y) in centres.items():
        nodes[key].xy = (x, y) if vertical else (y, x)
    routes = [[(x, y) if vertical else (y, x) for x, y in route] for route in routes]
    # bounds include the role names: a name wider than its body would be cut at the edge
    room = {k: max(n.w, label_width.get(k, 0) + 6) if vertical else n.w for k, n in nodes.items()}
    left = min(n.xy[0] - room[k] / 2 for k, n in nodes.items())
    top = min(n.xy[1] - n.h / 2 for n in nodes.values())
    for n in nodes.values():
        n.xy = (n.xy[0] - left + 8, n.xy[1] - top + 8)
    routes = [[(x - left + 8, y - top + 8) for x, y in route] for route in routes]
    width = max(n.xy[0] + room[k] / 2 for k, n in nodes.items()) + 8
    height = max(n.xy[1] + n.h / 2 for n in nodes.values()) + 8
    return (width, height), routes


def _svg(nodes: dict[str, _Node], links: list[_Link], layout: tuple[tuple[float, float], list], aria_label: str,
         vertical: bool) -> str:
    (width, height), routes = layout
    css = "wide" if vertical else "tall"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" role="group" '
             f'aria-label="{escaped(aria_label)}" class="diagram {css}" width="{width:.0f}">']
    labels = []
    incoming: dict[str, int] = {}
    for link, route in zip(links, routes):
        a, b = nodes[link.source], nodes[link.target]
        points = [a.xy] + route[1:-1] + [b.xy] if route else [a.xy, b.xy]
        colour = ROLE_COLOURS.get(link.roles[0][0], ROLE_COLOURS["other"]) if link.roles else "#8a96a3"
        dash = ' stroke-dasharray="5 4"' if not link.roles else ""
        parts.append(f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}" fill="none" '
                     f'stroke="{colour}" stroke-width="2"{dash}/>')
        if link.roles:  # the role's name beside the body it belongs to: above it, or left of it when tall
            text = _role_text(link)
            stacked = incoming.get(link.target, 0)
            incoming[link.target] = stacked + 1
            if vertical:
                lx, ly, anchor = b.xy[0], b.xy[1] - b.h / 2 - 6 - 15 * stacked, "middle"
            else:
                lx, ly, anchor = b.xy[0] - b.w / 2 - 5, b.xy[1] + 4 + 15 * stacked, "end"
            labels.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" class="role" fill="{colour}">'
                          f'{escaped(text)}</text>')
    for n in nodes.values():
        x, y = n.xy[0] - n.w / 2, n.xy[1] - n.h / 2
        size = FONT + 1 if n.kind == "initiative" else FONT
        lang = f' xml:lang="{n.lang}"' if n.lang else ""
        text = "".join(f'<tspan x="{n.xy[0]:.1f}" y="{y + PAD_Y + LINE * (i + 0.78):.1f}">{escaped(line)}</tspan>'
                       for i, line in enumerate(n.lines))
        shape = (f'<rect x="{x:.1f}" y="{y:.1f}" width="{n.w:.1f}" height="{n.h:.1f}" rx="{6 if n.kind != "body" else n.h / 2 if len(n.lines) == 1 else 10:.1f}" '
                 f'class="node {n.kind}"/><text text-anchor="middle" class="label {n.kind}" font-size="{size}"{lang}>'
                 f'<title>{escaped(n.title)}</title>{text}</text>')
        parts.append(f'<a href="{escaped(n.href)}">{shape}</a>' if n.href else f"<g>{shape}</g>")
    parts += labels
    parts.append("</svg>")
    return "".join(parts)


def actor_diagram(data: dict, iri: str, page_lang: str, words: dict[str, str], aria_label: str) -> Markup:
    """The initiative, the component activities in which a body holds a role, each body once,
    the groupings the initiative covers; links labelled by the roles held there.

    `data` is pages.initiative's; `words` gives "target" (a covered grouping's link) and
    "bodies" (a count, "{n} bodies")."""
    def lang_of(node) -> str:
        return _foreign(node.label, page_lang)

    title = data["title"] or iri
    # (key → text, kind, href, language), then each layout wraps the texts to its own widths
    specs = {iri: (title, "initiative", None, _foreign(title, page_lang))}
    links: dict[tuple[str, str], _Link] = {}
    components = {c["node"].iri: c for c in data["components"]}
    for a in data["associations"]:
        agent, where = a["agent"], a["where"]
        agent_key = agent.iri or str(agent.term)
        count = data.get("counted", {}).get(agent.iri)
        specs.setdefault(agent_key, (agent.text + (f" — {words['bodies'].format(n=count)}" if count else ""),
                                     "grouping" if count else "body", agent.href, lang_of(agent)))
        source = where.iri if where.iri and where.iri != iri else iri
        if source != iri and source not in specs:
            c = components.get(source)
            name = f"{c['ordinal']}. {where.text}" if c and c["ordinal"] else where.text
            specs[source] = (name, "component", where.href, lang_of(where))
            links[(iri, source)] = _Link(iri, source)
        link = links.setdefault((source, agent_key), _Link(source, agent_key))
        role = (role_key(a["role"].iri), a["role"].text)
        if role not in link.roles:
            link.roles.append(role)
    for g in data["groupings"]:
        key = g["node"].iri or str(g["node"].term)
        count = words["bodies"].format(n=g["count"]) if g["count"] and not g["members"] else ""
        specs.setdefault(key, (g["node"].text + (f" — {count}" if count else ""), "grouping", g["node"].href, lang_of(g["node"])))
        links.setdefault((iri, key), _Link(iri, key, [("member", words["target"])]))
    links_list = list(links.values())
    variants = []
    for vertical, ems in ((True, {"initiative": 16, "component": 11, "body": 9, "grouping": 11}),
                          (False, {"initiative": 7, "component": 7, "body": 7, "grouping": 7})):
        variants.append(({key: _Node(key, wrap(text, ems[kind], FONT + 1 if kind == "initiative" else FONT), kind, href, text, lang)
                          for key, (text, kind, href, lang) in specs.items()}, vertical))
    return Markup("".join(_svg(nodes, links_list, layout, aria_label, vertical)
                          for (nodes, vertical), layout in zip(variants, _layouts(variants, links_list, iri))))


def _foreign(text, page_lang: str) -> str:
    """The language tag of a text (reader.Text) written in another language than the page's, else ""."""
    tag = getattr(text, "lang", "")
    return tag if tag and tag.split("-")[0] != page_lang else ""
