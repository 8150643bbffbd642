-- header_json v1: plan and runner of each run-header line as JSON (read by the runs view)
-- Read from `records.rec`, the storage of migrations 0001-0002; 0003 replaced it (see v2).
CREATE OR REPLACE VIEW header_json_v1 AS
SELECT file_id, line_no, rec.plan AS plan, rec.runner AS runner FROM records WHERE kind = 'header';
