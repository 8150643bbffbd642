"""`warehouse models`: which models the warehouse knows, under which names, and what is unnamed."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from warehouse.cli.options import config_option, db_option, resolve_db

_MODELS = """
    SELECT model,
           CASE WHEN bool_or(model_from = 'alias') THEN 'alias'
                WHEN bool_and(model_known) THEN 'builtin' ELSE 'as_logged' END AS known,
           count(*) AS runs,
           count(duplicate_of) AS duplicates,
           string_agg(DISTINCT model_raw, ', ' ORDER BY model_raw) AS names_seen,
           string_agg(DISTINCT regexp_replace(model_from, ':.*', ''), ', '
                      ORDER BY regexp_replace(model_from, ':.*', '')) AS named_by
    FROM runs WHERE model IS NOT NULL
    GROUP BY model ORDER BY model
"""
_UNNAMED = "SELECT count(*), list(relpath ORDER BY relpath)[1:10] FROM runs WHERE model IS NULL"
COLUMNS = ("model", "known", "runs", "duplicates", "names_seen", "named_by")


@click.command("models")
@db_option
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def models_command(db: str | None, config_path: str | None, as_json: bool) -> None:
    """Models by canonical id, the names seen, and runs with no model.

    Every spelling of a known model (org/Name, org-Name, org_Name, lower case, short names such as
    mixtral or deepseek_r1) counts as one model. known: builtin (the shipped table), alias (a
    [models] entry of warehouse.toml) or as_logged (not in the table: kept as logged). named_by:
    where the name came from (header, path_rule, alias). Runs with no model are listed after the
    table, with example paths.

    \b
    Example:
      warehouse models
      warehouse models --json
    """
    from warehouse.cli.output import write_rows
    from warehouse.store.db import open_reader

    con = open_reader(resolve_db(db, config_path))
    try:
        rows = con.execute(_MODELS).fetchall()
        unnamed = con.execute(_UNNAMED).fetchone()
    finally:
        con.close()
    count, examples = (unnamed[0], unnamed[1] or []) if unnamed else (0, [])
    if as_json:
        payload: dict[str, Any] = {
            "models": [dict(zip(COLUMNS, r, strict=True)) for r in rows],
            "unattributed": {"runs": count, "examples": examples},
        }
        click.echo(json.dumps(payload))
        return
    write_rows(COLUMNS, iter([rows]), "table", sys.stdout)
    if count:
        click.echo(f"\nunattributed runs: {count} (no model; left out of statistics), e.g.")
        for path in examples:
            click.echo(f"  {path}")
        click.echo(
            "name them with a [models] alias or a [[path_rules]] rule in warehouse.toml, then ingest",
            err=True,
        )


def register(group: Any) -> None:
    group.add_to_section("look", models_command)
