-- runs v2: one row per run with its canonical model, τ (never missing), status (crashed vs in progress), task type and duplicate flag
-- harness: the harness that wrote the results (inspect, lm-eval, promptfoo for imported files, see
--   docs/importers.md); native = a log in this format (the simulator's or `warehouse run`'s).
-- Identity and copies as in v1: the copy with the most valid steps wins (then: has run_end, present,
--   .jsonl, lowest file_id); `paths` lists every copy, n_copies counts them. A file whose lines hold
--   no run header, no step and no run_end (a JSONL that is not a run log, e.g. perturbed cards) never
--   becomes a run: see the not_runs view.
-- model: the canonical model id. model_raw is what the header (student.model) or the path said;
--   model_from = 'header' | 'path_rule:<rule name>' | 'alias' (a [models] alias of warehouse.toml
--   mapped it) | 'none' (nothing said: model is NULL, never a made-up name). Any spelling of a known
--   model (org/Name, org-Name, org_Name, dots as _, lower case, short names like mixtral or
--   deepseek_r1) maps to one id through the `model_names` table (letters and digits compared, case
--   ignored); model_known says whether it did. An unrecognised name is kept as it was said.
-- provider/student: header value wins over the path; *_from = 'header' | 'path:<rule>' | 'none'.
-- tau: coverage threshold τ. Header value, else the path's, else the simulator's documented default
--   0.4; tau_from = 'header' | 'path' | 'default' (tau_rule names the path rule). Credited depends
--   on τ: statistics must partition by (task_type, tau) or rescore to one τ.
-- task_type: the task type of the run's steps (the most common one; mcq for alias_swap runs, whose
--   header task is kept in `task`), else the header's task.
-- status: complete (run_end says complete, or steps_logged >= planned_steps) | in_progress (no
--   run_end, the run is its file's last, and the file was written within the last
--   in_progress_minutes, 60 by default, [status] in warehouse.toml) | crashed (the same but the
--   file ends in a torn line and was last written longer ago) | header_only (no steps) |
--   incomplete (everything else, incl. aborted runs and header-less logs).
-- started_at: header ts, else first step ts (UTC). ended_at: last step ts.
-- Dials: typed columns for the common dials; `dials` is the header's JSON as logged. Dials that did
--   not exist in old eras (use_fact_cards, require_citations, idk_enabled, best_of_n,
--   max_learn_boosts) are implied off when a header lacks them (listed in dials_implied); without a
--   header every dial is NULL.
-- setting_id: hash of the conditions (task, difficulty, num_options, tau) and all effective dials.
-- items_sig: the multiset of the run's step item_ids (count and sum of their hashes: order-free).
-- duplicate_of: run_key of the earliest run (started_at, then run_key) with the same model,
--   setting_id (dials and τ), anonymization seed and items_sig, when that is another run (runs with
--   no steps are never duplicates). A re-run of work the warehouse already held.
-- counted: not a duplicate and the model is known (not NULL); steps_in / runs_in and the statistics
--   built on them leave uncounted runs out by default.
-- apples: task = mcq and closed_book and use_fact_cards and require_citations.

CREATE OR REPLACE VIEW runs_v2 AS
WITH cfg AS (
    SELECT coalesce(max(TRY_CAST(value AS DOUBLE)), 60.0) AS in_progress_minutes
    FROM settings WHERE key = 'in_progress_minutes'
),
copies AS (
    SELECT run_key, file_id,
           count(*) FILTER (WHERE kind = 'step') AS steps_logged,
           mode(task_type) FILTER (WHERE kind = 'step') AS step_task_type,
           count(item_id) FILTER (WHERE kind = 'step') || ':'
               || coalesce(sum(hash(item_id)) FILTER (WHERE kind = 'step'), 0) AS items_sig,
           bool_or(kind = 'header') AS has_header,
           bool_or(kind = 'run_end') AS has_end,
           min(ts) FILTER (WHERE kind = 'step') AS first_step_ts,
           max(ts) FILTER (WHERE kind = 'step') AS last_step_ts,
           max(run_id) AS any_run_id
    FROM records
    WHERE run_key IS NOT NULL
    GROUP BY run_key, file_id
    HAVING count(*) FILTER (WHERE kind IN ('header', 'step', 'run_end')) > 0
),
ranked AS (
    SELECT c.*, f.path, f.relpath, f.status AS file_status, f.mtime_ns, f.pending_bytes,
           f.run_key_at_end, f.provider AS f_provider, f.model AS f_model, f.student AS f_student,
           f.tau AS f_tau, f.stage AS f_stage, f.derivation,
           row_number() OVER (PARTITION BY c.run_key
               ORDER BY c.steps_logged DESC, c.has_end DESC, (f.status = 'present') DESC,
                        (f.kind = 'jsonl') DESC, c.file_id) AS copy_rank
    FROM copies c JOIN files f USING (file_id)
),
all_paths AS (
    SELECT run_key, list(path ORDER BY copy_rank) AS paths, count(*) AS n_copies
    FROM ranked GROUP BY run_key
),
best AS (
    SELECT r.*, a.paths, a.n_copies
    FROM ranked r JOIN all_paths a USING (run_key)
    WHERE r.copy_rank = 1
),
hdr AS (
    SELECT h.run_key, h.run_id, h.ts, h.cfg_task, h.cfg_num_steps, h.cfg_num_options,
           h.cfg_difficulty, h.cfg_domain, h.cfg_skill_id, h.dials, h.anon_seed, h.hdr_student,
           h.hdr_provider, h.hdr_model, h.hdr_tau, h.schema_version, j.plan, j.runner
    FROM records h JOIN best b ON b.run_key = h.run_key
    LEFT JOIN header_json_v2 j ON j.file_id = h.file_id AND j.line_no = h.line_no
    WHERE h.kind = 'header'
    QUALIFY row_number() OVER (PARTITION BY h.run_key
                               ORDER BY (h.file_id = b.file_id) DESC, h.file_id, h.line_no) = 1
),
endrec AS (
    SELECT e.run_key, e.end_status, e.end_reason
    FROM records e JOIN best b ON b.run_key = e.run_key AND b.file_id = e.file_id
    WHERE e.kind = 'run_end'
    QUALIFY row_number() OVER (PARTITION BY e.run_key ORDER BY e.line_no DESC) = 1
),
joined AS (
    SELECT b.*, h.* EXCLUDE (run_key), e.end_status, e.end_reason, h.dials::VARCHAR AS dials_text
    FROM best b LEFT JOIN hdr h USING (run_key) LEFT JOIN endrec e USING (run_key)
),
-- JSON work once per distinct dials object (a sweep has few), not once per run.
dial_sets AS (
    SELECT d.dials_text, d.dials_eff,
           json_transform(d.dials_eff, '{"closed_book": "BOOLEAN", "anonymize": "BOOLEAN",
               "self_consistency_n": "DOUBLE", "sc_extract_n": "DOUBLE", "fact_cards_budget": "DOUBLE",
               "best_of_n": "DOUBLE", "q_min": "DOUBLE", "max_learn_boosts": "DOUBLE",
               "idk_enabled": "BOOLEAN", "target_confidence": "DOUBLE", "use_tools": "BOOLEAN",
               "use_fact_cards": "BOOLEAN", "require_citations": "BOOLEAN", "citation_mode": "VARCHAR",
               "reasoning": "VARCHAR", "controller": "VARCHAR", "rerank": "VARCHAR",
               "evidence_weighted_selection": "BOOLEAN", "uncertainty_gate": "BOOLEAN", "verify": "BOOLEAN",
               "accumulate_notes": "BOOLEAN", "context_position": "VARCHAR", "temp_answer": "DOUBLE",
               "tools": "JSON"}') AS dv,
           list_sort(list_transform(map_entries(json_transform(d.dials_eff, '"MAP(VARCHAR, JSON)"')),
                                    lambda e: e.key || '=' || e.value::VARCHAR)) AS dial_kv,
           list_filter(json_keys(_implied_dials()),
                       lambda k: json_extract(d.dials_text, '$."' || k || '"') IS NULL) AS dials_implied
    FROM (
        SELECT dials_text, json_merge_patch(_implied_dials(), dials_text) AS dials_eff
        FROM (SELECT DISTINCT dials_text FROM joined WHERE dials_text IS NOT NULL)
        WHERE json_type(dials_text) = 'OBJECT'
    ) d
),
names AS (
    SELECT raw, n.model, n.source
    FROM (SELECT DISTINCT coalesce(hdr_model, f_model) AS raw FROM joined) AS d
    JOIN model_names n ON n.key = regexp_replace(lower(d.raw), '[^a-z0-9]+', '', 'g')
),
typed AS (
    SELECT j.*, ds.dials_eff, ds.dial_kv, ds.dials_implied,
           coalesce(j.hdr_provider, j.f_provider) AS provider_v,
           coalesce(j.hdr_model, j.f_model) AS model_raw_v,
           coalesce(nm.model, j.hdr_model, j.f_model) AS model_v,
           nm.source AS model_source,
           coalesce(j.hdr_student, j.f_student) AS student_v,
           coalesce(j.hdr_tau, j.f_tau, 0.4) AS tau_v,
           ds.dv.closed_book, ds.dv.anonymize,
           TRY_CAST(ds.dv.self_consistency_n AS INTEGER) AS self_consistency_n,
           TRY_CAST(ds.dv.sc_extract_n AS INTEGER) AS sc_extract_n,
           TRY_CAST(ds.dv.fact_cards_budget AS INTEGER) AS fact_cards_budget,
           TRY_CAST(ds.dv.best_of_n AS INTEGER) AS best_of_n,
           TRY_CAST(ds.dv.q_min AS INTEGER) AS q_min,
           TRY_CAST(ds.dv.max_learn_boosts AS INTEGER) AS max_learn_boosts,
           ds.dv.idk_enabled, ds.dv.target_confidence, ds.dv.use_tools, ds.dv.use_fact_cards,
           ds.dv.require_citations, ds.dv.citation_mode, ds.dv.reasoning, ds.dv.controller,
           ds.dv.rerank, ds.dv.evidence_weighted_selection, ds.dv.uncertainty_gate, ds.dv.verify,
           ds.dv.accumulate_notes, ds.dv.context_position, ds.dv.temp_answer, ds.dv.tools
    FROM joined j LEFT JOIN dial_sets ds USING (dials_text)
    LEFT JOIN names nm ON nm.raw = coalesce(j.hdr_model, j.f_model)
),
out AS (
SELECT
    t.run_key,
    coalesce(t.run_id, t.any_run_id)                              AS run_id,
    t.file_id,
    t.path,
    t.paths,
    t.n_copies,
    t.relpath,
    CASE WHEN contains(t.relpath, '/') THEN split_part(t.relpath, '/', 1) END AS campaign,
    t.path LIKE 'archive://%'                                     AS archived,
    t.provider_v                                                  AS provider,
    CASE WHEN t.hdr_provider IS NOT NULL THEN 'header'
         WHEN t.f_provider IS NOT NULL THEN 'path:' || coalesce(json_extract_string(t.derivation, '$.provider'), '?')
         ELSE 'none' END                                          AS provider_from,
    t.model_v                                                     AS model,
    t.model_raw_v                                                 AS model_raw,
    CASE WHEN t.model_raw_v IS NULL THEN 'none'
         WHEN t.model_source = 'alias' THEN 'alias'
         WHEN t.hdr_model IS NOT NULL THEN 'header'
         ELSE 'path_rule:' || coalesce(json_extract_string(t.derivation, '$.model'), '?') END AS model_from,
    t.model_source IS NOT NULL                                    AS model_known,
    t.student_v                                                   AS student,
    CASE WHEN t.hdr_student IS NOT NULL THEN 'header'
         WHEN t.f_student IS NOT NULL THEN 'path:' || coalesce(json_extract_string(t.derivation, '$.student'), '?')
         ELSE 'none' END                                          AS student_from,
    t.tau_v                                                       AS tau,
    CASE WHEN t.hdr_tau IS NOT NULL THEN 'header'
         WHEN t.f_tau IS NOT NULL THEN 'path'
         ELSE 'default' END                                       AS tau_from,
    CASE WHEN t.hdr_tau IS NULL AND t.f_tau IS NOT NULL
         THEN json_extract_string(t.derivation, '$.tau') END      AS tau_rule,
    coalesce(json_extract_string(t.plan, '$.stage'), t.f_stage)   AS stage,
    json_extract_string(t.plan, '$.name')                         AS plan_name,
    TRY_CAST(json_extract_string(t.plan, '$.seed') AS BIGINT)     AS plan_seed,
    json_extract_string(t.runner, '$.name')                       AS runner_name,
    coalesce(json_extract_string(t.runner, '$.harness'), 'native') AS harness,
    t.schema_version,
    t.cfg_task                                                    AS task,
    coalesce(t.step_task_type, CASE WHEN t.cfg_task = 'alias_swap' THEN 'mcq' ELSE t.cfg_task END) AS task_type,
    t.cfg_domain                                                  AS domain,
    t.cfg_difficulty                                              AS difficulty,
    t.cfg_num_options                                             AS num_options,
    t.cfg_skill_id                                                AS skill_id,
    t.cfg_num_steps                                               AS planned_steps,
    t.steps_logged,
    t.has_header,
    t.has_end,
    t.end_status,
    t.end_reason,
    CASE WHEN t.has_end AND t.end_status = 'complete' THEN 'complete'
         WHEN t.has_end THEN 'incomplete'
         WHEN t.cfg_num_steps > 0 AND t.steps_logged >= t.cfg_num_steps THEN 'complete'
         WHEN t.file_status = 'present' AND t.run_key = t.run_key_at_end
              AND epoch_ms(now()) * 1000000 - t.mtime_ns
                  < (SELECT in_progress_minutes FROM cfg) * 60 * 1000000000
              THEN 'in_progress'
         WHEN t.file_status = 'present' AND t.run_key = t.run_key_at_end AND t.pending_bytes > 0
              THEN 'crashed'
         WHEN t.steps_logged = 0 THEN 'header_only'
         ELSE 'incomplete' END                                    AS status,
    CASE WHEN t.ts IS NOT NULL THEN make_timestamp((t.ts * 1000000)::BIGINT)
         WHEN t.first_step_ts IS NOT NULL THEN make_timestamp((t.first_step_ts * 1000000)::BIGINT)
         END                                                      AS started_at,
    CASE WHEN t.last_step_ts IS NOT NULL THEN make_timestamp((t.last_step_ts * 1000000)::BIGINT) END AS ended_at,
    CASE WHEN t.mtime_ns IS NOT NULL THEN make_timestamp(t.mtime_ns // 1000) END AS file_mtime,
    t.anon_seed,
    t.closed_book                        AS closed_book,
    t.anonymize                          AS anonymize,
    t.self_consistency_n                  AS self_consistency_n,
    t.sc_extract_n                        AS sc_extract_n,
    t.fact_cards_budget                   AS fact_cards_budget,
    t.best_of_n                           AS best_of_n,
    t.q_min                               AS q_min,
    t.max_learn_boosts                    AS max_learn_boosts,
    t.idk_enabled                        AS idk_enabled,
    t.target_confidence                   AS target_confidence,
    t.use_tools                          AS use_tools,
    t.use_fact_cards                     AS use_fact_cards,
    t.require_citations                  AS require_citations,
    t.citation_mode                       AS citation_mode,
    t.reasoning                           AS reasoning,
    t.controller                          AS controller,
    t.rerank                              AS rerank,
    t.evidence_weighted_selection        AS evidence_weighted_selection,
    t.uncertainty_gate                   AS uncertainty_gate,
    t.verify                             AS verify,
    t.accumulate_notes                   AS accumulate_notes,
    t.context_position                    AS context_position,
    t.temp_answer                         AS temp_answer,
    t.tools,
    t.dials,
    t.dials_implied,
    t.dial_kv,
    concat_ws(';', 'task=' || coalesce(t.cfg_task, '?'), 'difficulty=' || coalesce(t.cfg_difficulty, '?'),
              'options=' || coalesce(t.cfg_num_options::VARCHAR, '?'), 'tau=' || coalesce(t.tau_v::VARCHAR, '?'))
                                                                  AS cond_key,
    left(md5(concat_ws(';', 'task=' || coalesce(t.cfg_task, '?'), 'difficulty=' || coalesce(t.cfg_difficulty, '?'),
              'options=' || coalesce(t.cfg_num_options::VARCHAR, '?'), 'tau=' || coalesce(t.tau_v::VARCHAR, '?'))
             || '|' || coalesce(array_to_string(t.dial_kv, ';'), 'no-header')), 10) AS setting_id,
    concat_ws(' ',
        'sc=' || t.self_consistency_n,
        'b=' || t.fact_cards_budget,
        'bo=' || t.best_of_n,
        'scx=' || t.sc_extract_n,
        'q=' || t.q_min,
        'mlb=' || t.max_learn_boosts,
        'idk=' || t.idk_enabled::INT,
        'tools=' || t.use_tools::INT,
        'fc=' || t.use_fact_cards::INT,
        'cit=' || t.require_citations::INT,
        'cb=' || t.closed_book::INT,
        'tau=' || t.tau_v)                                        AS setting,
    coalesce(t.cfg_task = 'mcq' AND t.closed_book
             AND t.use_fact_cards
             AND t.require_citations, false) AS apples,
    t.items_sig
FROM typed t
),
dups AS (
    SELECT o.*,
           CASE WHEN o.steps_logged > 0 THEN first_value(o.run_key) OVER (
               PARTITION BY o.model, o.setting_id, o.anon_seed, o.items_sig, o.steps_logged > 0
               ORDER BY o.started_at NULLS LAST, o.run_key) END AS first_key
    FROM out o
)
SELECT d.* EXCLUDE (first_key),
       CASE WHEN d.first_key <> d.run_key THEN d.first_key END AS duplicate_of,
       coalesce(d.first_key = d.run_key, true) AND d.model IS NOT NULL AS counted
FROM dups d;
