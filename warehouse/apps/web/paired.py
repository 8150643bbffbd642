"""The compare page's paired test: `paired_comparison` (v2, sql/views/paired_comparison_v2.sql)
computed over the snapshot's cached steps (`steps_t`) instead of the `steps_in` views.

Why a copy: the macro plans and scans the `steps_v2` view (every step of every run) on each
call, 0.35-0.9 s on 100k steps, while the page already holds the steps of its snapshot in memory.
What is the same: the scope (the macro's defaults: no duplicate runs, no runs without a model or
with model 'unknown'), the sides (model, setting_id, run_id or model@setting_id), one row per
(task_type, tau), each side's repeats averaged per item, the per-step residual weights, the two-way
(runs x items) cluster-robust variance with its strata correction, the Agresti-Caffo floor at a
0/1 rate, and the database's own statistics macros (cgm_var, cgm_df, t_crit, t_p_two_sided,
z_power, ac_diff_var). tests/test_web_paired.py checks every column equals the macro's, for
models, settings and runs, on every metric. A change to the macro's statistic must be made here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from warehouse.apps.runview import dicts

if TYPE_CHECKING:
    import duckdb

# The columns of `steps` this needs in `steps_t`, computed once when snapshot.py reads it: the
# macro's scope as a boolean (a filter on a string column of the Arrow copy is pushed into the
# Arrow scan: `model <> 'unknown'` costs 0.2-0.4 s on 100k steps), the macro's task type (an
# alias_swap run's steps are their own task) and its item and (task_type, tau) part, numbered so
# that each comparison groups and joins integers, not strings.
_TASK = "CASE WHEN run_task = 'alias_swap' THEN 'alias_swap' ELSE task_type END"
COLUMNS = f"""tau, {_TASK} AS paired_task,
       (duplicate_of IS NULL AND model IS NOT NULL AND model <> 'unknown') AS paired_scope,
       dense_rank() OVER (ORDER BY coalesce(item_id, run_key || '#' || line_no::VARCHAR)) AS paired_item,
       dense_rank() OVER (ORDER BY {_TASK}, tau) AS paired_part"""
CONF = "0.95"  # the macro's default, as the same literal (a DECIMAL in `1.0 - conf`)
_SIDE = "(model = ${s} OR setting_id = ${s} OR run_id = ${s} OR model || '@' || setting_id = ${s})"
_NO_MATCH = (
    "'paired_comparison: ''' || ${s} || ''' matches no model, setting_id, run_id"
    " or model@setting_id in scope'"
)

# The runs a side names, by each run's own model, setting_id, run_id and model@setting_id (a step
# has its run's): matching ~700 runs, not 100k steps, and joining the steps to them by run_key.
SIDE_RUNS = f"""
    SELECT run_key, is_a, is_b
    FROM (SELECT run_key, {_SIDE.format(s="a")} AS is_a, {_SIDE.format(s="b")} AS is_b FROM runs_t)
    WHERE is_a OR is_b
"""

SQL = f"""
WITH side_runs AS ({SIDE_RUNS}),
st AS MATERIALIZED (
    SELECT run_key, setting_id, paired_item AS item, paired_task AS task_type, tau, paired_part AS part,
           metric_value($m, credited, correct, witness_pass)::INT::DOUBLE AS y, is_a, is_b
    FROM steps_t JOIN side_runs USING (run_key) WHERE paired_scope
),
chk AS (
    SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM st WHERE is_a) THEN {_NO_MATCH.format(s="a")}
                WHEN NOT EXISTS (SELECT 1 FROM st WHERE is_b) THEN {_NO_MATCH.format(s="b")} END AS bad
),
sides AS (
    SELECT 'A' AS side, part, task_type, tau, item, run_key, setting_id, y FROM st WHERE is_a
    UNION ALL
    SELECT 'B', part, task_type, tau, item, run_key, setting_id, y FROM st WHERE is_b
),
counts AS (
    SELECT part, count(*) FILTER (WHERE side = 'A') AS steps_a, count(*) FILTER (WHERE side = 'B') AS steps_b
    FROM sides GROUP BY part
),
ok AS (SELECT * FROM sides WHERE y IS NOT NULL),
it AS (SELECT part, item, side, count(*) AS n, sum(y) AS k, avg(y) AS r FROM ok GROUP BY ALL),
pit AS (
    SELECT x.part, x.item, x.n AS na, x.r AS ra, y.n AS nb, y.r AS rb, x.k AS ka, y.k AS kb
    FROM it x JOIN it y ON x.part = y.part AND x.item = y.item
    WHERE x.side = 'A' AND y.side = 'B'
),
agg AS (
    SELECT part, count(*) AS n_items, avg(ra) AS mu_a, avg(rb) AS mu_b,
           count(*) FILTER (WHERE ra > rb) AS items_a_better, count(*) FILTER (WHERE ra = rb) AS items_tied,
           count(*) FILTER (WHERE ra < rb) AS items_b_better,
           sum(na) AS na, sum(nb) AS nb, sum(ka) AS ka, sum(kb) AS kb
    FROM pit GROUP BY part
),
wstep AS (
    SELECT o.*, CASE WHEN o.side = 'A' THEN 1.0 / (g.n_items * p.na) ELSE -1.0 / (g.n_items * p.nb) END AS w,
           CASE WHEN o.side = 'A' THEN g.mu_a ELSE g.mu_b END AS mu_side
    FROM ok o JOIN pit p USING (part, item) JOIN agg g USING (part)
),
cells_n AS (
    SELECT part, count(*) AS cells FROM (SELECT part, side, setting_id FROM wstep GROUP BY ALL) GROUP BY ALL
),
cell AS (SELECT part, run_key, item, sum(w * (y - mu_side)) AS e FROM wstep GROUP BY part, run_key, item),
runs_n AS (
    SELECT part, count(DISTINCT run_key) FILTER (WHERE side = 'A') AS runs_a,
           count(DISTINCT run_key) FILTER (WHERE side = 'B') AS runs_b, count(DISTINCT run_key) AS gr
    FROM ok SEMI JOIN pit USING (part, item) GROUP BY part
),
comp AS (
    SELECT g.*, r.runs_a, r.runs_b, r.gr, c.ssc, c.gc, rr.ssr, ii.ssi, k.cells,
           CASE WHEN least(r.runs_a, r.runs_b) >= 2 THEN greatest(r.gr - k.cells + 1, 1) ELSE 1 END AS gr_eff
    FROM agg g JOIN runs_n r USING (part) JOIN cells_n k USING (part)
    JOIN (SELECT part, sum(e * e) AS ssc, count(*) AS gc FROM cell GROUP BY ALL) c USING (part)
    JOIN (SELECT part, sum(s * s) AS ssr FROM (SELECT part, sum(e) AS s FROM cell GROUP BY part, run_key)
          GROUP BY ALL) rr USING (part)
    JOIN (SELECT part, sum(s * s) AS ssi FROM (SELECT part, sum(e) AS s FROM cell GROUP BY part, item)
          GROUP BY ALL) ii USING (part)
),
est AS (
    SELECT *, sqrt(CASE WHEN mu_a IN (0, 1) OR mu_b IN (0, 1) THEN greatest(v, ac_diff_var(ka, na, kb, nb))
                        ELSE v END) AS se
    FROM (SELECT *, mu_a - mu_b AS d, cgm_df(vr, gr_eff, vi, n_items, vc) AS df,
                 cgm_var(vr, gr_eff, vi, n_items, vc) AS v
          FROM (SELECT *, ssr * gr / greatest(gr - cells, 1.0) AS vr,
                       ssi * n_items / greatest(n_items - 1.0, 1.0) AS vi,
                       ssc * gc / greatest(gc - 1.0, 1.0) AS vc
                FROM comp))
),
parts AS (SELECT part, any_value(task_type) AS task_type, any_value(tau) AS tau FROM ok GROUP BY part),
out AS (
    SELECT e.*, c.steps_a, c.steps_b, p.task_type, p.tau,
           CASE WHEN se > 0 THEN t_p_two_sided(d / se, df) WHEN d = 0 THEN 1.0 ELSE 0.0 END AS p_value
    FROM est e JOIN counts c USING (part) JOIN parts p USING (part)
),
-- each statistics macro is bound once, not at each use (each costs 5-40 ms to plan)
fin AS (SELECT *, t_crit({CONF}, df) AS tc, z_power(0.8) AS zp FROM out)
SELECT CASE WHEN chk.bad IS NOT NULL THEN error(chk.bad) ELSE o.task_type END AS task_type,
       o.tau, $a AS side_a, $b AS side_b, $m AS metric, o.steps_a, o.steps_b, o.runs_a, o.runs_b,
       o.n_items, o.items_a_better, o.items_tied, o.items_b_better,
       o.mu_a AS rate_a, o.mu_b AS rate_b, o.d AS diff,
       greatest(-1.0, o.d - o.tc * o.se) AS diff_low,
       least(1.0, o.d + o.tc * o.se) AS diff_high,
       o.se, o.df, o.p_value,
       CASE WHEN o.gr_eff >= 2 THEN 'item-paired, two-way clustered (runs x items), t(df)'
            ELSE 'item-paired t over items (a side has one run: run-to-run variation not estimable)' END
           AS ci_method,
       (o.tc + o.zp) * o.se AS mde,
       CASE WHEN o.p_value >= 1.0 - {CONF} AND abs(o.d) > 0 THEN
            least(ceil(o.n_items * ((o.tc + o.zp) * o.se / abs(o.d)) ^ 2), 1e12)::BIGINT END
           AS n_items_needed
FROM chk LEFT JOIN fin o ON true
WHERE chk.bad IS NOT NULL OR o.part IS NOT NULL
ORDER BY o.task_type, o.tau NULLS LAST
"""


def paired_test(con: duckdb.DuckDBPyConnection, a: str, b: str, metric: str) -> list[dict[str, Any]]:
    """`SELECT * FROM paired_comparison(a, b, metric := metric)` over `steps_t`, one row per
    (task_type, tau), ordered by them; a side that matches no step raises the macro's error."""
    return dicts(con.execute(SQL, {"a": a, "b": b, "m": metric}))
