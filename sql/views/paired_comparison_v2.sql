-- paired_comparison v2: two models or settings on the same items, repeats aggregated per item first, with a run- and item-clustered paired test
-- Table macro: SELECT * FROM paired_comparison('model-a', 'model-b')                 (credited)
--              SELECT * FROM paired_comparison('3f2a9c01de', 'a81b22c3f0', metric := 'correct',
--                                              campaign := 'exp', since := '2026-01-01')
-- A side matches steps whose model, setting_id, run_id or 'model@setting_id' equals the argument;
--   a side that matches no step in the scope is an error naming it, and so is an unknown metric.
--   Runs without a model are left out. One row per (task_type, tau) both sides ran: never pooled.
-- Pairing (and why): an item often recurs (several runs, settings or seeds per side). Pairing
--   occurrences one by one would count one item many times as independent evidence, so each
--   side's repeats are first averaged per item: a_i, b_i. n_items = items both sides answered;
--   rate_a / rate_b = mean over those items of a_i / b_i; diff = rate_a - rate_b.
--   items_a_better / items_tied / items_b_better compare a_i with b_i item by item.
-- Method: diff is a weighted sum of per-step residuals (against each side's mean: where each item
--   fell among a side's settings is random too); its variance is two-way cluster-robust over
--   runs and items (stats_macros v2): the item part is the paired-t variance of a_i - b_i, the run
--   part adds run-to-run variation when both sides have >= 2 runs. With one run a side (one step
--   per item) it is the plain paired t test over items. diff_low/high: diff +- t(df) * se;
--   p_value: two-sided t test. At a 0/1 rate the Agresti-Caffo variance is a floor.
-- mde: the difference detectable at 80% power with these items; n_items_needed: items (same
--   repeats per item) that would detect the observed diff at 80% power, when inconclusive.
-- paired_models v2 (view): the same, default metric and scope, for every pair of models (model_a < model_b).

CREATE OR REPLACE MACRO _paired_v2(a, b, metric, campaign, since, until, runs, conf, all_models) AS TABLE
WITH st AS MATERIALIZED (
    SELECT run_key, run_id, model, setting_id, coalesce(item_id, run_key || '#' || line_no::VARCHAR) AS item,
           task_type, tau, task_type || '|' || coalesce(tau::VARCHAR, '-') AS part,
           metric_value(metric, credited, correct, witness_pass)::INT::DOUBLE AS y
    FROM (SELECT * REPLACE (CASE WHEN run_task = 'alias_swap' THEN 'alias_swap' ELSE task_type END AS task_type)
          FROM steps_in_v2(campaign := campaign, since := since, until := until, runs := runs))
    WHERE model IS NOT NULL AND model <> 'unknown'
),
matched AS (
    SELECT st.*, (model = a OR setting_id = a OR run_id = a OR model || '@' || setting_id = a) AS is_a,
           (model = b OR setting_id = b OR run_id = b OR model || '@' || setting_id = b) AS is_b
    FROM st WHERE NOT all_models
),
chk AS (
    SELECT CASE WHEN all_models THEN NULL
                WHEN NOT EXISTS (SELECT 1 FROM matched WHERE is_a) THEN
                    'paired_comparison: ''' || a || ''' matches no model, setting_id, run_id or model@setting_id in scope'
                WHEN NOT EXISTS (SELECT 1 FROM matched WHERE is_b) THEN
                    'paired_comparison: ''' || b || ''' matches no model, setting_id, run_id or model@setting_id in scope'
           END AS bad
),
models AS (SELECT DISTINCT model FROM st WHERE all_models),
sides AS (
    SELECT a AS pa, b AS pb, 'A' AS side, part, task_type, tau, item, run_key, setting_id, y
    FROM matched WHERE is_a
    UNION ALL
    SELECT a, b, 'B', part, task_type, tau, item, run_key, setting_id, y FROM matched WHERE is_b
    UNION ALL
    SELECT s.model, m.model, 'A', part, task_type, tau, item, run_key, setting_id, y
    FROM st s JOIN models m ON s.model < m.model WHERE all_models
    UNION ALL
    SELECT m.model, s.model, 'B', part, task_type, tau, item, run_key, setting_id, y
    FROM st s JOIN models m ON m.model < s.model WHERE all_models
),
counts AS (
    SELECT pa, pb, part, count(*) FILTER (WHERE side = 'A') AS steps_a, count(*) FILTER (WHERE side = 'B') AS steps_b
    FROM sides GROUP BY pa, pb, part
),
ok AS (SELECT * FROM sides WHERE y IS NOT NULL),
it AS (SELECT pa, pb, part, item, side, count(*) AS n, sum(y) AS k, avg(y) AS r FROM ok GROUP BY ALL),
pit AS (
    SELECT x.pa, x.pb, x.part, x.item, x.n AS na, x.r AS ra, y.n AS nb, y.r AS rb, x.k AS ka, y.k AS kb
    FROM it x JOIN it y ON x.pa = y.pa AND x.pb = y.pb AND x.part = y.part AND x.item = y.item
    WHERE x.side = 'A' AND y.side = 'B'
),
agg AS (
    SELECT pa, pb, part, count(*) AS n_items, avg(ra) AS mu_a, avg(rb) AS mu_b,
           count(*) FILTER (WHERE ra > rb) AS items_a_better, count(*) FILTER (WHERE ra = rb) AS items_tied,
           count(*) FILTER (WHERE ra < rb) AS items_b_better,
           sum(na) AS na, sum(nb) AS nb, sum(ka) AS ka, sum(kb) AS kb
    FROM pit GROUP BY pa, pb, part
),
-- each paired step's weight in diff; residuals against the side's mean (a side's items fall in
-- its settings at random, so the setting mix is part of the variance). The run part is scaled
-- G/(G-k) with k = side x setting strata (measured on known-effects corpora: residuals against
-- the setting means instead under-cover, 0.90, these 0.94)
wstep AS (
    SELECT o.*, CASE WHEN o.side = 'A' THEN 1.0 / (g.n_items * p.na) ELSE -1.0 / (g.n_items * p.nb) END AS w,
           CASE WHEN o.side = 'A' THEN g.mu_a ELSE g.mu_b END AS mu_side
    FROM ok o JOIN pit p USING (pa, pb, part, item) JOIN agg g USING (pa, pb, part)
),
strata AS (
    SELECT pa, pb, part, side, setting_id FROM wstep GROUP BY ALL
),
cells_n AS (SELECT pa, pb, part, count(*) AS cells FROM strata GROUP BY ALL),
cell AS (
    SELECT o.pa, o.pb, o.part, o.run_key, o.item, sum(o.w * (o.y - o.mu_side)) AS e,
           sum(o.w * (o.y - o.mu_side)) AS e_item
    FROM wstep o
    GROUP BY o.pa, o.pb, o.part, o.run_key, o.item
),
runs_n AS (
    SELECT pa, pb, part, count(DISTINCT run_key) FILTER (WHERE side = 'A') AS runs_a,
           count(DISTINCT run_key) FILTER (WHERE side = 'B') AS runs_b, count(DISTINCT run_key) AS gr
    FROM ok SEMI JOIN pit USING (pa, pb, part, item) GROUP BY pa, pb, part
),
comp AS (
    SELECT g.*, r.runs_a, r.runs_b, r.gr, c.ssc, c.gc, rr.ssr, ii.ssi,
           CASE WHEN least(r.runs_a, r.runs_b) >= 2 THEN greatest(r.gr - k.cells + 1, 1) ELSE 1 END AS gr_eff,
           k.cells
    FROM agg g JOIN runs_n r USING (pa, pb, part) JOIN cells_n k USING (pa, pb, part)
    JOIN (SELECT pa, pb, part, sum(e * e) AS ssc, count(*) AS gc FROM cell GROUP BY ALL) c USING (pa, pb, part)
    JOIN (SELECT pa, pb, part, sum(s * s) AS ssr
          FROM (SELECT pa, pb, part, sum(e) AS s FROM cell GROUP BY pa, pb, part, run_key) GROUP BY ALL) rr
      USING (pa, pb, part)
    JOIN (SELECT pa, pb, part, sum(s * s) AS ssi
          FROM (SELECT pa, pb, part, sum(e_item) AS s FROM cell GROUP BY pa, pb, part, item) GROUP BY ALL) ii
      USING (pa, pb, part)
),
est AS (
    SELECT *, mu_a - mu_b AS d,
           cgm_df(vr, gr_eff, vi, n_items, vc) AS df,
           sqrt(CASE WHEN mu_a IN (0, 1) OR mu_b IN (0, 1)
                     THEN greatest(cgm_var(vr, gr_eff, vi, n_items, vc), ac_diff_var(ka, na, kb, nb))
                     ELSE cgm_var(vr, gr_eff, vi, n_items, vc) END) AS se
    FROM (SELECT *, ssr * gr / greatest(gr - cells, 1.0) AS vr,
                 ssi * n_items / greatest(n_items - 1.0, 1.0) AS vi, ssc * gc / greatest(gc - 1.0, 1.0) AS vc
          FROM comp)
),
out AS (
    SELECT e.*, c.steps_a, c.steps_b, (SELECT any_value(task_type) FROM ok WHERE ok.part = e.part) AS task_type,
           (SELECT any_value(tau) FROM ok WHERE ok.part = e.part) AS tau,
           CASE WHEN se > 0 THEN t_p_two_sided(d / se, df) WHEN d = 0 THEN 1.0 ELSE 0.0 END AS p_value
    FROM est e JOIN counts c USING (pa, pb, part)
)
SELECT CASE WHEN chk.bad IS NOT NULL THEN error(chk.bad) ELSE o.task_type END AS task_type,
       o.tau, o.pa AS side_a, o.pb AS side_b, metric AS metric, o.steps_a, o.steps_b, o.runs_a, o.runs_b,
       o.n_items, o.items_a_better, o.items_tied, o.items_b_better,
       o.mu_a AS rate_a, o.mu_b AS rate_b, o.d AS diff,
       greatest(-1.0, o.d - t_crit(conf, o.df) * o.se) AS diff_low,
       least(1.0, o.d + t_crit(conf, o.df) * o.se) AS diff_high,
       o.se, o.df, o.p_value,
       CASE WHEN o.gr_eff >= 2 THEN 'item-paired, two-way clustered (runs x items), t(df)'
            ELSE 'item-paired t over items (a side has one run: run-to-run variation not estimable)' END
           AS ci_method,
       (t_crit(conf, o.df) + z_power(0.8)) * o.se AS mde,
       CASE WHEN o.p_value >= 1.0 - conf AND abs(o.d) > 0 THEN
            least(ceil(o.n_items * ((t_crit(conf, o.df) + z_power(0.8)) * o.se / abs(o.d)) ^ 2), 1e12)::BIGINT END
           AS n_items_needed
FROM chk LEFT JOIN out o ON true
WHERE chk.bad IS NOT NULL OR o.pa IS NOT NULL
ORDER BY o.pa, o.pb, o.task_type, o.tau;

CREATE OR REPLACE MACRO paired_comparison_v2(a, b, metric := 'credited', campaign := '*', since := '-infinity',
                                             until := 'infinity', runs := '*', conf := 0.95) AS TABLE
SELECT * FROM _paired_v2(a, b, metric, campaign, since, until, runs, conf, false);

CREATE OR REPLACE VIEW paired_models_v2 AS
SELECT task_type, tau, side_a AS model_a, side_b AS model_b, metric, steps_a, steps_b, runs_a, runs_b,
       n_items, items_a_better, items_tied, items_b_better, rate_a, rate_b, diff, diff_low, diff_high,
       se, df, p_value, ci_method, mde, n_items_needed
FROM _paired_v2(NULL, NULL, 'credited', '*', '-infinity', 'infinity', '*', 0.95, true);
