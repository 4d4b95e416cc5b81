"""Publishing a case: authenticated, validated, atomic, versioned, audited.

A case is the Turtle file `data/ttl/cases/{slug}.ttl`, which stays the source of truth: an
ingest validates the submission, keeps the version in `var/history/{slug}/`, replaces the
case file atomically (temporary file, fsync, rename), and rebuilds the store, which swaps
in atomically too. Ingests are serialised by an exclusive file lock, so two of them never
interleave; a client that sends `If-Match` with the version it edited gets 412 instead of
overwriting a newer one. A process killed at any moment leaves the old or the new file,
never a mix; an acknowledged ingest is on disk before it is acknowledged.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox

from . import submission
from .build import BuildError, build
from .config import Config
from .namespaces import INITIATIVE, KK, PREFIXES
from .validation import Report


class IngestError(Exception):
    def __init__(self, status: int, code: str, ja: str, en: str, report: Report | None = None, **extra):
        super().__init__(en)
        self.status, self.code, self.ja, self.en, self.report, self.extra = status, code, ja, en, report, extra


@dataclass(frozen=True)
class Outcome:
    case: str
    version: str
    sha256: str
    created: bool
    triples: int


# --- tokens ----------------------------------------------------------------------------------------

def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def configured_tokens() -> dict[str, str]:
    """name → sha256 of the token, from KOUIKI_TOKENS ("name:hash,…") and KOUIKI_TOKENS_FILE (a line each)."""
    entries = [e for e in os.environ.get("KOUIKI_TOKENS", "").split(",") if e.strip()]
    path = os.environ.get("KOUIKI_TOKENS_FILE")
    if path:
        entries += [line for line in Path(path).read_text(encoding="utf-8").splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
    tokens = {}
    for entry in entries:
        name, _, digest = entry.strip().partition(":")
        if name and re.fullmatch(r"[0-9a-f]{64}", digest):
            tokens[name] = digest
    return tokens


def authenticate(header: str | None) -> str:
    """The steward's name for an `Authorization: Bearer …` header; 401 without one, 403 if wrong.

    Every configured hash is compared in constant time, so timing tells nothing about a token.
    """
    if not header or not header.startswith("Bearer ") or not header[7:].strip():
        raise IngestError(401, "unauthorized", "認証が必要です。Authorization: Bearer <トークン> を送ってください。",
                          "Authentication required: send Authorization: Bearer <token>.")
    presented = hash_token(header[7:].strip())
    name = None
    for candidate, digest in configured_tokens().items():
        if hmac.compare_digest(presented, digest):
            name = candidate
    if name is None:
        raise IngestError(403, "forbidden", "このトークンでは公開できません。", "This token may not publish.")
    return name


# --- files ------------------------------------------------------------------------------------------

def case_path(config: Config, slug: str) -> Path:
    if not submission.is_slug(slug):
        raise IngestError(400, "bad_slug", "事例のスラッグは英小文字・数字・ハイフンで書いてください。",
                          "A case slug is lower-case letters, digits and hyphens.")
    return config.root / "data" / "ttl" / "cases" / f"{slug}.ttl"


def state_dir(config: Config) -> Path:
    return config.store_dir.parent


def history_dir(config: Config, slug: str) -> Path:
    return state_dir(config) / "history" / slug


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Old bytes or new bytes at `path`, whatever happens: temp file, fsync, rename, fsync dir."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    _fsync_dir(path.parent)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _keep_version(config: Config, slug: str, data: bytes, action: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    version = f"{stamp}-{action}-{sha256(data)[:12]}"
    write_atomically(history_dir(config, slug) / f"{version}.ttl", data)
    return version


def history(config: Config, slug: str) -> list[dict]:
    case_path(config, slug)  # checks the slug
    folder = history_dir(config, slug)
    versions = []
    for path in sorted(folder.glob("*.ttl")) if folder.is_dir() else []:
        stamp, action, short = path.stem.split("-", 2)
        versions.append({"version": path.stem, "action": action, "sha256_prefix": short,
                         "time": datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=timezone.utc).isoformat()})
    return versions


def version_bytes(config: Config, slug: str, version: str) -> bytes:
    case_path(config, slug)
    if not re.fullmatch(r"[0-9TZ]+-[a-z]+-[0-9a-f]{12}", version):
        raise IngestError(404, "no_such_version", "その版はありません。", "There is no such version.")
    path = history_dir(config, slug) / f"{version}.ttl"
    if not path.is_file():
        raise IngestError(404, "no_such_version", "その版はありません。", "There is no such version.")
    return path.read_bytes()


def audit(config: Config, **entry) -> None:
    """One JSON line per write attempt (never the token itself), flushed to disk."""
    entry = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), **entry}
    path = state_dir(config) / "audit.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        log.flush()
        os.fsync(log.fileno())


@contextmanager
def ingest_lock(config: Config):
    """One ingest at a time, across threads and processes."""
    path = state_dir(config) / "ingest.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- publish and withdraw ----------------------------------------------------------------------------

def _as_turtle(data: bytes, fmt: str) -> bytes:
    if fmt == "ttl":
        return data
    triples = submission.parse_submission(data, "submission", fmt)
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)


def _check_identity(data: bytes, fmt: str, slug: str) -> None:
    """The file of case {slug} describes exactly the initiative id/initiative/{slug}."""
    triples = submission.parse_submission(data, "submission", fmt)
    initiatives = {t.subject.value for t in triples
                   if t.predicate.value == PREFIXES["rdf"] + "type" and t.object.value == KK + "Initiative"}
    if initiatives != {INITIATIVE + slug}:
        raise IngestError(422, "wrong_initiative",
                          f"事例 {slug} のファイルは取組 {INITIATIVE + slug} をちょうど一つ記述しなければなりません。",
                          f"The file of case {slug} must describe exactly one initiative, {INITIATIVE + slug}.",
                          found=sorted(initiatives))


def publish(config: Config, slug: str, data: bytes, fmt: str, who: str, *, if_match: str | None = None,
            validate=None) -> Outcome:
    """Validate and publish a case. `validate(data, fmt, slug)` returns the Report (the server runs
    it in the worker pool, with a time limit); by default it runs here."""
    path = case_path(config, slug)
    validate = validate or (lambda d, f, s: submission.check(d, config.root, fmt=f, source=f"{s}.ttl", replacing=s,
                                                             store_dir=config.store_dir))
    digest = sha256(data)
    with ingest_lock(config):
        existing = path.read_bytes() if path.is_file() else None
        if if_match is not None and if_match.strip('"') != (sha256(existing) if existing is not None else "none"):
            audit(config, who=who, action="put", case=slug, sha256=digest, status=412)
            raise IngestError(412, "precondition_failed",
                              "事例はその後更新されています。最新の版を取得してからやり直してください。",
                              "The case has changed since the version you edited; fetch the current one and retry.",
                              current=sha256(existing) if existing is not None else None)
        _check_identity(data, fmt, slug)
        report = validate(data, fmt, slug)
        if not report.conforms:
            audit(config, who=who, action="put", case=slug, sha256=digest, status=422, violations=len(report.results))
            raise IngestError(422, "does_not_conform", "提出された事例はシェイプに適合しません。", "The submitted case does not conform.",
                              report=report)
        turtle = _as_turtle(data, fmt)
        try:
            if existing is not None and not history(config, slug):
                _keep_version(config, slug, existing, "original")  # the version before the first ingest
            version = _keep_version(config, slug, turtle, "put")
            write_atomically(path, turtle)
        except OSError as err:  # full disk, read-only data directory…: nothing was replaced
            audit_quietly(config, who=who, action="put", case=slug, sha256=digest, status=507, detail=str(err))
            raise _storage_error(err) from None
        try:
            outcome = build(config, log=lambda _m: None)
        except BuildError as err:
            _restore(config, path, existing)
            audit(config, who=who, action="put", case=slug, sha256=digest, status=500, detail=str(err))
            raise IngestError(500, "build_failed", "ストアを更新できませんでした。元の版に戻しました。",
                              f"The store could not be rebuilt; the previous version was restored. {err}") from None
        audit(config, who=who, action="put", case=slug, sha256=sha256(turtle), status=201 if existing is None else 200,
              version=version)
        return Outcome(slug, version, sha256(turtle), existing is None, outcome.info.triples)


def withdraw(config: Config, slug: str, who: str) -> Outcome:
    path = case_path(config, slug)
    with ingest_lock(config):
        if not path.is_file():
            audit(config, who=who, action="delete", case=slug, status=404)
            raise IngestError(404, "no_such_case", "その事例はありません。", "There is no such case.")
        existing = path.read_bytes()
        if not history(config, slug):
            _keep_version(config, slug, existing, "original")
        try:
            version = _keep_version(config, slug, existing, "deleted")
            path.unlink()
            _fsync_dir(path.parent)
        except OSError as err:
            audit_quietly(config, who=who, action="delete", case=slug, status=507, detail=str(err))
            raise _storage_error(err) from None
        try:
            outcome = build(config, log=lambda _m: None)
        except BuildError as err:
            _restore(config, path, existing)
            audit(config, who=who, action="delete", case=slug, status=409, detail=str(err))
            raise IngestError(409, "still_referenced", "他の事例がこの事例を参照しているため削除できません。",
                              "Other cases refer to this one, so it cannot be deleted.", report=err.report) from None
        audit(config, who=who, action="delete", case=slug, sha256=sha256(existing), status=200, version=version)
        return Outcome(slug, version, sha256(existing), False, outcome.info.triples)


def _storage_error(err: OSError) -> IngestError:
    return IngestError(507, "storage_error", "ファイルを書き込めませんでした（空き容量や書き込み権限を確認してください）。何も変更していません。",
                       f"Could not write the files (check free space and permissions); nothing was changed. {err.strerror}")


def audit_quietly(config: Config, **entry) -> None:
    """Audit even when the disk is in trouble: a failed audit line must not hide the real error."""
    try:
        audit(config, **entry)
    except OSError:
        pass


def _restore(config: Config, path: Path, existing: bytes | None) -> None:
    if existing is None:
        path.unlink(missing_ok=True)
    else:
        write_atomically(path, existing)
