-- steps v1: one row per logged step of each run's best copy, with run attributes, dials and cost
-- Only steps of the copy runs_v1 chose are kept, so a .jsonl and its .recovered copy never count twice.
-- item_id: hash of normalised stem + options (computed at ingest): identical items pair up across runs.
-- MCQ outcome columns follow the old analysis script: credited = citations_evidence.credited,
--   else alias_evidence.credited, else false; witness_pass likewise; credit_checked says whether either
--   was logged. correct is false when not logged on an MCQ step; non-MCQ steps keep NULLs.
-- coverage: citations_evidence.coverage, else alias_evidence.coverage.
-- seconds = duration_ms / 1000. student_tokens = student_usage.total_tokens.
-- cost_usd: student prompt/completion tokens priced by the `prices` table for the run's model
--   (NULL when the model has no price or the step has no usage).

CREATE OR REPLACE VIEW steps_v1 AS
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
    r.student,
    r.tau,
    r.stage,
    r.status                                             AS run_status,
    r.setting_id,
    r.setting,
    r.apples,
    r.task                                               AS run_task,
    r.closed_book, r.self_consistency_n, r.sc_extract_n, r.fact_cards_budget, r.best_of_n,
    r.q_min, r.max_learn_boosts, r.idk_enabled, r.use_tools, r.use_fact_cards, r.require_citations,
    s.task_type,
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
JOIN runs_v1 r ON r.run_key = s.run_key AND r.file_id = s.file_id
LEFT JOIN prices p ON p.model = r.model
WHERE s.kind = 'step';
