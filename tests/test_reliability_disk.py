"""Stale files from killed processes are swept; a full disk never corrupts or half-publishes.

A stale WAL next to the snapshot would make every open fail; a full disk raises IOException on
insert and FatalException on checkpoint.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest_support import content_hash, rows
from reliability_support import child, cli, shell_count, state, write_corpus

from ingest.nochange import record_path
from warehouse.core.errors import ExitCode
from warehouse.store.snapshot import MIN_FREE_BYTES, paths_for

MAKE_STALE_WAL = r"""
import os, sys, duckdb
con = duckdb.connect(sys.argv[1], config={"storage_compatibility_version": "v1.5.0"})
con.execute("SET checkpoint_threshold = '1GB'")
con.execute("CREATE TABLE intruder AS SELECT range AS i FROM range(1000)")
os._exit(0)  # no checkpoint, no close: the WAL stays
"""


def _ingest(runs: Path, db: Path) -> subprocess.CompletedProcess[str]:
    return cli("ingest", str(runs), "--db", str(db), "-q")


def test_stale_temp_files_and_wal_are_swept_by_the_next_writer(tmp_path: Path) -> None:
    runs, db = tmp_path / "runs", tmp_path / "db" / "runs.duckdb"
    write_corpus(runs, 2, 5, "a")
    assert _ingest(runs, db).returncode == 0
    paths = paths_for(db)
    # what killed processes leave: a publish copy, a marker temp, a WAL from a read-write open
    stale_tmp = db.with_name(f".{db.name}.tmp-999999")
    shutil.copyfile(db, stale_tmp)
    stale_marker = paths.marker.with_name(paths.marker.name + ".tmp-999999")
    stale_marker.write_text("1 2 3", encoding="utf-8")
    other = tmp_path / "other" / "runs.duckdb"
    other.parent.mkdir()
    subprocess.run([sys.executable, "-c", MAKE_STALE_WAL, str(other)], check=True, timeout=120)
    os.replace(other.with_name("runs.duckdb.wal"), db.with_name(db.name + ".wal"))
    before = cli("query", "select count(*) from records", "--db", str(db))
    assert before.returncode != 0  # the hazard: a foreign WAL poisons every open of the snapshot
    assert "WAL" in before.stderr and before.stderr.count("\n") == 1, before.stderr
    write_corpus(runs, 1, 5, "b")
    done = _ingest(runs, db)
    assert done.returncode == 0, done.stderr
    assert not stale_tmp.exists() and not db.with_name(db.name + ".wal").exists()
    assert not stale_marker.exists()
    # (the retired snapshot is rm'd, the spare copy made, by detached processes: timing-dependent)
    leftovers = {p.name for p in db.parent.iterdir() if ".retired-" not in p.name and ".spare-" not in p.name}
    assert leftovers <= {
        db.name,
        paths.live.name,
        paths.lock.name,
        paths.marker.name,
        record_path(db).name,
    }, leftovers
    assert rows(db, "SELECT count(*) FROM ingest_log") == [(2,)]
    assert shell_count(db, "select count(*) from duckdb_tables() where table_name = 'intruder'") == "0"


def test_a_live_wal_is_recovery_data_not_stale(tmp_path: Path) -> None:
    """The writer's own WAL after a kill holds committed work: it is replayed, never swept."""
    runs, db = tmp_path / "runs", tmp_path / "db" / "runs.duckdb"
    write_corpus(runs, 3, 20, "a")
    killed = cli("ingest", str(runs), "--db", str(db), "-q", env={"WAREHOUSE_KILL_AT": "ingest:after_commit"})
    assert killed.returncode == -9
    live_wal = paths_for(db).live.with_name(paths_for(db).live.name + ".wal")
    assert live_wal.exists() and live_wal.stat().st_size > 0
    assert not db.exists()  # never published
    redo = subprocess.run(
        [sys.executable, "-m", "warehouse", "ingest", str(runs), "--db", str(db), "--json", "-q"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert redo.returncode == 0, redo.stderr
    assert '"files_new": 0' in redo.stdout  # the committed ingest was recovered, not redone
    assert rows(db, "SELECT count(*) FROM ingest_log") == [(1,)]


# ---------------------------------------------------------------- disk full (small tmpfs)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 100 MB tmpfs (needs root / CAP_SYS_ADMIN; skipped with the reason otherwise)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if not shutil.which("mount"):
        pytest.skip("no mount command: cannot create a small filesystem for the disk-full tests")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=100m", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs (needs root): {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(mount: Path, leave: int) -> Path:
    """A filler file leaving about `leave` bytes free on the mount."""
    filler = mount / "filler"
    free = shutil.disk_usage(mount).free
    with open(filler, "wb") as fh:
        fh.truncate(0)
        chunk = b"\0" * 2**20
        todo = max(free - leave, 0)
        while todo > 0:
            fh.write(chunk[: min(todo, len(chunk))])
            todo -= min(todo, len(chunk))
    return filler


def test_preflight_refuses_an_ingest_that_cannot_fit(small_disk: Path, tmp_path: Path) -> None:
    runs, db = tmp_path / "runs", small_disk / "db" / "runs.duckdb"
    write_corpus(runs, 2, 5, "a")
    assert _ingest(runs, db).returncode == 0
    old = state(db)
    free = shutil.disk_usage(small_disk).free
    write_corpus(runs, 10, 100, "b", pad=(free - MIN_FREE_BYTES) // 900)  # more than can fit
    refused = _ingest(runs, db)
    assert refused.returncode == ExitCode.DATA
    assert refused.stderr.startswith("error: not enough disk space") and refused.stderr.count("\n") == 1
    assert state(db) == old
    assert not list(db.parent.glob(".*.tmp-*"))


ENOSPC_POINTS = ["phase:plan", "ingest:after_commit", "writer:before_checkpoint", "writer:after_checkpoint"]


@pytest.mark.parametrize("point", ENOSPC_POINTS)
def test_disk_full_mid_ingest_keeps_a_consistent_database(
    point: str, small_disk: Path, tmp_path: Path
) -> None:
    """Another process fills the disk right after the pre-flight check (or after commit, or
    before/after checkpoint): the ingest exits non-zero with one line and the published snapshot
    is the old one (or, with nothing left to write, it completes); once space is freed the next
    ingest equals a clean build."""
    runs, db = tmp_path / "runs", small_disk / "db" / "runs.duckdb"
    write_corpus(runs, 2, 5, "a")
    assert _ingest(runs, db).returncode == 0
    old = state(db)
    write_corpus(runs, 12, 150, "b", pad=1500)
    reference = tmp_path / "ref" / "runs.duckdb"
    assert _ingest(runs, reference).returncode == 0
    trace, go = tmp_path / "trace", tmp_path / "go"
    proc = child(
        "cli",
        "ingest",
        str(runs),
        "--db",
        str(db),
        "-q",
        env={"RELIABILITY_TRACE": str(trace), "RELIABILITY_PAUSE_AT": point, "RELIABILITY_GO": str(go)},
    )
    try:
        deadline = time.monotonic() + 300
        while not (trace.exists() and f"{point} paused" in trace.read_text(encoding="utf-8")):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        filler = _fill(small_disk, leave=256 * 1024)
    finally:
        go.touch()
        _out, err = proc.communicate(timeout=600)
    if proc.returncode == 0:  # nothing left to write (publishing is a rename): the new state
        assert point == "writer:after_checkpoint" and state(db) == content_hash(reference), err
        print(f"\ndisk full at {point}: exit 0, nothing left to write")
    else:
        assert proc.returncode == ExitCode.DATA, err
        last = err.strip().splitlines()
        assert len(last) == 1 and "Traceback" not in err, err
        assert "space" in last[0].lower(), last[0]
        print(f"\ndisk full at {point}: exit {proc.returncode}: {last[0]}")
        assert state(db) == old  # the snapshot readers see is the old, complete one
    filler.unlink()
    again = _ingest(runs, db)
    assert again.returncode == 0, again.stderr
    assert content_hash(db) == content_hash(reference)
    assert rows(db, "SELECT count(*) FROM ingest_log") == [(2,)]


def test_unreadable_log_and_folder_are_skipped_reported_and_retried() -> None:
    """One log nobody may read and one folder nobody may list: every other file loads, the summary
    and `warehouse status` name both, and once readable the next ingest loads them.
    (As root permissions do not bite: the commands run as user nobody, tests/as_nobody.py.)"""
    import as_nobody

    top = as_nobody.nobody_dir()
    try:
        runs, db = top / "runs", top / "db" / "runs.duckdb"
        write_corpus(runs, 6, 4, "p")  # p/exp0, p/exp1, p/exp2: two logs each
        locked_file = sorted((runs / "p" / "exp0").glob("*.jsonl"))[0]
        locked_dir = runs / "p" / "exp1"
        for path in [top, *top.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o666)
        locked_file.chmod(0o000)
        locked_dir.chmod(0o000)
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAREHOUSE_")}
        done = as_nobody.run("ingest", str(runs), "--db", str(db), env=env)
        assert done.returncode == 0, done.stderr
        assert "2 file(s) or folder(s) could not be read" in done.stderr
        assert "p/exp0/" + locked_file.name in done.stderr and "p/exp1/: cannot list it" in done.stderr
        assert rows(db, "SELECT count(*) FROM files") == [(3,)]  # the other three logs
        status = as_nobody.run("status", "--db", str(db), env=env)
        assert "unreadable_files     2 (e.g." in status.stdout, status.stdout
        locked_file.chmod(0o666)
        locked_dir.chmod(0o777)
        again = as_nobody.run("ingest", str(runs), "--db", str(db), env=env)
        assert again.returncode == 0 and "could not be read" not in again.stderr, again.stderr
        assert rows(db, "SELECT count(*) FROM files") == [(6,)]
        status = as_nobody.run("status", "--db", str(db), env=env)
        assert "unreadable_files     0" in status.stdout, status.stdout
    finally:
        shutil.rmtree(top)
