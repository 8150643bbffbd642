-- by_model_steps v2: per model and τ, pooled over the MCQ steps of counted runs: credited / witness / acc with 95% Wilson intervals, cost and time per step and per credited
-- One row per (model, tau): credited depends on the coverage threshold τ, so τ values are never
--   pooled (task_type is always 'mcq' here). Only counted runs (runs_v2.counted: not a duplicate,
--   model known), so no run is counted twice and no unattributed run appears as a model.
-- Steps are pooled across runs and settings (filter steps yourself for like-for-like subsets).
-- Intervals treat steps as independent Bernoulli trials; by_model_runs shows the run-to-run spread.
-- tokens_per_step = student tokens; seconds_per_step from duration_ms; seconds/tokens/cost_per_credited
--   = totals / credited steps (NULL when nothing was credited); cost NULL for unpriced models.

CREATE OR REPLACE VIEW by_model_steps_v2 AS
SELECT
    model,
    'mcq'                                          AS task_type,
    tau,
    string_agg(DISTINCT provider, ',' ORDER BY provider) AS provider,
    count(DISTINCT run_key)                        AS n_runs,
    count(DISTINCT setting_id)                     AS n_settings,
    count(*)                                       AS n_steps,
    count(*) FILTER (WHERE credited)                             AS credited_n,
    avg(credited::INT)                             AS credited,
    wilson_low(count(*) FILTER (WHERE credited), count(*))       AS credited_low,
    wilson_high(count(*) FILTER (WHERE credited), count(*))      AS credited_high,
    avg(witness_pass::INT)                         AS witness,
    wilson_low(count(*) FILTER (WHERE witness_pass), count(*))   AS witness_low,
    wilson_high(count(*) FILTER (WHERE witness_pass), count(*))  AS witness_high,
    avg(correct::INT)                              AS acc,
    wilson_low(count(*) FILTER (WHERE correct), count(*))        AS acc_low,
    wilson_high(count(*) FILTER (WHERE correct), count(*))       AS acc_high,
    avg(coalesce(abstained, false)::INT)           AS abstain_rate,
    avg(coverage)                                  AS coverage_mean,
    avg(student_tokens)                            AS tokens_per_step,
    avg(seconds)                                   AS seconds_per_step,
    avg(cost_usd)                                  AS cost_per_step,
    sum(seconds) / nullif(count(*) FILTER (WHERE credited), 0)   AS seconds_per_credited,
    sum(student_tokens) / nullif(count(*) FILTER (WHERE credited), 0) AS tokens_per_credited,
    sum(cost_usd) / nullif(count(*) FILTER (WHERE credited), 0)  AS cost_per_credited,
    count(*) FILTER (WHERE apples)                               AS apples_steps
FROM steps_v2
WHERE task_type = 'mcq' AND counted
GROUP BY model, tau;
