-- rag_delta v1: what the tools (retrieval) add: credited with use_tools on minus off, for runs of one model matched on every other dial and condition
-- Counted runs only (steps_v2.counted: a model named, not a duplicate of an earlier run).
-- Runs: MCQ runs only (alias-swap runs ask two phases of one rule: see the alias views; SAQ and
--   other task types have no credited MCQ steps). Old logs without a task count as MCQ.
-- Matching: two runs are a pair of arms when model, task conditions (task, difficulty, options, tau)
--   and every logged dial except use_tools and tools are equal (runs_v2.dial_kv minus those two).
--   One row per model x matched setting that has runs in both arms; unmatched settings are left out.
-- Per arm: n_runs, steps_n, credited (pooled over steps), acc, attribution_gap = acc - credited.
-- rag_delta = credited_on - credited_off. Its 95% interval adds the two arms' cluster-robust
--   variances (cluster_stats_v1: the run is the independent unit) with Student t on
--   min(n_runs_on, n_runs_off) - 1 df (conservative); NULL unless both arms have 2+ runs.
-- The old tool called a delta of 0.15 or more "healthy" and an attribution gap of 0.05 or less
--   acceptable; the columns are left for the reader to judge against the interval.

CREATE OR REPLACE VIEW rag_delta_v1 AS
WITH src AS (
    SELECT s.run_key, s.model, s.credited, s.correct, r.use_tools, r.cond_key,
           array_to_string(list_filter(r.dial_kv, lambda e:
               NOT (starts_with(e, 'use_tools=') OR starts_with(e, 'tools='))), ';') AS match_dials,
           r.setting
    FROM (SELECT * FROM steps_v2 WHERE counted) s JOIN runs_v2 r USING (run_key)
    WHERE s.task_type = 'mcq' AND coalesce(s.run_task, 'mcq') = 'mcq' AND r.use_tools IS NOT NULL
),
per_run AS (
    SELECT run_key, model, use_tools, md5(cond_key || '|' || coalesce(match_dials, '')) AS match_key,
           any_value(setting) AS setting,
           count(*) AS m, count(*) FILTER (WHERE credited) AS k, count(*) FILTER (WHERE correct) AS c
    FROM src GROUP BY run_key, model, use_tools, cond_key, match_dials
),
arm AS (
    SELECT model, match_key, use_tools, min(setting) AS setting, count(*) AS g,
           sum(m) AS sm, sum(k) AS sk, sum(c) AS sc,
           sum(k * k) AS skk, sum(k * m) AS skm, sum(m * m) AS smm
    FROM per_run GROUP BY model, match_key, use_tools
),
pair AS (
    SELECT n.model, left(n.match_key, 10) AS match_key, n.setting AS setting_on, f.setting AS setting_off,
           n.g AS n_runs_on, f.g AS n_runs_off, n.sm::BIGINT AS steps_on, f.sm::BIGINT AS steps_off,
           n.sk::DOUBLE / n.sm AS credited_on, f.sk::DOUBLE / f.sm AS credited_off,
           n.sc::DOUBLE / n.sm AS acc_on, f.sc::DOUBLE / f.sm AS acc_off,
           cluster_ratio_var(n.sk::DOUBLE, n.sm::DOUBLE, n.skk::DOUBLE, n.skm::DOUBLE, n.smm::DOUBLE, n.g)
           + cluster_ratio_var(f.sk::DOUBLE, f.sm::DOUBLE, f.skk::DOUBLE, f.skm::DOUBLE, f.smm::DOUBLE, f.g) AS var
    FROM arm n JOIN arm f ON f.model = n.model AND f.match_key = n.match_key AND NOT f.use_tools
    WHERE n.use_tools
)
SELECT model, match_key, setting_on, setting_off, n_runs_on, n_runs_off, steps_on, steps_off,
       credited_on, credited_off, credited_on - credited_off AS rag_delta,
       CASE WHEN var IS NOT NULL THEN greatest(-1.0, credited_on - credited_off - t_ppf(0.975, least(n_runs_on, n_runs_off) - 1) * sqrt(var)) END AS rag_delta_low,
       CASE WHEN var IS NOT NULL THEN least(1.0, credited_on - credited_off + t_ppf(0.975, least(n_runs_on, n_runs_off) - 1) * sqrt(var)) END AS rag_delta_high,
       acc_on, acc_off, acc_on - credited_on AS attribution_gap_on, acc_off - credited_off AS attribution_gap_off
FROM pair;
