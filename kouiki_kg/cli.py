"""`kouiki-kg` — a thin shell over the library: build, serve, warm, validate, draft, ingest, query, export, authority."""

from __future__ import annotations

import multiprocessing
import os
import re
import sys
from pathlib import Path

import click
import pyoxigraph as ox

from .config import Config
from .formats import DATASET_FORMATS, GRAPH_FORMATS, RESULT_FORMATS, UPLOAD_FORMATS
from .namespaces import PREFIXES
from .store import GraphStore, QueryFailed, StoreMissing, current_build

# The build, the checks and drafting are imported by the commands that use them: a query
# worker, spawned from `kouiki-kg serve`, imports this module again and should not carry
# rdflib and pyshacl for nothing (~24 MB a worker).

EXIT_OK, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


def _config(ctx: click.Context) -> Config:
    return ctx.obj


@click.group()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), envvar="KOUIKI_ROOT",
              help="Project directory with ontology/, shapes/, data/ttl/ [env KOUIKI_ROOT].")
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path), envvar="KOUIKI_STORE",
              help="Directory of the on-disk store [env KOUIKI_STORE; default {root}/var/store].")
@click.version_option(package_name="kouiki-kg")
@click.pass_context
def main(ctx: click.Context, root: Path | None, store_dir: Path | None) -> None:
    """Kouiki KG: the knowledge graph of Japanese inter-municipal collaboration (広域連携)."""
    ctx.obj = Config.from_env(root=root, store_dir=store_dir)


@main.command("build")
@click.option("--force", is_flag=True, help="Rebuild even if the inputs are unchanged.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True,
              help="Language of the validation report.")
@click.pass_context
def build_command(ctx: click.Context, force: bool, lang: str) -> None:
    """Validate everything and load it into the on-disk store (atomically)."""
    from .build import BuildError

    try:
        outcome = _locked_build(_config(ctx), force=force)
    except BuildError as err:
        click.echo(f"build failed: {err}", err=True)
        if err.report is not None:
            click.echo(err.report.to_text(lang), err=True)
        if err.syntax is not None and err.syntax.snippet:
            click.echo(f"  {err.syntax.snippet}", err=True)
        sys.exit(EXIT_INVALID if err.report is not None else EXIT_UNREADABLE)
    state = "built" if outcome.rebuilt else "up to date"
    click.echo(f"{state}: {outcome.info.triples} triples, {outcome.info.graphs} graphs → {outcome.build_dir}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=64, show_default=True, type=click.IntRange(1, 256),
              help="Request threads per web process (they mostly wait on the query workers: 16 were all held by 16 slow queries).")
@click.option("--query-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds before a query is cancelled [env KOUIKI_QUERY_TIMEOUT; default 10].")
@click.option("--row-limit", type=click.IntRange(min=1), default=None,
              help="Most rows one query returns [env KOUIKI_ROW_LIMIT; default 10000].")
@click.option("--query-workers", type=click.IntRange(min=1), default=None,
              help="Query worker processes in all [env KOUIKI_QUERY_WORKERS; default: two per CPU].")
@click.option("--workers", "web_workers", type=click.IntRange(min=1), default=None,
              help="Web processes; one per CPU for page-heavy traffic [env KOUIKI_WEB_WORKERS; default 1].")
@click.option("--warm", is_flag=True,
              help="Make every page of each build in advance, at the lowest CPU priority (see `warm`).")
@click.option("--public-url", default=None,
              help="The URL visitors use, to make pages for in advance (implies --warm) "
                   "[env KOUIKI_WARM_URL; with --warm alone: http://HOST:PORT/].")
@click.pass_context
def serve_command(ctx, host, port, threads, query_timeout, row_limit, query_workers, web_workers, warm, public_url) -> None:
    """Build the store if needed, then serve the SPARQL endpoint and pages (gunicorn)."""
    from .serving import serve

    base = _config(ctx)
    warm_url = public_url or base.warm_url or (f"http://{host}:{port}/" if warm else None)
    config = Config.from_env(root=base.root, store_dir=base.store_dir, query_timeout=query_timeout,
                             row_limit=row_limit, query_workers=query_workers, web_workers=web_workers,
                             warm_url=_public_url(warm_url) if warm_url else None,
                             allowed_hosts=(*base.allowed_hosts, host) if host not in ("0.0.0.0", "::") else None)
    if host in ("0.0.0.0", "::") and not (config.public_url or config.allowed_hosts):
        click.echo("listening on every address: only loopback names are answered until KOUIKI_PUBLIC_URL or "
                   "KOUIKI_ALLOWED_HOSTS names the others", err=True)
    # Build in a child process: RocksDB's background threads do not survive gunicorn's fork, so
    # the process that forks the server must never have opened a store (an ingest's build in
    # the forked worker would hang).
    if base.sparql_endpoint and not base.graph_store_endpoint:
        click.echo(f"serving the remote store {base.sparql_endpoint} as it is (no graph store endpoint: no build)", err=True)
    else:
        child = multiprocessing.get_context("spawn").Process(target=_build_for_serve, args=(base,))
        child.start()
        child.join()
        if child.exitcode != 0:
            sys.exit(child.exitcode or EXIT_INVALID)
    click.echo(f"serving on http://{host}:{port}/sparql", err=True)
    if config.warm_url:
        click.echo(f"making every page in advance for {config.warm_url} (progress: /health)", err=True)
    serve(config, host, port, threads)


def _public_url(url: str) -> str:
    from .warm import WarmError, public_url

    try:
        return public_url(url)
    except WarmError as err:
        raise click.BadParameter(err.en, param_hint="--public-url / --url") from None


def _locked_build(config: Config, **options):
    """A build between publishes, never during one; a publish cut short is finished first."""
    from . import ingest
    from .build import build

    with ingest.ingest_lock(config):
        if ingest.recover(config):
            click.echo("finished a publish that had been interrupted (see the audit log)", err=True)
        return build(config, **options)


def _build_for_serve(config: Config) -> None:
    from .build import BuildError

    try:
        outcome = _locked_build(config)
    except BuildError as err:
        click.echo(f"build failed: {err}", err=True)
        if err.report is not None:
            click.echo(err.report.to_text("ja"), err=True)
        if current_build(config.store_dir) is not None:  # serve what last built; /health says why not this
            click.echo("serving the last build that succeeded; /health reports that data/ does not build", err=True)
            return
        sys.exit(EXIT_INVALID if err.report is not None else EXIT_UNREADABLE)
    except OSError as err:  # the state folder cannot be written (full disk, read-only)
        click.echo(f"cannot prepare the store: {err.strerror or err}", err=True)
        if current_build(config.store_dir) is not None:
            return
        sys.exit(EXIT_UNREADABLE)
    state = "built" if outcome.rebuilt else "up to date"
    click.echo(f"{state}: {outcome.info.triples} triples, {outcome.info.graphs} graphs → {outcome.build_dir}", err=True)


@main.command("warm")
@click.option("--url", default="http://127.0.0.1:8000/", show_default=True,
              help="The URL visitors use: pages name their own URL, so they are made for one host.")
@click.option("--lang", "langs", type=click.Choice(["ja", "en"]), multiple=True,
              help="Languages to make pages in (repeatable) [default: ja and en].")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Processes making pages (one per CPU makes an idle machine's pass shortest).")
@click.pass_context
def warm_command(ctx: click.Context, url: str, langs: tuple[str, ...], jobs: int) -> None:
    """Make every page of the built store in advance, into the shared disk cache, at the lowest
    CPU priority: the first visitor of a page then gets it as fast as a repeat visitor.

    Exit status: 0 every page made (or the cache full: see the message), 1 some pages failed,
    2 nothing to warm (no store, no shared cache)."""
    from .warm import WarmError, summary, warm

    def progress(report) -> None:
        click.echo(f"  {report.done:,} / {report.pages:,} pages, {report.seconds:g} s", err=True)

    try:
        report = warm(_config(ctx), _public_url(url), tuple(langs) or ("ja", "en"), jobs, progress=progress)
    except WarmError as err:
        click.echo(f"warm: {err.en}\n      {err.ja}", err=True)
        sys.exit(EXIT_UNREADABLE)
    for path, lang, status in report.failed[:20]:
        click.echo(f"  failed: {path} ({lang}): HTTP {status}", err=True)
    click.echo(summary(report, "en"))
    sys.exit(EXIT_INVALID if report.failed else EXIT_OK)


@main.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option("--format", "output", type=click.Choice(["text", "json", "turtle"]), default="text", show_default=True,
              help="Report format.")
@click.option("--input-format", type=click.Choice(sorted(UPLOAD_FORMATS)), default=None,
              help="Format of the files (default: from the extension, else Turtle).")
@click.option("--case", "case", default=None,
              help="The case (slug) a file replaces; a file under data/ttl/cases/ replaces its own case.")
@click.pass_context
def validate_command(ctx: click.Context, files: tuple[Path, ...], lang: str, output: str, input_format: str | None,
                     case: str | None) -> None:
    """Validate case files against the shapes, with the project's data as context.

    Exit status: 0 conforms, 1 violations, 2 unreadable input.
    """
    from .validation import RdfSyntaxError, SubmissionTooLarge, submission

    config = _config(ctx)
    root = config.root
    status = EXIT_OK
    for path in files:
        replacing = case
        if replacing is None and path.resolve().parent == (root / "data" / "ttl" / "cases").resolve():
            replacing = path.stem
        try:
            data = path.read_bytes()
            report = submission.check(data, root, fmt=submission.format_for(input_format, None, path.name),
                                      source=str(path), replacing=replacing, store_dir=config.store_dir)
        except OSError as err:
            click.echo(f"{path}: cannot read: {err.strerror}", err=True)
            status = EXIT_UNREADABLE
            continue
        except RdfSyntaxError as err:
            click.echo(f"{err}" + (f"\n  {err.snippet}" if err.snippet else ""), err=True)
            status = EXIT_UNREADABLE
            continue
        except SubmissionTooLarge as err:
            click.echo(f"{path}: {err.ja if lang == 'ja' else err.en}", err=True)
            status = EXIT_UNREADABLE
            continue
        rendered = {"text": lambda: report.to_text(lang), "json": lambda: report.to_json(lang),
                    "turtle": report.to_turtle}[output]()
        click.echo(rendered)
        if not report.conforms and status == EXIT_OK:
            status = EXIT_INVALID
    sys.exit(status)


@main.command("draft")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the draft here (default: standard output).")
@click.pass_context
def draft_command(ctx: click.Context, file: Path, out: Path | None) -> None:
    """Draft a case from the text of a ministry case sheet or summary page (UTF-8).

    The draft (Turtle) goes to standard output or --out; what needs review goes to standard
    error, in Japanese and English, with the line it is about. Nothing is stored.

    Exit status: 0 a draft was made and validates; 1 a draft was made, with items the steward
    must complete first; 2 the text is in no layout we read (or cannot be read): no draft.
    """
    from . import drafting

    config = _config(ctx)
    try:
        text = file.read_bytes().decode("utf-8")
    except OSError as err:
        click.echo(f"{file}: 読めません / cannot read: {err.strerror}", err=True)
        sys.exit(EXIT_UNREADABLE)
    except UnicodeDecodeError:
        click.echo(f"{file}: UTF-8 のテキストではありません / is not UTF-8 text", err=True)
        sys.exit(EXIT_UNREADABLE)
    try:
        made, _ = drafting.draft_and_check(text, file.name, config.root, config.store_dir)
    except (drafting.UnknownLayout, drafting.TooManyCases) as err:
        click.echo(f"{file}: {err.ja}\n{file}: {err.en}", err=True)
        sys.exit(EXIT_UNREADABLE)
    if out:
        out.write_text(made.turtle, encoding="utf-8")
    else:
        click.echo(made.turtle)
    must = sum(item.must for item in made.review)
    click.echo(f"{file}: {made.layout}, {len(made.initiatives)} 件の取組 / initiative(s); "
               f"要対応 {must} 件 / {must} to complete, 確認 {len(made.review) - must} 件 / {len(made.review) - must} to check", err=True)
    for item in made.review:
        mark = "要対応 / must" if item.must else "確認 / check"
        where = f"{file}:{item.line}" if item.line else f"{out or 'draft'}:{item.draft_line or '?'}"
        click.echo(f"{where}: [{mark}] {item.ja}\n{' ' * len(where)}  {item.en}", err=True)
    sys.exit(EXIT_OK if made.complete else EXIT_INVALID)


@main.command("ingest")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--case", "slug", required=True, help="The case's slug: data/ttl/cases/{slug}.ttl.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.pass_context
def ingest_command(ctx: click.Context, file: Path, slug: str, lang: str) -> None:
    """Validate a case and publish it, as PUT /cases/{slug} does (versioned, audited, atomic)."""
    from . import ingest
    from .validation import RdfSyntaxError, SubmissionTooLarge, submission

    config = _config(ctx)
    who = f"cli:{os.environ.get('USER') or os.environ.get('LOGNAME') or 'local'}"
    try:
        outcome = ingest.publish(config, slug, file.read_bytes(), submission.format_for(None, None, file.name), who)
    except RdfSyntaxError as err:
        click.echo(f"{err}" + (f"\n  {err.snippet}" if err.snippet else ""), err=True)
        sys.exit(EXIT_UNREADABLE)
    except SubmissionTooLarge as err:
        click.echo(f"{file}: {err.ja if lang == 'ja' else err.en}", err=True)
        sys.exit(EXIT_UNREADABLE)
    except ingest.IngestError as err:
        click.echo(f"{err.status} {err.code}: {err.ja if lang == 'ja' else err.en}", err=True)
        if err.report is not None:
            click.echo(err.report.to_text(lang), err=True)
        sys.exit(EXIT_INVALID)
    state = "created" if outcome.created else "replaced"
    click.echo(f"{state} case {slug}: version {outcome.version}, {outcome.triples} triples in the store")
    ingest.make_dumps(config)  # served already; the dumps follow


@main.command("token")
@click.argument("name")
def token_command(name: str) -> None:
    """Make a steward's bearer token: give the token to the steward, put the hashed line in the
    tokens file (KOUIKI_TOKENS_FILE) or in KOUIKI_TOKENS."""
    from . import ingest

    if not re.fullmatch(r"[A-Za-z0-9._@-]+", name):
        raise click.BadParameter("letters, digits and . _ @ - only", param_hint="NAME")
    token = ingest.new_token()
    click.echo(f"token (give to {name}, shown once): {token}")
    click.echo(f"line for the tokens file:          {name}:{ingest.hash_token(token)}")


def _read_query(query: str | None, query_file: Path | None) -> str:
    if query_file is not None:
        return query_file.read_text(encoding="utf-8")
    if query is None or query == "-":
        if sys.stdin.isatty():
            raise click.UsageError("give a query, --file FILE, or the query on standard input")
        return sys.stdin.read()
    return query


@main.command("query")
@click.argument("query", required=False)
@click.option("--file", "-f", "query_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Read the query from a file (e.g. queries/01-initiatives-lead-partners.rq).")
@click.option("--format", "fmt", default=None,
              help="Output: json, xml, csv, tsv (SELECT/ASK); ttl, nt, nq, trig, jsonld, rdfxml (CONSTRUCT/DESCRIBE). "
                   "Default: tsv / ttl.")
@click.pass_context
def query_command(ctx: click.Context, query: str | None, query_file: Path | None, fmt: str | None) -> None:
    """Run a SPARQL query on the store, as the endpoint does (without FROM, the default graph is the
    union of all graphs)."""
    sparql = _read_query(query, query_file)
    try:
        store = GraphStore.open_current(_config(ctx).store_dir)
    except StoreMissing as err:
        raise click.ClickException(str(err)) from None
    try:
        result = store.evaluate(sparql)
    except SyntaxError as err:
        raise click.ClickException(f"SPARQL syntax error: {err}") from None
    except QueryFailed as err:
        raise click.ClickException(f"the query is too complex: {err.message}") from None
    out = sys.stdout.buffer
    if isinstance(result, ox.QueryTriples):
        chosen = GRAPH_FORMATS.get(fmt or "ttl")
        if chosen is None:
            raise click.BadParameter(f"for CONSTRUCT/DESCRIBE use one of {', '.join(GRAPH_FORMATS)}", param_hint="--format")
        out.write(ox.serialize(result, format=chosen.rdf, prefixes=PREFIXES))
    else:
        chosen = RESULT_FORMATS.get(fmt or "tsv")
        if chosen is None:
            raise click.BadParameter(f"for SELECT/ASK use one of {', '.join(RESULT_FORMATS)}", param_hint="--format")
        out.write(result.serialize(format=chosen.results))
    out.flush()


@main.command("export")
@click.option("--format", "fmt", type=click.Choice(["nq", "trig", "ttl", "jsonld"]), default="nq", show_default=True,
              help="nq, trig and jsonld keep each source file's named graph; ttl merges them.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout).")
@click.pass_context
def export_command(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Export the whole store."""
    try:
        store = GraphStore.open_current(_config(ctx).store_dir)
    except StoreMissing as err:
        raise click.ClickException(str(err)) from None
    target = output.open("wb") if output else sys.stdout.buffer
    try:
        chosen = GRAPH_FORMATS[fmt]
        if fmt in DATASET_FORMATS:
            store.dump(target, chosen.rdf)
        else:
            triples = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
            target.write(ox.serialize(triples, format=chosen.rdf, prefixes=PREFIXES))
    finally:
        if output:
            target.close()


@main.command("authority")
@click.option("--source", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Folder with the localgovjp CSV files [default: {root}/../shared/data/localgovjp].")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Turtle file to write [default: {root}/data/ttl/authority/local-governments.ttl].")
@click.pass_context
def authority_command(ctx: click.Context, source: Path | None, output: Path | None) -> None:
    """Regenerate the local-government authority Turtle from the localgovjp CSV files."""
    from . import authority

    config = _config(ctx)
    source = source or config.root.parent / "shared" / "data" / "localgovjp"
    output = output or config.root / "data" / "ttl" / "authority" / "local-governments.ttl"
    try:
        count = authority.generate(source, output)
    except (OSError, ValueError, KeyError) as err:
        raise click.ClickException(f"cannot generate authority data: {err}") from None
    click.echo(f"wrote {count} local governments to {output}")


if __name__ == "__main__":
    main()
