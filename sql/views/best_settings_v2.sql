-- best_settings v2: per model x setting (task type, tau) the rate with clustered intervals, the could-be-best set (Hsu MCB) and the recommended setting: the cheapest proven within a margin of the best
-- Table macro best_settings_for(campaign, since, until, runs, metric := 'credited', min_steps := 30,
--   apples_only := false, margin := 0.03, conf := 0.95); the view best_settings is it with the
--   defaults (`warehouse best-settings` takes the margin from warehouse.toml [stats] margin).
--   SELECT * FROM best_settings_for(campaign := 'exp', margin := 0.05) WHERE is_recommended
-- Partitioned by (task_type, tau) within each model: never pools tau values or task types. Runs
--   without a model (NULL or 'unknown') are left out. An unknown metric is an error.
-- A setting is a setting_id (same conditions and dials); its runs are pooled.
-- Method (and why): rate_low/high, se, df as in model_ranking v2: two-way cluster-robust (runs x
--   items, items recur across runs and settings), Wilson at the effective n with t(df); plain
--   Wilson when steps are independent (one run, one step per item). ci_method says which.
-- Pairwise (setting - other) differences: cgm_var_diff (stats_macros v2), the run-clustered variance
--   (CR2-scaled, t with the run df) plus the item part only where positive: runs are independent
--   given their items, and the two-way form with estimated means understates the variance of a
--   difference. At a 0/1 rate the Agresti-Caffo variance is a floor.
-- below_min_n: fewer than min_steps steps; such settings are not eligible (unless no setting of the
--   model is), and never enter the comparisons below.
-- rate_adj: the rate corrected for the difficulty of the items this setting happened to draw:
--   mean of (y - d_item), d_item an item's mean residual against its own setting's rate over every
--   model and setting of the partition that met it (items met by one setting only: d = 0).
-- is_best: the highest rate_adj among eligible settings (then rate). Why adjusted: where runs draw
--   items at random, part of a gap between two settings is which items each drew; ranking on rate_adj
--   removes that part, so the fallback recommendation below (the best) lands on a truly best
--   setting more often (known-effects bench: benchmarks/RESULTS.md). A point estimate, descriptive.
-- could_be_best (= not_worse_than_best): Hsu's multiple comparisons with the best: the upper bound
--   of (setting - best of the others) is >= 0, jointly at conf (one-sided t, Bonferroni over the
--   k-1 rivals). The truly best setting is in this set with probability >= conf, whichever it is;
--   no best is picked first (no winner's curse). best_set_size: the set's size (its resolution).
-- diff_vs_best: rate - highest rate of the others; diff_low/high: constrained MCB interval of
--   (setting - best of the others), simultaneous at conf. p_vs_best: clustered t test against is_best.
-- non_inferior: eligible and diff_low > -margin: proven within `margin` (absolute) of the best.
-- is_recommended: the cheapest non_inferior setting: fewest tokens per step, then dollars per step,
--   then seconds per step only when the seconds differ beyond noise (run-clustered 95%), then the
--   higher rate. When nothing is proven non-inferior: the is_best setting, with more_data_needed.
-- n_needed / runs_needed: steps / runs this setting would need (same design, current estimates) to
--   be proven non-inferior; NULL when proven or when its estimate is already below -margin.

CREATE OR REPLACE MACRO best_settings_for_v2(campaign := '*', since := '-infinity', until := 'infinity', runs := '*',
                                             metric := 'credited', min_steps := 30, apples_only := false,
                                             margin := 0.03, conf := 0.95) AS TABLE
WITH st AS MATERIALIZED (
    SELECT run_key, coalesce(item_id, run_key || '#' || line_no::VARCHAR) AS item, model, setting_id,
           setting, apples, run_task, task_type, tau, task_type || '|' || coalesce(tau::VARCHAR, '-') AS part,
           metric_value(metric, credited, correct, witness_pass)::INT::DOUBLE AS y,
           fact_cards_budget, self_consistency_n, best_of_n, sc_extract_n, q_min, max_learn_boosts,
           idk_enabled, use_tools, closed_book, use_fact_cards, require_citations,
           correct, witness_pass, student_tokens, seconds, cost_usd
    FROM (SELECT * REPLACE (CASE WHEN run_task = 'alias_swap' THEN 'alias_swap' ELSE task_type END AS task_type)
          FROM steps_in_v2(campaign := campaign, since := since, until := until, runs := runs))
    WHERE model IS NOT NULL AND model <> 'unknown' AND (NOT apples_only OR apples)
),
ok AS (SELECT * FROM st WHERE y IS NOT NULL),
-- item difficulty (for rate_adj): mean residual of an item's steps against their own setting's rate,
-- over every model and setting of the partition; only items met by two or more settings
idiff AS (
    SELECT part, item, avg(y - ps) AS d
    FROM (SELECT part, item, y, model || '|' || setting_id AS ms,
                 avg(y) OVER (PARTITION BY part, model, setting_id) AS ps FROM ok)
    GROUP BY part, item HAVING count(DISTINCT ms) >= 2
),
s AS (
    SELECT part, model, setting_id,
           any_value(task_type) AS task_type, any_value(tau) AS tau,
           any_value(setting) AS setting, any_value(apples) AS apples, any_value(run_task) AS task,
           any_value(fact_cards_budget) AS fact_cards_budget, any_value(self_consistency_n) AS self_consistency_n,
           any_value(best_of_n) AS best_of_n, any_value(sc_extract_n) AS sc_extract_n,
           any_value(q_min) AS q_min, any_value(max_learn_boosts) AS max_learn_boosts,
           any_value(idk_enabled) AS idk_enabled, any_value(use_tools) AS use_tools,
           any_value(closed_book) AS closed_book, any_value(use_fact_cards) AS use_fact_cards,
           any_value(require_citations) AS require_citations,
           count(DISTINCT run_key) AS n_runs, count(DISTINCT item) AS n_items, count(*) AS n,
           sum(y) AS k, avg(y) AS p, avg(y - coalesce(d, 0.0)) AS p_adj,
           avg(witness_pass::INT) AS witness, avg(correct::INT) AS acc,
           avg(student_tokens) AS tokens_per_step, avg(seconds) AS seconds_per_step,
           avg(cost_usd) AS cost_per_step, sum(cost_usd) / nullif(sum(y), 0) AS cost_per_success
    FROM ok LEFT JOIN idiff USING (part, item) GROUP BY part, model, setting_id
),
cell AS (
    SELECT o.part, o.model, o.setting_id, o.run_key, o.item,
           (sum(o.y) - any_value(s.p) * count(*)) / any_value(s.n) AS e,
           sum(o.seconds - s.seconds_per_step) / any_value(s.n) AS e_sec
    FROM ok o JOIN s USING (part, model, setting_id)
    GROUP BY o.part, o.model, o.setting_id, o.run_key, o.item
),
by_item AS (SELECT part, model, setting_id, item, sum(e) AS s FROM cell GROUP BY ALL),
ss AS (
    SELECT c.part, c.model, c.setting_id, c.ssc, c.gc, r.ssr, r.ss_sec, i.ssi
    FROM (SELECT part, model, setting_id, sum(e * e) AS ssc, count(*) AS gc FROM cell GROUP BY ALL) c
    JOIN (SELECT part, model, setting_id, sum(s * s) AS ssr, sum(s_sec * s_sec) AS ss_sec
          FROM (SELECT part, model, setting_id, sum(e) AS s, sum(e_sec) AS s_sec FROM cell
                GROUP BY part, model, setting_id, run_key)
          GROUP BY ALL) r USING (part, model, setting_id)
    JOIN (SELECT part, model, setting_id, sum(s * s) AS ssi FROM by_item GROUP BY ALL) i
      USING (part, model, setting_id)
),
v AS (
    SELECT s.*, ss.ssr, ss.ssi, ss.ssc, ss.gc,
           ss.ssr * n_runs / greatest(n_runs - 1.0, 1.0) AS vr,
           ss.ssi * n_items / greatest(n_items - 1.0, 1.0) AS vi,
           ss.ssc * ss.gc / greatest(ss.gc - 1.0, 1.0) AS vc,
           CASE WHEN n_runs >= 2 THEN sqrt(ss.ss_sec * n_runs / (n_runs - 1.0)) END AS se_sec,
           n < min_steps AS below_min_n,
           (n >= min_steps OR max(n) OVER (PARTITION BY part, model) < min_steps) AS eligible
    FROM s JOIN ss USING (part, model, setting_id)
),
w AS (
    SELECT v.*, cgm_var(vr, n_runs, vi, n_items, vc) AS var, cgm_df(vr, n_runs, vi, n_items, vc) AS df,
           count(*) FILTER (WHERE eligible) OVER (PARTITION BY part, model) AS k_settings,
           eligible AND row_number() OVER (PARTITION BY part, model
               ORDER BY eligible DESC, p_adj DESC, p DESC, n DESC, setting_id) = 1 AS is_best
    FROM v
),
cross_items AS (
    SELECT a.part, a.model, a.setting_id AS sa, b.setting_id AS sb, sum(a.s * b.s) AS xi, count(*) AS shared
    FROM by_item a JOIN by_item b
      ON a.part = b.part AND a.model = b.model AND a.item = b.item AND a.setting_id <> b.setting_id
    GROUP BY a.part, a.model, a.setting_id, b.setting_id
),
pair0 AS (
    SELECT a.part, a.model, a.setting_id AS sa, b.setting_id AS sb, a.p - b.p AS d, b.p AS p_b,
           b.is_best AS b_is_best, a.k_settings,
           a.n_runs + b.n_runs AS gr, least(a.n_runs, b.n_runs) AS min_runs,
           a.n_items + b.n_items - coalesce(x.shared, 0) AS gi, a.gc + b.gc AS gc,
           a.ssr + b.ssr AS ssr, a.ssi + b.ssi - 2.0 * coalesce(x.xi, 0.0) AS ssi, a.ssc + b.ssc AS ssc,
           (a.p IN (0, 1) OR b.p IN (0, 1)) AS edge, ac_diff_var(a.k, a.n, b.k, b.n) AS ac_var
    FROM w a JOIN w b ON a.part = b.part AND a.model = b.model AND a.setting_id <> b.setting_id
      AND a.eligible AND b.eligible
    LEFT JOIN cross_items x ON x.part = a.part AND x.model = a.model AND x.sa = a.setting_id AND x.sb = b.setting_id
),
pair AS (
    SELECT *, CASE WHEN se > 0 THEN t_p_two_sided(d / se, df) WHEN d = 0 THEN 1.0 ELSE 0.0 END AS p_value,
           t_ppf(1.0 - (1.0 - conf) / greatest(k_settings - 1, 1), df) AS crit
    FROM (SELECT *, cgm_df(vr, gr_eff, vi, gi, vc) AS df,
                 sqrt(CASE WHEN edge THEN greatest(cgm_var_diff(vr, gr_eff, vi, gi, vc), ac_var)
                           ELSE cgm_var_diff(vr, gr_eff, vi, gi, vc) END) AS se
          FROM (SELECT *, CASE WHEN min_runs >= 2 THEN gr - 1 ELSE 1 END AS gr_eff,
                       ssr * gr / greatest(gr - 2.0, 1.0) AS vr, ssi * gi / greatest(gi - 1.0, 1.0) AS vi,
                       ssc * gc / greatest(gc - 1.0, 1.0) AS vc
                FROM pair0))
),
mcb AS (
    SELECT part, model, sa AS setting_id, max(p_b) AS best_other,
           bool_and(d + crit * se >= 0) AS could_be_best,
           least(0.0, min(d - crit * se)) AS diff_low, greatest(0.0, min(d + crit * se)) AS diff_high,
           CASE WHEN bool_and(d + margin > 0) THEN max((crit * se / (d + margin)) ^ 2) END AS scale,
           max(p_value) FILTER (WHERE b_is_best) AS p_vs_best
    FROM pair GROUP BY part, model, sa
),
r AS (
    SELECT w.*, m.best_other, m.p_vs_best,
           w.eligible AND coalesce(m.could_be_best, true) AS could_be_best,
           coalesce(m.diff_low, 0.0) AS diff_low, coalesce(m.diff_high, 0.0) AS diff_high,
           w.eligible AND coalesce(m.diff_low, 0.0) > -margin AS non_inferior, m.scale
    FROM w LEFT JOIN mcb m USING (part, model, setting_id)
),
fast AS (
    SELECT part, model, arg_min(seconds_per_step, seconds_per_step) AS sec_min,
           arg_min(se_sec, seconds_per_step) AS se_sec_min
    FROM r WHERE non_inferior GROUP BY part, model
),
rec AS (
    SELECT r.*, bool_or(non_inferior) OVER (PARTITION BY r.part, r.model) AS any_proven,
           coalesce(r.seconds_per_step - f.sec_min > 1.959963984540054 * sqrt(r.se_sec ^ 2 + f.se_sec_min ^ 2),
                    false) AS slower
    FROM r LEFT JOIN fast f USING (part, model)
),
fin AS (
    SELECT rec.*,
           CASE WHEN any_proven THEN non_inferior AND row_number() OVER (PARTITION BY part, model
                    ORDER BY non_inferior DESC, round(tokens_per_step) ASC NULLS LAST,
                             round(cost_per_step, 6) ASC NULLS LAST, slower ASC, p DESC, setting_id) = 1
                ELSE is_best END AS is_recommended,
           max(CASE WHEN is_best THEN setting_id END) OVER (PARTITION BY part, model) AS best_setting_id
    FROM rec
)
SELECT
    model, task_type, tau, setting_id, setting, apples, task,
    fact_cards_budget AS budget, self_consistency_n AS sc, idk_enabled AS idk,
    best_of_n, sc_extract_n, q_min, max_learn_boosts, use_tools, closed_book, use_fact_cards,
    require_citations, n_runs, n_items, n AS n_steps, below_min_n, metric AS metric, k::BIGINT AS n_success,
    p AS rate, rate_low(p, n, var, df, conf) AS rate_low, rate_high(p, n, var, df, conf) AS rate_high,
    sqrt(var) AS se, df, p_adj AS rate_adj,
    CASE WHEN n_runs >= 2 AND n_items >= 2 THEN 'two-way clustered (runs x items), t(df)'
         WHEN n_items = n THEN 'Wilson (one run, one step per item: independent steps)'
         ELSE 'item-clustered, t(df) (one run: run-to-run variation not estimable)' END AS ci_method,
    witness, acc, tokens_per_step, seconds_per_step, se_sec AS seconds_se, cost_per_step, cost_per_success,
    is_best, best_setting_id, could_be_best, could_be_best AS not_worse_than_best,
    count(*) FILTER (WHERE could_be_best) OVER (PARTITION BY part, model) AS best_set_size,
    p - coalesce(best_other, p) AS diff_vs_best, diff_low, diff_high,
    CASE WHEN is_best THEN 1.0 ELSE p_vs_best END AS p_vs_best,
    margin::DOUBLE AS margin, non_inferior, is_recommended,
    is_recommended AND NOT any_proven AS more_data_needed,
    CASE WHEN NOT non_inferior AND eligible AND scale IS NOT NULL THEN least(ceil(n * greatest(scale, 1.0)), 1e12)::BIGINT END
        AS n_needed,
    CASE WHEN NOT non_inferior AND eligible AND scale IS NOT NULL THEN least(ceil(n_runs * greatest(scale, 1.0)), 1e12)::BIGINT END
        AS runs_needed
FROM fin
ORDER BY model, task_type, tau, rate DESC, setting_id;

CREATE OR REPLACE VIEW best_settings_v2 AS SELECT * FROM best_settings_for_v2();
