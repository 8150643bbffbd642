-- 0009_stats_v2: design-aware statistics. Clustered (runs x items) intervals, could-be-best sets,
-- non-inferior recommendations, BH with ties, validated metrics; every statistic is a table macro
-- over steps_in (scope arguments campaign / since / until / runs) and partitioned by task type and tau.

-- include: views/stats_macros_v2.sql
-- include: views/model_ranking_v2.sql
-- include: views/best_settings_v2.sql
-- include: views/dial_effects_v2.sql
-- include: views/paired_comparison_v2.sql

CREATE OR REPLACE VIEW model_ranking AS SELECT * FROM model_ranking_v2;
CREATE OR REPLACE VIEW best_settings AS SELECT * FROM best_settings_v2;
CREATE OR REPLACE VIEW dial_effects AS SELECT * FROM dial_effects_v2;
CREATE OR REPLACE VIEW paired_models AS SELECT * FROM paired_models_v2;
CREATE OR REPLACE MACRO model_ranking_for(campaign := '*', since := '-infinity', until := 'infinity', runs := '*',
                                          metric := 'credited', conf := 0.95, power := 0.8) AS TABLE
    SELECT * FROM model_ranking_for_v2(campaign := campaign, since := since, until := until, runs := runs,
                                       metric := metric, conf := conf, power := power);
CREATE OR REPLACE MACRO best_settings_for(campaign := '*', since := '-infinity', until := 'infinity', runs := '*',
                                          metric := 'credited', min_steps := 30, apples_only := false,
                                          margin := 0.03, conf := 0.95) AS TABLE
    SELECT * FROM best_settings_for_v2(campaign := campaign, since := since, until := until, runs := runs,
                                       metric := metric, min_steps := min_steps, apples_only := apples_only,
                                       margin := margin, conf := conf);
CREATE OR REPLACE MACRO dial_effects_for(campaign := '*', since := '-infinity', until := 'infinity', runs := '*',
                                         metric := 'credited', conf := 0.95, power := 0.8) AS TABLE
    SELECT * FROM dial_effects_for_v2(campaign := campaign, since := since, until := until, runs := runs,
                                      metric := metric, conf := conf, power := power);
CREATE OR REPLACE MACRO paired_comparison(a, b, metric := 'credited', campaign := '*', since := '-infinity',
                                          until := 'infinity', runs := '*', conf := 0.95) AS TABLE
    SELECT * FROM paired_comparison_v2(a, b, metric := metric, campaign := campaign, since := since,
                                       until := until, runs := runs, conf := conf);

-- pareto v2 reads best_settings v2, so it is created here, after it.
-- include: views/pareto_v2.sql
CREATE OR REPLACE VIEW pareto AS SELECT * FROM pareto_v2;
