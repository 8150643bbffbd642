-- not_runs v1: files under the runs directory that hold no run, and why (they are never runs)
-- reason: 'no valid JSON lines' (every line quarantined or blank), or 'no run header and no step
--   records' (JSON lines of another kind, e.g. a cards file such as cards_cf.jsonl or an analysis
--   output). Missing files are left out. lines = JSON lines loaded, bad_lines = quarantined lines.

CREATE OR REPLACE VIEW not_runs_v1 AS
WITH kinds AS (
    SELECT file_id, count(*) AS lines,
           count(*) FILTER (WHERE kind IN ('header', 'step', 'run_end')) AS log_lines
    FROM records GROUP BY file_id
)
SELECT f.path, f.relpath, f.status,
       CASE WHEN coalesce(k.lines, 0) = 0 THEN 'no valid JSON lines'
            ELSE 'no run header and no step records' END AS reason,
       coalesce(k.lines, 0) AS lines, f.bad_lines, f.file_id
FROM files f LEFT JOIN kinds k USING (file_id)
WHERE f.status <> 'missing' AND coalesce(k.log_lines, 0) = 0 AND f.ingested_bytes > 0
ORDER BY f.relpath;
