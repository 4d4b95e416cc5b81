"""ontology/ + shapes/ + data/ttl/ → validated → a new on-disk store, swapped in atomically."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pyoxigraph as ox
import rdflib

from . import __version__, description, increment, listings
from .config import Config
from .project import INPUT_FOLDERS, InputFile, content_hash, input_files
from .validation.units import validate_store
from .store import BuildInfo, LoadSyntaxError, StoreView, current_build, swap_current, write_build
from .validation import (RdfSyntaxError, Report, add_results_to_report_graph, ill_typed_literals, load_files, locate,
                         subject_lines, validate_graph)

KEEP_BUILDS = 2  # the current build and the one before it
# Up to this much Turtle (~2 M triples; ~400 MB in memory a million) the build reads a copy of the
# data in memory (store.write_build) and the check runs in a process of its own on its own copy,
# started before anything is loaded (CheckBeside); past it, both read the store on disk, the
# check a snapshot of it once loaded, in units on every CPU past validation.units' bound.
IN_MEMORY_BYTES = 120_000_000
# The code that decides what a build contains: a change to it must rebuild the store too.
BUILD_CODE = ("build.py", "description.py", "listings.py", "project.py", "search.py", "store.py", "validation/__init__.py",
              "validation/units.py")


def _builder_fingerprint() -> str:
    digest = hashlib.sha256(__version__.encode())
    for name in BUILD_CODE:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()


def inputs_digest(files: list[InputFile]) -> str:
    """What a build of these files is keyed by: their names and bytes, and the builder's code."""
    return content_hash(files, salt=_builder_fingerprint())


class BuildError(Exception):
    """The inputs cannot be built; the served store is left as it was."""

    def __init__(self, message: str, report: Report | None = None, syntax: RdfSyntaxError | None = None,
                 storage: bool = False):
        super().__init__(message)
        self.report, self.syntax, self.storage = report, syntax, storage  # storage: the disk failed (full…)


@dataclass
class BuildOutcome:
    info: BuildInfo
    build_dir: Path
    rebuilt: bool


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def validate_project(files: list[InputFile], log: Callable[[str], None] = _stderr) -> Report:
    """Validate the project's data (with the ontology and schemes) with pyshacl over the whole graph.

    The reference strategy; builds validate unit by unit (project_validation), which the
    tests hold to the same results.
    """
    started = time.perf_counter()
    data, origins = load_files([f for f in files if f.kind != "shapes"])
    shapes, _ = load_files([f for f in files if f.kind == "shapes"])
    log(f"parsed {len(files)} files, {len(data)} triples ({time.perf_counter() - started:.1f} s)")
    started = time.perf_counter()
    report = locate(validate_graph(data, shapes), origins)
    log(f"validated against the shapes ({time.perf_counter() - started:.1f} s)")
    return report


def validate_loaded(view: StoreView, store_path: Path | None, files: list[InputFile], *, workers: int | None = None,
                    log: Callable[[str], None] = _stderr) -> Report:
    """Validate a store holding the project's files (one named graph each), unit by unit."""
    shapes, _ = load_files([f for f in files if f.kind == "shapes"])
    data_graphs = [f.graph for f in files if f.kind != "shapes"]
    report = validate_store(view, shapes, data_graphs=data_graphs,
                            reference_graphs=[f.graph for f in files if f.kind == "ontology"],
                            store_path=store_path, workers=workers, log=log)
    literals = ill_typed_literals(ox.Triple(row["s"], row["p"], row["o"]) for row in view.query(
        """SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER (isLiteral(?o) && datatype(?o) != rdf:langString
                                                       && datatype(?o) != xsd:string) }""", default_graphs=data_graphs))
    if literals:  # the same check as a steward's, over every file
        add_results_to_report_graph(report.graph, literals)
        report.results = sorted(report.results + literals, key=lambda r: (r.focus, r.path or "", r.component, r.value or ""))
        report.conforms = False
    if not report.conforms:
        locate_in_files(report, files)
    return report


def locate_in_files(report: Report, files: list[InputFile]) -> Report:
    """Say in which file, on which line, each focus node of the report is written."""
    origins: dict[str, tuple[str, int]] = {}
    for f in files:
        if f.kind != "shapes":
            for iri, line in subject_lines(f.path.read_text(encoding="utf-8", errors="replace")).items():
                origins.setdefault(iri, (f.relative, line))
    return locate(report, origins)


class CheckBeside:
    """The project's check, run in a process of its own while this one loads, describes, indexes
    and dumps the store: the check is the longest step (a few seconds of pyshacl for the seed
    data, ~40 s at 1 M triples), and the rest fits beside it on a second CPU. The build is kept
    only if it conforms.

    The other process parses the files into an in-memory store of its own (hundredths of a second
    for the seed data, 3 s at 1 M), so the store written here is never shared. For a project past
    IN_MEMORY_BYTES it reads instead `snapshot`, a checkpoint of the loaded store (hard links:
    immutable whatever this process then writes), so that the machine holds one more copy of the
    data, not two. It is a fresh interpreter (not multiprocessing), so building works from any
    caller: a script without a __main__ guard, a web worker, a REPL.
    """

    def __init__(self, files: list[InputFile], snapshot: Path | None = None, workers: int = 1):
        package_parent = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
        self._errors = tempfile.TemporaryFile()  # a file, not a pipe: however much it writes there, it never blocks
        self._process = subprocess.Popen([sys.executable, "-c", "from kouiki_kg.build import _check_apart; _check_apart()"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._errors, env=env)
        try:
            self._process.stdin.write(pickle.dumps((files, snapshot, workers)))  # a few kilobytes: read at once
            self._process.stdin.close()
        except BrokenPipeError:  # it ended before reading them: report() says how
            pass

    def report(self, log: Callable[[str], None]) -> Report:
        """Wait for the check; its Report, or BuildError when it could not run."""
        try:
            answer = self._process.stdout.read()
            self._process.wait()
            self._errors.seek(0)
            errors = self._errors.read()
        finally:
            self.stop()
        try:
            outcome = pickle.loads(answer) if self._process.returncode == 0 else None
        except (pickle.UnpicklingError, EOFError, ValueError):
            outcome = None
        if outcome is None:  # killed, out of memory, or it could not even start: say how it ended
            last = errors.decode("utf-8", errors="replace").strip().splitlines()[-1:]
            raise BuildError(" ".join([f"the check stopped without an answer (exit code {self._process.returncode})", *last]))
        if outcome[0] == "failed":
            raise BuildError(f"the check could not run: {outcome[1]}")
        _, conforms, results, report_nt, messages = outcome
        for message in messages:
            log(message + " (beside the build)")
        graph = rdflib.Graph().parse(data=report_nt.decode("utf-8"), format="nt")
        return Report(conforms=conforms, results=results, graph=graph)

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._process.stdout.close()
        self._errors.close()


def _check_apart() -> None:
    """The checking process: files (pickled, on stdin) → an in-memory store → validate_loaded →
    the outcome (pickled, on stdout)."""
    files, snapshot, workers = pickle.load(sys.stdin.buffer)
    messages: list[str] = []
    try:
        if snapshot is not None:
            store = ox.Store.read_only(str(snapshot))
        else:
            store = ox.Store()
            for f in files:
                if f.kind != "shapes":
                    store.load(path=str(f.path), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(f.graph))
        report = validate_loaded(StoreView(store), snapshot, files, workers=workers, log=messages.append)
        outcome = ("done", report.conforms, report.results, report.graph.serialize(format="nt", encoding="utf-8"), messages)
    except Exception as err:  # noqa: BLE001 — whatever it is, the build must hear of it
        outcome = ("failed", f"{type(err).__name__}: {err}")
    sys.stdout.buffer.write(pickle.dumps(outcome))
    sys.stdout.flush()


def _syntax_error(err: LoadSyntaxError, root: Path) -> RdfSyntaxError:
    relative = err.path.relative_to(root).as_posix() if err.path.is_relative_to(root) else str(err.path)
    snippet = ""
    if err.line:
        lines = err.path.read_text(encoding="utf-8", errors="replace").splitlines()
        if 0 < err.line <= len(lines):
            snippet = lines[err.line - 1]
    return RdfSyntaxError(relative, err.line, err.column, err.detail, snippet)


def with_changes(root: Path, changes: dict[str, Path | None]) -> list[InputFile]:
    """The project's input files as they would be with `changes` made: relative path → the file
    holding its new bytes (None: the file removed). Same order and digest as after making them."""
    files = {f.relative: f for f in input_files(root)}
    for relative, staged in changes.items():
        if staged is None:
            files.pop(relative, None)
        else:
            files[relative] = InputFile(path=staged, relative=relative, kind="data")
    order = {kind: i for i, (_, kind) in enumerate(INPUT_FOLDERS)}
    return sorted(files.values(), key=lambda f: (order[f.kind], root / f.relative))


def build(config: Config, *, force: bool = False, log: Callable[[str], None] = _stderr,
          changes: dict[str, Path | None] | None = None, swap: bool = True) -> BuildOutcome:
    """Validate the project and load it into a new store, swapped in atomically.

    `changes` builds the project as it would be with those files changed (see with_changes),
    leaving data/ alone; `swap=False` leaves the new build beside the served one (the caller
    swaps it in: ingest.publish, whose commit must make the file and the store agree)."""
    if changes:
        return _build(config, with_changes(config.root, changes), force, log, swap, changes)
    try:
        outcome = _build(config, input_files(config.root), force, log, swap)
    except BuildError as err:  # the served build stays; /health says data/ does not build
        _write_data_status(config, err)
        raise
    _write_data_status(config, None)
    return outcome


DATA_STATUS = "data-status.json"  # beside the store folder: why data/ does not build, if it does not


def _write_data_status(config: Config, failure: BuildError | None) -> None:
    path = config.store_dir.parent / DATA_STATUS
    try:
        if failure is None:
            path.unlink(missing_ok=True)
            return
        reason = ("the data does not conform to the shapes" if failure.report is not None
                  else "a file cannot be parsed" if failure.syntax is not None
                  else "the store cannot be written" if failure.storage else "the build failed")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({
            "builds": False, "reason": reason, "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "violations": len(failure.report.results) if failure.report is not None else None,
            "file": (f"{failure.syntax.source}:{failure.syntax.line}" if failure.syntax is not None else None)}),
            encoding="utf-8")
    except OSError:  # a full disk: the failure itself is reported where it happened
        pass


def read_data_status(config: Config) -> dict | None:
    """Why the project's files do not build, as the last build found (None: they built)."""
    try:
        return json.loads((config.store_dir.parent / DATA_STATUS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _build(config: Config, files: list[InputFile], force: bool, log: Callable[[str], None], swap: bool,
           changes: dict[str, Path | None] | None = None) -> BuildOutcome:
    if not any(f.kind == "data" for f in files):
        raise BuildError(f"no Turtle files under {config.root / 'data' / 'ttl'}")
    digest = inputs_digest(files)
    existing = current_build(config.store_dir)
    if existing is not None and not force:
        try:
            info = BuildInfo.read(existing)
        except (OSError, ValueError, TypeError):
            info = None
        if info is not None and info.content_hash == digest:
            log(f"store is up to date ({info.triples} triples, inputs unchanged)")
            if swap:
                push_to_remote(config, files, existing, digest, log)
            return BuildOutcome(info=info, build_dir=existing, rebuilt=False)

    started = time.perf_counter()
    builds = config.store_dir / "builds"
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    build_dir = builds / f"{stamp}-{digest[:12]}"
    staging = builds / f".staging-{stamp}"

    snapshot = staging / ".checked"  # what a large project's check reads, beside the rest of the build

    def check(view: StoreView, store_path: Path | None) -> None:
        nonlocal beside
        log(f"loaded {len(files)} files ({time.perf_counter() - started:.1f} s)")
        if beside is None and config.build_workers != 1:
            view.engine.backup(str(snapshot))
            beside = CheckBeside(files, snapshot, workers=config.build_workers)
        elif beside is None:
            conform(validate_loaded(view, store_path, files, workers=config.build_workers, log=log))

    def conform(report: Report) -> None:
        if not report.conforms:
            raise BuildError("the data does not conform to the shapes; nothing was built", report=report)

    # a change to case files only, made from the served build of the files as they are (increment.py)
    base = None if force else increment.served_base(config.store_dir, config.root, changes or {}, inputs_digest)
    in_memory = sum(f.path.stat().st_size for f in files if f.kind != "shapes") <= IN_MEMORY_BYTES
    try:
        beside = CheckBeside(files) if in_memory and config.build_workers != 1 and base is None else None
    except OSError as err:  # no process to be had (out of memory, process limit)
        raise BuildError(f"cannot start the check: {err.strerror or err}") from None
    try:
        staging.mkdir(parents=True)
        built_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # canonical xsd:dateTime

        described_triples = []  # what the description counts: the data, without the shapes and itself

        def describe(query, triples):
            described_triples.append(triples)
            described = time.perf_counter()
            statistics = description.gather_statistics(query, triples)
            turtle = description.description_turtle(statistics, built_at, digest)
            log(f"described the dataset ({time.perf_counter() - described:.1f} s)")
            (staging / description.DESCRIPTION_FILE).write_text(turtle, encoding="utf-8")  # served at /dataset
            (staging / description.STATISTICS_FILE).write_text(description.statistics_json(statistics), encoding="utf-8")
            return description.DESCRIPTION_GRAPH, turtle

        try:
            if base is not None:
                graph_triples, dataset_triples = increment.make(base, staging, files, changes, built_at=built_at,
                                                                digest=digest, log=log)
                described_triples.append(dataset_triples)
            else:
                graph_triples = write_build(
                    staging, [(f.path, f.graph) for f in files if f.kind != "shapes"], check=check, describe=describe,
                    after_check=[(f.path, f.graph) for f in files if f.kind == "shapes"],
                    dumps=description.DUMP_FILES,
                    index=lambda query: listings.make_lookup_files(query, staging, log), in_memory=in_memory)
        except increment.ChangeRefused as refused:
            conform(locate_in_files(refused.report, files))
        except (LoadSyntaxError, RdfSyntaxError, OSError):
            raise
        except Exception:
            # Data the shapes reject may break the steps after the check: the report is the answer
            if beside is not None:
                conform(beside.report(log))
            raise
        if beside is not None:
            conform(beside.report(log))
            shutil.rmtree(snapshot, ignore_errors=True)
        info = BuildInfo(content_hash=digest, triples=sum(graph_triples.values()), graphs=len(graph_triples),
                         built_at=built_at, version=__version__, graph_triples=graph_triples,
                         dataset_triples=described_triples[0] if described_triples else None)
        info.write(staging)
        staging.rename(build_dir)
        if swap:
            swap_current(config.store_dir, build_dir)
    except LoadSyntaxError as err:
        _abandon(staging, err)
        syntax = _syntax_error(err, config.root)
        raise BuildError(f"cannot parse {syntax}", syntax=syntax) from None
    except RdfSyntaxError as err:  # the shapes, parsed for the check before they are loaded
        _abandon(staging, err)
        raise BuildError(f"cannot parse {err}", syntax=err) from None
    except BuildError as err:
        _abandon(staging, err)
        raise
    except OSError as err:
        _abandon(staging, err)
        raise BuildError(f"cannot write the store: {err.strerror or err}", storage=True) from None
    finally:
        if beside is not None:
            beside.stop()
    log(f"built {info.triples} triples in {info.graphs} named graphs ({time.perf_counter() - started:.1f} s in all)")
    if swap:
        finish_swap(config, files, build_dir, digest, log)
    return BuildOutcome(info=info, build_dir=build_dir, rebuilt=True)


def finish_swap(config: Config, files: list[InputFile], build_dir: Path, digest: str,
                log: Callable[[str], None] = _stderr) -> None:
    """What follows a swap: old builds pruned, a remote store loaded."""
    _prune(config.store_dir / "builds", keep=build_dir)
    push_to_remote(config, files, build_dir, digest, log)


def push_to_remote(config: Config, files: list[InputFile], build_dir: Path, digest: str,
                   log: Callable[[str], None] = _stderr) -> None:
    """Load the build into the remote store through the Graph Store Protocol, if one is configured.

    Each file's graph is replaced (PUT), graphs no longer built are deleted, and the dataset
    description goes last: its dcat:version tells servers the new build is complete. A failed
    push leaves the description, so servers keep the old version, and the next build retries.
    """
    if not config.graph_store_endpoint:
        return
    if not config.sparql_endpoint:
        raise BuildError("KOUIKI_GRAPH_STORE_ENDPOINT needs KOUIKI_SPARQL_ENDPOINT (to read what the store holds)")
    from .mirror import RemoteData
    from .remote import GraphStoreClient, StoreUnavailable

    started = time.perf_counter()
    remote = RemoteData(config.sparql_endpoint, config.store_dir / "remote", 0, timeout=300)
    client = GraphStoreClient(config.graph_store_endpoint)
    try:
        held = remote.version()
        if held is not None and held[0] == digest:
            log(f"the remote store holds this build already ({config.sparql_endpoint})")
            return
        for f in files:
            client.put_file(f.graph, f.path)
        wanted = {f.graph for f in files} | {description.DESCRIPTION_GRAPH}
        for row in remote.store.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"):
            if row["g"].value not in wanted:
                client.delete(row["g"].value)
        client.put(description.DESCRIPTION_GRAPH, (build_dir / description.DESCRIPTION_FILE).read_bytes())
    except (StoreUnavailable, OSError) as err:
        raise BuildError(f"cannot load the build into the remote store: {err}") from None
    log(f"loaded {len(files)} graphs into {config.graph_store_endpoint} ({time.perf_counter() - started:.1f} s)")


def _abandon(staging: Path, err: BaseException) -> None:
    """Remove a failed build's staging folder. The error's traceback holds the frames that opened
    its store: clear them first, so the store is closed and does not write into the folder again."""
    traceback.clear_frames(err.__traceback__)
    shutil.rmtree(staging, ignore_errors=True)


def _prune(builds: Path, keep: Path) -> None:
    """Remove old builds, keeping the newest few (a reader may still hold the previous one)."""
    finished = sorted((d for d in builds.iterdir() if d.is_dir() and not d.name.startswith(".")), reverse=True)
    for old in finished[KEEP_BUILDS:]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
