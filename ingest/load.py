"""Load planned files into DuckDB: the exact path (the line reader) and what both paths share.

Everything an ingest writes — rows, quarantine, drift, manifest, ingest_log — commits in ONE
transaction. The fast path (DuckDB's own reader, ingest/fast.py) takes big clean files first; if
its row counts ever disagree with what it checked, the whole ingest is rolled back and redone here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.discover import Planned
from ingest.importers.feed import feed
from ingest.lines import GZIP_ERRORS, Sink, open_log, read_stream
from ingest.records import PROJECT_SQL, header_key
from ingest.rowsets import ListRows, execute, row_set
from warehouse.core.config import DEFAULT_MAX_LINE_BYTES

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

MAX_OBJECT = 256 * 2**20


class FastPathMismatch(Exception):
    """DuckDB's reader loaded other rows than it checked for a file: redo on the exact path."""


@dataclass
class FileOutcome:
    """What an ingest learned about one file (becomes its manifest row)."""

    plan: Planned
    file_id: int
    end: int
    lines: int
    pending: int
    good: int = 0
    bad: int = 0
    blank: int = 0
    legacy: str | None = None  # synthetic run key for steps before any header
    seed_key: str | None = None  # run key that lines before the first header attach to
    run_key_at_end: str | None = None


Header = tuple[int, object]  # (line number, run_id as logged)


def insert_staged(
    con: duckdb.DuckDBPyConnection, staged_sql: str, params: dict[str, object], rows: ListRows | pa.Table
) -> None:
    """INSERT the typed projection of `staged_sql`, which reads the row set `rows` as `__rows__`."""
    execute(con, f"INSERT INTO records WITH staged AS ({staged_sql}), {PROJECT_SQL}", params, rows)


def run_intervals(outcome: FileOutcome, headers: list[Header]) -> list[tuple[int, int, int, str]]:
    """(file_id, first line, last line, run key) covering lines 1..outcome.lines; sets the key
    that lines appended later attach to."""
    seed = outcome.seed_key or ""
    spans, start, key = [], 1, seed
    for line, run_id in headers:
        if line > start:
            spans.append((outcome.file_id, start, line - 1, key))
        key, start = header_key(run_id, seed, line), line
    if start <= outcome.lines:
        spans.append((outcome.file_id, start, outcome.lines, key))
    outcome.run_key_at_end = key
    return spans


# ------------------------------------------------------------------ exact path


# A line whose top-level keys repeat: quarantined whole (see _quarantine_duplicate_keys).
_DUPLICATE_KEYS = "len(json_keys(raw)) <> len(list_distinct(json_keys(raw)))"


def flush(con: duckdb.DuckDBPyConnection, sink: Sink, load_id: int, moved: dict[int, int]) -> None:
    """Write the sink's good lines and quarantined lines, then empty it. Lines DuckDB finds to
    have duplicate keys are quarantined here; `moved` counts them per file."""
    if sink.raws:
        rows = row_set(
            {
                "file_id": ("BIGINT", sink.file_ids),
                "line_no": ("BIGINT", sink.line_nos),
                "byte_offset": ("BIGINT", sink.offsets),
                "raw": ("VARCHAR", sink.raws),
                "run_key": ("VARCHAR", sink.run_keys),
            }
        )
        for file_id, n in _quarantine_duplicate_keys(con, rows, load_id):
            moved[file_id] = moved.get(file_id, 0) + n
        staged = f"SELECT file_id, line_no, raw AS line, run_key FROM __rows__ WHERE NOT ({_DUPLICATE_KEYS})"
        insert_staged(con, staged, {"load_id": load_id}, rows)
    if sink.bad:
        _insert_quarantine(con, sink.bad, load_id)
    sink.clear_rows()


def _quarantine_duplicate_keys(
    con: duckdb.DuckDBPyConnection, rows: ListRows | pa.Table, load_id: int
) -> list[tuple[int, int]]:
    """orjson (kind, run key) keeps the last of duplicate keys, json_transform (typed columns) the
    first: a record would contradict itself, so such lines go to quarantine whole. Returns
    (file_id, count) pairs.

    (No INSERT ... RETURNING: DuckLake does not support it.)"""
    counts = execute(
        con, f"SELECT file_id, count(*) FROM __rows__ WHERE {_DUPLICATE_KEYS} GROUP BY file_id", {}, rows
    ).fetchall()
    if counts:
        execute(
            con,
            f"""INSERT INTO quarantine
                SELECT file_id, line_no, byte_offset, $load_id, 'duplicate top-level key', encode(raw), raw
                FROM __rows__ WHERE {_DUPLICATE_KEYS}""",
            {"load_id": load_id},
            rows,
        )
    return [(int(f), int(n)) for f, n in counts]


def _insert_quarantine(
    con: duckdb.DuckDBPyConnection, bad: list[tuple[int, int, int, str, bytes]], load_id: int
) -> None:
    rows = row_set(
        {
            "file_id": ("BIGINT", [b[0] for b in bad]),
            "line_no": ("BIGINT", [b[1] for b in bad]),
            "byte_offset": ("BIGINT", [b[2] for b in bad]),
            "error": ("VARCHAR", [b[3] for b in bad]),
            "raw": ("BLOB", [b[4] for b in bad]),
            "raw_text": ("VARCHAR", [b[4].decode("utf-8", "replace") for b in bad]),
        }
    )
    execute(
        con,
        "INSERT INTO quarantine"
        " SELECT file_id, line_no, byte_offset, $load_id, error, raw, raw_text FROM __rows__",
        {"load_id": load_id},
        rows,
    )


def load_exact(
    con: duckdb.DuckDBPyConnection,
    outcome: FileOutcome,
    sink: Sink,
    load_id: int,
    moved: dict[int, int],
    max_line: int = DEFAULT_MAX_LINE_BYTES,
) -> None:
    """Read one file from its start offset through the line reader (lines longer than max_line
    are quarantined)."""
    plan = outcome.plan
    found = plan.found
    seed = outcome.seed_key or outcome.legacy or ""
    sink.seeds[outcome.file_id] = sink.current[outcome.file_id] = seed
    if found.kind == "import":  # another harness's results, converted (ingest/importers)
        lines, good, bad = feed(found.path, outcome.file_id, sink)
        outcome.end, outcome.lines, outcome.pending = found.size, lines, 0
        outcome.good, outcome.bad = outcome.good + good, outcome.bad + bad
        outcome.run_key_at_end = sink.current[outcome.file_id]
        return
    stream = open_log(found.path, found.kind, plan.start)
    read = None
    try:
        reads = read_stream(
            stream, outcome.file_id, plan.start, plan.start_line, sink, found.kind == "gz", max_line
        )
        for read in reads:  # noqa: B007 - the last FileRead is used after the loop
            if sink.size >= 32 * 2**20:
                flush(con, sink, load_id, moved)
    except GZIP_ERRORS as e:
        line_no = (read.lines if read else plan.start_line) + 1
        sink.quarantine(
            outcome.file_id, line_no, read.end if read else 0, f"gzip stream truncated or corrupt: {e}", b""
        )
        outcome.bad += 1
    finally:
        stream.close()
    if read is not None:
        outcome.end, outcome.lines, outcome.pending = read.end, read.lines, read.pending
        outcome.good += read.good
        outcome.bad += read.bad
        outcome.blank += read.blank
    outcome.run_key_at_end = sink.current[outcome.file_id]


def now_load_id() -> int:
    return time.time_ns() // 1000
