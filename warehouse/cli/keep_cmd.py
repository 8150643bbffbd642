"""Keep section: export, report, archive, restore."""

from __future__ import annotations

import json
from pathlib import Path

import click

from warehouse.cli.options import db_option, json_option, resolve_db, scope_options
from warehouse.core.config import load_config


def _say(message: str) -> None:
    click.echo(message, err=True)


def _runs(runs_dir: str | None) -> Path:
    return Path(runs_dir or load_config().runs_dir)


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet", "both"]),
    default="both",
    show_default=True,
    help="csv = <view>.csv.gz, parquet = <view>.parquet.",
)
@click.option(
    "--views",
    default=None,
    metavar="A,B",
    help="Comma-separated views (default: steps, runs_summary, model_ranking, "
    "by_model_steps, by_model_runs, best_settings).",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Output directory (default: <runs>/_aggregated).",
)
@click.option(
    "--partition-by",
    type=click.Choice(["model", "date"]),
    default=None,
    help="Write the steps Parquet as a Hive-partitioned directory steps_by_<key>/.",
)
@json_option("Print what was written as JSON.")
@db_option
@scope_options
def export_command(
    fmt: str,
    views: str | None,
    out_dir: str | None,
    partition_by: str | None,
    as_json: bool,
    db: str | None,
    campaign: str | None,
    since: str | None,
    until: str | None,
    where: str | None,
) -> None:
    """Export views as CSV.gz and/or Parquet, straight from DuckDB.

    Each file streams out of DuckDB (COPY … TO) under a temp name and is renamed into place
    when complete, so readers never see a half-written file. Prints one line per file:
    path, rows, bytes.

    \b
    Example:
      warehouse export
      warehouse export --format parquet --views steps,model_ranking --partition-by model
      warehouse export --campaign exp --since 2026-01-01   # steps, runs and statistics of one scope
      duckdb -c "select * from 'runs/_aggregated/model_ranking.parquet'"
    """
    from warehouse.apps.export import timed_export
    from warehouse.apps.scope import resolve

    scope = resolve(resolve_db(db), campaign, since, until, where)
    formats = ("csv", "parquet") if fmt == "both" else (fmt,)
    wanted = [v.strip() for v in views.split(",") if v.strip()] if views else None
    out = Path(out_dir) if out_dir else _runs(None) / "_aggregated"
    done, seconds = timed_export(resolve_db(db), out, wanted, formats, partition_by, scope)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "view": e.view,
                        "format": e.format,
                        "path": str(e.path),
                        "rows": e.rows,
                        "bytes": e.bytes,
                    }
                    for e in done
                ]
            )
        )
    else:
        for e in done:
            click.echo(f"{e.path}\t{e.rows}\t{e.bytes}")
    _say(f"exported {len({e.view for e in done})} view(s) to {out} in {seconds:.1f}s")


@click.command("report")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Output directory (default: <runs>/_aggregated/plots).",
)
@json_option("Print files and findings as JSON.")
@db_option
@scope_options
def report_command(
    out_dir: str | None,
    as_json: bool,
    db: str | None,
    campaign: str | None,
    since: str | None,
    until: str | None,
    where: str | None,
) -> None:
    """Write INSIGHTS.md and a self-contained INSIGHTS.html with plots.

    Model ranking with intervals and tie groups, witness vs credited, credited by cards
    budget and self-consistency, cost/latency Pareto frontier, best and recommended
    settings, data health. A comparison is stated as a finding only when its 95% interval
    excludes no effect; otherwise it is labelled inconclusive with its n.

    \b
    Example:
      warehouse report
      warehouse report --campaign exp --since 2026-01-01
      xdg-open runs/_aggregated/plots/INSIGHTS.html
    """
    from warehouse.apps.report import build_report
    from warehouse.apps.scope import resolve

    out = Path(out_dir) if out_dir else _runs(None) / "_aggregated" / "plots"
    scope = resolve(resolve_db(db), campaign, since, until, where)
    result = build_report(resolve_db(db), out, scope)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "markdown": str(result.markdown),
                    "html": str(result.html),
                    "images": [str(p) for p in result.images],
                    "findings": [
                        {
                            "topic": f.topic,
                            "label": f.label,
                            "text": f.text,
                            "n": f.n,
                            "estimate": f.estimate,
                            "low": f.low,
                            "high": f.high,
                        }
                        for f in result.findings
                    ],
                }
            )
        )
    else:
        click.echo(str(result.markdown))
        click.echo(str(result.html))
    _say(
        f"{len(result.stated)} finding(s), {len(result.inconclusive)} inconclusive; "
        f"wrote {out} in {result.seconds:.1f}s"
    )


@click.command("archive")
@click.option(
    "--runs-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Runs directory whose logs to archive (default: runs).",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where archives go (default: <runs-dir>/_archive).",
)
@click.option(
    "--min-age-minutes",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Only files not modified for this long.",
)
@click.option("--dry-run", is_flag=True, help="List what would be archived or skipped, and why.")
@json_option("Print the result as JSON.")
@db_option
def archive_command(
    runs_dir: str | None,
    out_dir: str | None,
    min_age_minutes: float,
    dry_run: bool,
    as_json: bool,
    db: str | None,
) -> None:
    """Move old, fully ingested raw logs into a verified tar.gz.

    Only files whose every line is in the database, unchanged since, and older than
    --min-age-minutes are taken. The archive (MANIFEST.json first, plus a sidecar
    manifest with the whole-archive sha256) is re-read end to end and every original is
    re-hashed before any original is deleted; any mismatch deletes nothing. Rows stay
    queryable; their files.path becomes archive://<archive>/<member>.

    \b
    Example:
      warehouse archive --min-age-minutes 10 --dry-run
      warehouse archive --min-age-minutes 10
    """
    from warehouse.apps.archive import run_archive

    runs = _runs(runs_dir)
    out = Path(out_dir) if out_dir else runs / "_archive"
    result = run_archive(resolve_db(db), runs, out, min_age_minutes, dry_run, _say)
    decisions = result.plan.decisions
    if as_json:
        click.echo(
            json.dumps(
                {
                    "dry_run": dry_run,
                    "archive": str(result.archive) if result.archive else None,
                    "archive_sha256": result.archive_sha256,
                    "archive_bytes": result.archive_bytes,
                    "files": [d.__dict__ for d in decisions],
                    "reconciled": result.reconciled,
                    "seconds": round(result.seconds, 3),
                }
            )
        )
        return
    for d in decisions:
        click.echo(
            "\t".join(
                [
                    d.action if not dry_run or d.action == "skip" else "would-archive",
                    d.name,
                    str(d.size),
                    d.reason,
                ]
            ).rstrip("\t")
        )
    archived = [d for d in decisions if d.action == "archive"]
    if result.archive:
        _say(
            f"archived {len(archived)} file(s) into {result.archive} ({result.archive_bytes} bytes,"
            f" sha256 {result.archive_sha256}) in {result.seconds:.2f}s; originals deleted"
        )
    elif dry_run:
        _say(
            f"dry run: would archive {len(archived)} file(s), "
            f"{sum(d.size for d in archived)} bytes; skip {len(decisions) - len(archived)}"
        )
    else:
        _say("nothing to archive")


@click.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False))
@click.argument("members", nargs=-1)
@click.option(
    "--to",
    "target",
    type=click.Path(file_okay=False),
    required=True,
    help="Directory to restore into (files are never overwritten).",
)
def restore_command(archive: str, members: tuple[str, ...], target: str) -> None:
    """Restore archived raw logs, byte-identical (sha256-checked).

    MEMBER is a path inside the archive (as in its manifest) or an archive:// URI from
    files.path; none means all. Refuses, before writing anything, an archive with any
    member that is not a plain regular file or would land outside --to. Restored into the
    runs directory, the next ingest re-links them to their rows (no duplicates).

    \b
    Example:
      warehouse restore runs/_archive/logs_20250101T000000Z_a1b2c3.tar.gz \\
          exp/run1.jsonl --to /tmp/restored
    """
    from warehouse.apps.restore import restore

    path = Path(archive)
    if not path.exists() and not path.is_absolute():
        candidate = Path(load_config().runs_dir) / "_archive" / archive
        path = candidate if candidate.exists() else path
    done = restore(path, list(members), Path(target))
    for item in done:
        click.echo(f"{item.path}\t{item.size}\t{item.sha256}")
    _say(f"restored {len(done)} file(s) into {target}, each sha256-verified")


def register(group: click.Group) -> None:
    for command in (export_command, report_command, archive_command, restore_command):
        group.add_to_section("keep", command)  # type: ignore[attr-defined]
