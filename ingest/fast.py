"""The fast path: DuckDB's own JSON reader for big, complete, clean files.

One parallel read per batch of files (`read_json_objects`, rows come back in file order) gives
each line's text, its keys and whether it is a run header; a group-by over that proves, per file,
that DuckDB saw exactly the lines the exact path would (the line texts plus one newline each add
up to the file size: no blank lines, no BOM, no \\r, nothing skipped), that every key is known and
unique, and that nothing is written DuckDB accepts but orjson rejects (NaN, Infinity, trailing
commas). Files that pass are inserted from the fetched rows through the projection the exact path
uses, so both paths give identical rows; the others go to the exact path in the same transaction.

The read runs on a side cursor: a reader error must not abort the ingest transaction. It is then
split in halves to find the files at fault, so one bad file does not send a batch to the slow
path. Nothing here needs a window or WITH ORDINALITY: both make DuckDB's scan single-threaded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from ingest.load import MAX_OBJECT, FastPathMismatch, FileOutcome, Header, insert_staged, run_intervals
from warehouse.core.config import DEFAULT_MAX_LINE_BYTES
from warehouse.core.logformat import KNOWN_KEYS

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

FAST_BATCH_BYTES = 128 * 2**20
FAST_BATCH_FILES = 400
ROWS_PER_ARROW_BATCH = 2048  # many small batches: DuckDB scans an Arrow table one batch per task
# What DuckDB's reader takes and orjson (the exact path) refuses: NaN and Infinity literals and
# trailing commas. Plain substring tests (a regex over every line costs as much as the load); the
# regex runs only on lines with whitespace before a closing bracket. A false hit (the word inside
# a string) only sends the file to the exact path.
_LENIENT = r"""
    contains(json, 'NaN') OR contains(json, 'Infinity') OR contains(json, ',}') OR contains(json, ',]')
    OR ((contains(json, ' }') OR contains(json, ' ]') OR contains(json, chr(9)) OR contains(json, chr(13)))
        AND regexp_matches(json, ',\s*[\]}]'))
"""

# Keys are checked per distinct key list (a line's list is hashed; records come in few shapes),
# not per line: list checks on every line cost a third of the read.
_READ_SQL = f"""
SELECT filename, json, hash(k) AS keys_hash, {_LENIENT} AS lenient,
       CASE WHEN list_contains(k, 'run_header') THEN json ->> '$.run_header' = 'true'
            ELSE false END AS is_header,
       CASE WHEN list_contains(k, 'run_header') THEN (json -> '$.run_id')::VARCHAR END AS run_id
FROM (SELECT filename, json::VARCHAR AS json, json_keys(json) AS k
      FROM read_json_objects($paths, format = 'newline_delimited', filename = true,
                             maximum_object_size = $max))
"""

_CHECK_SQL = """
WITH shapes AS (SELECT keys_hash, json_keys(any_value(json)) AS k FROM fast_rows GROUP BY keys_hash),
     bad_shapes AS (SELECT keys_hash FROM shapes
                    WHERE NOT (len(k) > 0 AND len(k) = len(list_distinct(k)) AND list_has_all($known, k)))
SELECT filename, count(*), min(idx), max(idx), sum(strlen(json) + 1),
       bool_and(NOT lenient AND keys_hash NOT IN (SELECT keys_hash FROM bad_shapes)),
       list(struct_pack(o := idx, id := run_id) ORDER BY idx) FILTER (WHERE is_header)
FROM fast_rows GROUP BY filename
"""


def fast_min_bytes() -> int:
    """Files smaller than this are left to the bulk line path (ingest/bulk.py). By default that
    is every file: on mixed corpora (many small files, runs appended, a few 30 MB files) this
    reader cost ~1.4x the bulk path's CPU, on uniform clean ones about the same (benchmarks/
    RESULTS.md, 2026-12-07). WAREHOUSE_FAST_MIN_BYTES=N puts files of N bytes or more here."""
    return int(os.environ.get("WAREHOUSE_FAST_MIN_BYTES", 2**62))


_Part = tuple[list[FileOutcome], "pa.Table"]


@dataclass
class _Accepted:
    outcome: FileOutcome
    first_idx: int  # row index of the file's first line in the fetched table
    lines: int
    headers: list[Header]


def load_fast(
    con: duckdb.DuckDBPyConnection,
    outcomes: list[FileOutcome],
    load_id: int,
    advance: Callable[[int], None],
    max_line: int = DEFAULT_MAX_LINE_BYTES,
) -> set[int]:
    """Load what the fast path can take, inside the caller's transaction; returns their file ids.
    The files it leaves keep their planned start, for the exact path."""
    candidates = _candidates(outcomes, max_line)
    if not candidates:  # (appends: no thread pool, no cursor; ~35 ms of a one-line ingest)
        return set()
    from concurrent.futures import ThreadPoolExecutor

    loaded: list[_Accepted] = []
    batches = _batches(candidates)
    side = con.cursor()
    try:
        # The next batch is read (on the side cursor, in a thread) while this one is inserted: each
        # statement alone leaves a core idle part of the time. At most two batches are in memory.
        # Leaving the pool waits for a read still running, so the cursor closes after it.
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead = pool.submit(_read, side, batches[0]) if batches else None
            for i, batch in enumerate(batches):
                assert ahead is not None
                parts = ahead.result()
                ahead = pool.submit(_read, side, batches[i + 1]) if i + 1 < len(batches) else None
                for part, table in parts:
                    accepted = _accept(con, part, table)
                    if accepted:
                        _insert(con, accepted, table, load_id)
                        loaded += accepted
                del parts
                advance(sum(o.plan.found.size for o in batch))
    finally:
        side.close()
    _verify(con, loaded, load_id)
    return {a.outcome.file_id for a in loaded}


def _candidates(outcomes: list[FileOutcome], max_line: int) -> list[FileOutcome]:
    """Whole new or rewritten plain files, big enough, ending with a newline (complete), without
    a line longer than max_line (DuckDB's reader would hold it whole; the exact path quarantines
    it holding a bounded prefix)."""
    threshold = fast_min_bytes()
    chosen = []
    for o in outcomes:
        f = o.plan.found
        if o.plan.start or o.plan.action == "relinked" or f.kind in ("gz", "import") or f.size < threshold:
            continue
        with open(f.path, "rb") as fh:
            fh.seek(f.size - 1)
            if fh.read(1) == b"\n" and lines_within(fh, f.size, max_line):
                chosen.append(o)
    return chosen


def lines_within(fh: BinaryIO, size: int, max_line: int) -> bool:
    """No line longer than max_line: every aligned block of max_line // 2 bytes holds a newline
    (a longer line covers a whole block). Each search stops at the block's first newline, so a
    file of short lines costs one page read per block (mmap), not a read of the file."""
    import mmap

    block = max(max_line // 2, 1)
    with mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_READ) as view:
        return all(view.find(b"\n", start, min(start + block, size)) >= 0 for start in range(0, size, block))


def _batches(candidates: list[FileOutcome]) -> list[list[FileOutcome]]:
    batches: list[list[FileOutcome]] = []
    current: list[FileOutcome] = []
    size = 0
    for o in candidates:
        if current and (size + o.plan.found.size > FAST_BATCH_BYTES or len(current) >= FAST_BATCH_FILES):
            batches.append(current)
            current, size = [], 0
        current.append(o)
        size += o.plan.found.size
    if current:
        batches.append(current)
    return batches


def _read(side: duckdb.DuckDBPyConnection, batch: list[FileOutcome]) -> list[_Part]:
    """The batch's lines as an Arrow table (in file order, with a row index `idx`); on a reader
    error, the halves that read cleanly."""
    import duckdb
    import pyarrow as pa

    try:
        table = side.execute(
            _READ_SQL,
            {"paths": [o.plan.found.path for o in batch], "max": MAX_OBJECT},
        ).to_arrow_table(batch_size=ROWS_PER_ARROW_BATCH)
    except duckdb.Error:  # malformed line, bad UTF-8, control character: find the files at fault
        if len(batch) == 1:
            return []
        half = len(batch) // 2
        return _read(side, batch[:half]) + _read(side, batch[half:])
    return [(batch, table.append_column("idx", pa.array(range(table.num_rows), pa.int64())))]


def _accept(con: duckdb.DuckDBPyConnection, batch: list[FileOutcome], table: pa.Table) -> list[_Accepted]:
    """The files whose rows DuckDB read exactly as the exact path would, with their run headers.
    Each file's rows must be one block, in the order the files were given."""
    fast_rows = table  # noqa: F841 - a replacement scan, see ingest/rowsets.py
    seen = {row[0]: row[1:] for row in con.execute(_CHECK_SQL, {"known": list(KNOWN_KEYS)}).fetchall()}
    accepted, expected_first = [], 0
    for o in batch:
        if o.plan.found.path not in seen:
            continue  # no rows (DuckDB skipped every line): the exact path decides
        n, first, last, size, clean, headers = seen[o.plan.found.path]
        block_ok = first == expected_first and last == first + n - 1
        expected_first += n
        if block_ok and clean and size == o.plan.found.size:
            accepted.append(_Accepted(o, first, n, _header_lines(headers, first)))
    return accepted


def _header_lines(headers: list[dict[str, Any]] | None, first: int) -> list[Header]:
    """(line number, run_id as logged) of a file's run headers."""
    return [
        (h["o"] - first + 1, orjson.loads(h["id"]) if h["id"] is not None else None) for h in headers or []
    ]


def _insert(con: duckdb.DuckDBPyConnection, accepted: list[_Accepted], table: pa.Table, load_id: int) -> None:
    """Insert the accepted files' rows: file id, line number and run key are laid out here, block by
    block (joins on the path and on run intervals would cost more than the load itself)."""
    for a in accepted:
        a.outcome.lines, a.outcome.end = a.lines, a.outcome.plan.found.size
    staged = "SELECT file_id, line_no, json AS line, run_key FROM __rows__"
    insert_staged(con, staged, {"load_id": load_id}, _layout(accepted, table))


def _verify(con: duckdb.DuckDBPyConnection, loaded: list[_Accepted], load_id: int) -> None:
    """Each loaded file has as many rows as lines it was checked for (one query for all: so far
    this load holds only fast-path rows; a bound list of ids costs ~0.15 ms per element)."""
    if not loaded:
        return
    counts = dict(
        con.execute(
            "SELECT file_id, count(*) FROM records WHERE load_id = $load_id GROUP BY file_id",
            {"load_id": load_id},
        ).fetchall()
    )
    for a in loaded:
        if counts.get(a.outcome.file_id, 0) != a.outcome.lines:
            raise FastPathMismatch(a.outcome.plan.found.path)
        a.outcome.good = a.outcome.lines


def _layout(accepted: list[_Accepted], table: pa.Table) -> pa.Table:
    """(json, file_id, line_no, run_key) for the accepted blocks of the fetched table (run keys
    from run_intervals, which also sets each outcome's key for lines appended later)."""
    import pyarrow as pa

    file_ids: list[int] = []
    line_nos: list[int] = []
    key_index: list[int] = []
    keys: list[str] = []
    for a in accepted:
        o = a.outcome
        file_ids += [o.file_id] * a.lines
        line_nos += range(1, a.lines + 1)
        for _file_id, first, last, key in run_intervals(o, a.headers):
            key_index += [len(keys)] * (last - first + 1)
            keys.append(key)
    if len(file_ids) == table.num_rows:  # every file accepted: the fetched batches as they are
        json = table["json"]
    else:  # one copy, in evenly sized batches (slices at file bounds would make many tiny ones)
        blocks = [table.slice(a.first_idx, a.lines) for a in accepted]
        json = pa.concat_tables(blocks)["json"].combine_chunks()
    return pa.Table.from_batches(
        pa.table(
            {
                "json": json,
                "file_id": pa.array(file_ids, pa.int64()),
                "line_no": pa.array(line_nos, pa.int64()),
                "run_key": pa.array(keys, pa.string()).take(pa.array(key_index, pa.int32())),
            }
        ).to_batches(max_chunksize=ROWS_PER_ARROW_BATCH)
    )
