-- dial_effects v2: per model, task type and tau, each dial value against the most common one, within groups where every other dial is equal, with clustered intervals, BH q-values (ties share q) and power
-- Table macro dial_effects_for(campaign, since, until, runs, metric := 'credited', conf := 0.95,
--   power := 0.8); the view dial_effects is it with the defaults. Reads steps_in (the scope seam)
--   and runs_v2 for the dials of the runs in scope. Runs without a model are left out; an unknown
--   metric is an error. Partitioned by (task_type, tau): never pools tau values or task types.
-- Dials: the typed dials of runs_v2 taking at least two values within the model x task type x tau.
-- ref_value: the value with the most runs (ties: more steps, smaller value).
-- groups: settings of the other dials (plus task, difficulty, options, tau) in which both the value
--   and ref_value were run; only those inform diff_vs_ref (weighted mean of per-group differences,
--   weights n_v*n_ref/(n_v+n_ref)). No matched group -> NULL effect.
-- Method (and why): diff_vs_ref is a weighted sum of per-step residuals; its variance is
--   cgm_var_diff (stats_macros v2): run-clustered, each group x side mean estimated (CR2 scaling
--   G/(G-k), which is exact for cell means; t with G - k run df, not z: sweeps have few runs a
--   cell), plus the item part only where positive. A run's steps share the run; given the items
--   each run drew, runs are independent. The full two-way form (V_run + V_item - V_run&item) let a
--   main item effect subtract variance and flagged the null dial of the known-effects bench at
--   6-8% before BH. Where a group's rate is 0 or 1 the Agresti-Caffo variance is a floor.
--   diff_low/high: diff +- t(df) * se; p_value: two-sided t test. credited_low/high of the value: as model_ranking v2.
-- q_value: Benjamini-Hochberg over the comparisons of one model x task type x tau; tied p-values get
--   the same q (the step-up rank of a tie is its last position). significant: q_value < 1 - conf.
-- mde: the effect detectable at `power` with this n; runs_needed / n_needed: runs / steps of this
--   value (same design) that would detect the observed effect at `power`, when not significant.

CREATE OR REPLACE MACRO dial_effects_for_v2(campaign := '*', since := '-infinity', until := 'infinity', runs := '*',
                                            metric := 'credited', conf := 0.95, power := 0.8) AS TABLE
WITH st AS MATERIALIZED (
    SELECT run_key, coalesce(item_id, run_key || '#' || line_no::VARCHAR) AS item, model,
           task_type, tau, task_type || '|' || coalesce(tau::VARCHAR, '-') AS part,
           metric_value(metric, credited, correct, witness_pass)::INT::DOUBLE AS y, student_tokens, seconds
    FROM (SELECT * REPLACE (CASE WHEN run_task = 'alias_swap' THEN 'alias_swap' ELSE task_type END AS task_type)
          FROM steps_in_v2(campaign := campaign, since := since, until := until, runs := runs))
    WHERE model IS NOT NULL AND model <> 'unknown'
),
ok AS (SELECT * FROM st WHERE y IS NOT NULL),
run_part AS (
    SELECT run_key, part, any_value(model) AS model, any_value(task_type) AS task_type, any_value(tau) AS tau,
           count(*) AS n, sum(y) AS k, avg(student_tokens) AS tok, avg(seconds) AS sec
    FROM ok GROUP BY run_key, part
),
run_dials AS (
    UNPIVOT (
        SELECT p.run_key, p.part, r.cond_key, r.dial_kv,
               r.closed_book::VARCHAR AS closed_book, r.self_consistency_n::VARCHAR AS self_consistency_n,
               r.sc_extract_n::VARCHAR AS sc_extract_n, r.fact_cards_budget::VARCHAR AS fact_cards_budget,
               r.best_of_n::VARCHAR AS best_of_n, r.q_min::VARCHAR AS q_min,
               r.max_learn_boosts::VARCHAR AS max_learn_boosts, r.idk_enabled::VARCHAR AS idk_enabled,
               r.target_confidence::VARCHAR AS target_confidence, r.use_tools::VARCHAR AS use_tools,
               r.use_fact_cards::VARCHAR AS use_fact_cards, r.require_citations::VARCHAR AS require_citations,
               r.citation_mode, r.reasoning, r.controller, r.rerank,
               r.evidence_weighted_selection::VARCHAR AS evidence_weighted_selection,
               r.uncertainty_gate::VARCHAR AS uncertainty_gate, r.verify::VARCHAR AS verify,
               r.context_position, r.temp_answer::VARCHAR AS temp_answer
        FROM run_part p JOIN runs_v2 r USING (run_key))
    ON closed_book, self_consistency_n, sc_extract_n, fact_cards_budget, best_of_n, q_min,
       max_learn_boosts, idk_enabled, target_confidence, use_tools, use_fact_cards,
       require_citations, citation_mode, reasoning, controller, rerank,
       evidence_weighted_selection, uncertainty_gate, verify, context_position, temp_answer
    INTO NAME dial VALUE value
),
rc AS (
    SELECT d.run_key, d.part, p.model, p.task_type, p.tau, d.dial, d.value, p.n, p.k, p.tok, p.sec,
           d.cond_key || '|' || array_to_string(
               list_filter(d.dial_kv, lambda x: NOT starts_with(x, d.dial || '=')), ';') AS stratum
    FROM run_dials d JOIN run_part p USING (run_key, part)
),
varying AS (SELECT part, model, dial FROM rc GROUP BY ALL HAVING count(DISTINCT value) >= 2),
marginal AS (
    SELECT part, model, dial, value, any_value(task_type) AS task_type, any_value(tau) AS tau,
           count(*) AS n_runs, sum(n)::BIGINT AS n_steps, sum(k)::BIGINT AS k_n, sum(k) / sum(n) AS rate,
           sum(tok * n) / nullif(sum(n) FILTER (WHERE tok IS NOT NULL), 0) AS tokens_per_step,
           sum(sec * n) / nullif(sum(n) FILTER (WHERE sec IS NOT NULL), 0) AS seconds_per_step
    FROM rc SEMI JOIN varying USING (part, model, dial) GROUP BY part, model, dial, value
),
ref AS (
    SELECT part, model, dial, value AS ref_value FROM marginal
    QUALIFY row_number() OVER (PARTITION BY part, model, dial
        ORDER BY n_runs DESC, n_steps DESC, TRY_CAST(value AS DOUBLE) NULLS LAST, value) = 1
),
strata AS (
    SELECT part, model, dial, value, stratum, sum(n) AS n, sum(k) / sum(n) AS p,
           sum(tok * n) / nullif(sum(n) FILTER (WHERE tok IS NOT NULL), 0) AS tok,
           sum(sec * n) / nullif(sum(n) FILTER (WHERE sec IS NOT NULL), 0) AS sec
    FROM rc SEMI JOIN varying USING (part, model, dial) GROUP BY ALL
),
matched AS (
    SELECT v.part, v.model, v.dial, v.value, v.stratum, v.n AS n_v, r.n AS n_r, v.p AS p_v, r.p AS p_r,
           v.n * r.n / (v.n + r.n) AS w, v.tok - r.tok AS dtok, v.sec - r.sec AS dsec,
           ac_diff_var(v.p * v.n, v.n, r.p * r.n, r.n) AS ac
    FROM strata v
    JOIN ref ON ref.part = v.part AND ref.model = v.model AND ref.dial = v.dial AND v.value <> ref.ref_value
    JOIN strata r ON r.part = v.part AND r.model = v.model AND r.dial = v.dial AND r.value = ref.ref_value
                 AND r.stratum = v.stratum
),
eff AS (
    SELECT part, model, dial, value, count(*) AS groups, sum(n_v)::BIGINT AS matched_steps, sum(w) AS wsum,
           sum(w * (p_v - p_r)) / sum(w) AS diff, sum(w * dtok) / sum(w) AS tokens_diff,
           sum(w * dsec) / sum(w) AS seconds_diff, sum(n_v + n_r) AS n_both,
           bool_or(p_v IN (0, 1) OR p_r IN (0, 1)) AS edge, sum(w * w * ac) / sum(w) ^ 2 AS ac_var
    FROM matched GROUP BY part, model, dial, value
),
-- every run on either side of a comparison, with its side's weight and rate
sided AS (
    SELECT m.part, m.model, m.dial, m.value, c.run_key, 1.0 AS sgn, m.w / e.wsum / m.n_v AS wt, m.p_v AS p
    FROM matched m JOIN eff e USING (part, model, dial, value)
    JOIN rc c ON c.part = m.part AND c.model = m.model AND c.dial = m.dial AND c.value = m.value
             AND c.stratum = m.stratum
    UNION ALL
    SELECT m.part, m.model, m.dial, m.value, c.run_key, -1.0, m.w / e.wsum / m.n_r, m.p_r
    FROM matched m JOIN eff e USING (part, model, dial, value) JOIN ref USING (part, model, dial)
    JOIN rc c ON c.part = m.part AND c.model = m.model AND c.dial = m.dial AND c.value = ref.ref_value
             AND c.stratum = m.stratum
),
cell AS (
    SELECT s.part, s.model, s.dial, s.value, s.run_key, o.item, sum(s.sgn * s.wt * (o.y - s.p)) AS e
    FROM sided s JOIN ok o ON o.run_key = s.run_key AND o.part = s.part
    GROUP BY s.part, s.model, s.dial, s.value, s.run_key, o.item
),
comp AS (
    SELECT part, model, dial, value, r.ssr, r.gr, r.min_runs, i.ssi, i.gi, c.ssc, c.gc
    FROM (SELECT part, model, dial, value, sum(e * e) AS ssc, count(*) AS gc FROM cell GROUP BY ALL) c
    JOIN (SELECT part, model, dial, value, sum(s * s) AS ssr, count(*) AS gr,
                 least(count(*) FILTER (WHERE s_sgn > 0), count(*) FILTER (WHERE s_sgn < 0)) AS min_runs
          FROM (SELECT c.part, c.model, c.dial, c.value, c.run_key, sum(c.e) AS s,
                       any_value(sd.sgn) AS s_sgn
                FROM cell c JOIN (SELECT DISTINCT part, model, dial, value, run_key, sgn FROM sided) sd
                  USING (part, model, dial, value, run_key)
                GROUP BY c.part, c.model, c.dial, c.value, c.run_key)
          GROUP BY ALL) r USING (part, model, dial, value)
    JOIN (SELECT part, model, dial, value, sum(s * s) AS ssi, count(*) AS gi
          FROM (SELECT part, model, dial, value, item, sum(e) AS s FROM cell GROUP BY ALL) GROUP BY ALL) i
      USING (part, model, dial, value)
),
est AS (
    SELECT part, model, dial, value, cgm_df(vr, gr_eff, vi, gi, vc) AS df,
           cgm_var_diff(vr, gr_eff, vi, gi, vc) AS var
    FROM (SELECT *, CASE WHEN min_runs >= 2 THEN greatest(gr - 2 * groups + 1, 1) ELSE 1 END AS gr_eff,
                 ssr * gr / greatest(gr - 2.0 * groups, 1.0) AS vr, ssi * gi / greatest(gi - 1.0, 1.0) AS vi,
                 ssc * gc / greatest(gc - 1.0, 1.0) AS vc
          FROM comp JOIN (SELECT part, model, dial, value, groups FROM eff) USING (part, model, dial, value))
),
-- per-value rate intervals: the same residual machinery over the value's own steps
own AS (
    SELECT c.part, c.model, c.dial, c.value, c.run_key, o.item,
           sum(o.y - m.rate) / any_value(m.n_steps) AS e
    FROM rc c JOIN marginal m USING (part, model, dial, value) JOIN ok o ON o.run_key = c.run_key AND o.part = c.part
    GROUP BY c.part, c.model, c.dial, c.value, c.run_key, o.item
),
own_v AS (
    SELECT part, model, dial, value,
           cgm_var(r.ssr * r.g / greatest(r.g - 1.0, 1.0), r.g, i.ssi * i.g / greatest(i.g - 1.0, 1.0), i.g,
                   c.ssc * c.g / greatest(c.g - 1.0, 1.0)) AS var,
           cgm_df(r.ssr * r.g / greatest(r.g - 1.0, 1.0), r.g, i.ssi * i.g / greatest(i.g - 1.0, 1.0), i.g,
                  c.ssc * c.g / greatest(c.g - 1.0, 1.0)) AS df
    FROM (SELECT part, model, dial, value, sum(e * e) AS ssc, count(*) AS g FROM own GROUP BY ALL) c
    JOIN (SELECT part, model, dial, value, sum(s * s) AS ssr, count(*) AS g
          FROM (SELECT part, model, dial, value, sum(e) AS s FROM own GROUP BY part, model, dial, value, run_key)
          GROUP BY ALL) r USING (part, model, dial, value)
    JOIN (SELECT part, model, dial, value, sum(s * s) AS ssi, count(*) AS g
          FROM (SELECT part, model, dial, value, sum(e) AS s FROM own GROUP BY part, model, dial, value, item)
          GROUP BY ALL) i USING (part, model, dial, value)
),
tested AS (
    SELECT m.*, ref.ref_value, m.value = ref.ref_value AS is_ref, ov.var AS own_var, ov.df AS own_df,
           coalesce(e.groups, 0) AS groups, coalesce(e.matched_steps, 0) AS matched_steps, e.n_both,
           e.diff, e.tokens_diff, e.seconds_diff, s.df,
           sqrt(CASE WHEN e.edge THEN greatest(s.var, e.ac_var) ELSE s.var END) AS se
    FROM marginal m JOIN ref USING (part, model, dial)
    LEFT JOIN eff e USING (part, model, dial, value) LEFT JOIN est s USING (part, model, dial, value)
    LEFT JOIN own_v ov USING (part, model, dial, value)
),
pv AS (
    -- rounded to 12 decimals: p-values equal in exact arithmetic differ in the last bits (summation
    -- order), and BH must see them as ties
    SELECT *, round(CASE WHEN diff IS NULL THEN NULL WHEN se > 0 THEN t_p_two_sided(diff / se, df)
                         WHEN diff = 0 THEN 1.0 ELSE 0.0 END, 12) AS p_value
    FROM tested
),
bh AS (
    SELECT *, CASE WHEN p_value IS NOT NULL THEN
               p_value * count(p_value) OVER (PARTITION BY part, model)
               / count(p_value) OVER (PARTITION BY part, model ORDER BY p_value
                                      RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) END AS bh_raw
    FROM pv
),
fin AS (
    SELECT *, CASE WHEN p_value IS NOT NULL THEN least(1.0, min(bh_raw) OVER (PARTITION BY part, model, p_value IS NULL
                   ORDER BY p_value DESC RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) END AS q_value
    FROM bh
)
SELECT model, task_type, tau, dial, value, ref_value, is_ref, n_runs, n_steps, metric AS metric,
       k_n AS n_success, rate,
       rate_low(rate, n_steps, own_var, own_df, conf) AS rate_low,
       rate_high(rate, n_steps, own_var, own_df, conf) AS rate_high,
       tokens_per_step, seconds_per_step, groups, matched_steps,
       diff AS diff_vs_ref,
       CASE WHEN diff IS NOT NULL THEN greatest(-1.0, diff - t_crit(conf, df) * se) END AS diff_low,
       CASE WHEN diff IS NOT NULL THEN least(1.0, diff + t_crit(conf, df) * se) END AS diff_high,
       se, df, p_value, q_value, coalesce(q_value < 1.0 - conf, false) AS significant,
       (t_crit(conf, df) + z_power(power)) * se AS mde,
       CASE WHEN NOT coalesce(q_value < 1.0 - conf, false) AND abs(diff) > 0 THEN
            least(ceil(n_runs * ((t_crit(conf, df) + z_power(power)) * se / abs(diff)) ^ 2), 1e12)::BIGINT END AS runs_needed,
       CASE WHEN NOT coalesce(q_value < 1.0 - conf, false) AND abs(diff) > 0 THEN
            least(ceil(n_steps * ((t_crit(conf, df) + z_power(power)) * se / abs(diff)) ^ 2), 1e12)::BIGINT END AS n_needed,
       tokens_diff, seconds_diff,
       'two-way clustered (runs x items), t(df); diff: runs + item part where positive' AS ci_method
FROM fin
ORDER BY model, task_type, tau, dial, is_ref DESC, TRY_CAST(value AS DOUBLE) NULLS LAST, value;

CREATE OR REPLACE VIEW dial_effects_v2 AS SELECT * FROM dial_effects_for_v2();
