-- guardrail_alerts v1: the token guardrail as logged: one typed row per step that logged guardrail_alerts, and the share of steps in each band state per run and model
-- Counted runs only (steps_v2.counted: a model named, not a duplicate of an earlier run).
-- Source: the step's guardrail_alerts object (written when a run had a guardrail band). tokens_step:
--   tokens (the step's student tokens), state (in_band | below_band | above_band | near_trough),
--   band_low / band_high / opt (the band the run used), autonudge (whether the run was allowed to
--   change its dials), action (NULL | warn_richer | nudge_richer | warn_leaner | nudge_leaner |
--   alert). tokens_run: tokens_cum (running sum of student tokens) and the per-run band.
--   turns: turns_limit and resolve_triggered (the run was told to resolve after too many steps).
-- guardrail_states_v1: level = 'run' or 'model'; per state the steps in it, their share of the
--   steps with alerts, and a 95% interval (Wilson within a run; cluster-robust over runs at model
--   level, cluster_stats_v1, NULL below 2 runs); nudged_n = steps whose action was a nudge.

CREATE OR REPLACE VIEW guardrail_alerts_v1 AS
WITH src AS (
    SELECT s.run_key, s.run_id, s.model, s.setting_id, s.step, s.line_no, s.credited,
           r.line -> '$.guardrail_alerts' AS g
    FROM (SELECT * FROM steps_v2 WHERE counted) s JOIN records r ON r.file_id = s.file_id AND r.line_no = s.line_no
    WHERE json_type(r.line -> '$.guardrail_alerts') = 'OBJECT'
)
SELECT run_key, run_id, model, setting_id, step, line_no, credited,
       TRY_CAST(g ->> '$.tokens_step.tokens' AS BIGINT) AS tokens,
       g ->> '$.tokens_step.state' AS state,
       TRY_CAST(g ->> '$.tokens_step.band_low' AS DOUBLE) AS band_low,
       TRY_CAST(g ->> '$.tokens_step.band_high' AS DOUBLE) AS band_high,
       TRY_CAST(g ->> '$.tokens_step.opt' AS DOUBLE) AS opt,
       TRY_CAST(g ->> '$.tokens_step.autonudge' AS BOOLEAN) AS autonudge,
       g ->> '$.tokens_step.action' AS action,
       TRY_CAST(g ->> '$.tokens_run.tokens_cum' AS BIGINT) AS tokens_cum,
       TRY_CAST(g ->> '$.tokens_run.band_low' AS DOUBLE) AS run_band_low,
       TRY_CAST(g ->> '$.tokens_run.band_high' AS DOUBLE) AS run_band_high,
       TRY_CAST(g ->> '$.tokens_run.opt' AS DOUBLE) AS run_opt,
       TRY_CAST(g ->> '$.turns.limit' AS INTEGER) AS turns_limit,
       TRY_CAST(g ->> '$.turns.resolve_triggered' AS BOOLEAN) AS resolve_triggered
FROM src;

CREATE OR REPLACE VIEW guardrail_states_v1 AS
WITH per_run AS (
    SELECT run_key, model, count(*) AS m FROM guardrail_alerts_v1 WHERE state IS NOT NULL GROUP BY run_key, model
),
states AS (
    SELECT DISTINCT model, state FROM guardrail_alerts_v1 WHERE state IS NOT NULL
),
cells AS (
    SELECT p.run_key, p.model, s.state, p.m,
           count(a.step) AS k,
           count(a.step) FILTER (WHERE a.action LIKE 'nudge_%') AS nudged
    FROM per_run p JOIN states s USING (model)
    LEFT JOIN guardrail_alerts_v1 a ON a.run_key = p.run_key AND a.state = s.state
    GROUP BY p.run_key, p.model, s.state, p.m
),
model_level AS (
    SELECT model, state, count(*) AS g, sum(k) AS sk, sum(m) AS sm, sum(k * k) AS skk, sum(k * m) AS skm,
           sum(m * m) AS smm, sum(nudged) AS nudged
    FROM cells GROUP BY model, state
)
SELECT 'run' AS level, model, run_key, state, 1 AS n_runs, m AS steps_n, k AS state_n,
       k::DOUBLE / m AS share, wilson_low(k, m) AS share_low, wilson_high(k, m) AS share_high, nudged AS nudged_n
FROM cells
UNION ALL
SELECT 'model', model, NULL, state, g, sm::BIGINT, sk::BIGINT, sk::DOUBLE / sm,
       CASE WHEN g >= 2 THEN greatest(0.0, sk::DOUBLE / sm - cluster_ratio_half(sk, sm, skk, skm, smm, g)) END,
       CASE WHEN g >= 2 THEN least(1.0, sk::DOUBLE / sm + cluster_ratio_half(sk, sm, skk, skm, smm, g)) END,
       nudged::BIGINT
FROM model_level;
