"""`warehouse lake ...`: the shared DuckLake warehouse (PostgreSQL catalog + Parquet files)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from warehouse.cli.options import config_option, json_option, lake_db_option
from warehouse.core.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def _resolve(db: str | None, config_path: str | None) -> tuple[str, Any]:
    from warehouse.core.config import load_config
    from warehouse.store.lake.settings import is_lake_url

    config = load_config(config_path)
    raw = config.raw.get("lake", {})
    url = db or (raw.get("url") if isinstance(raw, dict) else None) or config.db
    if not url or not is_lake_url(str(url)):
        raise UsageError(
            "no lake given: pass --db 'ducklake:postgres:dbname=... host=...' or set "
            "[lake] url in warehouse.toml"
        )
    return str(url), config


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.group("lake")
def lake_group() -> None:
    """Shared warehouse on DuckLake: many machines ingest, everyone queries.

    Every other command takes the lake URL as --db too (query, status, exports).

    \b
    Example:
      warehouse lake migrate --db "ducklake:postgres:dbname=lake host=db.lan" --data-path s3://b/lake/
      warehouse lake ingest runs/ --db "ducklake:postgres:dbname=lake host=db.lan"
      warehouse query "select * from model_ranking" --db "ducklake:postgres:dbname=lake host=db.lan"
    """


@lake_group.command("migrate")
@lake_db_option
@config_option
@click.option(
    "--data-path",
    default=None,
    metavar="DIR|s3://BUCKET/PREFIX/",
    help="Where a NEW lake keeps its Parquet files (stored in the catalog; default: [lake] data_path).",
)
@click.option(
    "--repair",
    is_flag=True,
    help="Record this code's checksums for applied migrations whose statements changed, after "
    "checking the tables match and re-applying the view and macro definitions.",
)
def migrate_command(db: str | None, config_path: str | None, data_path: str | None, repair: bool) -> None:
    """Create the lake if needed and apply pending migrations.

    Run it once per upgrade, from one place: connecting never migrates a lake, and concurrent
    runs wait for each other (a PostgreSQL advisory lock).

    \b
    Example:
      warehouse lake migrate --db "ducklake:postgres:dbname=lake host=127.0.0.1" --data-path /srv/lake/
    """
    from warehouse.store.lake.connection import migrate_lake

    url, config = _resolve(db, config_path)
    done = migrate_lake(url, config=config, data_path=data_path, repair=repair)
    for name in done:
        click.echo(name)
    _say(f"lake schema up to date ({len(done)} migration(s) applied)")


@lake_group.command("ingest")
@click.argument("runs_dir", required=False, metavar="[RUNS_DIR]")
@lake_db_option
@config_option
@click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    help="Seconds to wait for files other writers hold.",
)
@click.option(
    "--batch-mb",
    type=click.FloatRange(min=0.001),
    default=16.0,
    show_default=True,
    help="Log megabytes per lake commit (the unit concurrent writers share out).",
)
@click.option("--shared-root", is_flag=True, help="RUNS_DIR is one shared filesystem other hosts ingest too.")
@json_option("Print the summary as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress or summary on stderr.")
def ingest_command(
    runs_dir: str | None,
    db: str | None,
    config_path: str | None,
    wait_seconds: float,
    batch_mb: float,
    shared_root: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Load new, grown and rewritten logs into the lake, from any machine.

    Each file is claimed in the catalog database before it is read, so concurrent ingests
    never load a file twice; a killed ingest's claims are freed when its session ends. Files
    are identified by absolute path: give each machine its own runs directory path, or pass
    --shared-root when several machines see one shared filesystem.

    \b
    Example:
      warehouse lake ingest runs/ --db "ducklake:postgres:dbname=lake host=db.lan"
    """
    from ingest.lake import ingest_lake

    url, config = _resolve(db, config_path)
    summary = ingest_lake(
        runs_dir or config.runs_dir,
        url,
        config=config,
        progress=not quiet,
        wait_seconds=wait_seconds,
        batch_bytes=int(batch_mb * 2**20),
        shared_root=shared_root,
    )
    if as_json:
        click.echo(json.dumps(summary.as_dict()))
    if not quiet:
        _say(f"lake ingest: {summary.line()}")


@lake_group.command("maintain")
@lake_db_option
@config_option
@click.option(
    "--expire-older-than",
    default="7d",
    show_default=True,
    metavar="AGE",
    help="Expire snapshots older than this (7d, 12h, 30m, 0s): no time travel before.",
)
@click.option(
    "--cleanup-older-than",
    default="1d",
    show_default=True,
    metavar="AGE",
    help="Delete unneeded and orphaned files older than this.",
)
@json_option("Print the report as JSON on stdout.")
def maintain_command(
    db: str | None, config_path: str | None, expire_older_than: str, cleanup_older_than: str, as_json: bool
) -> None:
    """Flush inlined rows, merge small files, expire snapshots, clean up.

    Safe while ingests run; one maintainer at a time. Run it from cron (e.g. nightly).

    \b
    Example:
      warehouse lake maintain --expire-older-than 7d
    """
    from warehouse.store.lake.maint import maintain, parse_duration

    url, config = _resolve(db, config_path)
    report = maintain(
        url,
        config=config,
        expire_older_than=parse_duration(expire_older_than),
        cleanup_older_than=parse_duration(cleanup_older_than),
    )
    if as_json:
        click.echo(json.dumps(report.as_dict()))
    _say(f"lake maintain: {report.line()}")


@lake_group.command("push")
@click.option(
    "--from",
    "source",
    default=None,
    metavar="PATH",
    help="Embedded warehouse to ship (default: [paths] db, else runs/runs.duckdb).",
)
@lake_db_option
@config_option
@json_option("Print the report as JSON on stdout.")
def push_command(source: str | None, db: str | None, config_path: str | None, as_json: bool) -> None:
    """Ship an embedded warehouse's files, records and history into the lake.

    Files the lake lacks are copied, files it has with less data are replaced, the rest are
    left alone; the same per-file claims as lake ingest keep it exactly-once.

    \b
    Example:
      warehouse lake push --from runs/runs.duckdb --db "ducklake:postgres:dbname=lake host=db.lan"
    """
    from warehouse.core.config import DEFAULT_DB
    from warehouse.store.lake.push import push
    from warehouse.store.lake.settings import is_lake_url

    url, config = _resolve(db, config_path)
    src = source or (config.db if not is_lake_url(config.db) else DEFAULT_DB)
    report = push(src, url, config=config)
    if as_json:
        click.echo(json.dumps(report.as_dict()))
    _say(f"lake push: {report.line()}")


@lake_group.command("claims")
@lake_db_option
@config_option
@json_option("Output JSON instead of tab-separated lines.")
def claims_command(db: str | None, config_path: str | None, as_json: bool) -> None:
    """List the files that ingests hold right now.

    live: the owner's session is alive and its lease has not expired.

    \b
    Example:
      warehouse lake claims --json
    """
    from warehouse.store.lake.claims import list_claims
    from warehouse.store.lake.settings import settings_for

    url, config = _resolve(db, config_path)
    rows = list_claims(settings_for(url, config).conninfo)
    if as_json:
        click.echo(json.dumps(rows, default=str))
        return
    for row in rows:
        click.echo("\t".join(str(row[k]) for k in ("path", "owner", "live", "claimed_at")))


def register(group: click.Group) -> None:
    group.add_to_section("keep", lake_group)  # type: ignore[attr-defined]
