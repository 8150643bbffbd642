-- 0008_transcripts: what the model was sent and what it said, one row per message, keyed to the
-- step record (file_id, line_no). Filled at ingest from the step's `calls[].messages` and
-- `calls[].completion` (runner --log-messages counts|text, schema_version 2). Older logs'
-- `messages[]` events stay in the record as logged. Kept out of `records`' typed columns so the
-- step views stay narrow.
CREATE TABLE transcripts (
    file_id     BIGINT NOT NULL,
    line_no     BIGINT NOT NULL,    -- the step record's line
    load_id     BIGINT NOT NULL,
    run_key     VARCHAR,
    step        BIGINT,
    source      VARCHAR NOT NULL,   -- calls (the step's calls[])
    call_no     INTEGER NOT NULL,   -- 1-based position of the call in the step
    msg_no      INTEGER NOT NULL,   -- 1-based position in the call; the completion comes last
    role_group  VARCHAR,            -- student | tutor
    phase       VARCHAR,            -- learn | use | tutor
    model       VARCHAR,            -- the model called, when logged per call
    role        VARCHAR,            -- system | user | assistant (the completion)
    content     VARCHAR,            -- null when only lengths were logged
    chars       BIGINT              -- length of the text as logged
);

