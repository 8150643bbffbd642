"""Everything the insights report shows, read from the views in one read-only connection."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from warehouse.apps.report.tasks import load_tasks
from warehouse.apps.scope import ARGS, Scope
from warehouse.core.errors import UsageError
from warehouse.store.db import open_reader

if TYPE_CHECKING:
    import duckdb

Row = dict[str, Any]
REQUIRED_VIEWS = (
    "model_ranking",
    "witness_credited",
    "dial_effects",
    "pareto",
    "best_settings",
    "runs_summary",
    "runs",
    "catalog",
    "saq_points",
    "saq_drafts",
    "alias_families",
    "alias_summary",
)
# the report's sentences speak of credited (the default metric of the v2 statistics)
RATE_AS_CREDITED = "rate AS credited, rate_low AS credited_low, rate_high AS credited_high"
REPORT_DIALS = ("fact_cards_budget", "self_consistency_n")
MAX_POINTS = 20_000  # run points in the witness scatter (a sample beyond that)


@dataclass
class ReportData:
    db: str
    generated_at: str
    totals: Row = field(default_factory=dict)
    ranking: list[Row] = field(default_factory=list)
    witness: list[Row] = field(default_factory=list)
    run_points: list[Row] = field(default_factory=list)
    dials: list[Row] = field(default_factory=list)
    pareto: list[Row] = field(default_factory=list)
    settings: list[Row] = field(default_factory=list)
    latest: list[Row] = field(default_factory=list)
    health: Row = field(default_factory=dict)
    tasks: dict[str, list[Row]] = field(default_factory=dict)  # warehouse.apps.report.tasks


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[Row]:
    cursor = con.execute(sql, params or [])
    cols = [d[0] for d in cursor.description or ()]
    return [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Row:
    found = rows(con, sql, params)
    return found[0] if found else {}


def _check_views(con: duckdb.DuckDBPyConnection) -> None:
    have = {r["view_name"] for r in rows(con, "SELECT view_name FROM duckdb_views() WHERE NOT internal")}
    missing = [v for v in REQUIRED_VIEWS if v not in have]
    if missing:
        raise UsageError(
            f"the database lacks the views {', '.join(missing)}: run 'warehouse ingest'"
            " with this version (it applies the migrations), then retry"
        )


def _stage(con: duckdb.DuckDBPyConnection) -> None:
    """Compute the run-level views once (several sections read them) into temp tables."""
    con.execute("""CREATE OR REPLACE TEMP TABLE report_runs AS
        SELECT relpath, status, model, steps_logged, planned_steps, started_at FROM runs""")
    con.execute("""CREATE OR REPLACE TEMP TABLE report_summary AS
        SELECT model, run_ts, steps_n, witness_final, credited_final FROM runs_summary
        WHERE counted""")  # no duplicate re-runs, no runs without a model (listed under health)


def _totals(con: duckdb.DuckDBPyConnection) -> Row:
    return one(
        con,
        """
        SELECT count(*) AS runs, count(DISTINCT model) AS models,
               sum(steps_n)::BIGINT AS steps, min(run_ts) AS oldest, max(run_ts) AS newest
        FROM report_summary""",
    )


def _health(con: duckdb.DuckDBPyConnection) -> Row:
    return {
        "quarantined": one(con, "SELECT count(*) AS n FROM quarantine").get("n", 0),
        "quarantine_files": rows(
            con,
            """
            SELECT f.relpath, count(*) AS n, min(q.error) AS error
            FROM quarantine q LEFT JOIN files f USING (file_id)
            GROUP BY f.relpath ORDER BY n DESC, f.relpath LIMIT 8""",
        ),
        "run_status": rows(
            con, "SELECT status, count(*) AS n FROM report_runs GROUP BY status ORDER BY n DESC"
        ),
        "incomplete": one(con, "SELECT count(*) AS n FROM report_runs WHERE status <> 'complete'").get(
            "n", 0
        ),
        "incomplete_examples": rows(
            con,
            """
            SELECT relpath, status, steps_logged, planned_steps FROM report_runs WHERE status <> 'complete'
            ORDER BY started_at DESC NULLS LAST, relpath LIMIT 8""",
        ),
        "no_model": one(con, "SELECT count(*) AS n FROM report_runs WHERE model IS NULL").get("n", 0),
        "no_model_examples": rows(
            con,
            """
            SELECT relpath, steps_logged FROM report_runs WHERE model IS NULL
            ORDER BY started_at DESC NULLS LAST, relpath LIMIT 8""",
        ),
        "drift": rows(con, "SELECT key, kind, n_lines FROM schema_drift ORDER BY n_lines DESC, key LIMIT 20"),
        "files": rows(con, "SELECT status, count(*) AS n FROM files GROUP BY status ORDER BY status"),
    }


def load(db: str | os.PathLike[str], scope: Scope | None = None) -> ReportData:
    """Read every table the report needs (aggregates only; no per-step rows reach Python)."""
    scope = scope or Scope()
    con = open_reader(db)
    try:
        con.execute("SET enable_progress_bar = false")
        _check_views(con)
        _stage(con)
        data = ReportData(str(db), dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
        data.totals = _totals(con)
        data.ranking = rows(
            con,
            f"""
            SELECT r.*, r.rate AS credited, r.rate_low AS credited_low, r.rate_high AS credited_high,
                   w.rate AS witness
            FROM model_ranking_for({ARGS}) r
            LEFT JOIN model_ranking_for({ARGS}, metric := 'witness') w USING (task_type, tau, model)
            ORDER BY r.task_type, r.tau, r.rank""",
            scope.params * 2,
        )
        data.witness = rows(con, "SELECT * FROM witness_credited ORDER BY n_steps DESC, model")
        data.run_points = rows(
            con,
            f"""
            SELECT model, witness_final, credited_final, steps_n FROM report_summary
            WHERE witness_final IS NOT NULL AND credited_final IS NOT NULL
            USING SAMPLE reservoir({MAX_POINTS} ROWS) REPEATABLE (7)""",
        )
        data.dials = rows(
            con,
            f"""
            SELECT *, {RATE_AS_CREDITED} FROM dial_effects_for({ARGS}) ORDER BY model, dial,
                TRY_CAST(value AS DOUBLE) NULLS LAST, value""",
            scope.params,
        )
        data.pareto = rows(con, "SELECT * FROM pareto ORDER BY model, tokens_per_step")
        data.settings = rows(
            con,
            f"""
            SELECT *, {RATE_AS_CREDITED} FROM best_settings_for({ARGS}) WHERE is_best OR is_recommended
            ORDER BY rate DESC NULLS LAST, model""",
            scope.params,
        )
        data.latest = rows(
            con,
            """
            SELECT run_ts, model, task, budget, sc, steps_n, credited_final, witness_final,
                   status, archived, path
            FROM catalog ORDER BY run_ts DESC NULLS LAST LIMIT 12""",
        )
        data.health = _health(con)
        data.tasks = load_tasks(con)
        return data
    finally:
        con.close()
