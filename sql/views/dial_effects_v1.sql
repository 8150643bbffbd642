-- dial_effects v1: per model x dial x value, credited with interval and the effect against the model's most common value, estimated only within groups where every other dial is equal
-- Dials: the typed dials of runs_v1 that take at least two values within the model.
-- ref_value: the value with the most runs for that model and dial (ties: more steps, smaller value).
-- groups: settings of the other dials (plus task, difficulty, options, tau) in which both the value
--   and ref_value were run; only those groups inform diff_vs_ref. matched_steps: steps of this value
--   inside those groups. diff_vs_ref: weighted mean of the per-group differences in credited
--   (weights n_v*n_ref/(n_v+n_ref)); diff_low/high: 95% interval with Agresti-Caffo group variances.
-- p_value: two-sided z-test of diff_vs_ref; q_value: Benjamini-Hochberg over the model's comparisons;
--   significant: q_value < 0.05. No matched group -> NULL effect (a marginal difference would mix in
--   the other dials).
-- tokens_diff / seconds_diff: the same weighted within-group difference in tokens / seconds per step.

CREATE OR REPLACE VIEW dial_effects_v1 AS
WITH run_cells AS (
    SELECT run_key, count(*) AS n, count(*) FILTER (WHERE credited) AS k,
           sum(student_tokens) AS tok_sum, count(student_tokens) AS tok_n,
           sum(seconds) AS sec_sum, count(seconds) AS sec_n
    FROM steps_v1 WHERE task_type = 'mcq' GROUP BY run_key
),
-- one row per model x setting (its runs pooled): dials and the stratum key are constant there
setting_cells AS (
    SELECT r.model, r.setting_id, any_value(r.cond_key) AS cond_key, any_value(r.dial_kv) AS dial_kv,
           count(*) AS n_runs, sum(c.n)::BIGINT AS n, sum(c.k)::BIGINT AS k,
           sum(c.tok_sum) AS tok_sum, sum(c.tok_n) AS tok_n, sum(c.sec_sum) AS sec_sum, sum(c.sec_n) AS sec_n,
           any_value(r.closed_book)::VARCHAR AS closed_book,
           any_value(r.self_consistency_n)::VARCHAR AS self_consistency_n,
           any_value(r.sc_extract_n)::VARCHAR AS sc_extract_n,
           any_value(r.fact_cards_budget)::VARCHAR AS fact_cards_budget,
           any_value(r.best_of_n)::VARCHAR AS best_of_n, any_value(r.q_min)::VARCHAR AS q_min,
           any_value(r.max_learn_boosts)::VARCHAR AS max_learn_boosts,
           any_value(r.idk_enabled)::VARCHAR AS idk_enabled,
           any_value(r.target_confidence)::VARCHAR AS target_confidence,
           any_value(r.use_tools)::VARCHAR AS use_tools,
           any_value(r.use_fact_cards)::VARCHAR AS use_fact_cards,
           any_value(r.require_citations)::VARCHAR AS require_citations,
           any_value(r.citation_mode) AS citation_mode, any_value(r.reasoning) AS reasoning,
           any_value(r.controller) AS controller, any_value(r.rerank) AS rerank,
           any_value(r.evidence_weighted_selection)::VARCHAR AS evidence_weighted_selection,
           any_value(r.uncertainty_gate)::VARCHAR AS uncertainty_gate,
           any_value(r.verify)::VARCHAR AS verify, any_value(r.context_position) AS context_position,
           any_value(r.temp_answer)::VARCHAR AS temp_answer
    FROM runs_v1 r JOIN run_cells c USING (run_key)
    GROUP BY r.model, r.setting_id
),
setting_dials AS (
    UNPIVOT setting_cells
    ON closed_book, self_consistency_n, sc_extract_n, fact_cards_budget, best_of_n, q_min,
       max_learn_boosts, idk_enabled, target_confidence, use_tools, use_fact_cards,
       require_citations, citation_mode, reasoning, controller, rerank,
       evidence_weighted_selection, uncertainty_gate, verify, context_position, temp_answer
    INTO NAME dial VALUE value
),
cells AS (
    SELECT model, dial, value, n_runs, n, k, tok_sum, tok_n, sec_sum, sec_n,
           cond_key || '|' || array_to_string(
               list_filter(dial_kv, lambda x: NOT starts_with(x, dial || '=')), ';') AS stratum
    FROM setting_dials
),
varying AS (
    SELECT model, dial FROM cells GROUP BY model, dial HAVING count(DISTINCT value) >= 2
),
marginal AS (
    SELECT c.model, c.dial, c.value, sum(n_runs)::BIGINT AS n_runs, sum(n)::BIGINT AS n_steps,
           sum(k)::BIGINT AS credited_n, sum(k)::DOUBLE / sum(n) AS credited,
           sum(tok_sum) / nullif(sum(tok_n), 0) AS tokens_per_step,
           sum(sec_sum) / nullif(sum(sec_n), 0) AS seconds_per_step
    FROM cells c SEMI JOIN varying v USING (model, dial)
    GROUP BY c.model, c.dial, c.value
),
ref AS (
    SELECT model, dial, value AS ref_value FROM marginal
    QUALIFY row_number() OVER (PARTITION BY model, dial
        ORDER BY n_runs DESC, n_steps DESC, TRY_CAST(value AS DOUBLE) NULLS LAST, value) = 1
),
strata AS (
    SELECT model, dial, value, stratum, sum(n)::BIGINT AS n, sum(k)::BIGINT AS k,
           sum(tok_sum) / nullif(sum(tok_n), 0) AS tok, sum(sec_sum) / nullif(sum(sec_n), 0) AS sec
    FROM cells GROUP BY model, dial, value, stratum
),
matched AS (
    SELECT v.model, v.dial, v.value, v.n AS n_v,
           v.n * r.n / (v.n + r.n) AS w,
           v.k::DOUBLE / v.n - r.k::DOUBLE / r.n AS d,
           ac_diff_var(v.k, v.n, r.k, r.n) AS var,
           v.tok - r.tok AS dtok, v.sec - r.sec AS dsec
    FROM strata v
    JOIN ref ON ref.model = v.model AND ref.dial = v.dial AND v.value <> ref.ref_value
    JOIN strata r ON r.model = v.model AND r.dial = v.dial AND r.value = ref.ref_value AND r.stratum = v.stratum
),
effects AS (
    SELECT model, dial, value, count(*) AS groups, sum(n_v)::BIGINT AS matched_steps,
           sum(w * d) / sum(w) AS diff, sqrt(sum(w * w * var)) / sum(w) AS se,
           sum(w * dtok) / sum(w) AS tokens_diff, sum(w * dsec) / sum(w) AS seconds_diff
    FROM matched GROUP BY model, dial, value
),
tested AS (
    SELECT m.*, ref.ref_value, m.value = ref.ref_value AS is_ref,
           coalesce(e.groups, 0) AS groups, coalesce(e.matched_steps, 0) AS matched_steps,
           e.diff, e.se, e.tokens_diff, e.seconds_diff,
           CASE WHEN e.se > 0 THEN p_two_sided(e.diff / e.se) END AS p_value
    FROM marginal m JOIN ref USING (model, dial) LEFT JOIN effects e USING (model, dial, value)
),
bh AS (
    SELECT *, CASE WHEN p_value IS NOT NULL THEN
               p_value * count(p_value) OVER (PARTITION BY model)
               / row_number() OVER (PARTITION BY model, p_value IS NULL ORDER BY p_value) END AS bh_raw
    FROM tested
),
fin AS (
SELECT
    model, dial, value, ref_value, is_ref, n_runs, n_steps, credited_n, credited,
    wilson_low(credited_n, n_steps) AS credited_low, wilson_high(credited_n, n_steps) AS credited_high,
    tokens_per_step, seconds_per_step,
    groups, matched_steps,
    diff AS diff_vs_ref,
    diff - z_for(0.95) * se AS diff_low,
    diff + z_for(0.95) * se AS diff_high,
    p_value,
    least(1.0, min(bh_raw) OVER (PARTITION BY model ORDER BY p_value DESC NULLS FIRST
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS q_value,
    tokens_diff, seconds_diff
FROM bh
)
SELECT model, dial, value, ref_value, is_ref, n_runs, n_steps, credited_n, credited, credited_low,
       credited_high, tokens_per_step, seconds_per_step, groups, matched_steps, diff_vs_ref, diff_low,
       diff_high, p_value, CASE WHEN p_value IS NOT NULL THEN q_value END AS q_value,
       coalesce(q_value < 0.05 AND p_value IS NOT NULL, false) AS significant,
       tokens_diff, seconds_diff
FROM fin
ORDER BY model, dial, is_ref DESC, TRY_CAST(value AS DOUBLE) NULLS LAST, value;
