-- 0004_scope: table macros that limit steps and runs to one scope (campaign, time window, a list
-- of runs); scoped statistics read through them.

-- include: views/steps_in_v1.sql
CREATE OR REPLACE MACRO steps_in(campaign := '*', since := '-infinity', until := 'infinity', runs := '*') AS TABLE
    SELECT * FROM steps_in_v1(campaign := campaign, since := since, until := until, runs := runs);
CREATE OR REPLACE MACRO runs_in(campaign := '*', since := '-infinity', until := 'infinity', runs := '*') AS TABLE
    SELECT * FROM runs_in_v1(campaign := campaign, since := since, until := until, runs := runs);
