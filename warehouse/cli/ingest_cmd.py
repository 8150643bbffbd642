"""`warehouse ingest` and `warehouse migrate`: the commands that write the database."""

from __future__ import annotations

import json

import click

from warehouse.cli.options import config_option, db_option, json_option, resolve_db
from warehouse.store.backend import backend_for


@click.command("ingest")
@click.argument("runs_dir", required=False, metavar="[RUNS_DIR]")
@db_option
@config_option
@json_option("Print the summary as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress or summary on stderr.")
@click.option(
    "--watch",
    is_flag=True,
    help="Keep the database current: ingest now and after every burst of changes, until Ctrl-C "
    "or SIGTERM (exit 0). A failed round is one line on stderr and is retried.",
)
@click.option(
    "--exact-only",
    is_flag=True,
    hidden=True,
    help="Read every file with the exact line reader (no DuckDB fast path).",
)
def ingest_command(
    runs_dir: str | None,
    db: str | None,
    config_path: str | None,
    as_json: bool,
    quiet: bool,
    watch: bool,
    exact_only: bool,
) -> None:
    """Load new, grown and rewritten run logs into the database.

    A no-op when nothing changed. Reads *.jsonl, *.jsonl.recovered and *.jsonl.gz under RUNS_DIR
    (default: runs/), skipping _aggregated/, _archive/ and _catalog/. Bad lines go to the
    `quarantine` table, a line still being written is picked up once complete, and the whole
    ingest commits at once. Other harnesses' results are imported as runs too: Inspect AI logs
    (.eval, .json), promptfoo results (.json) and lm-evaluation-harness samples
    (samples_*.jsonl), recognised by their content (docs/importers.md).

    With --watch it keeps running: each burst of changes under RUNS_DIR (inotify) is one more
    ingest, published within about a second; --json prints one line per round that changed
    something.

    \b
    Example:
      warehouse ingest runs/ --db runs/runs.duckdb
      warehouse ingest --json | jq .lines_good
      warehouse ingest runs/ --watch
    """
    from ingest import ingest_runs
    from warehouse.core.config import load_config
    from warehouse.core.nopandas import hide_pandas

    hide_pandas()
    config = load_config(config_path)
    if watch:
        from warehouse.cli.watch_output import watch_command

        watch_command(
            runs_dir or config.runs_dir, db or config.db, config_path, as_json, quiet, not exact_only
        )
        return
    summary = ingest_runs(
        runs_dir or config.runs_dir, db or config.db, config=config, progress=not quiet, fast=not exact_only
    )
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    if not quiet:
        if summary.files_skipped:
            click.echo(
                f"skipped {summary.files_skipped} non-log file(s) or link(s), e.g. "
                f"{', '.join(summary.skipped_examples[:3])}",
                err=True,
            )
        click.echo(f"ingest: {summary.line()}", err=True)
        _warn_unattributed(db or config.db, summary.load_id)
        _warn_not_runs(db or config.db, summary.load_id)
    elif summary.lines_newer_schema:  # a warning, not talk: --quiet still says it
        click.echo(f"ingest: {summary.newer_schema_note()}", err=True)


def _warn_unattributed(db: str, load_id: int | None) -> None:
    """How many runs of this ingest have no model, examples, and a rule to paste."""
    from ingest.attribution import rule_snippet, unattributed_files
    from warehouse.store.db import open_reader

    if load_id is None:
        return
    con = open_reader(db)
    try:
        files = unattributed_files(con, load_id)
    finally:
        con.close()
    if not files:
        return
    click.echo(
        f"{len(files)} log file(s) hold runs with no model (not ranked until named), e.g. "
        f"{', '.join(files[:3])}. Name them in warehouse.toml, then ingest again:",
        err=True,
    )
    click.echo(rule_snippet(files), err=True)


def _warn_not_runs(db: str, load_id: int | None) -> None:
    """JSONL files of this ingest that hold no run (e.g. a cards file): skipped, with why."""
    from warehouse.store.db import open_reader

    if load_id is None:
        return
    con = open_reader(db)
    try:
        rows = con.execute(
            "SELECT n.relpath, n.reason FROM not_runs n JOIN files f USING (file_id)"
            " WHERE f.last_load_id = ? ORDER BY n.relpath",
            [load_id],
        ).fetchall()
    finally:
        con.close()
    for relpath, reason in rows[:5]:
        click.echo(f"skipped {relpath}: not a run log ({reason})", err=True)
    if len(rows) > 5:
        click.echo(f"... and {len(rows) - 5} more: select * from not_runs", err=True)


@click.command("migrate")
@db_option
@config_option
@click.option("--list", "list_only", is_flag=True, help="List applied and pending migrations only.")
@click.option(
    "--repair",
    is_flag=True,
    help="Record this code's checksums for applied migrations whose statements changed, after "
    "checking the tables match and re-applying the view and macro definitions.",
)
def migrate_command(db: str | None, config_path: str | None, list_only: bool, repair: bool) -> None:
    """Upgrade the database schema and views to this runs-warehouse.

    A database that applied a migration whose statements have changed since is refused when
    opened; --repair checks it (tables must match what the migrations build; views and macros
    get the code's definitions again) and then records the code's checksums.

    \b
    Example:
      warehouse migrate --list
      warehouse migrate --db runs/runs.duckdb
      warehouse migrate --repair
    """
    from warehouse.store.db import open_reader, open_writer
    from warehouse.store.migrate import applied, available, mismatched

    path = resolve_db(db, config_path)
    if backend_for(path).is_lake and not list_only:
        from warehouse.core.config import load_config
        from warehouse.store.lake.connection import migrate_lake

        done = migrate_lake(path, config=load_config(config_path), repair=repair)
        click.echo(f"lake: applied {', '.join(done) if done else 'nothing (up to date)'}", err=True)
        return
    if list_only:
        con = open_reader(path, check_schema=False)
        try:
            applied_ids, differs = set(applied(con)), {m.number for m, _ in mismatched(con)}
        finally:
            con.close()
        for m in available():
            state = "pending" if m.number not in applied_ids else "applied"
            state += " (changed since: run --repair)" if m.number in differs else ""
            click.echo(f"{m.label}\t{state}")
        return
    changed = _changed(path) if repair else []
    with open_writer(path, "warehouse migrate", repair=repair):
        pass
    if changed:
        click.echo(f"{path}: recorded this code's checksums of {', '.join(changed)}", err=True)
    click.echo(f"{path}: schema up to date", err=True)


def _changed(path: str) -> list[str]:
    """Labels of the applied migrations whose checksum --repair will rewrite."""
    from pathlib import Path

    from warehouse.store.db import open_reader
    from warehouse.store.migrate import mismatched

    if not Path(path).exists():
        return []
    con = open_reader(path, check_schema=False)
    try:
        return [m.label for m, _ in mismatched(con)]
    finally:
        con.close()


def register(group: click.Group) -> None:
    group.add_to_section("load", ingest_command)  # type: ignore[attr-defined]
    group.add_to_section("keep", migrate_command)  # type: ignore[attr-defined]
