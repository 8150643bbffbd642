"""Keep a lake healthy: `warehouse lake maintain`.

Steps, each its own DuckLake transaction, retried on a commit conflict (safe while ingests run):
1. settle: merge duplicate `schema_drift` rows (two writers that meet the same new key both
   insert it: DuckLake has no UNIQUE) and duplicate `settings` keys;
2. flush inlined data (small commits live in PostgreSQL until flushed to Parquet);
3. merge adjacent small Parquet files;
4. expire snapshots older than `expire_older_than` (time travel before that is given up);
5. delete files no snapshot needs any more (older than `cleanup_older_than`), and orphaned
   files older than that but at least 6 hours: an in-flight ingest's written but not yet
   committed files look orphaned, and must survive until its commit.
One maintainer at a time (a PostgreSQL advisory lock); a second one fails fast.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from warehouse.store.lake import connection as lake
from warehouse.store.lake.claims import advisory_lock
from warehouse.store.lake.connection import in_transaction, retrying
from warehouse.store.lake.settings import settings_for

if TYPE_CHECKING:
    import duckdb

    from warehouse.core.config import Config

MAINTAIN_LOCK_KEY = 0x7275_6E73_6D6E_746E  # "runsmntn"
SETTLE_LOCK_KEY = 0x7275_6E73_7374_6C65  # "runsstle"
A = lake.ALIAS
ORPHAN_MIN_AGE = timedelta(hours=6)


@dataclass
class MaintainReport:
    drift_rows_merged: int = 0
    settings_rows_merged: int = 0
    rows_flushed: int = 0
    files_merged: int = 0
    files_created: int = 0
    snapshots_expired: int = 0
    files_deleted: int = 0
    data_files_before: int = 0
    data_files_after: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def line(self) -> str:
        return (
            f"{self.rows_flushed} inlined rows flushed, {self.files_merged} files merged into "
            f"{self.files_created}, {self.snapshots_expired} snapshots expired, "
            f"{self.files_deleted} files deleted; data files {self.data_files_before} -> "
            f"{self.data_files_after}; {sum(self.seconds.values()):.2f} s"
        )


def parse_duration(text: str) -> timedelta:
    """'7d', '12h', '30m', '45s' or '0' -> timedelta."""
    from warehouse.core.errors import UsageError

    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    value = text.strip().lower()
    try:
        if value[-1:] in units:
            return timedelta(seconds=float(value[:-1]) * units[value[-1]])
        return timedelta(seconds=float(value))
    except ValueError:
        raise UsageError(f"bad duration {text!r}: use e.g. 7d, 12h, 30m, 45s") from None


def maintain(
    url: str,
    *,
    config: Config | None = None,
    expire_older_than: timedelta = timedelta(days=7),
    cleanup_older_than: timedelta = timedelta(days=1),
) -> MaintainReport:
    """Run every maintenance step once; see the module docstring."""
    settings = settings_for(url, config)
    report = MaintainReport()
    with (
        advisory_lock(settings.conninfo, MAINTAIN_LOCK_KEY, wait=False),
        lake.open_writer(url, "warehouse lake maintain", config=config) as con,
    ):
        report.data_files_before = live_data_files(con)
        _timed(report, "settle", lambda: settle(con, settings.conninfo, report))
        _timed(report, "flush", lambda: _flush(con, report))
        _timed(report, "merge", lambda: _merge(con, report))
        _timed(report, "expire", lambda: _expire(con, report, expire_older_than))
        _timed(report, "cleanup", lambda: _cleanup(con, report, cleanup_older_than))
        report.data_files_after = live_data_files(con)
    return report


def _timed(report: MaintainReport, name: str, step: object) -> None:
    assert callable(step)
    start = time.perf_counter()
    retrying(step)
    report.seconds[name] = round(time.perf_counter() - start, 3)


def live_data_files(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(
        f"SELECT count(*) FROM __ducklake_metadata_{A}.ducklake_data_file WHERE end_snapshot IS NULL"
    ).fetchone()
    return int(row[0]) if row else 0


def _flush(con: duckdb.DuckDBPyConnection, report: MaintainReport) -> None:
    row = con.execute(
        f"SELECT coalesce(sum(rows_flushed), 0) FROM ducklake_flush_inlined_data('{A}')"
    ).fetchone()
    report.rows_flushed += int(row[0]) if row else 0


def _merge(con: duckdb.DuckDBPyConnection, report: MaintainReport) -> None:
    row = con.execute(
        f"SELECT coalesce(sum(files_processed), 0), coalesce(sum(files_created), 0)"
        f" FROM ducklake_merge_adjacent_files('{A}')"
    ).fetchone()
    if row:
        report.files_merged += int(row[0])
        report.files_created += int(row[1])


def _expire(con: duckdb.DuckDBPyConnection, report: MaintainReport, older: timedelta) -> None:
    row = con.execute(
        f"SELECT count(*) FROM ducklake_expire_snapshots('{A}', older_than => now() - to_microseconds($us))",
        {"us": int(older.total_seconds() * 1e6)},
    ).fetchone()
    report.snapshots_expired += int(row[0]) if row else 0


def _cleanup(con: duckdb.DuckDBPyConnection, report: MaintainReport, older: timedelta) -> None:
    # Files no snapshot needs: safe at any age (only time travel to expired snapshots needs them).
    # Orphans (files the catalog does not list) include an ingest's files written but not yet
    # committed, so those wait at least ORPHAN_MIN_AGE whatever the option says.
    for function, age in (
        ("ducklake_cleanup_old_files", older),
        ("ducklake_delete_orphaned_files", max(older, ORPHAN_MIN_AGE)),
    ):
        row = con.execute(
            f"SELECT count(*) FROM {function}('{A}', older_than => now() - to_microseconds($us))",
            {"us": int(age.total_seconds() * 1e6)},
        ).fetchone()
        report.files_deleted += int(row[0]) if row else 0


# ---------------------------------------------------------------- settle duplicates

_DRIFT_DUPES = """
CREATE OR REPLACE TEMP TABLE drift_settled AS
SELECT key, kind, arg_min(first_file_id, first_load_id) AS first_file_id,
       arg_min(first_line_no, first_load_id) AS first_line_no, min(first_load_id) AS first_load_id,
       sum(n_lines)::BIGINT AS n_lines, count(*) AS n_rows
FROM schema_drift GROUP BY key, kind HAVING count(*) > 1"""

_SETTINGS_DUPES = """
CREATE OR REPLACE TEMP TABLE settings_settled AS
SELECT key, arg_max(value, value) AS value, count(*) AS n_rows
FROM settings GROUP BY key HAVING count(*) > 1 AND count(DISTINCT value) <= 1"""


def has_duplicates(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM schema_drift GROUP BY key, kind"
        " HAVING count(*) > 1)) + (SELECT count(*) FROM (SELECT 1 FROM settings GROUP BY key"
        " HAVING count(*) > 1 AND count(DISTINCT value) <= 1))"
    ).fetchone()
    return bool(row and row[0])


def settle(con: duckdb.DuckDBPyConnection, conninfo: str, report: MaintainReport | None = None) -> None:
    """Merge duplicate schema_drift rows and identical duplicate settings rows (one settler)."""
    if not has_duplicates(con):
        return
    with advisory_lock(conninfo, SETTLE_LOCK_KEY):
        in_transaction(con, lambda: _settle_once(con, report))


def _settle_once(con: duckdb.DuckDBPyConnection, report: MaintainReport | None) -> None:
    con.execute(_DRIFT_DUPES)
    con.execute("DELETE FROM schema_drift WHERE (key, kind) IN (SELECT key, kind FROM drift_settled)")
    con.execute("INSERT INTO schema_drift SELECT * EXCLUDE (n_rows) FROM drift_settled")
    con.execute(_SETTINGS_DUPES)
    con.execute("DELETE FROM settings WHERE key IN (SELECT key FROM settings_settled)")
    con.execute("INSERT INTO settings SELECT key, value FROM settings_settled")
    if report is not None:
        for table, attr in (
            ("drift_settled", "drift_rows_merged"),
            ("settings_settled", "settings_rows_merged"),
        ):
            row = con.execute(f"SELECT coalesce(sum(n_rows - 1), 0) FROM {table}").fetchone()
            setattr(report, attr, int(row[0]) if row else 0)
