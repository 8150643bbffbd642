"""Find log files under a runs directory and decide, per file, how much work it needs.

Unchanged files cost one stat. A grown file whose ingested prefix still hashes the same (its
first 64 KiB and the 4 KiB before the ingested offset) is read from its ingested offset; anything
else (truncated, rewritten, a changed .gz) is re-read whole. A file whose size is unchanged but
whose mtime or inode changed is re-read whole too: an edit in place that keeps the size (a fixed
value in the middle of a log) cannot be told from a touch without reading it all, and a log that
did not grow has nothing to append. What an edit combined with growth can hide, and what these
checks cost, is in docs/ingest.md.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Literal, NamedTuple

from ingest.scan import Row, scan
from warehouse.core.errors import DataError

HEAD_BYTES = 64 * 1024
TAIL_BYTES = 4 * 1024

Kind = Literal["jsonl", "recovered", "gz", "import"]
Action = Literal["new", "grown", "rewritten", "unchanged", "relinked"]


# NamedTuples, not dataclasses: a no-op ingest builds 20,000 of each and a frozen dataclass's
# __init__ cost a third of it.
class Found(NamedTuple):
    """A log file on disk (the fields of an ingest.scan.Row, in its order)."""

    path: str  # absolute
    relpath: str  # relative to the runs dir, forward slashes
    kind: Kind
    size: int
    mtime_ns: int
    inode: int


class Known(NamedTuple):
    """The manifest's view of a file (a row of `files`)."""

    file_id: int
    path: str
    relpath: str
    status: str
    size: int
    mtime_ns: int
    inode: int
    head_sha256: str | None
    tail_sha256: str | None
    ingested_bytes: int
    ingested_lines: int
    run_key_at_end: str | None
    legacy_key: str | None


class Planned(NamedTuple):
    found: Found
    action: Action
    known: Known | None
    start: int  # byte offset to read from
    start_line: int  # lines already ingested before `start`


def discover(runs_dir: Path) -> tuple[list[Found], list[str], list[str]]:
    """Log files under runs_dir (sorted), the relative paths of skipped non-log files and links,
    and problems (`relpath: reason`: a folder that cannot be listed, a name that is not UTF-8)."""
    rows, skipped, problems = scan_rows(runs_dir)
    return found_files(rows), skipped, problems


def scan_rows(runs_dir: Path) -> tuple[list[Row], list[str], list[str]]:
    """discover() with the scan's plain tuples (what ingest/nochange.py digests)."""
    try:
        return scan(str(runs_dir.resolve()))
    except OSError as e:
        where = e.filename or runs_dir
        raise DataError(
            f"cannot read {where}: {e.strerror or e}; fix its permissions or move it out of {runs_dir}"
        ) from e


def found_files(rows: list[Row]) -> list[Found]:
    return list(map(Found._make, rows))


def readable(found: list[Found]) -> tuple[list[Found], list[str]]:
    """(the files this process can open, a problem line for each other one). An unreadable file is
    left out of this ingest, keeps its manifest row, and is tried again by the next ingest."""
    ok: list[Found] = []
    problems: list[str] = []
    for f in found:
        try:
            os.close(os.open(f.path, os.O_RDONLY))
        except OSError as e:
            problems.append(f"{f.relpath}: cannot read it ({e.strerror or e}); fix its permissions")
            continue
        ok.append(f)
    return ok, problems


def sha256_range(path: str, start: int, end: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        fh.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = fh.read(min(remaining, 1 << 20))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
    return digest.hexdigest()


def fingerprints(path: str, ingested: int) -> tuple[str, str]:
    """(head, tail) hashes of the ingested prefix [0, ingested)."""
    head = sha256_range(path, 0, min(ingested, HEAD_BYTES))
    tail = sha256_range(path, max(0, ingested - TAIL_BYTES), ingested)
    return head, tail


def _prefix_unchanged(found: Found, known: Known) -> bool:
    if found.size < known.ingested_bytes or found.kind in ("gz", "import"):
        return False  # a .gz or a foreign file is re-read whole, never "grown"
    if known.ingested_bytes == 0:
        return True
    head, tail = fingerprints(found.path, known.ingested_bytes)
    return head == known.head_sha256 and tail == known.tail_sha256


def plan(
    found: list[Found], known: dict[str, Known], archived: dict[str, list[Known]]
) -> tuple[list[Planned], list[Known]]:
    """Decide the action per found file; also return manifest rows whose file disappeared."""
    plans: list[Planned] = []
    for f in found:
        k = known.get(f.path)
        if k is None:
            plans.append(_plan_new(f, archived.get(f.relpath, [])))
        elif (f.size, f.mtime_ns, f.inode) == (k.size, k.mtime_ns, k.inode):
            action: Action = "relinked" if k.status != "present" else "unchanged"
            plans.append(Planned(f, action, k, k.ingested_bytes, k.ingested_lines))
        elif f.size == k.size:  # same size, new mtime or inode: edited in place (or touched)
            plans.append(Planned(f, "rewritten", k, 0, 0))
        elif _prefix_unchanged(f, k):
            plans.append(Planned(f, "grown", k, k.ingested_bytes, k.ingested_lines))
        else:
            plans.append(Planned(f, "rewritten", k, 0, 0))
    present = {f.path for f in found}
    missing = [k for k in known.values() if k.status == "present" and k.path not in present]
    return plans, missing


Stats = set[tuple[str, int, int, int]]  # (path, size, mtime_ns, inode) of each present manifest row


def split_unchanged(found: list[Found], stats: Stats) -> tuple[list[Found], int, list[str]]:
    """(found files that need a plan, how many are unchanged, manifest paths no longer found).

    Only the first and the last need manifest rows: an append to one of 20,000 files then reads
    one row of `files`, not all of them."""
    changed = [f for f in found if (f.path, f.size, f.mtime_ns, f.inode) not in stats]
    unchanged = len(found) - len(changed)
    if unchanged == len(stats):
        return changed, unchanged, []  # every present manifest row matched a found file
    present = {f.path for f in found}
    return changed, unchanged, sorted(row[0] for row in stats if row[0] not in present)


def _plan_new(f: Found, archived: list[Known]) -> Planned:
    """A new path; if it is a restored copy of an archived file, re-link instead of re-reading."""
    for k in archived:
        if f.size == k.ingested_bytes and _prefix_unchanged(f, k):
            return Planned(f, "relinked", k, k.ingested_bytes, k.ingested_lines)
    return Planned(f, "new", None, 0, 0)


def rows_of(found: list[Found]) -> list[Row]:
    """found_files() undone: the scan's plain tuples."""
    return [(f.path, f.relpath, f.kind, f.size, f.mtime_ns, f.inode) for f in found]
