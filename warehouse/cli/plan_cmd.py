"""`warehouse plan-next`: write the sweep plan that would settle the open questions."""

from __future__ import annotations

from pathlib import Path

import click

from warehouse.cli.options import config_option, db_option, resolve_db, scope_options


@click.command("plan-next")
@db_option
@config_option
@scope_options
@click.option(
    "--out", default="-", show_default=True, metavar="TOML", help="Where to write the plan (- = stdout)."
)
@click.option("--name", default="next", show_default=True, help="Plan name (logs go to <runs>/<name>/).")
@click.option(
    "--margin", default=None, type=float, help="Non-inferiority margin (default [stats] margin, else 0.03)."
)
@click.option("--min-steps", default=30, show_default=True, type=int, help="Settings below this are thin.")
def plan_next_command(
    db: str | None,
    config_path: str | None,
    campaign: str | None,
    since: str | None,
    until: str | None,
    where: str | None,
    out: str,
    name: str,
    margin: float | None,
    min_steps: int,
) -> None:
    """Write a sweep plan with the runs that would settle open questions.

    Ties for best (several could-be-best settings, or a recommendation that needs more
    data), inconclusive dial effects and thin settings each add seeds of the settings
    involved, as many as the statistics say would decide (capped at 8 a setting). The
    plan is the runner's own TOML: `warehouse sweep PLAN` runs it as is.

    \b
    Example:
      warehouse plan-next --out runs/next.toml && warehouse sweep runs/next.toml --dry-run
      warehouse plan-next --campaign exp --margin 0.05
    """
    from warehouse.apps.analysis import margin_from
    from warehouse.apps.plan_next import build_plan
    from warehouse.apps.scope import resolve
    from warehouse.core.config import load_config
    from warehouse.core.errors import UsageError
    from warehouse.store.db import open_reader

    if min_steps < 1:
        raise UsageError("--min-steps must be at least 1")
    margin = margin_from(load_config(config_path).raw) if margin is None else margin
    path = resolve_db(db, config_path)
    scope = resolve(path, campaign, since, until, where)
    con = open_reader(path)
    try:
        text = build_plan(con, scope, margin, min_steps, name)
    finally:
        con.close()
    if not text:
        click.echo("plan-next: no open question in this scope; nothing to run", err=True)
        return
    if out == "-":
        click.echo(text, nl=False)
        return
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    stages = text.count("[[stages]]")
    click.echo(
        f"wrote {target}: {stages} setting(s) to run again; try: warehouse sweep {target} --dry-run", err=True
    )


def register(group: click.Group) -> None:
    group.add_to_section("look", plan_next_command)  # type: ignore[attr-defined]
