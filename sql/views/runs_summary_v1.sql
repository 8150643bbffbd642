-- runs_summary v1: per run learning-curve metrics (as the old analysis), tokens, cost and a Wilson interval on credited
-- Over the run's MCQ steps in step order: cumulative curve = running mean; *_final = last value of the
--   curve (= mean over the run); *_auc = mean of the curve. credited/witness follow steps_v1.
-- attribution_gap_final = acc_final - credited_final. abstain_rate over MCQ steps.
-- credited_low/high: 95% Wilson interval over the run's MCQ steps (steps treated as independent).
-- steps_n = MCQ steps; steps_all = every logged step. Seconds from duration_ms; tokens_total = student
--   total tokens; cost_usd priced by `prices` (NULL when the model has no price).
-- Old column names kept: source_path (best copy), run_ts, num_steps_planned, model_name.
-- paths, n_copies, archived, file_mtime: as in runs_v1 (so catalog needs no second pass).

CREATE OR REPLACE VIEW runs_summary_v1 AS
WITH curve AS (
    SELECT run_key, task_type = 'mcq' AS mcq, correct::INT AS c, credited::INT AS k,
           witness_pass::INT AS w, abstained, coverage, seconds, student_tokens, tutor_tokens, cost_usd,
           avg(correct::INT) OVER win AS cum_acc,
           avg(credited::INT) OVER win AS cum_cred,
           avg(witness_pass::INT) OVER win AS cum_wit
    FROM steps_v1
    WINDOW win AS (PARTITION BY run_key, task_type = 'mcq' ORDER BY step, line_no ROWS UNBOUNDED PRECEDING)
),
agg AS (
    SELECT run_key,
           count(*) FILTER (WHERE mcq) AS steps_n,
           count(*) FILTER (WHERE mcq AND c = 1) AS correct_n,
           count(*) FILTER (WHERE mcq AND k = 1) AS credited_n,
           count(*) FILTER (WHERE mcq AND w = 1) AS witness_n,
           avg(c) FILTER (WHERE mcq) AS acc_final, avg(cum_acc) FILTER (WHERE mcq) AS acc_auc,
           avg(k) FILTER (WHERE mcq) AS credited_final, avg(cum_cred) FILTER (WHERE mcq) AS credited_auc,
           avg(w) FILTER (WHERE mcq) AS witness_final, avg(cum_wit) FILTER (WHERE mcq) AS witness_auc,
           avg(coalesce(abstained, false)::INT) FILTER (WHERE mcq) AS abstain_rate,
           avg(coverage) FILTER (WHERE mcq) AS coverage_mean,
           count(*) AS steps_all, avg(seconds) AS mean_step_seconds,
           sum(seconds) AS duration_seconds, sum(student_tokens) AS tokens_total,
           sum(tutor_tokens) AS tutor_tokens_total, sum(cost_usd) AS cost_usd,
           count(cost_usd) AS priced_steps
    FROM curve GROUP BY run_key
)
SELECT
    r.run_key, r.run_id, r.path AS source_path, r.paths, r.n_copies, r.archived, r.file_mtime,
    r.started_at AS run_ts, r.campaign,
    r.provider, r.model, r.model AS model_name, r.student, r.tau, r.stage, r.status,
    r.task, r.difficulty, r.domain, r.planned_steps AS num_steps_planned,
    r.setting_id, r.setting, r.apples,
    r.closed_book, r.use_fact_cards, r.require_citations, r.self_consistency_n, r.idk_enabled,
    r.fact_cards_budget, r.best_of_n, r.sc_extract_n, r.q_min, r.max_learn_boosts, r.use_tools,
    coalesce(a.steps_n, 0) AS steps_n,
    coalesce(a.steps_all, 0) AS steps_all,
    a.correct_n, a.credited_n, a.witness_n,
    a.acc_final, a.acc_auc, a.credited_final, a.credited_auc, a.witness_final, a.witness_auc,
    a.acc_final - a.credited_final AS attribution_gap_final,
    wilson_low(a.credited_n, a.steps_n) AS credited_low,
    wilson_high(a.credited_n, a.steps_n) AS credited_high,
    a.abstain_rate, a.coverage_mean,
    a.mean_step_seconds, a.duration_seconds, a.tokens_total, a.tutor_tokens_total,
    a.tokens_total / nullif(a.steps_all, 0) AS tokens_per_step,
    CASE WHEN a.priced_steps > 0 THEN a.cost_usd END AS cost_usd
FROM runs_v1 r
LEFT JOIN agg a USING (run_key);
