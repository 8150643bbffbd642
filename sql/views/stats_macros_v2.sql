-- stats_macros v2: design-aware statistics (two-way cluster-robust variance, t tests, validated metrics), plain SQL macros added to v1's
-- Why: steps of one run share the run, and the same items recur across runs, settings and models, so
--   steps are not independent. The v2 views estimate every rate and difference as a weighted sum
--   of per-step residuals and take its variance two-way cluster-robust (Cameron-Gelbach-Miller):
--   V = V_run + V_item - V_run&item, each a sum of squared cluster sums times G/(G-1); the run part
--   uses G/(G-k) and G-k degrees of freedom when k means were estimated from the runs (one per
--   setting, side or matched group: the residuals of each sum to zero). When V is
--   not positive, max(V_run, V_item); with fewer than 2 runs only the item part (runs cannot vary).
--   Degrees of freedom: Satterthwaite over the run part (G_run - 1) and the extra item part
--   (V_item - V_run&item, G_item - 1), floored to an integer >= 1: intervals use Student t, not z.
--   cgm_var(vr, gr, vi, gi, vri)      the combined variance from the three (scaled) components; when
--                                     it is not positive (beyond 1e-9 of vr + vi: float noise must
--                                     not decide, it differs between backends) the larger one-way
--                                     variance; never below 0
--   cgm_var_diff(vr, gr, vi, gi, vri) the variance of a DIFFERENCE between two sets of runs: the run
--                                     part plus the item part only where positive,
--                                     vr + max(vi - vri, 0). Why: given the items each run drew, runs
--                                     are independent, so the run-clustered part alone is valid for
--                                     the difference (CR2-scaled: G/(G-k) is CR2 for cell means); the
--                                     item part may add item-by-side interaction. It must not subtract:
--                                     a main item effect cancels in a difference but, with each side's
--                                     mean estimated, enters vri fully and vi - vri with negative
--                                     expectation, so cgm_var understated the variance of differences
--                                     (a null dial test at 5% rejected 6-8% in simulation of the
--                                     known-effects design; this form 4.3-5.0%). cgm_df already
--                                     counts only this positive item part, so df is unchanged.
--   cgm_df(vr, gr, vi, gi, vri)       its degrees of freedom (Satterthwaite); components summing to
--                                     under 1e-12 count as no variance, so summation noise (which
--                                     differs between backends) cannot swing df from 20 to 1; the
--                                     value is rounded to 9 decimals before the floor, so an exact
--                                     integer (df = G - 1 when one component vanishes) computed as
--                                     6.9999999999 in one summation order is not floored to 6
--   t_p_two_sided(t, df)              two-sided Student t p-value (exact for df 1, 2; Peizer-Pratt above)
--   t_crit(conf, df)                  two-sided t critical value: t_crit(0.95, 1e9) = 1.96
--   rate_low/high(p, n, v, df, conf)  Wilson interval at the effective n = p(1-p)/v (Kish design
--                                     effect) with the t critical value; independent steps give Wilson
--   metric_value(metric, credited, correct, witness)  the chosen 0/1 outcome; an unknown metric is an error
--   z_power(power)                    z of the power (0.8 -> 0.8416), for minimum detectable effects

CREATE OR REPLACE MACRO cgm_var(vr, gr, vi, gi, vri) AS (
    CASE WHEN gr >= 2 AND gi >= 2 THEN
             CASE WHEN vr + vi - vri > 1e-9 * (vr + vi) THEN vr + vi - vri ELSE greatest(vr, vi, 0.0) END
         WHEN gi >= 2 THEN greatest(vi, 0.0)
         WHEN gr >= 2 THEN greatest(vr, 0.0) END
);

CREATE OR REPLACE MACRO cgm_var_diff(vr, gr, vi, gi, vri) AS (
    CASE WHEN gr >= 2 AND gi >= 2 THEN greatest(vr, 0.0) + greatest(vi - vri, 0.0)
         WHEN gi >= 2 THEN greatest(vi, 0.0)
         WHEN gr >= 2 THEN greatest(vr, 0.0) END
);

CREATE OR REPLACE MACRO cgm_df(vr, gr, vi, gi, vri) AS greatest(1.0, floor(round(
    CASE WHEN gr >= 2 AND gi >= 2 THEN
             CASE WHEN vr + greatest(vi - vri, 0.0) <= 1e-12 THEN gr + gi - 2.0  -- no variance: not float noise
                  ELSE least(gr + gi - 2.0, (vr + greatest(vi - vri, 0.0)) ^ 2
                             / (vr ^ 2 / (gr - 1.0) + greatest(vi - vri, 0.0) ^ 2 / (gi - 1.0))) END
         WHEN gi >= 2 THEN gi - 1.0
         WHEN gr >= 2 THEN gr - 1.0 END, 9)));

CREATE OR REPLACE MACRO t_p_two_sided(t, df) AS list_transform([[t::DOUBLE, floor(df)::DOUBLE]], lambda v:
    CASE WHEN v[1] IS NULL OR v[2] IS NULL OR v[2] < 1 THEN NULL
         WHEN v[2] = 1 THEN 1.0 - 2.0 * atan(abs(v[1])) / pi()
         WHEN v[2] = 2 THEN 1.0 - abs(v[1]) / sqrt(2.0 + v[1] * v[1])
         WHEN v[2] > 1e6 THEN p_two_sided(v[1])
         ELSE p_two_sided((v[2] - 2.0 / 3.0 + 1.0 / (10.0 * v[2]))
                          * sqrt(ln(1.0 + v[1] * v[1] / v[2]) / (v[2] - 5.0 / 6.0))) END)[1];

CREATE OR REPLACE MACRO t_crit(conf, df) AS (
    CASE WHEN df IS NULL THEN NULL WHEN df > 1e6 THEN z_for(conf)
         ELSE t_ppf(1.0 - (1.0 - conf) / 2.0, floor(df)) END
);

CREATE OR REPLACE MACRO _neff(p, n, v) AS (
    CASE WHEN v IS NULL OR v <= 0 OR p <= 0 OR p >= 1 THEN n::DOUBLE
         ELSE p * (1.0 - p) / v END
);

CREATE OR REPLACE MACRO rate_low(p, n, v, df, conf := 0.95) AS
    _wilson(p * _neff(p, n, v), _neff(p, n, v), t_crit(conf, df), -1.0);
CREATE OR REPLACE MACRO rate_high(p, n, v, df, conf := 0.95) AS
    _wilson(p * _neff(p, n, v), _neff(p, n, v), t_crit(conf, df), 1.0);

CREATE OR REPLACE MACRO metric_value(metric, credited, correct, witness) AS (
    CASE metric WHEN 'credited' THEN credited WHEN 'correct' THEN correct WHEN 'witness' THEN witness
         ELSE error('unknown metric ''' || metric || ''': use credited, correct or witness') END
);

CREATE OR REPLACE MACRO z_power(power) AS norm_ppf(power);
