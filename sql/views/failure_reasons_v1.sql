-- failure_reasons v1: why credit is lost: the share of each logged reason among non-credited MCQ steps, per run and pooled per setting and model, with the no_snippet_quote alert and the attribution gap
-- Counted runs only (steps_v2.counted: a model named, not a duplicate of an earlier run).
-- Runs: MCQ runs only (alias-swap runs ask two phases of one rule: see the alias views; SAQ and
--   other task types have no credited MCQ steps). Old logs without a task count as MCQ.
-- Unit: MCQ steps. A non-credited step may log several reasons (citations_evidence.reasons); each
--   counts once per step, so shares of one group can add up to more than 1. A non-credited step that
--   logged no reason (e.g. a wrong answer whose evidence passed) counts under '(none)'.
-- Reasons listed per model: every reason any non-credited step of that model logged, so a reason
--   a run never hit shows as 0 for that run, not as a missing row.
-- Columns (per run, level = 'run'): reason_n / noncredited_n = share, with a Wilson 95% interval
--   over the run's non-credited steps (steps treated as independent within one run).
--   no_snippet_quote_rate = steps logging no_snippet_quote / all MCQ steps (per step, not per
--   failure); no_snippet_alert = that rate > 0.2 (the old analyzer's alert). attribution_gap = acc -
--   credited: the share of steps answered right but not credited.
-- failure_reasons_pooled_v1: level = 'setting' (model + setting_id) or 'model'. Shares and rates
--   are pooled over steps (sum over runs / sum over runs) with cluster-robust 95% intervals (see
--   cluster_stats_v1: runs, not steps, are the independent unit; NULL below 2 runs). n_runs counts
--   runs with MCQ steps, n_runs_failing those with a non-credited step (the runs a reason share
--   rests on); the alert uses the pooled rate.

CREATE OR REPLACE VIEW failure_reasons_v1 AS
WITH src AS (
    SELECT run_key, run_id, model, setting_id, setting, credited, correct, reasons
    FROM steps_v2 WHERE counted
    AND task_type = 'mcq' AND coalesce(run_task, 'mcq') = 'mcq'
),
per_run AS (
    SELECT run_key, any_value(run_id) AS run_id, any_value(model) AS model,
           any_value(setting_id) AS setting_id, any_value(setting) AS setting,
           count(*) AS steps_n,
           count(*) FILTER (WHERE NOT credited) AS noncredited_n,
           count(*) FILTER (WHERE correct) AS correct_n,
           count(*) FILTER (WHERE credited) AS credited_n,
           count(*) FILTER (WHERE list_contains(reasons, 'no_snippet_quote')) AS no_snippet_n
    FROM src GROUP BY run_key
),
hits AS (
    SELECT run_key, model, reason, count(*) AS reason_n
    FROM (SELECT run_key, model,
                 unnest(CASE WHEN len(coalesce(reasons, [])) = 0 THEN ['(none)']
                             ELSE list_distinct(reasons) END) AS reason
          FROM src WHERE NOT credited)
    GROUP BY run_key, model, reason
),
model_reasons AS (
    SELECT DISTINCT model, reason FROM hits
)
SELECT p.run_key, p.run_id, p.model, p.setting_id, p.setting, mr.reason,
       p.steps_n, p.noncredited_n, coalesce(h.reason_n, 0) AS reason_n,
       coalesce(h.reason_n, 0)::DOUBLE / nullif(p.noncredited_n, 0) AS share,
       wilson_low(coalesce(h.reason_n, 0), p.noncredited_n) AS share_low,
       wilson_high(coalesce(h.reason_n, 0), p.noncredited_n) AS share_high,
       p.no_snippet_n,
       p.no_snippet_n::DOUBLE / p.steps_n AS no_snippet_quote_rate,
       p.no_snippet_n::DOUBLE / p.steps_n > 0.2 AS no_snippet_alert,
       p.correct_n, p.credited_n,
       p.correct_n::DOUBLE / p.steps_n AS acc,
       p.credited_n::DOUBLE / p.steps_n AS credited,
       (p.correct_n - p.credited_n)::DOUBLE / p.steps_n AS attribution_gap
FROM per_run p
JOIN model_reasons mr ON mr.model = p.model
LEFT JOIN hits h ON h.run_key = p.run_key AND h.reason = mr.reason;

CREATE OR REPLACE VIEW failure_reasons_pooled_v1 AS
WITH a AS (
    SELECT CASE WHEN grouping(setting_id) = 0 THEN 'setting' ELSE 'model' END AS level,
           model, setting_id, CASE WHEN grouping(setting_id) = 0 THEN any_value(setting) END AS setting, reason,
           count(*) AS n_runs,
           count(*) FILTER (WHERE noncredited_n > 0) AS n_runs_failing,
           sum(steps_n)::BIGINT AS steps_n,
           sum(noncredited_n)::BIGINT AS noncredited_n,
           sum(reason_n)::BIGINT AS reason_n,
           sum(reason_n * reason_n) AS skk, sum(reason_n * noncredited_n) AS skm,
           sum(noncredited_n * noncredited_n) AS smm,
           sum(no_snippet_n)::BIGINT AS no_snippet_n,
           sum(no_snippet_n * no_snippet_n) AS nkk, sum(no_snippet_n * steps_n) AS nkm,
           sum(steps_n * steps_n) AS nmm,
           sum(correct_n - credited_n)::BIGINT AS gap_n,
           sum((correct_n - credited_n) * (correct_n - credited_n)) AS gkk,
           sum((correct_n - credited_n) * steps_n) AS gkm,
           sum(correct_n)::BIGINT AS correct_n, sum(credited_n)::BIGINT AS credited_n
    FROM failure_reasons_v1
    GROUP BY GROUPING SETS ((model, setting_id, reason), (model, reason))
),
h AS (
    SELECT *,
           cluster_ratio_half(reason_n, noncredited_n, skk, skm, smm, n_runs_failing) AS share_half,
           cluster_ratio_half(no_snippet_n, steps_n, nkk, nkm, nmm, n_runs) AS ns_half,
           cluster_ratio_half(gap_n, steps_n, gkk, gkm, nmm, n_runs) AS gap_half
    FROM a
)
SELECT level, model, setting_id, setting, reason, n_runs, n_runs_failing, steps_n, noncredited_n, reason_n,
       reason_n::DOUBLE / nullif(noncredited_n, 0) AS share,
       CASE WHEN share_half IS NOT NULL THEN greatest(0.0, reason_n::DOUBLE / nullif(noncredited_n, 0) - share_half) END AS share_low,
       CASE WHEN share_half IS NOT NULL THEN least(1.0, reason_n::DOUBLE / nullif(noncredited_n, 0) + share_half) END AS share_high,
       no_snippet_n,
       no_snippet_n::DOUBLE / steps_n AS no_snippet_quote_rate,
       CASE WHEN ns_half IS NOT NULL THEN greatest(0.0, no_snippet_n::DOUBLE / steps_n - ns_half) END AS no_snippet_quote_rate_low,
       CASE WHEN ns_half IS NOT NULL THEN least(1.0, no_snippet_n::DOUBLE / steps_n + ns_half) END AS no_snippet_quote_rate_high,
       no_snippet_n::DOUBLE / steps_n > 0.2 AS no_snippet_alert,
       correct_n::DOUBLE / steps_n AS acc,
       credited_n::DOUBLE / steps_n AS credited,
       gap_n::DOUBLE / steps_n AS attribution_gap,
       CASE WHEN gap_half IS NOT NULL THEN greatest(-1.0, gap_n::DOUBLE / steps_n - gap_half) END AS attribution_gap_low,
       CASE WHEN gap_half IS NOT NULL THEN least(1.0, gap_n::DOUBLE / steps_n + gap_half) END AS attribution_gap_high
FROM h;
