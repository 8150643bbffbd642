-- 0010_views_v1_settled: every v1 view and macro of 0002 defined again from its file, so all
-- databases end with the same definitions whichever text of 0002 they applied.
-- Why: 0002 includes the view files, and those files were edited after 0002 first shipped (the
-- statistics macros, runs, dial_effects and others were made faster, and header_json was added
-- to the file at the release that also added 0003). A database keeps the definitions of the
-- day it applied 0002, so two databases at the same schema number could answer differently.
-- 0003 already redefined runs_v1 and the header_json alias (and dropped header_json_v1, which
-- only pre-0003 storage can bind); this migration redefines the rest. It re-points no alias:
-- later migrations own the unversioned names (so the stored column list of an alias whose v1
-- gained columns, e.g. runs_summary, is refreshed by the migration that re-points it; `SELECT *`
-- through the alias already returns the v1 columns of today). Every statement is CREATE OR
-- REPLACE or DROP ... IF EXISTS: on a database that had these definitions it changes nothing.

-- Helpers of the first runs_v1 that no released view uses any more.
DROP MACRO IF EXISTS _dial_bool;
DROP MACRO IF EXISTS _dial_dbl;
DROP MACRO IF EXISTS _dial_int;
DROP MACRO IF EXISTS _dial_str;

-- include: views/stats_macros_v1.sql
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
