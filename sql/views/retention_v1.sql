-- retention v1: does a run keep what it learned: credited at step i versus step i + lag for lags 3, 4 and 5, per run and pooled over runs
-- Counted runs only (steps_v2.counted: a model named, not a duplicate of an earlier run).
-- Runs: MCQ runs only (alias-swap runs ask two phases of one rule: see the alias views; SAQ and
--   other task types have no credited MCQ steps). Old logs without a task count as MCQ.
-- Unit: a run's MCQ steps in logged order (n of them). For a lag L there are n - L pairs:
--   p_first = credited share of steps 1 .. n-L, p_retest = credited share of steps L+1 .. n,
--   delta = p_retest - p_first (negative: credit is lost L steps later).
-- Per run: p_value = two-sided pooled two-proportion z-test on the two windows (steps treated as
--   independent; descriptive). too_short: the run has no pair at this lag (n <= L); metrics NULL.
-- retention_pooled_v1: level = 'setting' (model + setting_id) or 'model', one row per lag.
--   n_runs = runs with pairs, n_short = runs too short for the lag. delta_mean = mean over runs of
--   the per-run delta with a 95% Student t interval over runs, clipped to [-1, 1] (NULL below 2
--   runs).

CREATE OR REPLACE VIEW retention_v1 AS
WITH src AS (
    SELECT run_key, run_id, model, setting_id, setting, step, line_no, credited::INT AS k
    FROM steps_v2 WHERE counted
    AND task_type = 'mcq' AND coalesce(run_task, 'mcq') = 'mcq'
),
seq AS (
    SELECT run_key, any_value(run_id) AS run_id, any_value(model) AS model,
           any_value(setting_id) AS setting_id, any_value(setting) AS setting,
           list(k ORDER BY step, line_no) AS ks, count(*) AS n
    FROM src GROUP BY run_key
),
l AS (
    SELECT seq.*, lag, greatest(n - lag, 0) AS pairs FROM seq CROSS JOIN (VALUES (3), (4), (5)) AS v(lag)
),
c AS (
    SELECT *,
           CASE WHEN pairs > 0 THEN list_sum(ks[1:pairs]) END AS first_credited_n,
           CASE WHEN pairs > 0 THEN list_sum(ks[lag + 1:n]) END AS retest_credited_n
    FROM l
)
SELECT run_key, run_id, model, setting_id, setting, n AS steps_n, lag, pairs, pairs = 0 AS too_short,
       first_credited_n, retest_credited_n,
       first_credited_n::DOUBLE / nullif(pairs, 0) AS p_first,
       retest_credited_n::DOUBLE / nullif(pairs, 0) AS p_retest,
       retest_credited_n::DOUBLE / nullif(pairs, 0) - first_credited_n::DOUBLE / nullif(pairs, 0) AS delta,
       CASE WHEN pairs > 0 THEN two_prop_p(retest_credited_n, pairs, first_credited_n, pairs) END AS p_value
FROM c;

CREATE OR REPLACE VIEW retention_pooled_v1 AS
WITH a AS (
    SELECT CASE WHEN grouping(setting_id) = 0 THEN 'setting' ELSE 'model' END AS level,
           model, setting_id, CASE WHEN grouping(setting_id) = 0 THEN any_value(setting) END AS setting, lag,
           count(*) FILTER (WHERE NOT too_short) AS n_runs,
           count(*) FILTER (WHERE too_short) AS n_short,
           sum(pairs)::BIGINT AS pairs_total,
           avg(p_first) AS p_first_mean,
           avg(p_retest) AS p_retest_mean,
           avg(delta) AS delta_mean,
           stddev_samp(delta) AS delta_sd
    FROM retention_v1
    GROUP BY GROUPING SETS ((model, setting_id, lag), (model, lag))
)
SELECT level, model, setting_id, setting, lag, n_runs, n_short, pairs_total, p_first_mean, p_retest_mean,
       delta_mean, delta_sd,
       CASE WHEN n_runs >= 2 THEN greatest(-1.0, delta_mean - t_ppf(0.975, n_runs - 1) * delta_sd / sqrt(n_runs)) END AS delta_low,
       CASE WHEN n_runs >= 2 THEN least(1.0, delta_mean + t_ppf(0.975, n_runs - 1) * delta_sd / sqrt(n_runs)) END AS delta_high
FROM a;
