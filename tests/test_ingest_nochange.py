"""The no-op check without DuckDB (ingest/nochange.py): fast when nothing changed, never blind to a change."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import ingest_runs
from ingest.nochange import record_path
from tests.ingest_support import scalar

LOG = "exp/openai_default_sc1_b6.jsonl"


def _noop_in_child(runs: Path, db: Path) -> dict[str, object]:
    """A one-shot ingest in a fresh process: its summary, and whether it imported duckdb."""
    code = (
        "import json, sys\nfrom ingest import ingest_runs\n"
        "s = ingest_runs(sys.argv[1], sys.argv[2])\n"
        "print(json.dumps({**s.as_dict(), 'duckdb': 'duckdb' in sys.modules}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(runs), str(db)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout)


def test_noop_after_an_ingest_does_not_import_duckdb(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    assert record_path(db_path).exists()
    got = _noop_in_child(fixture_runs, db_path)
    assert (got["files_unchanged"], got["load_id"], got["lines_good"], got["duckdb"]) == (10, None, 0, False)


def test_an_append_after_a_recorded_noop_is_loaded(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    assert _noop_in_child(fixture_runs, db_path)["duckdb"] is False
    with open(fixture_runs / LOG, "a") as fh:
        fh.write(json.dumps({"run_id": "run-c", "step": 9}) + "\n")
    summary = ingest_runs(str(fixture_runs), str(db_path))
    assert (summary.files_grown, summary.lines_good) == (1, 1)
    # The writer recorded its own snapshot: the next no-op needs no DuckDB again.
    assert _noop_in_child(fixture_runs, db_path)["duckdb"] is False


def test_same_size_edit_and_new_inode_are_not_taken_for_a_noop(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    path = fixture_runs / LOG
    st = path.stat()
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"step": 1', b'"step": 7', 1))  # same size, new mtime
    assert path.stat().st_size == st.st_size
    assert ingest_runs(str(fixture_runs), str(db_path)).files_rewritten == 1
    # A copy put in place keeps size and mtime, not the inode: re-read whole too.
    st = path.stat()
    shutil.copy2(path, fixture_runs / "copy.tmp")
    os.replace(fixture_runs / "copy.tmp", path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert ingest_runs(str(fixture_runs), str(db_path)).files_rewritten == 1


def test_changed_settings_or_another_snapshot_take_the_duckdb_check(
    fixture_runs: Path, db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    config = tmp_path / "warehouse.toml"
    config.write_text('[models]\n"house-model" = "openai/gpt-4o"\n', encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setenv("WAREHOUSE_CONFIG", str(config))
        got = _noop_in_child(fixture_runs, db_path)
    assert got["duckdb"] is True  # the model names changed: the database must learn them
    assert scalar(db_path, "SELECT count(*) FROM ingest_log") == 2
    # A record that names another snapshot than the one published proves nothing.
    entry = json.loads(record_path(db_path).read_text(encoding="utf-8"))
    entry["snapshot"] = "1-2-3"
    record_path(db_path).write_text(json.dumps(entry), encoding="utf-8")
    assert _noop_in_child(fixture_runs, db_path)["duckdb"] is True


def test_a_new_file_and_a_deleted_one_are_seen(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    shutil.copy(fixture_runs / LOG, fixture_runs / "exp" / "another_sc1_b6.jsonl")
    assert ingest_runs(str(fixture_runs), str(db_path)).files_new == 1
    (fixture_runs / "exp" / "another_sc1_b6.jsonl").unlink()
    assert ingest_runs(str(fixture_runs), str(db_path)).files_missing == 1
    assert _noop_in_child(fixture_runs, db_path)["files_unchanged"] == 10


def test_a_writer_round_with_nothing_to_do_leaves_the_noop_fast(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    record_path(db_path).unlink()
    before = db_path.stat()
    summary = ingest_runs(str(fixture_runs), str(db_path), direct=True)  # as a watch round does
    assert (summary.load_id, summary.files_unchanged) == (None, 10)
    assert (db_path.stat().st_ino, db_path.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    # The writer's live copy is left, still equal to the snapshot: no unpublished work.
    assert _noop_in_child(fixture_runs, db_path)["duckdb"] is False
    with open(fixture_runs / LOG, "a") as fh:
        fh.write(json.dumps({"run_id": "run-c", "step": 9}) + "\n")
    assert ingest_runs(str(fixture_runs), str(db_path), direct=True).lines_good == 1
