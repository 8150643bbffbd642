-- paired_comparison v1: two models or settings on the same items: both-right / only-A / only-B / both-wrong, exact McNemar p-value, paired difference with 95% interval
-- Table macro: SELECT * FROM paired_comparison('model-a', 'model-b')            (credited)
--              SELECT * FROM paired_comparison('3f2a9c01de', 'a81b22c3f0', 'correct')
-- A side matches steps whose model, setting_id, run_id or 'model@setting_id' equals the argument.
-- metric: 'credited' (default), 'correct' or 'witness'. Pairs: the i-th occurrence of an item_id on
--   side A (ordered by run start, step) pairs with its i-th occurrence on side B; unpaired steps are
--   counted in steps_a / steps_b but do not enter the test.
-- diff = rate_a - rate_b over pairs = (only_a - only_b) / n_pairs; diff_low/high: Agresti-Min
--   interval; p_mcnemar: exact two-sided binomial test on the discordant pairs.
-- paired_models v1 (view): the same, credited, for every pair of models (model_a < model_b).

CREATE OR REPLACE MACRO _paired_side(side, metric) AS TABLE
SELECT item_id,
       CASE metric WHEN 'correct' THEN correct WHEN 'witness' THEN witness_pass ELSE credited END AS ok,
       row_number() OVER (PARTITION BY item_id ORDER BY run_started_at, run_key, step, line_no) AS occ
FROM steps_v1
WHERE task_type = 'mcq' AND item_id IS NOT NULL
  AND (model = side OR setting_id = side OR run_id = side OR model || '@' || setting_id = side);

CREATE OR REPLACE MACRO paired_comparison_v1(a, b, metric := 'credited') AS TABLE
WITH sa AS (SELECT * FROM _paired_side(a, metric)),
     sb AS (SELECT * FROM _paired_side(b, metric)),
     p AS (SELECT sa.item_id, sa.ok AS ok_a, sb.ok AS ok_b FROM sa JOIN sb USING (item_id, occ)),
     t AS (
         SELECT count(*) AS n_pairs, count(DISTINCT item_id) AS n_items,
                coalesce(count(*) FILTER (WHERE (ok_a AND ok_b)), 0) AS both_right,
                coalesce(count(*) FILTER (WHERE (ok_a AND NOT ok_b)), 0) AS only_a,
                coalesce(count(*) FILTER (WHERE (NOT ok_a AND ok_b)), 0) AS only_b,
                coalesce(count(*) FILTER (WHERE (NOT ok_a AND NOT ok_b)), 0) AS both_wrong
         FROM p)
SELECT a AS side_a, b AS side_b, metric AS metric,
       (SELECT count(*) FROM sa) AS steps_a, (SELECT count(*) FROM sb) AS steps_b,
       n_pairs, n_items, both_right, only_a, only_b, both_wrong,
       (both_right + only_a)::DOUBLE / nullif(n_pairs, 0) AS rate_a,
       (both_right + only_b)::DOUBLE / nullif(n_pairs, 0) AS rate_b,
       (only_a - only_b)::DOUBLE / nullif(n_pairs, 0) AS diff,
       paired_diff_low(only_a, only_b, n_pairs) AS diff_low,
       paired_diff_high(only_a, only_b, n_pairs) AS diff_high,
       CASE WHEN n_pairs > 0 THEN mcnemar_exact_p(only_a, only_b) END AS p_mcnemar
FROM t;

CREATE OR REPLACE VIEW paired_models_v1 AS
WITH s AS (
    SELECT model, item_id, credited AS ok,
           row_number() OVER (PARTITION BY model, item_id ORDER BY run_started_at, run_key, step, line_no) AS occ
    FROM steps_v1 WHERE task_type = 'mcq' AND item_id IS NOT NULL
),
t AS (
    SELECT a.model AS model_a, b.model AS model_b, count(*) AS n_pairs, count(DISTINCT a.item_id) AS n_items,
           count(*) FILTER (WHERE (a.ok AND b.ok)) AS both_right, count(*) FILTER (WHERE (a.ok AND NOT b.ok)) AS only_a,
           count(*) FILTER (WHERE (NOT a.ok AND b.ok)) AS only_b, count(*) FILTER (WHERE (NOT a.ok AND NOT b.ok)) AS both_wrong
    FROM s a JOIN s b ON a.item_id = b.item_id AND a.occ = b.occ AND a.model < b.model
    GROUP BY a.model, b.model
)
SELECT model_a, model_b, n_pairs, n_items, both_right, only_a, only_b, both_wrong,
       (both_right + only_a)::DOUBLE / n_pairs AS rate_a, (both_right + only_b)::DOUBLE / n_pairs AS rate_b,
       (only_a - only_b)::DOUBLE / n_pairs AS diff,
       paired_diff_low(only_a, only_b, n_pairs) AS diff_low,
       paired_diff_high(only_a, only_b, n_pairs) AS diff_high,
       mcnemar_exact_p(only_a, only_b) AS p_mcnemar
FROM t
ORDER BY model_a, model_b;
