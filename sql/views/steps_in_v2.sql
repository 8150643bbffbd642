-- steps_in v2: the steps of one scope over steps_v2, leaving duplicate and unattributed runs out unless asked (table macro)
-- Arguments, each optional: campaign (runs.campaign, the first folder under the runs directory;
--   '*' = every campaign), since / until (the run's start, since <= started_at < until; any text
--   that casts to TIMESTAMP; '-infinity' / 'infinity' = no limit, and then runs without a start
--   time are kept too), runs (a JSON array of run_key as text, e.g. '["k1","k2"]'; '*' = every
--   run). `warehouse ... --where "PREDICATE"` selects the runs the predicate holds for and passes
--   their keys here, so no SQL text reaches a macro.
-- include_duplicates := false: runs with a duplicate_of (a re-run of work already held) are left
--   out; true keeps them. include_unattributed := false: runs without a model are left out; true
--   keeps them. The defaults select exactly the counted runs (runs_v2.counted).
-- Rows keep task_type and tau: statistics over them must partition by (task_type, tau).
-- The defaults are text or boolean, not NULL: the DuckLake catalog cannot store a NULL default.
-- Example: select count(*) from steps_in(campaign := 'exp', since := '2026-01-01').
-- runs_in v2: the same scope over runs_summary_v2 (one row per run).

CREATE OR REPLACE MACRO steps_in_v2(campaign := '*', since := '-infinity', until := 'infinity', runs := '*',
                                    include_duplicates := false, include_unattributed := false) AS TABLE
SELECT s.*
FROM steps_v2 AS s
WHERE (campaign = '*' OR s.campaign = campaign)
  AND (since = '-infinity' OR s.run_started_at >= CAST(since AS TIMESTAMP))
  AND (until = 'infinity' OR s.run_started_at < CAST(until AS TIMESTAMP))
  AND (runs = '*' OR list_contains(json_extract_string(CASE WHEN runs = '*' THEN '[]' ELSE runs END, '$[*]'), s.run_key))
  AND (include_duplicates OR s.duplicate_of IS NULL)
  AND (include_unattributed OR s.model IS NOT NULL);

CREATE OR REPLACE MACRO runs_in_v2(campaign := '*', since := '-infinity', until := 'infinity', runs := '*',
                                   include_duplicates := false, include_unattributed := false) AS TABLE
SELECT r.*
FROM runs_summary_v2 AS r
WHERE (campaign = '*' OR r.campaign = campaign)
  AND (since = '-infinity' OR r.run_ts >= CAST(since AS TIMESTAMP))
  AND (until = 'infinity' OR r.run_ts < CAST(until AS TIMESTAMP))
  AND (runs = '*' OR list_contains(json_extract_string(CASE WHEN runs = '*' THEN '[]' ELSE runs END, '$[*]'), r.run_key))
  AND (include_duplicates OR r.duplicate_of IS NULL)
  AND (include_unattributed OR r.model IS NOT NULL);
