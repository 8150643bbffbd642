-- 0007_learning: the simulator's own questions as views: learning curves, early/late, retention,
-- stability (LAUC, WIT, STAB, CL&S, forget onset), failure reasons, each per run and pooled over runs
-- with intervals that treat the run (not the step) as the independent unit.

-- include: views/learning_curve_v1.sql
-- include: views/early_late_v1.sql
-- include: views/retention_v1.sql
-- include: views/stability_v1.sql
CREATE OR REPLACE VIEW learning_curve AS SELECT * FROM learning_curve_v1;
CREATE OR REPLACE VIEW learning_curve_pooled AS SELECT * FROM learning_curve_pooled_v1;
CREATE OR REPLACE VIEW early_late AS SELECT * FROM early_late_v1;
CREATE OR REPLACE VIEW early_late_pooled AS SELECT * FROM early_late_pooled_v1;
CREATE OR REPLACE VIEW retention AS SELECT * FROM retention_v1;
CREATE OR REPLACE VIEW retention_pooled AS SELECT * FROM retention_pooled_v1;
CREATE OR REPLACE VIEW stability AS SELECT * FROM stability_v1;
CREATE OR REPLACE VIEW stability_pooled AS SELECT * FROM stability_pooled_v1;
-- include: views/cluster_stats_v1.sql
-- include: views/failure_reasons_v1.sql
CREATE OR REPLACE VIEW failure_reasons AS SELECT * FROM failure_reasons_v1;
CREATE OR REPLACE VIEW failure_reasons_pooled AS SELECT * FROM failure_reasons_pooled_v1;
-- include: views/rag_delta_v1.sql
CREATE OR REPLACE VIEW rag_delta AS SELECT * FROM rag_delta_v1;
-- include: views/talk_v1.sql
-- include: views/guardrail_alerts_v1.sql
CREATE OR REPLACE VIEW talk AS SELECT * FROM talk_v1;
CREATE OR REPLACE VIEW talk_pooled AS SELECT * FROM talk_pooled_v1;
CREATE OR REPLACE VIEW guardrail_alerts AS SELECT * FROM guardrail_alerts_v1;
CREATE OR REPLACE VIEW guardrail_states AS SELECT * FROM guardrail_states_v1;

-- The credited-vs-tokens curve, written by `warehouse token-curve` (empty until it runs; each run
-- replaces both tables). One row per model (domain '*') and, for models logged in several domains,
-- per model x domain; token_curve_points holds the fitted curve with its 95% band on a grid.
CREATE TABLE token_curve (
    model           VARCHAR,
    domain          VARCHAR,
    n_runs          INTEGER,
    n_steps         BIGINT,
    status          VARCHAR,   -- fitted | too_few_runs | fit_failed
    shape           VARCHAR,   -- peaked | rising | falling (where the fitted maximum lies)
    b0              DOUBLE,
    b1              DOUBLE,
    b2              DOUBLE,
    b2_p            DOUBLE,
    dispersion      DOUBLE,
    tokens_min      DOUBLE,
    tokens_max      DOUBLE,
    opt_tokens      DOUBLE,
    opt_credited    DOUBLE,
    opt_low         DOUBLE,
    opt_high        DOUBLE,
    band_low        DOUBLE,
    band_high       DOUBLE,
    fitted_at       TIMESTAMP
);
CREATE TABLE token_curve_points (
    model           VARCHAR,
    domain          VARCHAR,
    tokens_per_step DOUBLE,
    credited        DOUBLE,
    credited_low    DOUBLE,
    credited_high   DOUBLE
);

-- include: views/model_profiles_v1.sql
CREATE OR REPLACE VIEW model_profiles AS SELECT * FROM model_profiles_v1;
