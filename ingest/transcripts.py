"""Transcripts: the messages and completions of a load's step records, into their own table.

Derived in SQL from the rows this load put in `records`, inside the ingest transaction, so the
fast path and the exact path (which write identical `records` rows) give identical transcripts,
and the embedded file and the lake fill them the same way. Read from this runner's step records
(schema_version >= 2): per call {role, phase, messages:[{role, chars, [content]}],
completion_chars, [completion]} (--log-messages counts|text).

Older logs' `messages[]` events (system/user text up to 4000 characters, or only lengths) stay in
the record as logged and are shown from there (warehouse/apps/runview.py). Only lines of this
runner that mention "completion_chars" are parsed: other logs cost nothing here (the filter on
the typed schema_version column runs before any text is read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

# The calls' transcript fields, typed in ONE parse of the line (json_transform; a value of another
# shape becomes NULL, a non-text role or content its JSON text). Every list is then native.
_CALLS = (
    '{"calls": [{"role": "VARCHAR", "phase": "VARCHAR", "completion": "VARCHAR", "completion_chars": '
    '"BIGINT", "messages": [{"role": "VARCHAR", "content": "VARCHAR", "chars": "BIGINT"}]}]}'
)

_INSERT = f"""
INSERT INTO transcripts
WITH cand AS (
    SELECT file_id, line_no, load_id, run_key, step,
           json_transform(line, '{_CALLS}').calls AS calls
    FROM records
    WHERE load_id = $load_id AND kind = 'step' AND schema_version >= 2
      AND contains(line, '"completion_chars"')
),
calls AS (
    SELECT file_id, line_no, load_id, run_key, step,
           unnest(calls) AS c, generate_subscripts(calls, 1) AS call_no
    FROM cand
),
msgs AS (
    SELECT file_id, line_no, load_id, run_key, step, call_no, c,
           unnest(c.messages) AS m, generate_subscripts(c.messages, 1) AS msg_no
    FROM calls
)
SELECT file_id, line_no, load_id, run_key, step, 'calls', call_no, msg_no,
       c.role, c.phase, NULL, m.role, m.content, m.chars
FROM msgs
UNION ALL
SELECT file_id, line_no, load_id, run_key, step, 'calls', call_no, len(c.messages) + 1,
       c.role, c.phase, NULL, 'assistant', c.completion, c.completion_chars
FROM calls WHERE c.messages IS NOT NULL
"""


def derive_transcripts(con: duckdb.DuckDBPyConnection, load_id: int) -> None:
    """Add the transcripts of the step records this load inserted."""
    con.execute(_INSERT, {"load_id": load_id})


def delete_transcripts(con: duckdb.DuckDBPyConnection, file_ids: list[int]) -> None:
    """Drop the transcripts of files whose records are being replaced (a rewritten file)."""
    con.execute("DELETE FROM transcripts WHERE list_contains($ids, file_id)", {"ids": file_ids})
