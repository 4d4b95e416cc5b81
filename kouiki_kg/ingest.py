"""Publishing a case: authenticated, checked, versioned, audited, and a transaction.

A case is the Turtle file `data/ttl/cases/{slug}.ttl`, which stays the source of truth. A PUT or
DELETE is checked (in the stewards' worker, the same check as /validate), built aside, committed
through a journal and then applied: the version kept in `var/history/{slug}/`, the case file
replaced atomically, the store swapped in, the audit line written (see "publish and withdraw"
below). Ingests are serialised by an exclusive file lock; a client that sends `If-Match` with the
version it edited gets 412 instead of overwriting a newer one. Killed at any moment, a change
has happened completely (file, store, history, audit) or not at all.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .validation import submission
from .build import BuildError, build, finish_swap
from .config import Config
from .namespaces import INITIATIVE
from .project import input_files
from .store import BuildInfo, current_build, ensure_dumps, swap_current
from .description import DUMP_FILES
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


AUDIT_VALUE_CHARS = 120  # longer values (a slug of 7,000 characters) are cut: a line stays small
REFUSAL_WINDOW = 60.0  # seconds: unauthenticated refusals of one client make one line per window
_refusals: dict[tuple, list] = {}  # (client, action, status) → [window start, refusals since the last line]
_refusals_lock = threading.Lock()


def _short(value):
    return value[:AUDIT_VALUE_CHARS] + "…" if isinstance(value, str) and len(value) > AUDIT_VALUE_CHARS else value


def audit(config: Config, **entry) -> None:
    """One JSON line per write attempt (never the token itself), flushed to disk; values cut to
    AUDIT_VALUE_CHARS. A line is under 400 bytes."""
    entry = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
             **{k: _short(v) for k, v in entry.items()}}
    path = state_dir(config) / "audit.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        log.flush()
        os.fsync(log.fileno())


def audit_refusal(config: Config, client: str | None, *, action: str, case: str, status: int) -> None:
    """An attempt refused before it was authenticated (401, 403). Anyone can make these, so one
    client's refusals are written at most once per REFUSAL_WINDOW, with their count: anonymous
    traffic grows the log by at most a line a minute per client (per web process)."""
    key, now = (client, action, status), time.monotonic()
    with _refusals_lock:
        seen = _refusals.get(key)
        if seen is not None and now - seen[0] < REFUSAL_WINDOW:
            seen[1] += 1
            return
        repeated = seen[1] if seen is not None else 0
        _refusals[key] = [now, 0]
        if len(_refusals) > 10_000:  # forget the quiet ones
            for old in [k for k, (start, _) in _refusals.items() if now - start >= REFUSAL_WINDOW]:
                del _refusals[old]
    audit_quietly(config, who=None, client=client, action=action, case=case, status=status,
                  **({"refused_since_last_line": repeated} if repeated else {}))


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


# --- publish and withdraw: one transaction each ----------------------------------------------------
#
# A change is checked and built aside (the new case file staged beside the case file as a hidden
# .tmp, its history versions under var/transactions/, the store built from the project as it would
# be, not swapped in). Nothing visible has changed yet: a
# refusal, a failed build or a kill leaves no trace but scratch files. Then an intent is written to
# the journal (var/publish-journal.json, atomically): that is the commit point. Applying it keeps
# the version, replaces (or removes) the case file, swaps the store in, writes the audit line and
# removes the journal; every step is idempotent, and whoever finds a journal (the next ingest, a
# build, the server as it starts) applies it again. So a change happens completely or not at all.

JOURNAL = "publish-journal.json"
CRASH_AT = "KOUIKI_TEST_CRASH_AT"  # tests: SIGKILL this process at the named step (see _step)


def _step(name: str) -> None:
    """A named moment of a publish. The tests kill the process here, as kill -9 would, to show
    that what is left is the old state or, once recovered, the new one."""
    if os.environ.get(CRASH_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _journal_path(config: Config) -> Path:
    return state_dir(config) / JOURNAL


def _work_dir(config: Config, tx: str) -> Path:
    return state_dir(config) / "transactions" / tx


def _version_name(stamp: str, action: str, data: bytes) -> str:
    return f"{stamp}-{action}-{sha256(data)[:12]}"


def publish(config: Config, slug: str, data: bytes, fmt: str, who: str, *, if_match: str | None = None,
            validate=None) -> Outcome:
    """Check and publish a case. `validate(data, fmt, slug)` returns a submission.Checked (the
    server runs it in the stewards' worker pool, with a time limit); by default it runs here."""
    path = case_path(config, slug)
    validate = validate or (lambda d, f, s: submission.check_for_publish(
        d, config.root, fmt=f, source=f"{s}.ttl", case=s, store_dir=config.store_dir))
    digest = sha256(data)
    with ingest_lock(config):
        recover(config)
        existing = path.read_bytes() if path.is_file() else None
        if if_match is not None and if_match.strip('"') != (sha256(existing) if existing is not None else "none"):
            audit(config, who=who, action="put", case=slug, sha256=digest, status=412)
            raise IngestError(412, "precondition_failed",
                              "事例はその後更新されています。最新の版を取得してからやり直してください。",
                              "The case has changed since the version you edited; fetch the current one and retry.",
                              current=sha256(existing) if existing is not None else None)
        checked = validate(data, fmt, slug)
        if checked.initiatives != [INITIATIVE + slug]:
            audit(config, who=who, action="put", case=slug, sha256=digest, status=422)
            raise IngestError(422, "wrong_initiative",
                              f"事例 {slug} のファイルは取組 {INITIATIVE + slug} をちょうど一つ記述しなければなりません。",
                              f"The file of case {slug} must describe exactly one initiative, {INITIATIVE + slug}.",
                              found=checked.initiatives)
        if not checked.report.conforms:
            audit(config, who=who, action="put", case=slug, sha256=digest, status=422,
                  violations=len(checked.report.results))
            raise IngestError(422, "does_not_conform", "提出された事例はシェイプに適合しません。",
                              "The submitted case does not conform.", report=checked.report)
        return _transact(config, "put", slug, who, checked.turtle, existing)


def withdraw(config: Config, slug: str, who: str) -> Outcome:
    path = case_path(config, slug)
    with ingest_lock(config):
        recover(config)
        if not path.is_file():
            audit(config, who=who, action="delete", case=slug, status=404)
            raise IngestError(404, "no_such_case", "その事例はありません。", "There is no such case.")
        return _transact(config, "delete", slug, who, None, path.read_bytes())


def _transact(config: Config, action: str, slug: str, who: str, new: bytes | None, old: bytes | None) -> Outcome:
    """Prepare the change aside, commit it through the journal, apply it (see above). Everything
    that can fail for want of disk happens before the commit; applying only renames and swaps.
    Call with the lock held."""
    path = case_path(config, slug)
    relative = path.relative_to(config.root).as_posix()
    tx = uuid.uuid4().hex
    work, staged = _work_dir(config, tx), path.with_name(f".{path.name}.{tx}.tmp")
    digest = sha256(new if new is not None else old)
    now = datetime.now(timezone.utc)
    stamp, before = (t.strftime("%Y%m%dT%H%M%S%fZ") for t in (now, now - timedelta(microseconds=1)))
    first = old is not None and not history(config, slug)  # the version before the first change
    version = _version_name(stamp, "put" if action == "put" else "deleted", new if new is not None else old)
    original = _version_name(before, "original", old) if first else None
    try:
        history_dir(config, slug).mkdir(parents=True, exist_ok=True)
        if original:
            _write_synced(work / "history" / f"{original}.ttl", old)
        _write_synced(work / "history" / f"{version}.ttl", new if new is not None else old)
        if new is not None:
            _write_synced(staged, new)  # beside the case file: applying renames it into place
        _step("staged")
        outcome = build(config, changes={relative: staged if new is not None else None}, swap=False,
                        log=lambda _m: None)
        _step("built")
        entry = {"tx": tx, "action": action, "case": slug, "who": who, "sha256": digest,
                 "build": outcome.build_dir.name, "status": 201 if old is None else 200, "version": version}
        write_atomically(_journal_path(config), json.dumps(entry).encode("utf-8"))  # the commit point
        _step("committed")
    except (OSError, BuildError) as err:
        shutil.rmtree(work, ignore_errors=True)
        staged.unlink(missing_ok=True)
        raise _refusal(config, err, action, slug, who, digest) from None
    _apply(config, entry)
    return Outcome(slug, version, digest, old is None, outcome.info.triples)


DUMPS_LOCK = "dumps.lock"  # held by the one process making dumps


def make_dumps(config: Config) -> None:
    """Write the served build's dumps if it has none: a change published as an increment is served
    before its dumps are written (tens of seconds at a million triples). A failure (a full disk)
    is left to the next request for a dump, which tries again and says why.

    One maker at a time: a process per change, each writing the dumps of the build served when
    it started, let makers of builds already replaced run side by side (once twenty at 1 M, load
    18 on two cores, while cases were published every two seconds). A second maker leaves at
    once; the one at work, done with a build, looks again for the one served, as the change that
    called the second was served before it asked."""
    path = state_dir(config) / DUMPS_LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        build = current_build(config.store_dir)
        if build is None or (build / "dumps").is_dir():
            return
        with _lock_if_free(path) as mine:
            if not mine:  # another maker is at work: it looks again when done
                return
            try:
                ensure_dumps(build, DUMP_FILES)
            except OSError:  # a full disk, or a build replaced and pruned under the maker
                if current_build(config.store_dir) == build:
                    return


@contextmanager
def _lock_if_free(path: Path):
    """Holds the lock at `path` and yields True, or yields False at once if another holds it."""
    with open(path, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _maker_at_work(config: Config) -> bool:
    path = state_dir(config) / DUMPS_LOCK
    if not path.exists():
        return False
    with _lock_if_free(path) as free:
        return not free


def make_dumps_later(config: Config) -> threading.Thread | None:
    """make_dumps in a process of its own at the lowest CPU priority, so the web process that
    published keeps answering at full speed (25 s of serialising at a million triples); a thread
    waits for it, so it is reaped. Nothing to do (a full build has its dumps): nothing started."""
    build = current_build(config.store_dir)
    if build is None or (build / "dumps").is_dir() or _maker_at_work(config):  # it comes to this build when done
        return None
    script = ("import os, sys; from pathlib import Path; os.nice(19); from kouiki_kg.config import Config; "
              "from kouiki_kg.ingest import make_dumps; make_dumps(Config(root=Path(sys.argv[1]), store_dir=Path(sys.argv[2])))")

    def run() -> None:
        try:
            subprocess.run([sys.executable, "-c", script, str(config.root), str(config.store_dir)],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        except OSError:  # no process to be had: the next request for a dump makes them
            pass

    thread = threading.Thread(target=run, name="dumps", daemon=True)
    thread.start()
    return thread


def _write_synced(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _refusal(config: Config, err: Exception, action: str, slug: str, who: str, digest: str) -> IngestError:
    """A change that did not reach its commit, as the error to answer (audited): nothing changed."""
    if isinstance(err, OSError) or err.storage:  # full disk, read-only state directory…
        audit_quietly(config, who=who, action=action, case=slug, sha256=digest, status=507, error="storage")
        return _storage_error()
    if action == "delete" and err.report is not None:
        audit(config, who=who, action=action, case=slug, status=409, violations=len(err.report.results))
        return IngestError(409, "still_referenced", "他の事例がこの事例を参照しているため削除できません。",
                           "Other cases refer to this one, so it cannot be deleted.", report=err.report)
    if err.report is not None:  # the check passed and the whole project does not: say what broke
        audit(config, who=who, action=action, case=slug, sha256=digest, status=422, violations=len(err.report.results))
        return IngestError(422, "does_not_conform", "この変更を加えるとプロジェクト全体がシェイプに適合しなくなります。",
                           "With this change the project as a whole would not conform.", report=err.report)
    audit(config, who=who, action=action, case=slug, sha256=digest, status=500, error="build_failed")
    return IngestError(500, "build_failed", "ストアを更新できませんでした。何も変更していません。",
                       "The store could not be rebuilt; nothing was changed.")


def _apply(config: Config, entry: dict) -> None:
    """Make a committed change visible; every step may be done again with the same result."""
    slug, work = entry["case"], _work_dir(config, entry["tx"])
    path = case_path(config, slug)
    folder = history_dir(config, slug)
    for kept in sorted((work / "history").glob("*.ttl")) if (work / "history").is_dir() else []:
        if not (folder / kept.name).exists():
            os.replace(kept, folder / kept.name)
    _fsync_dir(folder)
    _step("versions-kept")
    staged = path.with_name(f".{path.name}.{entry['tx']}.tmp")
    if entry["action"] == "put":
        if staged.exists():
            os.replace(staged, path)
            _fsync_dir(path.parent)
        elif not path.is_file() or sha256(path.read_bytes()) != entry["sha256"]:  # its version holds the bytes
            write_atomically(path, (folder / f"{entry['version']}.ttl").read_bytes())
    elif path.exists():
        path.unlink()
        _fsync_dir(path.parent)
    _step("file-replaced")
    built = config.store_dir / "builds" / entry["build"]
    if built.is_dir():
        if current_build(config.store_dir) != built.resolve():
            swap_current(config.store_dir, built)
        finish_swap(config, input_files(config.root), built, BuildInfo.read(built).content_hash, log=lambda _m: None)
    else:  # its build is gone (pruned, lost): build the files as they now are
        build(config, log=lambda _m: None)
    _step("swapped")
    if not _audited(config, entry["tx"]):
        audit(config, who=entry["who"], action=entry["action"], case=slug, sha256=entry["sha256"],
              status=entry["status"], version=entry["version"], tx=entry["tx"])
    _step("audited")
    _journal_path(config).unlink(missing_ok=True)
    _fsync_dir(state_dir(config))
    shutil.rmtree(work, ignore_errors=True)


def recover(config: Config) -> bool:
    """Finish a change that was committed but not wholly applied (the process was killed), and
    clear what changes that never reached their commit left. Call with the lock held. Returns
    whether a change was finished."""
    journal = _journal_path(config)
    finished = False
    if journal.is_file():
        _apply(config, json.loads(journal.read_text(encoding="utf-8")))
        finished = True
    shutil.rmtree(state_dir(config) / "transactions", ignore_errors=True)
    cases = config.root / "data" / "ttl" / "cases"
    for staged in cases.glob(".*.tmp") if cases.is_dir() else []:
        staged.unlink(missing_ok=True)
    builds, current = config.store_dir / "builds", current_build(config.store_dir)
    if current is not None and builds.is_dir():  # built aside for a change that was never committed
        for orphan in builds.iterdir():
            if orphan.is_dir() and not orphan.name.startswith(".") and orphan.name > current.name:
                shutil.rmtree(orphan, ignore_errors=True)
    return finished


def _audited(config: Config, tx: str) -> bool:
    """Whether the audit log's recent lines already record this change."""
    path = state_dir(config) / "audit.jsonl"
    if not path.is_file():
        return False
    with open(path, "rb") as log:
        log.seek(max(0, path.stat().st_size - 65536))
        return f'"tx": "{tx}"'.encode() in log.read()


def _storage_error() -> IngestError:
    return IngestError(507, "storage_error", "ファイルを書き込めませんでした（空き容量や書き込み権限を確認してください）。何も変更していません。",
                       "Could not write the files (check free space and permissions); nothing was changed.")


def audit_quietly(config: Config, **entry) -> None:
    """Audit even when the disk is in trouble: a failed audit line must not hide the real error."""
    try:
        audit(config, **entry)
    except OSError:
        pass
