"""`warehouse export`: views to CSV.gz / Parquet under runs/_aggregated/, straight from DuckDB.

Each file is written by `COPY (SELECT …) TO` (DuckDB streams it; no rows pass through Python)
into `.<name>.tmp-<pid>` next to the target, then fsync'd and renamed over it, so a killed
export never leaves a half file under the final name; the next export sweeps the temp files.
View names come from an allowlist (the views that exist in the database) and are quoted.
HUGEINT columns (token totals) are exported as BIGINT so every engine reads them as integers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from warehouse.apps.scope import Scope
from warehouse.core.atomic import atomic_path, sweep_tmp
from warehouse.core.errors import UsageError
from warehouse.core.faults import fault_point
from warehouse.store.db import open_reader

if TYPE_CHECKING:
    import duckdb

# What the old aggregation scripts wrote under runs/_aggregated/, in that order.
DEFAULT_VIEWS = ("steps", "runs_summary", "model_ranking", "by_model_steps", "by_model_runs", "best_settings")
FORMATS = ("csv", "parquet")
# Hive partitioning of the steps Parquet: the key column -> the extra SELECT item it needs.
STREAM_ONLY = ("steps", "steps_v1")  # one row per step: always streamed, never staged
PARTITIONS: dict[str, str | None] = {
    "model": None,  # unattributed steps (model NULL) land in model=NULL
    "date": "CAST(coalesce(ts, run_started_at) AS DATE) AS date",
}


@dataclass(frozen=True)
class Exported:
    view: str
    format: str
    path: Path
    rows: int
    bytes: int


def available_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """User-facing views (the allowlist): every non-internal view of the main schema."""
    rows = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'"
        " AND database_name = current_database() ORDER BY view_name"
    ).fetchall()
    return [r[0] for r in rows]


def choose_views(con: duckdb.DuckDBPyConnection, wanted: Sequence[str] | None) -> list[str]:
    allowed = available_views(con)
    if not wanted:
        chosen = [v for v in DEFAULT_VIEWS if v in allowed]
        if not chosen:
            raise UsageError(
                "the database has none of the standard views: run 'warehouse ingest'"
                " (it applies the migrations) and retry"
            )
        return chosen
    unknown = [v for v in wanted if v not in allowed]
    if unknown:
        raise UsageError(f"unknown view {unknown[0]!r}; choose from: {', '.join(allowed)}")
    return list(dict.fromkeys(wanted))


# views with a scoped form: exported for the --campaign / --since / --until / --where scope
SCOPED = {
    "steps": "steps_in",
    "runs_summary": "runs_in",
    "model_ranking": "model_ranking_for",
    "best_settings": "best_settings_for",
    "dial_effects": "dial_effects_for",
}


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def relation(view: str, scope: Scope | None) -> str:
    """The view itself, or its scoped macro when a scope is given (values inlined as literals)."""
    if scope is None or scope.empty or view not in SCOPED:
        return quote_ident(view)
    args = ", ".join(
        f"{name} := {quote_literal(str(value))}"
        for name, value in zip(("campaign", "since", "until", "runs"), scope.params, strict=True)
    )
    return f"{SCOPED[view]}({args})"


def select_sql(
    con: duckdb.DuckDBPyConnection, view: str, extra: str | None = None, scope: Scope | None = None
) -> str:
    """SELECT of every column of an allowlisted view (or its scoped macro), HUGEINTs cast to BIGINT."""
    source = relation(view, scope)
    cols = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    parts = [
        f"CAST({quote_ident(c[0])} AS BIGINT) AS {quote_ident(c[0])}"
        if str(c[1]).upper() in ("HUGEINT", "UHUGEINT")
        else quote_ident(c[0])
        for c in cols
    ]
    if extra:
        parts.append(extra)
    return f"SELECT {', '.join(parts)} FROM {source}"


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path, options: str) -> int:
    row = con.execute(f"COPY ({query}) TO {quote_literal(str(target))} ({options})").fetchone()
    return int(row[0]) if row else 0


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def export_one(
    con: duckdb.DuckDBPyConnection,
    source: str,
    view: str,
    fmt: str,
    out_dir: Path,
    partition_by: str | None = None,
) -> Exported:
    """COPY `source` (a SELECT) to <out_dir>/<view>.<ext>, atomically."""
    if fmt == "csv":
        final, options = out_dir / f"{view}.csv.gz", "FORMAT csv, HEADER, COMPRESSION gzip"
    elif partition_by:
        final = out_dir / f"{view}_by_{partition_by}"
        options = f"FORMAT parquet, COMPRESSION zstd, PARTITION_BY ({quote_ident(partition_by)})"
    else:
        final, options = out_dir / f"{view}.parquet", "FORMAT parquet, COMPRESSION zstd"
    with atomic_path(final) as tmp:
        rows = _copy(con, source, tmp, options)
        fault_point("export:before-publish")
    return Exported(view, fmt, final, rows, _size(final))


def _export_view(
    con: duckdb.DuckDBPyConnection,
    view: str,
    formats: Sequence[str],
    out_dir: Path,
    partition_by: str | None,
    scope: Scope | None = None,
) -> list[Exported]:
    part = partition_by if view == "steps" else None
    extra = PARTITIONS[part] if part else None
    source = select_sql(con, view, extra, scope)
    staged = len(formats) > 1 and view not in STREAM_ONLY
    if staged:  # an aggregate view: compute it once for both formats (small, in a temp table)
        con.execute(f"CREATE OR REPLACE TEMP TABLE __export AS {source}")
        source = "SELECT * FROM temp.__export"
    try:
        return [
            export_one(
                con,
                source if not (part and fmt == "csv") else select_sql(con, view, None, scope),
                view,
                fmt,
                out_dir,
                part if fmt == "parquet" else None,
            )
            for fmt in formats
        ]
    finally:
        if staged:
            con.execute("DROP TABLE IF EXISTS temp.__export")


def export(
    db: str | os.PathLike[str],
    out_dir: Path,
    views: Sequence[str] | None = None,
    formats: Sequence[str] = FORMATS,
    partition_by: str | None = None,
    scope: Scope | None = None,
) -> list[Exported]:
    """Export the chosen views (default: the guide's set) in each format; returns what was written.

    With a scope, the scoped statistics (SCOPED) are exported for that scope only."""
    if partition_by is not None and partition_by not in PARTITIONS:
        raise UsageError(f"--partition-by must be one of {', '.join(PARTITIONS)}")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(f"--format must be csv, parquet or both, not {unknown or formats}")
    con = open_reader(db)  # first: a wrong --db creates no output folder
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        sweep_tmp(out_dir)
        con.execute("SET enable_progress_bar = false")
        done: list[Exported] = []
        for view in choose_views(con, views):
            done.extend(_export_view(con, view, formats, out_dir, partition_by, scope))
        return done
    finally:
        con.close()


def timed_export(
    db: str | os.PathLike[str],
    out_dir: Path,
    views: Sequence[str] | None,
    formats: Sequence[str],
    partition_by: str | None,
    scope: Scope | None = None,
) -> tuple[list[Exported], float]:
    start = time.perf_counter()
    done = export(db, out_dir, views, formats, partition_by, scope)
    return done, time.perf_counter() - start
