-- saq_drafts v1: per model and setting, how much self-consistency drafts help SAQ answers: best draft vs first draft score, with a t 95% interval
-- Counted runs only (steps_v2.counted: a model named, not a duplicate of an earlier run).
-- From each SAQ step's logged saq_drafts (one per self-consistency draft, each with the tutor's
--   grading): first = the first draft's grading.score, best = the highest draft grading.score (the
--   grading the step logs). Steps without drafts are left out.
-- steps_n: SAQ steps with drafts; runs: runs they come from; drafts_mean: drafts per step.
-- first_mean, best_mean: mean scores; gain_mean = mean of (best - first) per step, >= 0;
--   gain_low/high: t 95% interval over steps (NULL with fewer than 2 steps; steps treated as
--   independent draws).
-- improved: steps where a later draft scored higher than the first (improved_rate = improved /
--   steps_n, Wilson 95% interval improved_low/high).
-- first_correct, best_correct: steps whose first / best (first of the top-scoring) draft was graded correct.
-- Run attributes (model, setting) come from the steps view through the `st` CTE only.

CREATE OR REPLACE VIEW saq_drafts_v1 AS
WITH st AS (
    SELECT run_key, file_id, line_no, model, setting_id, setting
    FROM steps_v2 WHERE counted
    AND task_type = 'saq'
),
drafts AS (
    SELECT st.*,
           list_transform(
               json_transform(r.line -> '$.saq_drafts', '[{"grading": {"score": "DOUBLE", "correct": "BOOLEAN"}}]'),
               lambda d: d.grading) AS g
    FROM st JOIN records r USING (file_id, line_no)
    WHERE r.kind = 'step' AND r.task_type = 'saq'  -- redundant with st; lets the scan skip other lines
      AND json_type(r.line -> '$.saq_drafts') = 'ARRAY'
),
per_step AS (
    SELECT model, setting_id, setting, run_key, len(g) AS n_drafts,
           g[1].score AS first_score,
           list_max(list_transform(g, lambda x: x.score)) AS best_score,
           coalesce(g[1].correct, false) AS first_correct,
           g AS grades
    FROM drafts
    WHERE len(g) > 0 AND g[1].score IS NOT NULL
),
scored AS (
    SELECT * EXCLUDE (grades),
           coalesce(list_filter(grades, lambda x: x.score = best_score)[1].correct, false) AS best_correct
    FROM per_step
)
SELECT model, setting_id, any_value(setting) AS setting,
       count(DISTINCT run_key) AS runs,
       count(*) AS steps_n,
       avg(n_drafts) AS drafts_mean,
       avg(first_score) AS first_mean,
       avg(best_score) AS best_mean,
       avg(best_score - first_score) AS gain_mean,
       CASE WHEN count(*) >= 2 THEN avg(best_score - first_score)
            - t_ppf(0.975, count(*) - 1) * stddev_samp(best_score - first_score) / sqrt(count(*)) END AS gain_low,
       CASE WHEN count(*) >= 2 THEN avg(best_score - first_score)
            + t_ppf(0.975, count(*) - 1) * stddev_samp(best_score - first_score) / sqrt(count(*)) END AS gain_high,
       count(*) FILTER (WHERE best_score > first_score) AS improved,
       count(*) FILTER (WHERE best_score > first_score)::DOUBLE / count(*) AS improved_rate,
       wilson_low(count(*) FILTER (WHERE best_score > first_score), count(*)) AS improved_low,
       wilson_high(count(*) FILTER (WHERE best_score > first_score), count(*)) AS improved_high,
       count(*) FILTER (WHERE first_correct) AS first_correct,
       count(*) FILTER (WHERE best_correct) AS best_correct
FROM scored
GROUP BY model, setting_id;
