"""Read log bytes as lines: every line ends up good, quarantined or counted blank.

This is the exact path: it validates each line with orjson, splits a torn line that has the next
record glued onto it, and holds back a trailing line without newline (a run still writing) so it
is read once complete. (Big clean files take DuckDB's reader instead: ingest/fast.py.)
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, cast

import orjson

from ingest.records import classify, header_key
from warehouse.core.config import DEFAULT_MAX_LINE_BYTES
from warehouse.core.logformat import KNOWN

CHUNK = 16 * 2**20
PREFIX_BYTES = 64 * 2**10  # what quarantine keeps of a line longer than max_line_bytes
GZIP_ERRORS = (EOFError, gzip.BadGzipFile, zlib.error, OSError)
GLUE_TRIES = 8
GLUE_MAX_LINE = 2**20
# Literals DuckDB's JSON parser accepts and orjson (and so the exact path) refuses.
_ACCEPTED_BY_DUCKDB_ONLY = (b"NaN", b"Infinity")
# Valid JSON that orjson cannot represent (nesting deeper than 1024, a number beyond a double):
# DuckDB's parser (the fast path, and the typing of every line) takes it, so the exact path asks DuckDB.
_UNREPRESENTABLE = ("depth limit exceeded", "number is infinity")
BOM = b"\xef\xbb\xbf"
_duckdb: list[object] = []


def legacy_key(first_line: bytes) -> str:
    """Stable synthetic run key for steps that precede any header (old header-less logs)."""
    return "legacy-" + hashlib.sha256(first_line.rstrip(b"\r\n")).hexdigest()[:20]


@dataclass
class Sink:
    """Accumulates rows for one flush to DuckDB."""

    file_ids: list[int] = field(default_factory=list)
    line_nos: list[int] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    raws: list[str] = field(default_factory=list)
    run_keys: list[str] = field(default_factory=list)
    current: dict[int, str] = field(default_factory=dict)  # file_id -> run key lines attach to
    seeds: dict[int, str] = field(default_factory=dict)  # file_id -> key before any header
    size: int = 0
    bad: list[tuple[int, int, int, str, bytes]] = field(default_factory=list)
    drift: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    headers: int = 0  # run headers seen by this sink (never reset by a flush)

    def good(self, file_id: int, line_no: int, offset: int, raw: bytes, obj: dict[str, object]) -> None:
        self.file_ids.append(file_id)
        self.line_nos.append(line_no)
        self.offsets.append(offset)
        self.raws.append(raw.removesuffix(b"\r").decode("utf-8"))  # a CRLF ends with its newline
        self.size += len(raw)
        kind = classify(obj)
        if kind == "header":
            self.headers += 1
            self.current[file_id] = header_key(obj.get("run_id"), self.seeds.get(file_id, ""), line_no)
        self.run_keys.append(self.current.get(file_id) or self.seeds.get(file_id, ""))
        for key in (k for k in obj if k not in KNOWN):
            entry = self.drift.setdefault((key, kind), [0, file_id, line_no])
            entry[0] += 1

    def quarantine(self, file_id: int, line_no: int, offset: int, error: str, raw: bytes) -> None:
        self.bad.append((file_id, line_no, offset, error, raw))
        self.size += len(raw)

    def clear_rows(self) -> None:
        self.file_ids, self.line_nos, self.offsets, self.raws = [], [], [], []
        self.run_keys = []
        self.bad = []
        self.size = 0


@dataclass
class FileRead:
    end: int  # offset just past the last complete line
    lines: int  # absolute count of complete lines up to `end`
    pending: int  # bytes after the last newline, not ingested yet
    good: int = 0
    bad: int = 0
    blank: int = 0
    first_line: bytes = b""


@dataclass(frozen=True)
class Oversize:
    """A line longer than max_line_bytes, read past without holding it: its first bytes, its length."""

    prefix: bytes
    length: int


Line = bytes | Oversize


def _length(line: Line) -> int:
    return line.length if isinstance(line, Oversize) else len(line)


class BrokenStream(Exception):
    """A .gz that cannot be read past `offset`; `carry` is the partial line before the break."""

    def __init__(self, error: BaseException, offset: int, carry: bytes) -> None:
        super().__init__(str(error))
        self.error, self.offset, self.carry = error, offset, carry


def _split(stream: BinaryIO, start: int, max_line: int) -> Iterator[tuple[int, Line]]:
    """(offset, line) for each complete line; the trailing partial line is yielded with offset -1
    as (-1 - offset) marker: callers read `.pending` from the last item when offset < 0.

    A line longer than `max_line` comes as an Oversize: once the unfinished line passes the limit
    only its first PREFIX_BYTES are kept and the rest is counted until its newline, so memory
    stays below max_line + 2 chunks whatever the line's length."""
    offset, carry = start, b""
    over: Oversize | None = None  # the line being read past, when past the limit
    while True:
        try:
            chunk = stream.read(CHUNK)
        except GZIP_ERRORS as e:
            raise BrokenStream(e, offset, over.prefix if over else carry) from e
        if not chunk:
            break
        if over is not None:
            nl = chunk.find(b"\n")
            if nl < 0:
                over = Oversize(over.prefix, over.length + len(chunk))
                continue
            yield offset, Oversize(over.prefix, over.length + nl)
            offset += over.length + nl + 1
            over, chunk = None, chunk[nl + 1 :]
        data = carry + chunk if carry else chunk
        pos = 0
        while (nl := data.find(b"\n", pos)) >= 0:
            if nl - pos <= max_line:
                yield offset, data[pos:nl]
            else:
                yield offset, Oversize(data[pos : pos + PREFIX_BYTES], nl - pos)
            offset += nl + 1 - pos
            pos = nl + 1
        carry = data[pos:]
        if len(carry) > max_line:
            over, carry = Oversize(carry[:PREFIX_BYTES], len(carry)), b""
    if over is not None:
        yield -1 - offset, over
    elif carry:
        yield -1 - offset, carry


def _parse(line: bytes) -> tuple[dict[str, object] | None, str]:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        fallback = _parse_with_duckdb(line) if any(m in str(e) for m in _UNREPRESENTABLE) else None
        return (fallback, "") if fallback is not None else (None, str(e))
    if not isinstance(obj, dict):
        return None, f"not a JSON object (a {type(obj).__name__})"
    return obj, ""


def _parse_with_duckdb(line: bytes) -> dict[str, object] | None:
    """Top-level keys of a line DuckDB accepts as a JSON object (values that orjson cannot hold
    stay raw JSON fragments). NaN/Infinity literals stay quarantined, as on the fast path."""
    import duckdb

    if any(token in line for token in _ACCEPTED_BY_DUCKDB_ONLY):
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not _duckdb:
        _duckdb.append(duckdb.connect())
    con = _duckdb[0]
    assert isinstance(con, duckdb.DuckDBPyConnection)
    ok = con.execute("SELECT json_valid($l) AND json_type($l) = 'OBJECT'", {"l": text}).fetchone()
    if not ok or not ok[0]:
        return None
    obj: dict[str, object] = {}
    for key, value in con.execute("SELECT key, value FROM json_each($l) ORDER BY id", {"l": text}).fetchall():
        try:
            obj[key] = orjson.loads(value)
        except orjson.JSONDecodeError:
            obj[key] = orjson.Fragment(value)
    return obj


# How a record of ours starts (the simulator's key order, and the runner's): where a torn
# line has the next record glued on, the glued record begins at one of these.
_RECORD_STARTS = (b'{"run_header"', b'{"run_id"', b'{"schema_version"', b'{"run_end"', b'{"step"')


def _glued(line: bytes) -> tuple[int, dict[str, object]] | None:
    """A torn line with the next record glued on: return (cut, record) for the valid suffix.

    Record starts are tried first (a torn step holds many nested objects before the cut), then
    the first few `{"` positions for records of other shapes."""
    if len(line) > GLUE_MAX_LINE:
        return None
    starts = sorted({pos for token in _RECORD_STARTS for pos in _positions(line, token)})
    generic = [pos for pos in _positions(line, b'{"')][:GLUE_TRIES]
    for pos in starts + [p for p in generic if p not in starts]:
        obj, _err = _parse(line[pos:])
        if obj is not None:
            return pos, obj
    return None


def _positions(line: bytes, token: bytes) -> list[int]:
    found, pos = [], line.find(token, 1)
    while pos > 0:
        found.append(pos)
        pos = line.find(token, pos + 1)
    return found


def take_line(
    sink: Sink, read: FileRead, file_id: int, line_no: int, offset: int, line: Line, max_line: int
) -> None:
    if isinstance(line, Oversize):
        error = (
            f"line of {line.length} bytes is longer than max_line_bytes ({max_line}, [ingest] in "
            f"warehouse.toml); its first {len(line.prefix)} bytes are kept here"
        )
        sink.quarantine(file_id, line_no, offset, error, line.prefix)
        read.bad += 1
        return
    if not line.strip():
        read.blank += 1
        return
    obj, error = _parse(line)
    if obj is not None:
        sink.good(file_id, line_no, offset, line, obj)
        read.good += 1
        return
    glued = _glued(line)
    if glued is None:
        sink.quarantine(file_id, line_no, offset, error, line)
        read.bad += 1
        return
    cut, obj = glued
    sink.quarantine(
        file_id, line_no, offset, f"torn line (next record glued at byte {cut}): {error}", line[:cut]
    )
    sink.good(file_id, line_no, offset + cut, line[cut:], obj)
    read.bad += 1
    read.good += 1


def read_stream(
    stream: BinaryIO,
    file_id: int,
    start: int,
    start_line: int,
    sink: Sink,
    complete_tail: bool,
    max_line: int = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[FileRead]:
    """Feed every complete line after `start` into the sink; yields progress after each chunk
    worth of lines (so the caller can flush), the final FileRead last. A line longer than
    `max_line` is quarantined with its first bytes."""
    read = FileRead(end=start, lines=start_line, pending=0)
    try:
        for offset, line in _split(stream, start, max_line):
            if offset in (0, -1) and isinstance(line, bytes) and line.startswith(BOM):  # encoding, not data
                line, offset = line[3:], (3 if offset == 0 else -4)
            if offset < 0:
                if complete_tail:  # a finished .gz: its last line needs no newline
                    take_line(sink, read, file_id, read.lines + 1, -1 - offset, line, max_line)
                    read.lines += 1
                    read.end = -1 - offset + _length(line)
                else:
                    read.pending = _length(line)
                break
            if not read.first_line and read.lines == 0:
                read.first_line = line.prefix if isinstance(line, Oversize) else line
            read.lines += 1
            take_line(sink, read, file_id, read.lines, offset, line, max_line)
            read.end = offset + _length(line) + 1
            if sink.size >= CHUNK * 2:
                yield read
    except BrokenStream as broken:  # every line before the break is in; one row for the break
        error = f"gzip stream truncated or corrupt: {broken.error}"
        sink.quarantine(file_id, read.lines + 1, broken.offset, error, broken.carry)
        read.bad += 1
        if broken.carry:
            read.lines += 1
            read.end = broken.offset + len(broken.carry)
    yield read


def first_line(path: str, kind: str, max_line: int = DEFAULT_MAX_LINE_BYTES) -> bytes:
    """The first line of a file (for its legacy run key), read in small pieces, at most the first
    max_line bytes of it."""
    head = b""
    with open_log(path, kind, 0) as fh:
        try:
            while b"\n" not in head and len(head) < max_line:
                piece = fh.read(65536)
                if not piece:
                    break
                head += piece
        except GZIP_ERRORS:
            pass  # a corrupt .gz: the line reader quarantines what cannot be read
    return head.split(b"\n", 1)[0]


class _Gunzip:
    """A .gz (members concatenated, zero padding between them) that returns every byte it can
    decode before raising on a truncated or corrupt spot. gzip.GzipFile drops what it decoded in
    the read that fails, which lost the readable lines of a cut file."""

    def __init__(self, path: str) -> None:
        self._raw = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._z = zlib.decompressobj(wbits=31)
        self._out = bytearray()
        self._in_member = False
        self._eof = False
        self._error: BaseException | None = None

    def read(self, n: int = -1) -> bytes:
        while self._error is None and not self._eof and (n < 0 or len(self._out) < n):
            try:
                self._step()
            except GZIP_ERRORS as e:
                self._error = e  # raised once what came before it is handed out
        if not self._out and self._error is not None:
            raise self._error
        size = len(self._out) if n < 0 else min(n, len(self._out))
        data = bytes(self._out[:size])
        del self._out[:size]
        return data

    def _step(self) -> None:
        if self._z.eof:  # a member ended: another member, zero padding, or the end follows
            rest, self._z, self._in_member = self._z.unused_data, zlib.decompressobj(wbits=31), False
            if rest:
                self._feed(rest)
                return
        chunk = self._raw.read(2**20)
        if chunk:
            self._feed(chunk)
        elif self._in_member:
            raise EOFError("Compressed file ended before the end-of-stream marker was reached")
        else:
            self._eof = True

    def _feed(self, data: bytes) -> None:
        if not self._in_member:
            data = data.lstrip(b"\0")
            if not data:
                return
            self._in_member = True
        self._out += self._z.decompress(data)

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> _Gunzip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_log(path: str, kind: str, start: int) -> BinaryIO:
    if kind == "gz":
        return cast(BinaryIO, _Gunzip(path))
    fh = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    fh.seek(start)
    return fh
