-- pareto v2: model x setting rows of best settings on the credited vs tokens / seconds / cost frontiers, within one task and τ, plus a significance-aware frontier
-- Rows come from best_settings v2 (metric credited; its rate columns renamed credited*) through
--   the one CTE `b` at the top, without unattributed models; task is its task_type. A row is compared only with rows of the same task
--   and tau: credited at different τ values is not comparable.
-- on_token_frontier: no other row (any model) has credited >= and tokens_per_step <= with one strict.
-- on_time_frontier: the same with seconds_per_step; on_cost_frontier: with cost_per_step (NULL when
--   the row has no price). on_model_token_frontier: token frontier within the row's own model.
-- robust_token_frontier: no row with tokens_per_step <= is *significantly* better (pooled z-test,
--   p < 0.05): dominance counts only when the difference is real.
-- Rows below the minimum n (below_min_n) are kept but flagged.

CREATE OR REPLACE VIEW pareto_v2 AS
WITH b AS MATERIALIZED (
    SELECT model, task_type AS task, tau, setting_id, setting, n_runs, n_steps, below_min_n,
           rate AS credited, rate_low AS credited_low, rate_high AS credited_high, n_success AS credited_n,
           tokens_per_step, seconds_per_step, cost_per_step, cost_per_success AS cost_per_credited
    FROM best_settings_v2 WHERE metric = 'credited' AND model IS NOT NULL AND model <> 'unknown'
)
SELECT
    b.model, b.task, b.tau, b.setting_id, b.setting, b.n_runs, b.n_steps, b.below_min_n,
    b.credited, b.credited_low, b.credited_high,
    b.tokens_per_step, b.seconds_per_step, b.cost_per_step, b.cost_per_credited,
    b.tokens_per_step IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM b o WHERE o.task IS NOT DISTINCT FROM b.task AND o.tau IS NOT DISTINCT FROM b.tau AND o.tokens_per_step IS NOT NULL
          AND o.credited >= b.credited AND o.tokens_per_step <= b.tokens_per_step
          AND (o.credited > b.credited OR o.tokens_per_step < b.tokens_per_step)) AS on_token_frontier,
    b.seconds_per_step IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM b o WHERE o.task IS NOT DISTINCT FROM b.task AND o.tau IS NOT DISTINCT FROM b.tau AND o.seconds_per_step IS NOT NULL
          AND o.credited >= b.credited AND o.seconds_per_step <= b.seconds_per_step
          AND (o.credited > b.credited OR o.seconds_per_step < b.seconds_per_step)) AS on_time_frontier,
    CASE WHEN b.cost_per_step IS NOT NULL THEN NOT EXISTS (
        SELECT 1 FROM b o WHERE o.task IS NOT DISTINCT FROM b.task AND o.tau IS NOT DISTINCT FROM b.tau AND o.cost_per_step IS NOT NULL
          AND o.credited >= b.credited AND o.cost_per_step <= b.cost_per_step
          AND (o.credited > b.credited OR o.cost_per_step < b.cost_per_step)) END AS on_cost_frontier,
    b.tokens_per_step IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM b o WHERE o.task IS NOT DISTINCT FROM b.task AND o.tau IS NOT DISTINCT FROM b.tau AND o.model = b.model AND o.tokens_per_step IS NOT NULL
          AND o.credited >= b.credited AND o.tokens_per_step <= b.tokens_per_step
          AND (o.credited > b.credited OR o.tokens_per_step < b.tokens_per_step)) AS on_model_token_frontier,
    b.tokens_per_step IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM b o WHERE o.task IS NOT DISTINCT FROM b.task AND o.tau IS NOT DISTINCT FROM b.tau AND o.tokens_per_step IS NOT NULL AND o.tokens_per_step <= b.tokens_per_step
          AND o.credited > b.credited
          AND two_prop_p(o.credited_n, o.n_steps, b.credited_n, b.n_steps) < 0.05) AS robust_token_frontier
FROM b
ORDER BY b.credited DESC, b.tokens_per_step;
