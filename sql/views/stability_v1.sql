-- stability v1: context learning and stability per run (LAUC, WIT, STAB, CL&S, forget_onset_step) and pooled per setting and model with run-level intervals
-- Counted runs only (steps_v2.counted: a model named, not a duplicate of an earlier run).
-- Runs: MCQ runs only (alias-swap runs ask two phases of one rule: see the alias views; SAQ and
--   other task types have no credited MCQ steps). Old logs without a task count as MCQ.
-- Unit: a run's MCQ steps in logged order; n = their count, positions 0 .. n-1 below.
-- LAUC: mean of the run's cumulative credited curve (learning_curve_v1.cum_credited averaged over
--   positions): rewards runs that get credit early and keep it.
-- WIT: the run's witness-pass share (the last point of its cumulative witness curve).
-- STAB: credited share of the last tenth of the run (positions floor(0.9n) .. n-1) minus that of
--   the plateau window (positions floor(0.2n) .. floor(0.4n)-1, after warm-up); negative = decay.
--   Needs n >= 3 (the plateau window is empty below that).
-- CLS: 0.6 * LAUC + 0.4 * (WIT + STAB clipped to [0, 1]). Needs STAB.
-- forget_onset_step: the 5-step trailing moving average of credited at position m is the mean of
--   positions m-4 .. m. The onset is the first position i in [max(floor(0.4n), 5), n-5) where that
--   average is at or below (plateau share - 0.10) at all five positions i .. i+4; it is the 0-based
--   index among the run's MCQ steps. onset_status: 'found', 'none' (long enough, no onset) or
--   'too_short' (needs n >= 11).
-- too_short: the metrics this run is too short for (their values are NULL, never 0).
-- stability_pooled_v1: level = 'setting' (model + setting_id) or 'model'. For LAUC, WIT, STAB and
--   CLS: mean over the runs that have the metric, with a 95% Student t interval over runs (runs are
--   the independent unit; NULL below 2 runs), clipped to the metric's range. onset_share = runs
--   with an onset / runs long enough to have one, with a Wilson 95% interval over runs;
--   onset_median = median onset position.

CREATE OR REPLACE VIEW stability_v1 AS
WITH src AS (
    SELECT run_key, run_id, model, setting_id, setting, step, line_no,
           credited::INT AS k, witness_pass::INT AS w
    FROM steps_v2 WHERE counted
    AND task_type = 'mcq' AND coalesce(run_task, 'mcq') = 'mcq'
),
cum AS (
    SELECT *, avg(k) OVER (PARTITION BY run_key ORDER BY step, line_no ROWS UNBOUNDED PRECEDING) AS cum_k
    FROM src
),
seq AS (
    SELECT run_key, any_value(run_id) AS run_id, any_value(model) AS model,
           any_value(setting_id) AS setting_id, any_value(setting) AS setting,
           list(k ORDER BY step, line_no) AS ks, count(*) AS n,
           avg(cum_k) AS lauc, avg(w) AS wit
    FROM cum GROUP BY run_key
),
win AS (
    SELECT *, (2 * n) // 10 AS e0, (4 * n) // 10 AS e1, (9 * n) // 10 AS l0 FROM seq
),
m AS (
    SELECT *,
           CASE WHEN e1 > e0 THEN list_avg(ks[e0 + 1:e1]) END AS plateau,
           CASE WHEN e1 > e0 THEN list_avg(ks[l0 + 1:n]) - list_avg(ks[e0 + 1:e1]) END AS stab
    FROM win
),
o AS (
    SELECT *,
           CASE WHEN n >= 11 THEN list_filter(range(greatest(e1, 5), n - 5), lambda i:
               list_bool_and(list_transform(range(i, i + 5), lambda j:
                   list_avg(ks[j - 3:j + 1]) <= plateau - 0.10 + 1e-12)))[1] END AS onset
    FROM m
)
SELECT run_key, run_id, model, setting_id, setting, n AS steps_n,
       lauc AS LAUC, wit AS WIT, stab AS STAB,
       CASE WHEN stab IS NOT NULL THEN 0.6 * lauc + 0.4 * least(1.0, greatest(0.0, wit + stab)) END AS CLS,
       plateau AS plateau_credited,
       onset AS forget_onset_step,
       CASE WHEN n < 11 THEN 'too_short' WHEN onset IS NULL THEN 'none' ELSE 'found' END AS onset_status,
       list_filter(['STAB', 'CLS', 'forget_onset_step'], lambda x:
           (x IN ('STAB', 'CLS') AND n < 3) OR (x = 'forget_onset_step' AND n < 11)) AS too_short
FROM o;

CREATE OR REPLACE VIEW stability_pooled_v1 AS
WITH a AS (
    SELECT CASE WHEN grouping(setting_id) = 0 THEN 'setting' ELSE 'model' END AS level,
           model, setting_id, CASE WHEN grouping(setting_id) = 0 THEN any_value(setting) END AS setting,
           count(*) AS n_runs_all,
           count(LAUC) AS n_lauc, avg(LAUC) AS lauc_mean, stddev_samp(LAUC) AS lauc_sd,
           count(WIT) AS n_wit, avg(WIT) AS wit_mean, stddev_samp(WIT) AS wit_sd,
           count(STAB) AS n_stab, avg(STAB) AS stab_mean, stddev_samp(STAB) AS stab_sd,
           count(CLS) AS n_cls, avg(CLS) AS cls_mean, stddev_samp(CLS) AS cls_sd,
           count(*) FILTER (WHERE onset_status <> 'too_short') AS n_onset_eligible,
           count(*) FILTER (WHERE onset_status = 'found') AS n_onset,
           median(forget_onset_step) AS onset_median
    FROM stability_v1
    GROUP BY GROUPING SETS ((model, setting_id), (model))
)
SELECT level, model, setting_id, setting, n_runs_all,
       n_lauc, lauc_mean,
       CASE WHEN n_lauc >= 2 THEN greatest(0.0, lauc_mean - t_ppf(0.975, n_lauc - 1) * lauc_sd / sqrt(n_lauc)) END AS lauc_low,
       CASE WHEN n_lauc >= 2 THEN least(1.0, lauc_mean + t_ppf(0.975, n_lauc - 1) * lauc_sd / sqrt(n_lauc)) END AS lauc_high,
       n_wit, wit_mean,
       CASE WHEN n_wit >= 2 THEN greatest(0.0, wit_mean - t_ppf(0.975, n_wit - 1) * wit_sd / sqrt(n_wit)) END AS wit_low,
       CASE WHEN n_wit >= 2 THEN least(1.0, wit_mean + t_ppf(0.975, n_wit - 1) * wit_sd / sqrt(n_wit)) END AS wit_high,
       n_stab, stab_mean,
       CASE WHEN n_stab >= 2 THEN greatest(-1.0, stab_mean - t_ppf(0.975, n_stab - 1) * stab_sd / sqrt(n_stab)) END AS stab_low,
       CASE WHEN n_stab >= 2 THEN least(1.0, stab_mean + t_ppf(0.975, n_stab - 1) * stab_sd / sqrt(n_stab)) END AS stab_high,
       n_cls, cls_mean,
       CASE WHEN n_cls >= 2 THEN greatest(0.0, cls_mean - t_ppf(0.975, n_cls - 1) * cls_sd / sqrt(n_cls)) END AS cls_low,
       CASE WHEN n_cls >= 2 THEN least(1.0, cls_mean + t_ppf(0.975, n_cls - 1) * cls_sd / sqrt(n_cls)) END AS cls_high,
       n_onset_eligible, n_onset,
       n_onset::DOUBLE / nullif(n_onset_eligible, 0) AS onset_share,
       wilson_low(n_onset, n_onset_eligible) AS onset_share_low,
       wilson_high(n_onset, n_onset_eligible) AS onset_share_high,
       onset_median
FROM a;
