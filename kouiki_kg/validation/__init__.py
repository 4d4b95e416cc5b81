"""Parsing and SHACL validation → one report model, rendered in Japanese or English.

Parsing goes through pyoxigraph first: its SyntaxError gives an exact line and column
(rdflib's errors show Japanese text as escaped bytes). The parsed triples are then handed to
pyshacl as an rdflib graph. Validation always runs over the data *together with* the
ontology, concept schemes and authority data, so class checks see rdfs:subClassOf and
references to bodies or concepts that do not exist are caught.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate
from rdflib.namespace import RDF, RDFS, SH
import rdflib.util

from ..failures import RequestFailed
from ..namespaces import PREFIXES
from ..project import InputFile

# rdflib logs a traceback for every literal it cannot convert ("2019-13"^^xsd:gYearMonth); the
# literal check reports such values to the person who wrote them, in both languages, instead.
logging.getLogger("rdflib.term").setLevel(logging.ERROR)

LANGS = ("ja", "en")

FORMATS_BY_SUFFIX = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
}


class RdfSyntaxError(RequestFailed):
    """Input that cannot be parsed; carries where, so people can fix it."""

    def __init__(self, source: str, line: int | None, column: int | None, detail: str, snippet: str = ""):
        self.source, self.line, self.column, self.detail, self.snippet = source, line, column, detail, snippet
        where = source if line is None else f"{source}:{line}:{column}"
        super().__init__(f"{where}: {detail}")

    def __reduce__(self):  # travels back from a worker process
        return (RdfSyntaxError, (self.source, self.line, self.column, self.detail, self.snippet))

    def as_dict(self) -> dict:
        return {"file": self.source, "line": self.line, "column": self.column, "detail": self.detail,
                "snippet": self.snippet}


class SubmissionTooLarge(RequestFailed):
    """A document past the limits above, refused before (or right after) parsing."""

    def __init__(self, ja: str, en: str, **limits):
        super().__init__(en)
        self.ja, self.en, self.limits = ja, en, limits

    def __reduce__(self):  # travels back from a worker process
        return (_too_large, (self.ja, self.en, self.limits))


def _too_large(ja: str, en: str, limits: dict) -> "SubmissionTooLarge":
    return SubmissionTooLarge(ja, en, **limits)



def parse_rdf(data: bytes, source: str, fmt: ox.RdfFormat = ox.RdfFormat.TURTLE) -> list[ox.Triple]:
    """Parse one document; raise RdfSyntaxError with line:column on bad input."""
    try:
        return [q.triple for q in ox.parse(input=data, format=fmt, base_iri=None)]
    except SyntaxError as err:
        line, column = err.lineno, err.offset
        detail = err.msg if hasattr(err, "msg") else str(err)
        snippet = ""
        if line:
            lines = data.decode("utf-8", errors="replace").splitlines()
            if 0 < line <= len(lines):
                snippet = lines[line - 1]
        raise RdfSyntaxError(source, line, column, detail, snippet) from None
    except (ValueError, OSError) as err:  # unsupported format, unreadable bytes
        raise RdfSyntaxError(source, None, None, str(err)) from None


def to_rdflib(triples: list[ox.Triple], graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """Hand pyoxigraph triples to rdflib through N-Triples (exact, and fast enough)."""
    graph = graph if graph is not None else rdflib.Graph()
    if triples:
        graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8"), format="nt")
    return graph


# --- The report model --------------------------------------------------------------------------

TEXT_LABELS = {
    "ja": {"conforms": "適合: 違反はありません。", "count": "違反 {n} 件", "severity": "重大度", "path": "パス",
           "value": "値", "constraint": "制約"},
    "en": {"conforms": "Conforms: no violations.", "count": "{n} violation(s)", "severity": "severity",
           "path": "path", "value": "value", "constraint": "constraint"},
}

@dataclass
class Result:
    focus: str
    path: str | None
    value: str | None
    severity: str  # Violation, Warning or Info
    component: str  # e.g. sh:MinCountConstraintComponent
    shape: str  # the node shape the constraint belongs to (compact IRI)
    messages: dict[str, str] = field(default_factory=dict)
    file: str | None = None
    line: int | None = None

    def message(self, lang: str) -> str:
        for candidate in (lang, *LANGS, ""):
            if candidate in self.messages:
                return self.messages[candidate]
        return next(iter(self.messages.values()), "")


@dataclass
class Report:
    conforms: bool
    results: list[Result]
    graph: rdflib.Graph | None = None  # the sh:ValidationReport itself
    case: str | None = None  # a steward's check: the project case the submission replaces

    def by_rule(self, lang: str) -> list[list[Result]]:
        """Results grouped by the rule they break, most often broken first: one shape's message
        (a SHACL constraint), or one of our project checks (whose messages name their values).
        The report's summary, as the EU ITB validator and SHACL Play group theirs."""
        groups: dict[tuple, list[Result]] = {}
        for r in self.results:
            key = (r.shape, r.component, r.message(lang) if r.component.startswith("sh:") else "")
            groups.setdefault(key, []).append(r)
        return sorted(groups.values(), key=lambda results: (-len(results), results[0].line or 0))

    def flagged_lines(self) -> dict[int, list[Result]]:
        flagged: dict[int, list[Result]] = {}
        for r in self.results:
            if r.line:
                flagged.setdefault(r.line, []).append(r)
        return flagged

    def to_csv(self, lang: str = "ja") -> str:
        """One row per result: line, focus node, path, value, message, constraint, shape, severity."""
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["line", "focus", "path", "value", "message", "constraint", "shape", "severity"])
        for r in self.results:
            writer.writerow([r.line or "", r.focus, r.path or "", r.value or "", r.message(lang), r.component, r.shape,
                             r.severity])
        return out.getvalue()

    def by_focus(self) -> dict[str, list[Result]]:
        grouped: dict[str, list[Result]] = {}
        for r in self.results:
            grouped.setdefault(r.focus, []).append(r)
        return grouped

    def to_text(self, lang: str = "ja") -> str:
        """A report per focus node, for people: message first, then the details."""
        words = TEXT_LABELS["ja" if lang == "ja" else "en"]
        replacing = []
        if self.case:
            replacing = [f"（事例 {self.case} の置き換えとして検証しました）" if lang == "ja"
                         else f"(checked as a replacement of the case {self.case})"]
        if self.conforms:
            return "\n".join([words["conforms"], *replacing])
        out = [words["count"].format(n=len(self.results)), *replacing]
        for focus, results in self.by_focus().items():
            first = results[0]
            where = f"  ({first.file}:{first.line or '?'})" if first.file else ""
            out.append(f"\n{focus}{where}")
            for r in results:
                details = [f"{words['severity']}: {r.severity}"]
                if r.path:
                    details.append(f"{words['path']}: {r.path}")
                if r.value:
                    details.append(f"{words['value']}: {r.value}")
                details.append(f"{words['constraint']}: {r.component} ({r.shape})")
                out.append(f"  - {r.message(lang)}")
                out.append("    " + "; ".join(details))
        return "\n".join(out)

    def to_json(self, lang: str = "ja") -> str:
        return json.dumps({
            "conforms": self.conforms,
            "case": self.case,
            "violations": len(self.results),
            "results": [dict(asdict(r), message=r.message(lang)) for r in self.results],
        }, ensure_ascii=False, indent=2)

    def to_turtle(self) -> str:
        return self.graph.serialize(format="turtle") if self.graph is not None else ""


def compact(term: rdflib.term.Node | None) -> str | None:
    if term is None:
        return None
    if isinstance(term, rdflib.URIRef):
        text = str(term)
        for prefix, ns in PREFIXES.items():
            if text.startswith(ns) and re.fullmatch(r"[A-Za-z_][\w.-]*", text[len(ns):] or "-"):
                return f"{prefix}:{text[len(ns):]}"
        return f"<{text}>"
    if isinstance(term, rdflib.Literal):
        if term.datatype == rdflib.XSD.string:  # RDF 1.1: a simple literal is an xsd:string
            return rdflib.Literal(str(term)).n3()
        if term.datatype is not None and not compact(term.datatype).startswith("<"):  # "2019-13"^^xsd:gYearMonth
            return rdflib.Literal(str(term)).n3() + "^^" + compact(term.datatype)
        return term.n3()
    return "_:" + str(term)


def _render_path(shapes: rdflib.Graph, path: rdflib.term.Node) -> str:
    """A SHACL property path as SPARQL-like text: ^p, (a|b), a/b."""
    if isinstance(path, rdflib.URIRef):
        return compact(path)
    inverse = shapes.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + _render_path(shapes, inverse)
    alternatives = shapes.value(path, SH.alternativePath)
    if alternatives is not None:
        items = rdflib.collection.Collection(shapes, alternatives)
        return "(" + "|".join(_render_path(shapes, p) for p in items) + ")"
    if (path, RDF.first, None) in shapes:
        return "/".join(_render_path(shapes, p) for p in rdflib.collection.Collection(shapes, path))
    return str(path)


def _owning_node_shape(shapes: rdflib.Graph, shape: rdflib.term.Node, focus: rdflib.term.Node,
                       data: rdflib.Graph | None) -> rdflib.term.Node:
    """The node shape a result belongs to.

    Property shapes and SPARQL constraints are reported by the node shape that owns them; a
    shared property shape (e.g. ks:PrefLabelJa) has several owners, so pick the one whose
    target class the focus node has.
    """
    owners = [o for p in (SH.property, SH.sparql) for o in shapes.subjects(p, shape)]
    if not owners:
        return shape
    if len(owners) == 1 or data is None:
        return owners[0]
    types = set(data.objects(focus, RDF.type))
    closure = set(types)
    frontier = list(types)
    while frontier:
        for parent in data.objects(frontier.pop(), RDFS.subClassOf):
            if parent not in closure:
                closure.add(parent)
                frontier.append(parent)
    for owner in sorted(owners):
        if closure & set(shapes.objects(owner, SH.targetClass)):
            return owner
    return sorted(owners)[0]


def by_language(pairs) -> dict[str, str]:
    """(language, text) pairs as a result's messages: one text per language (the first by its
    text, if a language has two), ours first, then the others by tag. An RDF graph gives no
    order, and reports of the same problems, from a publish or from a full build, must read
    the same (a test compared them and failed now and then)."""
    messages: dict[str, str] = {}
    for lang, text in sorted(pairs, key=lambda pair: (LANGS.index(pair[0]) if pair[0] in LANGS else len(LANGS), pair)):
        messages.setdefault(lang, text)
    return messages


def results_from(report_graph: rdflib.Graph, shapes: rdflib.Graph, data: rdflib.Graph | None = None) -> list[Result]:
    results = []
    for node in report_graph.subjects(RDF.type, SH.ValidationResult):
        path = report_graph.value(node, SH.resultPath)
        if isinstance(path, rdflib.BNode):  # pyshacl copies complex paths into the report
            path_text = _render_path(report_graph, path)
        else:
            path_text = compact(path)
        source_shape = report_graph.value(node, SH.sourceShape)
        focus = report_graph.value(node, SH.focusNode)
        messages = by_language((getattr(m, "language", None) or "", str(m))
                               for m in report_graph.objects(node, SH.resultMessage))
        results.append(Result(
            focus=compact(focus) or "",
            path=path_text,
            value=compact(report_graph.value(node, SH.value)),
            severity=compact(report_graph.value(node, SH.resultSeverity)).removeprefix("sh:"),
            component=compact(report_graph.value(node, SH.sourceConstraintComponent)) or "",
            shape=compact(_owning_node_shape(shapes, source_shape, focus, data)) or "",
            messages=messages,
        ))
    results.sort(key=lambda r: (r.focus, r.path or "", r.component, r.value or ""))
    return results


def _prologue(shapes: rdflib.Graph, constraint: rdflib.term.Node) -> str:
    """PREFIX lines from the sh:declare blocks that sh:prefixes points to."""
    lines = []
    for ontology in shapes.objects(constraint, SH.prefixes):
        for decl in shapes.objects(ontology, SH.declare):
            lines.append(f"PREFIX {shapes.value(decl, SH.prefix)}: <{shapes.value(decl, SH.namespace)}>")
    return "\n".join(lines) + "\n"


def target_pattern(shapes: rdflib.Graph, shape: rdflib.term.Node) -> str | None:
    """The focus nodes of a node shape as a SPARQL group pattern binding ?this."""
    parts = []
    for cls in shapes.objects(shape, SH.targetClass):
        parts.append(f"{{ ?this a/<{RDFS.subClassOf}>* <{cls}> }}")
    for node in shapes.objects(shape, SH.targetNode):
        parts.append(f"{{ VALUES ?this {{ {node.n3()} }} }}")
    for prop in shapes.objects(shape, SH.targetSubjectsOf):
        parts.append(f"{{ ?this <{prop}> [] }}")
    for prop in shapes.objects(shape, SH.targetObjectsOf):
        parts.append(f"{{ [] <{prop}> ?this }}")
    return " UNION ".join(parts) or None


def from_ox(term) -> rdflib.term.Node | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    return rdflib.Literal(term.value, lang=term.language,
                          datatype=None if term.language else rdflib.URIRef(term.datatype.value))


def _fill_template(template: str, row) -> str:
    """Substitute {?var} / {$var} in a SHACL-SPARQL message with the row's values."""
    def value_of(match: re.Match) -> str:
        term = from_ox(row[match.group(1)])
        return "" if term is None else (str(term) if isinstance(term, rdflib.Literal) else compact(term))
    return re.sub(r"\{[?$](\w+)\}", value_of, template)


def sparql_results(query, shapes: rdflib.Graph) -> list[Result]:
    """Evaluate every SHACL-SPARQL constraint once over the whole graph.

    pyshacl runs a SPARQL constraint once per focus node through rdflib (about 25 ms each:
    minutes for the 1,963 local governments). Oxigraph evaluates the same SELECT with $this
    left free once, joined with the shape's targets; for constraints like ours, whose
    SELECT projects $this, that gives the same solutions as pre-binding. `query` runs a SPARQL
    query over the data (an Oxigraph store's query method, or a store view's).
    """
    results = []
    for shape, constraint in shapes.subject_objects(SH.sparql):
        if shapes.value(constraint, SH.deactivated) == rdflib.Literal(True):
            continue
        targets = target_pattern(shapes, shape)
        if targets is None:
            continue
        select = str(shapes.value(constraint, SH.select))
        query_text = _prologue(shapes, constraint) + f"SELECT * WHERE {{ {targets} {{ {select} }} }}"
        severity = shapes.value(constraint, SH.severity) or shapes.value(shape, SH.severity) or SH.Violation
        templates = by_language((getattr(m, "language", None) or "", str(m)) for m in shapes.objects(constraint, SH.message))
        for row in query(query_text):
            focus, value, path = from_ox(row["this"]), from_ox(row["value"]), from_ox(row["path"])
            results.append(Result(
                focus=compact(focus) or "", path=compact(path), value=compact(value),
                severity=compact(severity).removeprefix("sh:"),
                component="sh:SPARQLConstraintComponent", shape=compact(shape) or "",
                messages={lang: _fill_template(t, row) for lang, t in templates.items()},
            ))
    return results


def add_results_to_report_graph(report_graph: rdflib.Graph, results: list[Result]) -> None:
    """Write results found outside pyshacl (SPARQL constraints, project checks) into the sh:ValidationReport."""
    report = report_graph.value(None, RDF.type, SH.ValidationReport)
    expand = {f"{p}:": ns for p, ns in PREFIXES.items()}
    namespaces = rdflib.namespace.NamespaceManager(rdflib.Graph(), bind_namespaces="none")
    for prefix, ns in PREFIXES.items():
        namespaces.bind(prefix, ns)

    def term(text: str | None):
        if text is None:
            return None
        if text.startswith("<"):
            return rdflib.URIRef(text[1:-1])
        if text.startswith("_:"):
            return rdflib.BNode(text[2:])
        if text.startswith('"'):  # a literal as compact() writes it, its datatype maybe prefixed
            return rdflib.util.from_n3(text, nsm=namespaces)
        prefix, local = text.split(":", 1)
        return rdflib.URIRef(expand[prefix + ":"] + local)

    for r in results:
        node = rdflib.BNode()
        report_graph.add((report, SH.result, node))
        report_graph.add((node, RDF.type, SH.ValidationResult))
        for p, o in ((SH.focusNode, term(r.focus)), (SH.resultPath, term(r.path)), (SH.value, term(r.value)),
                     (SH.resultSeverity, SH[r.severity]), (SH.sourceShape, term(r.shape)),
                     (SH.sourceConstraintComponent, term(r.component))):
            if o is not None:
                report_graph.add((node, p, o))
        for lang, text in r.messages.items():
            report_graph.add((node, SH.resultMessage, rdflib.Literal(text, lang=lang or None)))
    if results:
        report_graph.set((report, SH.conforms, rdflib.Literal(False)))


# --- Literals: lexical forms ---------------------------------------------------------------------

XSD = "http://www.w3.org/2001/XMLSchema#"
_TZ = r"(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)?"
_YEAR = r"-?([1-9]\d{4,}|\d{4})"
# The XSD datatypes our shapes and ontology use (and a few neighbours), as XSD 1.1 writes them.
LEXICAL_FORMS = {name: re.compile(pattern) for name, pattern in {
    "string": r"(?s).*",
    "boolean": r"true|false|1|0",
    "integer": r"[+-]?\d+",
    "nonNegativeInteger": r"\+?\d+|-0+",
    "positiveInteger": r"\+?0*[1-9]\d*",
    "decimal": r"[+-]?(\d+(\.\d*)?|\.\d+)",
    "double": r"[+-]?((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|INF)|NaN",
    "date": _YEAR + r"-(\d{2})-(\d{2})" + _TZ,
    "dateTime": _YEAR + r"-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?" + _TZ + "|" + _YEAR
                + r"-(\d{2})-(\d{2})T24:00:00(\.0+)?" + _TZ,
    "gYearMonth": _YEAR + r"-(\d{2})" + _TZ,
    "gYear": _YEAR + _TZ,
    "hexBinary": r"([0-9A-Fa-f]{2})*",
    "anyURI": r"[^\s<>\"{}|\\^`]*",
}.items()}


def lexical_problem(value: str, datatype: str) -> bool:
    """Whether `value` is not a lexical form of the XSD `datatype` (unknown datatypes pass)."""
    if not datatype.startswith(XSD):
        return False
    name = datatype[len(XSD):]
    form = LEXICAL_FORMS.get(name)
    if form is None:
        return False
    match = form.fullmatch(value)
    if match is None:
        return True
    if name in ("date", "dateTime", "gYearMonth"):  # the month exists; so does the day in that month
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            return True
        if name != "gYearMonth":
            import calendar
            day = int(match.group(3))
            leap = calendar.isleap(year if year > 0 else year + 1)  # XSD 1.1: year 0 is 1 BCE
            if not 1 <= day <= (29 if month == 2 and leap else calendar.mdays[month]):
                return True
    return False


def ill_typed_literals(triples) -> list[Result]:
    """Results for literals whose text is not a lexical form of their datatype. pyshacl's
    sh:datatype lets "2019-13"^^xsd:gYearMonth through, and the build then breaks on it: the
    check, the build and ingest all run this. `triples` are pyoxigraph triples or quads."""
    results = []
    for t in triples:
        o = t.object
        if isinstance(o, ox.Literal) and not o.language and lexical_problem(o.value, o.datatype.value):
            datatype = compact(rdflib.URIRef(o.datatype.value))
            prop = compact(rdflib.URIRef(t.predicate.value))
            shown = o.value if len(o.value) <= 80 else o.value[:80] + "…"
            results.append(Result(
                focus=compact(from_ox(t.subject)) or "", path=prop, value=compact(from_ox(o)), severity="Violation",
                component="ks:LiteralCheck", shape="ks:SubmissionChecks",
                messages={"ja": f"{prop} の値 \"{shown}\" は {datatype} として正しくありません（例: 日付は 2019-03-31、年月は 2019-03、年は 2019）。",
                          "en": f"The value \"{shown}\" of {prop} is not a valid {datatype} "
                                f"(e.g. a date is 2019-03-31, a year and month 2019-03, a year 2019)."}))
    return results


def core_shapes(shapes: rdflib.Graph) -> rdflib.Graph:
    """The shapes without their sh:sparql constraints (those run on Oxigraph)."""
    core = rdflib.Graph()
    for triple in shapes:
        if triple[1] != SH.sparql:
            core.add(triple)
    for prefix, ns in shapes.namespaces():
        core.bind(prefix, ns)
    return core


def validate_graph(data: rdflib.Graph, shapes: rdflib.Graph, *, focus_nodes: list | None = None,
                   sparql_store: ox.Store | None = None, core: rdflib.Graph | None = None) -> Report:
    """SHACL Core through pyshacl, SHACL-SPARQL through Oxigraph; one report.

    With `focus_nodes`, only those nodes are validated (pass nested blank nodes too: pyshacl
    does not follow them by itself); `sparql_store` is an Oxigraph copy of `data` when the
    caller keeps one; `core` the precomputed core_shapes(shapes).
    """
    options = {"focus_nodes": focus_nodes, "inplace": True} if focus_nodes is not None else {}
    conforms, report_graph, _ = shacl_validate(
        data, shacl_graph=core if core is not None else core_shapes(shapes), inference="none", advanced=False,
        allow_warnings=True, meta_shacl=False, **options,
    )
    store = sparql_store
    if store is None:
        store = ox.Store()
        store.bulk_load(input=data.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    by_sparql = sparql_results(store.query, shapes)
    if focus_nodes is not None:
        wanted = {compact(n) for n in focus_nodes}
        by_sparql = [r for r in by_sparql if r.focus in wanted]
    add_results_to_report_graph(report_graph, by_sparql)
    results = results_from(report_graph, shapes, data)
    violations = [r for r in results if r.severity == "Violation"]
    return Report(conforms=not violations, results=results, graph=report_graph)


# --- Files ---------------------------------------------------------------------------------------

_SUBJECT_LINE = re.compile(r"^(\S+)\s")
_PREFIX_LINE = re.compile(r"@prefix\s+([\w-]*):\s*<([^>]*)>", re.IGNORECASE)


def subject_lines(text: str) -> dict[str, int]:
    """Map each subject written at the start of a line (full IRI) to its first line number.

    Good enough to point a person at where a focus node's triples are written in Turtle.
    """
    prefixes = dict(_PREFIX_LINE.findall(text))
    found: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        m = _SUBJECT_LINE.match(line)
        if not m or line.startswith(("@", "#")):
            continue
        token = m.group(1)
        if token.startswith("<") and token.endswith(">"):
            iri = token[1:-1]
        elif ":" in token and not token.startswith(('"', "[", "(")):
            prefix, local = token.split(":", 1)
            if prefix not in prefixes:
                continue
            iri = prefixes[prefix] + local
        else:
            continue
        found.setdefault(iri, number)
    return found


def load_files(files: list[Path | InputFile], graph: rdflib.Graph | None = None) -> tuple[rdflib.Graph, dict[str, tuple[str, int]]]:
    """Parse files into one rdflib graph; also return where each subject is written."""
    graph = graph if graph is not None else rdflib.Graph()
    origins: dict[str, tuple[str, int]] = {}
    for f in files:
        path = f.path if isinstance(f, InputFile) else Path(f)
        name = f.relative if isinstance(f, InputFile) else str(f)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise RdfSyntaxError(name, None, None, f"cannot read: {err.strerror}") from None
        fmt = FORMATS_BY_SUFFIX.get(path.suffix.lower(), ox.RdfFormat.TURTLE)
        to_rdflib(parse_rdf(data, name, fmt), graph)
        if fmt == ox.RdfFormat.TURTLE:
            for iri, line in subject_lines(data.decode("utf-8", errors="replace")).items():
                origins.setdefault(iri, (name, line))
    return graph, origins


def locate(report: Report, origins: dict[str, tuple[str, int]]) -> Report:
    """Fill in file and line of each result's focus node where known."""
    expand = {f"{p}:": ns for p, ns in PREFIXES.items()}
    for r in report.results:
        iri = r.focus[1:-1] if r.focus.startswith("<") else None
        if iri is None and ":" in r.focus and not r.focus.startswith("_:"):
            prefix, local = r.focus.split(":", 1)
            iri = expand.get(prefix + ":", "") + local
        if iri and iri in origins:
            r.file, r.line = origins[iri]
    return report
