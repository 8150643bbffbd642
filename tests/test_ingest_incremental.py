"""Incremental behaviour: no-op, appends, torn tails completing, rewrites, deletions, moves."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

from ingest import ingest_runs
from tests.ingest_support import content_hash, rows, scalar

MIX = "exp/deepinfra_mistralai-Mixtral-8x7B-Instruct-v0.1_sc3_b8.jsonl"
TORN = "exp/openai_default_sc1_b6.jsonl"


def _step(run: str, i: int) -> str:
    return json.dumps(
        {
            "run_id": run,
            "step": i,
            "task": {"type": "mcq", "stem": f"s{i}", "options": ["a", "b"], "correct_index": 0},
            "evaluation": {"correct": True, "chosen_index": 0, "correct_index": 0},
        }
    )


def test_second_ingest_is_a_noop_and_does_not_republish(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    before = db_path.stat()
    summary = ingest_runs(str(fixture_runs), str(db_path))
    assert (summary.files_unchanged, summary.lines_good, summary.bytes_read) == (10, 0, 0)
    assert summary.load_id is None
    after = db_path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert scalar(db_path, "SELECT count(*) FROM ingest_log") == 1


def test_append_reads_only_the_new_bytes(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    line = _step("run-b", 2) + "\n"
    with open(fixture_runs / MIX, "a") as fh:
        fh.write(line)
    summary = ingest_runs(str(fixture_runs), str(db_path))
    assert (summary.files_grown, summary.lines_good, summary.bytes_read) == (1, 1, len(line))
    got = rows(db_path, "SELECT run_key, line_no FROM records WHERE step = 2 AND run_key = 'run-b'")
    assert got == [("run-b", 8)]  # attached to the last run of the file


def test_torn_tail_is_ingested_once_complete(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    path = fixture_runs / TORN
    torn_start = path.read_bytes().rfind(b"\n") + 1
    full = json.loads(json.dumps({"run_id": "run-c", "step": 1}))
    with open(path, "r+b") as fh:  # the writer finishes its line
        fh.truncate(torn_start)
        fh.seek(torn_start)
        fh.write((json.dumps(full) + "\n").encode())
    summary = ingest_runs(str(fixture_runs), str(db_path))
    assert summary.files_grown == 1 and summary.lines_good == 1 and summary.lines_quarantined == 0
    assert scalar(db_path, "SELECT count(*) FROM records WHERE run_key = 'run-c'") == 3
    assert scalar(db_path, f"SELECT pending_bytes FROM files WHERE relpath = '{TORN}'") == 0


def test_rewritten_file_replaces_its_rows(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    path = fixture_runs / MIX
    first = path.read_text().splitlines()[:2]
    path.write_text("\n".join(first) + "\n")  # truncated and rewritten
    summary = ingest_runs(str(fixture_runs), str(db_path))
    assert summary.files_rewritten == 1
    got = rows(
        db_path,
        f"""SELECT count(*), max(line_no) FROM records JOIN files USING (file_id)
                            WHERE relpath = '{MIX}'""",
    )
    assert got == [(2, 2)]
    assert scalar(db_path, f"SELECT good_lines FROM files WHERE relpath = '{MIX}'") == 2


def test_same_size_edit_is_detected_by_fingerprint(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    path = fixture_runs / MIX
    data = path.read_bytes().replace(b'"run-a"', b'"run-z"', 1)
    stat = path.stat()
    path.write_bytes(data)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    summary = ingest_runs(str(fixture_runs), str(db_path))
    assert summary.files_rewritten == 1
    assert scalar(db_path, "SELECT count(*) FROM records WHERE kind = 'header' AND run_id = 'run-z'") == 1


def test_deleted_file_keeps_rows_marked_missing(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    (fixture_runs / MIX).unlink()
    summary = ingest_runs(str(fixture_runs), str(db_path))
    assert summary.files_missing == 1
    assert rows(db_path, f"SELECT status FROM files WHERE relpath = '{MIX}'") == [("missing",)]
    assert scalar(db_path, "SELECT count(*) FROM records WHERE run_key IN ('run-a', 'run-b')") == 7


def test_gz_log_and_truncated_gz(fixture_runs: Path, db_path: Path) -> None:
    data = gzip.compress((_step("gz", 0) + "\n" + _step("gz", 1) + "\n").encode())
    (fixture_runs / "exp" / "broken.jsonl.gz").write_bytes(data[:-12])  # lost its trailer
    summary = ingest_runs(str(fixture_runs), str(db_path))
    assert scalar(db_path, "SELECT count(*) FROM records WHERE run_key = 'run-i'") == 3
    errors = rows(
        db_path,
        """SELECT q.error FROM quarantine q JOIN files f USING (file_id)
                              WHERE f.relpath = 'exp/broken.jsonl.gz'""",
    )
    assert len(errors) == 1 and "gzip" in errors[0][0]
    assert summary.lines_quarantined == 4


def test_ingest_twice_equals_ingest_once(fixture_runs: Path, db_path: Path, tmp_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    with open(fixture_runs / MIX, "a") as fh:
        fh.write(_step("run-b", 2) + "\n")
    ingest_runs(str(fixture_runs), str(db_path))
    fresh = tmp_path / "fresh" / "runs.duckdb"
    ingest_runs(str(fixture_runs), str(fresh))
    assert content_hash(db_path) == content_hash(fresh)


def test_many_grown_files_leave_the_unchanged_ones_present(tmp_path: Path) -> None:
    """More changed files than planning looks up one by one (ingest/manifest.py read_known):
    the files that did not change are still unchanged, not missing."""
    runs, db = tmp_path / "runs", tmp_path / "db" / "runs.duckdb"
    runs.mkdir()
    for i in range(80):
        (runs / f"f{i:03d}.jsonl").write_text(_step(f"r{i}", 0) + "\n", encoding="utf-8")
    ingest_runs(str(runs), str(db))
    for i in range(70):
        with open(runs / f"f{i:03d}.jsonl", "a", encoding="utf-8") as fh:
            fh.write(_step(f"r{i}", 1) + "\n")
    summary = ingest_runs(str(runs), str(db))
    assert (summary.files_grown, summary.files_unchanged, summary.files_missing) == (70, 10, 0)
    assert rows(db, "SELECT status, count(*) FROM files GROUP BY status") == [("present", 80)]


def test_one_line_ingests_do_not_grow_the_database(fixture_runs: Path, db_path: Path) -> None:
    """Each CHECKPOINT appends a row group per table it appended to; small ingests vacuum them
    (without it, every one-line ingest left a block behind for good)."""

    def blocks() -> int:
        return scalar(db_path, "SELECT total_blocks FROM pragma_database_size()")

    ingest_runs(str(fixture_runs), str(db_path))
    sizes = []
    for i in range(12):
        with open(fixture_runs / MIX, "a") as fh:
            fh.write(_step("run-b", 100 + i) + "\n")
        assert ingest_runs(str(fixture_runs), str(db_path)).lines_good == 1
        sizes.append(blocks())
    assert sizes[-1] <= sizes[2] + 1, sizes
    assert scalar(db_path, "SELECT count(*) FROM records WHERE step >= 100") == 12
