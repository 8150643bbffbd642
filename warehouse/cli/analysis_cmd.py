"""`warehouse views`, `best-settings`, `dial-effects`, `catalog`, `compare`, `prices`.

Thin commands over warehouse.apps.analysis: each opens the published snapshot read-only (except
`prices`, a writer), runs one fixed query with bound parameters and prints rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from warehouse.cli.options import config_option, db_option, output_options, resolve_db, scope_options

if TYPE_CHECKING:
    import duckdb

    from warehouse.apps.analysis import Result
    from warehouse.apps.scope import Scope


def _emit(result: Result, fmt: str, out: str | None) -> None:
    from warehouse.cli.output import write_rows

    if out is None:
        write_rows(result.columns, result.batches(), fmt)
        return
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        n = write_rows(result.columns, result.batches(), "csv", out=f)
    click.echo(f"wrote {n} rows to {path}", err=True)


def _reader(db: str | None, config_path: str | None) -> duckdb.DuckDBPyConnection:
    from warehouse.store.db import open_reader

    return open_reader(resolve_db(db, config_path))


def scope_of(
    db: str | None,
    config_path: str | None,
    campaign: str | None,
    since: str | None,
    until: str | None,
    where: str | None,
) -> Scope:
    from warehouse.apps.scope import resolve

    return resolve(resolve_db(db, config_path), campaign, since, until, where)


metric_option = click.option(
    "--metric",
    default="credited",
    show_default=True,
    type=click.Choice(["credited", "correct", "witness"]),
    help="What counts as right.",
)


@click.command("views")
@output_options
def views_command(fmt: str) -> None:
    """List the analysis views and macros with their versions.

    Columns: name, version, latest, kind, description. Query the unversioned name
    (e.g. model_ranking) for the latest version, or a versioned one (model_ranking_v1)
    to pin it.

    \b
    Example:
      warehouse views
      warehouse views --json
    """
    from warehouse.apps.analysis import Result, list_views

    infos = list_views()
    _emit(Result(list(infos[0]._fields) if infos else [], [tuple(i) for i in infos]), fmt, None)


@click.command("best-settings")
@db_option
@config_option
@output_options
@click.option("--apples", is_flag=True, help="Only mcq + closed-book + fact cards + citations settings.")
@click.option(
    "--min-steps",
    default=30,
    show_default=True,
    type=int,
    help="Settings with fewer MCQ steps are flagged and never chosen.",
)
@click.option("--all", "all_rows", is_flag=True, help="Every setting, not just best and recommended.")
@click.option("--model", default=None, help="Only this model.")
@click.option(
    "--margin",
    default=None,
    type=float,
    help="Non-inferiority margin (absolute rate; default [stats] margin of warehouse.toml, else 0.03).",
)
@metric_option
@scope_options
@click.option("--out", default=None, metavar="CSV", help="Write CSV to this file instead of stdout.")
def best_settings_command(
    db: str | None,
    config_path: str | None,
    fmt: str,
    apples: bool,
    min_steps: int,
    all_rows: bool,
    model: str | None,
    margin: float | None,
    metric: str,
    campaign: str | None,
    since: str | None,
    until: str | None,
    where: str | None,
    out: str | None,
) -> None:
    """Best and recommended dial setting per model, task type and tau.

    Settings pool all their runs (never one lucky run); intervals are clustered by run and
    item. could_be_best marks the settings that may truly be best (Hsu MCB, 95% jointly). The
    recommended setting is the cheapest one (tokens, dollars, then seconds beyond noise)
    proven within --margin of the best; when none is, the best, with more_data_needed and
    the n that would decide.

    \b
    Example:
      warehouse best-settings --apples
      warehouse best-settings --all --model gpt-4.1
      warehouse best-settings --campaign exp --since 2026-01-01 --margin 0.05
      warehouse best-settings --out runs/_aggregated/analysis/best_settings.csv
    """
    from warehouse.apps.analysis import best_settings, margin_from
    from warehouse.core.config import load_config

    if margin is None:
        margin = margin_from(load_config(config_path).raw)
    scope = scope_of(db, config_path, campaign, since, until, where)
    con = _reader(db, config_path)
    try:
        result = best_settings(
            con,
            min_steps=min_steps,
            apples=apples,
            all_rows=all_rows,
            model=model,
            scope=scope,
            metric=metric,
            margin=margin,
        )
    finally:
        con.close()
    _emit(result, fmt, out)


@click.command("ranking")
@db_option
@config_option
@output_options
@click.option("--model", default=None, help="Only this model.")
@metric_option
@scope_options
@click.option("--out", default=None, metavar="CSV", help="Write CSV to this file instead of stdout.")
def ranking_command(
    db: str | None,
    config_path: str | None,
    fmt: str,
    model: str | None,
    metric: str,
    campaign: str | None,
    since: str | None,
    until: str | None,
    where: str | None,
    out: str | None,
) -> None:
    """Models ranked per task type and tau, with a could-be-best set.

    \b
    Example:
      warehouse ranking
      warehouse ranking --campaign exp --metric correct
      warehouse ranking --where "model_from = 'header'" --since 2026-01-01
    """
    from warehouse.apps.analysis import ranking

    scope = scope_of(db, config_path, campaign, since, until, where)
    con = _reader(db, config_path)
    try:
        result = ranking(con, scope=scope, metric=metric, model=model)
    finally:
        con.close()
    _emit(result, fmt, out)


@click.command("dial-effects")
@db_option
@config_option
@output_options
@click.option("--model", default=None, help="Only this model.")
@click.option("--dial", default=None, help="Only this dial (e.g. fact_cards_budget).")
@click.option("--significant", is_flag=True, help="Only effects significant after FDR control.")
@metric_option
@scope_options
@click.option("--out", default=None, metavar="CSV", help="Write CSV to this file instead of stdout.")
def dial_effects_command(
    db: str | None,
    config_path: str | None,
    fmt: str,
    model: str | None,
    dial: str | None,
    significant: bool,
    metric: str,
    campaign: str | None,
    since: str | None,
    until: str | None,
    where: str | None,
    out: str | None,
) -> None:
    """Effect of each dial value per model, with intervals and FDR control.

    Each value is compared with the model's most common value of that dial, only within
    groups of runs whose other dials are equal, per task type and tau. Intervals are
    clustered by run and item; q is Benjamini-Hochberg; mde and runs_needed say how much
    more data would settle an inconclusive effect.

    \b
    Example:
      warehouse dial-effects --model deepseek-ai/DeepSeek-R1
      warehouse dial-effects --dial self_consistency_n --significant
    """
    from warehouse.apps.analysis import dial_effects

    scope = scope_of(db, config_path, campaign, since, until, where)
    con = _reader(db, config_path)
    try:
        result = dial_effects(
            con, model=model, dial=dial, significant=significant, scope=scope, metric=metric
        )
    finally:
        con.close()
    _emit(result, fmt, out)


@click.command("catalog")
@db_option
@config_option
@output_options
@click.option("--limit", default=None, type=int, help="Only the newest N runs.")
@click.option("--out", default=None, metavar="CSV", help="Write CSV to this file instead of stdout.")
def catalog_command(
    db: str | None, config_path: str | None, fmt: str, limit: int | None, out: str | None
) -> None:
    """One row per run, newest first, archived runs included.

    Archived runs show their archive://... path.

    \b
    Example:
      warehouse catalog --limit 20
      warehouse catalog --out runs/_catalog/catalog.csv
    """
    from warehouse.apps.analysis import catalog

    con = _reader(db, config_path)
    try:
        result = catalog(con, limit=limit)
    finally:
        con.close()
    _emit(result, fmt, out)


@click.command("compare")
@click.argument("a")
@click.argument("b")
@db_option
@config_option
@output_options
@metric_option
@scope_options
def compare_command(
    a: str,
    b: str,
    db: str | None,
    config_path: str | None,
    fmt: str,
    metric: str,
    campaign: str | None,
    since: str | None,
    until: str | None,
    where: str | None,
) -> None:
    """Paired comparison of A and B on the same items (item-level).

    Each side's repeats of an item (runs, settings, seeds) are averaged, then the
    difference over shared items gets a 95% interval clustered by run and item (a paired
    t test over items when a side has one run). A and B are models, setting_ids, run_ids
    or model@setting_id; one that matches nothing is an error.

    \b
    Example:
      warehouse compare gpt-4.1 mistralai/Mixtral-8x7B-Instruct-v0.1
      warehouse compare 3f2a9c01de a81b22c3f0 --metric correct --campaign exp
    """
    from warehouse.apps.analysis import compare

    scope = scope_of(db, config_path, campaign, since, until, where)
    con = _reader(db, config_path)
    try:
        result = compare(con, a, b, metric, scope)
    finally:
        con.close()
    _emit(result, fmt, None)


@click.command("prices")
@db_option
@config_option
def prices_command(db: str | None, config_path: str | None) -> None:
    """Load warehouse.toml [prices] into the table the cost columns use.

    Each [prices."model"] needs input_per_mtok and output_per_mtok (USD per million tokens).

    \b
    Example:
      warehouse prices                # reads the [prices] tables of the config file
    """
    from warehouse.core.config import load_config
    from warehouse.store.db import open_writer
    from warehouse.store.prices import sync_prices

    config = load_config(config_path)
    with open_writer(resolve_db(db, config_path), "warehouse prices") as con:
        n = sync_prices(con, config.prices)
    click.echo(f"prices: {n} models from {config.source or 'built-in defaults'}", err=True)


def register(group: click.Group) -> None:
    for command in (
        views_command,
        ranking_command,
        best_settings_command,
        dial_effects_command,
        catalog_command,
        compare_command,
    ):
        group.add_to_section("look", command)  # type: ignore[attr-defined]
    group.add_to_section("load", prices_command)  # type: ignore[attr-defined]
