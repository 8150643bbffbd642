"""`warehouse status` and `warehouse query`: read-only looks at the published database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from warehouse.cli.options import config_option, db_option, json_option, output_options, resolve_db
from warehouse.core.logformat import SCHEMA_VERSION
from warehouse.store.backend import backend_for


@click.command("query")
@click.argument("sql")
@db_option
@config_option
@output_options
@click.option(
    "--allow-external",
    is_flag=True,
    help="Allow file and network access from SQL (off: read_text, COPY, ATTACH fail).",
)
def query_command(sql: str, db: str | None, config_path: str | None, fmt: str, allow_external: bool) -> None:
    """Run a read-only SQL query against the published database.

    The connection is read-only and, unless --allow-external, cannot read or write files.

    \b
    Example:
      warehouse query "select model, tau, rate, rate_low, rate_high from model_ranking"
      warehouse query "select count(*) from steps" --csv > n.csv
    """
    import duckdb

    from warehouse.cli.output import write_rows
    from warehouse.core.errors import QueryError, one_line
    from warehouse.store.db import open_reader

    con = open_reader(resolve_db(db, config_path), locked_down=not allow_external)
    try:
        try:
            result = con.execute(sql)
        except duckdb.Error as e:
            raise QueryError(f"query failed: {one_line(e)}") from e
        if result.description is None:
            return
        columns = [d[0] for d in result.description]
        write_rows(columns, _batches(result), fmt)
    finally:
        con.close()


def _batches(result: Any) -> Iterator[list[tuple[Any, ...]]]:
    while batch := result.fetchmany(10_000):
        yield batch


@click.command("status")
@db_option
@config_option
@json_option("Print as JSON.")
def status_command(db: str | None, config_path: str | None, as_json: bool) -> None:
    """Summarize the database: files, runs, steps, quarantine, last ingest.

    newer_schema_lines counts lines logged with a schema_version newer than this code reads:
    they are kept as logged, but their typed columns may be wrong (a warning on stderr says so).

    \b
    Example:
      warehouse status
      warehouse status --json
    """
    import json

    from warehouse.store.db import open_reader

    path = resolve_db(db, config_path)
    con = open_reader(path)
    try:
        facts = _status(con)
    finally:
        con.close()
    facts = {"db": path, **facts, **_disk(path)}
    if facts["newer_schema_lines"]:
        click.echo(
            f"warning: {facts['newer_schema_lines']} line(s) were logged with a schema_version newer than "
            f"{SCHEMA_VERSION}: kept as logged, but their typed columns may be wrong; upgrade runs-warehouse "
            "(the schema_drift table says where they start)",
            err=True,
        )
    if as_json:
        click.echo(json.dumps(facts, default=str))
        return
    for key, value in facts.items():
        click.echo(f"{key:20} {value}")


def _status(con: Any) -> dict[str, Any]:
    one = lambda sql: con.execute(sql).fetchone()[0]
    last = con.execute(
        "SELECT finished_at, seconds, lines_good, lines_quarantined FROM ingest_log"
        " ORDER BY load_id DESC LIMIT 1"
    ).fetchone()
    return {
        "files": one("SELECT count(*) FROM files WHERE status = 'present'"),
        "files_missing": one("SELECT count(*) FROM files WHERE status = 'missing'"),
        "files_archived": one("SELECT count(*) FROM files WHERE status = 'archived'"),
        "runs": one("SELECT count(*) FROM runs"),
        "runs_unattributed": one("SELECT count(*) FROM runs WHERE model IS NULL"),
        "runs_duplicate": one("SELECT count(*) FROM runs WHERE duplicate_of IS NOT NULL"),
        "not_runs": _not_runs(con),
        "step_records": one("SELECT count(*) FROM records WHERE kind = 'step'"),
        "quarantined_lines": one("SELECT count(*) FROM quarantine"),
        "new_keys_seen": one("SELECT count(*) FROM schema_drift WHERE kind <> 'value out of range'"),
        # typed values rescaled or made NULL at ingest (ingest/bounds.py); the lines keep them
        "values_out_of_range": one(
            "SELECT coalesce(sum(n_lines), 0) FROM schema_drift WHERE kind = 'value out of range'"
        ),
        "newer_schema_lines": one(f"SELECT count(*) FROM records WHERE schema_version > {SCHEMA_VERSION}"),
        "unreadable_files": _unreadable(con),
        "ingests": one("SELECT count(*) FROM ingest_log"),
        "last_ingest": f"{last[0]} ({last[1]:.2f} s, {last[2]} lines, {last[3]} quarantined)"
        if last
        else "never",
    }


def _unreadable(con: Any) -> str:
    """Files and folders the last ingest could not read (left out, tried again next time)."""
    import json

    row = con.execute("SELECT value FROM settings WHERE key = 'unreadable_last_ingest'").fetchone()
    found: dict[str, Any] = json.loads(row[0]) if row else {"count": 0, "examples": []}
    if not found["count"]:
        return "0"
    return f"{found['count']} (e.g. {'; '.join(found['examples'][:3])})"


def _not_runs(con: Any) -> str:
    """JSONL files that hold no run (never counted as runs), with the reason of the first few."""
    rows = con.execute("SELECT relpath, reason FROM not_runs ORDER BY relpath").fetchall()
    if not rows:
        return "0"
    shown = "; ".join(f"{p} ({why})" for p, why in rows[:3])
    return f"{len(rows)} skipped: {shown}" + (" ..." if len(rows) > 3 else "")


def _disk(db: str) -> dict[str, Any]:
    """Bytes on disk of the database file and of its spare copy (warehouse/store/spare.py), if any."""
    from pathlib import Path

    from warehouse.store import spare

    if backend_for(db).is_lake:
        return {}
    path = Path(db)
    copy = spare.current(path)
    return {
        "db_bytes": path.stat().st_size,
        "spare_copy_bytes": copy.stat().st_size if copy is not None and copy.exists() else 0,
    }


def register(group: click.Group) -> None:
    group.add_to_section("look", query_command)  # type: ignore[attr-defined]
    group.add_to_section("look", status_command)  # type: ignore[attr-defined]
