"""`warehouse lake push`: ship an embedded warehouse's data into a lake.

The embedded published snapshot is attached read-only. Per batch of files, under the same
per-file claims as `warehouse lake ingest` (so a push and ingests never load a file twice):
- a file the lake does not know is copied (its `files` row, `records` and `quarantine` rows);
- a file the lake knows with fewer ingested bytes is replaced (its old lake rows deleted);
- a file the lake already has as far or further is left alone.
`ingest_log` rows and `schema_drift` keys the lake lacks are copied at the end. File ids are
random 62-bit numbers, so the embedded ids are kept.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from warehouse.core.errors import SchemaVersionError, UsageError
from warehouse.store.lake import connection as lake
from warehouse.store.lake.claims import Claims
from warehouse.store.lake.connection import in_transaction, retrying
from warehouse.store.lake.settings import settings_for

if TYPE_CHECKING:
    import duckdb

    from warehouse.core.config import Config

SRC = "push_src"
BATCH = 500


@dataclass
class PushReport:
    source: str
    files_copied: int = 0
    files_replaced: int = 0
    files_skipped: int = 0
    files_busy: int = 0
    records: int = 0
    quarantine: int = 0
    ingest_log: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def line(self) -> str:
        busy = f", {self.files_busy} busy (claimed by a writer)" if self.files_busy else ""
        return (
            f"pushed {self.source}: {self.files_copied} files copied, {self.files_replaced} "
            f"replaced, {self.files_skipped} already in the lake{busy}; {self.records} records,"
            f" {self.quarantine} quarantined lines, {self.ingest_log} ingest_log rows in "
            f"{self.seconds:.2f} s"
        )


def push(source: str, url: str, *, config: Config | None = None) -> PushReport:
    """Copy the embedded warehouse at `source` (its published snapshot) into the lake at url."""
    from warehouse.store.migrate import applied, code_version

    path = Path(source)
    if not path.is_file():
        raise UsageError(f"no embedded warehouse at {source}: pass --from PATH/runs.duckdb")
    settings = settings_for(url, config)
    report = PushReport(source=str(path))
    started = time.perf_counter()
    with (
        lake.open_writer(url, "warehouse lake push", config=config) as con,
        Claims(settings.conninfo, "warehouse lake push", settings.claim_lease_seconds) as claims,
    ):
        con.execute(f"ATTACH {lake._literal(str(path.resolve()))} AS {SRC} (READ_ONLY)")
        try:
            con.execute(f"USE {SRC}")
            version = max(applied(con), default=0)
        finally:
            con.execute(f"USE {lake.ALIAS}")
        if version != code_version():
            raise SchemaVersionError(
                f"{source} is at schema {version:04d}, this code at "
                f"{code_version():04d}: run 'warehouse migrate --db {source}'"
            )
        rows = con.execute(f"SELECT path FROM {SRC}.main.files ORDER BY path").fetchall()
        paths = [str(r[0]) for r in rows]
        for start in range(0, len(paths), BATCH):
            _push_batch(con, claims, paths[start : start + BATCH], report)
        retrying(lambda: in_transaction(con, lambda: _push_history(con, report)))
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _push_batch(con: duckdb.DuckDBPyConnection, claims: Claims, batch: list[str], report: PushReport) -> None:
    got = claims.claim(batch)
    report.files_busy += len(batch) - len(got)
    if not got:
        return
    try:
        mine = sorted(got)

        def body() -> None:
            counts = _copy_files(con, mine)
            claims.fence(mine)
            report.files_copied += counts[0]
            report.files_replaced += counts[1]
            report.files_skipped += counts[2]
            report.records += counts[3]
            report.quarantine += counts[4]

        retrying(lambda: in_transaction(con, body))
    finally:
        claims.release(got)


def _copy_files(con: duckdb.DuckDBPyConnection, paths: list[str]) -> tuple[int, int, int, int, int]:
    """Inside a transaction: decide per file, delete what is replaced, copy rows."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE push_plan AS
        SELECT s.file_id AS src_id, l.file_id AS lake_id,
               CASE WHEN l.file_id IS NULL THEN 'copy'
                    WHEN s.ingested_bytes > l.ingested_bytes THEN 'replace'
                    ELSE 'skip' END AS action
        FROM {SRC}.main.files AS s
        LEFT JOIN files AS l ON l.path = s.path
        WHERE list_contains($paths, s.path)""",
        {"paths": paths},
    )
    old = "SELECT lake_id FROM push_plan WHERE action = 'replace'"
    for table in ("records", "quarantine", "files"):
        con.execute(f"DELETE FROM {table} WHERE file_id IN ({old})")
    new = "SELECT src_id FROM push_plan WHERE action IN ('copy', 'replace')"
    moved = []
    for table in ("files", "records", "quarantine"):
        row = con.execute(
            f"INSERT INTO {table} BY NAME SELECT * FROM {SRC}.main.{table} WHERE file_id IN ({new})"
        ).fetchone()
        moved.append(int(row[0]) if row else 0)
    actions = dict(con.execute("SELECT action, count(*) FROM push_plan GROUP BY action").fetchall())
    return (
        int(actions.get("copy", 0)),
        int(actions.get("replace", 0)),
        int(actions.get("skip", 0)),
        moved[1],
        moved[2],
    )


def _push_history(con: duckdb.DuckDBPyConnection, report: PushReport) -> None:
    row = con.execute(
        f"INSERT INTO ingest_log BY NAME SELECT * FROM {SRC}.main.ingest_log"
        " WHERE load_id NOT IN (SELECT load_id FROM ingest_log)"
    ).fetchone()
    report.ingest_log = int(row[0]) if row else 0
    con.execute(f"""INSERT INTO schema_drift BY NAME
                    SELECT * FROM {SRC}.main.schema_drift AS s
                    WHERE NOT EXISTS (SELECT 1 FROM schema_drift AS d
                                      WHERE d.key = s.key AND d.kind = s.kind)""")
