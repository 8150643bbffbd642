"""The bad-input corpus through both load paths.

Exact good-row count per file, one quarantine row (with line number and raw bytes) per bad line,
blank lines counted not quarantined, no phantom rows, nothing silently dropped or narrowed, and
the DuckDB fast path (WAREHOUSE_FAST_MIN_BYTES=1), the bulk line path (ingest/bulk.py) and the
exact line reader give identical databases.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import badinput_support as bad
import pytest
from ingest_support import content_hash, rows

from ingest import ingest_runs
from warehouse.store.db import open_reader, open_writer

MANIFEST_SQL = """
SELECT relpath, good_lines, bad_lines, blank_lines, pending_bytes, ingested_lines, ingested_bytes,
       (SELECT count(*) FROM records r WHERE r.file_id = f.file_id),
       (SELECT list(line_no ORDER BY line_no) FROM quarantine q WHERE q.file_id = f.file_id)
FROM files f ORDER BY relpath
"""


def _rec(db: Path, relpath: str, line_no: int, expr: str) -> Any:
    found = rows(
        db,
        f"SELECT {expr} FROM records r JOIN files f USING (file_id) WHERE f.relpath = ? AND r.line_no = ?",
        [relpath, line_no],
    )
    assert len(found) == 1, (relpath, line_no, found)
    return found[0][0] if len(found[0]) == 1 else found[0]


@pytest.fixture(scope="module")
def corpus(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[str, bad.Expect], dict[str, Path]]]:
    root = tmp_path_factory.mktemp("badinput")
    runs = root / "runs"
    expect = bad.build(runs)
    expect["bad/trunc.jsonl.gz"] = bad.truncated_gz_expect(runs)
    dbs = {name: root / name / "runs.duckdb" for name in ("fast", "bulk", "exact")}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WAREHOUSE_FAST_MIN_BYTES", "1")
        fast = ingest_runs(str(runs), str(dbs["fast"]))
    with pytest.MonkeyPatch.context() as mp:  # every file through the bulk line path
        mp.setenv("WAREHOUSE_BULK_MIN_BYTES", "0")
        assert ingest_runs(str(runs), str(dbs["bulk"])).files_fast_path == 0
    exact = ingest_runs(str(runs), str(dbs["exact"]), fast=False)
    assert fast.files_fast_path > 0 and exact.files_fast_path == 0
    total_lines = sum(e.good + e.bad + e.blank for e in expect.values())
    print(
        f"\nbad-input corpus: {len(expect)} files, {total_lines} lines; fast path took "
        f"{fast.files_fast_path} files; quarantined {exact.lines_quarantined}, blank "
        f"{exact.lines_blank}; ingest {fast.seconds:.1f} s (fast) / {exact.seconds:.1f} s (exact)"
    )
    yield runs, expect, dbs


@pytest.mark.parametrize("path", ["fast", "bulk", "exact"])
def test_exact_counts_per_file_and_one_quarantine_row_per_bad_line(
    corpus: tuple[Path, dict[str, bad.Expect], dict[str, Path]], path: str
) -> None:
    _runs, expect, dbs = corpus
    got = {r[0]: r[1:] for r in rows(dbs[path], MANIFEST_SQL)}
    assert set(got) == set(expect)
    for relpath, e in expect.items():
        good, bad_n, blank, pending, lines, _bytes, records, q_lines = got[relpath]
        assert (good, bad_n, blank, pending) == (e.good + e.extra_good, e.bad, e.blank, e.pending), relpath
        assert records == good, relpath  # no phantom rows, no lost rows
        assert (q_lines or []) == e.bad_line_nos, relpath
        assert lines == e.good + e.bad + e.blank, relpath  # every complete line is accounted for
    total = rows(dbs[path], "SELECT (SELECT count(*) FROM records), (SELECT count(*) FROM quarantine)")[0]
    assert total == (
        sum(e.good + e.extra_good for e in expect.values()),
        sum(e.bad for e in expect.values()),
    )


def test_fast_and_exact_paths_build_identical_databases(
    corpus: tuple[Path, dict[str, bad.Expect], dict[str, Path]],
) -> None:
    _runs, _expect, dbs = corpus
    drift = "SELECT key, kind, n_lines FROM schema_drift ORDER BY ALL"
    for path in ("fast", "bulk"):
        assert content_hash(dbs[path]) == content_hash(dbs["exact"]), path
        assert rows(dbs[path], MANIFEST_SQL) == rows(dbs["exact"], MANIFEST_SQL), path
        assert rows(dbs[path], drift) == rows(dbs["exact"], drift), path


@pytest.mark.parametrize("path", ["fast", "bulk", "exact"])
def test_each_line_is_kept_as_logged(
    corpus: tuple[Path, dict[str, bad.Expect], dict[str, Path]], path: str
) -> None:
    """No phantom all-NULL rows: every record holds its line as logged (less a BOM and the \\r of
    a CRLF; the record after a torn line glued to it is the line's tail)."""
    runs, _expect, dbs = corpus
    got = rows(dbs[path], "SELECT f.relpath, r.line_no, r.line FROM records r JOIN files f USING (file_id)")
    assert len(got) > 30_000
    files: dict[str, list[bytes]] = {}
    for relpath, line_no, line in got:
        assert line and line.startswith("{"), (relpath, line_no)
        if relpath.endswith(".gz"):
            continue
        if relpath not in files:
            files[relpath] = (runs / relpath).read_bytes().split(b"\n")
        logged = files[relpath][line_no - 1].removeprefix(b"\xef\xbb\xbf").removesuffix(b"\r")
        assert logged.decode().endswith(line), (relpath, line_no)


@pytest.mark.parametrize("path", ["fast", "bulk", "exact"])
def test_quarantine_keeps_the_raw_bytes_of_each_bad_line(
    corpus: tuple[Path, dict[str, bad.Expect], dict[str, Path]], path: str
) -> None:
    runs, expect, dbs = corpus
    got = rows(
        dbs[path],
        "SELECT f.relpath, q.line_no, q.raw, q.error FROM quarantine q JOIN files f USING (file_id)"
        " ORDER BY ALL",
    )
    for relpath, line_no, raw, error in got:
        assert error, (relpath, line_no)
        if relpath.endswith(".gz"):
            continue
        line = (runs / relpath).read_bytes().split(b"\n")[line_no - 1]
        if error.startswith("torn line"):
            assert line.startswith(raw) and len(raw) < len(line)  # the cut part; the rest loaded
        else:
            assert raw == line, (relpath, line_no)
    assert len(got) == sum(e.bad for e in expect.values())


@pytest.mark.parametrize("path", ["fast", "bulk", "exact"])
def test_type_drift_keeps_the_raw_value_and_nulls_the_typed_column(
    corpus: tuple[Path, dict[str, bad.Expect], dict[str, Path]], path: str
) -> None:
    _runs, _expect, dbs = corpus
    db, drift = dbs[path], "bad/drift30k.jsonl"
    row = _rec(
        db,
        drift,
        bad.DRIFT_ROW,
        "r.kind, r.step, r.correct, r.duration_ms, r.student_total_tokens, r.line -> '$.step',"
        " r.line ->> '$.evaluation.correct', r.line -> '$.duration_ms',"
        " r.line ->> '$.student_usage.total_tokens'",
    )
    assert row == ("step", None, None, None, None, '"thirty thousand"', "oops", '"slow"', "many")
    typed = rows(
        db,
        "SELECT count(step), count(correct), count(duration_ms) FROM records r JOIN files f USING (file_id)"
        " WHERE f.relpath = ? AND r.kind = 'step'",
        [drift],
    )
    n_steps = bad.DRIFT_ROW + 1  # 29,999 steps before the drift row and 3 after keep their types
    assert typed == [(n_steps, n_steps, n_steps)]
    last = f"many/f{bad.MANY_FILES:02d}.jsonl"  # file #40: a new key and type changes
    row = _rec(
        db,
        last,
        7,
        "r.step, r.ts, r.line -> '$.step', r.line -> '$.ts', r.line -> '$.new_col', r.line -> '$.evaluation'",
    )
    assert row == (None, None, '"five"', '"late"', '{"x":1}', '{"correct":1}')
    assert rows(db, "SELECT first_line_no, n_lines FROM schema_drift WHERE key = 'new_col'") == [(7, 1)]


@pytest.mark.parametrize("path", ["fast", "bulk", "exact"])
def test_nothing_is_narrowed_or_dropped(
    corpus: tuple[Path, dict[str, bad.Expect], dict[str, Path]], path: str
) -> None:
    _runs, _expect, dbs = corpus
    db = dbs[path]
    # integers beyond int64 / uint64: exact text in the line, typed column NULL (no wrap)
    assert _rec(db, "bad/bigint.jsonl", 2, "r.line -> '$.step', r.step, r.student_total_tokens") == (
        str(bad.HUGE),
        None,
        None,
    )
    assert _rec(db, "bad/bigint.jsonl", 3, "r.line ->> '$.huge', r.line ->> '$.neg'") == (
        str(bad.HUGER),
        str(-bad.HUGE),
    )
    # a number beyond a double is valid JSON: kept as written
    assert _rec(db, "bad/overflow.jsonl", 2, "r.line -> '$.duration_ms'") == "1e999"
    # the depth-5000 values, nested duplicate keys: all byte for byte
    assert _rec(db, "bad/deep.jsonl", 2, "length(r.line -> '$.config')") == 2 * bad.DEEP
    novel = _rec(db, "bad/deep_new_key.jsonl", 2, "length(r.line -> '$.novel'), (r.line -> '$.novel')[:3]")
    assert novel == (6 * bad.DEEP + 1, '{"a')
    assert (
        _rec(db, "bad/dupkeys.jsonl", 4, "r.line -> '$.evaluation'") == '{"correct":true,"correct":false}'
    )  # both kept
    # BOM and CRLF are encoding, not data; escapes stay escapes
    assert _rec(db, "bad/bom.jsonl", 1, "r.kind, r.run_id") == ("header", "bom")
    assert _rec(db, "bad/crlf.jsonl", 2, "r.run_id, r.step, r.duration_ms") == ("crlf", 0, 10.5)
    assert _rec(db, "bad/ctrl.jsonl", 5, "r.line -> '$.presented_stem'") == '"escaped \\u0000 \\t ok"'
    assert _rec(db, "bad/surrogate.jsonl", 5, "r.line ->> '$.presented_stem'") == "\U0001f600"


def test_truncated_gzip_loads_every_readable_line(
    corpus: tuple[Path, dict[str, bad.Expect], dict[str, Path]],
) -> None:
    runs, expect, dbs = corpus
    data = (runs / "bad" / "trunc.jsonl.gz").read_bytes()
    readable = zlib.decompressobj(wbits=31).decompress(data)
    with pytest.raises(EOFError):
        gzip.decompress(data)
    e = expect["bad/trunc.jsonl.gz"]
    for db in dbs.values():
        (error, raw, line_no) = rows(
            db,
            "SELECT q.error, q.raw, q.line_no FROM quarantine q JOIN files f USING (file_id)"
            " WHERE f.relpath = 'bad/trunc.jsonl.gz'",
        )[0]
        assert "gzip" in error and line_no == e.good + 1
        assert raw == readable[readable.rfind(b"\n") + 1 :]  # the cut line, kept as far as it goes
        steps = rows(
            db,
            "SELECT max(step) FROM records r JOIN files f USING (file_id)"
            " WHERE f.relpath = 'bad/trunc.jsonl.gz'",
        )
        assert steps == [(e.good - 2,)]  # header + steps 0..good-2, in order


def test_torn_tail_is_held_back_then_loaded_once_complete(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    path = runs / "t.jsonl"
    full = bad.step("t", 9)
    path.parent.mkdir(parents=True)
    path.write_bytes(bad.header("t") + b"\n" + full[:30])
    for fast in (True, False):
        db = tmp_path / f"db{fast}" / "runs.duckdb"
        first = ingest_runs(str(runs), str(db), fast=fast)
        assert (first.lines_good, first.lines_quarantined) == (1, 0)
        assert rows(db, "SELECT pending_bytes FROM files") == [(30,)]
    with open(path, "ab") as fh:
        fh.write(full[30:] + b"\n")
    for fast in (True, False):
        db = tmp_path / f"db{fast}" / "runs.duckdb"
        second = ingest_runs(str(runs), str(db), fast=fast)
        assert (second.files_grown, second.lines_good, second.lines_quarantined) == (1, 1, 0)
        assert rows(db, "SELECT pending_bytes, good_lines FROM files") == [(0, 2)]
        assert rows(db, "SELECT step FROM records WHERE kind = 'step'") == [(9,)]


@pytest.mark.parametrize("path", ["fast", "bulk", "exact"])
def test_out_of_range_typed_values_are_bounded_reported_and_every_view_answers(
    corpus: tuple[Path, dict[str, bad.Expect], dict[str, Path]], path: str
) -> None:
    """A nanosecond / ms / us epoch is rescaled to seconds, a value no view can convert (1e300,
    -1e309, a token count near 2**63) is typed NULL; the line keeps it; schema_drift counts it."""
    _runs, _expect, dbs = corpus
    db = dbs[path]
    got = rows(
        db,
        "SELECT r.line_no, r.ts, r.line FROM records r JOIN files f USING (file_id)"
        " WHERE f.relpath = 'bad/range.jsonl' AND r.step BETWEEN 100 AND 199 ORDER BY r.line_no",
    )
    assert [line.endswith(f'"ts": {raw}}}') for (_n, _ts, line), raw in zip(got, bad.RANGE_TS)] == [True] * 7
    for (_n, ts, _raw), want in zip(got, bad.RANGE_TS_SECONDS, strict=True):
        assert ts == (pytest.approx(want, rel=1e-12) if want is not None else None)
    others = rows(
        db,
        "SELECT count(*) FILTER (WHERE r.step IS NULL), count(r.duration_ms), count(r.student_prompt_tokens),"
        " count(r.student_total_tokens), count(r.student_request_ms), count(r.tutor_prompt_tokens)"
        " FROM records r JOIN files f USING (file_id)"
        " WHERE f.relpath = 'bad/range.jsonl' AND r.kind = 'step'",
    )
    assert others == [(2, 0, 0, 0, 0, 0)]
    drift = dict(rows(db, "SELECT key, n_lines FROM schema_drift WHERE kind = 'value out of range'"))
    assert drift["ts"] == len(bad.RANGE_TS)  # -1e309 types as -inf: NULL
    assert drift["step"] == 2 and drift["student_usage.total_tokens"] == 1
    con = open_reader(db)
    try:
        assert bad.every_view_answers(con) == {}
    finally:
        con.close()


def test_migration_repairs_out_of_range_values_stored_before(tmp_path: Path) -> None:
    """A database that stored a nanosecond ts and a 2**63 token count before ingest bounded them:
    the migration rescales / nulls them, so its views answer again."""
    runs, db = tmp_path / "runs", tmp_path / "runs.duckdb"
    (runs / "a.jsonl").parent.mkdir(parents=True)
    (runs / "a.jsonl").write_bytes(bad.header("old") + b"\n" + bad.step("old", 0) + b"\n")
    ingest_runs(str(runs), str(db))
    with open_writer(db, "test") as con:  # as an older ingest stored them
        con.execute(
            "UPDATE records SET ts = 1757510189123456789, student_total_tokens = 9223372036854775807"
            " WHERE step = 0"
        )
        con.execute("UPDATE records SET ts = 'inf'::DOUBLE WHERE kind = 'header'")
        con.execute("DELETE FROM _migrations WHERE name = 'bound_typed'")
        assert "steps" in bad.every_view_answers(con)  # what such a database looked like
    with open_writer(db, "test") as con:  # any writer migrates
        assert con.execute("SELECT name FROM _migrations WHERE name = 'bound_typed'").fetchall()
        assert bad.every_view_answers(con) == {}
    got = rows(db, "SELECT kind, ts, student_total_tokens FROM records ORDER BY line_no")
    assert got == [("header", None, None), ("step", pytest.approx(1757510189.123456789), None)]
    drift = rows(db, "SELECT key, n_lines FROM schema_drift WHERE kind = 'value out of range' ORDER BY key")
    assert drift == [("student_usage.total_tokens", 1), ("ts", 2)]
