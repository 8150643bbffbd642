-- alias_summary v1: alias-swap results pooled per setting and per model, per family: runs, mean delta and phase-B credit, pooled B counts with intervals
-- Rows of alias_families_v1 grouped as the simulator's own analysis groups them: group_by = 'setting'
--   (group_key = setting_id, label = setting), group_by = 'model' (group_key = label = model), or
--   group_by = 'analysis_group' (group_key = label = the old analysis's group key, see
--   alias_families_v1), and family_id. The old analysis took one file as one run; here a run is a
--   run_id, so a file that appends several runs counts each of them.
-- runs: runs in the group with that family. delta_runs / delta_mean: runs with both phases and the
--   mean of their delta (= acc_a - acc_b, positive = phase B worse); delta_low/high: t 95% interval
--   over those runs (NULL with fewer than 2; clipped to [-1, 1]).
-- credited_b_runs / credited_b_mean: runs with phase-B steps and the mean of their credited_b;
--   credited_b_mean_low/high: t 95% interval over those runs (NULL with fewer than 2; clipped to [0, 1]).
-- b_credited, b_total: phase-B counts pooled over the runs; credited_b_pooled = b_credited / b_total
--   with a Wilson 95% interval (credited_b_low/high) that treats every pooled step as independent;
--   the run-level interval above is the one to trust when runs differ.

CREATE OR REPLACE VIEW alias_summary_v1 AS
WITH fam AS (
    SELECT * FROM alias_families_v1
),
keyed AS (
    SELECT 'setting' AS group_by, setting_id AS group_key, any_value(setting) AS label, family_id,
           list(delta) AS deltas, list(credited_b) AS credits, count(*) AS runs,
           sum(b_credited) AS b_credited, sum(b_total) AS b_total
    FROM fam GROUP BY setting_id, family_id
    UNION ALL
    SELECT 'model', model, model, family_id,
           list(delta), list(credited_b), count(*), sum(b_credited), sum(b_total)
    FROM fam GROUP BY model, family_id
    UNION ALL
    SELECT 'analysis_group', analysis_group, analysis_group, family_id,
           list(delta), list(credited_b), count(*), sum(b_credited), sum(b_total)
    FROM fam GROUP BY analysis_group, family_id
),
agg AS (
    SELECT k.*,
           len(list_filter(deltas, lambda d: d IS NOT NULL)) AS delta_runs,
           list_avg(deltas) AS delta_mean,
           list_stddev_samp(deltas) AS delta_sd,
           len(list_filter(credits, lambda c: c IS NOT NULL)) AS credited_b_runs,
           list_avg(credits) AS credited_b_mean,
           list_stddev_samp(credits) AS credited_b_sd
    FROM keyed k
)
SELECT group_by, group_key, label, family_id, runs,
       delta_runs, delta_mean,
       CASE WHEN delta_runs >= 2 THEN greatest(-1.0, delta_mean - t_ppf(0.975, delta_runs - 1) * delta_sd / sqrt(delta_runs)) END AS delta_low,
       CASE WHEN delta_runs >= 2 THEN least(1.0, delta_mean + t_ppf(0.975, delta_runs - 1) * delta_sd / sqrt(delta_runs)) END AS delta_high,
       credited_b_runs, credited_b_mean,
       CASE WHEN credited_b_runs >= 2
            THEN greatest(0.0, credited_b_mean - t_ppf(0.975, credited_b_runs - 1) * credited_b_sd / sqrt(credited_b_runs)) END AS credited_b_mean_low,
       CASE WHEN credited_b_runs >= 2
            THEN least(1.0, credited_b_mean + t_ppf(0.975, credited_b_runs - 1) * credited_b_sd / sqrt(credited_b_runs)) END AS credited_b_mean_high,
       b_credited::BIGINT AS b_credited, b_total::BIGINT AS b_total,
       b_credited::DOUBLE / nullif(b_total, 0) AS credited_b_pooled,
       wilson_low(b_credited, b_total) AS credited_b_low,
       wilson_high(b_credited, b_total) AS credited_b_high
FROM agg;
