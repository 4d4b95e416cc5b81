"""SHACL engines on PyPI beside pyshacl, on our shapes: a whole project in one go, and every
negative fixture (issue 25, target 3: a faster engine for the bulk build must agree with pyshacl).

    python3 -m venv /tmp/shacl-engines
    /tmp/shacl-engines/bin/pip install -e . pyshacl-turbo shacl-rust pyrudof
    /tmp/shacl-engines/bin/python bench/shacl_engines.py --project /tmp/kouiki-1m

The engines are not dependencies of Kouiki KG: install them beside it to measure. Each engine
runs in a process of its own (so its peak RSS is its own) over the project's data and ontology
as one graph, with the shapes' SHACL Core part (SHACL-SPARQL runs on Oxigraph whatever the
engine: `validation.sparql_results`). pyshacl over a large project in one go takes minutes and
gigabytes, which is why the build validates in units (architecture §16): `--pyshacl-whole`
times it anyway. Agreement: on the base case and each fixture of tests/fixtures/shape-violations.toml,
the same results as pyshacl (focus node, path, constraint component, value; blank nodes alike).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ENGINES = ("pyshacl", "pyshacl-turbo", "shacl-rust", "pyrudof")


def _blank(text: str | None) -> str | None:
    return "_:" if text and text.startswith("_:") else text


def _keys_from_report(report, shapes) -> list[tuple]:
    from kouiki_kg.validation import results_from
    return sorted({(_blank(r.focus), r.path, r.component, _blank(r.value)) for r in results_from(report, shapes)})


def _compact(text: str | None) -> str | None:
    """An engine's N-Triples-ish term as our reports write it (validation.compact)."""
    import rdflib
    from kouiki_kg.validation import compact
    if text is None:
        return None
    if text.startswith("<") and text.endswith(">"):
        return compact(rdflib.URIRef(text[1:-1]))
    return text


def validate(engine: str, data_nt: bytes, core_ttl: bytes) -> tuple[bool, list[tuple]]:
    """(conforms, result keys) of one engine over N-Triples data and Turtle shapes."""
    import io

    import rdflib
    shapes = rdflib.Graph().parse(data=core_ttl, format="turtle")
    if engine in ("pyshacl", "pyshacl-turbo"):
        if engine == "pyshacl":
            from pyshacl import validate as run
            data = rdflib.Graph().parse(data=data_nt, format="nt")
        else:  # it reads a pyoxigraph store natively (an rdflib graph of 1 M triples takes a minute to parse)
            import pyoxigraph as ox
            from pyshacl_turbo import validate as run
            data = ox.Store()
            data.bulk_load(input=data_nt, format=ox.RdfFormat.N_TRIPLES)
        conforms, report, _ = run(data, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=True)
        return conforms, _keys_from_report(report, shapes)
    if engine == "shacl-rust":
        import shacl_rust
        with tempfile.NamedTemporaryFile(suffix=".ttl") as file:
            file.write(core_ttl)
            file.flush()
            out = shacl_rust.validate_file(io.BytesIO(data_nt), file.name, data_format="nt")
        return out["conforms"], sorted({(_blank(_compact(r.get("focusNode"))), _compact(r.get("resultPath")),
                                         _compact(r.get("sourceConstraintComponent")), _blank(_compact(r.get("value"))))
                                        for r in out["results"]})
    if engine == "pyrudof":
        import pyrudof
        rudof = pyrudof.Rudof(pyrudof.RudofConfig())
        rudof.read_data(data_nt.decode("utf-8"))
        rudof.read_shacl(core_ttl.decode("utf-8"))
        report = rudof.validate_shacl()
        return report.conforms(), []  # its results are not read: it has not yet validated our data (see the note)
    raise ValueError(engine)


def _timed(engine: str, data_nt: bytes, core_ttl: bytes, queue) -> None:
    started = time.perf_counter()
    try:
        conforms, keys = validate(engine, data_nt, core_ttl)
        outcome = {"conforms": conforms, "results": len(keys)}
    except Exception as err:  # an engine that fails is a finding, not the end of the run
        outcome = {"failed": f"{type(err).__name__}: {str(err)[:200]}"}
    outcome["seconds"] = round(time.perf_counter() - started, 1)
    outcome["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    queue.put(outcome)


def in_own_process(engine: str, data_nt: bytes, core_ttl: bytes) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_timed, args=(engine, data_nt, core_ttl, queue))
    process.start()
    outcome = queue.get()
    process.join()
    return outcome


def project_data(project: Path) -> bytes:
    """The project's data and ontology (every Turtle file but the shapes) as one graph."""
    import pyoxigraph as ox
    store = ox.Store()
    for f in sorted(project.rglob("*.ttl")):
        if not {"shapes", "var", "queries", "tests", "templates"} & set(f.relative_to(project).parts):
            store.bulk_load(path=str(f), format=ox.RdfFormat.TURTLE, to_graph=ox.DefaultGraph())
    return store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())


def fixture_agreement(engines: list[str], core_ttl: bytes) -> dict[str, list[str]]:
    """For each engine, the fixtures on which its results differ from pyshacl's."""
    from kouiki_kg.project import input_files
    from kouiki_kg.validation import load_files
    from tests.test_shapes import FIXTURE_BODIES, VIOLATIONS, fixture_graph
    import rdflib

    from kouiki_kg.namespaces import LG
    files = input_files(ROOT)
    reference, _ = load_files([f for f in files if f.kind == "ontology" or f.relative == "data/ttl/sources/seeds.ttl"])
    authority, _ = load_files([f for f in files if f.relative.startswith("data/ttl/authority/")])
    for code in FIXTURE_BODIES:
        for triple in authority.triples((rdflib.URIRef(LG + code), None, None)):
            reference.add(triple)
    differ: dict[str, list[str]] = {engine: [] for engine in engines}
    for name, update in [("base case", None)] + [(v["name"], v["update"]) for v in VIOLATIONS]:
        data_nt = fixture_graph(reference, update).serialize(format="nt", encoding="utf-8")
        expected = validate("pyshacl", data_nt, core_ttl)
        for engine in engines:
            try:
                found = validate(engine, data_nt, core_ttl)
            except Exception as err:
                found = (None, [f"failed: {type(err).__name__}"])
            if found != expected:
                differ[engine].append(name)
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=ROOT, help="a project folder (default: this one, the seed data)")
    parser.add_argument("--engines", default=",".join(ENGINES[1:]))
    parser.add_argument("--pyshacl-whole", action="store_true", help="also time pyshacl over the whole project in one go")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "shacl-engines.json")
    args = parser.parse_args()
    import rdflib
    from kouiki_kg.validation import core_shapes
    shapes = rdflib.Graph().parse(args.project / "shapes" / "kouiki-shapes.ttl")
    core_ttl = core_shapes(shapes).serialize(format="turtle", encoding="utf-8")
    engines = [e for e in args.engines.split(",") if e]
    data_nt = project_data(args.project)
    results = {"triples": data_nt.count(b"\n"), "project": {}, "fixtures_differing": {}}
    for engine in (["pyshacl"] if args.pyshacl_whole else []) + engines:
        results["project"][engine] = in_own_process(engine, data_nt, core_ttl)
        print(f"{engine:>14}: {results['project'][engine]}", flush=True)
    results["fixtures_differing"] = fixture_agreement(engines, core_ttl)
    for engine, names in results["fixtures_differing"].items():
        print(f"{engine:>14}: differs from pyshacl on {len(names)} of the fixtures {names}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
