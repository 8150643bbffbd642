-- saq_points v1: per model and setting, how often each expected key point is found or missed and how often each misconception tag occurs in SAQ answers, with Wilson 95% intervals
-- Counted runs only (steps_v2.counted: a model named, not a duplicate of an earlier run).
-- Read from the logged grading of each SAQ step (task.type = saq; the tutor's grading of the best
--   draft): grading.found_points, grading.missing_points, grading.misconception_tags.
-- kind = 'point': label is a key point; found = steps where it was found, missed = steps where it
--   was missing, n = found + missed, rate = found / n (the point's hit rate).
-- kind = 'misconception': label is a tag; found = steps whose grading carries the tag (a tag
--   repeated within one step counts once), missed = NULL, n = steps_n, rate = found / n.
-- steps_n: graded SAQ steps of the model and setting; runs: runs they come from.
-- rate_low/high: Wilson 95% interval over steps (steps treated as independent draws).
-- Run attributes (model, setting) come from the steps view through the `st` CTE only.

CREATE OR REPLACE VIEW saq_points_v1 AS
WITH st AS (
    SELECT run_key, file_id, line_no, model, setting_id, setting
    FROM steps_v2 WHERE counted
    AND task_type = 'saq'
),
graded AS (
    SELECT st.*,
           json_transform(r.line -> '$.grading',
               '{"found_points": ["VARCHAR"], "missing_points": ["VARCHAR"], "misconception_tags": ["VARCHAR"]}') AS g
    FROM st JOIN records r USING (file_id, line_no)
    WHERE r.kind = 'step' AND r.task_type = 'saq'  -- redundant with st; lets the scan skip other lines
      AND json_type(r.line -> '$.grading') = 'OBJECT'
),
totals AS (
    SELECT model, setting_id, any_value(setting) AS setting, count(*) AS steps_n,
           count(DISTINCT run_key) AS runs
    FROM graded GROUP BY model, setting_id
),
marks AS (
    SELECT model, setting_id, 'point' AS kind, p AS label, 1 AS hit, 0 AS miss, file_id, line_no
    FROM graded, unnest(list_distinct(coalesce(g.found_points, []))) AS u(p)
    UNION ALL
    SELECT model, setting_id, 'point', p, 0, 1, file_id, line_no
    FROM graded, unnest(list_distinct(coalesce(g.missing_points, []))) AS u(p)
    UNION ALL
    SELECT model, setting_id, 'misconception', p, 1, 0, file_id, line_no
    FROM graded, unnest(list_distinct(coalesce(g.misconception_tags, []))) AS u(p)
),
counted AS (
    SELECT model, setting_id, kind, label, sum(hit) AS found, sum(miss) AS missed
    FROM marks WHERE label IS NOT NULL GROUP BY ALL
)
SELECT c.model, c.setting_id, t.setting, c.kind, c.label, t.runs, t.steps_n,
       c.found::BIGINT AS found,
       CASE WHEN c.kind = 'point' THEN c.missed::BIGINT END AS missed,
       CASE WHEN c.kind = 'point' THEN (c.found + c.missed)::BIGINT ELSE t.steps_n END AS n,
       c.found::DOUBLE / CASE WHEN c.kind = 'point' THEN c.found + c.missed ELSE t.steps_n END AS rate,
       wilson_low(c.found, CASE WHEN c.kind = 'point' THEN c.found + c.missed ELSE t.steps_n END) AS rate_low,
       wilson_high(c.found, CASE WHEN c.kind = 'point' THEN c.found + c.missed ELSE t.steps_n END) AS rate_high
FROM counted c JOIN totals t USING (model, setting_id);
