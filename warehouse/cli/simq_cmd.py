"""`warehouse token-curve` (credited versus tokens per step) and the model-profile hook of `defaults`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from warehouse.cli.options import config_option, db_option, output_options, resolve_db


@click.command("token-curve")
@db_option
@config_option
@output_options
@click.option(
    "--min-runs", default=6, show_default=True, type=int, help="Models with fewer runs get no fit (marked)."
)
@click.option(
    "--guardrails-out",
    default=None,
    metavar="JSON",
    help="Also write this model's band as a guardrails file for `warehouse run --guardrails`.",
)
@click.option("--model", default=None, help="The model whose band --guardrails-out writes.")
def token_curve_command(
    db: str | None,
    config_path: str | None,
    fmt: str,
    min_runs: int,
    guardrails_out: str | None,
    model: str | None,
) -> None:
    """Fit credited vs tokens per step per model into the token_curve table.

    One quasi-binomial GLM (statsmodels) per model, and per domain for models logged in several:
    each run is one point (its credited steps of its MCQ steps at its tokens per step). Writes the
    tables token_curve (optimum, 95% interval, band) and token_curve_points (the fitted curve),
    replacing what an earlier call wrote, and prints token_curve.

    \b
    Example:
      warehouse token-curve
      warehouse token-curve --model gpt-4.1 --guardrails-out runs/_aggregated/guardrails.json
    """
    from warehouse.apps.analysis import Result
    from warehouse.apps.simq.token_curve import COLUMNS, fit_all, guardrails, store
    from warehouse.cli.output import write_rows
    from warehouse.core.errors import UsageError
    from warehouse.store.db import open_writer

    if min_runs < 3:
        raise UsageError("--min-runs must be at least 3 (a curve with three parameters)")
    if (guardrails_out is None) != (model is None):
        raise UsageError("--guardrails-out and --model go together: name the model whose band to write")
    with open_writer(resolve_db(db, config_path), "warehouse token-curve") as con:
        curves = fit_all(con, min_runs)
        store(con, curves)
    if guardrails_out is not None:
        chosen = [c for c in curves if c.model == model and c.domain == "*"]
        if not chosen or chosen[0].status != "fitted":
            status = chosen[0].status if chosen else "no runs"
            raise UsageError(f"no fitted token curve for model {model!r} ({status}); nothing written")
        path = Path(guardrails_out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(guardrails(chosen[0]), indent=2) + "\n", encoding="utf-8")
        click.echo(f"wrote the band of {model} to {path}", err=True)
    write_rows(COLUMNS, Result(COLUMNS, [c.row() for c in curves]).batches(), fmt)


def with_profiles(rows: list[dict[str, Any]], db: str) -> list[dict[str, Any]]:
    """`warehouse defaults`' hook: best-settings rows with model_profiles applied, each change on stderr."""
    from warehouse.apps.simq.profiles import apply_profiles, load
    from warehouse.store.db import open_reader

    con = open_reader(db)
    try:
        profiles = load(con)
    finally:
        con.close()
    out, notes = apply_profiles(rows, profiles)
    for note in notes:
        click.echo(note, err=True)
    return out


def register(group: click.Group) -> None:
    group.add_to_section("look", token_curve_command)  # type: ignore[attr-defined]
