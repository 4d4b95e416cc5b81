"""The only module that talks to Oxigraph.

On disk, ``{store_dir}/current`` is a symlink to one immutable build under
``{store_dir}/builds/``; a build is made aside and the link is swapped atomically, so a
reader always sees a complete store and a failed build leaves the served one untouched.
Each build directory holds ``oxigraph/`` (the store) and ``build.json`` (its hash, counts).
"""

from __future__ import annotations

import fcntl
import functools
import gzip
import json
import os
import re
import shutil
import threading
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Callable

import pyoxigraph as ox

from .failures import RequestFailed
from .namespaces import PREFIXES, QUERY_BASE
from .querytext import dataset_clause, fill, too_complex, uses_service


class StoreMissing(Exception):
    """No built store yet: run `kouiki-kg build`."""


@dataclass(frozen=True)
class BuildInfo:
    content_hash: str
    triples: int
    graphs: int
    built_at: str
    version: str
    graph_triples: dict = field(default_factory=dict)  # named graph IRI → triples
    dataset_triples: int | None = None  # the data's, as the dataset description counts them (void:triples)

    @classmethod
    def read(cls, build_dir: Path) -> "BuildInfo":
        data = json.loads((build_dir / "build.json").read_text(encoding="utf-8"))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def write(self, build_dir: Path) -> None:
        (build_dir / "build.json").write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")


@functools.lru_cache(maxsize=64)
def _resolved(store_dir: Path, target: str) -> Path:
    """Where a `current` link's target leads, fully resolved: made once per target (a swap makes
    a new one), not on every request."""
    return (store_dir / target).resolve()


def current_build(store_dir: Path) -> Path | None:
    """The build the `current` link names, or None. Asked on every request: one readlink and one
    stat (a full resolve() walked and stat'ed every component of the path: 4 % of a light query)."""
    link = store_dir / "current"
    try:
        target = os.readlink(link)
    except FileNotFoundError:
        return None
    except OSError:  # not a link (a copied store): the folder itself
        return link.resolve() if link.exists() else None
    build = _resolved(store_dir, target)
    return build if build.is_dir() else None


def graph_names(query: Callable[[str], object]) -> list:
    """The named graphs in IRI order (the same whatever store holds them), listed as cheaply as
    the engine allows. `GRAPH ?g {}` reads Oxigraph's list of graphs; Virtuoso answers it with
    one row and no ?g, so then every quad's graph."""
    graphs = [row["g"] for row in query("SELECT ?g WHERE { GRAPH ?g {} }")]
    if any(g is None for g in graphs):
        graphs = [row["g"] for row in query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")]
    return sorted(graphs, key=lambda g: g.value)


def term_order(term) -> tuple:
    """The order pages list values in: literals (by language, then text), then IRIs, then blank nodes."""
    if isinstance(term, ox.Literal):
        return (0, term.language or "", term.value)
    return (2 if isinstance(term, ox.BlankNode) else 1, "", getattr(term, "value", ""))


class StoreView:
    """SPARQL and pattern access to an open Oxigraph store (a build being made, or a finished one)."""

    def __init__(self, store: ox.Store):
        self._store = store

    @property
    def engine(self) -> ox.Store:
        """The open Oxigraph store, for a query request run in this process (querypool)."""
        return self._store

    @classmethod
    def open_read_only(cls, path: Path) -> "StoreView":
        return cls(ox.Store.read_only(str(path)))

    def query(self, sparql: str, *, union_default_graph: bool = True, default_graphs: list[str] | None = None):
        """Run a SPARQL query; the default graph is the union of all graphs unless told otherwise.

        With `default_graphs`, it is the union of those named graphs only.
        """
        if default_graphs is not None and not self._covers_store(default_graphs):
            return self._store.query(sparql, prefixes=PREFIXES, default_graph=[ox.NamedNode(g) for g in default_graphs])
        return self._store.query(sparql, prefixes=PREFIXES, use_default_graph_as_union=union_default_graph)

    def evaluate(self, sparql: str, default_graph_uris=(), named_graph_uris=()):
        """A query as the SPARQL endpoint answers it: its dataset, our base IRI and prefixes, its limits."""
        refuse_too_complex(sparql)
        return self._store.query(sparql, **dataset_options(sparql, default_graph_uris, named_graph_uris))

    def _covers_store(self, graphs: list[str]) -> bool:
        """Whether these named graphs are everything the store holds. Then their union is the
        union default graph, which Oxigraph answers far faster than a list of graphs (an
        unbound pattern is looked up graph by graph: 32 s instead of 2 s over 46 graphs at 1 M)."""
        return (set(graphs) >= {g.value for g in self._store.named_graphs()}
                and next(iter(self._store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is None)

    def iter_quads(self, subject=None, predicate=None, obj=None, graph=None):
        return self._store.quads_for_pattern(subject, predicate, obj, graph)


class GraphStore(StoreView):
    """A read-only view of one build: SPARQL over the union of its named graphs."""

    TRIPLES_REMEMBERED = 1024  # patterns; a page asks a dozen to a hundred

    def __init__(self, build_dir: Path):
        self.build_dir = build_dir
        self.info = BuildInfo.read(build_dir)
        super().__init__(ox.Store.read_only(str(build_dir / "oxigraph")))
        # a build never changes, so a pattern's triples can be remembered: a page reads its
        # subject's twice (its facts, its table of properties) and each blank node's twice (its
        # sort key, its rows), and the same bodies are checked page after page. Reading costs
        # ~3 µs a triple on disk (each term's text is a look-up), the remembered answer nothing
        self.triples = functools.lru_cache(maxsize=self.TRIPLES_REMEMBERED)(self._triples)

    @classmethod
    def open_current(cls, store_dir: Path) -> "GraphStore":
        build = current_build(store_dir)
        if build is None:
            raise StoreMissing(f"no store at {store_dir}: run `kouiki-kg build` first")
        return cls(build)

    def query_with(self, sparql: str, **terms):
        """A query with `$name$` placeholders filled by RDF terms (see `fill`)."""
        return self._store.query(fill(sparql, terms), prefixes=PREFIXES, use_default_graph_as_union=True)

    def quads(self):
        return self._store.quads_for_pattern(None, None, None, None)

    def _triples(self, subject=None, predicate=None, obj=None) -> tuple[ox.Triple, ...]:
        """Distinct triples matching a pattern, across all named graphs (as `triples`, remembered)."""
        seen: dict[ox.Triple, None] = {}
        for quad in self._store.quads_for_pattern(subject, predicate, obj, None):
            seen.setdefault(quad.triple, None)
        return tuple(seen)

    def has_subject(self, node) -> bool:
        return next(iter(self._store.quads_for_pattern(node, None, None, None)), None) is not None

    def is_graph(self, node) -> bool:
        return next(iter(self._store.quads_for_pattern(None, None, None, node)), None) is not None

    def dump(self, output, fmt: ox.RdfFormat) -> None:
        self._store.dump(output, format=fmt)


DUMP_FORMATS = {"nq": ox.RdfFormat.N_QUADS, "ttl": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD}


class LoadSyntaxError(Exception):
    """An input file Oxigraph cannot parse, with where."""

    def __init__(self, path: Path, line: int | None, column: int | None, detail: str):
        super().__init__(detail)
        self.path, self.line, self.column, self.detail = path, line, column, detail


def write_build(build_dir: Path, graphs: list[tuple[Path, str]],
                check: Callable[[StoreView, Path | None], None] | None = None,
                describe: Callable[[Callable[[str], object], int], tuple[str, str]] | None = None,
                dumps: dict[str, str] | None = None,
                index: Callable[[Callable[[str], object]], None] | None = None,
                after_check: list[tuple[Path, str]] = (), in_memory: bool = False) -> dict[str, int]:
    """Load each (Turtle file, graph IRI) into a new store under build_dir.

    `check(view, store_path)` sees the loaded inputs and raises to abandon the build; its
    store_path is the store's folder (flushed, so other processes may open it read-only), or
    None when the build reads a copy in memory. `after_check` graphs (the shapes the data is
    checked against, not part of it) are loaded after it, so the checked store holds the data
    alone. `describe(query, triples)` returns (graph IRI, Turtle) of the dataset description, made
    from the loaded store's statistics and loaded beside it. `dumps` maps a format short name
    to a file name under build_dir/dumps/. `index(query)` makes whatever lookup files the
    site needs from the finished store. Returns triples per named graph.

    With `in_memory` the files are loaded into a store in memory, which the description, the
    lookup files and the dumps read (Oxigraph answers them there two to seven times faster
    than from RocksDB: at 1 M triples the lookup files take 22 s instead of 47, the dumps 2.5 s
    instead of 19.5), and the store on disk is then written from it, quad by quad so that its
    blank nodes keep the labels the lookup files name (a load would rename them).
    """
    store = ox.Store(str(build_dir / "oxigraph"))
    source = ox.Store() if in_memory else store  # what the build reads
    _load(source, graphs, bulk=not in_memory)
    view = StoreView(source)  # SPARQL over the union of the graphs, with our prefixes
    if check is not None:
        if source is store:
            store.flush()
        check(view, None if in_memory else build_dir / "oxigraph")
    _load(source, list(after_check), bulk=not in_memory)
    if describe is not None:
        graph, turtle = describe(view.query, len(source))
        source.load(turtle.encode("utf-8"), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(graph))
    counts = {row["g"].value: int(row["n"].value) for row in source.query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
    # The dumps are written beside the lookup files, in a thread: both only read the finished
    # store, and the dumps' serialising and compressing run mostly outside the GIL.
    failures: list[BaseException] = []
    writer = threading.Thread(target=_write_dumps_beside, args=(source, build_dir / "dumps", dumps or {}, failures),
                              name="dumps")
    writer.start()
    try:
        if index is not None:
            index(view.query)
        if source is not store:
            store.bulk_extend(source)  # holds the GIL: after the lookup files, beside the dumps
    finally:
        writer.join()
    if failures:
        raise failures[0]
    store.flush()
    del view, source, store, writer  # release the store's lock before readers open it
    return counts


def _load(store: ox.Store, files: list[tuple[Path, str]], *, bulk: bool) -> None:
    # A function of its own, not a closure: a failed build clears its traceback's frames to close
    # the store, and a closure's cell would keep the store open past that.
    for path, graph in files:
        try:
            # bulk_load writes new files (on disk); into memory, load is a third faster
            (store.bulk_load if bulk else store.load)(path=str(path), format=ox.RdfFormat.TURTLE,
                                                        to_graph=ox.NamedNode(graph))
        except SyntaxError as err:
            raise LoadSyntaxError(path, err.lineno, err.offset, err.msg if hasattr(err, "msg") else str(err)) from None


def copy_store(build_dir: Path, target_dir: Path) -> ox.Store:
    """A writable copy of a finished build's store, at target_dir/oxigraph: a RocksDB checkpoint
    (its immutable files hard-linked: milliseconds at any size), opened for writing."""
    ox.Store.read_only(str(build_dir / "oxigraph")).backup(str(target_dir / "oxigraph"))
    return ox.Store(str(target_dir / "oxigraph"))


def replace_graph(store: ox.Store, graph: str, source: Path | str | None) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """Replace a named graph's triples with a Turtle file's (a path) or text (a str), or remove it
    (None), in one transaction; returns the triples removed and those added."""
    name = ox.NamedNode(graph)
    removed = [q.triple for q in store.quads_for_pattern(None, None, None, name)]
    if removed:
        store.remove_graph(name)
    if source is not None:
        try:
            if isinstance(source, Path):
                store.load(path=str(source), format=ox.RdfFormat.TURTLE, to_graph=name)
            else:
                store.load(source.encode("utf-8"), format=ox.RdfFormat.TURTLE, to_graph=name)
        except SyntaxError as err:
            raise LoadSyntaxError(source if isinstance(source, Path) else Path(graph), err.lineno, err.offset,
                                  err.msg if hasattr(err, "msg") else str(err)) from None
    return removed, [q.triple for q in store.quads_for_pattern(None, None, None, name)]


def ensure_dumps(build_dir: Path, dumps: dict[str, str]) -> None:
    """Make a finished build's dumps if it has none (a build published case by case gets them
    after it is served): once, whoever asks first, across processes; the folder appears whole."""
    if (build_dir / "dumps").is_dir():
        return
    with open(build_dir / ".dumps.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if (build_dir / "dumps").is_dir():
                return
            work = build_dir / f".dumps-{os.getpid()}-{threading.get_ident()}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            try:
                _write_dumps(ox.Store.read_only(str(build_dir / "oxigraph")), work, dumps)
                work.rename(build_dir / "dumps")
            finally:
                shutil.rmtree(work, ignore_errors=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write_dumps(build_dir: Path, graphs, dumps: dict[str, str]) -> None:
    """Dumps from (graph IRI, triples) pairs read elsewhere (a remote store), into build_dir/dumps/.

    The triples go through a scratch on-disk store so the dumps are written exactly as a
    build writes them; the folder appears whole or not at all.
    """
    work = build_dir / f".dumps-{os.getpid()}-{threading.get_ident()}"
    shutil.rmtree(work, ignore_errors=True)
    (work / "dumps").mkdir(parents=True)
    try:
        store = ox.Store(str(work / "oxigraph"))
        for graph, triples in graphs:
            name = ox.NamedNode(graph)
            store.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in triples)
        store.flush()
        _write_dumps(store, work / "dumps", dumps)
        del store
        (work / "dumps").rename(build_dir / "dumps")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_dumps(store: ox.Store, folder: Path, dumps: dict[str, str]) -> None:
    """Every dump (short name → file name) into folder."""
    for short, file_name in dumps.items():
        _write_dump(store, folder / file_name, DUMP_FORMATS[short])


def _write_dumps_beside(store: ox.Store, folder: Path, dumps: dict[str, str], failures: list) -> None:
    """_write_dumps in a thread of the build: what fails is reported by the thread that waits."""
    try:
        if dumps:
            folder.mkdir()
            _write_dumps(store, folder, dumps)
    except BaseException as err:  # noqa: BLE001 — re-raised by the waiting thread
        failures.append(err)


def _write_dump(store: ox.Store, path: Path, fmt: ox.RdfFormat) -> None:
    """One gzipped dump; reproducible bytes (no time stamp in the gzip header)."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        if fmt == ox.RdfFormat.TURTLE:  # triples only: the union of all graphs
            triples = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
            out.write(ox.serialize(triples, format=fmt, prefixes=PREFIXES))
        else:
            store.dump(out, format=fmt)


def swap_current(store_dir: Path, build_dir: Path) -> None:
    """Point `current` at build_dir in one atomic rename."""
    tmp_link = store_dir / "current.new"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(os.path.relpath(build_dir, store_dir), tmp_link)
    os.replace(tmp_link, store_dir / "current")


# --- Query execution (runs inside a query worker process) -------------------------------------

@dataclass(frozen=True)
class QueryRequest:
    """Everything a worker needs to answer one SPARQL query."""

    build_dir: str
    query: str
    results_format: str | None  # short name for SELECT/ASK; None: nothing acceptable
    graph_format: str | None  # short name for CONSTRUCT/DESCRIBE; None: nothing acceptable
    row_limit: int
    max_answer_bytes: int = 50_000_000
    default_graph_uris: tuple[str, ...] = ()
    named_graph_uris: tuple[str, ...] = ()
    endpoint: str | None = None  # a remote SPARQL store to ask instead of the build's own

    def execute(self, cache: dict) -> "QueryAnswer":
        """Run in a worker process; `cache` keeps the opened store of the current build."""
        if self.endpoint:
            from .remote import RemoteStore

            remote = cache.get(("remote", self.endpoint))
            if remote is None:
                remote = cache[("remote", self.endpoint)] = RemoteStore(self.endpoint)
            return run_query(remote, self)
        store = cache.get(("store", self.build_dir))
        if store is None:
            for key in [k for k in cache if k[0] == "store"]:
                del cache[key]  # the old build may be pruned: let it go
            store = cache[("store", self.build_dir)] = ox.Store.read_only(f"{self.build_dir}/oxigraph")
        return run_query(store, self)


@dataclass(frozen=True)
class QueryAnswer:
    kind: str  # "solutions", "boolean" or "graph"
    format: str | None  # short name of the serialisation; None when the kind's format was refused
    body: bytes = b""
    rows: int = 0
    truncated: bool = False
    truncated_reason: str | None = None  # "rows" (the row limit) or "bytes" (the answer's byte limit)


class QueryFailed(RequestFailed):
    """The query could not be run: a syntax error (with position) or an evaluation error."""

    def __init__(self, kind: str, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.kind, self.message, self.line, self.column = kind, message, line, column

    def __reduce__(self):  # travels back from a worker process
        return (QueryFailed, (self.kind, self.message, self.line, self.column))


class _AnswerFull(Exception):
    """Raised through the engine's serializer once an answer has more than it may keep."""


class _Lines:
    """A binary writer the engine serialises an answer into, a line at a time (TSV results: the
    variables' line, then a row a line; N-Triples: a triple a line; both escape line breaks in
    terms). It stops the engine, by raising from `write`, as soon as it holds one row more than
    the row limit or more bytes of rows than the byte limit, so an answer costs no more than them.

    The engine writes the whole answer in one call (it still takes the GIL back a few times a
    query, and for each chunk it hands this writer), and the kept lines are read back into the
    format asked for (by the engine too). Reading the answer row by row took and gave back the
    GIL for every row, and wrote JSON in Python: light queries at 1 M triples took 12 % more CPU,
    with a p99 1.5 times as long (bench/light.py's mix, five rounds each way)."""

    def __init__(self, header_lines: int, row_limit: int, max_bytes: int):
        self.header_lines, self.row_limit, self.max_bytes = header_lines, row_limit, max_bytes
        self.data = bytearray()
        self.lines = 0
        self.full = False

    def write(self, chunk) -> int:
        self.data += chunk
        self.lines += chunk.count(b"\n")
        header = self.data.find(b"\n") + 1 if self.header_lines else 0
        if self.lines > self.header_lines + self.row_limit or len(self.data) - header > self.max_bytes:
            self.full = True
            raise _AnswerFull
        return len(chunk)

    def flush(self) -> None:
        pass

    def kept(self) -> tuple[bytes, int, str | None]:
        """The header and the rows within both limits, as the engine wrote them; how many rows;
        and why the rest was cut ("rows", "bytes") or None. One row past the byte limit on its
        own cannot be answered at all."""
        if not self.full:  # all of it fits: as written
            return bytes(self.data), self.lines - self.header_lines, None
        lines = bytes(self.data).split(b"\n")
        header, rows = lines[:self.header_lines], lines[self.header_lines:-1]  # the last: after the final \n, or cut short
        kept, size, reason = [], 0, None
        for row in rows:
            if len(kept) == self.row_limit:
                reason = "rows"
                break
            size += len(row) + 1
            if size > self.max_bytes:
                reason = "bytes"
                break
            kept.append(row)
        if reason is None:
            reason = "bytes"  # stopped inside a row that would not fit
        if reason == "bytes" and not kept:
            raise QueryFailed("too_large", f"one row or triple takes more than {self.max_bytes} bytes")
        return b"".join(line + b"\n" for line in header + kept), len(kept), reason


def _within_limits(serialize, request: "QueryRequest", header_lines: int) -> tuple[bytes, int, str | None]:
    """What `serialize(writer)` writes, cut at the request's limits (see _Lines)."""
    lines = _Lines(header_lines, request.row_limit, request.max_answer_bytes)
    try:
        serialize(lines)
    except _AnswerFull:
        pass
    return lines.kept()


def refuse_too_complex(query: str) -> None:
    """A query past the limits querytext sets is refused before anything parses it."""
    over = too_complex(query)
    if over:
        raise QueryFailed("too_complex", "; ".join(f"{name} {found} > {limit}" for name, (found, limit) in over.items()))


def dataset_options(query: str, default_graph_uris=(), named_graph_uris=()) -> dict:
    """The arguments of Store.query (ours and RemoteStore's) for a query and the protocol's
    dataset parameters, as SPARQL 1.1 Protocol §2.1.4 and Query §13 say.

    The parameters, when given, define the whole dataset (an absent half is empty); else the
    query's FROM / FROM NAMED do; only a query with neither sees our union default graph.
    Relative IRIs resolve against QUERY_BASE; our common prefixes are predeclared, as WDQS does.
    """
    options: dict = {"prefixes": PREFIXES, "base_iri": QUERY_BASE}
    if not (default_graph_uris or named_graph_uris):
        # Given explicitly, as the engine would read it: a remote store that serves a union
        # default graph (as ours must) would otherwise ignore the clause.
        default_graph_uris, named_graph_uris = dataset_clause(query) or ((), ())
    if default_graph_uris or named_graph_uris:
        options["default_graph"] = [ox.NamedNode(g) for g in default_graph_uris]
        options["named_graphs"] = [ox.NamedNode(g) for g in named_graph_uris]
    else:
        options["use_default_graph_as_union"] = True
    return options


def run_query(store, request: QueryRequest) -> QueryAnswer:
    """Evaluate, cut at the row limit, and serialise in the negotiated format.

    `store` is an Oxigraph store or a remote.RemoteStore (same query arguments and results).
    SERVICE is refused: Oxigraph would fetch any URL it names, from our machine (request
    forgery against internal addresses, and a way to make us attack others).
    """
    from .formats import GRAPH_FORMATS, RESULT_FORMATS

    if uses_service(request.query):
        raise QueryFailed("forbidden", "SERVICE (federated query) is not allowed on this endpoint")
    refuse_too_complex(request.query)

    try:
        options = dataset_options(request.query, request.default_graph_uris, request.named_graph_uris)
        result = store.query(request.query, **options)
        if isinstance(result, ox.QueryBoolean):
            if request.results_format is None:
                return QueryAnswer("boolean", None)
            fmt = RESULT_FORMATS[request.results_format]
            return QueryAnswer("boolean", fmt.name, result.serialize(format=fmt.results), rows=1)
        if isinstance(result, ox.QuerySolutions):
            if request.results_format is None:
                return QueryAnswer("solutions", None)
            fmt = RESULT_FORMATS[request.results_format]
            kept, rows, reason = _within_limits(
                lambda out: result.serialize(out, format=ox.QueryResultsFormat.TSV), request, header_lines=1)
            body = ox.parse_query_results(kept, format=ox.QueryResultsFormat.TSV).serialize(format=fmt.results)
            return QueryAnswer("solutions", fmt.name, body, rows=rows, truncated=reason is not None,
                               truncated_reason=reason)
        if request.graph_format is None:
            return QueryAnswer("graph", None)
        fmt = GRAPH_FORMATS[request.graph_format]
        kept, rows, reason = _within_limits(  # the engine's triples, or a remote store's (a list)
            lambda out: result.serialize(out, format=ox.RdfFormat.N_TRIPLES) if hasattr(result, "serialize")
            else ox.serialize(result, out, format=ox.RdfFormat.N_TRIPLES), request, header_lines=0)
        triples = ox.parse(kept, format=ox.RdfFormat.N_TRIPLES)
        body = ox.serialize(triples, format=fmt.rdf, prefixes=PREFIXES if fmt.name in ("ttl", "trig", "rdfxml") else None)
        return QueryAnswer("graph", fmt.name, body, rows=rows, truncated=reason is not None, truncated_reason=reason)
    except SyntaxError as err:
        message = err.msg if hasattr(err, "msg") else str(err)
        line, column = err.lineno, err.offset
        position = re.match(r"error at (\d+):(\d+): ", message)
        if position and line is None:  # the query parser puts the position in the message
            line, column = int(position[1]), int(position[2])
            message = message[position.end():]
        raise QueryFailed("syntax", message.strip(), line, column) from None
    except (OSError, ValueError, RuntimeError) as err:
        raise QueryFailed("evaluation", str(err)) from None
