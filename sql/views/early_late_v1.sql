-- early_late v1: credited in a run's first k steps versus its last k steps, with a test and an interval; pooled per setting and model over runs
-- Counted runs only (steps_v2.counted: a model named, not a duplicate of an earlier run).
-- Runs: MCQ runs only (alias-swap runs ask two phases of one rule: see the alias views; SAQ and
--   other task types have no credited MCQ steps). Old logs without a task count as MCQ.
-- Unit: a run's MCQ steps in logged order. k = min(30, floor(n / 2)) for a run of n MCQ steps, so
--   the two windows never overlap. p_early / p_late = credited share of the first / last k steps;
--   delta = p_late - p_early (positive: the run ended better than it started).
-- Per run: p_value = two-sided pooled two-proportion z-test, delta_low/high = Newcombe 95% interval.
--   Both treat the steps of one run as independent draws (read them as descriptive).
-- too_short: true when the run has fewer than 2 MCQ steps (k = 0); its metrics are NULL, not 0.
-- early_late_pooled_v1: level = 'setting' (model + setting_id) or 'model'. n_runs = runs long
--   enough; n_short = runs left out as too short. delta_mean = mean of the per-run deltas; its 95%
--   interval is a Student t interval over runs (runs are the independent unit), clipped to
--   [-1, 1], NULL below 2 runs.
--   k_total, early_credited_n, late_credited_n: the pooled windows, for reference.

CREATE OR REPLACE VIEW early_late_v1 AS
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
w AS (
    SELECT *, least(30, n // 2) AS kw FROM seq
),
c AS (
    SELECT *,
           CASE WHEN kw > 0 THEN list_sum(ks[1:kw]) END AS early_credited_n,
           CASE WHEN kw > 0 THEN list_sum(ks[n - kw + 1:n]) END AS late_credited_n
    FROM w
)
SELECT run_key, run_id, model, setting_id, setting, n AS steps_n, kw AS k, kw = 0 AS too_short,
       early_credited_n, late_credited_n,
       early_credited_n::DOUBLE / nullif(kw, 0) AS p_early,
       late_credited_n::DOUBLE / nullif(kw, 0) AS p_late,
       late_credited_n::DOUBLE / nullif(kw, 0) - early_credited_n::DOUBLE / nullif(kw, 0) AS delta,
       CASE WHEN kw > 0 THEN two_prop_p(late_credited_n, kw, early_credited_n, kw) END AS p_value,
       CASE WHEN kw > 0 THEN newcombe_low(late_credited_n, kw, early_credited_n, kw) END AS delta_low,
       CASE WHEN kw > 0 THEN newcombe_high(late_credited_n, kw, early_credited_n, kw) END AS delta_high
FROM c;

CREATE OR REPLACE VIEW early_late_pooled_v1 AS
WITH a AS (
    SELECT CASE WHEN grouping(setting_id) = 0 THEN 'setting' ELSE 'model' END AS level,
           model, setting_id, CASE WHEN grouping(setting_id) = 0 THEN any_value(setting) END AS setting,
           count(*) FILTER (WHERE NOT too_short) AS n_runs,
           count(*) FILTER (WHERE too_short) AS n_short,
           sum(k)::BIGINT AS k_total,
           sum(early_credited_n)::BIGINT AS early_credited_n,
           sum(late_credited_n)::BIGINT AS late_credited_n,
           avg(p_early) AS p_early_mean,
           avg(p_late) AS p_late_mean,
           avg(delta) AS delta_mean,
           stddev_samp(delta) AS delta_sd
    FROM early_late_v1
    GROUP BY GROUPING SETS ((model, setting_id), (model))
)
SELECT level, model, setting_id, setting, n_runs, n_short, k_total, early_credited_n, late_credited_n,
       p_early_mean, p_late_mean, delta_mean, delta_sd,
       CASE WHEN n_runs >= 2 THEN greatest(-1.0, delta_mean - t_ppf(0.975, n_runs - 1) * delta_sd / sqrt(n_runs)) END AS delta_low,
       CASE WHEN n_runs >= 2 THEN least(1.0, delta_mean + t_ppf(0.975, n_runs - 1) * delta_sd / sqrt(n_runs)) END AS delta_high
FROM a;
