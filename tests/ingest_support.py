"""Helpers for ingest tests: read the published database, hash its rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from warehouse.store.db import open_reader


def rows(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = open_reader(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def dict_rows(db: Path, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """The rows as {column: value} dicts."""
    con = open_reader(db)
    try:
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def scalar(db: Path, sql: str, params: list[Any] | None = None) -> Any:
    return rows(db, sql, params)[0][0]


# Everything that identifies a record's content, independent of load ids and file ids.
RECORD_HASH_SQL = """
SELECT count(*), sum(hash(f.relpath, r.line_no, r.kind, r.run_key, r.line, r.step, r.correct,
                          r.credited, r.coverage, r.item_id, r.student_total_tokens))
FROM records r JOIN files f USING (file_id)
"""
QUARANTINE_HASH_SQL = """
SELECT count(*), sum(hash(f.relpath, q.line_no, q.byte_offset, q.error, q.raw))
FROM quarantine q JOIN files f USING (file_id)
"""
TRANSCRIPT_HASH_SQL = """
SELECT count(*), sum(hash(f.relpath, t.line_no, t.run_key, t.step, t.source, t.call_no, t.msg_no,
                          t.role_group, t.phase, t.model, t.role, t.content, t.chars))
FROM transcripts t JOIN files f USING (file_id)
"""


def content_hash(db: Path) -> tuple[Any, ...]:
    return rows(db, RECORD_HASH_SQL)[0] + rows(db, QUARANTINE_HASH_SQL)[0] + rows(db, TRANSCRIPT_HASH_SQL)[0]
