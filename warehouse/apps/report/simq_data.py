"""The report's simulator sections: learning curves, failure reasons, the token curve, top configs
and correlations, read from the views in one read-only connection (none of it is required: a
database migrated before these views existed gets empty sections)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from warehouse.apps.report.data import Row, rows
from warehouse.store.db import open_reader

if TYPE_CHECKING:
    import duckdb

    from warehouse.apps.simq.token_curve import Curve

TOP_CONFIGS = 15
Z95 = 1.959963984540054

LEARNING_SQL = """
SELECT s.model, s.n_runs_all, s.n_lauc, s.lauc_mean, s.lauc_low, s.lauc_high, s.n_stab, s.stab_mean,
       s.stab_low, s.stab_high, s.n_cls, s.cls_mean, s.cls_low, s.cls_high, s.n_onset_eligible, s.n_onset,
       s.onset_share, s.onset_share_low, s.onset_share_high, e.n_runs AS el_runs, e.n_short AS el_short,
       e.delta_mean AS el_delta, e.delta_low AS el_low, e.delta_high AS el_high,
       r.n_runs AS ret_runs, r.delta_mean AS ret_delta, r.delta_low AS ret_low, r.delta_high AS ret_high
FROM stability_pooled s
LEFT JOIN early_late_pooled e ON e.level = 'model' AND e.model = s.model
LEFT JOIN retention_pooled r ON r.level = 'model' AND r.model = s.model AND r.lag = 5
WHERE s.level = 'model'
"""
CURVES_SQL = """
SELECT model, position, n_runs, cum_credited_mean, cum_credited_low, cum_credited_high
FROM learning_curve_pooled WHERE level = 'model' ORDER BY model, position
"""
REASONS_SQL = """
SELECT model, reason, n_runs, n_runs_failing, noncredited_n, reason_n, share, share_low, share_high,
       no_snippet_quote_rate, no_snippet_quote_rate_low, no_snippet_quote_rate_high, no_snippet_alert,
       attribution_gap, attribution_gap_low, attribution_gap_high, steps_n
FROM failure_reasons_pooled WHERE level = 'model' ORDER BY model, share DESC NULLS LAST, reason
"""
TOP_SQL = """
WITH r AS (SELECT * FROM runs_summary WHERE counted AND steps_n > 0 AND coalesce(task, 'mcq') = 'mcq'),
g AS (
    SELECT model, setting_id, any_value(setting) AS setting, count(*) AS n_runs, sum(steps_n) AS n_steps,
           sum(credited_n) AS k, sum(credited_n * credited_n) AS kk, sum(credited_n * steps_n) AS km,
           sum(steps_n * steps_n) AS mm, avg(witness_final) AS witness, avg(acc_final) AS acc,
           any_value(fact_cards_budget) AS budget, any_value(self_consistency_n) AS sc,
           avg(tokens_per_step) AS tokens_per_step, avg(mean_step_seconds) AS seconds_per_step
    FROM r GROUP BY model, setting_id
)
SELECT model, setting, n_runs, n_steps::BIGINT AS n_steps, k / n_steps AS credited,
       greatest(0.0, k / n_steps - cluster_ratio_half(k, n_steps, kk, km, mm, n_runs)) AS credited_low,
       least(1.0, k / n_steps + cluster_ratio_half(k, n_steps, kk, km, mm, n_runs)) AS credited_high,
       witness, acc, budget, sc, tokens_per_step, seconds_per_step
FROM g
ORDER BY coalesce(credited_low, -1) DESC, credited DESC, n_steps DESC, model
LIMIT ?
"""
# Within-model run-level correlations with credited_final (pooling models would mostly measure
# which model is better). witness_final is left out: credit requires a passing witness.
CORR_SQL = """
WITH r AS (
    SELECT s.model, s.credited_final, s.tokens_per_step, s.mean_step_seconds, t.talk_ratio
    FROM runs_summary s LEFT JOIN talk t USING (run_key)
    WHERE s.counted AND s.steps_n > 0 AND coalesce(s.task, 'mcq') = 'mcq'
),
long AS (
    SELECT model, 'tokens per step' AS x, tokens_per_step AS v, credited_final AS y FROM r
    UNION ALL SELECT model, 'seconds per step', mean_step_seconds, credited_final FROM r
    UNION ALL SELECT model, 'tutor talk ratio', talk_ratio, credited_final FROM r
)
SELECT model, x, count(*) FILTER (WHERE v IS NOT NULL AND y IS NOT NULL) AS n,
       CASE WHEN count(*) FILTER (WHERE v IS NOT NULL AND y IS NOT NULL) >= 4 THEN corr(v, y) END AS r
FROM long GROUP BY model, x ORDER BY model, x
"""


@dataclass
class SimqData:
    learning: list[Row] = field(default_factory=list)
    curves: list[Row] = field(default_factory=list)
    reasons: list[Row] = field(default_factory=list)
    top_configs: list[Row] = field(default_factory=list)
    correlations: list[Row] = field(default_factory=list)
    rag: list[Row] = field(default_factory=list)
    token_curves: list[Curve] = field(default_factory=list)
    token_note: str = ""


def _have(con: duckdb.DuckDBPyConnection, *views: str) -> bool:
    names = {r["view_name"] for r in rows(con, "SELECT view_name FROM duckdb_views() WHERE NOT internal")}
    return all(v in names for v in views)


def fisher(r: float | None, n: int) -> tuple[float | None, float | None]:
    """95% Fisher-z interval of a Pearson r over n pairs (None below 4 pairs or at |r| = 1)."""
    if r is None or n < 4 or abs(r) >= 1 or math.isnan(r):
        return None, None
    z, half = math.atanh(r), Z95 / math.sqrt(n - 3)
    return math.tanh(z - half), math.tanh(z + half)


def _token_curves(con: duckdb.DuckDBPyConnection, data: SimqData) -> None:
    try:
        from warehouse.apps.simq.token_curve import fit_all
    except ImportError:  # pragma: no cover - the module itself always imports
        return
    from warehouse.core.errors import UsageError

    try:
        data.token_curves = fit_all(con)
    except UsageError as e:  # statsmodels missing: say so instead of drawing nothing
        data.token_note = str(e)


def load_simq(db: str | os.PathLike[str]) -> SimqData:
    con = open_reader(db)
    data = SimqData()
    try:
        if not _have(con, "stability_pooled", "failure_reasons_pooled", "learning_curve_pooled", "talk"):
            return data
        data.learning = rows(con, LEARNING_SQL)
        data.curves = rows(con, CURVES_SQL)
        data.reasons = rows(con, REASONS_SQL)
        data.top_configs = rows(con, TOP_SQL, [TOP_CONFIGS])
        data.rag = rows(con, "SELECT * FROM rag_delta ORDER BY model, match_key")
        for c in rows(con, CORR_SQL):
            if c["r"] is None or math.isnan(c["r"]):  # too few runs, or a constant quantity
                continue
            c["low"], c["high"] = fisher(c["r"], int(c["n"]))
            data.correlations.append(c)
        _token_curves(con, data)
    finally:
        con.close()
    return data
