-- runs_summary v2: per run learning-curve metrics, a score with interval for every task type, tokens, cost, canonical model, τ and duplicate flag
-- steps_n = the run's scored steps (steps_v2.score not NULL), every task type; steps_all = every
--   logged step; mcq_steps_n = MCQ steps (the base of the acc/credited/witness columns).
-- score_mean: mean of steps_v2.score over the run's scored steps; task_type says what it scores
--   (mcq accuracy, saq grade, code pass share, proof/table_qa ok) - never compare across task types.
--   score_low/high: 95% interval. score_interval says which: 'wilson' when every score is 0 or 1
--   (Wilson score interval on the count), else 't' (Student t interval over the run's steps,
--   clipped to [0, 1]; NULL with fewer than 2 steps). Steps are treated as independent.
-- Over the run's MCQ steps in step order: cumulative curve = running mean; *_final = last value of the
--   curve (= mean over the run); *_auc = mean of the curve. credited/witness follow steps_v2.
-- attribution_gap_final = acc_final - credited_final. abstain_rate over MCQ steps.
-- credited_low/high: 95% Wilson interval over the run's MCQ steps.
-- model, model_raw, model_from, model_known, tau, tau_from, task_type, duplicate_of, counted: as in
--   runs_v2. Seconds from duration_ms; tokens_total = student total tokens; cost_usd priced by
--   `prices` (NULL when the model has no price).
-- Old column names kept: source_path (best copy), run_ts, num_steps_planned, model_name.

CREATE OR REPLACE VIEW runs_summary_v2 AS
WITH curve AS (
    SELECT run_key, task_type = 'mcq' AS mcq, score, correct::INT AS c, credited::INT AS k,
           witness_pass::INT AS w, abstained, coverage, seconds, student_tokens, tutor_tokens, cost_usd,
           avg(correct::INT) OVER win AS cum_acc,
           avg(credited::INT) OVER win AS cum_cred,
           avg(witness_pass::INT) OVER win AS cum_wit
    FROM steps_v2
    WINDOW win AS (PARTITION BY run_key, task_type = 'mcq' ORDER BY step, line_no ROWS UNBOUNDED PRECEDING)
),
agg AS (
    SELECT run_key,
           count(score) AS steps_n,
           avg(score) AS score_mean,
           stddev_samp(score) AS score_sd,
           sum(score) AS score_sum,
           bool_and(score IN (0.0, 1.0)) AS score_binary,
           count(*) FILTER (WHERE mcq) AS mcq_steps_n,
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
),
ci AS (
    SELECT a.*,
           CASE WHEN steps_n = 0 THEN NULL WHEN score_binary THEN 'wilson'
                WHEN steps_n >= 2 THEN 't' END AS score_interval,
           CASE WHEN steps_n >= 2 AND NOT score_binary
                THEN t_ppf(0.975, steps_n - 1) * score_sd / sqrt(steps_n) END AS score_half
    FROM agg a
)
SELECT
    r.run_key, r.run_id, r.path AS source_path, r.paths, r.n_copies, r.archived, r.file_mtime,
    r.started_at AS run_ts, r.campaign,
    r.provider, r.model, r.model AS model_name, r.model_raw, r.model_from, r.model_known,
    r.student, r.tau, r.tau_from, r.stage, r.status,
    r.task, r.task_type, r.difficulty, r.domain, r.planned_steps AS num_steps_planned,
    r.setting_id, r.setting, r.apples, r.anon_seed, r.duplicate_of, r.counted,
    r.closed_book, r.use_fact_cards, r.require_citations, r.self_consistency_n, r.idk_enabled,
    r.fact_cards_budget, r.best_of_n, r.sc_extract_n, r.q_min, r.max_learn_boosts, r.use_tools,
    coalesce(a.steps_n, 0) AS steps_n,
    coalesce(a.steps_all, 0) AS steps_all,
    coalesce(a.mcq_steps_n, 0) AS mcq_steps_n,
    a.score_mean,
    CASE a.score_interval WHEN 'wilson' THEN wilson_low(a.score_sum, a.steps_n)
                          WHEN 't' THEN greatest(0.0, a.score_mean - a.score_half) END AS score_low,
    CASE a.score_interval WHEN 'wilson' THEN wilson_high(a.score_sum, a.steps_n)
                          WHEN 't' THEN least(1.0, a.score_mean + a.score_half) END AS score_high,
    a.score_interval,
    a.correct_n, a.credited_n, a.witness_n,
    a.acc_final, a.acc_auc, a.credited_final, a.credited_auc, a.witness_final, a.witness_auc,
    a.acc_final - a.credited_final AS attribution_gap_final,
    wilson_low(a.credited_n, a.mcq_steps_n) AS credited_low,
    wilson_high(a.credited_n, a.mcq_steps_n) AS credited_high,
    a.abstain_rate, a.coverage_mean,
    a.mean_step_seconds, a.duration_seconds, a.tokens_total, a.tutor_tokens_total,
    a.tokens_total / nullif(a.steps_all, 0) AS tokens_per_step,
    CASE WHEN a.priced_steps > 0 THEN a.cost_usd END AS cost_usd
FROM runs_v2 r
LEFT JOIN ci a USING (run_key);
