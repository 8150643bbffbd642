"""Readers never block ingest, ingest never breaks readers, and there is only ever one writer.

Readers (CLI, shell, notebooks) open the published
snapshot; the writer works on its private live file under an flock plus DuckDB's own POSIX lock,
and never open()s a database file itself (that silently drops DuckDB's lock).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from reliability_support import child, cli, posix_locks, shell_count, write_corpus

import warehouse
from warehouse.core.errors import ExitCode
from warehouse.store.snapshot import paths_for

READER = r"""
import json, os, sys, time
import warehouse
db, stop, out = sys.argv[1:4]
obs, errors, stopping_since = [], [], None
while True:
    if stopping_since is None and os.path.exists(stop):
        stopping_since = time.monotonic()
    if stopping_since is not None and time.monotonic() - stopping_since > 0.5:
        break
    t0 = time.perf_counter()
    try:
        con = warehouse.connect(db)
        try:
            row = con.execute(
                "SELECT (SELECT count(*) FROM records), (SELECT sum(good_lines) FROM files),"
                " (SELECT count(*) FROM quarantine), (SELECT sum(bad_lines) FROM files),"
                " (SELECT count(DISTINCT run_key) FROM records),"
                " (SELECT count(*) FROM ingest_log)").fetchone()
        finally:
            con.close()
        obs.append([time.perf_counter() - t0, *[int(v or 0) for v in row], time.monotonic()])
    except Exception as e:
        errors.append(f"{type(e).__name__}: {e}")
    time.sleep(0.01)
with open(out, "w") as fh:
    json.dump({"obs": obs, "errors": errors}, fh)
"""


def _ingest_ok(runs: Path, db: Path) -> None:
    done = cli("ingest", str(runs), "--db", str(db), "-q")
    assert done.returncode == 0, done.stderr


def _records(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT count(*) FROM records").fetchone()
    assert row is not None
    return int(row[0])


def _wait_for(path: Path, text: str, proc: subprocess.Popen[str], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(encoding="utf-8"):
            return
        if proc.poll() is not None:
            raise AssertionError(f"child exited early: {proc.communicate()}")
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {text!r} in {path}")


def _readers_during_ingest(tmp_path: Path, files: int, steps: int, n_readers: int) -> None:
    runs, db = tmp_path / "runs", tmp_path / "db" / "runs.duckdb"
    old_lines = write_corpus(runs, 4, 20, "old")
    _ingest_ok(runs, db)
    new_lines = old_lines + write_corpus(runs, files, steps, "new")
    stop = tmp_path / "stop"
    outs = [tmp_path / f"reader{i}.json" for i in range(n_readers)]
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(db), str(stop), str(out)]) for out in outs]
    try:
        time.sleep(1.0)  # readers are up and looping on the old snapshot
        started = time.monotonic()
        ingest = cli("ingest", str(runs), "--db", str(db), "-q")
        ended = time.monotonic()
    finally:
        stop.touch()
        for r in readers:
            r.wait(timeout=120)
    assert ingest.returncode == 0, ingest.stderr
    during, idle, seen = [], [], set()
    for out in outs:
        result = json.loads(out.read_text(encoding="utf-8"))
        assert result["errors"] == []  # no reader ever failed while ingest ran
        for seconds, records, good, quarantined, bad, runs_n, loads, at in result["obs"]:
            assert records == good and quarantined == bad  # a consistent state, never a mix
            seen.add((records, runs_n, loads))
            (during if started <= at - seconds and at <= ended else idle).append(seconds)
        assert result["obs"][-1][1] == new_lines  # the last reads see the new snapshot
    assert seen <= {(old_lines, 4, 1), (new_lines, 4 + files, 2)}  # only the old or the new state
    assert (new_lines, 4 + files, 2) in seen
    assert len(during) >= 2 * n_readers  # the readers really did run while ingest was writing
    print(
        f"\nreaders during a {ended - started:.1f} s ingest of {new_lines - old_lines} lines "
        f"({n_readers} processes, connect + 6 aggregates, 0 errors): "
        f"{_figures(during)}; same readers without ingest: {_figures(idle)}"
    )


def _figures(latencies: list[float]) -> str:
    if len(latencies) < 2:
        return f"{len(latencies)} queries"
    p95 = statistics.quantiles(latencies, n=20, method="inclusive")[-1]
    return (
        f"{len(latencies)} queries, p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
    )


def test_readers_in_a_loop_never_fail_during_ingest(tmp_path: Path) -> None:
    _readers_during_ingest(tmp_path, files=40, steps=150, n_readers=2)


@pytest.mark.heavy
def test_readers_in_a_loop_never_fail_during_a_large_ingest(tmp_path: Path) -> None:
    _readers_during_ingest(tmp_path, files=200, steps=400, n_readers=3)


def test_notebook_connection_held_open_during_ingest(tmp_path: Path) -> None:
    runs, db = tmp_path / "runs", tmp_path / "db" / "runs.duckdb"
    old_lines = write_corpus(runs, 3, 10, "old")
    _ingest_ok(runs, db)
    notebook = warehouse.connect(str(db))
    try:
        assert _records(notebook) == old_lines
        new_lines = old_lines + write_corpus(runs, 5, 30, "new")
        _ingest_ok(runs, db)  # completes although the notebook holds its connection
        assert _records(notebook) == old_lines  # the held connection keeps its consistent snapshot
        again = warehouse.connect(str(db))  # the notebook re-runs `con = warehouse.connect()`
        try:
            assert _records(again) == new_lines
        finally:
            again.close()
    finally:
        notebook.close()
    fresh = warehouse.connect(str(db))
    try:
        assert _records(fresh) == new_lines
    finally:
        fresh.close()


def test_second_ingest_fails_fast_naming_the_holder(tmp_path: Path) -> None:
    runs, db = tmp_path / "runs", tmp_path / "db" / "runs.duckdb"
    old_lines = write_corpus(runs, 2, 10, "old")
    _ingest_ok(runs, db)
    new_lines = old_lines + write_corpus(runs, 6, 40, "new")
    first, trace, go = _paused_ingest(runs, db, "ingest:before_commit", tmp_path)
    try:
        _wait_for(trace, "ingest:before_commit paused", first)  # holds both locks, mid-transaction
        live = paths_for(db).live
        assert ("POSIX", "WRITE", first.pid) in posix_locks(live)  # DuckDB's own lock, too
        started = time.perf_counter()
        second = cli("ingest", str(runs), "--db", str(db))
        waited = time.perf_counter() - started
        assert second.returncode == ExitCode.LOCKED
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in second.stderr
        assert f"pid {first.pid}" in lines[0] and "warehouse ingest" in lines[0], lines[0]
        # readers are not blocked by the paused writer: CLI, shell and notebook all answer
        query = cli("query", "select count(*) from records", "--db", str(db), "--csv")
        assert query.returncode == 0 and query.stdout.split() == ["count_star()", str(old_lines)]
        assert shell_count(db, "select count(*) from records") == str(old_lines)
        print(f"\nsecond ingest refused in {waited:.2f} s: {lines[0]}")
    finally:
        go.touch()
        _out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    con = warehouse.connect(str(db))
    try:
        assert _records(con) == new_lines
        assert con.execute("SELECT count(*) FROM ingest_log").fetchone() == (2,)
    finally:
        con.close()


def test_lock_file_is_released_when_the_holder_dies(tmp_path: Path) -> None:
    """flock dies with its process: a SIGKILLed writer never leaves a stale lock behind."""
    runs, db = tmp_path / "runs", tmp_path / "db" / "runs.duckdb"
    write_corpus(runs, 2, 5, "a")
    holder, trace, _go = _paused_ingest(runs, db, "phase:plan", tmp_path)
    _wait_for(trace, "phase:plan paused", holder)
    holder.kill()
    holder.communicate(timeout=60)
    assert paths_for(db).lock.read_text(encoding="utf-8").startswith(f"pid {holder.pid}")
    _ingest_ok(runs, db)


def _paused_ingest(
    runs: Path, db: Path, point: str, tmp_path: Path
) -> tuple[subprocess.Popen[str], Path, Path]:
    """An ingest child that pauses at `point` until the returned `go` file exists (its trace file
    says when it got there)."""
    trace, go = tmp_path / "trace", tmp_path / "go"
    env = {"RELIABILITY_TRACE": str(trace), "RELIABILITY_PAUSE_AT": point, "RELIABILITY_GO": str(go)}
    return child("ingest", str(runs), str(db), env=env), trace, go


def _audited_ingest(runs: Path, db: Path, *extra: str, env: dict[str, str] | None = None) -> None:
    proc = child(
        "ingest",
        str(runs),
        str(db),
        *extra,
        env={"RELIABILITY_CHECK_LOCKS": "1", "RELIABILITY_AUDIT": "1", **(env or {})},
    )
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report == {"violations": [], "opens": []}, report


def test_writer_never_opens_a_database_file_and_keeps_duckdbs_lock(tmp_path: Path) -> None:
    """At every ingest phase and fault point, /proc/locks still shows DuckDB's WRITE lock of the
    writer on the live file, and no Python-level open() touched a .duckdb/.live/.wal file."""
    runs, db = tmp_path / "runs", tmp_path / "db" / "runs.duckdb"
    write_corpus(runs, 3, 40, "a")
    _audited_ingest(runs, db, env={"WAREHOUSE_FAST_MIN_BYTES": "1"})  # fresh database, fast path
    write_corpus(runs, 2, 10, "b")
    with open(next((runs / "a").rglob("*.jsonl")), "a", encoding="utf-8") as fh:
        fh.write('{"run_id": "a-0", "step": 99}\nnot json\n')  # grown file, a quarantined line
    _audited_ingest(runs, db, "exact")  # incremental, exact path
    _audited_ingest(runs, db)  # a no-op
    proc = child(
        "archive", str(db), str(runs), env={"RELIABILITY_CHECK_LOCKS": "1", "RELIABILITY_AUDIT": "1"}
    )
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == {"violations": [], "opens": []}


def test_the_lock_and_audit_checks_do_catch_the_posix_lock_trap(tmp_path: Path) -> None:
    """Negative control: a Python open()+close() of a database file a process holds drops
    DuckDB's lock, and both checks above see it."""
    proc = child(
        "trap", str(tmp_path / "trap.duckdb"), env={"RELIABILITY_CHECK_LOCKS": "1", "RELIABILITY_AUDIT": "1"}
    )
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    first, last = (json.loads(line) for line in out.strip().splitlines()[-2:])
    assert first == {"locks_after": []}
    assert last["violations"] == ["no POSIX WRITE lock on trap.duckdb at trap:after python open+close"]
    assert last["opens"] == [str(tmp_path / "trap.duckdb")]


def test_readers_do_not_leave_a_wal_or_touch_the_snapshot(tmp_path: Path) -> None:
    runs, db = tmp_path / "runs", tmp_path / "db" / "runs.duckdb"
    write_corpus(runs, 2, 5, "a")
    _ingest_ok(runs, db)
    before = db.stat()
    shell = cli("shell", "--db", str(db), "--", "-c", "create table evil(i int)")
    assert shell.returncode != 0 and "read-only" in (shell.stdout + shell.stderr).lower()
    query = cli("query", "create table evil(i int)", "--db", str(db))
    assert query.returncode == ExitCode.QUERY
    con = warehouse.connect(str(db))
    try:
        with pytest.raises(Exception, match=r"(?i)read-only|read only"):
            con.execute("create table evil(i int)")
    finally:
        con.close()
    after = db.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    assert not db.with_name(db.name + ".wal").exists()
