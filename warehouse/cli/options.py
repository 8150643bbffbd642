"""Option decorators shared by commands: each option that several commands take is declared once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from warehouse.core.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])

_DB_HELP = "Database file (default: [paths].db of warehouse.toml, else runs/runs.duckdb)."
_LAKE_HELP = (
    "Lake URL, ducklake:postgres:dbname=... host=... (default: [lake] url of "
    "warehouse.toml, else [paths] db when that is a ducklake: URL)."
)


def _db(metavar: str, help_text: str) -> Callable[[F], F]:
    def decorate(f: F) -> F:
        return click.option("--db", "db", default=None, metavar=metavar, help=help_text)(f)

    return decorate


# --db: the database a command reads or writes (a file, or a ducklake: URL for the lake commands).
db_option = _db("PATH", _DB_HELP)
lake_db_option = _db("URL", _LAKE_HELP)


def json_option(help_text: str = "Print the result as JSON on stdout.") -> Callable[[F], F]:
    """--json: the command's result as JSON on stdout (the parameter is `as_json`)."""

    def decorate(f: F) -> F:
        return click.option("--json", "as_json", is_flag=True, help=help_text)(f)

    return decorate


def config_option(f: F) -> F:
    return click.option(
        "--config",
        "config_path",
        default=None,
        metavar="TOML",
        help="warehouse.toml to use (default: $WAREHOUSE_CONFIG, else ./warehouse.toml).",
    )(f)


def output_options(f: F) -> F:
    """--json | --csv | -t/--table, handed to the command as `fmt` ("json", "csv" or "table")."""

    @functools.wraps(f)
    def with_fmt(*args: Any, as_json: bool, as_csv: bool, as_table: bool, **kwargs: Any) -> Any:
        chosen = [name for name, on in (("json", as_json), ("csv", as_csv), ("table", as_table)) if on]
        if len(chosen) > 1:
            raise UsageError("give one of --json, --csv and --table")
        return f(*args, fmt=chosen[0] if chosen else "table", **kwargs)

    decorated: Any = json_option("Output JSON (an array of objects).")(with_fmt)
    decorated = click.option("--csv", "as_csv", is_flag=True, help="Output CSV.")(decorated)
    decorated = click.option(
        "-t", "--table", "as_table", is_flag=True, help="Output an aligned table (default)."
    )(decorated)
    return decorated


def resolve_db(db: str | None, config_path: str | None = None) -> str:
    from warehouse.core.config import load_config

    return db or load_config(config_path).db


def scope_options(f: F) -> F:
    """--campaign, --since, --until, --where: limit a statistic to one scope (see warehouse.apps.scope)."""
    f = click.option(
        "--where",
        "where",
        default=None,
        metavar="PREDICATE",
        help="Only runs this SQL predicate over the runs view holds for, e.g. \"model_from = 'header'\".",
    )(f)
    f = click.option(
        "--until", "until", default=None, metavar="TIME", help="Only runs started before this time."
    )(f)
    f = click.option(
        "--since", "since", default=None, metavar="TIME", help="Only runs started at or after this time."
    )(f)
    f = click.option(
        "--campaign",
        "campaign",
        default=None,
        metavar="NAME",
        help="Only runs of this campaign (the first folder under the runs directory).",
    )(f)
    return f
