"""`warehouse archive`: move old, fully ingested raw logs into runs/_archive/ — safely.

Plan  (read-only): files the manifest says are fully ingested (ingested_bytes = size, no torn
      tail), unchanged on disk since (size, mtime, head/tail fingerprints) and older than N
      minutes. `--dry-run` stops here and lists every file with its decision.
Build: logs_<utc>_<id>.tar.gz with MANIFEST.json first, written atomically, plus a sidecar
      logs_<utc>_<id>.manifest.json holding the whole-archive sha256.
Commit (under the writer lock): verify the archive end to end (archive_io.verify_archive),
      re-check the manifest rows, re-hash every original; any mismatch -> nothing is deleted and
      the new archive is removed. Then unlink the originals and point their `files` rows at
      archive://<archive>/<member> with status 'archived' (rows stay queryable, with provenance).
A kill at any point leaves every original either in place or inside a verified archive;
`reconcile` (run first each time) re-points rows whose original vanished after a kill.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.discover import fingerprints
from ingest.scan import SKIP_DIRS
from warehouse.apps.archive_io import (
    Built,
    MemberSpec,
    build_archive,
    hash_file,
    read_sidecar,
    sidecar_path,
    verify_archive,
)
from warehouse.core.atomic import fsync_dir, sweep_tmp
from warehouse.core.errors import DataError
from warehouse.core.faults import fault_point
from warehouse.store.db import open_reader, open_writer

if TYPE_CHECKING:
    import duckdb

ARCHIVE_SCHEME = "archive://"


@dataclass(frozen=True)
class Decision:
    name: str  # path relative to the runs directory
    size: int
    action: str  # archive | skip
    reason: str = ""


@dataclass
class Plan:
    runs_dir: Path
    members: list[MemberSpec] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(m.size for m in self.members)


@dataclass(frozen=True)
class ArchiveResult:
    plan: Plan
    archive: Path | None
    archive_sha256: str | None
    archive_bytes: int
    reconciled: int
    seconds: float


# ---------------------------------------------------------------- plan


_FILES_SQL = """
SELECT file_id, path, root, relpath, size, mtime_ns, head_sha256, tail_sha256,
       ingested_bytes, pending_bytes, status
FROM files WHERE status = 'present' AND path NOT LIKE 'archive://%' ORDER BY relpath, file_id
"""


def _resolve(row: dict[str, Any]) -> Path:
    path = Path(row["path"])
    if not path.is_absolute() and row.get("root"):
        path = Path(row["root"]) / row["relpath"]
    return path.absolute()


def _member_name(path: Path, runs_dir: Path) -> str | None:
    try:
        rel = path.resolve().relative_to(runs_dir)
    except ValueError:
        return None
    if not rel.parts or rel.parts[0] in SKIP_DIRS:
        return None
    return rel.as_posix()


LINKED = "reached through a link out of the runs directory: left where it is"


def _linked_name(path: Path, runs_dir: Path) -> str | None:
    """The name under runs_dir of a file that lies outside it (read through a link), else None."""
    try:
        rel = path.relative_to(runs_dir)
    except ValueError:
        return None
    return rel.as_posix() if rel.parts and rel.parts[0] not in SKIP_DIRS else None


def fingerprint(path: Path) -> tuple[str, int, str, str]:
    """sha256 of the file, its size, and the head/tail fingerprints ingest keeps (ingest.discover)."""
    sha, size = hash_file(path)
    head, tail = fingerprints(str(path), size)
    return sha, size, head, tail


def _decide(row: dict[str, Any], path: Path, cutoff_ns: int) -> str:
    """'' when the file is eligible, else the reason it is skipped."""
    if row["ingested_bytes"] != row["size"] or row["pending_bytes"]:
        return "not fully ingested (torn tail or unread bytes): run 'warehouse ingest'"
    try:
        st = path.lstat()
    except FileNotFoundError:
        return "missing on disk"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_size != row["size"] or st.st_mtime_ns != row["mtime_ns"]:
        return "changed since ingest: run 'warehouse ingest'"
    if st.st_mtime_ns > cutoff_ns:
        return "too recent"
    return ""


def _spec(row: dict[str, Any], path: Path, name: str) -> tuple[MemberSpec | None, str]:
    sha, size, head, tail = fingerprint(path)
    if size != row["size"]:
        return None, "changed since ingest: run 'warehouse ingest'"
    if row["head_sha256"] and head != row["head_sha256"]:
        return None, "content differs from what was ingested (head fingerprint)"
    if row["tail_sha256"] and tail != row["tail_sha256"]:
        return None, "content differs from what was ingested (tail fingerprint)"
    return MemberSpec(name, path, size, sha, int(row["mtime_ns"]), int(row["file_id"])), ""


def plan_archive(
    db: str | os.PathLike[str], runs_dir: Path, min_age_minutes: float, now_ns: int | None = None
) -> Plan:
    """Decide, file by file, what an archive run would do (reads; never writes)."""
    runs = runs_dir.resolve()
    plan = Plan(runs)
    cutoff = (now_ns if now_ns is not None else time.time_ns()) - int(min_age_minutes * 60e9)
    con = open_reader(db)
    try:
        cursor = con.execute(_FILES_SQL)
        cols = [d[0] for d in cursor.description or ()]
        rows = [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]
    finally:
        con.close()
    for row in rows:
        path = _resolve(row)
        name = _member_name(path, runs)
        if name is None:
            linked = _linked_name(path, runs)
            if linked is not None:  # under runs/ by name, elsewhere in fact: never deleted here
                plan.decisions.append(Decision(linked, int(row["size"] or 0), "skip", LINKED))
            continue
        reason = _decide(row, path, cutoff)
        spec = None
        if not reason:
            spec, reason = _spec(row, path, name)
        if spec is not None:
            plan.members.append(spec)
            plan.decisions.append(Decision(name, spec.size, "archive"))
        else:
            plan.decisions.append(Decision(name, int(row["size"] or 0), "skip", reason))
    return plan


# ---------------------------------------------------------------- build + commit


def archive_name(now: dt.datetime | None = None) -> str:
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"logs_{stamp}_{secrets.token_hex(3)}.tar.gz"


def build(plan: Plan, out_dir: Path) -> Built:
    """Write the archive and its sidecar manifest (atomically; originals untouched)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sweep_tmp(out_dir)
    created = dt.datetime.now(dt.UTC)
    built = build_archive(
        out_dir / archive_name(created),
        plan.members,
        {"created_at": created.isoformat(), "runs_dir": str(plan.runs_dir)},
        fault_point,
        sidecar=True,
    )
    return built


def _remove_archive(archive: Path) -> None:
    archive.unlink(missing_ok=True)
    sidecar_path(archive).unlink(missing_ok=True)


_ROW_SQL = (
    "SELECT path, root, relpath, status, size, mtime_ns, ingested_bytes, pending_bytes"
    " FROM files WHERE file_id = ?"
)
_ROW_COLS = ("path", "root", "relpath", "status", "size", "mtime_ns", "ingested_bytes", "pending_bytes")


def _row(con: duckdb.DuckDBPyConnection, file_id: Any) -> dict[str, Any] | None:
    found = con.execute(_ROW_SQL, [file_id]).fetchone()
    return dict(zip(_ROW_COLS, found, strict=True)) if found else None


def _recheck(con: duckdb.DuckDBPyConnection, entries: Sequence[dict[str, Any]]) -> list[os.stat_result]:
    """Rows unchanged and every original re-hashed equal to the manifest; else DataError."""
    stats = []
    for e in entries:
        row = _row(con, e["file_id"])
        want = (e["original_path"], "present", e["size"], e["mtime_ns"], e["size"], 0)
        if (
            row is None
            or (
                str(_resolve(row)),
                row["status"],
                row["size"],
                row["mtime_ns"],
                row["ingested_bytes"],
                row["pending_bytes"],
            )
            != want
        ):
            raise DataError(
                f"{e['name']}: its manifest row changed since planning (ingested or "
                "archived meanwhile); nothing was deleted, rerun 'warehouse archive'"
            )
        path = Path(e["original_path"])
        before = path.lstat()
        sha, size = hash_file(path)
        after = path.lstat()
        if (sha, size) != (e["sha256"], e["size"]) or _sig(before) != _sig(after):
            raise DataError(
                f"{e['name']} was modified after it was archived; nothing was deleted,"
                " run 'warehouse ingest' then 'warehouse archive' again"
            )
        stats.append(after)
    return stats


def _sig(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ino


def _mark_archived(
    con: duckdb.DuckDBPyConnection, archive: str, sha: str, entries: Sequence[dict[str, Any]]
) -> None:
    for e in entries:
        con.execute(
            "UPDATE files SET path = ?, status = 'archived', content_sha256 = ? WHERE file_id = ?",
            [f"{ARCHIVE_SCHEME}{archive}/{e['name']}", e["sha256"], e["file_id"]],
        )
    key = f"archive_sha256:{archive}"
    con.execute("DELETE FROM settings WHERE key = ?", [key])
    con.execute("INSERT INTO settings VALUES (?, ?)", [key, sha])


def commit(db: str | os.PathLike[str], built: Built) -> None:
    """Verify, then delete the originals and re-point their rows; any mismatch deletes nothing."""
    entries = built.members
    deleted = 0
    try:
        with open_writer(db, "warehouse archive") as con:
            verify_archive(built.path, built.sha256, entries)
            stats = _recheck(con, entries)
            fault_point("archive:before-delete")
            for e, st in zip(entries, stats, strict=True):
                path = Path(e["original_path"])
                if _sig(path.lstat()) != _sig(st):
                    raise DataError(f"{e['name']} changed during archiving; rerun 'warehouse archive'")
                path.unlink()
                deleted += 1
                fault_point("archive:mid-delete")
            for parent in {Path(e["original_path"]).parent for e in entries}:
                fsync_dir(parent)
            fault_point("archive:before-update")
            _mark_archived(con, built.path.name, built.sha256, entries)
    except DataError:
        if not deleted:  # we deleted nothing: this archive is redundant (or corrupt)
            _remove_archive(built.path)
        raise


# ---------------------------------------------------------------- reconcile after a kill


Orphan = tuple[Path, dict[str, Any], list[dict[str, Any]]]


def _orphans(db: str | os.PathLike[str], out_dir: Path) -> list[Orphan]:
    """Archives whose originals were deleted but whose rows were not re-pointed (killed)."""
    found: list[Orphan] = []
    sidecars = sorted(out_dir.glob("logs_*.manifest.json")) if out_dir.is_dir() else []
    if not sidecars:
        return found
    con = open_reader(db)
    try:
        for sc in sidecars:
            archive = sc.with_name(sc.name.removesuffix(".manifest.json") + ".tar.gz")
            meta = read_sidecar(archive) if archive.is_file() else None
            if meta is None:
                continue
            todo = []
            for e in meta.get("members", []):
                row = _row(con, e.get("file_id"))
                if (
                    row
                    and str(_resolve(row)) == e.get("original_path")
                    and row["status"] in ("present", "missing")
                    and not Path(e["original_path"]).exists()
                ):
                    todo.append(e)
            if todo:
                found.append((archive, meta, todo))
    finally:
        con.close()
    return found


def reconcile(db: str | os.PathLike[str], out_dir: Path) -> int:
    """Point rows at the archive holding their (deleted) original; returns rows fixed."""
    orphans = _orphans(db, out_dir)
    if not orphans:
        return 0
    fixed = 0
    with open_writer(db, "warehouse archive (reconcile)") as con:
        for archive, meta, todo in orphans:
            verify_archive(archive, meta["archive_sha256"], None)
            _mark_archived(con, archive.name, meta["archive_sha256"], todo)
            fixed += len(todo)
    return fixed


# ---------------------------------------------------------------- the command


def run_archive(
    db: str | os.PathLike[str],
    runs_dir: Path,
    out_dir: Path,
    min_age_minutes: float,
    dry_run: bool = False,
    say: Callable[[str], None] = lambda _m: None,
) -> ArchiveResult:
    start = time.perf_counter()
    reconciled = 0 if dry_run else reconcile(db, out_dir)
    if reconciled:
        say(f"re-pointed {reconciled} row(s) of an interrupted earlier archive")
    plan = plan_archive(db, runs_dir, min_age_minutes)
    if dry_run or not plan.members:
        return ArchiveResult(plan, None, None, 0, reconciled, time.perf_counter() - start)
    say(f"archiving {len(plan.members)} file(s), {plan.bytes} bytes")
    built = build(plan, out_dir)
    say(f"wrote {built.path} ({built.size} bytes); verifying before deleting originals")
    commit(db, built)
    return ArchiveResult(plan, built.path, built.sha256, built.size, reconciled, time.perf_counter() - start)
