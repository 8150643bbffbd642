-- catalog v2: one row per run, newest first, archived runs and duplicates included (flagged)
-- Columns of the old scripts/catalog.py (run_ts, mtime, provider, model, task, budget, sc, idk,
--   closed_book, use_fact_cards, require_citations, steps_n, credited_final, witness_final,
--   acc_final, mean_step_seconds, tokens_total, path) plus status, campaign, archived, n_copies,
--   run_id and run_key, and from runs_summary_v2: model_raw, model_from, tau, tau_from, task_type,
--   score_mean (with score_low/high), duplicate_of and counted. steps_n counts scored steps of every
--   task type. mtime is NULL for archived copies. Order: run_ts desc, then mtime desc.

CREATE OR REPLACE VIEW catalog_v2 AS
SELECT
    s.run_ts, CASE WHEN NOT s.archived THEN s.file_mtime END AS mtime,
    s.provider, s.model, s.model_raw, s.model_from, s.tau, s.tau_from, s.task, s.task_type, s.fact_cards_budget AS budget, s.self_consistency_n AS sc,
    s.idk_enabled AS idk, s.closed_book, s.use_fact_cards, s.require_citations,
    s.steps_n, s.score_mean, s.score_low, s.score_high, s.credited_final, s.witness_final, s.acc_final, s.mean_step_seconds, s.tokens_total,
    s.source_path AS path, s.status, s.campaign, s.archived, s.n_copies, s.duplicate_of, s.counted, s.run_id, s.run_key
FROM runs_summary_v2 s
ORDER BY s.run_ts DESC NULLS LAST, mtime DESC NULLS LAST, s.run_key;
