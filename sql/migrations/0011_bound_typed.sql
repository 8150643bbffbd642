-- 0011_bound_typed: typed values the views cannot convert, in rows stored before ingest bounded them.
-- A nanosecond `ts` (1757510189123456789), 1e17 or -1e309 made make_timestamp fail in every view
-- that reads steps. The same rules as ingest/bounds.py: `ts` too big for seconds is read as
-- milliseconds, microseconds or nanoseconds by its magnitude, else NULL; step numbers, durations,
-- request times, call and token counts beyond 1e15 in magnitude (or not finite) become NULL.
-- records.line keeps every value as logged. Each repaired field is counted in schema_drift
-- (kind 'value out of range'), as an ingest does.

INSERT INTO schema_drift
SELECT 'ts', 'value out of range', min(struct_pack(file_id, line_no)).file_id,
       min(struct_pack(file_id, line_no)).line_no, min(load_id), count(*)
FROM records WHERE (ts IS NOT NULL AND NOT (abs(ts::DOUBLE) < 1e+11)) HAVING count(*) > 0;
UPDATE records SET ts = CASE WHEN abs(ts) < 1e11 THEN ts WHEN abs(ts) < 1e14 THEN ts / 1e3 WHEN abs(ts) < 1e17 THEN ts / 1e6 WHEN abs(ts) < 1e20 THEN ts / 1e9 END WHERE (ts IS NOT NULL AND NOT (abs(ts::DOUBLE) < 1e+11));

INSERT INTO schema_drift
SELECT 'step', 'value out of range', min(struct_pack(file_id, line_no)).file_id,
       min(struct_pack(file_id, line_no)).line_no, min(load_id), count(*)
FROM records WHERE (step IS NOT NULL AND NOT (abs(step::DOUBLE) < 1e+15)) HAVING count(*) > 0;
UPDATE records SET step = CASE WHEN abs(step::DOUBLE) < 1e+15 THEN step END WHERE (step IS NOT NULL AND NOT (abs(step::DOUBLE) < 1e+15));

INSERT INTO schema_drift
SELECT 'duration_ms', 'value out of range', min(struct_pack(file_id, line_no)).file_id,
       min(struct_pack(file_id, line_no)).line_no, min(load_id), count(*)
FROM records WHERE (duration_ms IS NOT NULL AND NOT (abs(duration_ms::DOUBLE) < 1e+15)) HAVING count(*) > 0;
UPDATE records SET duration_ms = CASE WHEN abs(duration_ms::DOUBLE) < 1e+15 THEN duration_ms END WHERE (duration_ms IS NOT NULL AND NOT (abs(duration_ms::DOUBLE) < 1e+15));

INSERT INTO schema_drift
SELECT 'student_usage.calls', 'value out of range', min(struct_pack(file_id, line_no)).file_id,
       min(struct_pack(file_id, line_no)).line_no, min(load_id), count(*)
FROM records WHERE (student_calls IS NOT NULL AND NOT (abs(student_calls::DOUBLE) < 1e+15)) HAVING count(*) > 0;
UPDATE records SET student_calls = CASE WHEN abs(student_calls::DOUBLE) < 1e+15 THEN student_calls END WHERE (student_calls IS NOT NULL AND NOT (abs(student_calls::DOUBLE) < 1e+15));

INSERT INTO schema_drift
SELECT 'student_usage.prompt_tokens', 'value out of range', min(struct_pack(file_id, line_no)).file_id,
       min(struct_pack(file_id, line_no)).line_no, min(load_id), count(*)
FROM records WHERE (student_prompt_tokens IS NOT NULL AND NOT (abs(student_prompt_tokens::DOUBLE) < 1e+15)) HAVING count(*) > 0;
UPDATE records SET student_prompt_tokens = CASE WHEN abs(student_prompt_tokens::DOUBLE) < 1e+15 THEN student_prompt_tokens END WHERE (student_prompt_tokens IS NOT NULL AND NOT (abs(student_prompt_tokens::DOUBLE) < 1e+15));

INSERT INTO schema_drift
SELECT 'student_usage.completion_tokens', 'value out of range', min(struct_pack(file_id, line_no)).file_id,
       min(struct_pack(file_id, line_no)).line_no, min(load_id), count(*)
FROM records WHERE (student_completion_tokens IS NOT NULL AND NOT (abs(student_completion_tokens::DOUBLE) < 1e+15)) HAVING count(*) > 0;
UPDATE records SET student_completion_tokens = CASE WHEN abs(student_completion_tokens::DOUBLE) < 1e+15 THEN student_completion_tokens END WHERE (student_completion_tokens IS NOT NULL AND NOT (abs(student_completion_tokens::DOUBLE) < 1e+15));

INSERT INTO schema_drift
SELECT 'student_usage.total_tokens', 'value out of range', min(struct_pack(file_id, line_no)).file_id,
       min(struct_pack(file_id, line_no)).line_no, min(load_id), count(*)
FROM records WHERE (student_total_tokens IS NOT NULL AND NOT (abs(student_total_tokens::DOUBLE) < 1e+15)) HAVING count(*) > 0;
UPDATE records SET student_total_tokens = CASE WHEN abs(student_total_tokens::DOUBLE) < 1e+15 THEN student_total_tokens END WHERE (student_total_tokens IS NOT NULL AND NOT (abs(student_total_tokens::DOUBLE) < 1e+15));

INSERT INTO schema_drift
SELECT 'student_usage.request_ms_sum', 'value out of range', min(struct_pack(file_id, line_no)).file_id,
       min(struct_pack(file_id, line_no)).line_no, min(load_id), count(*)
FROM records WHERE (student_request_ms IS NOT NULL AND NOT (abs(student_request_ms::DOUBLE) < 1e+15)) HAVING count(*) > 0;
UPDATE records SET student_request_ms = CASE WHEN abs(student_request_ms::DOUBLE) < 1e+15 THEN student_request_ms END WHERE (student_request_ms IS NOT NULL AND NOT (abs(student_request_ms::DOUBLE) < 1e+15));

INSERT INTO schema_drift
SELECT 'tutor_usage.calls', 'value out of range', min(struct_pack(file_id, line_no)).file_id,
       min(struct_pack(file_id, line_no)).line_no, min(load_id), count(*)
FROM records WHERE (tutor_calls IS NOT NULL AND NOT (abs(tutor_calls::DOUBLE) < 1e+15)) HAVING count(*) > 0;
UPDATE records SET tutor_calls = CASE WHEN abs(tutor_calls::DOUBLE) < 1e+15 THEN tutor_calls END WHERE (tutor_calls IS NOT NULL AND NOT (abs(tutor_calls::DOUBLE) < 1e+15));

INSERT INTO schema_drift
SELECT 'tutor_usage.prompt_tokens', 'value out of range', min(struct_pack(file_id, line_no)).file_id,
       min(struct_pack(file_id, line_no)).line_no, min(load_id), count(*)
FROM records WHERE (tutor_prompt_tokens IS NOT NULL AND NOT (abs(tutor_prompt_tokens::DOUBLE) < 1e+15)) HAVING count(*) > 0;
UPDATE records SET tutor_prompt_tokens = CASE WHEN abs(tutor_prompt_tokens::DOUBLE) < 1e+15 THEN tutor_prompt_tokens END WHERE (tutor_prompt_tokens IS NOT NULL AND NOT (abs(tutor_prompt_tokens::DOUBLE) < 1e+15));

INSERT INTO schema_drift
SELECT 'tutor_usage.completion_tokens', 'value out of range', min(struct_pack(file_id, line_no)).file_id,
       min(struct_pack(file_id, line_no)).line_no, min(load_id), count(*)
FROM records WHERE (tutor_completion_tokens IS NOT NULL AND NOT (abs(tutor_completion_tokens::DOUBLE) < 1e+15)) HAVING count(*) > 0;
UPDATE records SET tutor_completion_tokens = CASE WHEN abs(tutor_completion_tokens::DOUBLE) < 1e+15 THEN tutor_completion_tokens END WHERE (tutor_completion_tokens IS NOT NULL AND NOT (abs(tutor_completion_tokens::DOUBLE) < 1e+15));

INSERT INTO schema_drift
SELECT 'tutor_usage.total_tokens', 'value out of range', min(struct_pack(file_id, line_no)).file_id,
       min(struct_pack(file_id, line_no)).line_no, min(load_id), count(*)
FROM records WHERE (tutor_total_tokens IS NOT NULL AND NOT (abs(tutor_total_tokens::DOUBLE) < 1e+15)) HAVING count(*) > 0;
UPDATE records SET tutor_total_tokens = CASE WHEN abs(tutor_total_tokens::DOUBLE) < 1e+15 THEN tutor_total_tokens END WHERE (tutor_total_tokens IS NOT NULL AND NOT (abs(tutor_total_tokens::DOUBLE) < 1e+15));

INSERT INTO schema_drift
SELECT 'tutor_usage.request_ms_sum', 'value out of range', min(struct_pack(file_id, line_no)).file_id,
       min(struct_pack(file_id, line_no)).line_no, min(load_id), count(*)
FROM records WHERE (tutor_request_ms IS NOT NULL AND NOT (abs(tutor_request_ms::DOUBLE) < 1e+15)) HAVING count(*) > 0;
UPDATE records SET tutor_request_ms = CASE WHEN abs(tutor_request_ms::DOUBLE) < 1e+15 THEN tutor_request_ms END WHERE (tutor_request_ms IS NOT NULL AND NOT (abs(tutor_request_ms::DOUBLE) < 1e+15));
