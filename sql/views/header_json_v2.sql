-- header_json v2: plan and runner of each run-header line as JSON (read by the runs view)
-- Read from the typed columns records.hdr_plan / hdr_runner of migration 0003.
CREATE OR REPLACE VIEW header_json_v2 AS
SELECT file_id, line_no, hdr_plan AS plan, hdr_runner AS runner FROM records WHERE kind = 'header';
