-- best_settings v1: per model x setting (distinct dial combination) pooled credited with intervals, the best and the recommended (cheapest not significantly worse) setting
-- A setting is a setting_id of runs_v1 (same conditions and dials); its runs are pooled, never one
--   lucky run. credited_low/high: 95% Wilson over the pooled MCQ steps.
-- below_min_n: fewer than min_steps MCQ steps (default 30); such settings are never best or recommended
--   unless the model has no setting with enough steps.
-- is_best: highest credited among eligible settings (ties: higher lower bound, more steps).
-- diff_vs_best, diff_low/high: Newcombe 95% interval of (setting - best); p_vs_best: pooled z-test.
-- not_worse_than_best: eligible and diff_high >= 0 (the interval does not exclude a tie).
-- is_recommended: among not_worse_than_best, the fewest tokens per step, then fewest seconds per step.
-- apples: the setting is mcq + closed_book + use_fact_cards + require_citations (the old scripts' filter).
-- best_run_credited_final: the old max-of-runs number, for comparison only.
-- best_settings_for(min_steps := 30, apples_only := false) is the same table with other knobs:
--   SELECT * FROM best_settings_for(min_steps := 50, apples_only := true)  -- apples-only settings, at least 50 steps

CREATE OR REPLACE MACRO best_settings_for_v1(min_steps := 30, apples_only := false) AS TABLE
WITH st AS MATERIALIZED (
    SELECT * FROM steps_v1 WHERE task_type = 'mcq' AND (NOT apples_only OR apples)
),
s AS (
    SELECT model, setting_id,
           any_value(setting) AS setting, any_value(apples) AS apples, any_value(tau) AS tau,
           any_value(run_task) AS task,
           any_value(fact_cards_budget) AS fact_cards_budget, any_value(self_consistency_n) AS self_consistency_n,
           any_value(best_of_n) AS best_of_n, any_value(sc_extract_n) AS sc_extract_n,
           any_value(q_min) AS q_min, any_value(max_learn_boosts) AS max_learn_boosts,
           any_value(idk_enabled) AS idk_enabled, any_value(use_tools) AS use_tools,
           any_value(closed_book) AS closed_book, any_value(use_fact_cards) AS use_fact_cards,
           any_value(require_citations) AS require_citations,
           count(DISTINCT run_key) AS n_runs, count(*) AS n_steps,
           count(*) FILTER (WHERE credited) AS credited_n, avg(credited::INT) AS credited,
           avg(witness_pass::INT) AS witness, avg(correct::INT) AS acc,
           avg(student_tokens) AS tokens_per_step, avg(seconds) AS seconds_per_step,
           avg(cost_usd) AS cost_per_step,
           sum(cost_usd) / nullif(count(*) FILTER (WHERE credited), 0) AS cost_per_credited
    FROM st
    GROUP BY model, setting_id
),
e AS (
    SELECT s.*, wilson_low(credited_n, n_steps) AS credited_low, wilson_high(credited_n, n_steps) AS credited_high,
           n_steps < min_steps AS below_min_n,
           (n_steps >= min_steps OR max(n_steps) OVER (PARTITION BY model) < min_steps) AS eligible
    FROM s
),
b AS (
    SELECT e.*, row_number() OVER (PARTITION BY model
               ORDER BY eligible DESC, credited DESC, credited_low DESC, n_steps DESC, setting_id) = 1 AS is_best
    FROM e
),
d AS (
    SELECT b.*, bb.credited_n AS best_k, bb.n_steps AS best_n, bb.setting_id AS best_setting_id
    FROM b JOIN b AS bb ON bb.model = b.model AND bb.is_best
),
c AS (
    SELECT d.*,
           credited - best_k::DOUBLE / best_n AS diff_vs_best,
           CASE WHEN is_best THEN 0.0 ELSE newcombe_low(credited_n, n_steps, best_k, best_n) END AS diff_low,
           CASE WHEN is_best THEN 0.0 ELSE newcombe_high(credited_n, n_steps, best_k, best_n) END AS diff_high,
           CASE WHEN is_best THEN 1.0 ELSE two_prop_p(credited_n, n_steps, best_k, best_n) END AS p_vs_best
    FROM d
),
r AS (
    SELECT c.*, eligible AND diff_high >= 0 AS not_worse_than_best
    FROM c
),
runs_best AS (
    SELECT model, setting_id, max(cf) AS best_run_credited_final
    FROM (SELECT model, setting_id, run_key, avg(credited::INT) AS cf FROM st GROUP BY ALL)
    GROUP BY model, setting_id
)
SELECT
    r.model, r.setting_id, r.setting, r.apples, r.task, r.tau,
    r.fact_cards_budget AS budget, r.self_consistency_n AS sc, r.idk_enabled AS idk,
    r.best_of_n, r.sc_extract_n, r.q_min, r.max_learn_boosts, r.use_tools,
    r.closed_book, r.use_fact_cards, r.require_citations,
    r.n_runs, r.n_steps, r.below_min_n, r.credited_n,
    r.credited, r.credited_low, r.credited_high, r.witness, r.acc,
    r.tokens_per_step, r.seconds_per_step, r.cost_per_step, r.cost_per_credited,
    r.is_best, r.best_setting_id, r.diff_vs_best, r.diff_low, r.diff_high, r.p_vs_best,
    r.not_worse_than_best,
    r.not_worse_than_best AND row_number() OVER (PARTITION BY r.model
        ORDER BY r.not_worse_than_best DESC, r.tokens_per_step ASC NULLS LAST,
                 r.seconds_per_step ASC NULLS LAST, r.credited DESC, r.setting_id) = 1 AS is_recommended,
    rb.best_run_credited_final
FROM r LEFT JOIN runs_best rb USING (model, setting_id)
ORDER BY r.model, r.credited DESC, r.setting_id;

CREATE OR REPLACE VIEW best_settings_v1 AS SELECT * FROM best_settings_for_v1();
