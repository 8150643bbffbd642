"""The no-op check that opens the published snapshot read-only (after ingest/nochange.py's, which
needs no DuckDB, could not prove a no-op), and the scan it hands the writer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingest.discover import Found, discover, found_files, rows_of, split_unchanged
from ingest.manifest import read_stats, settings_stale
from ingest.nochange import Quick, record
from ingest.summary import IngestSummary
from warehouse.core.config import Config
from warehouse.store.db import open_reader
from warehouse.store.migrate import applied, code_version
from warehouse.store.snapshot import paths_for
from warehouse.store.spare import stamp


@dataclass(frozen=True)
class Scan:
    """The directory scan, begun after the snapshot `stamp` was published, and its split
    against that snapshot's manifest (None: the writer splits it, against the same manifest)."""

    found: list[Found]
    skipped: list[str]
    problems: list[str]
    split: tuple[list[Found], int, list[str]] | None
    stamp: str


def precheck(
    db: str, root: Path, config: Config, summary: IngestSummary, quick: Quick | None
) -> tuple[bool, Scan | None]:
    """(no-op?, directory scan) answered from the published snapshot, read-only, when the writer
    has no live file (it was renamed into the snapshot): no copy, no lock. Any doubt means "there
    is work"; the scan and its split, when made, are reused by the writer. A no-op found here is
    recorded for ingest/nochange.py. `quick`'s scan, begun after its stamp, stands for a new one."""
    paths = paths_for(db)
    before = quick.stamp if quick is not None else stamp(paths.published)
    if paths.live.exists() or before is None:
        return False, None
    if paths.published.with_name(paths.published.name + ".wal").exists():
        return False, None  # a stale WAL would fail this open; the writer sweeps it
    con = open_reader(db, check_schema=False)
    try:
        if max(applied(con), default=0) != code_version():
            return False, None
        stats, rules_stale = read_stats(con), settings_stale(con, config)
        if quick is not None:
            found, skipped, problems = found_files(quick.rows), quick.skipped, quick.problems
        else:
            found, skipped, problems = discover(root)
        split = split_unchanged(found, stats)
        changed, _, gone = split
        same = stamp(paths.published) == before  # `con` read the snapshot published before the scan
        if changed or gone or rules_stale or problems:
            return False, Scan(found, skipped, problems, split, before) if same else None
    finally:
        con.close()
    if same:
        record(db, before, root, config, quick.rows if quick is not None else rows_of(found))
    summary.files_skipped, summary.skipped_examples = len(skipped), skipped[:5]
    summary.files_unchanged = len(found)
    return True, None
