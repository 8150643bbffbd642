-- steps_in v1: the steps of one scope, the base every scoped statistic reads (table macro)
-- Arguments (all optional, NULL = no limit): campaign (runs.campaign: the first folder under the
--   runs directory), since / until (the run's start, since <= started_at < until; anything that
--   casts to TIMESTAMP), runs (a list of run_key: `warehouse ... --where "PREDICATE"` selects the
--   runs the predicate holds for and passes their keys here, so no SQL text reaches a macro).
-- Example: select count(*) from steps_in(campaign := 'exp', since := '2026-01-01').
-- runs_in v1: the same scope over runs_summary (one row per run).

CREATE OR REPLACE MACRO steps_in_v1(campaign := NULL, since := NULL, until := NULL, runs := NULL) AS TABLE
SELECT s.*
FROM steps_v1 AS s
WHERE (campaign IS NULL OR s.campaign = campaign)
  AND (since IS NULL OR s.run_started_at >= CAST(since AS TIMESTAMP))
  AND (until IS NULL OR s.run_started_at < CAST(until AS TIMESTAMP))
  AND (runs IS NULL OR list_contains(runs, s.run_key));

CREATE OR REPLACE MACRO runs_in_v1(campaign := NULL, since := NULL, until := NULL, runs := NULL) AS TABLE
SELECT r.*
FROM runs_summary_v1 AS r
WHERE (campaign IS NULL OR r.campaign = campaign)
  AND (since IS NULL OR r.run_ts >= CAST(since AS TIMESTAMP))
  AND (until IS NULL OR r.run_ts < CAST(until AS TIMESTAMP))
  AND (runs IS NULL OR list_contains(runs, r.run_key));
