"""The spare copy of the published snapshot (warehouse/store/spare.py): made after a publish, taken by
the next writer only while it matches the snapshot published now, swept otherwise."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from ingest import ingest_runs
from tests.ingest_support import scalar
from tests.reliability_support import cli
from warehouse.store import spare
from warehouse.store.db import open_writer
from warehouse.store.snapshot import paths_for, seeded_from

MIX = "exp/deepinfra_mistralai-Mixtral-8x7B-Instruct-v0.1_sc3_b8.jsonl"
STEP = '{"run_id": "run-b", "step": 2, "evaluation": {"correct": true}}\n'


def _wait_for_spare(db: Path, timeout: float = 30.0) -> Path:
    current = spare.stamp(db)
    assert current is not None
    target = spare.spare_path(db, current)
    deadline = time.monotonic() + timeout
    while not target.exists():
        assert time.monotonic() < deadline, f"no spare {target.name} after {timeout} s"
        time.sleep(0.02)
    return target


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_next_write_starts_from_the_spare(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    made = _wait_for_spare(db_path)
    assert _sha256(made) == _sha256(db_path)  # a byte copy of the snapshot it is named after
    spare_inode = made.stat().st_ino
    with open(fixture_runs / MIX, "a", encoding="utf-8") as fh:
        fh.write(STEP)
    summary = ingest_runs(str(fixture_runs), str(db_path))
    assert summary.lines_good == 1
    assert db_path.stat().st_ino == spare_inode  # the spare became the new snapshot: no copy made
    assert not made.exists()
    assert scalar(db_path, "SELECT count(*) FROM records WHERE run_key = 'run-b' AND step = 2") == 1
    assert _wait_for_spare(db_path) != made  # and a spare of the new snapshot follows


def test_a_spare_of_an_older_snapshot_is_swept_not_used(
    fixture_runs: Path, db_path: Path, tmp_path: Path
) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    first = _wait_for_spare(db_path)
    kept = tmp_path / "kept"
    shutil.copyfile(first, kept)
    with open(fixture_runs / MIX, "a", encoding="utf-8") as fh:
        fh.write(STEP)
    ingest_runs(str(fixture_runs), str(db_path))  # takes `first`: the snapshot it copies is gone
    os.replace(kept, first)  # ... so a file under that name now copies an older snapshot
    planted = spare.spare_path(db_path, "1-2-3")
    shutil.copyfile(first, planted)
    with open(fixture_runs / MIX, "a", encoding="utf-8") as fh:
        fh.write(STEP.replace('"step": 2', '"step": 3'))
    summary = ingest_runs(str(fixture_runs), str(db_path))
    assert summary.lines_good == 1
    assert not first.exists() and not planted.exists()
    assert scalar(db_path, "SELECT count(*) FROM records WHERE run_key = 'run-b' AND step IN (2, 3)") == 2


def test_no_spare_when_turned_off(fixture_runs: Path, db_path: Path) -> None:
    done = cli("ingest", str(fixture_runs), "--db", str(db_path), "-q", env={spare.SPARE_ENV: "0"})
    assert done.returncode == 0, done.stderr
    time.sleep(0.5)
    assert not list(db_path.parent.glob(".*.spare-*"))


def test_copy_is_exact_and_keeps_holes(tmp_path: Path) -> None:
    published = tmp_path / "runs.duckdb"
    with open(published, "wb") as fh:  # data, a 4 MiB hole, data, and a hole at the end
        fh.write(os.urandom(300_000))
        fh.seek(4 * 2**20, os.SEEK_CUR)
        fh.write(os.urandom(70_000))
        fh.truncate(fh.tell() + 2**20)
    made = spare.copy_snapshot(published)
    assert made == spare.spare_path(published, spare.stamp(published) or "")
    assert made.read_bytes() == published.read_bytes()
    assert made.stat().st_blocks * 512 < published.stat().st_size  # holes stayed holes


def test_copier_process_names_the_copy_after_the_snapshot(tmp_path: Path) -> None:
    published = tmp_path / "runs.duckdb"
    published.write_bytes(b"snapshot" * 1000)
    subprocess.run(spare.copier_command(published), check=True, timeout=60)  # as a writer starts it
    assert spare.spare_path(published, spare.stamp(published) or "").read_bytes() == published.read_bytes()
    missing = tmp_path / "gone" / "runs.duckdb"  # a vanished folder: no spare, no error
    assert subprocess.run(spare.copier_command(missing), timeout=60).returncode == 0


def test_a_writer_waits_for_a_copier_still_writing(tmp_path: Path) -> None:
    published, live = tmp_path / "runs.duckdb", tmp_path / ".runs.duckdb.live"
    published.write_bytes(b"x" * 10_000)
    target = spare.spare_path(published, spare.stamp(published) or "")
    copier = subprocess.Popen(["sleep", "30"])
    try:
        partial = target.with_name(f"{target.name}.tmp-{copier.pid}")
        partial.write_bytes(b"x" * 5_000)

        def finish() -> None:
            time.sleep(0.3)
            partial.write_bytes(published.read_bytes())
            os.replace(partial, target)

        threading.Thread(target=finish).start()
        assert spare.take(published, live)
        assert live.read_bytes() == published.read_bytes()
    finally:
        copier.kill()
        copier.wait()


def test_a_stalled_or_dead_copier_is_not_waited_for(tmp_path: Path) -> None:
    published, live = tmp_path / "runs.duckdb", tmp_path / ".runs.duckdb.live"
    published.write_bytes(b"x" * 10_000)
    target = spare.spare_path(published, spare.stamp(published) or "")
    dead = target.with_name(f"{target.name}.tmp-999999999")
    dead.write_bytes(b"x")
    started = time.monotonic()
    assert not spare.take(published, live)
    copier = subprocess.Popen(["sleep", "30"])
    try:
        stalled = target.with_name(f"{target.name}.tmp-{copier.pid}")
        stalled.write_bytes(b"x")
        os.utime(stalled, (time.time() - 60, time.time() - 60))
        assert not spare.take(published, live)
        assert time.monotonic() - started < 5
        assert spare.sweep(published) == [dead]  # the dead copier's file goes, the live one's stays
    finally:
        copier.kill()
        copier.wait()


@pytest.mark.parametrize("taken", [True, False])
def test_seeded_from_names_the_snapshot_the_live_file_copies(
    fixture_runs: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch, taken: bool
) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    made = _wait_for_spare(db_path)
    if not taken:
        monkeypatch.setenv(spare.SPARE_ENV, "0")
        made.unlink()  # the writer copies the snapshot instead
    published = spare.stamp(db_path)
    with open_writer(db_path) as con:
        assert seeded_from(paths_for(db_path)) == published
        con.execute("INSERT INTO settings VALUES ('test', 'x')")
        con.execute("CHECKPOINT")
        assert seeded_from(paths_for(db_path)) is None  # live changed: no longer that snapshot
    assert scalar(db_path, "SELECT value FROM settings WHERE key = 'test'") == "x"


def test_status_shows_the_disk_the_spare_takes(fixture_runs: Path, db_path: Path) -> None:
    ingest_runs(str(fixture_runs), str(db_path))
    made = _wait_for_spare(db_path)
    shown = cli("status", "--db", str(db_path), "--json")
    assert shown.returncode == 0, shown.stderr
    facts = json.loads(shown.stdout)
    assert facts["db_bytes"] == db_path.stat().st_size
    assert facts["spare_copy_bytes"] == made.stat().st_size > 0
    made.unlink()
    assert json.loads(cli("status", "--db", str(db_path), "--json").stdout)["spare_copy_bytes"] == 0
