"""The no-op check without DuckDB: a record, beside the database, of what its published snapshot holds.

A no-op ingest over 20,000 files used to open the snapshot read-only and compare every file's
stat with the manifest: importing duckdb, opening the file and reading 20,000 rows were half of
it. Now, whenever an ingest leaves the manifest equal to the scan it made (every log file found
is loaded or unchanged; none unreadable, no folder unlistable), it records, right after
publishing and with the writer lock still held:

  runs/.runs.duckdb.nochange   {"snapshot": "<size>-<mtime_ns>-<inode> of the snapshot published",
                                "key": {runs folder, this code's migrations, settings digests},
                                "files": digest of the scan's rows, "n": how many}

The next ingest scans as before (one stat per file) and is a no-op without opening the database
when the snapshot published now has the recorded stamp, the rows (path, relpath, kind, size,
mtime_ns, inode of every log file, sorted) digest the same, the key matches (the runs folder, the
migrations' file names, the digests of warehouse.toml's path rules, prices and model names), no
WAL is beside the snapshot and no live file holds work it lacks. That compares what the DuckDB check
compares (each file's size, mtime_ns and inode against the manifest, the settings digests, the
schema version) and more. A published snapshot is never written again, so a record naming its
stamp stays true; any writer that publishes changes the stamp, and any doubt takes the DuckDB
check (ingest/run.py), which writes the record again when it finds a no-op.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ingest.digests import settings_digests
from ingest.discover import scan_rows
from ingest.scan import Row
from warehouse.store.spare import stamp

if TYPE_CHECKING:
    from warehouse.core.config import Config

FORMAT = 1


class Quick(NamedTuple):
    """The scan made for the no-op check, begun after the snapshot `stamp` was published (None:
    no snapshot), and whether it proved a no-op."""

    stamp: str | None
    rows: list[Row]
    skipped: list[str]
    problems: list[str]
    noop: bool


def record_path(db: Path) -> Path:
    return db.with_name(f".{db.name}.nochange")


def check(db: str, root: Path, config: Config) -> Quick:
    """Scan `root`; a no-op when the record proves the published snapshot holds exactly this scan."""
    published = Path(db)
    before = stamp(published)
    rows, skipped, problems = scan_rows(root)
    if before is None or problems:
        return Quick(before, rows, skipped, problems, False)
    wanted = _entry(before, root, config, rows)
    noop = (
        _read(published) == wanted
        and not _writer_busy(published)
        and _nothing_unpublished(published, before)
        and not published.with_name(published.name + ".wal").exists()
        and stamp(published) == before
    )
    return Quick(before, rows, skipped, problems, noop)


def _writer_busy(published: Path) -> bool:
    from warehouse.store.db import writer_busy
    from warehouse.store.snapshot import paths_for

    return writer_busy(paths_for(published))


def _nothing_unpublished(published: Path, snapshot: str) -> bool:
    """No live file, or one still equal to the snapshot it was copied from (a writer that found
    nothing to do leaves it so)."""
    from warehouse.store.snapshot import paths_for, seeded_from

    paths = paths_for(published)
    return not paths.live.exists() or seeded_from(paths) == snapshot


def record(db: str, snapshot: str | None, root: Path, config: Config, rows: list[Row]) -> None:
    """Say that the snapshot with stamp `snapshot` holds exactly `rows` (see the module's docstring).
    Best effort: without the record the next no-op takes the DuckDB check."""
    if snapshot is None:
        return
    published = Path(db)
    path = record_path(published)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(_entry(snapshot, root, config, rows)), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _entry(snapshot: str, root: Path, config: Config, rows: list[Row]) -> dict[str, object]:
    return {
        "format": FORMAT,
        "snapshot": snapshot,
        "key": {
            "root": str(root.resolve()),
            "migrations": _migrations(),
            "settings": settings_digests(config),
        },
        "files": files_digest(rows),
        "n": len(rows),
    }


def files_digest(rows: list[Row]) -> str:
    """Digest of the scan's rows (plain tuples; marshal version 2 writes no back-references, so
    equal rows give equal bytes)."""
    return hashlib.blake2b(marshal.dumps(rows, 2), digest_size=16).hexdigest()


def _migrations() -> list[str]:
    """The code's migration files by name (warehouse/store/migrate.py reads them; their count is
    the schema version a database must have)."""
    return sorted(e.name for e in resources.files("sql.migrations").iterdir() if e.name.endswith(".sql"))


def _read(published: Path) -> object:
    try:
        return json.loads(record_path(published).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
