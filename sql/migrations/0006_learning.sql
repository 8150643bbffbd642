-- 0006_learning: the simulator's own questions as views: learning curves, early/late, retention,
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
