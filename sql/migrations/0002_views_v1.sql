-- 0002_views_v1: the price table, the statistics macros and the v1 analysis views, each with an
-- unversioned name pointing at its latest version (a later vN migration re-points them).

-- Model prices per million tokens (warehouse.toml [prices."model"]); filled by the CLI from config.
-- One row per model, kept unique by the writer (no constraints: DuckLake has none).
CREATE TABLE prices (
    model           VARCHAR NOT NULL,
    input_per_mtok  DOUBLE NOT NULL,
    output_per_mtok DOUBLE NOT NULL
);

-- include: views/stats_macros_v1.sql
-- include: views/header_json_v1.sql
CREATE OR REPLACE VIEW header_json AS SELECT * FROM header_json_v1;
-- include: views/runs_v1.sql
-- include: views/steps_v1.sql
-- include: views/runs_summary_v1.sql
-- include: views/by_model_steps_v1.sql
-- include: views/by_model_runs_v1.sql
-- include: views/model_ranking_v1.sql
-- include: views/best_settings_v1.sql
-- include: views/dial_effects_v1.sql
-- include: views/paired_comparison_v1.sql
-- include: views/witness_credited_v1.sql
-- include: views/pareto_v1.sql
-- include: views/catalog_v1.sql
-- include: views/rescore_credited_v1.sql

CREATE OR REPLACE VIEW runs AS SELECT * FROM runs_v1;
CREATE OR REPLACE VIEW steps AS SELECT * FROM steps_v1;
CREATE OR REPLACE VIEW runs_summary AS SELECT * FROM runs_summary_v1;
CREATE OR REPLACE VIEW by_model_steps AS SELECT * FROM by_model_steps_v1;
CREATE OR REPLACE VIEW by_model_runs AS SELECT * FROM by_model_runs_v1;
CREATE OR REPLACE VIEW model_ranking AS SELECT * FROM model_ranking_v1;
CREATE OR REPLACE VIEW best_settings AS SELECT * FROM best_settings_v1;
CREATE OR REPLACE VIEW dial_effects AS SELECT * FROM dial_effects_v1;
CREATE OR REPLACE VIEW paired_models AS SELECT * FROM paired_models_v1;
CREATE OR REPLACE VIEW witness_credited AS SELECT * FROM witness_credited_v1;
CREATE OR REPLACE VIEW pareto AS SELECT * FROM pareto_v1;
CREATE OR REPLACE VIEW catalog AS SELECT * FROM catalog_v1;
CREATE OR REPLACE MACRO best_settings_for(min_steps := 30, apples_only := false) AS TABLE
    SELECT * FROM best_settings_for_v1(min_steps := min_steps, apples_only := apples_only);
CREATE OR REPLACE MACRO paired_comparison(a, b, metric := 'credited') AS TABLE
    SELECT * FROM paired_comparison_v1(a, b, metric := metric);
CREATE OR REPLACE MACRO rescore_credited(new_tau) AS TABLE
    SELECT * FROM rescore_credited_v1(new_tau);
