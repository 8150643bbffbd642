-- steps v2: one row per logged step of each run's best copy, with the run's canonical model, τ, duplicate flag and a score in [0, 1] for every task type
-- Only steps of the copy runs_v2 chose are kept, so a .jsonl and its .recovered copy never count twice.
-- model, model_raw, model_from, tau, tau_from, duplicate_of, counted: from runs_v2 (counted = the run
--   is no duplicate and has a model; steps_in leaves other steps out by default).
-- task_type: the step's own task.type; run_task_type: the run's (runs_v2.task_type).
-- score in [0, 1]: mcq = correct (false when not logged); saq = grading.score (the logged best
--   draft); code = evaluation.passed / evaluation.total (0 when it errored or has no total); proof
--   and table_qa = evaluation.ok (1/0; NULL when the step logged no evaluation). NULL for other
--   task types. Never average scores of different task types: partition by task_type.
-- item_id: hash of normalised stem + options (computed at ingest): identical items pair up across runs.
-- MCQ outcome columns follow the old analysis: credited = citations_evidence.credited, else
--   alias_evidence.credited, else false; witness_pass likewise; credit_checked says whether either was
--   logged. correct is false when not logged on an MCQ step; non-MCQ steps keep NULLs.
-- coverage: citations_evidence.coverage, else alias_evidence.coverage.
-- seconds = duration_ms / 1000. student_tokens = student_usage.total_tokens.
-- cost_usd: student prompt/completion tokens priced by the `prices` table for the run's model
--   (NULL when the model has no price or the step has no usage).

CREATE OR REPLACE VIEW steps_v2 AS
SELECT
    r.run_key,
    r.run_id,
    s.file_id,
    s.line_no,
    s.step,
    CASE WHEN s.ts IS NOT NULL THEN make_timestamp((s.ts * 1000000)::BIGINT) END AS ts,
    r.started_at                                         AS run_started_at,
    r.campaign,
    r.provider,
    r.model,
    r.model_raw,
    r.model_from,
    r.student,
    r.tau,
    r.tau_from,
    r.duplicate_of,
    r.counted,
    r.task_type                                          AS run_task_type,
    r.stage,
    r.status                                             AS run_status,
    r.setting_id,
    r.setting,
    r.apples,
    r.task                                               AS run_task,
    r.closed_book, r.self_consistency_n, r.sc_extract_n, r.fact_cards_budget, r.best_of_n,
    r.q_min, r.max_learn_boosts, r.idk_enabled, r.use_tools, r.use_fact_cards, r.require_citations,
    s.task_type,
    CASE s.task_type
        WHEN 'mcq' THEN coalesce(s.correct, false)::INT::DOUBLE
        WHEN 'saq' THEN greatest(0.0, least(1.0, coalesce(s.grading_score, o.logged_score)))
        ELSE o.logged_score
    END                                                  AS score,
    s.item_id,
    s.n_options,
    s.correct_index,
    s.chosen_index,
    CASE WHEN s.task_type = 'mcq' THEN coalesce(s.correct, false) ELSE s.correct END AS correct,
    s.abstained,
    s.abstain_reason,
    s.calibrated_score,
    coalesce(s.coverage, s.alias_coverage)               AS coverage,
    CASE WHEN s.task_type = 'mcq' THEN coalesce(s.witness_pass, s.alias_witness_pass, false) END AS witness_pass,
    CASE WHEN s.task_type = 'mcq' THEN coalesce(s.credited, s.alias_credited, false) END AS credited,
    (s.credited IS NOT NULL OR s.alias_credited IS NOT NULL) AS credit_checked,
    s.reasons,
    s.er_coverage,
    s.alias_phase,
    s.grading_score,
    s.grading_correct,
    s.votes_n,
    s.citations_n,
    s.cards_n,
    s.duration_ms / 1000.0                               AS seconds,
    s.student_calls,
    s.student_prompt_tokens,
    s.student_completion_tokens,
    s.student_total_tokens                               AS student_tokens,
    s.tutor_calls,
    s.tutor_prompt_tokens,
    s.tutor_completion_tokens,
    s.tutor_total_tokens                                 AS tutor_tokens,
    CASE WHEN p.model IS NOT NULL AND (s.student_prompt_tokens IS NOT NULL OR s.student_completion_tokens IS NOT NULL)
         THEN (coalesce(s.student_prompt_tokens, 0) * p.input_per_mtok
               + coalesce(s.student_completion_tokens, 0) * p.output_per_mtok) / 1e6 END AS cost_usd
FROM records s
JOIN runs_v2 r ON r.run_key = s.run_key AND r.file_id = s.file_id
-- Scores the typed columns lack, read from the logged line of non-MCQ steps only (the line
-- column is never scanned for MCQ steps).
LEFT JOIN (
    SELECT file_id, line_no,
           CASE task_type
               WHEN 'saq' THEN TRY_CAST(line ->> '$.grading.score' AS DOUBLE)
               WHEN 'code' THEN greatest(0.0, least(1.0, coalesce(
                   TRY_CAST(line ->> '$.evaluation.passed' AS DOUBLE)
                       / nullif(TRY_CAST(line ->> '$.evaluation.total' AS DOUBLE), 0), 0.0)))
               WHEN 'proof' THEN CASE WHEN json_exists(line, '$.evaluation')
                   THEN coalesce(TRY_CAST(line ->> '$.evaluation.ok' AS BOOLEAN), false)::INT::DOUBLE END
               WHEN 'table_qa' THEN CASE WHEN json_exists(line, '$.evaluation')
                   THEN coalesce(TRY_CAST(line ->> '$.evaluation.ok' AS BOOLEAN), false)::INT::DOUBLE END
           END AS logged_score
    FROM records
    WHERE kind = 'step' AND task_type IN ('saq', 'code', 'proof', 'table_qa')
) o ON o.file_id = s.file_id AND o.line_no = s.line_no
LEFT JOIN prices p ON p.model = r.model
WHERE s.kind = 'step';
