"""Database side of the launch commands: ingest after a sweep, a short ranking, model defaults.

Columns of the views are looked up by name at run time, so a view that gains or renames a
column (e.g. `recommended` vs `is_recommended`) does not break these commands.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from warehouse.core.errors import QueryError, one_line

RANKING_COLUMNS = (
    "rank",
    "tie_group",
    "model",
    "provider",
    "n_runs",
    "n_steps",
    "rate",
    "rate_low",
    "rate_high",
    "could_be_best",
    "acc",
    "abstain_rate",
    "tokens_per_step",
    "seconds_per_step",
)
SETTINGS_COLUMNS = (
    "model",
    "budget",
    "fact_cards_budget",
    "sc",
    "self_consistency_n",
    "idk",
    "idk_enabled",
    "best_of_n",
    "n_runs",
    "n_steps",
    "rate",
    "rate_low",
    "rate_high",
    "tokens_per_step",
    "is_best",
    "could_be_best",
    "is_recommended",
    "recommended",
)
ALIASES = {
    "fact_cards_budget": ("fact_cards_budget", "budget"),
    "self_consistency_n": ("self_consistency_n", "sc"),
    "idk_enabled": ("idk_enabled", "idk"),
}


def ingest_logs(runs_dir: str, db: str, config_path: str | None) -> dict[str, Any]:
    from ingest import ingest_runs
    from warehouse.core.config import load_config

    summary = ingest_runs(runs_dir, db, config=load_config(config_path), progress=False)
    data = summary.as_dict()
    click.echo(
        f"ingested {data.get('files_new', 0)} new and {data.get('files_grown', 0)} grown "
        f"log(s), {data.get('lines_good', 0)} lines into {db}",
        err=True,
    )
    return data


def ingest_and_rank_logs(
    logs: list[Path], runs_dir: str | None, db: str | None, config_path: str | None
) -> None:
    """`wait`'s ending, as `sweep`'s: ingest the runs directory, print the ranking of the logs' models.

    Without --runs-dir the configured one is used only when it holds every log (a log elsewhere
    would land under the wrong campaign, or nowhere)."""
    from warehouse.core.config import load_config

    config = load_config(config_path)
    root = Path(runs_dir or config.runs_dir).resolve()
    outside = [p for p in logs if not p.resolve().is_relative_to(root)]
    if outside:
        click.echo(f"not ingested: {outside[0]} is not under {root} (give --runs-dir)", err=True)
        return
    db_path = db or config.db
    ingest_logs(str(root), db_path, config_path)
    _cols, rows = view_rows(db_path, "runs", ["model", "paths"], None)
    wanted = {str(p.resolve()) for p in logs}
    models = sorted({r[0] for r in rows if r[1] and wanted & {str(Path(x).resolve()) for x in r[1]}})
    print_view(db_path, "model_ranking", RANKING_COLUMNS, models, "ranking (credited, 95% interval):")


def held_runs(db: str) -> dict[str, str]:
    """Identities (runner.identity) of the complete runs the warehouse holds -> a path to show
    (archive://... for archived runs). Empty when there is no warehouse yet."""
    import json

    from runner.identity import run_identity
    from warehouse.core.errors import WarehouseError
    from warehouse.store.db import open_reader

    if not db.startswith("ducklake:") and not Path(db).exists():
        return {}
    try:
        con = open_reader(db)
    except WarehouseError as e:
        click.echo(f"could not read {db} ({e}); only complete logs are skipped", err=True)
        return {}
    try:
        rows = con.execute(
            """SELECT student, model_raw, anon_seed, tau, planned_steps, num_options, difficulty, task,
                      dials::VARCHAR, path
               FROM runs WHERE status = 'complete' AND has_header"""
        ).fetchall()
    finally:
        con.close()
    held: dict[str, str] = {}
    for student, model, seed, tau, steps, options, difficulty, task, dials, path in rows:
        key = run_identity(
            student=student,
            model=model,
            seed=seed,
            tau=tau,
            steps=steps,
            num_options=options,
            difficulty=difficulty,
            task=task,
            dials=json.loads(dials) if dials else None,
        )
        held.setdefault(key, path)
    return held


def _columns(con: Any, view: str) -> list[str] | None:
    import duckdb

    try:
        return [d[0] for d in con.execute(f'SELECT * FROM "{view}" LIMIT 0').description]
    except duckdb.Error:
        return None


def view_rows(
    db: str, view: str, wanted: Sequence[str], models: list[str] | None, where: str = ""
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Selected columns of a view (only those it has), optionally for some models."""
    import duckdb

    from warehouse.store.db import open_reader

    con = open_reader(db)
    try:
        have = _columns(con, view)
        if have is None:
            return [], []
        cols = [c for c in wanted if c in have]
        filters = [where] if where else []
        params: list[Any] = []
        if models is not None and "model" in have:
            filters.append("list_contains(?, model)")
            params.append(models)
        sql = f"SELECT {', '.join(_q(c) for c in cols)} FROM {_q(view)}"
        sql += f" WHERE {' AND '.join(filters)}" if filters else ""
        try:
            return cols, con.execute(sql, params).fetchall()
        except duckdb.Error as e:
            raise QueryError(f"reading {view} failed: {one_line(e)}") from e
    finally:
        con.close()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def print_view(
    db: str, view: str, wanted: Sequence[str], models: list[str] | None, title: str, where: str = ""
) -> int:
    from warehouse.cli.output import write_rows

    cols, rows = view_rows(db, view, wanted, models, where)
    if not cols:
        click.echo(f"({view} is not in this database yet; skipped)", err=True)
        return 0
    click.echo(title, err=True)
    rounded = [tuple(round(v, 3) if isinstance(v, float) else v for v in row) for row in rows]
    return write_rows(cols, iter([rounded]), "table", sys.stdout)


# best_settings v2 names the metric's rate `rate*`; v1 named it `credited*`: either is read.
EVIDENCE_COLUMNS = (
    "n_steps",
    "n_runs",
    "credited",
    "credited_low",
    "credited_high",
    "rate",
    "rate_low",
    "rate_high",
    "tau",
    "task",
    "more_data_needed",
    "runs_needed",
)


def recommended_rows(db: str) -> list[dict[str, Any]]:
    """Each model's recommended settings from best_settings, keyed by dial name, with the evidence
    (n_steps, n_runs, credited and its interval, tau, task) under "evidence"."""
    from runner.defaults import DEFAULT_DIALS
    from warehouse.store.db import open_reader

    con = open_reader(db)
    try:
        have = _columns(con, "best_settings")
    finally:
        con.close()
    if have is None:
        raise QueryError("best_settings is not in this database: run 'warehouse migrate' / ingest first")
    flag = next((c for c in ("recommended", "is_recommended") if c in have), None)
    if flag is None:
        raise QueryError("best_settings has no recommended/is_recommended column")
    source = {d: next((c for c in ALIASES.get(d, (d,)) if c in have), None) for d in DEFAULT_DIALS}
    evidence = [c for c in EVIDENCE_COLUMNS if c in have]
    wanted = ["model", *[c for c in source.values() if c], *evidence]
    cols, rows = view_rows(db, "best_settings", wanted, None, where=f"{_q(flag)} AND model IS NOT NULL")
    out = []
    for row in rows:
        values = dict(zip(cols, row, strict=True))
        out.append(
            {
                "model": values["model"],
                **{d: values.get(c) for d, c in source.items() if c is not None},
                "evidence": {c: values.get(c) for c in evidence},
            }
        )
    return out


def enough_evidence(rows: list[dict[str, Any]], min_steps: int) -> list[dict[str, Any]]:
    """One row per model with at least `min_steps` steps behind it (the best supported when the
    model has several, e.g. one per τ); says on stderr which models are refused and why."""
    best: dict[str, dict[str, Any]] = {}
    for row in rows:
        n = row["evidence"].get("n_steps") or 0
        if n < min_steps:
            click.echo(
                f"refused {row['model']}: its recommended setting rests on n = {n} steps, below the "
                f"minimum {min_steps}; run more or lower --min-steps",
                err=True,
            )
            continue
        kept = best.get(row["model"])
        if kept is None or n > (kept["evidence"].get("n_steps") or 0):
            best[row["model"]] = row
    return list(best.values())


def write_defaults(rows: list[dict[str, Any]], out: str, db: str) -> None:
    from runner.defaults import render_defaults

    text = render_defaults(rows, f"best_settings in {db}")
    if out == "-":
        click.echo(text, nl=False)
        return
    path = Path(out)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    click.echo(f"wrote defaults for {len(rows)} model(s) to {path}", err=True)


def run_report_if_available(ctx: click.Context, db: str, runs_dir: str) -> None:
    """Invoke `warehouse report` when that command exists (it belongs to another module)."""
    group = ctx.find_root().command
    command = group.get_command(ctx, "report") if isinstance(group, click.Group) else None
    if command is None:
        click.echo("(warehouse report is not available yet; skipped the report)", err=True)
        return
    out = str(Path(runs_dir) / "_aggregated" / "plots")
    for args in (["--db", db, "--out-dir", out], ["--db", db], []):
        try:
            command.main(args=args, prog_name="warehouse report", standalone_mode=False)
            return
        except click.NoSuchOption:
            continue
