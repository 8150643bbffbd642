-- model_profiles v1: which dials each model needs, from its data: the evidence-, witness-, snippet-limited and token-heavy rules with n, intervals and a yes/no/uncertain verdict per rule
-- Counted runs only (steps_v2.counted: a model named, not a duplicate of an earlier run).
-- Runs: MCQ runs only (alias-swap runs ask two phases of one rule: see the alias views; SAQ and
--   other task types have no credited MCQ steps). Old logs without a task count as MCQ.
-- Unit: MCQ steps pooled per model; every interval is cluster-robust over runs (cluster_stats_v1:
--   the run is the independent unit; only runs that have the quantity's denominator count, and
--   with fewer than 2 such runs the interval is NULL and the rule stays 'uncertain').
-- Metrics: credited, acc, witness (shares of steps); coverage = mean evidence-report coverage
--   (citation coverage when the report is absent) over steps that logged one; gap = acc - credited;
--   evidence_fail_frac = share of all reasons logged on non-credited steps that are evidence
--   failures (no_option_quote_for_choice, no_snippet_quote, coverage_below_tau);
--   no_snippet_rate = steps logging no_snippet_quote / steps; tokens_per_step = student + tutor
--   tokens per step with usage.
-- Rules (thresholds of the old profile script), each 'yes' when its whole interval is past the
--   threshold, 'no' when it is wholly on the other side, else 'uncertain':
--   evidence_limited: coverage < 0.5 or evidence_fail_frac > 0.4
--     -> sc_extract_n = 5, fact_cards_budget = 14, max_learn_boosts = 1
--   witness_limited: witness < 0.6 and gap > 0.1
--     -> best_of_n = 10, rerank = evidence, evidence_weighted_selection = true
--   snippet_limited: no_snippet_rate > 0.2 -> max_learn_boosts = 1, evidence_weighted_selection = true
--   token_heavy: tokens_per_step > 45000 -> best_of_n = 6
-- profile: evidence_limited if 'yes', else witness_limited if 'yes', else snippet_limited if 'yes',
--   else strict_default; overrides: {rule, dial, value} for every rule that is 'yes' (a later rule
--   wins a dial: evidence before witness before snippet before tokens, as the old script applied
--   them). profile_point: the same rules on the point estimates alone, for comparison.

CREATE OR REPLACE MACRO _rule_below(est, high, low, thr) AS (
    CASE WHEN high IS NOT NULL AND high < thr THEN 'yes'
         WHEN low IS NOT NULL AND low >= thr THEN 'no'
         ELSE 'uncertain' END
);

CREATE OR REPLACE MACRO _rule_above(est, low, high, thr) AS (
    CASE WHEN low IS NOT NULL AND low > thr THEN 'yes'
         WHEN high IS NOT NULL AND high <= thr THEN 'no'
         ELSE 'uncertain' END
);

CREATE OR REPLACE MACRO _rule_or(a, b) AS (
    CASE WHEN a = 'yes' OR b = 'yes' THEN 'yes' WHEN a = 'no' AND b = 'no' THEN 'no' ELSE 'uncertain' END
);

CREATE OR REPLACE MACRO _rule_and(a, b) AS (
    CASE WHEN a = 'yes' AND b = 'yes' THEN 'yes' WHEN a = 'no' OR b = 'no' THEN 'no' ELSE 'uncertain' END
);

CREATE OR REPLACE VIEW model_profiles_v1 AS
WITH src AS (
    SELECT run_key, model, credited, correct, witness_pass, coalesce(er_coverage, coverage) AS cov, reasons,
           student_tokens, tutor_tokens
    FROM steps_v2 WHERE counted
    AND task_type = 'mcq' AND coalesce(run_task, 'mcq') = 'mcq'
),
per_run AS (
    SELECT run_key, model, count(*) AS m,
           count(*) FILTER (WHERE credited) AS kc,
           count(*) FILTER (WHERE correct) AS ka,
           count(*) FILTER (WHERE witness_pass) AS kw,
           count(*) FILTER (WHERE correct) - count(*) FILTER (WHERE credited) AS kg,
           count(*) FILTER (WHERE list_contains(reasons, 'no_snippet_quote')) AS kn,
           coalesce(sum(cov), 0) AS cs, count(cov) AS cm,
           coalesce(sum(coalesce(student_tokens, 0) + coalesce(tutor_tokens, 0))
               FILTER (WHERE student_tokens IS NOT NULL OR tutor_tokens IS NOT NULL), 0) AS ts,
           count(*) FILTER (WHERE student_tokens IS NOT NULL OR tutor_tokens IS NOT NULL) AS tm,
           coalesce(sum(len(list_filter(reasons, lambda r: r IN
               ('no_option_quote_for_choice', 'no_snippet_quote', 'coverage_below_tau')))) FILTER (WHERE NOT credited), 0) AS re,
           coalesce(sum(len(reasons)) FILTER (WHERE NOT credited), 0) AS ra
    FROM src GROUP BY run_key, model
),
agg AS (
    SELECT model, count(*) AS g, count(*) FILTER (WHERE cm > 0) AS gc, count(*) FILTER (WHERE tm > 0) AS gt,
           count(*) FILTER (WHERE ra > 0) AS gr, sum(m) AS sm, sum(m * m) AS smm,
           sum(kc) AS skc, sum(kc * kc) AS skc2, sum(kc * m) AS skcm,
           sum(ka) AS ska, sum(ka * ka) AS ska2, sum(ka * m) AS skam,
           sum(kw) AS skw, sum(kw * kw) AS skw2, sum(kw * m) AS skwm,
           sum(kg) AS skg, sum(kg * kg) AS skg2, sum(kg * m) AS skgm,
           sum(kn) AS skn, sum(kn * kn) AS skn2, sum(kn * m) AS sknm,
           sum(cs) AS scs, sum(cs * cs) AS scs2, sum(cs * cm) AS scscm, sum(cm) AS scm, sum(cm * cm) AS scm2,
           sum(ts) AS sts, sum(ts * ts) AS sts2, sum(ts * tm) AS ststm, sum(tm) AS stm, sum(tm * tm) AS stm2,
           sum(re) AS sre, sum(re * re) AS sre2, sum(re * ra) AS srera, sum(ra) AS sra, sum(ra * ra) AS sra2
    FROM per_run GROUP BY model
),
est AS (
    SELECT model, g AS n_runs, sm::BIGINT AS n_steps,
           skc / sm AS credited, cluster_ratio_half(skc, sm, skc2, skcm, smm, g) AS credited_h,
           ska / sm AS acc,
           skw / sm AS witness, cluster_ratio_half(skw, sm, skw2, skwm, smm, g) AS witness_h,
           skg / sm AS gap, cluster_ratio_half(skg, sm, skg2, skgm, smm, g) AS gap_h,
           skn / sm AS no_snippet_rate, cluster_ratio_half(skn, sm, skn2, sknm, smm, g) AS no_snippet_h,
           scs / nullif(scm, 0) AS coverage, cluster_ratio_half(scs, scm, scs2, scscm, scm2, gc) AS coverage_h,
           scm::BIGINT AS coverage_n,
           sts / nullif(stm, 0) AS tokens_per_step, cluster_ratio_half(sts, stm, sts2, ststm, stm2, gt) AS tokens_h,
           sre / nullif(sra, 0) AS evidence_fail_frac, cluster_ratio_half(sre, sra, sre2, srera, sra2, gr) AS evfail_h,
           sra::BIGINT AS reasons_n
    FROM agg
),
rules AS (
    SELECT *,
           _rule_or(_rule_below(coverage, coverage + coverage_h, coverage - coverage_h, 0.5),
                    _rule_above(evidence_fail_frac, evidence_fail_frac - evfail_h, evidence_fail_frac + evfail_h, 0.4))
               AS evidence_limited,
           _rule_and(_rule_below(witness, witness + witness_h, witness - witness_h, 0.6),
                     _rule_above(gap, gap - gap_h, gap + gap_h, 0.1)) AS witness_limited,
           _rule_above(no_snippet_rate, no_snippet_rate - no_snippet_h, no_snippet_rate + no_snippet_h, 0.2)
               AS snippet_limited,
           _rule_above(tokens_per_step, tokens_per_step - tokens_h, tokens_per_step + tokens_h, 45000) AS token_heavy,
           CASE WHEN coverage < 0.5 OR evidence_fail_frac > 0.4 THEN 'evidence_limited'
                WHEN witness < 0.6 AND gap > 0.1 THEN 'witness_limited'
                WHEN no_snippet_rate > 0.2 THEN 'snippet_limited'
                ELSE 'strict_default' END AS profile_point
    FROM est
)
SELECT model, n_runs, n_steps,
       credited, credited - credited_h AS credited_low, credited + credited_h AS credited_high, acc,
       witness, witness - witness_h AS witness_low, witness + witness_h AS witness_high,
       gap, gap - gap_h AS gap_low, gap + gap_h AS gap_high,
       coverage_n, coverage, coverage - coverage_h AS coverage_low, coverage + coverage_h AS coverage_high,
       reasons_n, evidence_fail_frac, evidence_fail_frac - evfail_h AS evidence_fail_frac_low,
       evidence_fail_frac + evfail_h AS evidence_fail_frac_high,
       no_snippet_rate, no_snippet_rate - no_snippet_h AS no_snippet_rate_low,
       no_snippet_rate + no_snippet_h AS no_snippet_rate_high,
       tokens_per_step, tokens_per_step - tokens_h AS tokens_per_step_low,
       tokens_per_step + tokens_h AS tokens_per_step_high,
       evidence_limited, witness_limited, snippet_limited, token_heavy,
       CASE WHEN evidence_limited = 'yes' THEN 'evidence_limited'
            WHEN witness_limited = 'yes' THEN 'witness_limited'
            WHEN snippet_limited = 'yes' THEN 'snippet_limited'
            ELSE 'strict_default' END AS profile,
       profile_point,
       list_concat(
           CASE WHEN evidence_limited = 'yes' THEN [{'rule': 'evidence_limited', 'dial': 'sc_extract_n', 'value': '5'},
               {'rule': 'evidence_limited', 'dial': 'fact_cards_budget', 'value': '14'},
               {'rule': 'evidence_limited', 'dial': 'max_learn_boosts', 'value': '1'}] ELSE [] END,
           CASE WHEN witness_limited = 'yes' THEN [{'rule': 'witness_limited', 'dial': 'best_of_n', 'value': '10'},
               {'rule': 'witness_limited', 'dial': 'rerank', 'value': 'evidence'},
               {'rule': 'witness_limited', 'dial': 'evidence_weighted_selection', 'value': 'true'}] ELSE [] END,
           CASE WHEN snippet_limited = 'yes' THEN [{'rule': 'snippet_limited', 'dial': 'max_learn_boosts', 'value': '1'},
               {'rule': 'snippet_limited', 'dial': 'evidence_weighted_selection', 'value': 'true'}] ELSE [] END,
           CASE WHEN token_heavy = 'yes' THEN [{'rule': 'token_heavy', 'dial': 'best_of_n', 'value': '6'}] ELSE [] END
       )::STRUCT(rule VARCHAR, dial VARCHAR, value VARCHAR)[] AS overrides
FROM rules;
