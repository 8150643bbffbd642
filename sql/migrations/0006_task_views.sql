-- 0006_task_views: views for the task types beyond MCQ: SAQ key points and misconceptions
-- (saq_points), what self-consistency drafts add (saq_drafts), and the alias-swap experiment per
-- run and family (alias_families) and pooled per setting and per model (alias_summary).

-- include: views/saq_points_v1.sql
-- include: views/saq_drafts_v1.sql
-- include: views/alias_families_v1.sql
-- include: views/alias_summary_v1.sql
CREATE OR REPLACE VIEW saq_points AS SELECT * FROM saq_points_v1;
CREATE OR REPLACE VIEW saq_drafts AS SELECT * FROM saq_drafts_v1;
CREATE OR REPLACE VIEW alias_families AS SELECT * FROM alias_families_v1;
CREATE OR REPLACE VIEW alias_summary AS SELECT * FROM alias_summary_v1;
