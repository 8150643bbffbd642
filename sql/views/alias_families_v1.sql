-- alias_families v1: per run and alias family, phase-A vs phase-B accuracy and the phase-B credit rate with a Wilson 95% interval
-- Counted runs only (steps_v2.counted: a model named, not a duplicate of an earlier run).
-- One row per (run_key, family_id) of the alias-swap steps (steps that log an `alias` block; their
--   task.type is mcq). family_id = alias.family_id, phase = alias.phase ('A' or 'B').
-- a_n, a_correct, acc_a: phase-A steps, how many correct, a_correct / a_n (NULL without A steps).
-- b_total, b_correct, acc_b: the same for phase B.
-- delta = acc_a - acc_b: the sign the simulator's own analysis uses (positive = phase B worse).
--   NULL unless the family has both phases in the run.
-- b_credited: phase-B steps whose alias_evidence.credited is true (a missing alias_evidence counts
--   as not credited); credited_b = b_credited / b_total, credited_b_low/high its Wilson 95% interval
--   (steps of one run and family treated as independent draws).
-- b_coverage_mean: mean alias_evidence.coverage over the phase-B steps that log it.
-- analysis_group: the simulator's own analysis groups runs by this key of header values, written
--   as it writes them (Python literals: True/False/None): closed=closed_book;anon=anonymize;
--   accum=accumulate_notes;ctxpos=context_position;verify=verify;sc=self_consistency_n;rich=rich;
--   task=config.task;diff=config.difficulty. setting_id is finer (every dial, τ, options).
-- Run attributes (model, setting, dials) come from the steps and runs views through the `st` CTE only.

CREATE OR REPLACE MACRO _py_text(j) AS
    CASE WHEN j IS NULL OR json_type(j) = 'NULL' THEN 'None'
         WHEN json_type(j) = 'BOOLEAN' THEN CASE WHEN j::VARCHAR = 'true' THEN 'True' ELSE 'False' END
         WHEN json_type(j) = 'VARCHAR' THEN j ->> '$'
         ELSE j::VARCHAR END;

CREATE OR REPLACE VIEW alias_families_v1 AS
WITH st AS (
    SELECT s.run_key, s.run_id, s.file_id, s.line_no, s.model, s.provider, s.student, s.setting_id,
           s.setting, s.run_task, s.correct, s.alias_phase,
           concat_ws(';',
               'closed=' || _py_text(r.dials -> '$.closed_book'), 'anon=' || _py_text(r.dials -> '$.anonymize'),
               'accum=' || _py_text(r.dials -> '$.accumulate_notes'),
               'ctxpos=' || _py_text(r.dials -> '$.context_position'), 'verify=' || _py_text(r.dials -> '$.verify'),
               'sc=' || _py_text(r.dials -> '$.self_consistency_n'), 'rich=' || _py_text(r.dials -> '$.rich'),
               'task=' || coalesce(r.task, 'None'), 'diff=' || coalesce(r.difficulty, 'None')) AS analysis_group
    FROM (SELECT * FROM steps_v2 WHERE counted) s JOIN runs_v2 r USING (run_key)
    WHERE s.alias_phase IS NOT NULL
),
tagged AS (
    SELECT st.*, r.line ->> '$.alias.family_id' AS family_id,
           coalesce(r.alias_credited, false) AS b_credit, r.alias_coverage
    FROM st JOIN records r USING (file_id, line_no)
    WHERE r.kind = 'step' AND r.alias_phase IS NOT NULL  -- redundant with st; lets the scan skip other lines
),
fam AS (
    SELECT run_key,
           any_value(run_id) AS run_id, any_value(model) AS model, any_value(provider) AS provider,
           any_value(student) AS student, any_value(setting_id) AS setting_id,
           any_value(setting) AS setting, any_value(run_task) AS run_task,
           any_value(analysis_group) AS analysis_group,
           coalesce(family_id, '?') AS family_id,
           count(*) FILTER (WHERE alias_phase = 'A') AS a_n,
           count(*) FILTER (WHERE alias_phase = 'A' AND correct) AS a_correct,
           count(*) FILTER (WHERE alias_phase = 'B') AS b_total,
           count(*) FILTER (WHERE alias_phase = 'B' AND correct) AS b_correct,
           count(*) FILTER (WHERE alias_phase = 'B' AND b_credit) AS b_credited,
           avg(alias_coverage) FILTER (WHERE alias_phase = 'B') AS b_coverage_mean
    FROM tagged
    GROUP BY run_key, coalesce(family_id, '?')
)
SELECT run_key, run_id, model, provider, student, setting_id, setting, analysis_group, run_task, family_id,
       a_n, a_correct, a_correct::DOUBLE / nullif(a_n, 0) AS acc_a,
       b_total, b_correct, b_correct::DOUBLE / nullif(b_total, 0) AS acc_b,
       a_correct::DOUBLE / nullif(a_n, 0) - b_correct::DOUBLE / nullif(b_total, 0) AS delta,
       b_credited,
       b_credited::DOUBLE / nullif(b_total, 0) AS credited_b,
       wilson_low(b_credited, b_total) AS credited_b_low,
       wilson_high(b_credited, b_total) AS credited_b_high,
       b_coverage_mean
FROM fam;
