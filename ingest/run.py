"""One ingest: discover, plan, load everything in one transaction, record it, publish."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.bounds import bound_load
from ingest.bulk import load_bulk
from ingest.discover import (
    Found,
    Known,
    Planned,
    discover,
    found_files,
    plan,
    readable,
    rows_of,
    split_unchanged,
)
from ingest.fast import load_fast
from ingest.lines import Sink, first_line, legacy_key
from ingest.load import FastPathMismatch, FileOutcome, flush, load_exact, now_load_id
from ingest.manifest import (
    mark_missing,
    new_file_id,
    read_known,
    read_stats,
    refresh_attributes,
    refresh_models,
    refresh_prices,
    settings_stale,
    write_outcomes,
)
from ingest.nochange import Quick, record
from ingest.precheck import Scan, precheck
from ingest.summary import (
    UNREADABLE_KEY,
    IngestSummary,
    Phases,
    Reporter,
    log_ingest,
    record_unreadable,
    summarise,
    unreadable_json,
)
from ingest.transcripts import delete_transcripts, derive_transcripts
from warehouse.core.config import Config, load_config
from warehouse.core.errors import UsageError
from warehouse.core.faults import fault_point
from warehouse.core.logformat import DIAL_NAMES, SCHEMA_VERSION
from warehouse.core.models import model_names
from warehouse.store.db import open_writer
from warehouse.store.snapshot import check_free_space, paths_for, seeded_from
from warehouse.store.spare import stamp

if TYPE_CHECKING:
    import duckdb


def ingest_embedded(
    runs_dir: str,
    db: str,
    *,
    config: Config | None = None,
    progress: bool = False,
    fast: bool = True,
    quick: Quick | None = None,
    direct: bool = False,
) -> IngestSummary:
    """Bring every new, grown or rewritten log under runs_dir into db (a no-op if none).

    `db` is the embedded warehouse's file; `ingest.ingest_runs` sends a lake URL to
    ingest/lake.py instead. `quick`: the scan of ingest/nochange.py's check, reused. `direct`:
    the caller knows files changed (a watch round): no read-only check first, the writer decides."""
    root = Path(runs_dir)
    if not root.is_dir():
        raise UsageError(f"runs directory {runs_dir} does not exist: pass the folder holding your logs")
    config = config or load_config()
    started = time.perf_counter()
    summary = IngestSummary(runs_dir=str(root.resolve()), db=str(db))
    phase = Phases(summary)
    scan: Scan | None
    if direct and quick is not None and quick.stamp is not None:
        found = found_files(quick.rows)
        noop, scan = False, Scan(found, quick.skipped, quick.problems, None, quick.stamp)
    else:
        noop, scan = precheck(db, root, config, summary, quick)
    phase("noop_check")
    if noop:
        summary.seconds = round(time.perf_counter() - started, 3)
        return summary
    proven: list[list[Found] | None] = []  # the scan the manifest now equals, if it does

    def published() -> None:  # under the writer lock, right after publishing
        if proven and proven[0] is not None:
            record(db, stamp(Path(db)), root, config, rows_of(proven[0]))

    with open_writer(db, "warehouse ingest", on_published=published) as con:
        phase("open")
        proven.append(_ingest(con, root, config, summary, progress, fast, phase, scan))
        phase("ingest")
    phase("checkpoint_publish")
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _plan(
    con: duckdb.DuckDBPyConnection, root: Path, summary: IngestSummary, scan: Scan | None
) -> tuple[list[Planned], list[Known], list[Found]]:
    """(plans of the changed files, manifest rows of vanished ones, every file found)."""
    if scan and seeded_from(paths_for(summary.db)) == scan.stamp:
        found, skipped, problems = scan.found, scan.skipped, scan.problems  # live = the snapshot scanned
        changed, unchanged, gone = scan.split or split_unchanged(found, read_stats(con))
    else:  # a scan begun now, with the lock held, is newer than anything live holds
        found, skipped, problems = discover(root)
        changed, unchanged, gone = split_unchanged(found, read_stats(con))
    summary.files_skipped, summary.skipped_examples = len(skipped), skipped[:5]
    summary.files_unchanged += unchanged
    changed, unreadable = readable(changed)
    summary.note_unreadable(problems + unreadable)
    known, archived = read_known(con, [f.path for f in changed] + gone)
    return (*plan(changed, known, archived), found)


def _ingest(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    config: Config,
    summary: IngestSummary,
    progress: bool,
    fast: bool,
    phase: Phases,
    scan: Scan | None,
) -> list[Found] | None:
    """Load what changed; return the files found when the manifest now holds exactly them (none
    unreadable), for ingest/nochange.py's record."""
    plans, missing, found = _plan(con, root, summary, scan)
    summary.files_missing = len(missing)
    work = [p for p in plans if p.action in LOAD_ACTIONS]
    proven = found if summary.files_unreadable == 0 else None
    if not work and not missing and not settings_stale(con, config) and not _unreadable_news(con, summary):
        count_actions(plans, summary)
        return proven  # nothing to do: no transaction, nothing to publish
    load_bytes = sum(p.found.size - p.start for p in work)
    check_free_space(Path(summary.db).resolve().parent, load_bytes)
    bulk = load_bytes >= BULK_BYTES and not any(p.action == "rewritten" for p in work)
    if bulk:
        # A parallel bulk insert leaves a partial row group per thread and statement; CHECKPOINT's
        # vacuum would merge them with their full neighbours, rewriting most of what was just
        # written (1 GB: 1.2-3.8 s; 0.1 s without). A later small ingest merges them once
        # (1 GB: 1.2 + 0.7 s over two). Small ingests must vacuum: each CHECKPOINT appends a new
        # row group per table, and without vacuum every one-line ingest left a block behind.
        con.execute("SET max_vacuum_tasks = 0")
        # ... and must not leave partial row groups for a later one to merge: a parallel INSERT
        # ends each statement with one per thread, and the next one-line ingest's vacuum merged
        # them, rewriting ~40% of a 1 GB database (1.04 GB file grew to 1.46 GB, 1,695 blocks left
        # free). One thread per statement fills each row group before starting the next, across
        # statements; the read-ahead of the next batch (ingest/fast.py) still runs beside it.
        con.execute("SET threads = 1")
    load_plans(con, root, config, plans, summary, missing=missing, fast=fast, progress=progress, phase=phase)
    if bulk:
        con.execute("RESET threads")
    return proven


LOAD_ACTIONS = ("new", "grown", "rewritten", "relinked")
BULK_BYTES = 64 * 2**20  # loads this big skip CHECKPOINT's vacuum (see _ingest)


def load_plans(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    config: Config,
    plans: list[Planned],
    summary: IngestSummary,
    *,
    missing: list[Known] | None = None,
    fast: bool = True,
    progress: bool = False,
    before_commit: Callable[[], None] | None = None,
    phase: Phases | None = None,
) -> None:
    """Load these planned files (and mark `missing` ones) in ONE transaction on `con`.

    The embedded ingest and the DuckLake ingest (ingest/lake.py) both load through
    here; `before_commit` runs right before COMMIT (the lake's claim fence)."""
    phase = phase or Phases(summary)
    count_actions(plans, summary)
    outcomes = [_outcome(p) for p in plans if p.action in LOAD_ACTIONS]
    phase("plan")
    load = _Load(root, config, summary, missing or [], progress, phase, before_commit)
    try:
        load.transaction(con, outcomes, fast)
    except FastPathMismatch:
        _reset(outcomes, summary)
        load.transaction(con, outcomes, False)


def _unreadable_news(con: duckdb.DuckDBPyConnection, summary: IngestSummary) -> bool:
    """True when what could not be read differs from what the database last recorded."""
    row = con.execute("SELECT value FROM settings WHERE key = ?", [UNREADABLE_KEY]).fetchone()
    return row[0] != unreadable_json(summary) if row else summary.files_unreadable > 0


def count_actions(plans: list[Planned], summary: IngestSummary) -> None:
    """Add the plans' actions (new, grown, ...) to the summary's file counts."""
    for p in plans:
        name = f"files_{p.action}"
        setattr(summary, name, getattr(summary, name) + 1)


def _outcome(p: Planned) -> FileOutcome:
    file_id = p.known.file_id if p.known is not None else new_file_id()
    o = FileOutcome(plan=p, file_id=file_id, end=p.start, lines=p.start_line, pending=0)
    if p.action == "relinked":
        assert p.known is not None
        o.end, o.seed_key, o.legacy = p.known.ingested_bytes, p.known.run_key_at_end, p.known.legacy_key
        o.run_key_at_end = p.known.run_key_at_end
        return o
    if p.start == 0:
        o.legacy = legacy_key(first_line(p.found.path, p.found.kind))
        o.seed_key = o.legacy
    else:
        assert p.known is not None
        o.seed_key = p.known.run_key_at_end or p.known.legacy_key
    return o


def _reset(outcomes: list[FileOutcome], summary: IngestSummary) -> None:
    for o in outcomes:
        o.end, o.lines, o.pending, o.good, o.bad, o.blank = o.plan.start, o.plan.start_line, 0, 0, 0, 0
    summary.files_fast_path = summary.lines_good = summary.lines_quarantined = 0
    summary.lines_blank = summary.bytes_read = summary.values_out_of_range = 0


@dataclass
class _Load:
    root: Path
    config: Config
    summary: IngestSummary
    missing: list[Known]
    progress: bool
    phase: Phases
    before_commit: Callable[[], None] | None

    def transaction(self, con: duckdb.DuckDBPyConnection, outcomes: list[FileOutcome], fast: bool) -> None:
        _transaction(
            con,
            self.root,
            self.config,
            self.summary,
            outcomes,
            fast,
            self.missing,
            self.progress,
            self.phase,
            self.before_commit,
        )


def _transaction(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    config: Config,
    summary: IngestSummary,
    outcomes: list[FileOutcome],
    fast: bool,
    missing: list[Known],
    progress: bool,
    phase: Phases,
    before_commit: Callable[[], None] | None = None,
) -> None:
    started_at = datetime.now(UTC).replace(tzinfo=None)
    load_id = now_load_id()
    reporter = Reporter(progress, sum(o.plan.found.size - o.plan.start for o in outcomes))
    con.execute("BEGIN")
    try:
        _delete_rewritten(con, outcomes)
        phase("delete_rewritten")
        limit = config.max_line_bytes
        sink, moved = Sink(), dict[int, int]()
        fast_ids = load_fast(con, outcomes, load_id, reporter.advance, limit) if fast else set()
        phase("fast_load")
        bulk_ids = set[int]()
        if fast:  # what the reader left: checked in bulk, failing lines one by one (ingest/bulk.py)
            rest = [o for o in outcomes if o.file_id not in fast_ids]
            bulk_ids = load_bulk(con, rest, load_id, sink, reporter.advance, limit)
            phase("bulk_load")
        for o in outcomes:
            if o.file_id in fast_ids or o.file_id in bulk_ids or o.plan.action == "relinked":
                continue
            load_exact(con, o, sink, load_id, moved, config.max_line_bytes)
            reporter.advance(o.plan.found.size - o.plan.start)
        flush(con, sink, load_id, moved)
        for o in outcomes:
            o.good, o.bad = o.good - moved.get(o.file_id, 0), o.bad + moved.get(o.file_id, 0)
        phase("exact_load")
        derive_transcripts(con, load_id)
        phase("transcripts")
        bounded = bound_load(con, load_id)
        summary.values_out_of_range += sum(entry[0] for entry in bounded.values())
        newer = _record_drift(
            con, sink, load_id, headers=bool(fast_ids or bulk_ids) or sink.headers > 0, more=bounded
        )
        names = model_names(config.models)
        write_outcomes(con, outcomes, load_id, str(root.resolve()), config.path_rules, names)
        mark_missing(con, [k.file_id for k in missing])
        refresh_attributes(con, config.path_rules, names)
        refresh_prices(con, config.prices)
        refresh_models(con, names, config.in_progress_minutes)
        summarise(summary, outcomes, load_id, len(fast_ids))
        summary.lines_newer_schema = newer
        phase("manifest")
        log_ingest(con, summary, started_at, load_id)
        if before_commit is None:  # the embedded warehouse (one writer, the whole runs dir)
            record_unreadable(con, summary)
        fault_point("ingest:before_commit")
        if before_commit is not None:
            before_commit()
        con.execute("COMMIT")
        fault_point("ingest:after_commit")
        phase("commit")
    except BaseException:
        with contextlib.suppress(Exception):  # a failed COMMIT has already ended the transaction:
            con.execute("ROLLBACK")  # never let the ROLLBACK error hide the real one (disk full)
        raise


def _delete_rewritten(con: duckdb.DuckDBPyConnection, outcomes: list[FileOutcome]) -> None:
    ids = [o.file_id for o in outcomes if o.plan.action == "rewritten"]
    if ids:
        con.execute("DELETE FROM records WHERE list_contains($ids, file_id)", {"ids": ids})
        con.execute("DELETE FROM quarantine WHERE list_contains($ids, file_id)", {"ids": ids})
        delete_transcripts(con, ids)


def _record_drift(
    con: duckdb.DuckDBPyConnection,
    sink: Sink,
    load_id: int,
    *,
    headers: bool,
    more: dict[tuple[str, str], list[int]],
) -> int:
    """Record in schema_drift the top-level keys the exact path saw outside the log-format
    contract (warehouse/core/logformat.py), header dials outside it (looked for only if this load
    may hold headers), lines of a newer schema_version (key `schema_version=N`) and `more`
    (typed values out of range, ingest/bounds.py).
    Returns how many lines of this load have a newer schema_version."""
    drift = {**sink.drift, **more}
    for key, count, file_id, line_no in _unknown_dials(con, load_id) if headers else []:
        drift[(key, "header")] = [count, file_id, line_no]
    newer = _newer_schema(con, load_id)
    for key, kind, count, file_id, line_no in newer:
        drift[(key, kind)] = [count, file_id, line_no]
    for (key, kind), (count, file_id, line_no) in drift.items():
        seen = con.execute(
            "SELECT count(*) FROM schema_drift WHERE key = ? AND kind = ?", [key, kind]
        ).fetchone()
        if seen and seen[0]:
            con.execute(
                "UPDATE schema_drift SET n_lines = n_lines + ? WHERE key = ? AND kind = ?", [count, key, kind]
            )
        else:
            con.execute(
                "INSERT INTO schema_drift VALUES (?, ?, ?, ?, ?, ?)",
                [key, kind, file_id, line_no, load_id, count],
            )
    return sum(row[2] for row in newer)


def _newer_schema(con: duckdb.DuckDBPyConnection, load_id: int) -> list[tuple[str, str, int, int, int]]:
    """(schema_version=N, kind, lines, first file, first line) of this load's lines whose
    schema_version is newer than the code's: loaded as logged, flagged rather than trusted."""
    return con.execute(
        """SELECT 'schema_version=' || schema_version, kind, count(*), arg_min(file_id, line_no), min(line_no)
           FROM records WHERE load_id = $load_id AND schema_version > $code
           GROUP BY schema_version, kind""",
        {"load_id": load_id, "code": SCHEMA_VERSION},
    ).fetchall()


def _unknown_dials(con: duckdb.DuckDBPyConnection, load_id: int) -> list[tuple[str, int, int, int]]:
    """(config.dials.<name>, lines, first file, first line) of header dials the contract lacks."""
    return con.execute(
        """SELECT 'config.dials.' || k, count(*), arg_min(file_id, line_no), min(line_no)
           FROM (SELECT file_id, line_no, unnest(json_keys(dials)) AS k FROM records
                 WHERE load_id = $load_id AND kind = 'header' AND dials IS NOT NULL)
           WHERE NOT list_contains($known, k) GROUP BY k""",
        {"load_id": load_id, "known": list(DIAL_NAMES)},
    ).fetchall()
