-- steps_in v2: the steps of one scope over steps_v2, leaving duplicate and unattributed runs out unless asked (table macro)
-- Arguments (all optional, NULL = no limit): campaign (runs.campaign: the first folder under the
--   runs directory), since / until (the run's start, since <= started_at < until; anything that
--   casts to TIMESTAMP), runs (a list of run_key: `warehouse ... --where "PREDICATE"` selects the
--   runs the predicate holds for and passes their keys here, so no SQL text reaches a macro).
-- include_duplicates := false: runs with a duplicate_of (a re-run of work already held) are left out;
--   true keeps them. include_unattributed := false: runs without a model are left out; true keeps
--   them. Both true = every run (the old behaviour).
-- Rows keep task_type and tau: statistics over them must partition by (task_type, tau).
-- Example: select count(*) from steps_in(campaign := 'exp', since := '2026-01-01').
-- runs_in v2: the same scope over runs_summary_v2 (one row per run).

CREATE OR REPLACE MACRO steps_in_v2(campaign := NULL, since := NULL, until := NULL, runs := NULL,
                                    include_duplicates := false, include_unattributed := false) AS TABLE
SELECT s.*
FROM steps_v2 AS s
WHERE (campaign IS NULL OR s.campaign = campaign)
  AND (since IS NULL OR s.run_started_at >= CAST(since AS TIMESTAMP))
  AND (until IS NULL OR s.run_started_at < CAST(until AS TIMESTAMP))
  AND (runs IS NULL OR list_contains(runs, s.run_key))
  AND (include_duplicates OR s.duplicate_of IS NULL)
  AND (include_unattributed OR s.model IS NOT NULL);

CREATE OR REPLACE MACRO runs_in_v2(campaign := NULL, since := NULL, until := NULL, runs := NULL,
                                   include_duplicates := false, include_unattributed := false) AS TABLE
SELECT r.*
FROM runs_summary_v2 AS r
WHERE (campaign IS NULL OR r.campaign = campaign)
  AND (since IS NULL OR r.run_ts >= CAST(since AS TIMESTAMP))
  AND (until IS NULL OR r.run_ts < CAST(until AS TIMESTAMP))
  AND (runs IS NULL OR list_contains(runs, r.run_key))
  AND (include_duplicates OR r.duplicate_of IS NULL)
  AND (include_unattributed OR r.model IS NOT NULL);
