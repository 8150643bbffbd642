"""`warehouse ingest --watch`: what the watch says (ingest/watch.py does the watching)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ingest.summary import IngestSummary
from ingest.watch import Round, watch_runs


def watch_command(
    runs_dir: str, db: str, config_path: str | None, as_json: bool, quiet: bool, fast: bool
) -> None:
    """Watch until stopped: a line per round that changed something (stderr; --json: stdout) and
    per failed round (stderr, said again only when the error changes)."""
    last_error: list[str | None] = [None]

    def on_round(result: Round) -> None:
        if result.error is not None:
            if result.error != last_error[0]:
                click.echo(f"ingest --watch: error: {result.error} (still watching; retried later)", err=True)
            last_error[0] = result.error
            return
        if last_error[0] is not None and not quiet:
            click.echo("ingest --watch: the last round succeeded", err=True)
        last_error[0] = None
        assert result.summary is not None
        summary = IngestSummary(**result.summary)
        if summary.load_id is None and not summary.files_missing:
            return  # a no-op round
        if as_json:
            click.echo(json.dumps(summary.as_dict()))
        if not quiet:
            click.echo(f"ingest: {summary.line()}", err=True)
        elif summary.lines_newer_schema:
            click.echo(f"ingest: {summary.newer_schema_note()}", err=True)

    def on_start() -> None:
        if not quiet:
            click.echo(f"watching {runs_dir} for new lines (Ctrl-C to stop)", err=True)

    watch_runs(Path(runs_dir), db, config_path, on_round, fast=fast, on_start=on_start)
    if not quiet:
        click.echo("ingest --watch: stopped", err=True)
