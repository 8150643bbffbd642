-- talk v1: how much the tutor talks: per run the tutor / (student + tutor) token ratio, tokens per step and turns, and the ratio pooled per model over runs
-- Counted runs only (steps_v2.counted: a model named, not a duplicate of an earlier run).
-- Unit: every logged step of a run (MCQ or not). student_tokens / tutor_tokens = sums of the steps'
--   student_usage / tutor_usage total_tokens; talk_ratio = tutor / (student + tutor), NULL when both
--   are 0 or missing. tokens_per_step = student tokens / steps with student usage.
-- n_turns = API calls logged in the steps' messages lists (NULL when the run logged no messages);
--   credited_final = credited share of the run's MCQ steps (as runs_summary_v2).
-- talk_pooled_v1: per model, the mean of the per-run talk ratios with a 95% Student t interval over
--   runs (runs are the independent unit; NULL below 2 runs), and the run-level Pearson correlation
--   of talk_ratio with credited_final (NULL below 3 runs) with a Fisher-z 95% interval (NULL below 4).

CREATE OR REPLACE VIEW talk_v1 AS
WITH src AS (
    SELECT s.run_key, s.run_id, s.model, s.setting_id, s.task_type, s.credited,
           s.student_tokens, s.tutor_tokens,
           json_array_length(r.line -> '$.messages') AS turns
    FROM (SELECT * FROM steps_v2 WHERE counted) s JOIN records r ON r.file_id = s.file_id AND r.line_no = s.line_no
)
SELECT run_key, any_value(run_id) AS run_id, any_value(model) AS model, any_value(setting_id) AS setting_id,
       count(*) AS steps_all,
       count(*) FILTER (WHERE task_type = 'mcq') AS steps_n,
       avg(credited::INT) FILTER (WHERE task_type = 'mcq') AS credited_final,
       sum(student_tokens)::BIGINT AS student_tokens,
       sum(tutor_tokens)::BIGINT AS tutor_tokens,
       sum(tutor_tokens)::DOUBLE / nullif(coalesce(sum(student_tokens), 0) + coalesce(sum(tutor_tokens), 0), 0) AS talk_ratio,
       sum(student_tokens)::DOUBLE / nullif(count(student_tokens), 0) AS tokens_per_step,
       sum(turns)::BIGINT AS n_turns
FROM src
GROUP BY run_key;

CREATE OR REPLACE VIEW talk_pooled_v1 AS
WITH a AS (
    SELECT model, count(talk_ratio) AS n_runs, avg(talk_ratio) AS talk_ratio_mean,
           stddev_samp(talk_ratio) AS talk_ratio_sd,
           CASE WHEN count(talk_ratio) >= 3 THEN corr(talk_ratio, credited_final) END AS corr_talk_credited,
           count(*) FILTER (WHERE talk_ratio IS NOT NULL AND credited_final IS NOT NULL) AS n_pairs,
           avg(tokens_per_step) AS tokens_per_step_mean, avg(n_turns) AS turns_per_run
    FROM talk_v1 GROUP BY model
)
SELECT model, n_runs, talk_ratio_mean,
       CASE WHEN n_runs >= 2 THEN talk_ratio_mean - t_ppf(0.975, n_runs - 1) * talk_ratio_sd / sqrt(n_runs) END AS talk_ratio_low,
       CASE WHEN n_runs >= 2 THEN talk_ratio_mean + t_ppf(0.975, n_runs - 1) * talk_ratio_sd / sqrt(n_runs) END AS talk_ratio_high,
       n_pairs, corr_talk_credited,
       CASE WHEN n_pairs >= 4 AND abs(corr_talk_credited) < 1 THEN tanh(atanh(corr_talk_credited) - 1.959963984540054 / sqrt(n_pairs - 3)) END AS corr_low,
       CASE WHEN n_pairs >= 4 AND abs(corr_talk_credited) < 1 THEN tanh(atanh(corr_talk_credited) + 1.959963984540054 / sqrt(n_pairs - 3)) END AS corr_high,
       tokens_per_step_mean, turns_per_run
FROM a;
