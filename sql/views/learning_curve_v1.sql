-- learning_curve v1: does the student learn across steps: each run's cumulative credited curve by step, and the curve pooled per setting and per model with run-level intervals
-- Counted runs only (steps_v2.counted: a model named, not a duplicate of an earlier run).
-- Runs: MCQ runs only (alias-swap runs ask two phases of one rule: see the alias views; SAQ and
--   other task types have no credited MCQ steps). Old logs without a task count as MCQ.
-- Unit: a run's MCQ steps in logged order (step, then line); position = 1, 2, ... within the run.
-- learning_curve_v1 (one row per run x position): credited / correct / witness_pass of that step
--   (0/1), and cum_credited / cum_acc / cum_witness = the share of the run's first `position` steps
--   that were credited / correct / witness-passed (the running mean; its last value is the run's
--   credited_final and its average the run's credited_auc). run_steps = the run's MCQ step count.
-- learning_curve_pooled_v1 (one row per group x position): level = 'setting' (model + setting_id)
--   or 'model' (all settings of the model). n_runs = runs that reached this position (shorter runs
--   drop out; they are never padded with zeros). cum_credited_mean = mean over those runs of their
--   cum_credited at the position; the 95% interval is a Student t interval over runs (the run is the
--   independent unit, steps of one run are not), NULL with fewer than 2 runs.

CREATE OR REPLACE VIEW learning_curve_v1 AS
WITH src AS (
    SELECT run_key, run_id, model, setting_id, setting, run_status, step, line_no,
           credited::INT AS k, correct::INT AS c, witness_pass::INT AS w
    FROM steps_v2 WHERE counted
    AND task_type = 'mcq' AND coalesce(run_task, 'mcq') = 'mcq'
),
pos AS (
    SELECT *, row_number() OVER (PARTITION BY run_key ORDER BY step, line_no) AS position,
           count(*) OVER (PARTITION BY run_key) AS run_steps
    FROM src
)
SELECT run_key, run_id, model, setting_id, setting, run_status, run_steps, position, step,
       k AS credited, c AS correct, w AS witness_pass,
       avg(k) OVER win AS cum_credited,
       avg(c) OVER win AS cum_acc,
       avg(w) OVER win AS cum_witness
FROM pos
WINDOW win AS (PARTITION BY run_key ORDER BY position ROWS UNBOUNDED PRECEDING);

CREATE OR REPLACE VIEW learning_curve_pooled_v1 AS
WITH a AS (
    SELECT CASE WHEN grouping(setting_id) = 0 THEN 'setting' ELSE 'model' END AS level,
           model, setting_id, CASE WHEN grouping(setting_id) = 0 THEN any_value(setting) END AS setting, position,
           count(*) AS n_runs,
           avg(cum_credited) AS cum_credited_mean,
           stddev_samp(cum_credited) AS cum_credited_sd,
           avg(cum_acc) AS cum_acc_mean,
           avg(cum_witness) AS cum_witness_mean,
           avg(credited) AS credited_at_position
    FROM learning_curve_v1
    GROUP BY GROUPING SETS ((model, setting_id, position), (model, position))
)
SELECT level, model, setting_id, setting, position, n_runs, cum_credited_mean,
       CASE WHEN n_runs >= 2 THEN greatest(0.0, cum_credited_mean - t_ppf(0.975, n_runs - 1) * cum_credited_sd / sqrt(n_runs)) END AS cum_credited_low,
       CASE WHEN n_runs >= 2 THEN least(1.0, cum_credited_mean + t_ppf(0.975, n_runs - 1) * cum_credited_sd / sqrt(n_runs)) END AS cum_credited_high,
       cum_acc_mean, cum_witness_mean, credited_at_position
FROM a;
