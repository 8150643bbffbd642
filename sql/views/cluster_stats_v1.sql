-- cluster_stats v1: intervals for a share pooled over runs whose steps are not independent (cluster-robust ratio estimator), as plain SQL macros
-- A pooled share p = sum(k) / sum(m) over G runs (k = hits, m = trials of run i). Its variance treats
--   the run as the independent unit: var = G / (G - 1) * sum((k_i - p * m_i)^2) / sum(m)^2, the usual
--   cluster-robust (linearisation) variance of a ratio. The macros take the per-group sums
--   sk = sum(k), sm = sum(m), skk = sum(k^2), skm = sum(k * m), smm = sum(m^2) and g = G, so one
--   GROUP BY pass is enough.
--   cluster_ratio_half(sk, sm, skk, skm, smm, g)   95% half-width, Student t with G - 1 df
--                                                   (NULL with fewer than 2 runs)
--   cluster_ratio_var(sk, sm, skk, skm, smm, g)    the variance itself (for differences)

CREATE OR REPLACE MACRO cluster_ratio_var(sk, sm, skk, skm, smm, g) AS (
    CASE WHEN g IS NULL OR g < 2 OR sm IS NULL OR sm <= 0 THEN NULL
         ELSE g / (g - 1.0)
              * greatest(0.0, skk - 2.0 * (sk / sm) * skm + (sk / sm) * (sk / sm) * smm) / (sm * sm) END
);

CREATE OR REPLACE MACRO cluster_ratio_half(sk, sm, skk, skm, smm, g) AS (
    t_ppf(0.975, g - 1) * sqrt(cluster_ratio_var(sk::DOUBLE, sm::DOUBLE, skk::DOUBLE, skm::DOUBLE, smm::DOUBLE, g))
);
