-- 0005_views_v2: one name per model, τ never missing, duplicates flagged, every task type scored.
-- `model_names` maps the key of every spelling of a known model (letters and digits, lower case)
-- to its canonical id; ingest fills it from the shipped table and warehouse.toml [models]. The v2
-- core views read it, and the unversioned names now point at v2.

CREATE TABLE model_names (
    key     VARCHAR NOT NULL,   -- lower case, letters and digits only
    model   VARCHAR NOT NULL,   -- canonical id
    source  VARCHAR NOT NULL    -- builtin | alias
);

-- include: views/runs_v2.sql
-- include: views/steps_v2.sql
-- include: views/runs_summary_v2.sql
-- include: views/by_model_steps_v2.sql
-- include: views/by_model_runs_v2.sql
-- include: views/witness_credited_v2.sql
-- include: views/catalog_v2.sql
-- include: views/steps_in_v2.sql
-- include: views/not_runs_v1.sql

CREATE OR REPLACE VIEW runs AS SELECT * FROM runs_v2;
CREATE OR REPLACE VIEW steps AS SELECT * FROM steps_v2;
CREATE OR REPLACE VIEW runs_summary AS SELECT * FROM runs_summary_v2;
CREATE OR REPLACE VIEW by_model_steps AS SELECT * FROM by_model_steps_v2;
CREATE OR REPLACE VIEW by_model_runs AS SELECT * FROM by_model_runs_v2;
CREATE OR REPLACE VIEW witness_credited AS SELECT * FROM witness_credited_v2;
CREATE OR REPLACE VIEW catalog AS SELECT * FROM catalog_v2;
CREATE OR REPLACE VIEW not_runs AS SELECT * FROM not_runs_v1;
CREATE OR REPLACE MACRO steps_in(campaign := '*', since := '-infinity', until := 'infinity', runs := '*',
                                 include_duplicates := false, include_unattributed := false) AS TABLE
    SELECT * FROM steps_in_v2(campaign := campaign, since := since, until := until, runs := runs,
                              include_duplicates := include_duplicates,
                              include_unattributed := include_unattributed);
CREATE OR REPLACE MACRO runs_in(campaign := '*', since := '-infinity', until := 'infinity', runs := '*',
                                include_duplicates := false, include_unattributed := false) AS TABLE
    SELECT * FROM runs_in_v2(campaign := campaign, since := since, until := until, runs := runs,
                             include_duplicates := include_duplicates,
                             include_unattributed := include_unattributed);
