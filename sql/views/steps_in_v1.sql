-- steps_in v1: the steps of one scope, the base every scoped statistic reads (table macro)
-- Arguments, each optional: campaign (runs.campaign, the first folder under the runs directory;
--   '*' = every campaign), since / until (the run's start, since <= started_at < until; any text
--   that casts to TIMESTAMP; '-infinity' / 'infinity' = no limit, and then runs without a start
--   time are kept too), runs (a JSON array of run_key
--   as text, e.g. '["k1","k2"]'; '*' = every run). `warehouse ... --where "PREDICATE"` selects the
--   runs the predicate holds for and passes their keys here, so no SQL text reaches a macro.
-- The defaults are text, not NULL: the DuckLake catalog cannot store a NULL macro default.
-- Example: select count(*) from steps_in(campaign := 'exp', since := '2026-01-01').
-- runs_in v1: the same scope over runs_summary (one row per run).

CREATE OR REPLACE MACRO steps_in_v1(campaign := '*', since := '-infinity', until := 'infinity', runs := '*') AS TABLE
SELECT s.*
FROM steps_v1 AS s
WHERE (campaign = '*' OR s.campaign = campaign)
  AND (since = '-infinity' OR s.run_started_at >= CAST(since AS TIMESTAMP))
  AND (until = 'infinity' OR s.run_started_at < CAST(until AS TIMESTAMP))
  AND (runs = '*' OR list_contains(json_extract_string(CASE WHEN runs = '*' THEN '[]' ELSE runs END, '$[*]'), s.run_key));

CREATE OR REPLACE MACRO runs_in_v1(campaign := '*', since := '-infinity', until := 'infinity', runs := '*') AS TABLE
SELECT r.*
FROM runs_summary_v1 AS r
WHERE (campaign = '*' OR r.campaign = campaign)
  AND (since = '-infinity' OR r.run_ts >= CAST(since AS TIMESTAMP))
  AND (until = 'infinity' OR r.run_ts < CAST(until AS TIMESTAMP))
  AND (runs = '*' OR list_contains(json_extract_string(CASE WHEN runs = '*' THEN '[]' ELSE runs END, '$[*]'), r.run_key));
