"""`warehouse shell`: the `duckdb` shell, read-only, on the published database."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from warehouse.cli.options import config_option, db_option, resolve_db
from warehouse.core.errors import UsageError
from warehouse.store.backend import backend_for

SHELL_PACKAGE = "duckdb-cli==1.5.5"


def find_duckdb_shell(python: str | None = None, search_path: str | None = None) -> str | None:
    """The `duckdb` executable next to this Python (the venv's pip duckdb-cli), else on PATH."""
    beside = Path(python or sys.executable).parent / "duckdb"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("duckdb", path=search_path if search_path is not None else os.environ.get("PATH"))


def shell_argv(db: str, extra: tuple[str, ...], python: str | None = None) -> list[str]:
    """The argv to exec: `duckdb -readonly <db> [extra...]` (raises UsageError if impossible)."""
    if backend_for(db).is_lake:
        raise UsageError("warehouse shell opens a DuckDB file; on DuckLake use 'warehouse query'")
    if not Path(db).is_file():
        raise UsageError(f"no database at {db}: run 'warehouse ingest' first (or pass --db)")
    exe = find_duckdb_shell(python)
    if exe is None:
        raise UsageError(
            f"the duckdb shell is not installed: pip install {SHELL_PACKAGE} "
            "(the version that reads this database's storage format)"
        )
    return [exe, "-readonly", db, *extra]


@click.command("shell", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@db_option
@config_option
@click.argument("duckdb_args", nargs=-1, type=click.UNPROCESSED, metavar="[-- DUCKDB ARGS]")
def shell_command(db: str | None, config_path: str | None, duckdb_args: tuple[str, ...]) -> None:
    """Open the duckdb shell, read-only, on the published database.

    It opens the same snapshot notebooks use; ingest never waits for it, and it sees new data
    once reopened. Arguments after -- go to duckdb (e.g. -c "SQL", -csv, -json).

    \b
    Example:
      warehouse shell
      warehouse shell -- -c "select model, credited from model_ranking"
    """
    argv = shell_argv(resolve_db(db, config_path), duckdb_args)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(argv[0], argv)


def register(group: click.Group) -> None:
    group.add_to_section("look", shell_command)  # type: ignore[attr-defined]
