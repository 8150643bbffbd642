-- 0001_core_tables: raw storage of every log line, the file manifest, quarantine, schema drift,
-- and the ingest log. Views (later migrations) read only these tables.

-- No PRIMARY KEY / UNIQUE constraints anywhere: DuckLake has none, so uniqueness is kept by the
-- single writer (embedded) or the claim table (lake). Ids are random / time-based, not sequences.

-- One row per log file ever seen. `path` is where its bytes are now (a file path, or
-- archive://<archive>/<member> after archiving); `relpath` is relative to the runs directory.
CREATE TABLE files (
    file_id         BIGINT NOT NULL,    -- random 62-bit id, stable across moves/archiving
    path            VARCHAR NOT NULL,   -- unique among rows
    relpath         VARCHAR NOT NULL,
    root            VARCHAR,            -- absolute runs directory it was found under
    kind            VARCHAR NOT NULL,   -- jsonl | recovered | gz
    status          VARCHAR NOT NULL,   -- present | missing | archived
    size            BIGINT,
    mtime_ns        BIGINT,
    inode           BIGINT,
    head_sha256     VARCHAR,            -- sha256 of the first min(size, 64 KiB) bytes
    tail_sha256     VARCHAR,            -- sha256 of the 4 KiB ending at ingested_bytes
    content_sha256  VARCHAR,            -- sha256 of the ingested bytes (set by archive)
    ingested_bytes  BIGINT NOT NULL DEFAULT 0,  -- prefix ingested (ends at a newline)
    ingested_lines  BIGINT NOT NULL DEFAULT 0,
    pending_bytes   BIGINT NOT NULL DEFAULT 0,  -- bytes after the last newline (a run still writing)
    good_lines      BIGINT NOT NULL DEFAULT 0,
    bad_lines       BIGINT NOT NULL DEFAULT 0,
    blank_lines     BIGINT NOT NULL DEFAULT 0,
    run_key_at_end  VARCHAR,            -- run that lines appended later attach to
    legacy_key      VARCHAR,            -- synthetic run key for steps before any header
    provider        VARCHAR,            -- path-derived attributes (header values win in views)
    model           VARCHAR,
    student         VARCHAR,
    tau             DOUBLE,
    stage           VARCHAR,
    derivation      JSON,               -- {"model": "<rule name>", ...}
    first_load_id   BIGINT,
    last_load_id    BIGINT,
    first_seen      TIMESTAMP,
    last_ingested   TIMESTAMP,
    missing_since   TIMESTAMP
);

-- One row per valid JSON object line. `rec` holds every known top-level key as JSON text
-- (lossless); `extra` holds any top-level key not in `rec` (see schema_drift). The other
-- columns are typed copies the views use, materialized at ingest.
CREATE TABLE records (
    file_id         BIGINT NOT NULL,
    line_no         BIGINT NOT NULL,
    load_id         BIGINT NOT NULL,
    kind            VARCHAR NOT NULL,   -- header | step | run_end | other
    run_key         VARCHAR,            -- run the line belongs to (nearest preceding header)
    rec STRUCT(
        run_header JSON, run_end JSON, schema_version JSON, run_id JSON, step JSON, ts JSON,
        config JSON, anonymization JSON, guardrails JSON, student JSON, coverage_tau JSON,
        runner JSON, plan JSON, status JSON, reason JSON, steps_logged JSON,
        task JSON, presented_stem JSON, answer JSON, evaluation JSON, tool_outputs JSON,
        tools_used JSON, alias JSON, alias_evidence JSON, fact_cards_before JSON,
        fact_cards_after JSON, card_validation JSON, evidence_telemetry JSON, duration_ms JSON,
        student_usage JSON, tutor_usage JSON, messages JSON, guardrail_alerts JSON,
        card_metrics JSON, grading JSON, saq_drafts JSON, calls JSON
    ),
    extra           JSON,
    -- identity and time
    run_id          VARCHAR,
    step            BIGINT,
    ts              DOUBLE,
    schema_version  INTEGER,
    -- header fields (kind = header)
    cfg_task        VARCHAR,
    cfg_num_steps   INTEGER,
    cfg_num_options INTEGER,
    cfg_difficulty  VARCHAR,
    cfg_domain      VARCHAR,
    cfg_skill_id    VARCHAR,
    dials           JSON,
    anon_seed       BIGINT,
    hdr_student     VARCHAR,
    hdr_provider    VARCHAR,
    hdr_model       VARCHAR,
    hdr_tau         DOUBLE,
    -- run_end fields (kind = run_end)
    end_status      VARCHAR,
    end_reason      VARCHAR,
    -- step fields (kind = step)
    task_type       VARCHAR,
    item_id         VARCHAR,            -- md5 of normalised stem + options: pairs items across runs
    n_options       INTEGER,
    correct_index   INTEGER,
    chosen_index    INTEGER,
    correct         BOOLEAN,
    abstained       BOOLEAN,
    abstain_reason  VARCHAR,
    calibrated_score DOUBLE,
    coverage        DOUBLE,             -- evaluation.citations_evidence.*
    witness_pass    BOOLEAN,
    credited        BOOLEAN,
    reasons         VARCHAR[],
    er_coverage     DOUBLE,             -- evaluation.evidence_report.coverage
    alias_phase     VARCHAR,
    alias_coverage  DOUBLE,
    alias_witness_pass BOOLEAN,
    alias_credited  BOOLEAN,
    grading_score   DOUBLE,
    grading_correct BOOLEAN,
    votes_n         INTEGER,
    citations_n     INTEGER,
    cards_n         INTEGER,
    messages_n      INTEGER,
    duration_ms     DOUBLE,
    student_calls   INTEGER,
    student_prompt_tokens BIGINT,
    student_completion_tokens BIGINT,
    student_total_tokens BIGINT,
    student_request_ms DOUBLE,
    tutor_calls     INTEGER,
    tutor_prompt_tokens BIGINT,
    tutor_completion_tokens BIGINT,
    tutor_total_tokens BIGINT,
    tutor_request_ms DOUBLE
);

-- Lines that are not a JSON object: torn, non-JSON, invalid UTF-8, NaN/Infinity, duplicate keys,
-- scalars. Kept byte for byte; never dropped.
CREATE TABLE quarantine (
    file_id     BIGINT NOT NULL,
    line_no     BIGINT NOT NULL,
    byte_offset BIGINT NOT NULL,
    load_id     BIGINT NOT NULL,
    error       VARCHAR NOT NULL,
    raw         BLOB NOT NULL,
    raw_text    VARCHAR               -- raw decoded as UTF-8 with replacement characters
);

-- Top-level keys never seen before (kept in records.extra), with where they first appeared.
CREATE TABLE schema_drift (
    key             VARCHAR NOT NULL,
    kind            VARCHAR NOT NULL,
    first_file_id   BIGINT,
    first_line_no   BIGINT,
    first_load_id   BIGINT,
    n_lines         BIGINT NOT NULL
);

-- One row per ingest that committed (the row commits with the data it describes).
CREATE TABLE ingest_log (
    load_id          BIGINT NOT NULL,   -- microseconds since the epoch at start
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP NOT NULL,
    seconds          DOUBLE NOT NULL,
    runs_dir         VARCHAR,
    files_new        INTEGER NOT NULL,
    files_grown      INTEGER NOT NULL,
    files_rewritten  INTEGER NOT NULL,
    files_unchanged  INTEGER NOT NULL,
    files_missing    INTEGER NOT NULL,
    files_fast_path  INTEGER NOT NULL,
    lines_good       BIGINT NOT NULL,
    lines_quarantined BIGINT NOT NULL,
    lines_blank      BIGINT NOT NULL,
    bytes_read       BIGINT NOT NULL,
    version          VARCHAR
);

CREATE TABLE settings (key VARCHAR NOT NULL, value VARCHAR);
