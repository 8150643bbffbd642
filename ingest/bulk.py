"""The bulk line path: whole files that DuckDB's reader (ingest/fast.py) does not take — small
files, files with a torn tail, a glued or garbage line, a .gz — read here and checked line by line
in bulk, so one bad line no longer sends its whole file through the per-line Python path.

Each file is read (a .gz decompressed) and cut at newlines into lines exactly as the exact path
cuts them; its complete lines go, many files at once, through one DuckDB statement that tells,
per line, whether it is a JSON object whose keys are all known and unique, with nothing DuckDB
accepts but orjson refuses (NaN, Infinity, trailing commas) and no \\r. Those lines are inserted
through the projection both paths share. Every other line (blank, bad JSON, bad UTF-8, a torn line
with the next record glued on, unknown or repeated keys) goes, in file order, through the exact
path's own line handler (ingest/lines.py `take_line`), so it is quarantined, split or loaded exactly
as there. Run keys follow the headers of both kinds of lines, in order. A trailing line without a
newline is held back (pending) as the exact path does, except at the end of a .gz.

Files read here: new or rewritten (read from byte 0), plain or .gz, no line longer than
max_line_bytes, no byte-order mark. Others take the exact path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson

from ingest.lines import BOM, CHUNK, GZIP_ERRORS, FileRead, Sink, open_log, take_line
from ingest.load import FastPathMismatch, FileOutcome, insert_staged
from ingest.records import header_key
from warehouse.core.config import DEFAULT_MAX_LINE_BYTES
from warehouse.core.logformat import KNOWN_KEYS

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import pyarrow as pa

BATCH_BYTES = 64 * 2**20  # lines checked and inserted per statement (bounds memory)
ROWS_PER_ARROW_BATCH = 2048  # DuckDB scans an Arrow table one record batch per task

_LENIENT = r"""
    contains(line, 'NaN') OR contains(line, 'Infinity') OR contains(line, ',}') OR contains(line, ',]')
    OR contains(line, chr(13))
    OR ((contains(line, ' }') OR contains(line, ' ]') OR contains(line, chr(9)))
        AND regexp_matches(line, ',\s*[\]}]'))
"""
# One parse per line for its keys (try: a line that is not JSON gives NULL, not an error); the
# header's fields only where a run_header key is.
_CHECK_SQL = f"""
SELECT k IS NOT NULL AND len(k) > 0 AND NOT ({_LENIENT}) AS parsed, hash(k) AS keys_hash,
       strlen(line) AS n,
       CASE WHEN list_contains(k, 'run_header') THEN (line -> '$.run_header')::VARCHAR = 'true'
            ELSE false END AS is_header,
       CASE WHEN list_contains(k, 'run_header') THEN (line -> '$.run_id')::VARCHAR END AS run_id
FROM (SELECT line, try(json_keys(line)) AS k FROM __lines__)
"""
_SHAPES_SQL = """
SELECT h, len(k) > 0 AND len(k) = len(list_distinct(k)) AND list_has_all($known, k)
FROM (SELECT unnest($h) AS h, json_keys(unnest($l)) AS k)
"""


@dataclass
class _Piece:
    """Whole lines of one file, each with its newline: `data` starts at byte `offset` of the
    file, its first line is line `base` + 1; `starts` holds each line's start and, last, the end."""

    outcome: FileOutcome
    read: FileRead
    data: memoryview
    starts: np.ndarray
    offset: int
    base: int

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def count(self) -> int:
        return len(self.starts) - 1

    def line(self, i: int) -> bytes:
        return bytes(self.data[int(self.starts[i]) : int(self.starts[i + 1]) - 1])


def _piece(o: FileOutcome, read: FileRead, data: memoryview, offset: int, base: int) -> _Piece:
    import numpy as np

    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    starts = np.concatenate(([0], ends + 1)).astype(np.int64)
    return _Piece(o, read, data, starts, offset, base)


@dataclass
class _State:
    """Per file, across its pieces: the run key lines attach to, the seed of synthetic keys, the
    lines inserted here."""

    key: str
    read: FileRead = field(default_factory=lambda: FileRead(end=0, lines=0, pending=0))
    ok: int = 0


class _ExactFile(Exception):
    """A .gz this path leaves to the exact path (corrupt, cut, a long line, a byte-order mark)."""


def bulk_min_bytes() -> int:
    """Below this many bytes in all, the files take the exact path (importing pyarrow and numpy
    costs more than a few lines: ~0.3 s)."""
    return int(os.environ.get("WAREHOUSE_BULK_MIN_BYTES", 2**20))


def load_bulk(
    con: duckdb.DuckDBPyConnection,
    outcomes: list[FileOutcome],
    load_id: int,
    sink: Sink,
    advance: Callable[[int], None],
    max_line: int = DEFAULT_MAX_LINE_BYTES,
) -> set[int]:
    """Load the files this path takes, inside the caller's transaction; returns their file ids.
    Lines it hands to the exact path's line handler wait in `sink` for the caller's flush.
    The next batch is read (in a thread: reads, the newline scan and the UTF-8 check release the
    GIL) while DuckDB checks and inserts this one; at most two batches are in memory."""
    chosen = [o for o in outcomes if _eligible(o, max_line)]
    if not chosen or sum(o.plan.found.size for o in chosen) < bulk_min_bytes():
        return set()
    from concurrent.futures import ThreadPoolExecutor

    states: dict[int, _State] = {}
    batches = _batches(chosen, states, max_line)
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = pool.submit(next, batches, None)
        while (got := ahead.result()) is not None:
            ahead = pool.submit(next, batches, None)
            batch, lines, done = got
            _load_batch(con, batch, lines, states, sink, load_id, max_line)
            del batch, lines
            advance(done)
    taken = [o for o in chosen if o.file_id in states]
    for o in taken:
        state = states[o.file_id]
        o.end, o.lines, o.pending = state.read.end, state.read.lines, state.read.pending
        o.good, o.bad, o.blank = o.good + state.read.good, o.bad + state.read.bad, o.blank + state.read.blank
        o.run_key_at_end = state.key
    _verify(con, taken, states, load_id)
    return set(states)


def _batches(
    chosen: list[FileOutcome], states: dict[int, _State], max_line: int
) -> Iterator[tuple[list[_Piece], pa.ChunkedArray, int]]:
    """(pieces, their lines as Arrow strings, bytes of the files finished) of about BATCH_BYTES
    each; adds each file's state when its first piece is read."""
    batch: list[_Piece] = []
    size = done = 0
    for o in chosen:
        state = _State(key=o.seed_key or o.legacy or "")
        try:
            for piece in _pieces(o, state.read, max_line):
                states[o.file_id] = state
                batch.append(piece)
                size += piece.size
                if size >= BATCH_BYTES:
                    yield batch, _arrow_lines(batch), done
                    batch, size, done = [], 0, 0
        except _ExactFile:
            continue
        states[o.file_id] = state  # (an empty file has no piece)
        done += o.plan.found.size
    if batch or done:
        yield batch, _arrow_lines(batch), done


def _eligible(o: FileOutcome, max_line: int) -> bool:
    from ingest.fast import lines_within

    f = o.plan.found
    if o.plan.start or o.plan.action == "relinked" or f.kind not in ("jsonl", "recovered", "gz"):
        return False
    if f.kind == "gz" or f.size == 0:
        return True  # a .gz's lines are measured once decompressed (_pieces)
    with open(f.path, "rb") as fh:
        if fh.read(3) == BOM:
            return False
        return lines_within(fh, f.size, max_line)


def _pieces(o: FileOutcome, read: FileRead, max_line: int) -> Iterator[_Piece]:
    """The file's complete lines in pieces of about CHUNK bytes; `read` ends with the file's
    counts and pending tail. A .gz that cannot be read whole, or holds a line longer than
    max_line or a byte-order mark, raises _ExactFile before anything of it is yielded."""
    f = o.plan.found
    if f.kind == "gz":
        data = _gunzip(f.path, max_line)
        if data is None:
            raise _ExactFile
        end = len(data)
        if data and not data.endswith(b"\n"):
            data += b"\n"  # a finished .gz: its last line needs no newline
        piece = _piece(o, read, memoryview(data), 0, 0)
        read.lines, read.end = piece.count, end
        yield piece
        return
    offset, base, carry = 0, 0, b""
    with open(f.path, "rb") as fh:
        left = f.size
        while left > 0:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            data = carry + chunk if carry else chunk
            cut = data.rfind(b"\n") + 1
            carry = data[cut:]
            if cut:
                piece = _piece(o, read, memoryview(data)[:cut], offset, base)
                yield piece
                offset, base = offset + cut, base + piece.count
    read.lines, read.end, read.pending = base, offset, len(carry)


def _gunzip(path: str, max_line: int) -> bytes | None:
    """The decompressed .gz, or None when it is corrupt or cut, or its lines are not plain."""
    stream = open_log(path, "gz", 0)
    parts = []
    try:
        while chunk := stream.read(CHUNK):
            parts.append(chunk)
    except GZIP_ERRORS:
        return None
    finally:
        stream.close()
    data = b"".join(parts)
    if data.startswith(BOM) or any(len(line) > max_line for line in data.split(b"\n")):
        return None
    return data


def _load_batch(
    con: duckdb.DuckDBPyConnection,
    batch: list[_Piece],
    lines: pa.ChunkedArray,
    states: dict[int, _State],
    sink: Sink,
    load_id: int,
    max_line: int,
) -> None:
    """Check every line of the batch, hand the failing ones to the line handler in file order,
    insert the others."""
    import pyarrow as pa

    if not batch:
        return
    ok, is_header, run_id = _check(con, lines)
    ok_np = ok.to_numpy(zero_copy_only=False)
    header_np = is_header.fill_null(False).to_numpy(zero_copy_only=False) & ok_np
    import numpy as np

    file_ids, line_nos = [], []
    keys: list[str] = []
    start = 0
    for piece in batch:
        n, fid = piece.count, piece.outcome.file_id
        if fid not in sink.seeds:  # the file's first piece
            sink.seeds[fid] = sink.current[fid] = states[fid].key
        walk = _Walk(piece, states[fid], sink, max_line)
        keys += walk.keys(ok_np[start : start + n], header_np[start : start + n], run_id, start)
        file_ids.append(np.full(n, fid, np.int64))
        line_nos.append(np.arange(piece.base + 1, piece.base + n + 1, dtype=np.int64))
        start += n
    table = pa.table(
        {
            "line": lines,
            "file_id": np.concatenate(file_ids),
            "line_no": np.concatenate(line_nos),
            "run_key": pa.array(keys, pa.string()),
        }
    ).filter(ok)
    del lines
    if table.num_rows:
        rows = pa.Table.from_batches(table.to_batches(max_chunksize=ROWS_PER_ARROW_BATCH))
        staged = "SELECT file_id, line_no, rtrim(line, chr(10)) AS line, run_key FROM __rows__"
        insert_staged(con, staged, {"load_id": load_id}, rows)


@dataclass
class _Walk:
    """One piece's lines in order: runs of checked lines take the current run key; a checked
    header starts a key; a failing line goes through the line handler (which may start a key too:
    a header glued after a torn line)."""

    piece: _Piece
    state: _State
    sink: Sink
    max_line: int

    def keys(self, ok: np.ndarray, header: np.ndarray, run_id: pa.Array, start: int) -> list[str]:
        import numpy as np

        piece, state, fid = self.piece, self.state, self.piece.outcome.file_id
        keys: list[str] = []
        pos = 0
        for e in np.flatnonzero(~ok | header).tolist():
            keys += [state.key] * (e - pos)
            line_no = piece.base + e + 1
            if ok[e]:
                logged = run_id[start + e].as_py()
                state.key = header_key(
                    orjson.loads(logged) if logged is not None else None, self._seed(), line_no
                )
            else:
                self.sink.current[fid] = state.key
                take_line(
                    self.sink,
                    piece.read,
                    fid,
                    line_no,
                    piece.offset + int(piece.starts[e]),
                    piece.line(e),
                    self.max_line,
                )
                state.key = self.sink.current[fid]
            keys.append(state.key)
            pos = e + 1
        keys += [state.key] * (piece.count - pos)
        good = int(ok.sum())
        state.ok += good
        piece.read.good += good
        return keys

    def _seed(self) -> str:
        return self.sink.seeds.get(self.piece.outcome.file_id, "")


def _verify(
    con: duckdb.DuckDBPyConnection, taken: list[FileOutcome], states: dict[int, _State], load_id: int
) -> None:
    """Each file has as many rows as lines it checked (the line handler's rows are not flushed yet)."""
    sql = "SELECT file_id, count(*) FROM records WHERE load_id = $load_id GROUP BY file_id"
    counts = dict(con.execute(sql, {"load_id": load_id}).fetchall()) if taken else {}
    for o in taken:
        if counts.get(o.file_id, 0) != states[o.file_id].ok:
            raise FastPathMismatch(o.plan.found.path)


def _arrow_lines(batch: list[_Piece]) -> pa.ChunkedArray:
    """Every line of the batch, with its newline, as strings over the read buffers (no copy); a
    line that is not UTF-8 becomes a bare newline (which fails the check, so the line handler
    sees its bytes)."""
    import pyarrow as pa

    chunks = []
    for piece in batch:
        offsets, data = pa.py_buffer(piece.starts), pa.py_buffer(piece.data)
        raw = pa.Array.from_buffers(pa.large_binary(), piece.count, [None, offsets, data])
        try:
            chunks.append(raw.cast(pa.large_string()))
        except pa.ArrowInvalid:
            lines = (piece.line(i) for i in range(piece.count))
            clean = [
                line + b"\n" if line.decode("utf-8", "replace").encode() == line else b"\n" for line in lines
            ]
            chunks.append(pa.array(clean, pa.large_binary()).cast(pa.large_string()))
    return pa.chunked_array(chunks, pa.large_string())


def _check(con: duckdb.DuckDBPyConnection, lines: pa.ChunkedArray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Per line: (ok, is_header, run_id as JSON text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    source = pa.Table.from_batches(pa.table({"line": lines}).to_batches(max_chunksize=ROWS_PER_ARROW_BATCH))  # noqa: F841 - read by name in the SQL below
    got = con.execute(_CHECK_SQL.replace("__lines__", "source")).to_arrow_table()
    if not pc.all(pc.equal(got["n"], pc.binary_length(lines))).as_py():
        raise FastPathMismatch("the line check returned rows out of order")  # redone exactly
    parsed = got["parsed"].combine_chunks()
    hashes = got["keys_hash"].combine_chunks()
    good = _good_shapes(con, lines, parsed, hashes)
    ok = pc.and_(pc.fill_null(parsed, False), pc.is_in(hashes, value_set=pa.array(good, hashes.type)))
    return pc.fill_null(ok, False), got["is_header"].combine_chunks(), got["run_id"].combine_chunks()


def _good_shapes(
    con: duckdb.DuckDBPyConnection, lines: pa.ChunkedArray, parsed: pa.Array, hashes: pa.Array
) -> list[int]:
    """The key-list hashes whose key list is non-empty, unique and all known (checked once per
    shape: records come in few shapes)."""
    import pyarrow.compute as pc

    candidates = pc.unique(pc.filter(hashes, pc.fill_null(parsed, False))).to_pylist()
    if not candidates:
        return []
    examples = [lines[pc.index(hashes, h).as_py()].as_py() for h in candidates]
    rows = con.execute(_SHAPES_SQL, {"h": candidates, "l": examples, "known": list(KNOWN_KEYS)}).fetchall()
    return [h for h, good in rows if good]
