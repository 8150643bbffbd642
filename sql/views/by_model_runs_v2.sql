-- by_model_runs v2: per model and τ, run-level spread over counted runs: mean of per-run credited/witness/acc finals with a t interval, best and median run
-- One observation per counted run (runs_summary_v2.counted) with MCQ steps, grouped by (model, tau):
--   τ values are never pooled. credited_final_low/high: 95% t interval of the mean over runs (NULL
--   with fewer than 2 runs): honest when runs vary more than steps do.
-- best_run_credited_final is what the old scripts reported (max over runs): shown for comparison,
--   never use it to choose a setting.

CREATE OR REPLACE VIEW by_model_runs_v2 AS
WITH r AS (
    SELECT * FROM runs_summary_v2 WHERE mcq_steps_n > 0 AND counted
),
a AS (
SELECT
    model,
    tau,
    count(*)                                       AS n_runs,
    count(*) FILTER (WHERE status = 'complete')    AS n_complete,
    sum(mcq_steps_n)::BIGINT                           AS n_steps,
    avg(mcq_steps_n)                                   AS steps_per_run,
    avg(credited_final)                            AS credited_final_mean,
    stddev_samp(credited_final)                    AS credited_final_sd,
    median(credited_final)                         AS credited_final_median,
    max(credited_final)                            AS best_run_credited_final,
    avg(credited_auc)                              AS credited_auc_mean,
    avg(witness_final)                             AS witness_final_mean,
    avg(acc_final)                                 AS acc_final_mean,
    avg(acc_auc)                                   AS acc_auc_mean,
    avg(attribution_gap_final)                     AS attribution_gap_mean,
    avg(mean_step_seconds)                         AS mean_step_seconds,
    avg(tokens_total)                              AS tokens_per_run,
    avg(cost_usd)                                  AS cost_per_run
FROM r
GROUP BY model, tau
),
t AS (SELECT a.*, t_ppf(0.975, n_runs - 1) * credited_final_sd / sqrt(n_runs) AS half FROM a)
SELECT model, 'mcq' AS task_type, tau, n_runs, n_complete, n_steps, steps_per_run, credited_final_mean, credited_final_sd,
       credited_final_mean - half AS credited_final_low, credited_final_mean + half AS credited_final_high,
       credited_final_median, best_run_credited_final, credited_auc_mean, witness_final_mean,
       acc_final_mean, acc_auc_mean, attribution_gap_mean, mean_step_seconds, tokens_per_run, cost_per_run
FROM t
ORDER BY tau, credited_final_mean DESC;
