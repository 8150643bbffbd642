-- stats_macros v1: the statistics every view uses (intervals, tests, quantiles), as plain SQL macros
-- All macros are pure SQL (no UDFs), so they run in the duckdb shell and on DuckLake.
--   norm_cdf(x)                      standard normal CDF (Abramowitz-Stegun 26.2.17, |err| < 7.5e-8)
--   norm_ppf(p)                      standard normal quantile (Acklam's rational approximation)
--   z_for(conf)                      two-sided critical value, z_for(0.95) = 1.95996...
--   t_ppf(p, df)                     Student t quantile (exact for df 1, 2; Cornish-Fisher above)
--   wilson_low/high(k, n, z)         Wilson score interval for k successes out of n
--   two_prop_p(k1, n1, k2, n2)       two-sided pooled two-proportion z-test p-value
--   newcombe_low/high(k1,n1,k2,n2,z) Newcombe hybrid score interval for p1 - p2
--   ac_diff_var(k1, n1, k2, n2)      Agresti-Caffo variance of p1 - p2 (adds 1 success, 1 failure)
--   binom_cdf(k, n, p)               exact binomial P(X <= k), summed in log space
--   mcnemar_exact_p(b, c)            exact two-sided McNemar p-value from the discordant counts
--   paired_diff_low/high(b, c, n, z) Agresti-Min interval for a paired difference (b - c) / n
--   p_two_sided(z)                   two-sided normal p-value of a z statistic
-- Defaults: z = 1.959963984540054 (95%).

CREATE OR REPLACE MACRO _ncdf_tail(a, t) AS (
    exp(-a * a / 2.0) / sqrt(2.0 * pi())
    * t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))))
);

-- list_transform([expr], lambda v: ...)[1] binds expr once ("let"): nested macros stay small.
CREATE OR REPLACE MACRO norm_cdf(x) AS list_transform([x::DOUBLE], lambda v:
    CASE WHEN v IS NULL THEN NULL
         WHEN abs(v) > 37 THEN CASE WHEN v > 0 THEN 1.0 ELSE 0.0 END
         WHEN v >= 0 THEN 1.0 - _ncdf_tail(v, 1.0 / (1.0 + 0.2316419 * v))
         ELSE _ncdf_tail(-v, 1.0 / (1.0 - 0.2316419 * v)) END)[1];

CREATE OR REPLACE MACRO _ppf_tail(q) AS (
    (((((-7.784894002430293e-03 * q - 3.223964580411365e-01) * q - 2.400758277161838e+00) * q
        - 2.549732539343734e+00) * q + 4.374664141464968e+00) * q + 2.938163982698783e+00)
    / ((((7.784695709041462e-03 * q + 3.224671290700398e-01) * q + 2.445134137142996e+00) * q
        + 3.754408661907416e+00) * q + 1.0)
);

CREATE OR REPLACE MACRO _ppf_mid(q, r) AS (
    (((((-3.969683028665376e+01 * r + 2.209460984245205e+02) * r - 2.759285104469687e+02) * r
        + 1.383577518672690e+02) * r - 3.066479806614716e+01) * r + 2.506628277459239e+00) * q
    / (((((-5.447609879822406e+01 * r + 1.615858368580409e+02) * r - 1.556989798598866e+02) * r
        + 6.680131188771972e+01) * r - 1.328068155288572e+01) * r + 1.0)
);

CREATE OR REPLACE MACRO norm_ppf(p) AS list_transform([p::DOUBLE], lambda q:
    CASE WHEN q IS NULL OR q <= 0 OR q >= 1 THEN NULL
         WHEN q < 0.02425 THEN _ppf_tail(sqrt(-2.0 * ln(q)))
         WHEN q > 1 - 0.02425 THEN -_ppf_tail(sqrt(-2.0 * ln(1.0 - q)))
         ELSE _ppf_mid(q - 0.5, (q - 0.5) * (q - 0.5)) END)[1];

CREATE OR REPLACE MACRO z_for(conf) AS norm_ppf(1.0 - (1.0 - conf) / 2.0);

CREATE OR REPLACE MACRO _t_cf(z, v) AS (
    z + (z ^ 3 + z) / (4 * v)
      + (5 * z ^ 5 + 16 * z ^ 3 + 3 * z) / (96 * v ^ 2)
      + (3 * z ^ 7 + 19 * z ^ 5 + 17 * z ^ 3 - 15 * z) / (384 * v ^ 3)
      + (79 * z ^ 9 + 776 * z ^ 7 + 1482 * z ^ 5 - 1920 * z ^ 3 - 945 * z) / (92160 * v ^ 4)
);

CREATE OR REPLACE MACRO t_ppf(p, df) AS (
    CASE WHEN p IS NULL OR df IS NULL OR df < 1 OR p <= 0 OR p >= 1 THEN NULL
         WHEN df = 1 THEN tan(pi() * (p - 0.5))
         WHEN df = 2 THEN (2.0 * p - 1.0) / sqrt(2.0 * p * (1.0 - p))
         ELSE list_transform([norm_ppf(p)], lambda z: _t_cf(z, df::DOUBLE))[1] END
);

CREATE OR REPLACE MACRO p_two_sided(z) AS list_transform([z::DOUBLE], lambda v:
    CASE WHEN v IS NULL THEN NULL ELSE least(1.0, 2.0 * (1.0 - norm_cdf(abs(v)))) END)[1];

CREATE OR REPLACE MACRO _wilson(k, n, z, sign) AS (
    CASE WHEN n IS NULL OR n <= 0 THEN NULL
         WHEN sign < 0 AND k <= 0 THEN 0.0
         WHEN sign > 0 AND k >= n THEN 1.0
         ELSE greatest(0.0, least(1.0,
             (k / n + z * z / (2.0 * n)
              + sign * z * sqrt(greatest(0.0, (k / n) * (1.0 - k / n) / n + z * z / (4.0 * n * n))))
             / (1.0 + z * z / n))) END
);

CREATE OR REPLACE MACRO wilson_low(k, n, z := 1.959963984540054) AS _wilson(k::DOUBLE, n::DOUBLE, z, -1.0);
CREATE OR REPLACE MACRO wilson_high(k, n, z := 1.959963984540054) AS _wilson(k::DOUBLE, n::DOUBLE, z, 1.0);

CREATE OR REPLACE MACRO two_prop_p(k1, n1, k2, n2) AS (
    CASE WHEN n1 IS NULL OR n2 IS NULL OR n1 <= 0 OR n2 <= 0 THEN NULL
         WHEN (k1 + k2) = 0 OR (k1 + k2) = (n1 + n2) THEN 1.0
         ELSE p_two_sided((k1::DOUBLE / n1 - k2::DOUBLE / n2)
              / sqrt(((k1 + k2)::DOUBLE / (n1 + n2)) * (1.0 - (k1 + k2)::DOUBLE / (n1 + n2))
                     * (1.0 / n1 + 1.0 / n2))) END
);

CREATE OR REPLACE MACRO newcombe_low(k1, n1, k2, n2, z := 1.959963984540054) AS (
    k1::DOUBLE / n1 - k2::DOUBLE / n2
    - sqrt((k1::DOUBLE / n1 - wilson_low(k1, n1, z)) ^ 2 + (wilson_high(k2, n2, z) - k2::DOUBLE / n2) ^ 2)
);

CREATE OR REPLACE MACRO newcombe_high(k1, n1, k2, n2, z := 1.959963984540054) AS (
    k1::DOUBLE / n1 - k2::DOUBLE / n2
    + sqrt((wilson_high(k1, n1, z) - k1::DOUBLE / n1) ^ 2 + (k2::DOUBLE / n2 - wilson_low(k2, n2, z)) ^ 2)
);

CREATE OR REPLACE MACRO ac_diff_var(k1, n1, k2, n2) AS (
    ((k1 + 1.0) / (n1 + 2.0)) * (1.0 - (k1 + 1.0) / (n1 + 2.0)) / (n1 + 2.0)
    + ((k2 + 1.0) / (n2 + 2.0)) * (1.0 - (k2 + 1.0) / (n2 + 2.0)) / (n2 + 2.0)
);

CREATE OR REPLACE MACRO binom_cdf(k, n, p) AS (
    CASE WHEN k IS NULL OR n IS NULL OR p IS NULL THEN NULL
         WHEN k < 0 THEN 0.0
         WHEN k >= n THEN 1.0
         WHEN p <= 0 THEN 1.0
         WHEN p >= 1 THEN 0.0
         ELSE least(1.0, list_sum(list_transform(range(0, k::BIGINT + 1), lambda i:
              exp(lgamma(n + 1.0) - lgamma(i + 1.0) - lgamma(n - i + 1.0)
                  + i * ln(p) + (n - i) * ln(1.0 - p))))) END
);

CREATE OR REPLACE MACRO mcnemar_exact_p(b, c) AS (
    CASE WHEN b IS NULL OR c IS NULL THEN NULL
         WHEN b + c = 0 THEN 1.0
         ELSE least(1.0, 2.0 * binom_cdf(least(b, c), b + c, 0.5)) END
);

CREATE OR REPLACE MACRO _paired(b, c, n, z, sign) AS (
    CASE WHEN n IS NULL OR n <= 0 THEN NULL
         ELSE greatest(-1.0, least(1.0,
             (b - c + 0.0) / (n + 2.0)
             + sign * z * sqrt(greatest(0.0, (b + c + 1.0) - (b - c + 0.0) ^ 2 / (n + 2.0))) / (n + 2.0)))
         END
);

CREATE OR REPLACE MACRO paired_diff_low(b, c, n, z := 1.959963984540054) AS _paired(b, c, n, z, -1.0);
CREATE OR REPLACE MACRO paired_diff_high(b, c, n, z := 1.959963984540054) AS _paired(b, c, n, z, 1.0);
