"""Load planned files into DuckDB: fast path (DuckDB's reader) and exact path (line reader).

Everything an ingest writes — rows, quarantine, drift, manifest, ingest_log — commits in ONE
transaction. Fast-path batches are validated before it starts (a failed statement would abort the
transaction); if DuckDB's reader still disagrees, the whole ingest is rolled back and redone on
the exact path.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from ingest.discover import Planned
from ingest.lines import GZIP_ERRORS, Sink, open_log, read_stream
from ingest.records import (
    KNOWN_KEYS,
    PROJECT_SQL,
    READ_JSON_COLUMNS,
    REC_PACK,
    REC_STRUCTURE,
    header_key,
)

if TYPE_CHECKING:
    import duckdb

FAST_BATCH_BYTES = 256 * 2**20
FAST_BATCH_FILES = 400
MAX_OBJECT = 256 * 2**20


def fast_min_bytes() -> int:
    """Files smaller than this take the exact path (DuckDB's per-file overhead dominates)."""
    return int(os.environ.get("WAREHOUSE_FAST_MIN_BYTES", 256 * 1024))


class FastPathMismatch(Exception):
    """DuckDB's reader and the prescan disagree about a file: redo on the exact path."""


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


Progress = Callable[[str], None]
Header = tuple[int, object]  # (line number, run_id as logged)


def insert_staged(con: duckdb.DuckDBPyConnection, staged_sql: str, params: dict[str, object]) -> None:
    con.execute(f"INSERT INTO records WITH staged AS ({staged_sql}), {PROJECT_SQL}", params)


# ------------------------------------------------------------------ fast path


def validate_fast(con: duckdb.DuckDBPyConnection, expected: dict[str, int]) -> dict[str, list[Header]]:
    """Paths DuckDB can load as-is — one JSON object per line (so the row count matches the
    prescan's line count: no blank lines), with known, unique top-level keys — mapped to their
    run headers as (line number, run_id) so run keys need no window over whole rows.

    Runs outside the ingest transaction. A reader error rejects the batch; it is then split in
    halves to find the files at fault, so one bad file does not send a whole batch to the slow
    path."""
    paths = list(expected)
    try:
        rows = con.execute(
            """
            SELECT filename, count(*) AS n, min(ordinality) AS first,
                   bool_and(len(k) > 0 AND len(k) = len(list_distinct(k))
                            AND list_has_all($known, k)) AS ok,
                   list(struct_pack(o := ordinality, id := run_id) ORDER BY ordinality)
                       FILTER (WHERE is_header) AS headers
            FROM (SELECT filename, ordinality, k,
                         CASE WHEN list_contains(k, 'run_header')
                              THEN json ->> '$.run_header' = 'true' ELSE false END AS is_header,
                         CASE WHEN list_contains(k, 'run_header') THEN json -> '$.run_id' END AS run_id
                  FROM (SELECT filename, ordinality, json, json_keys(json) AS k
                        FROM read_json_objects($paths, format = 'newline_delimited', filename = true,
                                               maximum_object_size = $max) WITH ORDINALITY))
            GROUP BY filename
            """,
            {"paths": paths, "max": MAX_OBJECT, "known": list(KNOWN_KEYS)},
        ).fetchall()
    except Exception:  # noqa: BLE001 - any reader complaint: find the files at fault
        if len(paths) == 1:
            return {}
        half = len(paths) // 2
        return {
            **validate_fast(con, {p: expected[p] for p in paths[:half]}),
            **validate_fast(con, {p: expected[p] for p in paths[half:]}),
        }
    return {
        name: [(int(h["o"]) - first + 1, orjson.loads(h["id"]) if h["id"] else None) for h in headers or []]
        for name, n, first, ok, headers in rows
        if n == expected.get(name) and ok
    }


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


def load_fast_batch(
    con: duckdb.DuckDBPyConnection,
    outcomes: list[FileOutcome],
    headers: dict[str, list[Header]],
    load_id: int,
) -> None:
    import pyarrow as pa  # lazy: ~0.3 s of import a no-op ingest should not pay

    starts, first = [], 1
    for o in outcomes:
        starts.append(first)
        first += o.lines
    batch = pa.table(
        {
            "path": [o.plan.found.path for o in outcomes],
            "file_id": pa.array([o.file_id for o in outcomes], pa.int64()),
            "ord_start": pa.array(starts, pa.int64()),
        }
    )
    spans = [span for o in outcomes for span in run_intervals(o, headers[o.plan.found.path])]
    runs = pa.table(
        {
            "file_id": pa.array([s[0] for s in spans], pa.int64()),
            "first_line": pa.array([s[1] for s in spans], pa.int64()),
            "last_line": pa.array([s[2] for s in spans], pa.int64()),
            "run_key": [s[3] for s in spans],
        }
    )
    con.register("fast_batch", batch)
    con.register("fast_runs", runs)
    try:
        staged = f"""
            SELECT l.file_id, l.line_no, l.rec, NULL::JSON AS extra, k.run_key
            FROM (SELECT b.file_id, r.ordinality - b.ord_start + 1 AS line_no, {REC_PACK} AS rec
                  FROM read_json($paths, format = 'newline_delimited', filename = true,
                                 maximum_object_size = $max, columns = {READ_JSON_COLUMNS})
                       WITH ORDINALITY AS r
                  JOIN fast_batch AS b ON r.filename = b.path) AS l
            JOIN fast_runs AS k ON l.file_id = k.file_id AND l.line_no BETWEEN k.first_line AND k.last_line
        """
        insert_staged(
            con, staged, {"paths": list(batch["path"].to_pylist()), "max": MAX_OBJECT, "load_id": load_id}
        )
        counts = dict(
            con.execute(
                "SELECT file_id, count(*) FROM records WHERE load_id = ? AND file_id IN "
                "(SELECT file_id FROM fast_batch) GROUP BY file_id",
                [load_id],
            ).fetchall()
        )
    finally:
        con.unregister("fast_batch")
        con.unregister("fast_runs")
    for o in outcomes:
        if counts.get(o.file_id, 0) != o.lines:
            raise FastPathMismatch(o.plan.found.path)
        o.good = o.lines


# ------------------------------------------------------------------ exact path


def flush(con: duckdb.DuckDBPyConnection, sink: Sink, load_id: int, moved: dict[int, int]) -> None:
    """Write the sink's good lines and quarantined lines, then empty it. Lines DuckDB finds to
    have duplicate keys are quarantined here; `moved` counts them per file."""
    import pyarrow as pa  # lazy: ~0.3 s of import a no-op ingest should not pay

    if sink.raws:
        table = pa.table(
            {
                "file_id": pa.array(sink.file_ids, pa.int64()),
                "line_no": pa.array(sink.line_nos, pa.int64()),
                "byte_offset": pa.array(sink.offsets, pa.int64()),
                "raw": pa.array(sink.raws, pa.large_string()),
                "extra": pa.array(sink.extras, pa.large_string()),
                "run_key": pa.array(sink.run_keys, pa.string()),
            }
        )
        con.register("exact_batch", table)
        try:
            for file_id, n in _quarantine_duplicate_keys(con, load_id):
                moved[file_id] = moved.get(file_id, 0) + n
            # `extra` is cut from the raw line by DuckDB, byte-exact: orjson turns integers beyond
            # 64 bits into doubles and keeps only the last of duplicate nested keys.
            staged = f"""
                SELECT e.file_id, e.line_no, json_transform(e.raw, '{REC_STRUCTURE}') AS rec,
                       CASE WHEN e.extra IS NOT NULL THEN (
                           SELECT json_group_object(j.key, j.value)
                           FROM (SELECT * FROM json_each(e.raw) ORDER BY id) AS j
                           WHERE NOT list_contains($known, j.key)) END AS extra,
                       e.run_key
                FROM exact_batch AS e
                WHERE len(json_keys(e.raw)) = len(list_distinct(json_keys(e.raw)))
            """
            insert_staged(con, staged, {"load_id": load_id, "known": list(KNOWN_KEYS)})
        finally:
            con.unregister("exact_batch")
    if sink.bad:
        _insert_quarantine(con, sink.bad, load_id)
    sink.clear_rows()


def _quarantine_duplicate_keys(con: duckdb.DuckDBPyConnection, load_id: int) -> list[tuple[int, int]]:
    """orjson keeps the last of duplicate keys, json_transform the first: neither is lossless,
    so such lines go to quarantine whole. Returns (file_id, count) pairs.

    (No INSERT ... RETURNING: DuckLake does not support it.)"""
    dup = "len(json_keys(raw)) <> len(list_distinct(json_keys(raw)))"
    counts = con.execute(f"SELECT file_id, count(*) FROM exact_batch WHERE {dup} GROUP BY file_id").fetchall()
    if counts:
        con.execute(
            f"""INSERT INTO quarantine
                SELECT file_id, line_no, byte_offset, $load_id, 'duplicate top-level key', encode(raw), raw
                FROM exact_batch WHERE {dup}""",
            {"load_id": load_id},
        )
    return [(int(f), int(n)) for f, n in counts]


def _insert_quarantine(
    con: duckdb.DuckDBPyConnection, bad: list[tuple[int, int, int, str, bytes]], load_id: int
) -> None:
    import pyarrow as pa  # lazy: ~0.3 s of import a no-op ingest should not pay

    table = pa.table(
        {
            "file_id": pa.array([b[0] for b in bad], pa.int64()),
            "line_no": pa.array([b[1] for b in bad], pa.int64()),
            "byte_offset": pa.array([b[2] for b in bad], pa.int64()),
            "error": [b[3] for b in bad],
            "raw": pa.array([b[4] for b in bad], pa.large_binary()),
            "raw_text": [b[4].decode("utf-8", "replace") for b in bad],
        }
    )
    con.register("bad_lines", table)
    try:
        con.execute(
            "INSERT INTO quarantine SELECT file_id, line_no, byte_offset, $load_id, error, raw,"
            " raw_text FROM bad_lines",
            {"load_id": load_id},
        )
    finally:
        con.unregister("bad_lines")


def load_exact(
    con: duckdb.DuckDBPyConnection,
    outcome: FileOutcome,
    sink: Sink,
    load_id: int,
    moved: dict[int, int],
) -> None:
    """Read one file from its start offset through the line reader."""
    plan = outcome.plan
    found = plan.found
    seed = outcome.seed_key or outcome.legacy or ""
    sink.seeds[outcome.file_id] = sink.current[outcome.file_id] = seed
    stream = open_log(found.path, found.kind, plan.start)
    read = None
    try:
        reads = read_stream(
            stream, outcome.file_id, plan.start, plan.start_line, sink, complete_tail=found.kind == "gz"
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
