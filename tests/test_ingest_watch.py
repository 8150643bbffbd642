"""`warehouse ingest --watch` as a user runs it: a real process watching a real runs folder."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.watch import IDLE_EXIT_S, relevant
from tests.ingest_support import scalar
from warehouse.core.errors import LockedError
from warehouse.store.db import writer_lock
from warehouse.store.snapshot import paths_for

LOG = "exp/openai_default_sc1_b6.jsonl"
STEP_SQL = "SELECT count(*) FROM records WHERE kind = 'step' AND step = ?"  # steps 41.. are ours


@contextmanager
def watching(runs: Path, db: Path, tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """`warehouse ingest RUNS --db DB --watch` running, its stderr in tmp_path/watch.err."""
    err = open(tmp_path / "watch.err", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "warehouse", "ingest", str(runs), "--db", str(db), "--watch", "--json"],
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        err.close()


def wait_for(what: str, check: Callable[[], bool], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def has_step(db: Path, step: int) -> bool:
    return db.exists() and scalar(db, STEP_SQL, [step]) == 1


def has_files(db: Path) -> bool:
    return db.exists() and scalar(db, "SELECT count(*) FROM files") == 10


@contextmanager
def held_lock(db: Path) -> Iterator[None]:
    """The writer lock, taken as soon as the watch's round lets go of it."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with writer_lock(paths_for(db), "a test holding the lock"):
                yield
                return
        except LockedError:
            assert time.monotonic() < deadline, "the watch kept the lock"
            time.sleep(0.05)


def append_step(runs: Path, step: int) -> None:
    with open(runs / LOG, "a") as fh:  # the file ends torn: the first "\n" ends that line
        fh.write("\n" + json.dumps({"run_id": "run-c", "step": step}) + "\n")


def test_watch_publishes_an_appended_line_and_stops_cleanly_on_sigterm(
    fixture_runs: Path, db_path: Path, tmp_path: Path
) -> None:
    with watching(fixture_runs, db_path, tmp_path) as proc:
        wait_for(
            "the first round",
            lambda: db_path.exists() and scalar(db_path, "SELECT count(*) FROM files") == 10,
        )
        append_step(fixture_runs, 41)
        wait_for("the appended line", lambda: has_step(db_path, 41))
        append_step(fixture_runs, 42)
        wait_for("the second line", lambda: has_step(db_path, 42))
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    rounds = [json.loads(line) for line in out.splitlines()]
    assert [r["files_new"] for r in rounds[:1]] == [10]  # one JSON line per round that loaded something
    assert sum(r["lines_good"] for r in rounds[1:]) == 2
    stderr = (tmp_path / "watch.err").read_text()
    assert stderr.strip().splitlines()[-1] == "ingest --watch: stopped"
    assert not paths_for(db_path).live.exists()  # every round published what it committed


def test_a_failed_round_is_one_line_and_is_retried(fixture_runs: Path, db_path: Path, tmp_path: Path) -> None:
    with watching(fixture_runs, db_path, tmp_path) as proc:
        wait_for("the first round", lambda: db_path.exists())
        with held_lock(db_path):
            append_step(fixture_runs, 43)
            wait_for("the error line", lambda: "being written by" in (tmp_path / "watch.err").read_text())
            assert proc.poll() is None  # still watching
        wait_for("the retried round", lambda: has_step(db_path, 43))  # no new change needed
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        proc.communicate(timeout=60)
    assert proc.returncode == 0
    errors = [line for line in (tmp_path / "watch.err").read_text().splitlines() if "error" in line]
    assert len(errors) == 1 and "a test holding the lock" in errors[0]


def test_watch_of_a_missing_folder_fails_at_once(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "warehouse", "ingest", str(tmp_path / "nope"), "--watch"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: runs directory {tmp_path / 'nope'} does not exist: pass the folder holding your logs"
    ]


def children(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


def test_a_database_in_the_runs_folder_does_not_wake_the_watch(fixture_runs: Path, tmp_path: Path) -> None:
    db = fixture_runs / "runs.duckdb"  # the default layout: runs/runs.duckdb beside the logs
    with watching(fixture_runs, db, tmp_path) as proc:
        wait_for("the first round", lambda: has_files(db))
        # Its own writes (live copy, WAL, record, spare) are no change: the worker retires when idle.
        wait_for("the idle worker's exit", lambda: not children(proc.pid), timeout=60)
        time.sleep(IDLE_EXIT_S + 1.5)
        assert not children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert scalar(db, "SELECT count(*) FROM ingest_log") == 1


def test_which_changes_wake_the_watch() -> None:
    root = "/data/runs"
    wakes = {
        "/data/runs/a/x.jsonl": True,
        "/data/runs/a/x.jsonl.gz": True,
        "/data/runs/a/results.json": True,  # a file an importer may claim
        "/data/runs/runs.duckdb": False,
        "/data/runs/runs.duckdb.wal": False,
        "/data/runs/.runs.duckdb.live": False,
        "/data/runs/_aggregated/plots/x.jsonl": False,
        "/data/runs/a/notes.txt": False,
        "/data/other/x.jsonl": False,
    }
    assert {path: relevant(root, 2, path) for path in wakes} == wakes  # 2: modified
    assert relevant(root, 3, "/data/runs/old-folder")  # 3: deleted; a removed folder lists no files
