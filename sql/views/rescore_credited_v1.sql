-- rescore_credited v1: table macro re-scoring credited at another coverage threshold tau from logged fields, one row per MCQ step with a logged credit check
-- SELECT model, avg(credited::INT) AS logged, avg(credited_at_tau::INT) AS at_030
--   FROM rescore_credited(0.30) GROUP BY model;
-- credited_at_tau = correct, not abstained, coverage >= tau, witness_pass, and no logged blocking
--   reason other than coverage_below_tau (tag_or_quote_filter is not blocking by itself, as in
--   the simulator's credit check). At the run's own tau this reproduces the logged credited flag.
-- Caveat: coverage is measured against the gold option; with IDK on, a higher tau at run time would
--   also have changed which steps abstained, which logs cannot replay.

CREATE OR REPLACE MACRO rescore_credited_v1(new_tau) AS TABLE
SELECT run_key, run_id, model, setting_id, setting, tau AS logged_tau, new_tau AS tau, step, item_id,
       correct, abstained, coverage, witness_pass, reasons, citations_n, credited,
       coalesce(correct, false) AND NOT coalesce(abstained, false)
           AND coalesce(coverage >= new_tau, false) AND coalesce(witness_pass, false)
           AND len(list_filter(coalesce(reasons, []::VARCHAR[]),
                   lambda x: x NOT IN ('coverage_below_tau', 'tag_or_quote_filter'))) = 0 AS credited_at_tau
FROM steps_v1
WHERE task_type = 'mcq' AND credit_checked;
