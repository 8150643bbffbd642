"""Property-based fuzzing of the exact line reader (ingest/lines.py read_stream/take_line).

Valid JSONL is generated, then lines are mutated at random (cut, glued, bytes inserted, replaced
or deleted, NaN, invalid UTF-8, blanked, newlines inserted). An independent reference (Python's
strict json) classifies each resulting line. Invariants: every line is counted exactly once
(good, quarantined or blank; a torn line with a record glued on counts both), good lines are
never lost (same bytes, same line number), bad lines are always quarantined with their bytes,
offsets point at the bytes, and the counts add up. The .gz reader returns exactly the bytes
gzip wrote, and every byte before a cut.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import os
import tempfile
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.lines import FileRead, Sink, open_log, read_stream
from warehouse.core.logformat import KNOWN_KEYS

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEAVY = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
records = st.dictionaries(st.sampled_from([*KNOWN_KEYS[:12], "novel", "x"]), values, min_size=1, max_size=5)


@st.composite
def record_lines(draw: st.DrawFn) -> bytes:
    rec = draw(records)
    return json.dumps(rec, ensure_ascii=draw(st.booleans())).encode()


MUTATIONS = ("cut", "insert", "replace", "delete", "glue", "blank", "nan", "utf8", "newline", "scalar")


@st.composite
def mutated_lines(draw: st.DrawFn) -> list[bytes]:
    lines = draw(st.lists(record_lines(), min_size=1, max_size=12))
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        line, kind = lines[i], draw(st.sampled_from(MUTATIONS))
        pos = draw(st.integers(0, max(len(line) - 1, 0)))
        if kind == "cut":
            lines[i] = line[:pos]
        elif kind == "insert":
            lines[i] = line[:pos] + draw(st.binary(min_size=1, max_size=3)) + line[pos:]
        elif kind == "replace" and line:
            lines[i] = line[:pos] + bytes([draw(st.integers(0, 255))]) + line[pos + 1 :]
        elif kind == "delete":
            lines[i] = line[:pos] + line[pos + draw(st.integers(1, 4)) :]
        elif kind == "glue":
            lines[i] = line[:pos] + lines[draw(st.integers(0, len(lines) - 1))]
        elif kind == "blank":
            lines[i] = draw(st.sampled_from([b"", b" ", b"\t", b"\r", b"  \t "]))
        elif kind == "nan" and line.endswith(b"}"):
            lines[i] = line[:-1] + (b', "nan": NaN}' if len(line) > 2 else b'"nan": NaN}')
        elif kind == "utf8":
            lines[i] = line[:pos] + b"\xff" + line[pos:]
        elif kind == "newline":
            lines[i] = line[:pos] + b"\n" + line[pos:]
        elif kind == "scalar":
            lines[i] = draw(st.sampled_from([b"1", b'"s"', b"[]", b"null", b"[{}]"]))
    return b"\n".join(lines).split(b"\n")  # inserted newlines make more lines


def reference_object(line: bytes) -> bool:
    """Strict JSON object, by Python's json (not the reader's orjson): UTF-8, no NaN/Infinity, no
    lone surrogate escapes (DuckDB and orjson refuse "\\ud800"; Python's json takes it)."""

    def no_constants(name: str) -> Any:
        raise ValueError(name)

    try:
        obj = json.loads(line.decode("utf-8"), parse_constant=no_constants)
        json.dumps(obj, ensure_ascii=False).encode("utf-8")  # a lone surrogate escape is not text
    except (ValueError, UnicodeError, RecursionError):
        return False
    return isinstance(obj, dict)


def run_reader(data: bytes, start: int, start_line: int, complete_tail: bool) -> tuple[Sink, FileRead]:
    sink = Sink()
    *_, read = read_stream(io.BytesIO(data[start:]), 7, start, start_line, sink, complete_tail)
    return sink, read


def check(lines: list[bytes], tail: bytes, first: int, complete_tail: bool) -> None:
    data = b"".join(line + b"\n" for line in lines) + tail
    start = sum(len(line) + 1 for line in lines[:first])
    sink, read = run_reader(data, start, first, complete_tail)
    todo = lines[first:] + ([tail] if tail and complete_tail else [])
    goods = {(n, o): raw for n, o, raw in zip(sink.line_nos, sink.offsets, sink.raws, strict=True)}
    bads = {(b[1], b[2]): b[4] for b in sink.bad}
    assert len(goods) == len(sink.raws) and len(bads) == len(sink.bad)  # no line twice
    glued = 0
    offset = start
    for line_no, line in enumerate(todo, start=first + 1):
        body, at = line, offset
        if offset == 0 and line.startswith(b"\xef\xbb\xbf"):
            body, at = line[3:], 3
        if not body.strip():
            assert (line_no, at) not in goods and (line_no, at) not in bads
        elif reference_object(body):
            assert goods.get((line_no, at)) == body.decode("utf-8"), (line_no, body)  # never lost
        else:
            assert bads.get((line_no, at)) is not None, (line_no, body)  # always quarantined
            cut = bads[(line_no, at)]
            if cut != body:  # a torn line with a record glued on: the record is loaded
                rest = body[len(cut) :]
                assert body.startswith(cut) and reference_object(rest)
                assert goods.get((line_no, at + len(cut))) == rest.decode("utf-8")
                glued += 1
        offset += len(line) + 1
    for (_n, o), raw in goods.items():
        assert data[o : o + len(raw.encode())] == raw.encode()  # offsets point at the bytes
    n_lines = len(todo)
    assert read.lines == first + n_lines
    assert read.good + read.bad + read.blank == n_lines + glued  # the counts add up
    assert (read.good, read.bad) == (len(sink.raws), len(sink.bad))
    assert read.pending == (0 if complete_tail else len(tail))
    assert read.end == len(data) - read.pending


@FUZZ
@given(mutated_lines(), st.binary(max_size=20), st.data())
def test_every_mutated_line_is_loaded_quarantined_or_blank(
    lines: list[bytes], tail: bytes, data: st.DataObject
) -> None:
    tail = tail.replace(b"\n", b"")
    first = data.draw(st.integers(0, len(lines)))  # an incremental read from a line boundary
    check(lines, tail, first, complete_tail=False)
    check(lines, tail, 0, complete_tail=True)


@pytest.mark.heavy
@HEAVY
@given(mutated_lines(), st.binary(max_size=20), st.data())
def test_every_mutated_line_is_loaded_quarantined_or_blank_long(
    lines: list[bytes], tail: bytes, data: st.DataObject
) -> None:
    tail = tail.replace(b"\n", b"")
    check(lines, tail, data.draw(st.integers(0, len(lines))), complete_tail=False)
    check(lines, tail, 0, complete_tail=True)


@FUZZ
@given(st.lists(record_lines(), min_size=1, max_size=8))
def test_a_bom_at_file_start_is_encoding_not_data(lines: list[bytes]) -> None:
    check([b"\xef\xbb\xbf" + lines[0], *lines[1:]], b"", 0, complete_tail=False)
    sink, read = run_reader(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n", 0, 0, False)
    assert read.bad == 0 and read.good == len(lines) and sink.offsets[0] == 3


def _gunzip(blob: bytes) -> tuple[bytes, BaseException | None]:
    """What open_log reads from a .gz holding `blob`: the bytes, then the error if any."""
    fd, path = tempfile.mkstemp(suffix=".jsonl.gz")
    out, error = b"", None
    try:
        os.write(fd, blob)
        os.close(fd)
        with open_log(path, "gz", 0) as stream:
            try:
                while piece := stream.read(1000):
                    out += piece
            except (EOFError, zlib.error, OSError) as e:
                error = e
    finally:
        os.unlink(path)
    return out, error


@FUZZ
@given(st.binary(max_size=5000), st.lists(st.integers(0, 5000), max_size=3), st.integers(0, 3))
def test_gz_reader_returns_what_gzip_wrote(data: bytes, cuts: list[int], padding: int) -> None:
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    members = [gzip.compress(data[a:b]) for a, b in itertools.pairwise(points)] or [gzip.compress(b"")]
    blob = (b"\0" * padding).join(members)
    out, error = _gunzip(blob)
    assert error is None and out == data == gzip.decompress(blob)


@FUZZ
@given(st.binary(min_size=1, max_size=20000), st.integers(1, 10**6))
def test_gz_reader_returns_every_byte_before_a_cut(data: bytes, where: int) -> None:
    blob = gzip.compress(data, compresslevel=1)
    cut = blob[: where % len(blob)]
    out, error = _gunzip(cut)
    readable = zlib.decompressobj(wbits=31).decompress(cut)
    assert out == readable and data.startswith(out)  # everything decodable, nothing invented
    assert error is not None or (not cut and out == b"")
