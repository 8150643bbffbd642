-- model_ranking v2: models ranked per task type and tau, with run- and item-clustered intervals, a could-be-best set (Hsu MCB) and the n that would separate ties
-- Table macro model_ranking_for(campaign, since, until, runs, metric := 'credited', conf := 0.95,
--   power := 0.8); the view model_ranking is it with the defaults. Reads steps_in (the scope seam):
--   SELECT * FROM model_ranking_for(campaign := 'exp', metric := 'correct').
-- Partitioned by (task_type, tau): never pools tau values or task types. Runs without a model
--   (NULL or 'unknown') are left out. metric: credited | correct | witness; anything else is an error.
-- rate = the model's metric over its steps (all its settings pooled, weighted by steps run); its
--   variance is stratified by setting (settings are chosen, not sampled); settings whose steps are
--   all 0 or all 1 add an Agresti-Caffo variance floor (they have no residuals).
-- Method (and why): a run's steps share the run and items recur across runs and settings, so steps
--   are not independent. se/df are two-way cluster-robust (runs x items, Cameron-Gelbach-Miller,
--   see stats_macros v2); rate_low/high is the Wilson interval at the effective n = rate(1-rate)/se^2
--   with the t(df) critical value. With one step per item and one run it is plain Wilson (steps
--   really independent); ci_method says which case applied.
-- Pairwise differences: cgm_var_diff (stats_macros v2): the run-clustered variance plus the item
--   part (with the cross-term of shared items) only where positive; see stats_macros v2 for why.
-- could_be_best: Hsu's multiple comparisons with the best: the model's upper bound of
--   (model - best of the others) is >= 0 at conf jointly (one-sided t, Bonferroni over k-1 rivals).
--   The truly best model is in this set with probability >= conf; best_set_size is its resolution.
--   diff_low/high: the constrained MCB interval of (model - best of the others).
-- tie_group: walking down, a model joins the current group unless significantly worse (clustered
--   t test, p < 1 - conf) than the group's first model. p_vs_above / p_vs_best: the same test.
-- diff_vs_above, diff_above_low/high: (this model - the model above) with its clustered interval.
-- mde_vs_above: the difference to the model above detectable at `power` with this n;
--   n_needed_vs_above: steps per model that would separate the two if the observed difference
--   is real (only when inconclusive). acc, abstain_rate, tokens/seconds/cost per step: descriptive.

CREATE OR REPLACE MACRO model_ranking_for_v2(campaign := '*', since := '-infinity', until := 'infinity', runs := '*',
                                             metric := 'credited', conf := 0.95, power := 0.8) AS TABLE
WITH RECURSIVE st AS MATERIALIZED (
    SELECT run_key, coalesce(item_id, run_key || '#' || line_no::VARCHAR) AS item, model, provider,
           setting_id, task_type, tau, task_type || '|' || coalesce(tau::VARCHAR, '-') AS part,
           metric_value(metric, credited, correct, witness_pass)::INT::DOUBLE AS y,
           correct, abstained, student_tokens, seconds, cost_usd
    FROM (SELECT * REPLACE (CASE WHEN run_task = 'alias_swap' THEN 'alias_swap' ELSE task_type END AS task_type)
          FROM steps_in_v2(campaign := campaign, since := since, until := until, runs := runs))
    WHERE model IS NOT NULL AND model <> 'unknown'
),
ok AS (SELECT * FROM st WHERE y IS NOT NULL),
m AS (
    SELECT part, model, any_value(task_type) AS task_type, any_value(tau) AS tau,
           string_agg(DISTINCT provider, ',' ORDER BY provider) AS provider,
           count(DISTINCT run_key) AS n_runs, count(DISTINCT setting_id) AS n_settings,
           count(DISTINCT item) AS n_items, count(*) AS n, sum(y) AS k, avg(y) AS p,
           avg(correct::INT) AS acc, avg(coalesce(abstained, false)::INT) AS abstain_rate,
           avg(student_tokens) AS tokens_per_step, avg(seconds) AS seconds_per_step,
           avg(cost_usd) AS cost_per_step
    FROM ok GROUP BY part, model
),
-- residuals against the setting's own rate: settings are fixed strata, not sampled
ms AS (
    SELECT part, model, setting_id, avg(y) AS ps, count(*) AS ns,
           -- a setting whose steps are all 0 or all 1 has no residual variance: floor it (Agresti)
           CASE WHEN avg(y) IN (0, 1) THEN count(*) * ((sum(y) + 1.0) / (count(*) + 2.0))
                * (1.0 - (sum(y) + 1.0) / (count(*) + 2.0)) END AS edge_v
    FROM ok GROUP BY part, model, setting_id
),
edge AS (SELECT part, model, sum(edge_v) AS edge_v FROM ms GROUP BY part, model),
cell AS (
    SELECT o.part, o.model, o.run_key, o.item, sum(o.y - ms.ps) / any_value(m.n) AS e
    FROM ok o JOIN m USING (part, model) JOIN ms USING (part, model, setting_id)
    GROUP BY o.part, o.model, o.run_key, o.item
),
by_item AS (SELECT part, model, item, sum(e) AS s FROM cell GROUP BY part, model, item),
ss AS (
    SELECT c.part, c.model, c.ssc, c.gc, r.ssr, i.ssi
    FROM (SELECT part, model, sum(e * e) AS ssc, count(*) AS gc FROM cell GROUP BY part, model) c
    JOIN (SELECT part, model, sum(s * s) AS ssr
          FROM (SELECT part, model, sum(e) AS s FROM cell GROUP BY part, model, run_key)
          GROUP BY part, model) r USING (part, model)
    JOIN (SELECT part, model, sum(s * s) AS ssi FROM by_item GROUP BY part, model) i USING (part, model)
),
v AS (
    SELECT m.*, ss.ssr, ss.ssi, ss.ssc, ss.gc, coalesce(edge.edge_v, 0.0) / (m.n * m.n) AS edge_var,
           ss.ssr * n_runs / greatest(n_runs - n_settings, 1.0) AS vr,
           greatest(n_runs - n_settings + 1, 1) AS gr1,
           ss.ssi * n_items / greatest(n_items - 1.0, 1.0) AS vi,
           ss.ssc * ss.gc / greatest(ss.gc - 1.0, 1.0) AS vc
    FROM m JOIN ss USING (part, model) LEFT JOIN edge USING (part, model)
),
w AS (
    SELECT v.*, greatest(cgm_var(vr, gr1, vi, n_items, vc), edge_var) AS var,
           cgm_df(vr, gr1, vi, n_items, vc) AS df,
           row_number() OVER (PARTITION BY part ORDER BY p DESC, n DESC, model) AS rank,
           count(*) OVER (PARTITION BY part) AS k_models
    FROM v
),
cross_items AS (
    SELECT a.part, a.model AS model_a, b.model AS model_b, sum(a.s * b.s) AS xi, count(*) AS shared
    FROM by_item a JOIN by_item b ON a.part = b.part AND a.item = b.item AND a.model <> b.model
    GROUP BY a.part, a.model, b.model
),
pair0 AS (
    SELECT a.part, a.model AS model_a, b.model AS model_b, a.p - b.p AS d,
           a.n_runs + b.n_runs AS gr, least(a.n_runs, b.n_runs) AS min_runs, a.n_settings + b.n_settings AS cells,
           a.n_items + b.n_items - coalesce(x.shared, 0) AS gi, a.gc + b.gc AS gc,
           a.ssr + b.ssr AS ssr, a.ssi + b.ssi - 2.0 * coalesce(x.xi, 0.0) AS ssi, a.ssc + b.ssc AS ssc,
           (a.p IN (0, 1) OR b.p IN (0, 1)) AS edge, ac_diff_var(a.k, a.n, b.k, b.n) AS ac_var
    FROM w a JOIN w b ON a.part = b.part AND a.model <> b.model
    LEFT JOIN cross_items x ON x.part = a.part AND x.model_a = a.model AND x.model_b = b.model
),
pair1 AS (
    SELECT *, CASE WHEN min_runs >= 2 THEN greatest(gr - cells + 1, 1) ELSE 1 END AS gr_eff,
           ssr * gr / greatest(gr - cells, 1.0) AS vr, ssi * gi / greatest(gi - 1.0, 1.0) AS vi,
           ssc * gc / greatest(gc - 1.0, 1.0) AS vc
    FROM pair0
),
pair AS (
    SELECT part, model_a, model_b, d, df, se,
           CASE WHEN se > 0 THEN t_p_two_sided(d / se, df) WHEN d = 0 THEN 1.0 ELSE 0.0 END AS p_value
    FROM (SELECT *, cgm_df(vr, gr_eff, vi, gi, vc) AS df,
                 sqrt(CASE WHEN edge THEN greatest(cgm_var_diff(vr, gr_eff, vi, gi, vc), ac_var)
                           ELSE cgm_var_diff(vr, gr_eff, vi, gi, vc) END) AS se
          FROM pair1)
),
mcb AS (
    SELECT x.part, x.model_a AS model, max(b.p) AS best_other,
           bool_and(x.d + t_ppf(1.0 - (1.0 - conf) / (w.k_models - 1), x.df) * x.se >= 0) AS could_be_best,
           least(0.0, min(x.d - t_ppf(1.0 - (1.0 - conf) / (w.k_models - 1), x.df) * x.se)) AS diff_low,
           greatest(0.0, min(x.d + t_ppf(1.0 - (1.0 - conf) / (w.k_models - 1), x.df) * x.se)) AS diff_high
    FROM pair x JOIN w ON w.part = x.part AND w.model = x.model_a
    JOIN w b ON b.part = x.part AND b.model = x.model_b
    GROUP BY x.part, x.model_a
),
g(part, rank, tie_group, lead) AS (
    SELECT part, rank, 1, model FROM w WHERE rank = 1
    UNION ALL
    SELECT r.part, r.rank,
           CASE WHEN x.p_value < 1.0 - conf THEN g.tie_group + 1 ELSE g.tie_group END,
           CASE WHEN x.p_value < 1.0 - conf THEN r.model ELSE g.lead END
    FROM g JOIN w r ON r.part = g.part AND r.rank = g.rank + 1
    LEFT JOIN pair x ON x.part = r.part AND x.model_a = g.lead AND x.model_b = r.model
),
nb AS (
    SELECT w.*, lag(model) OVER (PARTITION BY part ORDER BY rank) AS above,
           first_value(model) OVER (PARTITION BY part ORDER BY rank) AS top
    FROM w
),
out AS (
    SELECT nb.*, g.tie_group, coalesce(mcb.could_be_best, true) AS could_be_best,
           nb.p - coalesce(mcb.best_other, nb.p) AS diff_vs_best,
           coalesce(mcb.diff_low, 0.0) AS diff_low, coalesce(mcb.diff_high, 0.0) AS diff_high,
           pa.p_value AS p_vs_above, pa.se AS se_vs_above, pa.df AS df_vs_above, pa.d AS d_vs_above,
           pb.p_value AS p_vs_best
    FROM nb JOIN g USING (part, rank)
    LEFT JOIN mcb USING (part, model)
    LEFT JOIN pair pa ON pa.part = nb.part AND pa.model_a = nb.above AND pa.model_b = nb.model
    LEFT JOIN pair pb ON pb.part = nb.part AND pb.model_a = nb.top AND pb.model_b = nb.model AND nb.rank > 1
)
SELECT
    task_type, tau, rank, tie_group, could_be_best,
    count(*) FILTER (WHERE could_be_best) OVER (PARTITION BY part) AS best_set_size,
    model, provider, n_runs, n_settings, n_items, n AS n_steps, metric AS metric, k::BIGINT AS n_success,
    p AS rate,
    rate_low(p, n, var, df, conf) AS rate_low, rate_high(p, n, var, df, conf) AS rate_high,
    sqrt(var) AS se, df, var / nullif(p * (1 - p) / n, 0) AS design_effect,
    CASE WHEN n_runs >= 2 AND n_items >= 2 THEN 'two-way clustered (runs x items), t(df)'
         WHEN n_items = n THEN 'Wilson (one run, one step per item: independent steps)'
         ELSE 'item-clustered, t(df) (one run: run-to-run variation not estimable)' END AS ci_method,
    diff_vs_best, diff_low, diff_high,
    -d_vs_above AS diff_vs_above,
    -d_vs_above - t_crit(conf, df_vs_above) * se_vs_above AS diff_above_low,
    -d_vs_above + t_crit(conf, df_vs_above) * se_vs_above AS diff_above_high,
    p_vs_above, p_vs_best,
    (t_crit(conf, df_vs_above) + z_power(power)) * se_vs_above AS mde_vs_above,
    CASE WHEN p_vs_above >= 1.0 - conf AND abs(d_vs_above) > 0 THEN
         least(ceil(n * ((t_crit(conf, df_vs_above) + z_power(power)) * se_vs_above / abs(d_vs_above)) ^ 2), 1e12)::BIGINT
    END AS n_needed_vs_above,
    acc, abstain_rate, tokens_per_step, seconds_per_step, cost_per_step
FROM out
ORDER BY task_type, tau, rank;

CREATE OR REPLACE VIEW model_ranking_v2 AS SELECT * FROM model_ranking_for_v2();
