"""A real warehouse command in its own process, with fault actions on the named fault points.

    python tests/reliability_child.py ingest RUNS DB [exact]
    python tests/reliability_child.py export DB OUT_DIR
    python tests/reliability_child.py archive DB RUNS
    python tests/reliability_child.py cli ARGS...   (the `warehouse` command line)
    python tests/reliability_child.py trap DBFILE   (negative control: open()+close() drops the lock)

Environment (all optional):
  RELIABILITY_TRACE=<file>         append "<point> <monotonic seconds>" at every fault point and
                                   ingest phase (so a test knows where a SIGKILL landed)
  RELIABILITY_PAUSE_AT=<point>     at that point write "<point> paused" and wait for the file
  RELIABILITY_GO=<file>            ... to exist
  RELIABILITY_KILL=<point>:<secs>  at that point start `sleep secs; kill -KILL <own pid>` in a
                                   separate process (so the kill lands inside whatever DuckDB is
                                   doing next: COMMIT, CHECKPOINT, COPY ...). Point "start" fires
                                   after the imports.
  RELIABILITY_CHECK_LOCKS=1        at every point where the writer connection is open, require a
                                   POSIX WRITE lock of this process on the live file in /proc/locks
  RELIABILITY_AUDIT=1              record every Python-level open() of a database file
On exit it prints one JSON line: {"violations": [...], "opens": [...]}.

Only test code lives here: the real fault points are replaced by wrappers that first do the
action and then call the real one, so WAREHOUSE_KILL_AT keeps working.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

TRACE = os.environ.get("RELIABILITY_TRACE")
PAUSE_AT = os.environ.get("RELIABILITY_PAUSE_AT")
GO = os.environ.get("RELIABILITY_GO")
KILL = os.environ.get("RELIABILITY_KILL", "")
CHECK_LOCKS = bool(os.environ.get("RELIABILITY_CHECK_LOCKS"))
AUDIT = bool(os.environ.get("RELIABILITY_AUDIT"))
DB_FILE = re.compile(r"(\.duckdb|\.live|\.wal|\.duckdb\.tmp-\d+)$")
# Points at which the writer's DuckDB connection on the live file is open.
CONNECTED = {
    "ingest:before_commit",
    "ingest:after_commit",
    "writer:before_checkpoint",
    "writer:after_checkpoint",
    "archive:before-delete",
    "archive:mid-delete",
    "archive:before-update",
}
violations: list[str] = []
opens: list[str] = []
live_file: list[Path] = []
writer_open: list[bool] = []


def trace(line: str) -> None:
    if TRACE:
        with open(TRACE, "a", encoding="utf-8") as fh:
            fh.write(f"{line} {time.monotonic():.6f}\n")


def check_lock(point: str) -> None:
    from reliability_support import posix_locks

    if live_file and ("WRITE", os.getpid()) not in [
        (m, p) for k, m, p in posix_locks(live_file[0]) if k == "POSIX"
    ]:
        violations.append(f"no POSIX WRITE lock on {live_file[0].name} at {point}")


def act(point: str) -> None:
    trace(point)
    if point == "phase:open":  # ingest phases between these run on the open writer connection
        writer_open.append(True)
    elif point == "phase:checkpoint_publish":
        writer_open.clear()
    connected = point in CONNECTED or (point.startswith("phase:") and bool(writer_open))
    if CHECK_LOCKS and connected:
        check_lock(point)
    if point == PAUSE_AT and GO:
        trace(f"{point} paused")
        while not os.path.exists(GO):
            time.sleep(0.01)
    if KILL and KILL.rsplit(":", 1)[0] == point:
        delay = float(KILL.rsplit(":", 1)[1])
        subprocess.Popen(["sh", "-c", f"sleep {delay:.4f}; kill -KILL {os.getpid()}"])
        if delay == 0:
            time.sleep(5)  # the kill is on its way


def wrap(real: Callable[[str], None]) -> Callable[[str], None]:
    def fault_point(name: str) -> None:
        act(name)
        real(name)

    return fault_point


def audit(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        name = os.fsdecode(args[0])
        if DB_FILE.search(name):
            opens.append(name)


def install() -> None:
    import ingest.run
    import warehouse.apps.archive
    import warehouse.apps.archive_io
    import warehouse.apps.export
    import warehouse.store.db
    import warehouse.store.snapshot

    ingest.run.fault_point = wrap(ingest.run.fault_point)
    warehouse.store.db.fault_point = wrap(warehouse.store.db.fault_point)
    warehouse.store.snapshot.fault_point = wrap(warehouse.store.snapshot.fault_point)
    warehouse.apps.export.fault_point = wrap(warehouse.apps.export.fault_point)
    warehouse.apps.archive.fault_point = wrap(warehouse.apps.archive.fault_point)
    real_call = ingest.run.Phases.__call__

    def phase(self: ingest.run.Phases, name: str) -> None:
        real_call(self, name)
        act(f"phase:{name}")

    ingest.run.Phases.__call__ = phase  # type: ignore[method-assign]
    if AUDIT:
        sys.addaudithook(audit)


def main(argv: list[str]) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    install()
    from warehouse.store.snapshot import paths_for

    act("start")
    command = argv[0]
    if command == "ingest":
        from ingest import ingest_runs

        live_file.append(paths_for(argv[2]).live)
        summary = ingest_runs(argv[1], argv[2], fast=len(argv) < 4 or argv[3] != "exact")
        trace(f"done {summary.lines_good}")
    elif command == "export":
        from warehouse.apps.export import export

        export(argv[1], Path(argv[2]), None, ("csv", "parquet"))
    elif command == "cli":  # the real CLI (error translation, exit codes) with the fault actions
        from warehouse.cli import main as cli_main

        cli_main(argv[1:])
    elif command == "trap":  # the hazard both checks exist for: any close() drops DuckDB's POSIX lock
        from reliability_support import posix_locks

        from warehouse.store.connect import connect_file

        live_file.append(Path(argv[1]))
        con = connect_file(live_file[0], read_only=False)
        check_lock("trap:connected")
        with open(live_file[0], "rb") as fh:  # what a "checksum step" would do
            fh.read(16)
        check_lock("trap:after python open+close")
        print(json.dumps({"locks_after": posix_locks(live_file[0])}))
        con.close()
    elif command == "archive":
        from warehouse.apps.archive import run_archive

        live_file.append(paths_for(argv[1]).live)
        run_archive(argv[1], Path(argv[2]), Path(argv[2]) / "_archive", 0)
    else:
        raise SystemExit(f"unknown command {command}")
    act("end")
    print(json.dumps({"violations": violations, "opens": opens}))


if __name__ == "__main__":
    main(sys.argv[1:])
