-- 0003_records_line: `records` keeps each line exactly as logged (`line`, UTF-8, without its
-- newline) instead of `rec` (every known top-level value as JSON text) and `extra` (the others).
-- Why: the ingest then parses a line once, into the typed columns only, and never re-serialises
-- the large values (cards, messages, tool outputs); a 1 GB ingest needs ~25% less CPU and the
-- file is smaller. Ad-hoc reads of untyped fields become `line ->> '$.key'`.
-- Lines stored before this migration are rebuilt from rec + extra: every value is kept as it was
-- stored (JSON text, compact); keys come in rec's order then extra's, and a key logged as null
-- (which rec could not tell from a missing one) is left out.
-- The run header's plan and runner become typed columns (hdr_plan, hdr_runner) for the runs view.
-- One transaction: DuckDB cannot update and alter a table in the same one, so the table is rebuilt
-- (CREATE TABLE AS + RENAME). The rebuilt table has no NOT NULL constraints: DuckLake cannot add
-- them to a table created in the same transaction; the writers always fill file_id, line_no,
-- load_id and kind.

CREATE TABLE records_0003 AS
SELECT r.* EXCLUDE (rec, extra),
    '{' || concat_ws(',',
        CASE WHEN r.rec.run_header IS NOT NULL THEN '"run_header":' || r.rec.run_header END,
        CASE WHEN r.rec.run_end IS NOT NULL THEN '"run_end":' || r.rec.run_end END,
        CASE WHEN r.rec.schema_version IS NOT NULL THEN '"schema_version":' || r.rec.schema_version END,
        CASE WHEN r.rec.run_id IS NOT NULL THEN '"run_id":' || r.rec.run_id END,
        CASE WHEN r.rec.step IS NOT NULL THEN '"step":' || r.rec.step END,
        CASE WHEN r.rec.ts IS NOT NULL THEN '"ts":' || r.rec.ts END,
        CASE WHEN r.rec.config IS NOT NULL THEN '"config":' || r.rec.config END,
        CASE WHEN r.rec.anonymization IS NOT NULL THEN '"anonymization":' || r.rec.anonymization END,
        CASE WHEN r.rec.guardrails IS NOT NULL THEN '"guardrails":' || r.rec.guardrails END,
        CASE WHEN r.rec.student IS NOT NULL THEN '"student":' || r.rec.student END,
        CASE WHEN r.rec.coverage_tau IS NOT NULL THEN '"coverage_tau":' || r.rec.coverage_tau END,
        CASE WHEN r.rec.runner IS NOT NULL THEN '"runner":' || r.rec.runner END,
        CASE WHEN r.rec.plan IS NOT NULL THEN '"plan":' || r.rec.plan END,
        CASE WHEN r.rec.status IS NOT NULL THEN '"status":' || r.rec.status END,
        CASE WHEN r.rec.reason IS NOT NULL THEN '"reason":' || r.rec.reason END,
        CASE WHEN r.rec.steps_logged IS NOT NULL THEN '"steps_logged":' || r.rec.steps_logged END,
        CASE WHEN r.rec.task IS NOT NULL THEN '"task":' || r.rec.task END,
        CASE WHEN r.rec.presented_stem IS NOT NULL THEN '"presented_stem":' || r.rec.presented_stem END,
        CASE WHEN r.rec.answer IS NOT NULL THEN '"answer":' || r.rec.answer END,
        CASE WHEN r.rec.evaluation IS NOT NULL THEN '"evaluation":' || r.rec.evaluation END,
        CASE WHEN r.rec.tool_outputs IS NOT NULL THEN '"tool_outputs":' || r.rec.tool_outputs END,
        CASE WHEN r.rec.tools_used IS NOT NULL THEN '"tools_used":' || r.rec.tools_used END,
        CASE WHEN r.rec.alias IS NOT NULL THEN '"alias":' || r.rec.alias END,
        CASE WHEN r.rec.alias_evidence IS NOT NULL THEN '"alias_evidence":' || r.rec.alias_evidence END,
        CASE WHEN r.rec.fact_cards_before IS NOT NULL THEN '"fact_cards_before":' || r.rec.fact_cards_before END,
        CASE WHEN r.rec.fact_cards_after IS NOT NULL THEN '"fact_cards_after":' || r.rec.fact_cards_after END,
        CASE WHEN r.rec.card_validation IS NOT NULL THEN '"card_validation":' || r.rec.card_validation END,
        CASE WHEN r.rec.evidence_telemetry IS NOT NULL THEN '"evidence_telemetry":' || r.rec.evidence_telemetry END,
        CASE WHEN r.rec.duration_ms IS NOT NULL THEN '"duration_ms":' || r.rec.duration_ms END,
        CASE WHEN r.rec.student_usage IS NOT NULL THEN '"student_usage":' || r.rec.student_usage END,
        CASE WHEN r.rec.tutor_usage IS NOT NULL THEN '"tutor_usage":' || r.rec.tutor_usage END,
        CASE WHEN r.rec.messages IS NOT NULL THEN '"messages":' || r.rec.messages END,
        CASE WHEN r.rec.guardrail_alerts IS NOT NULL THEN '"guardrail_alerts":' || r.rec.guardrail_alerts END,
        CASE WHEN r.rec.card_metrics IS NOT NULL THEN '"card_metrics":' || r.rec.card_metrics END,
        CASE WHEN r.rec.grading IS NOT NULL THEN '"grading":' || r.rec.grading END,
        CASE WHEN r.rec.saq_drafts IS NOT NULL THEN '"saq_drafts":' || r.rec.saq_drafts END,
        CASE WHEN r.rec.calls IS NOT NULL THEN '"calls":' || r.rec.calls END,
        CASE WHEN r.extra IS NOT NULL AND r.extra::VARCHAR <> '{}' THEN substr(r.extra::VARCHAR, 2, length(r.extra::VARCHAR) - 2) END
    ) || '}' AS line,
    r.rec.plan AS hdr_plan,
    r.rec.runner AS hdr_runner
FROM records AS r;
DROP TABLE records;
ALTER TABLE records_0003 RENAME TO records;

-- include: views/header_json_v2.sql
CREATE OR REPLACE VIEW header_json AS SELECT * FROM header_json_v2;
DROP VIEW IF EXISTS header_json_v1;  -- 0002 of releases before 0003 had no header_json
-- Re-created: a database migrated before 0003 has the runs view that read records.rec.
-- include: views/runs_v1.sql
