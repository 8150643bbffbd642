"""`warehouse view`: serve the local, read-only web view of the published database."""

from __future__ import annotations

from typing import Any

import click

from warehouse.cli.options import config_option, db_option, resolve_db
from warehouse.core.errors import UsageError


@click.command("view")
@db_option
@config_option
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, help="Port on 127.0.0.1 (default: a free one)."
)
def view_command(db: str | None, config_path: str | None, port: int) -> None:
    """Browse runs, steps, transcripts and comparisons in a local web page.

    Serves http://127.0.0.1:PORT/ (this machine only) until Ctrl-C. Read-only: it reads the
    published snapshot, so an ingest can run meanwhile; new data shows on the next page load.
    Needs the `web` extra: pip install 'runs-warehouse[web]'.

    \b
    Examples:
      warehouse view                 # prints the URL to open
      warehouse view --port 8765
    """
    try:
        from warehouse.apps.web.app import serve
    except ImportError as e:
        raise UsageError(
            f"warehouse view needs the web extra ({e.name} is missing): pip install 'runs-warehouse[web]'"
        ) from None

    def ready(url: str) -> None:
        click.echo(url)
        click.echo(f"serving {url} (read-only); Ctrl-C to stop", err=True)

    serve(resolve_db(db, config_path), port, ready)  # Ctrl-C: "aborted", exit 130


def register(group: Any) -> None:
    group.add_to_section("look", view_command)
