"""Option decorators shared by commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def db_option(f: F) -> F:
    return click.option(
        "--db",
        "db",
        default=None,
        metavar="PATH",
        help="Database file (default: [paths].db of warehouse.toml, else runs/runs.duckdb).",
    )(f)


def config_option(f: F) -> F:
    return click.option(
        "--config",
        "config_path",
        default=None,
        metavar="TOML",
        help="warehouse.toml to use (default: $WAREHOUSE_CONFIG, else ./warehouse.toml).",
    )(f)


def output_options(f: F) -> F:
    f = click.option("--json", "fmt", flag_value="json", help="Output JSON (an array of objects).")(f)
    f = click.option("--csv", "fmt", flag_value="csv", help="Output CSV.")(f)
    f = click.option(
        "-t", "--table", "fmt", flag_value="table", default=True, help="Output an aligned table (default)."
    )(f)
    return f


def resolve_db(db: str | None, config_path: str | None = None) -> str:
    from warehouse.core.config import load_config

    return db or load_config(config_path).db
