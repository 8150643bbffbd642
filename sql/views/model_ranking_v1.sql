-- model_ranking v1: models ranked by pooled credited rate with 95% intervals and tie groups (not significantly separable models share a group)
-- rank: by credited (then more steps, then name). tie_group: walking down the ranking, a model joins
--   the current group unless it is significantly worse (two-sided pooled two-proportion z-test,
--   p < 0.05) than the group's first model; then it starts the next group. Same group = do not
--   claim one is better.
-- p_vs_above / p_vs_best: the same test against the model ranked just above / ranked first.
-- Efficiency columns come from by_model_steps_v1.

CREATE OR REPLACE VIEW model_ranking_v1 AS
WITH RECURSIVE m AS (
    SELECT *, row_number() OVER (ORDER BY credited DESC, n_steps DESC, model) AS rank
    FROM by_model_steps_v1
),
g(rank, tie_group, lead_k, lead_n) AS (
    SELECT rank, 1, credited_n, n_steps FROM m WHERE rank = 1
    UNION ALL
    SELECT m.rank,
           CASE WHEN two_prop_p(g.lead_k, g.lead_n, m.credited_n, m.n_steps) < 0.05 THEN g.tie_group + 1 ELSE g.tie_group END,
           CASE WHEN two_prop_p(g.lead_k, g.lead_n, m.credited_n, m.n_steps) < 0.05 THEN m.credited_n ELSE g.lead_k END,
           CASE WHEN two_prop_p(g.lead_k, g.lead_n, m.credited_n, m.n_steps) < 0.05 THEN m.n_steps ELSE g.lead_n END
    FROM g JOIN m ON m.rank = g.rank + 1
),
nb AS (
    SELECT m.*,
           lag(credited_n) OVER (ORDER BY rank) AS above_k, lag(n_steps) OVER (ORDER BY rank) AS above_n,
           first_value(credited_n) OVER (ORDER BY rank) AS best_k, first_value(n_steps) OVER (ORDER BY rank) AS best_n
    FROM m
)
SELECT
    nb.rank, g.tie_group, nb.model, nb.provider, nb.n_runs, nb.n_settings, nb.n_steps, nb.credited_n,
    nb.credited, nb.credited_low, nb.credited_high,
    two_prop_p(nb.above_k, nb.above_n, nb.credited_n, nb.n_steps) AS p_vs_above,
    CASE WHEN nb.rank > 1 THEN two_prop_p(nb.best_k, nb.best_n, nb.credited_n, nb.n_steps) END AS p_vs_best,
    nb.witness, nb.witness_low, nb.witness_high, nb.acc, nb.acc_low, nb.acc_high,
    nb.abstain_rate, nb.tokens_per_step, nb.seconds_per_step, nb.cost_per_step,
    nb.seconds_per_credited, nb.tokens_per_credited, nb.cost_per_credited
FROM nb JOIN g USING (rank)
ORDER BY nb.rank;
