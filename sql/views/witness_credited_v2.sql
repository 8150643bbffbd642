-- witness_credited v2: per model and τ (counted runs, MCQ steps) the witness -> credited lever: credited given witness pass / fail, the gap with interval, and the run-level correlation
-- One row per (model, tau); only counted runs (runs_v2.counted).
-- Step level: credited_if_witness = P(credited | witness_pass), credited_if_no_witness =
--   P(credited | not witness_pass), each with a 95% Wilson interval; lift = their difference with a
--   Newcombe 95% interval. Run level (per-run finals): Pearson corr and least-squares slope of
--   credited_final on witness_final over runs (NULL with fewer than 3 runs).

CREATE OR REPLACE VIEW witness_credited_v2 AS
WITH st AS MATERIALIZED (
    SELECT model, tau, run_key, credited, witness_pass FROM steps_v2 WHERE task_type = 'mcq' AND counted
),
s AS (
    SELECT model, tau,
           count(*) AS n_steps,
           count(*) FILTER (WHERE witness_pass) AS witness_n,
           count(*) FILTER (WHERE credited AND witness_pass) AS credited_w,
           count(*) FILTER (WHERE credited AND NOT witness_pass) AS credited_nw
    FROM st GROUP BY model, tau
),
per_run AS (
    SELECT model, tau, run_key, avg(credited::INT) AS credited_final, avg(witness_pass::INT) AS witness_final
    FROM st GROUP BY model, tau, run_key
),
r AS (
    SELECT model, tau, count(*) AS n_runs,
           CASE WHEN count(*) >= 3 THEN corr(credited_final, witness_final) END AS run_corr,
           CASE WHEN count(*) >= 3 THEN regr_slope(credited_final, witness_final) END AS run_slope
    FROM per_run GROUP BY model, tau
)
SELECT s.model, 'mcq' AS task_type, s.tau, s.n_steps, r.n_runs,
       s.witness_n::DOUBLE / s.n_steps AS witness,
       (s.credited_w + s.credited_nw)::DOUBLE / s.n_steps AS credited,
       s.credited_w::DOUBLE / nullif(s.witness_n, 0) AS credited_if_witness,
       wilson_low(s.credited_w, s.witness_n) AS credited_if_witness_low,
       wilson_high(s.credited_w, s.witness_n) AS credited_if_witness_high,
       s.credited_nw::DOUBLE / nullif(s.n_steps - s.witness_n, 0) AS credited_if_no_witness,
       wilson_low(s.credited_nw, s.n_steps - s.witness_n) AS credited_if_no_witness_low,
       wilson_high(s.credited_nw, s.n_steps - s.witness_n) AS credited_if_no_witness_high,
       CASE WHEN s.witness_n > 0 AND s.n_steps > s.witness_n
            THEN s.credited_w::DOUBLE / s.witness_n - s.credited_nw::DOUBLE / (s.n_steps - s.witness_n) END AS lift,
       CASE WHEN s.witness_n > 0 AND s.n_steps > s.witness_n
            THEN newcombe_low(s.credited_w, s.witness_n, s.credited_nw, s.n_steps - s.witness_n) END AS lift_low,
       CASE WHEN s.witness_n > 0 AND s.n_steps > s.witness_n
            THEN newcombe_high(s.credited_w, s.witness_n, s.credited_nw, s.n_steps - s.witness_n) END AS lift_high,
       r.run_corr, r.run_slope
FROM s LEFT JOIN r USING (model, tau)
ORDER BY s.model, s.tau;
