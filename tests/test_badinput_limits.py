"""Bad input at the edges of what an ingest holds: lines longer than the limit (quarantined with
their first bytes, memory independent of their length), file names that are not UTF-8.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import badinput_support as bad
import pytest
from ingest_support import content_hash, rows

from ingest import ingest_runs
from warehouse.core.config import DEFAULT_MAX_LINE_BYTES, parse_config

BIG_LIMIT = parse_config({"ingest": {"max_line_bytes": 64 * 2**20}})


def test_a_50_mb_line_loads_whole_on_both_paths_under_a_raised_limit(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    expect = bad.build_big_line(runs)["bad/bigline.jsonl"]
    dbs = {"fast": tmp_path / "fast" / "runs.duckdb", "exact": tmp_path / "exact" / "runs.duckdb"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WAREHOUSE_FAST_MIN_BYTES", "1")
        assert ingest_runs(str(runs), str(dbs["fast"]), config=BIG_LIMIT).files_fast_path == 1
    ingest_runs(str(runs), str(dbs["exact"]), fast=False, config=BIG_LIMIT)
    for db in dbs.values():
        assert rows(db, "SELECT good_lines, bad_lines FROM files") == [(expect.good, 0)]
        got = rows(db, "SELECT line_no, length(line -> '$.presented_stem') FROM records ORDER BY line_no")
        assert got == [(1, None), (2, bad.BIG_LINE_BYTES + 2), (3, len('"short"'))]
    assert content_hash(dbs["fast"]) == content_hash(dbs["exact"])


def test_a_line_past_max_line_bytes_is_quarantined_with_its_first_bytes(tmp_path: Path) -> None:
    """The default limit (16 MiB): the 50 MB line is quarantined with the reason and a bounded
    prefix, the lines around it load, both paths agree."""
    runs = tmp_path / "runs"
    bad.build_big_line(runs)
    dbs = {"fast": tmp_path / "fast" / "runs.duckdb", "exact": tmp_path / "exact" / "runs.duckdb"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WAREHOUSE_FAST_MIN_BYTES", "1")
        assert ingest_runs(str(runs), str(dbs["fast"])).files_fast_path == 0  # left to the exact path
    ingest_runs(str(runs), str(dbs["exact"]), fast=False)
    line = (runs / "bad" / "bigline.jsonl").read_bytes().split(b"\n")[1]
    for db in dbs.values():
        assert rows(db, "SELECT good_lines, bad_lines, blank_lines FROM files") == [(2, 1, 0)]
        assert rows(db, "SELECT line_no FROM records ORDER BY 1") == [(1,), (3,)]
        ((line_no, error, raw),) = rows(db, "SELECT line_no, error, raw FROM quarantine")
        assert line_no == 2 and f"line of {len(line)} bytes" in error and str(DEFAULT_MAX_LINE_BYTES) in error
        assert line.startswith(raw) and len(raw) == 64 * 2**10
    assert content_hash(dbs["fast"]) == content_hash(dbs["exact"])


@pytest.mark.parametrize("limit", [4096, 10_000, 2**20])
def test_the_limit_is_exact_on_both_paths_and_a_torn_long_tail_waits(tmp_path: Path, limit: int) -> None:
    """Lines of limit - 1, limit and limit + 1 bytes (between chunk reads too), and a long line
    still being written: held back as pending, then quarantined once complete."""
    config = parse_config({"ingest": {"max_line_bytes": limit}})
    runs = tmp_path / "runs"
    runs.mkdir()

    def sized(n: int, i: int) -> bytes:
        head = f'{{"run_id": "lim", "step": {i}, "presented_stem": "'.encode()
        return head + b"y" * (n - len(head) - 2) + b'"}'

    body = [bad.header("lim")] + [sized(limit + d, i) for i, d in enumerate((-1, 0, 1, 5000, 0))]
    path = runs / "lim.jsonl"
    path.write_bytes(b"\n".join(body) + b"\n" + sized(limit + 100, 9)[: limit + 50])
    dbs = {"fast": tmp_path / "fast" / "runs.duckdb", "exact": tmp_path / "exact" / "runs.duckdb"}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WAREHOUSE_FAST_MIN_BYTES", "1")
        ingest_runs(str(runs), str(dbs["fast"]), config=config)
    ingest_runs(str(runs), str(dbs["exact"]), fast=False, config=config)
    for db in dbs.values():
        assert rows(db, "SELECT line_no FROM quarantine ORDER BY 1") == [(4,), (5,)]
        loaded = rows(db, "SELECT count(*), sum(strlen(line)) FROM records")
        assert loaded == [(4, len(body[0]) + 3 * limit - 1)]
        assert rows(db, "SELECT pending_bytes FROM files") == [(limit + 50,)]
    with open(path, "ab") as fh:
        fh.write(sized(limit + 100, 9)[limit + 50 :] + b"\n")
    for fast, db in (("1", dbs["fast"]), (None, dbs["exact"])):
        ingest_runs(str(runs), str(db), config=config, fast=fast is not None)
        assert rows(db, "SELECT line_no FROM quarantine ORDER BY 1") == [(4,), (5,), (7,)]
        assert rows(db, "SELECT pending_bytes, bad_lines FROM files") == [(0, 3)]


_RSS = textwrap.dedent(
    """
    import resource, sys
    from ingest import ingest_runs
    ingest_runs(sys.argv[1], sys.argv[2], fast=sys.argv[3] == "fast")
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """
)


def _peak_kib(runs: Path, db: Path, path: str) -> int:
    env = {**os.environ, "WAREHOUSE_FAST_MIN_BYTES": "1"}
    argv = [sys.executable, "-c", _RSS, str(runs), str(db), path]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    return int(done.stdout.split()[-1])


@pytest.mark.parametrize("path", ["fast", "exact"])
def test_memory_does_not_grow_with_the_length_of_a_line(tmp_path: Path, path: str) -> None:
    """Peak RSS of an ingest of a 200 MB line, against one of short lines: within 2 chunks and the
    limit (before the limit, the 50 MB line alone took ~600 MB on either path)."""
    small, big = tmp_path / "small", tmp_path / "big"
    small.mkdir()
    big.mkdir()
    (small / "s.jsonl").write_bytes(b"\n".join([bad.header("s"), bad.step("s", 0), bad.step("s", 1)]) + b"\n")
    huge = bad.step("b", 0, presented_stem="z" * 200 * 2**20)
    (big / "b.jsonl").write_bytes(b"\n".join([bad.header("b"), huge, bad.step("b", 1)]) + b"\n")
    base = _peak_kib(small, tmp_path / "s.duckdb", path)
    peak = _peak_kib(big, tmp_path / "b.duckdb", path)
    assert peak - base < 100 * 2**10, (base, peak)  # KiB
    assert rows(tmp_path / "b.duckdb", "SELECT good_lines, bad_lines FROM files") == [(2, 1)]


@pytest.mark.parametrize("fast", [True, False])
def test_file_names_that_are_not_utf8_are_skipped_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: bool
) -> None:
    """A log (and a folder) whose name is not valid UTF-8 cannot be stored as a path (text): it is
    left out and reported, every other file loads, and renamed it loads."""
    monkeypatch.setenv("WAREHOUSE_FAST_MIN_BYTES", "1")
    runs, db = tmp_path / "runs", tmp_path / "runs.duckdb"
    (runs / "ok").mkdir(parents=True)
    (runs / "ok" / "a.jsonl").write_bytes(bad.header("ok") + b"\n" + bad.step("ok", 0) + b"\n")
    raw_runs = bytes(runs)
    os.makedirs(raw_runs + b"/d\xff")
    for name in (b"/bad\xfe.jsonl", b"/d\xff/x.jsonl"):
        with open(raw_runs + name, "wb") as fh:
            fh.write(bad.header("nu") + b"\n")
    summary = ingest_runs(str(runs), str(db), fast=fast)
    assert (summary.files_new, summary.lines_good, summary.files_unreadable) == (1, 2, 2)
    assert sorted(summary.unreadable_examples) == [
        "bad\\xfe.jsonl: name is not valid UTF-8; rename it",
        "d\\xff: name is not valid UTF-8; rename it",
    ]
    assert "2 file(s) or folder(s) could not be read" in summary.line()
    os.rename(raw_runs + b"/bad\xfe.jsonl", raw_runs + b"/renamed.jsonl")
    again = ingest_runs(str(runs), str(db), fast=fast)
    assert (again.files_new, again.files_unreadable) == (1, 1)
    assert rows(db, "SELECT relpath FROM files ORDER BY 1") == [("ok/a.jsonl",), ("renamed.jsonl",)]


@pytest.mark.parametrize("fast", [True, False])
def test_a_same_size_edit_in_the_middle_of_a_big_file_is_picked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast: bool
) -> None:
    """An edit past the first 64 KiB and before the last 4 KiB that keeps the size: the head and
    tail fingerprints match, so the size rule re-reads the file (not 'grown' with 0 lines read)."""
    monkeypatch.setenv("WAREHOUSE_FAST_MIN_BYTES", "1")
    runs, db = tmp_path / "runs", tmp_path / "runs.duckdb"
    runs.mkdir()
    path = runs / "mid.jsonl"
    lines = [bad.header("mid")] + [bad.step("mid", i, presented_stem="w" * 200) for i in range(1000)]
    data = b"\n".join(lines) + b"\n"
    assert len(data) > 4 * 64 * 2**10
    path.write_bytes(data)
    ingest_runs(str(runs), str(db), fast=fast)
    middle = data.index(b"w" * 200, data.index(b'"step": 500,'))
    edited = data[:middle] + b"QQQ" + data[middle + 3 :]
    assert len(edited) == len(data)
    before = path.stat()
    path.write_bytes(edited)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
    summary = ingest_runs(str(runs), str(db), fast=fast)
    assert (summary.files_rewritten, summary.files_grown, summary.lines_good) == (1, 0, 1001)
    assert rows(db, "SELECT step FROM records WHERE contains(line, 'QQQ')") == [(500,)]
    assert rows(db, "SELECT count(*) FROM records") == [(1001,)]
