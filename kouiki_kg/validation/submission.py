"""Checking a case a data steward submits: the same report for the web form, the API, the CLI
and ingest.

The submission is validated *together with* the project's reference data (ontology, concept
schemes, local governments, the other cases) so that class checks and references resolve;
a project case that defines the same initiative is left out (the submission replaces it).
Besides the SHACL shapes, four checks need the whole project and are done here:
IRIs outside our namespace patterns, references to things that do not exist, unknown
kk: terms, and an initiative that already exists in another case.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.namespace import OWL, RDF

from ..formats import UPLOAD_FORMATS
from ..namespaces import BASE, INITIATIVE, KK, PREFIXES
from ..build import inputs_digest
from ..project import input_files
from ..store import BuildInfo, current_build
from . import (RdfSyntaxError, Report, Result, SubmissionTooLarge, add_results_to_report_graph, compact,
                         core_shapes, ill_typed_literals, parse_rdf, subject_lines, to_rdflib, validate_graph)


# Where our IRIs may point: anything else under the base is outside our namespace patterns.
IRI_PATTERNS = [re.compile("^" + re.escape(BASE) + p + "$") for p in (
    r"id/initiative/[a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*)?",
    r"id/lg/[0-9]{6}", r"id/(org|document|meeting)/[a-z0-9]+(-[a-z0-9]+)*",
    r"concept/[a-z-]+(/[a-z0-9]+(-[a-z0-9]+)*)?", r"source/[A-Za-z0-9_-]+(/L[0-9]+-L[0-9]+)?",
    r"ontology(#[A-Za-z]+|/[a-z0-9.]+)?", r"shapes(#[A-Za-z-]+)?", r"dataset(#[a-z-]+)?", r"graph/[a-z0-9/_-]+",
)]
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")  # a case's name: data/ttl/cases/{slug}.ttl
CHECK = "ks:"  # our own checks are reported as components ks:…Check of the shape ks:SubmissionChecks


def is_slug(text: str) -> bool:
    return bool(SLUG.match(text)) and len(text) <= 100


def format_for(name: str | None, content_type: str | None, filename: str | None) -> str:
    """The submission's format: explicit choice, then Content-Type, then file extension, then Turtle."""
    if name in UPLOAD_FORMATS:
        return name
    media = (content_type or "").split(";")[0].strip().lower()
    for short, (_, media_types, extensions) in UPLOAD_FORMATS.items():
        if media in media_types:
            return short
    suffix = Path(filename or "").suffix.lower()
    for short, (_, _, extensions) in UPLOAD_FORMATS.items():
        if suffix in extensions:
            return short
    return "ttl"


# An untrusted document is measured before it is parsed: a JSON-LD document nested 5,000 deep
# crashed the parser (a stack overflow), and a Turtle list of 900,000 items took a check worker
# to 3 GB in rdflib and pyshacl. A case is a few hundred triples.
BOM = b"\xef\xbb\xbf"  # a UTF-8 byte-order mark, which Notepad writes: accepted, and dropped
MAX_DEPTH = 64  # brackets, braces and parentheses open at once
MAX_TRIPLES = 50_000
_NESTING = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""' r"|'''(?:[^'\\]|\\.|'(?!''))*'''"  # long strings
    r'|"(?:[^"\\\n]|\\.)*"' r"|'(?:[^'\\\n]|\\.)*'"  # strings
    r'|<[^<>"{}|^`\\\s]*>|#[^\n]*'  # IRIs, comments
    r"|(?P<open>[\[({])|(?P<close>[\])}])")


def nesting_depth(text: str) -> int:
    """How deep brackets, braces and parentheses nest, strings, IRIs and comments aside."""
    depth = deepest = 0
    for match in _NESTING.finditer(text):
        if match.lastgroup == "open":
            depth += 1
            deepest = max(deepest, depth)
        elif match.lastgroup == "close":
            depth = max(0, depth - 1)
    return deepest


def parse_submission(data: bytes, source: str, fmt: str) -> list[ox.Triple]:
    if fmt == "rdfxml" and re.search(rb"<!ENTITY", data, re.IGNORECASE):
        # entity declarations: the road to XXE and billion-laughs; RDF/XML never needs them here
        raise RdfSyntaxError(source, None, None, "XML entity declarations (<!ENTITY …>) are not accepted")
    data = data.removeprefix(BOM)
    if fmt != "rdfxml" and nesting_depth(data.decode("utf-8", errors="replace")) > MAX_DEPTH:
        raise SubmissionTooLarge(f"入れ子が深すぎます（括弧の深さは {MAX_DEPTH} まで）。",
                                 f"The document nests too deep (at most {MAX_DEPTH} levels of brackets).",
                                 max_depth=MAX_DEPTH)
    triples = parse_rdf(data, source, UPLOAD_FORMATS[fmt][0])
    if len(triples) > MAX_TRIPLES:
        raise SubmissionTooLarge(f"トリプルが多すぎます（{len(triples):,} 件。一つの事例は {MAX_TRIPLES:,} 件まで）。",
                                 f"Too many triples ({len(triples):,}; a case has at most {MAX_TRIPLES:,}).",
                                 max_triples=MAX_TRIPLES)
    return triples


# --- reference data, cached per project state --------------------------------------------------

@dataclass
class _Reference:
    """The project as a check needs it, kept by the steward-check worker between checks.

    The quads come from the served build's store, opened read-only, when it was built from the
    files as they are now (nothing to parse, no copy in memory: at 1 M triples a copy was 400 MB
    per worker and 5.6 s to make); otherwise (files edited since the build, a remote store) the
    files are parsed into an in-memory Oxigraph store, in Rust (rdflib took 90 s and 1.7 GB for
    1 M triples). Either way one named graph per file, named as the build names it. The small
    files every check includes whole are also kept as an rdflib graph, ready for pyshacl.
    """

    key: tuple
    store: ox.Store
    files: dict  # named graph (NamedNode) → relative path, for the project's data files only
    always: rdflib.Graph  # ontology, schemes, sources, actors
    shapes: rdflib.Graph
    core: rdflib.Graph  # the shapes without sh:sparql
    kk_terms: set[str]
    built: bool  # read from the build's store (not parsed from the files)

    def quads(self, subject, predicate=None, obj=None, excluded: str | None = None):
        """Quads about a subject in every project file but `excluded` (a case being replaced)."""
        found = []
        for quad in self.store.quads_for_pattern(subject, predicate, obj, None):
            relative = self.files.get(quad.graph_name)  # None: not a data file's graph (shapes, description)
            if relative is not None and relative != excluded:
                found.append(quad)
        return found


_cache: dict[Path, _Reference] = {}
_cache_lock = threading.Lock()


def _reference(root: Path, store_dir: Path | None = None) -> _Reference:
    files = input_files(root)
    build = current_build(store_dir) if store_dir is not None else None
    key = (build.name if build is not None else None,
           tuple((f.relative, f.path.stat().st_mtime_ns, f.path.stat().st_size) for f in files))
    with _cache_lock:
        cached = _cache.get(root)
        if cached is not None and cached.key == key:
            return cached
    always, shapes = rdflib.Graph(), rdflib.Graph()
    for f in files:
        if f.kind == "shapes":
            to_rdflib(parse_rdf(f.path.read_bytes(), f.relative), shapes)
        elif f.relative.startswith(ALWAYS):
            to_rdflib(parse_rdf(f.path.read_bytes(), f.relative), always)
    data_files = [f for f in files if f.kind != "shapes"]
    store = _built_store(build, files)
    built = store is not None
    if store is None:
        store = ox.Store()
        for f in data_files:
            try:
                store.load(path=str(f.path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(f.graph))
            except SyntaxError:
                parse_rdf(f.path.read_bytes(), f.relative)  # raises with file, line and column
                raise
    kk_terms = {str(s) for s in always.subjects(RDF.type, None) if str(s).startswith(KK)}
    reference = _Reference(key, store, {ox.NamedNode(f.graph): f.relative for f in data_files}, always, shapes,
                           core_shapes(shapes), kk_terms, built)
    with _cache_lock:
        _cache[root] = reference
    return reference


def _built_store(build: Path | None, files: list) -> ox.Store | None:
    """The build's store, read-only, if it was built from exactly these files (else None)."""
    if build is None:
        return None
    try:
        if BuildInfo.read(build).content_hash != inputs_digest(files):
            return None
        return ox.Store.read_only(str(build / "oxigraph"))
    except (OSError, ValueError, TypeError):  # no such store (a remote one), unreadable build.json
        return None


ALWAYS = ("ontology/", "data/ttl/sources/", "data/ttl/actors/")  # small files every check includes whole


def _excluded(replacing: str | None) -> str | None:
    return f"data/ttl/cases/{replacing}.ttl" if replacing else None


def _context(reference: _Reference, submitted: rdflib.Graph, replacing: str | None) -> rdflib.Graph:
    """What validating the submission needs: the ontology and schemes whole, and from the rest
    of the project (local governments, other cases) only what the submission refers to, two
    steps deep (a body, and its prefecture or parent city). The rest of the project is known
    to conform; leaving it out keeps a check well under a second."""
    excluded = _excluded(replacing)
    found: dict[ox.Triple, None] = {}
    frontier = {ox.NamedNode(str(o)) for o in submitted.objects() if isinstance(o, rdflib.URIRef)}
    seen: set = set()
    for _ in range(2):
        following = set()
        for node in frontier - seen:
            seen.add(node)
            pending = [node]
            while pending:  # the node and the blank nodes it holds
                for quad in reference.quads(pending.pop(), excluded=excluded):
                    found[quad.triple] = None
                    if isinstance(quad.object, ox.NamedNode):
                        following.add(quad.object)
                    elif isinstance(quad.object, ox.BlankNode):
                        pending.append(quad.object)
        frontier = following
    context = rdflib.Graph()
    context += reference.always
    return to_rdflib(list(found), context)


# --- the checks ----------------------------------------------------------------------------------

def _result(focus: str, path: str | None, value: str | None, check: str, ja: str, en: str) -> Result:
    return Result(focus=focus, path=path, value=value, severity="Violation", component=CHECK + check,
                  shape="ks:SubmissionChecks", messages={"ja": ja, "en": en})


def _n3(term) -> str:
    return f"<{term}>" if isinstance(term, rdflib.URIRef) else term.n3()


def _shown(term) -> str:
    """As reports show terms: compact where a known prefix fits."""
    return compact(term) or ""


def _project_checks(submitted: rdflib.Graph, reference: _Reference, replacing: str | None) -> list[Result]:
    results = []
    subjects = {s for s in submitted.subjects() if isinstance(s, rdflib.URIRef)}
    for s in sorted(subjects):
        if not str(s).startswith(BASE):
            results.append(_result(_shown(s), None, None, "NamespaceCheck",
                                   f"IRI {s} は当プロジェクトの名前空間（{BASE}）の外にあります。記述する資源は名前空間の中に置いてください。",
                                   f"IRI {s} is outside our namespace ({BASE}); describe resources inside it."))
        elif not any(p.match(str(s)) for p in IRI_PATTERNS):
            results.append(_result(_shown(s), None, None, "NamespaceCheck",
                                   f"IRI {s} は定められた形（id/initiative/…, id/lg/{{6桁}}, concept/… など）に合いません。",
                                   f"IRI {s} does not follow our IRI patterns (id/initiative/…, id/lg/{{6 digits}}, concept/… …)."))
    replaced_file = _excluded(replacing)
    submitted_subjects = {str(s) for s in submitted.subjects()}

    def known(iri: str) -> bool:
        return iri in submitted_subjects or bool(reference.quads(ox.NamedNode(iri), excluded=replaced_file))

    for s, p, o in submitted:
        if isinstance(o, rdflib.URIRef) and str(o).startswith(BASE) and not any(x.match(str(o)) for x in IRI_PATTERNS):
            results.append(_result(_shown(s), _shown(p), _shown(o), "NamespaceCheck",
                                   f"参照先 {o} は定められた IRI の形に合いません。",
                                   f"The object {o} does not follow our IRI patterns."))
        elif isinstance(o, rdflib.URIRef) and str(o).startswith(BASE) and "#" not in str(o) and not known(str(o)) \
                and p != OWL.versionIRI:
            results.append(_result(_shown(s), _shown(p), _shown(o), "ReferenceCheck",
                                   f"{o} は存在しません（団体コードや概念の IRI を確かめてください）。",
                                   f"{o} does not exist (check the local-government code or concept IRI)."))
        for term in (p, o if p == RDF.type else None):
            if isinstance(term, rdflib.URIRef) and str(term).startswith(KK) and str(term) not in reference.kk_terms:
                results.append(_result(_shown(s), _shown(p), _shown(term), "TermCheck",
                                       f"{term} はオントロジーで定義されていない語です。",
                                       f"{term} is not a term of the ontology."))
    initiatives = set(submitted.subjects(RDF.type, rdflib.URIRef(KK + "Initiative")))
    own = tuple(f"{i}{tail}" for i in map(str, initiatives) for tail in ("", "/"))
    for s in sorted(subjects - initiatives):
        if str(s).startswith(own):
            continue  # the case's own namespace
        owners = sorted({reference.files[q.graph_name] for q in reference.quads(ox.NamedNode(str(s)), excluded=replaced_file)})
        if owners:
            results.append(_result(_shown(s), None, None, "OwnershipCheck",
                                   f"{s} は {owners[0]} の資源です。事例のファイルは自分の資源（取組の名前空間と、この事例が新たに作る資源）についてだけ記述できます。他の資源は目的語として参照してください。",
                                   f"{s} belongs to {owners[0]}: a case's file may state triples only about its own "
                                   f"resources (its initiative's namespace and those it mints); refer to others as objects."))
    kk_initiative = ox.NamedNode(KK + "Initiative")
    for initiative in initiatives:
        owners = sorted(reference.files[q.graph_name] for q in reference.quads(
            ox.NamedNode(str(initiative)), ox.NamedNode(str(RDF.type)), kk_initiative, excluded=replaced_file))
        owner = owners[0] if owners else None
        if owner is not None:
            results.append(_result(_shown(initiative), None, None, "ExistingInitiativeCheck",
                                   f"この取組はすでに {owner} にあります。置き換える場合はその事例（{Path(owner).stem}）として提出してください。",
                                   f"This initiative already exists in {owner}; to replace it, submit it as that case "
                                   f"({Path(owner).stem})."))
    return results


def _line_of(iri: str, text: str, lines_by_subject: dict[str, int]) -> int | None:
    if iri in lines_by_subject:
        return lines_by_subject[iri]
    for number, line in enumerate(text.splitlines(), start=1):  # N-Triples, JSON-LD, RDF/XML: first mention
        if iri in line:
            return number
    return None


@dataclass
class Checked:
    """A submission checked for publishing: its report, and what publishing needs from the parse
    (so that an untrusted document is parsed once, in the check worker, never in a web process)."""

    report: Report
    initiatives: list[str]  # the kk:Initiative IRIs it describes
    turtle: bytes  # the document as Turtle, as the case file will hold it


def check_for_publish(data: bytes, root: Path, *, fmt: str, source: str, case: str,
                      store_dir: Path | None = None) -> Checked:
    data = data.removeprefix(BOM)
    triples = parse_submission(data, source, fmt)
    report = check(data, root, fmt=fmt, source=source, replacing=case, store_dir=store_dir, parsed=triples)
    initiatives = sorted({t.subject.value for t in triples if t.predicate.value == PREFIXES["rdf"] + "type"
                          and t.object.value == KK + "Initiative"})
    turtle = data if fmt == "ttl" else ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    return Checked(report, initiatives, turtle)


def check(data: bytes, root: Path, *, fmt: str = "ttl", source: str = "submission", replacing: str | None = None,
          store_dir: Path | None = None, parsed: list[ox.Triple] | None = None) -> Report:
    """Validate one submitted document; raises RdfSyntaxError (with line and column) if unreadable.

    `store_dir`: where the project is built; its store is read instead of parsing the files
    when it was built from them as they are. `parsed`: the document's triples, if already parsed."""
    data = data.removeprefix(BOM)
    triples = parsed if parsed is not None else parse_submission(data, source, fmt)
    submitted = to_rdflib(triples)
    reference = _reference(root, store_dir)
    if replacing is None:  # a case of the project, checked again: recognised by its initiative
        replacing = case_of(submitted, reference)
    context = _context(reference, submitted, replacing)
    report = validate_graph(context + submitted, reference.shapes, core=reference.core)
    extra = ill_typed_literals(triples) + _project_checks(submitted, reference, replacing)
    # Only what the submission is responsible for: its own subjects (the project data conforms).
    submitted_nodes = {_n3(s) for s in submitted.subjects()}
    expand = {f"{p}:": ns for p, ns in PREFIXES.items()}

    def full(focus: str) -> str:
        if focus.startswith(("<", "_:")) or ":" not in focus:
            return focus
        prefix, local = focus.split(":", 1)
        return f"<{expand.get(prefix + ':', prefix + ':')}{local}>"

    results = [r for r in report.results if full(r.focus) in submitted_nodes] + extra
    text = data.decode("utf-8", errors="replace")
    lines = subject_lines(text) if fmt == "ttl" else {}
    parents = {_n3(o): s for s, _, o in submitted if isinstance(o, rdflib.BNode)}
    for r in results:
        focus = full(r.focus)
        while focus in parents:  # a blank node is written inside the node that holds it
            focus = _n3(parents[focus])
        if focus.startswith("<"):
            r.file, r.line = source, _line_of(focus[1:-1], text, lines)
    results.sort(key=lambda r: (r.line or 0, r.focus, r.path or "", r.component))
    add_results_to_report_graph(report.graph, extra)
    report.results = results
    report.conforms = not any(r.severity == "Violation" for r in results)
    report.case = replacing
    return report


def case_of(submitted: rdflib.Graph, reference: _Reference) -> str | None:
    """The project case a submission replaces: the one whose file is named after the initiative
    it describes, when that file describes it (None for a new case)."""
    for initiative in sorted(submitted.subjects(RDF.type, rdflib.URIRef(KK + "Initiative"))):
        slug = str(initiative).removeprefix(INITIATIVE)
        relative = f"data/ttl/cases/{slug}.ttl"
        if is_slug(slug) and any(reference.files.get(q.graph_name) == relative for q in reference.quads(
                ox.NamedNode(str(initiative)), ox.NamedNode(str(RDF.type)), ox.NamedNode(KK + "Initiative"))):
            return slug
    return None


@dataclass(frozen=True)
class PrepareChecks:
    """Parse the project in the steward-check worker ahead of the first check (views.validate)."""

    root: str
    store_dir: str | None = None

    def execute(self, cache: dict) -> bool:
        return _reference(Path(self.root), Path(self.store_dir) if self.store_dir else None).built


@dataclass(frozen=True)
class ValidationRequest:
    """A submission to check in a worker process (see querypool), so it can be stopped at a limit.
    With `publish`, a Checked for ingest (the case is `replacing`); else a Report."""

    root: str
    data: bytes
    fmt: str
    source: str
    replacing: str | None = None
    store_dir: str | None = None
    publish: bool = False

    def execute(self, cache: dict) -> Report | Checked:
        store_dir = Path(self.store_dir) if self.store_dir else None
        if self.publish:
            return check_for_publish(self.data, Path(self.root), fmt=self.fmt, source=self.source,
                                     case=self.replacing or "", store_dir=store_dir)
        return check(self.data, Path(self.root), fmt=self.fmt, source=self.source, replacing=self.replacing,
                     store_dir=store_dir)  # Report pickles: its results and its sh:ValidationReport graph
